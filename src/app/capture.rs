//! `CapturePlugin`: `view --screenshot OUT.png` renders a given number of frames, captures the
//! window (3D view, overlays and panels) to a PNG and exits. No input is needed, so it runs
//! under `xvfb-run` in tests and for the README image.

use std::path::PathBuf;

use bevy::diagnostic::FrameCount;
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};

/// Screenshot-and-exit.
pub struct CapturePlugin {
    /// Where to write; `None` disables the plugin.
    pub screenshot: Option<PathBuf>,
    /// Frames rendered before capturing.
    pub frames: u32,
}

#[derive(Resource, Debug, Clone)]
struct CaptureRequest {
    path: PathBuf,
    frames: u32,
    requested: bool,
}

impl Plugin for CapturePlugin {
    fn build(&self, app: &mut App) {
        if let Some(path) = &self.screenshot {
            app.insert_resource(CaptureRequest {
                path: path.clone(),
                frames: self.frames.max(1),
                requested: false,
            })
            .add_systems(Last, request_capture);
        }
    }
}

fn request_capture(
    mut commands: Commands,
    frames: Res<FrameCount>,
    mut req: ResMut<CaptureRequest>,
) {
    if req.requested || frames.0 < req.frames {
        return;
    }
    req.requested = true;
    let path = req.path.clone();
    commands.spawn(Screenshot::primary_window()).observe(
        move |ev: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| {
            let result = ev
                .image
                .clone()
                .try_into_dynamic()
                .map_err(|e| format!("{e:?}"))
                .and_then(|img| {
                    let mut png = std::io::Cursor::new(Vec::new());
                    img.to_rgb8()
                        .write_to(&mut png, image::ImageFormat::Png)
                        .map_err(|e| e.to_string())?;
                    crate::fsutil::write_atomic(&path, png.get_ref()).map_err(|e| e.to_string())
                });
            match result {
                Ok(()) => {
                    eprintln!("wrote {}", path.display());
                    exit.write(AppExit::Success);
                }
                Err(e) => {
                    eprintln!("error: screenshot {}: {e}", path.display());
                    exit.write(AppExit::error());
                }
            }
        },
    );
}
