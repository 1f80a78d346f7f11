//! The aggregated DAgger dataset: every visited state's image tensor, state vector and the
//! teacher's label, in a ring of fixed capacity, saved and loaded as one binary file so a
//! resumed run keeps its data.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Samples of (image, state, action).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Bytes per image.
    pub image_len: usize,
    /// Floats per state.
    pub state_dim: usize,
    /// Capacity, samples.
    pub capacity: usize,
    images: Vec<u8>,
    states: Vec<f32>,
    actions: Vec<f32>,
    len: usize,
    next: usize,
    /// Samples ever added.
    pub added: usize,
}

/// A sampled minibatch.
#[derive(Debug, Clone, Default)]
pub struct Minibatch {
    /// Images back to back.
    pub images: Vec<u8>,
    /// Raw states, row-major.
    pub states: Vec<f32>,
    /// Labels, row-major `[B, 4]`.
    pub actions: Vec<f32>,
}

const MAGIC: &[u8; 8] = b"S101DAG1";

impl Dataset {
    /// An empty dataset.
    pub fn new(image_len: usize, state_dim: usize, capacity: usize) -> Self {
        Self {
            image_len,
            state_dim,
            capacity,
            images: Vec::new(),
            states: Vec::new(),
            actions: Vec::new(),
            len: 0,
            next: 0,
            added: 0,
        }
    }

    /// Samples held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds one sample, replacing the oldest when full.
    pub fn push(&mut self, image: &[u8], state: &[f64], action: &[f64; 4]) {
        let i = self.next;
        if self.len < self.capacity {
            self.images.extend_from_slice(image);
            self.states.extend(state.iter().map(|&v| v as f32));
            self.actions.extend(action.iter().map(|&v| v as f32));
            self.len += 1;
        } else {
            self.images[i * self.image_len..(i + 1) * self.image_len].copy_from_slice(image);
            for (d, s) in self.states[i * self.state_dim..(i + 1) * self.state_dim]
                .iter_mut()
                .zip(state)
            {
                *d = *s as f32;
            }
            for (d, s) in self.actions[i * 4..(i + 1) * 4].iter_mut().zip(action) {
                *d = *s as f32;
            }
        }
        self.next = (self.next + 1) % self.capacity;
        self.added += 1;
    }

    /// The label of sample `i`.
    pub fn action(&self, i: usize) -> [f32; 4] {
        std::array::from_fn(|k| self.actions[i * 4 + k])
    }

    /// The state of sample `i`.
    pub fn state(&self, i: usize) -> &[f32] {
        &self.states[i * self.state_dim..(i + 1) * self.state_dim]
    }

    /// `batch` samples drawn uniformly with `rng`.
    pub fn sample(&self, batch: usize, rng: &mut ChaCha8Rng, out: &mut Minibatch) {
        out.images.clear();
        out.states.clear();
        out.actions.clear();
        for _ in 0..batch {
            let i = rng.random_range(0..self.len.max(1));
            out.images
                .extend_from_slice(&self.images[i * self.image_len..(i + 1) * self.image_len]);
            out.states.extend_from_slice(self.state(i));
            out.actions.extend_from_slice(&self.action(i));
        }
    }

    /// Writes the dataset to `path` (temp file, then rename).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp = crate::fsutil::temp_path(path);
        let result = (|| {
            let mut w = BufWriter::new(std::fs::File::create(&tmp)?);
            w.write_all(MAGIC)?;
            for v in [
                self.image_len,
                self.state_dim,
                self.capacity,
                self.len,
                self.next,
                self.added,
            ] {
                w.write_all(&(v as u64).to_le_bytes())?;
            }
            w.write_all(&self.images)?;
            for v in self.states.iter().chain(&self.actions) {
                w.write_all(&v.to_le_bytes())?;
            }
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Reads a dataset written by [`Dataset::save`].
    pub fn load(path: &Path) -> std::io::Result<Self> {
        let bad = |m: &str| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: {m}", path.display()),
            )
        };
        let mut r = BufReader::new(std::fs::File::open(path)?);
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(bad("not a distillation dataset"));
        }
        let mut word = || -> std::io::Result<usize> {
            let mut b = [0u8; 8];
            r.read_exact(&mut b)?;
            usize::try_from(u64::from_le_bytes(b)).map_err(|_| bad("size out of range"))
        };
        let (image_len, state_dim, capacity, len, next, added) =
            (word()?, word()?, word()?, word()?, word()?, word()?);
        if len > capacity || next >= capacity.max(1) || image_len > 1 << 24 || state_dim > 1 << 16 {
            return Err(bad("inconsistent header"));
        }
        let mut images = vec![0u8; len * image_len];
        r.read_exact(&mut images)?;
        let mut floats = vec![0u8; 4 * len * (state_dim + 4)];
        r.read_exact(&mut floats)?;
        let all: Vec<f32> = floats
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let (states, actions) = all.split_at(len * state_dim);
        Ok(Self {
            image_len,
            state_dim,
            capacity,
            images,
            states: states.to_vec(),
            actions: actions.to_vec(),
            len,
            next,
            added,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_ring_keeps_the_newest_and_round_trips() {
        let mut d = Dataset::new(2, 1, 3);
        for k in 0..5u8 {
            d.push(&[k, k], &[f64::from(k)], &[f64::from(k); 4]);
        }
        assert_eq!(d.len(), 3);
        let labels: Vec<f32> = (0..3).map(|i| d.action(i)[0]).collect();
        assert_eq!(labels, [3.0, 4.0, 2.0]);
        let path = std::env::temp_dir().join(format!("so101-dataset-{}.bin", std::process::id()));
        d.save(&path).expect("save");
        assert_eq!(Dataset::load(&path).expect("load"), d);
        let mut batch = Minibatch::default();
        d.sample(4, &mut ChaCha8Rng::seed_from_u64(1), &mut batch);
        assert_eq!(
            (batch.images.len(), batch.states.len(), batch.actions.len()),
            (8, 4, 16)
        );
        let _ = std::fs::remove_file(path);
    }
}
