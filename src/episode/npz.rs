//! Episodes as NumPy archives (`.npz`): one array per quantity, so Python users load a recording
//! with `np.load` instead of parsing JSON. Every float is written as the f64 that was recorded.

use std::io::Write;

use super::Episode;
use crate::task::RewardTerms;

/// One NumPy array: little-endian f64 or bool, C order.
enum Array {
    F64 { shape: Vec<usize>, data: Vec<f64> },
    Bool { data: Vec<bool> },
}

impl Array {
    fn matrix<'a>(rows: impl Iterator<Item = &'a [f64]>, cols: usize) -> Self {
        let data: Vec<f64> = rows.flat_map(|r| r.iter().copied()).collect();
        let n = data.len() / cols.max(1);
        Array::F64 {
            shape: vec![n, cols],
            data,
        }
    }

    fn vector(data: Vec<f64>) -> Self {
        Array::F64 {
            shape: vec![data.len()],
            data,
        }
    }

    /// The `.npy` bytes: magic, version 1.0, a header padded to 64 bytes, the data.
    fn npy(&self) -> Vec<u8> {
        let (descr, shape) = match self {
            Array::F64 { shape, .. } => ("<f8", shape.clone()),
            Array::Bool { data } => ("|b1", vec![data.len()]),
        };
        let dims = match shape.as_slice() {
            [n] => format!("({n},)"),
            dims => format!(
                "({})",
                dims.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}");
        let unpadded = 10 + header.len() + 1;
        header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
        header.push('\n');
        let mut out = Vec::with_capacity(10 + header.len());
        out.extend_from_slice(b"\x93NUMPY\x01\x00");
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        match self {
            Array::F64 { data, .. } => data
                .iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            Array::Bool { data } => out.extend(data.iter().map(|&b| u8::from(b))),
        }
        out
    }
}

/// The arrays of an episode, by name: `time`, `qpos`, `qvel`, `ctrl`, `actions`, `obs`,
/// `rewards`, `state` (MuJoCo's integration state after each step), `initial_state`,
/// `terms/<reward term>`, and the flags `success`, `terminated`, `truncated`, `grasping`.
fn arrays(ep: &Episode) -> Vec<(String, Array)> {
    let s = &ep.steps;
    let width = |f: fn(&super::EpisodeStep) -> usize| s.first().map_or(0, f);
    let mut out = vec![
        (
            "time".into(),
            Array::vector(s.iter().map(|x| x.time).collect()),
        ),
        (
            "qpos".into(),
            Array::matrix(s.iter().map(|x| x.qpos.as_slice()), width(|x| x.qpos.len())),
        ),
        (
            "qvel".into(),
            Array::matrix(s.iter().map(|x| x.qvel.as_slice()), width(|x| x.qvel.len())),
        ),
        (
            "ctrl".into(),
            Array::matrix(s.iter().map(|x| x.ctrl.as_slice()), width(|x| x.ctrl.len())),
        ),
        (
            "actions".into(),
            Array::matrix(s.iter().map(|x| x.action.as_slice()), 4),
        ),
        (
            "obs".into(),
            Array::matrix(s.iter().map(|x| x.obs.as_slice()), width(|x| x.obs.len())),
        ),
        (
            "rewards".into(),
            Array::vector(s.iter().map(|x| x.reward).collect()),
        ),
        (
            "state".into(),
            Array::matrix(
                s.iter().map(|x| x.state.values.as_slice()),
                width(|x| x.state.values.len()),
            ),
        ),
        (
            "initial_state".into(),
            Array::vector(ep.header.initial_state.values.clone()),
        ),
    ];
    for (k, name) in RewardTerms::NAMES.iter().enumerate() {
        let values = s
            .iter()
            .map(|x| x.info.reward_terms.values().get(k).copied().unwrap_or(0.0))
            .collect();
        out.push((format!("terms/{name}"), Array::vector(values)));
    }
    let flag = |f: fn(&super::EpisodeStep) -> bool| Array::Bool {
        data: s.iter().map(f).collect(),
    };
    out.push(("success".into(), flag(|x| x.info.success)));
    out.push(("terminated".into(), flag(|x| x.terminated)));
    out.push(("truncated".into(), flag(|x| x.truncated)));
    out.push(("grasping".into(), flag(|x| x.info.grasping)));
    out
}

/// The episode as `.npz` bytes (a zip of `.npy` files, stored uncompressed as `np.savez` does).
pub fn episode_npz(ep: &Episode) -> std::io::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, array) in arrays(ep) {
        zip.start_file(format!("{name}.npy"), options)
            .map_err(std::io::Error::other)?;
        zip.write_all(&array.npy())?;
    }
    let cursor = zip.finish().map_err(std::io::Error::other)?;
    Ok(cursor.into_inner())
}
