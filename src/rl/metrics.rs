//! Training metrics, written as they come: `metrics.csv` (long format: step, wall seconds, name,
//! value) and a TensorBoard event file. Names follow CleanRL (`charts/episodic_return`,
//! `losses/qf1_loss`, `reward/<term>`, ...).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Writes scalars to CSV and TensorBoard.
///
/// CSV rows reach the file whole: they are gathered in memory and written in batches of whole
/// lines, and a torn last line left by a killed process is dropped when the file is reopened.
#[derive(Debug)]
pub struct MetricsWriter {
    csv: File,
    pending: Vec<u8>,
    tb: BufWriter<File>,
    started: Instant,
}

/// Bytes of CSV rows gathered before one write.
const CSV_BATCH: usize = 8192;

impl MetricsWriter {
    /// Opens (appending to, after dropping a torn last line) `dir/metrics.csv` and a new
    /// TensorBoard event file in `dir`.
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        Self::open(dir, None)
    }

    /// As [`Self::create`] for a run resumed from its checkpoint at `step`: rows logged after
    /// that step (work the checkpoint does not hold, about to be redone) are cut too.
    pub fn resume(dir: &Path, step: usize) -> std::io::Result<Self> {
        Self::open(dir, Some(step))
    }

    fn open(dir: &Path, keep_until: Option<usize>) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let csv_path = dir.join("metrics.csv");
        let new_csv = !csv_path.exists();
        if !new_csv {
            repair_csv(&csv_path, keep_until)?;
        }
        let mut csv = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&csv_path)?;
        if new_csv {
            csv.write_all(b"step,wall_secs,name,value\n")?;
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
            pending: Vec::with_capacity(CSV_BATCH),
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
            self.pending,
            "{step},{:.3},{name},{value}",
            self.started.elapsed().as_secs_f64()
        )?;
        if self.pending.len() >= CSV_BATCH {
            self.write_pending()?;
        }
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

    fn write_pending(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            self.csv.write_all(&self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }

    /// Flushes both files.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.write_pending()?;
        self.tb.flush()
    }
}

impl Drop for MetricsWriter {
    fn drop(&mut self) {
        // Nowhere to report an error from a drop; the rows are whole lines either way.
        let _ = self.flush();
    }
}

/// Drops a torn last line and, with `keep_until`, every row of a later step; rewrites the file
/// atomically, and only when something was cut.
fn repair_csv(path: &Path, keep_until: Option<usize>) -> std::io::Result<()> {
    let bytes = std::fs::read(path)?;
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut kept = Vec::with_capacity(whole);
    for (k, line) in bytes[..whole].split_inclusive(|&b| b == b'\n').enumerate() {
        let step = std::str::from_utf8(line)
            .ok()
            .and_then(|l| l.split(',').next())
            .and_then(|f| f.parse::<usize>().ok());
        let later = matches!((step, keep_until), (Some(s), Some(max)) if s > max);
        if k == 0 || !later {
            kept.extend_from_slice(line);
        }
    }
    if kept.len() != bytes.len() {
        crate::fsutil::write_atomic(path, &kept)?;
    }
    Ok(())
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

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("so101-metrics-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_torn_last_row_is_dropped_when_the_file_is_reopened() {
        let dir = temp_dir("torn");
        let mut m = MetricsWriter::create(&dir).expect("create");
        m.scalar(10, "a", 1.5).expect("row");
        m.flush().expect("flush");
        drop(m);
        let path = dir.join("metrics.csv");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        f.write_all(b"7998,37.284,").expect("torn");
        drop(f);
        let mut m = MetricsWriter::create(&dir).expect("reopen");
        m.scalar(20, "b", 2.0).expect("row");
        m.flush().expect("flush");
        let text = std::fs::read_to_string(&path).expect("read");
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows.len(), 3, "{text}");
        assert_eq!(rows[0], "step,wall_secs,name,value");
        assert!(
            rows[1].starts_with("10,") && rows[1].ends_with(",a,1.5"),
            "{text}"
        );
        assert!(
            rows[2].starts_with("20,") && rows[2].ends_with(",b,2"),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_resumed_run_cuts_the_rows_past_its_checkpoint() {
        let dir = temp_dir("resume");
        let mut m = MetricsWriter::create(&dir).expect("create");
        for step in [100, 200, 300, 400] {
            m.scalar(step, "x", step as f64).expect("row");
        }
        drop(m);
        let mut m = MetricsWriter::resume(&dir, 200).expect("resume");
        m.scalar(300, "x", -1.0).expect("row");
        drop(m);
        let text = std::fs::read_to_string(dir.join("metrics.csv")).expect("read");
        let steps: Vec<&str> = text
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').next())
            .collect();
        assert_eq!(steps, ["100", "200", "300"], "{text}");
        assert!(text.ends_with(",x,-1\n"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
