//! f32 tensors <-> safetensors bytes (with a JSON metadata entry), written atomically. Parsing
//! goes through the `safetensors` crate, which validates the header, so a corrupt file is an
//! error rather than a crash inside libtorch.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use tch::{Kind, Tensor};

/// Metadata key holding our JSON document.
pub const META_KEY: &str = "so101_lab";

/// Why a tensor file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TensorFileError {
    /// Not a safetensors file, or a corrupt one.
    #[error("not a valid tensor file: {0}")]
    Corrupt(String),
    /// A tensor is missing or has the wrong type or shape.
    #[error("tensor `{name}`: {problem}")]
    Tensor {
        /// Tensor name.
        name: String,
        /// What is wrong.
        problem: String,
    },
}

/// Serialises named f32 tensors plus a JSON metadata string.
pub fn to_bytes(tensors: &[(String, Tensor)], meta_json: &str) -> Result<Vec<u8>, TensorFileError> {
    let mut raw: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let t = t
            .detach()
            .to_device(tch::Device::Cpu)
            .to_kind(Kind::Float)
            .contiguous();
        let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        let values =
            Vec::<f32>::try_from(t.reshape([-1])).map_err(|e| TensorFileError::Tensor {
                name: name.clone(),
                problem: e.to_string(),
            })?;
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        raw.push((name.clone(), shape, bytes));
    }
    let views: Vec<(String, TensorView<'_>)> = raw
        .iter()
        .map(|(n, s, b)| TensorView::new(Dtype::F32, s.clone(), b).map(|v| (n.clone(), v)))
        .collect::<Result<_, _>>()
        .map_err(|e| TensorFileError::Corrupt(e.to_string()))?;
    let meta = HashMap::from([(META_KEY.to_owned(), meta_json.to_owned())]);
    safetensors::serialize(views, Some(meta)).map_err(|e| TensorFileError::Corrupt(e.to_string()))
}

/// Writes tensors atomically (temp file + rename).
pub fn save(path: &Path, tensors: &[(String, Tensor)], meta_json: &str) -> std::io::Result<()> {
    let bytes = to_bytes(tensors, meta_json).map_err(std::io::Error::other)?;
    crate::fsutil::write_atomic(path, &bytes)
}

/// Parsed tensor file: tensors by name and the metadata JSON.
#[derive(Debug)]
pub struct TensorFile {
    /// Tensors by name.
    pub tensors: HashMap<String, Tensor>,
    /// Our metadata JSON (empty when absent).
    pub meta_json: String,
}

impl TensorFile {
    /// Parses safetensors bytes holding f32 tensors.
    pub fn parse(bytes: &[u8]) -> Result<Self, TensorFileError> {
        let st =
            SafeTensors::deserialize(bytes).map_err(|e| TensorFileError::Corrupt(e.to_string()))?;
        let (_, meta) = SafeTensors::read_metadata(bytes)
            .map_err(|e| TensorFileError::Corrupt(e.to_string()))?;
        let meta_json = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get(META_KEY).cloned())
            .unwrap_or_default();
        let mut tensors = HashMap::new();
        for name in st.names() {
            let view = st
                .tensor(name)
                .map_err(|e| TensorFileError::Corrupt(e.to_string()))?;
            if view.dtype() != Dtype::F32 {
                return Err(TensorFileError::Tensor {
                    name: name.to_owned(),
                    problem: format!("dtype {:?}, expected F32", view.dtype()),
                });
            }
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
            tensors.insert(name.to_owned(), Tensor::from_slice(&values).reshape(&shape));
        }
        Ok(Self { tensors, meta_json })
    }

    /// Removes and returns a tensor, checking its shape.
    pub fn take(&mut self, name: &str, shape: &[i64]) -> Result<Tensor, TensorFileError> {
        let t = self
            .tensors
            .remove(name)
            .ok_or_else(|| TensorFileError::Tensor {
                name: name.to_owned(),
                problem: "missing".into(),
            })?;
        if t.size() != shape {
            return Err(TensorFileError::Tensor {
                name: name.to_owned(),
                problem: format!("shape {:?}, expected {shape:?}", t.size()),
            });
        }
        Ok(t)
    }
}

/// The memory of a contiguous f32 CPU tensor (the fused SAC update's loops read it directly).
///
/// # Safety
/// No other handle to the same storage (a `shallow_clone`, a view) may write it or resize it
/// while the slice lives.
///
/// # Panics
/// If `t` is not a contiguous f32 tensor on the CPU: an internal invariant of the callers.
pub(crate) unsafe fn f32_data(t: &Tensor) -> &[f32] {
    check_plain(t);
    if t.numel() == 0 {
        return &[];
    }
    // SAFETY: checked above: a contiguous f32 CPU tensor holds `numel` floats from `data_ptr`
    // (which includes the storage offset), alive at least as long as the borrow of `t`; the
    // caller rules out writers through other handles.
    unsafe { std::slice::from_raw_parts(t.data_ptr() as *const f32, t.numel()) }
}

/// As [`f32_data`], writable.
///
/// # Safety
/// No other handle to the same storage (a `shallow_clone`, a view) may be read or written
/// while the slice lives: tensors that are views of one storage alias.
pub(crate) unsafe fn f32_data_mut(t: &mut Tensor) -> &mut [f32] {
    check_plain(t);
    if t.numel() == 0 {
        return &mut [];
    }
    // SAFETY: as in `f32_data`; the caller rules out any other use of the memory.
    unsafe { std::slice::from_raw_parts_mut(t.data_ptr() as *mut f32, t.numel()) }
}

fn check_plain(t: &Tensor) {
    assert!(
        t.kind() == Kind::Float && t.device() == tch::Device::Cpu && t.is_contiguous(),
        "expected a contiguous f32 CPU tensor, got {:?} on {:?}",
        t.kind(),
        t.device()
    );
}
