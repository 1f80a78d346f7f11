//! The debug view of recorded episodes, headless: a frame per recorded state drawn by the core
//! renderer (any MJCF camera, or `auto`: a camera that frames the arm base, the cube and the
//! TCP over the whole episode), with the overlays (sites, frames, targets, contacts, a HUD) and
//! optionally the reward plots below; encoded by ffmpeg at the episode's real time. The same
//! drawing makes the thumbnails of triage reports.

mod report;

pub use report::{html_report, thumbnail_png};

use std::path::{Path, PathBuf};

use anyhow::Context;
use nalgebra::Vector3;

use crate::episode::{FrameWriter, Replay};
use crate::overlay;
use crate::render::canvas::{Canvas, LINE_PX, text_width};
use crate::render::{Appearance, CameraModel, Frame, RenderOptions, Renderer};
use crate::sim::{Sim, SimSnapshot};
use crate::task::RewardTerms;

/// An overlay a video can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Overlay {
    /// `gripperframe` and `graspframe` markers with labels.
    Sites,
    /// Axes of the TCP sites.
    Frames,
    /// The IK target.
    Targets,
    /// Contact points, normals and forces, pad depths.
    Contacts,
    /// Step, time, reward and grasp verdict in the corner.
    Hud,
}

impl Overlay {
    /// What a debug video shows unless told otherwise.
    pub const DEFAULT: [Overlay; 4] = [Self::Sites, Self::Targets, Self::Contacts, Self::Hud];
}

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoOptions {
    /// An MJCF camera name, or `None` for the framing camera.
    pub camera: Option<String>,
    /// Output width, pixels.
    pub width: u32,
    /// Output height, pixels (the plots take the lower third when on).
    pub height: u32,
    /// Overlays drawn on the scene.
    pub overlays: Vec<Overlay>,
    /// Reward plots under the scene.
    pub plots: bool,
}

/// Where the framing camera looks from: in front of the arm, to its right, above the table.
const FRAMING_FROM: [f64; 3] = [1.0, -0.75, 0.65];

/// The camera that keeps the arm base and every point of `subject` in view.
pub fn framing_camera(subject: &[Vector3<f64>], width: u32, height: u32) -> CameraModel {
    let mut pts = subject.to_vec();
    pts.push(Vector3::zeros());
    CameraModel::framing(&pts, Vector3::from(FRAMING_FROM), 45.0, width, height)
}

/// Draws `sim`'s current state seen by `cam` into `frame`, then `overlays` of `snap` on it.
pub fn draw_state(
    renderer: &Renderer,
    sim: &Sim,
    cam: &CameraModel,
    snap: &SimSnapshot,
    overlays: &[Overlay],
    frame: &mut Frame,
) -> anyhow::Result<()> {
    renderer.render_view(sim, cam, &Appearance::default(), frame)?;
    let h = sim.handles();
    let mut prims = Vec::new();
    for o in overlays {
        match o {
            Overlay::Sites => prims.extend(overlay::site_markers(snap, h)),
            Overlay::Frames => prims.extend(overlay::site_frames(
                snap,
                &[h.gripperframe_site, h.graspframe_site],
                0.03,
            )),
            Overlay::Targets => prims.extend(overlay::targets(snap)),
            Overlay::Contacts => prims.extend(overlay::contacts(snap, h, 0.002, None)),
            Overlay::Hud => {}
        }
    }
    let (w, ht) = (frame.width, frame.height);
    let cam = cam.with_size(w, ht);
    Canvas::new(&mut frame.rgb, w, ht).primitives(&cam, &prims);
    Ok(())
}

/// The result of a video export.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VideoReport {
    /// The video file.
    pub path: PathBuf,
    /// Frames written (one per recorded step).
    pub frames: usize,
    /// Frames per second (the episode's control rate).
    pub fps: f64,
    /// Size, pixels.
    pub width: u32,
    /// Size, pixels.
    pub height: u32,
}

