//! Atomic file writes: write a sibling temp file, fsync, rename, so nothing saved is ever
//! half-overwritten.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically (temp file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let tmp = temp_path(path);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The first of `candidate(1)`, `candidate(2)`, ... that does not exist: a new name beside
/// files that must never be overwritten (backups, exported videos).
pub fn first_free(candidate: impl Fn(usize) -> std::path::PathBuf) -> std::path::PathBuf {
    (1..=100_000)
        .map(&candidate)
        .find(|p| !p.exists())
        .unwrap_or_else(|| candidate(100_001))
}

/// The sibling temporary file an atomic write of `path` goes through (same folder, so the
/// rename cannot cross file systems).
pub fn temp_path(path: &Path) -> std::path::PathBuf {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{file_name}.tmp-{}", std::process::id()))
}

/// Removes the temp files (and temp folders, e.g. a half-built dataset) that atomic writes of a
/// killed process left in `dir` (named by [`temp_path`] with the pid of a process that no
/// longer runs); returns how many.
pub fn remove_stale_temps(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix('.')
            .and_then(|n| n.rsplit_once(".tmp-"))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        // Only a process that is gone: a live writer (another run in the same folder) keeps its
        // file. Without /proc nothing can be known, and nothing is removed.
        let proc = Path::new("/proc");
        let gone =
            pid != std::process::id() && proc.is_dir() && !proc.join(pid.to_string()).exists();
        if !gone {
            continue;
        }
        let path = entry.path();
        let done = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if done.is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temps_of_dead_writers_go_and_live_ones_stay() {
        let dir = std::env::temp_dir().join(format!("so101-fsutil-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let dead = u32::MAX; // never a running process
        let dead_file = dir.join(format!(".metrics.csv.tmp-{dead}"));
        let dead_dir = dir.join(format!(".dataset.tmp-{dead}"));
        let live = temp_path(&dir.join("policy.safetensors"));
        let kept = dir.join("policy.safetensors");
        std::fs::write(&dead_file, b"x").expect("write");
        std::fs::create_dir_all(dead_dir.join("meta")).expect("mkdir");
        std::fs::write(&live, b"x").expect("write");
        std::fs::write(&kept, b"x").expect("write");
        if Path::new("/proc").is_dir() {
            assert_eq!(remove_stale_temps(&dir).expect("scan"), 2);
            assert!(!dead_file.exists() && !dead_dir.exists());
        }
        assert!(live.exists(), "this process's own temp stays");
        assert!(kept.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
