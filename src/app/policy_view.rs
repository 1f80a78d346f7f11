//! `PolicyViewPlugin`: the "policy view" window (V): exactly what the policy receives. The image
//! tensor after crop, resize and frame stacking, cut back into pictures per camera and frame,
//! and the state vector with names, raw and normalised values, privileged entries marked. Live
//! it shows the session's current observation; with a replay open it follows the cursor (the
//! recorded state vector, and the images re-rendered from the recorded states). A task without
//! `[obs.image]` shows what a wrist-camera policy (84x84 RGB, 3 frames) would receive.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use super::state::{LoadedScene, OpenPanels, ReplayTimeline, SimResource};
use crate::session::{Driver, LoadedPolicy};
use crate::task::inputs::{self, ImageTile, Normalization, StateEntry};
use crate::task::{ImageObsConfig, ImagePipeline, TaskEnv};

/// The policy view window.
pub struct PolicyViewPlugin;

impl Plugin for PolicyViewPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<PolicyView>()
            .add_systems(EguiPrimaryContextPass, policy_view_ui);
    }
}

/// What the window shows, refreshed when the step or the replay cursor changes.
#[derive(Resource, Default)]
pub struct PolicyView {
    /// Renders a wrist preview when the task has no image input (rebuilt per scene).
    preview: Option<(u64, ImagePipeline)>,
    /// Renders the stack at a replay cursor (rebuilt per opened replay).
    replay_pipeline: Option<(String, ImagePipeline)>,
    key: Option<(bool, u64, usize, usize)>,
    /// Pictures of the image input.
    pub tiles: Vec<ImageTile>,
    /// Two texture sets: one shown while the other uploads (see `upload_textures`).
    textures: [Vec<egui::TextureHandle>; 2],
    front: usize,
    swap_next: bool,
    /// The state vector.
    pub state: Vec<StateEntry>,
    /// One line about the input layout.
    pub summary: String,
    error: Option<String>,
    /// The tiles changed since the textures were last uploaded.
    dirty: bool,
}

/// The input-gradient saliency of the driving pixel policy on this image input, as tiles.
fn saliency(
    sim: &SimResource,
    state: &[f64],
    spec: &crate::task::ImageSpec,
    pixels: &[u8],
) -> Vec<ImageTile> {
    let Driver::Policy { policy, .. } = &sim.session.driver else {
        return Vec::new();
    };
    let Ok(p) = policy.lock() else {
        return Vec::new();
    };
    match &*p {
        LoadedPolicy::Pixel(p)
            if p.meta.image.as_ref() == Some(spec) && pixels.len() == spec.len() =>
        {
            inputs::saliency_tiles(spec, pixels, &p.saliency(state, pixels))
        }
        _ => Vec::new(),
    }
}

fn normalization(sim: &SimResource) -> Option<Normalization> {
    let Driver::Policy { policy, .. } = &sim.session.driver else {
        return None;
    };
    let p = policy.lock().ok()?;
    match &*p {
        LoadedPolicy::Native(p) if p.meta.normalize_obs => Some(Normalization {
            mean: p.meta.obs_mean.clone(),
            var: p.meta.obs_var.clone(),
            clip: p.meta.clip,
        }),
        LoadedPolicy::Pixel(p) if p.meta.normalize_obs => Some(Normalization {
            mean: p.meta.obs_mean.clone(),
            var: p.meta.obs_var.clone(),
            clip: p.meta.clip,
        }),
        LoadedPolicy::Checkpoint { norm, .. } if norm.enabled => Some(Normalization {
            mean: norm.stats.mean.clone(),
            var: norm.stats.var.clone(),
            clip: norm.clip,
        }),
        _ => None,
    }
}

