//! `SoftwareRenderPlugin`: what the app changes when wgpu draws on the CPU (Mesa's llvmpipe or
//! lavapipe, as on CI, remote desktops and machines without a GPU), `view --soft-render`.
//!
//! Measured with `bench view` on llvmpipe (docs/benchmarks.md), where every shaded pixel and
//! every camera is CPU time on the same cores as physics: the wrist picture-in-picture is a
//! second 3D render of the scene, so it is drawn every [`super::state::PIP_EVERY`]th frame (the image stays
//! between); and egui's fragment shader evaluates the exact sRGB curve with six `pow`s per
//! fragment over every panel pixel, so a polynomial fit replaces it. A GPU keeps the defaults.

use bevy::prelude::*;
use bevy::render::RenderApp;
use bevy::render::renderer::RenderAdapterInfo;

use super::state::SoftRenderState;

/// When the software-adapter settings apply (`view --soft-render`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SoftRender {
    /// On a software render adapter only.
    #[default]
    Auto,
    /// Always, also on a GPU (to compare).
    On,
    /// Never: Bevy's defaults everywhere.
    Off,
}

impl SoftRender {
    /// Whether the settings apply on an adapter that is (`software`) or is not a CPU one.
    pub fn applies(self, software: bool) -> bool {
        match self {
            Self::Auto => software,
            Self::On => true,
            Self::Off => false,
        }
    }
}

/// Adds the software-adapter settings; [`SoftRenderState`] is known once the renderer is.
pub struct SoftwareRenderPlugin {
    /// `view --soft-render`.
    pub requested: SoftRender,
}

impl Plugin for SoftwareRenderPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, swap_egui_shader);
    }

    fn finish(&self, app: &mut App) {
        let software = app
            .get_sub_app(RenderApp)
            .and_then(|r| r.world().get_resource::<RenderAdapterInfo>())
            .is_some_and(|a| super::state::describe_adapter(a).1);
        let active = self.requested.applies(software);
        app.insert_resource(SoftRenderState { active });
    }
}

fn swap_egui_shader(
    state: Res<SoftRenderState>,
    device: Option<Res<bevy::render::renderer::RenderDevice>>,
    mut shaders: ResMut<Assets<bevy::shader::Shader>>,
) {
    // Our shader declares one texture and one sampler: bevy_egui's layout where the device has
    // no texture binding arrays (it goes bindless otherwise, as on most GPUs).
    let bindless = bevy::render::settings::WgpuFeatures::TEXTURE_BINDING_ARRAY
        | bevy::render::settings::WgpuFeatures::IMMEDIATES;
    if !state.active || device.is_none_or(|d| d.features().contains(bindless)) {
        return;
    }
    let shader = bevy::shader::Shader::from_wgsl(
        include_str!("../../shaders/egui_soft.wgsl"),
        "shaders/egui_soft.wgsl",
    );
    if shaders
        .insert(bevy_egui::render::EGUI_SHADER_HANDLE.id(), shader)
        .is_err()
    {
        warn!("could not replace egui's shader; the UI keeps its exact sRGB shader");
    }
}

#[cfg(test)]
mod tests {
    use super::SoftRender;

    #[test]
    fn auto_applies_on_software_adapters_only_and_the_others_force() {
        assert!(SoftRender::Auto.applies(true));
        assert!(!SoftRender::Auto.applies(false));
        assert!(SoftRender::On.applies(false) && SoftRender::On.applies(true));
        assert!(!SoftRender::Off.applies(false) && !SoftRender::Off.applies(true));
    }
}
