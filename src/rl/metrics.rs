//! Training metrics, written as they come: `metrics.csv` (long format: step, wall seconds, name,
//! value) and a TensorBoard event file. Names follow CleanRL (`charts/episodic_return`,
//! `losses/qf1_loss`, `reward/<term>`, ...).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Writes scalars to CSV and TensorBoard.
#[derive(Debug)]
pub struct MetricsWriter {
    csv: BufWriter<File>,
    tb: BufWriter<File>,
    started: Instant,
}

impl MetricsWriter {
    /// Opens (appending to) `dir/metrics.csv` and a new TensorBoard event file in `dir`.
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let csv_path = dir.join("metrics.csv");
        let new_csv = !csv_path.exists();
        let mut csv = BufWriter::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&csv_path)?,
        );
        if new_csv {
            writeln!(csv, "step,wall_secs,name,value")?;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let tb_path = dir.join(format!("events.out.tfevents.{}.so101-lab", now as u64));
        let mut tb = BufWriter::new(File::create(tb_path)?);
        let mut event = Vec::new();
        proto_double(&mut event, 1, now);
        proto_bytes(&mut event, 3, b"brain.Event:2");
        write_record(&mut tb, &event)?;
        Ok(Self {
            csv,
            tb,
            started: Instant::now(),
        })
    }

    /// Records one scalar.
    pub fn scalar(&mut self, step: usize, name: &str, value: f64) -> std::io::Result<()> {
        if !value.is_finite() {
            return Ok(());
        }
        writeln!(
            self.csv,
            "{step},{:.3},{name},{value}",
            self.started.elapsed().as_secs_f64()
        )?;
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let mut val = Vec::new();
        proto_bytes(&mut val, 1, name.as_bytes());
        proto_float(&mut val, 2, value as f32);
        let mut summary = Vec::new();
        proto_bytes(&mut summary, 1, &val);
        let mut event = Vec::new();
        proto_double(&mut event, 1, wall);
        proto_varint_field(&mut event, 2, step as u64);
        proto_bytes(&mut event, 5, &summary);
        write_record(&mut self.tb, &event)
    }

    /// Flushes both files.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.csv.flush()?;
        self.tb.flush()
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn proto_varint_field(out: &mut Vec<u8>, field: u64, v: u64) {
    varint(out, field << 3);
    varint(out, v);
}

fn proto_double(out: &mut Vec<u8>, field: u64, v: f64) {
    varint(out, (field << 3) | 1);
    out.extend_from_slice(&v.to_le_bytes());
}

fn proto_float(out: &mut Vec<u8>, field: u64, v: f32) {
    varint(out, (field << 3) | 5);
    out.extend_from_slice(&v.to_le_bytes());
}

fn proto_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, (field << 3) | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// TFRecord framing: length, masked CRC32C of the length, data, masked CRC32C of the data.
fn write_record<W: Write>(w: &mut W, data: &[u8]) -> std::io::Result<()> {
    let len = (data.len() as u64).to_le_bytes();
    w.write_all(&len)?;
    w.write_all(&masked_crc(&len).to_le_bytes())?;
    w.write_all(data)?;
    w.write_all(&masked_crc(data).to_le_bytes())
}

fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// CRC-32C (Castagnoli), bitwise-reflected table.
fn crc32c(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0x82f6_3b78 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    let mut crc = !0u32;
    for &b in data {
        crc = TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_known_vector() {
        // RFC 3720 test vector: 32 bytes of zeros.
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }
}