fn summary(env: &TaskEnv, image: &ImageObsConfig, preview: bool) -> String {
    let space = env.observation_space();
    let privileged = space.privileged_names().len();
    let planes = image.spec().planes.len();
    format!(
        "{}{} {}x{} {:?} x{} frames ({planes} planes) + {} state values ({})",
        if preview {
            "no image input in this task; a wrist-camera policy would see: "
        } else {
            "image input: "
        },
        image.cameras.join(", "),
        image.width,
        image.height,
        image.channels,
        image.frame_stack,
        space.dim(),
        if privileged == 0 {
            "none privileged".to_owned()
        } else {
            format!("{privileged} privileged")
        }
    )
}

impl PolicyView {
    /// Refreshes from the live session (`replay` None) or the replay cursor.
    pub fn refresh(&mut self, sim: &SimResource, replay: &ReplayTimeline, generation: u64) {
        let env = sim.session.env();
        let (is_replay, cursor) = match &replay.replay {
            Some(r) => (true, r.cursor()),
            None => (false, env.steps()),
        };
        let key = (
            is_replay,
            generation ^ sim.session.seed(),
            cursor,
            sim.session.stats.episodes,
        );
        if self.key == Some(key) {
            return;
        }
        self.key = Some(key);
        self.error = None;
        self.dirty = true;
        let norm = normalization(sim);
        match &replay.replay {
            Some(r) => {
                let renv = r.env();
                self.state = inputs::state_entries(
                    renv.observation_space(),
                    r.observation(cursor),
                    norm.as_ref(),
                );
                let config = renv.task().obs.image.clone().unwrap_or_default();
                self.summary = summary(renv, &config, renv.task().obs.image.is_none());
                let id = r.path.display().to_string();
                if self.replay_pipeline.as_ref().is_none_or(|(p, _)| *p != id) {
                    self.replay_pipeline = ImagePipeline::new(renv.sim(), &config)
                        .map_err(|e| self.error = Some(e.to_string()))
                        .ok()
                        .map(|p| (id, p));
                }
                if let Some((_, pipeline)) = &mut self.replay_pipeline {
                    match r.render_stack(cursor, pipeline) {
                        Ok(()) => {
                            let spec = config.spec();
                            self.tiles = inputs::image_tiles(&spec, pipeline.observation());
                            let state = r.observation(cursor).to_vec();
                            self.tiles
                                .extend(saliency(sim, &state, &spec, pipeline.observation()));
                        }
                        Err(e) => self.error = Some(e.to_string()),
                    }
                }
            }
            None => {
                self.state = inputs::state_entries(
                    env.observation_space(),
                    sim.session.obs(),
                    norm.as_ref(),
                );
                if let (Some(spec), Some(pixels)) = (env.image_spec(), env.pixels()) {
                    self.tiles = inputs::image_tiles(&spec, pixels);
                    // Where the driving pixel policy looks, one row more.
                    self.tiles
                        .extend(saliency(sim, sim.session.obs(), &spec, pixels));
                    let config = env.task().obs.image.clone().unwrap_or_default();
                    self.summary = summary(env, &config, false);
                    return;
                }
                let config = ImageObsConfig::default();
                self.summary = summary(env, &config, true);
                if self.preview.as_ref().is_none_or(|(g, _)| *g != generation) {
                    self.preview = ImagePipeline::new(env.sim(), &config)
                        .map_err(|e| self.error = Some(e.to_string()))
                        .ok()
                        .map(|p| (generation, p));
                }
                if let Some((_, pipeline)) = &mut self.preview {
                    let look = env.dr_sample().map(|d| d.appearance).unwrap_or_default();
                    pipeline.set_look(look);
                    // A new episode (step 0) starts a new stack.
                    if let Err(e) = pipeline.capture(env.sim(), cursor == 0) {
                        self.error = Some(e.to_string());
                    }
                    self.tiles = inputs::image_tiles(&config.spec(), pipeline.observation());
                }
            }
        }
    }
}

