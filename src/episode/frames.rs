//! Rendered frames beside an episode, for people who train elsewhere: a folder of PNGs or one
//! H.264 video (ffmpeg). Written under a `.partial` name and renamed when complete; an existing
//! output is never overwritten.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Where frames go.
#[derive(Debug)]
enum Sink {
    Png { dir: PathBuf, count: usize },
    Video { child: Child },
}

/// Frames of one episode being written.
#[derive(Debug)]
pub struct FrameWriter {
    sink: Sink,
    partial: PathBuf,
    path: PathBuf,
    width: u32,
    height: u32,
}

fn exists_error(path: &Path) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("{} already exists; not overwriting it", path.display()),
    )
}

fn partial_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

impl FrameWriter {
    /// A folder of `frame_000000.png`, ... at `dir`.
    pub fn png(dir: &Path, width: u32, height: u32) -> std::io::Result<Self> {
        if dir.exists() {
            return Err(exists_error(dir));
        }
        let partial = partial_of(dir);
        let _ = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial)?;
        Ok(Self {
            sink: Sink::Png {
                dir: partial.clone(),
                count: 0,
            },
            partial,
            path: dir.to_owned(),
            width,
            height,
        })
    }

    /// An H.264 video at `path` (yuv420p, `fps` frames/s), encoded by the system's ffmpeg.
    pub fn mp4(path: &Path, width: u32, height: u32, fps: f64) -> std::io::Result<Self> {
        if path.exists() {
            return Err(exists_error(path));
        }
        if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("video frames must have even sides (yuv420p), got {width}x{height}"),
            ));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        // ffmpeg picks the container from the extension, so the partial file keeps `.mp4`.
        let partial = path.with_extension("partial.mp4");
        let child = Command::new("ffmpeg")
            .args([
                "-loglevel",
                "error",
                "-y",
                "-f",
                "rawvideo",
                "-pix_fmt",
                "rgb24",
            ])
            .args(["-s", &format!("{width}x{height}")])
            .args(["-r", &format!("{fps}")])
            .args([
                "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "18",
            ])
            .arg(&partial)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("cannot run ffmpeg ({e}); tools/setup.sh installs it"),
                )
            })?;
        Ok(Self {
            sink: Sink::Video { child },
            partial,
            path: path.to_owned(),
            width,
            height,
        })
    }

    /// Appends one RGB frame (`width * height * 3` bytes).
    pub fn push(&mut self, rgb: &[u8]) -> std::io::Result<()> {
        if rgb.len() != (self.width * self.height * 3) as usize {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "frame has {} bytes, expected {}x{}x3",
                    rgb.len(),
                    self.width,
                    self.height
                ),
            ));
        }
        match &mut self.sink {
            Sink::Png { dir, count } => {
                let file = dir.join(format!("frame_{:06}.png", *count));
                crate::render::preprocess::write_png(&file, self.width, self.height, rgb)?;
                *count += 1;
                Ok(())
            }
            Sink::Video { child } => child
                .stdin
                .as_mut()
                .ok_or_else(|| std::io::Error::other("ffmpeg's input is closed"))?
                .write_all(rgb),
        }
    }

    /// Finishes the output and moves it into place; returns its path.
    pub fn finish(self) -> std::io::Result<PathBuf> {
        if let Sink::Video { mut child } = self.sink {
            drop(child.stdin.take());
            let status = child.wait()?;
            if !status.success() {
                let _ = std::fs::remove_file(&self.partial);
                return Err(std::io::Error::other(format!("ffmpeg failed ({status})")));
            }
        }
        if self.path.exists() {
            return Err(exists_error(&self.path));
        }
        std::fs::rename(&self.partial, &self.path)?;
        Ok(self.path)
    }
}