/// Writes the debug video of the episode at `episode` to `out` (an `.mp4`, never overwritten):
/// one frame per step at the control rate. `progress(done, total)` is called per frame.
pub fn render_episode(
    episode: &Path,
    out: &Path,
    opts: &VideoOptions,
    mut progress: impl FnMut(usize, usize),
) -> anyhow::Result<VideoReport> {
    anyhow::ensure!(
        opts.width >= 64
            && opts.height >= 64
            && opts.width.is_multiple_of(2)
            && opts.height.is_multiple_of(2),
        "video size {}x{}: width and height must be even and at least 64 (H.264 4:2:0)",
        opts.width,
        opts.height
    );
    let mut replay = Replay::open(episode)?;
    let n = replay.episode.steps.len();
    anyhow::ensure!(n > 0, "episode {} has no steps", episode.display());
    let plot_h = if opts.plots { opts.height / 3 } else { 0 };
    let scene_h = opts.height - plot_h;
    let renderer = Renderer::new(
        replay.env().sim().model(),
        RenderOptions::for_size(opts.width, scene_h).full_meshes(),
    )?;
    let fixed_cam = match &opts.camera {
        Some(name) => Some(renderer.camera_id(name)?),
        None => None,
    };
    let auto_cam = episode_framing(&mut replay, opts.width, scene_h)?;
    let fps = 1.0 / replay.env().control_dt();
    let mut writer = FrameWriter::mp4(out, opts.width, opts.height, fps)
        .with_context(|| format!("writing {}", out.display()))?;
    let mut frame = Frame::default();
    let mut rgb = vec![0u8; opts.width as usize * opts.height as usize * 3];
    let plots = opts.plots.then(|| Plots::of(&replay));
    for k in 1..=n {
        replay.seek(k)?;
        let sim = replay.env().sim();
        let cam = match fixed_cam {
            Some(c) => renderer.camera_model(sim, c, &Default::default()),
            None => auto_cam,
        };
        draw_state(
            &renderer,
            sim,
            &cam,
            &replay.snapshot(),
            &opts.overlays,
            &mut frame,
        )?;
        let scene_bytes = frame.rgb.len();
        rgb[..scene_bytes].copy_from_slice(&frame.rgb);
        rgb[scene_bytes..].fill(18);
        let mut canvas = Canvas::new(&mut rgb, opts.width, opts.height);
        if opts.overlays.contains(&Overlay::Hud) {
            hud(&mut canvas, &replay, k, fps);
        }
        if let Some(p) = &plots {
            p.draw(&mut canvas, scene_h as i32, k);
        }
        writer.push(&rgb)?;
        progress(k, n);
    }
    let path = writer.finish()?;
    Ok(VideoReport {
        path,
        frames: n,
        fps,
        width: opts.width,
        height: opts.height,
    })
}

/// The framing camera for a whole episode: every body of the arm and the cube, at every step,
/// and the lift height above the cube's start stay in view.
fn episode_framing(replay: &mut Replay, width: u32, height: u32) -> anyhow::Result<CameraModel> {
    let mut points = Vec::new();
    for k in 0..replay.len() {
        replay.seek(k)?;
        let xpos = replay.env().sim().data().xpos();
        points.extend(xpos.iter().skip(1).map(|p| Vector3::from(*p)));
    }
    // The lift height above the cube's start, so a lift stays in view from the first frame.
    replay.seek(0)?;
    let lift = replay.env().task().lift_height_m;
    points.push(replay.env().sim().cube_pose().pos + Vector3::new(0.0, 0.0, lift));
    Ok(framing_camera(&points, width, height))
}

fn hud(c: &mut Canvas, replay: &Replay, k: usize, fps: f64) {
    let s = &replay.episode.steps[k - 1];
    let lines = [
        format!(
            "step {k}/{}  t {:.2} s",
            replay.episode.steps.len(),
            k as f64 / fps
        ),
        format!("reward {:+.3}  hold {}", s.reward, s.info.hold_count),
        format!(
            "grasp: {}{}",
            replay.snapshot().inspection.verdict.label(),
            if s.info.success { "  SUCCESS" } else { "" }
        ),
    ];
    for (i, l) in lines.iter().enumerate() {
        c.text(6, 6 + i as i32 * (LINE_PX + 2), l, [235, 235, 235], 1);
    }
}