fn policy_view_ui(
    mut contexts: EguiContexts,
    mut panels: ResMut<OpenPanels>,
    sim: Res<SimResource>,
    replay: Res<ReplayTimeline>,
    loaded: Res<LoadedScene>,
    mut view: ResMut<PolicyView>,
) -> Result {
    if !panels.policy_view {
        return Ok(());
    }
    view.refresh(&sim, &replay, loaded.generation);
    let ctx = contexts.ctx_mut()?.clone();
    let view = &mut *view;
    upload_textures(&ctx, view);
    let mut open = panels.policy_view;
    egui::Window::new("Policy view: what the policy receives")
        .open(&mut open)
        .default_pos([290.0, 130.0])
        .default_width(500.0)
        .show(&ctx, |ui| {
            ui.label(egui::RichText::new(&view.summary).small());
            if let Some(e) = &view.error {
                ui.colored_label(egui::Color32::LIGHT_RED, e);
            }
            images_ui(ui, view);
            ui.separator();
            egui::ScrollArea::vertical()
                .max_height(220.0)
                .show(ui, |ui| state_ui(ui, &view.state));
        });
    panels.policy_view = open;
    Ok(())
}

/// Textures follow the tiles. A texture whose pixels are replaced shows nothing until the
/// upload reaches the GPU a frame later, so new tiles go into the back set while the front set
/// (uploaded a frame earlier) is shown, and the sets swap on the next frame: the view lags the
/// simulation by one frame and never goes blank while it runs.
fn upload_textures(ctx: &egui::Context, view: &mut PolicyView) {
    if std::mem::take(&mut view.swap_next) {
        view.front = 1 - view.front;
    }
    if !std::mem::take(&mut view.dirty) {
        return;
    }
    let back = 1 - view.front;
    let set = &mut view.textures[back];
    if set.len() != view.tiles.len() {
        set.clear();
    }
    for (i, tile) in view.tiles.iter().enumerate() {
        let image =
            egui::ColorImage::from_rgb([tile.width as usize, tile.height as usize], &tile.rgb);
        match set.get_mut(i) {
            Some(t) => t.set(image, egui::TextureOptions::NEAREST),
            None => set.push(ctx.load_texture(
                format!("policy-view-{back}-{i}"),
                image,
                egui::TextureOptions::NEAREST,
            )),
        }
    }
    view.swap_next = true;
}

/// One row per camera and channel (and saliency), the stacked frames left (oldest) to right.
fn images_ui(ui: &mut egui::Ui, view: &PolicyView) {
    let mut rows: Vec<(&str, Vec<usize>)> = Vec::new();
    for (k, tile) in view.tiles.iter().enumerate() {
        let key = tile.label.split('@').next().unwrap_or("");
        match rows.iter_mut().find(|(r, _)| *r == key) {
            Some((_, ks)) => ks.push(k),
            None => rows.push((key, vec![k])),
        }
    }
    let textures = &view.textures[view.front];
    egui::Grid::new("policy-view-images").show(ui, |ui| {
        for (_, mut ks) in rows {
            ks.sort_by_key(|&k| std::cmp::Reverse(view.tiles[k].age));
            for k in ks {
                let (Some(tile), Some(tex)) = (view.tiles.get(k), textures.get(k)) else {
                    continue;
                };
                let scale = (150.0 / tile.height.max(1) as f32).max(1.0);
                let size = egui::vec2(tile.width as f32 * scale, tile.height as f32 * scale);
                ui.vertical(|ui| {
                    ui.image((tex.id(), size));
                    ui.label(egui::RichText::new(&tile.label).small());
                });
            }
            ui.end_row();
        }
    });
}

fn state_ui(ui: &mut egui::Ui, state: &[StateEntry]) {
    egui::Grid::new("policy-view-state")
        .striped(true)
        .show(ui, |ui| {
            ui.strong("input");
            ui.strong("raw");
            ui.strong("normalised");
            ui.strong("");
            ui.end_row();
            for e in state {
                ui.monospace(&e.name);
                ui.monospace(format!("{:+.4}", e.raw));
                ui.monospace(e.normalized.map_or("-".to_owned(), |v| format!("{v:+.3}")));
                if e.privileged {
                    ui.colored_label(
                        egui::Color32::from_rgb(240, 120, 90),
                        "privileged (sim only)",
                    );
                } else {
                    ui.label("");
                }
                ui.end_row();
            }
        });
}