/// The reward and its terms over the episode, drawn under the scene with a cursor.
struct Plots {
    names: Vec<&'static str>,
    series: Vec<Vec<f64>>,
    lo: f64,
    hi: f64,
}

const SERIES_COLOURS: [[u8; 3]; 10] = [
    [255, 255, 255],
    [230, 25, 75],
    [60, 180, 75],
    [255, 225, 25],
    [67, 99, 216],
    [245, 130, 49],
    [145, 30, 180],
    [66, 212, 244],
    [240, 50, 230],
    [191, 239, 69],
];

impl Plots {
    fn of(replay: &Replay) -> Self {
        let steps = &replay.episode.steps;
        let mut names = vec!["reward"];
        names.extend(RewardTerms::NAMES);
        let mut series = vec![steps.iter().map(|s| s.reward).collect::<Vec<_>>()];
        for i in 0..RewardTerms::NAMES.len() {
            series.push(
                steps
                    .iter()
                    .map(|s| s.info.reward_terms.values()[i])
                    .collect(),
            );
        }
        // The 1st-99th percentile (and 0): a one-step success bonus would flatten every other
        // curve; values outside are drawn at the border.
        let mut all: Vec<f64> = series
            .iter()
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        all.sort_by(f64::total_cmp);
        let at = |q: f64| {
            all.get((q * (all.len().max(1) - 1) as f64) as usize)
                .copied()
        };
        let lo = at(0.01).unwrap_or(0.0).min(0.0);
        let hi = at(0.99).unwrap_or(0.0).max(0.0);
        Self {
            names,
            series,
            lo,
            hi: if hi - lo < 1e-9 { lo + 1.0 } else { hi },
        }
    }

    /// Draws the plot in the rows from `top` down; the legend sits right of the plot area.
    fn draw(&self, c: &mut Canvas, top: i32, k: usize) {
        let (w, h) = c.size();
        let legend_w = self
            .names
            .iter()
            .map(|n| text_width(n, 1))
            .max()
            .unwrap_or(0)
            + 24;
        let (x0, x1) = (40, (w - legend_w - 8).max(48));
        let (y0, y1) = (top + 8, h - 8);
        let n = self.series[0].len().max(2);
        let px = |i: usize| f64::from(x0) + (i as f64) / (n - 1) as f64 * f64::from(x1 - x0);
        let py = |v: f64| {
            let t = ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
            f64::from(y1) - t * f64::from(y1 - y0)
        };
        c.line(
            (f64::from(x0), py(0.0)),
            (f64::from(x1), py(0.0)),
            [70, 70, 70],
            1,
        );
        for (s, colour) in self.series.iter().zip(SERIES_COLOURS) {
            for i in 1..s.len() {
                c.line((px(i - 1), py(s[i - 1])), (px(i), py(s[i])), colour, 1);
            }
        }
        let cursor = px(k - 1);
        c.line(
            (cursor, f64::from(y0)),
            (cursor, f64::from(y1)),
            [200, 200, 200],
            1,
        );
        // `+ 0.0` turns -0.0 into 0.0 for the axis labels.
        c.text(2, y0, &format!("{:.2}", self.hi + 0.0), [160, 160, 160], 1);
        c.text(
            2,
            y1 - 8,
            &format!("{:.2}", self.lo + 0.0),
            [160, 160, 160],
            1,
        );
        for (i, (name, colour)) in self.names.iter().zip(SERIES_COLOURS).enumerate() {
            let y = y0 + i as i32 * (LINE_PX + 1);
            c.fill_rect(x1 + 10, y + 3, 8, 3, colour);
            c.text(x1 + 22, y, name, colour, 1);
        }
    }
}
