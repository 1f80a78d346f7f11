//! Custom materials with our WGSL shaders (`shaders/`): the x-ray look for seeing jaw-cube
//! clipping through surfaces, and the ground grid. Shaders are compiled into the binary.

use bevy::asset::{load_internal_asset, uuid_handle};
use bevy::pbr::{Material, MaterialPlugin};
use bevy::prelude::*;
use bevy::render::render_resource::AsBindGroup;
use bevy::shader::ShaderRef;

const XRAY_SHADER: Handle<Shader> = uuid_handle!("0b6f6c52-4f7e-4a3c-9a55-2f1c0d7e9b11");
const GRID_SHADER: Handle<Shader> = uuid_handle!("5d2e8a41-8c3b-47f0-b6a9-7e4d1c2f3a22");

/// Parameters of the x-ray shader.
#[derive(Clone, Copy, Debug, bevy::render::render_resource::ShaderType)]
pub struct XrayUniform {
    /// Tint.
    pub color: LinearRgba,
    /// x: base opacity, y: rim opacity, z: rim sharpness.
    pub params: Vec4,
}

/// See-through material: faint fill, bright rim.
#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct XrayMaterial {
    /// Shader parameters.
    #[uniform(0)]
    pub uniform: XrayUniform,
}

impl XrayMaterial {
    /// An x-ray look in `color`.
    pub fn tinted(color: Color) -> Self {
        Self {
            uniform: XrayUniform {
                color: color.to_linear(),
                params: Vec4::new(0.12, 0.85, 2.5, 0.0),
            },
        }
    }
}

impl Material for XrayMaterial {
    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(XRAY_SHADER)
    }

    fn alpha_mode(&self) -> AlphaMode {
        AlphaMode::Blend
    }
}

/// Parameters of the grid shader.
#[derive(Clone, Copy, Debug, bevy::render::render_resource::ShaderType)]
pub struct GridUniform {
    /// Floor colour.
    pub base: LinearRgba,
    /// Minor line colour (alpha = strength).
    pub minor: LinearRgba,
    /// Major line colour (alpha = strength).
    pub major: LinearRgba,
    /// x: minor spacing, y: major spacing, z: fade distance (metres).
    pub params: Vec4,
}

/// The ground grid.
#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct GridMaterial {
    /// Shader parameters.
    #[uniform(0)]
    pub uniform: GridUniform,
}

impl Default for GridMaterial {
    fn default() -> Self {
        Self {
            uniform: GridUniform {
                base: Color::srgb(0.16, 0.17, 0.19).to_linear(),
                minor: Color::srgba(0.3, 0.32, 0.36, 0.6).to_linear(),
                major: Color::srgba(0.5, 0.52, 0.58, 0.9).to_linear(),
                params: Vec4::new(0.01, 0.1, 3.0, 0.0),
            },
        }
    }
}

impl Material for GridMaterial {
    fn fragment_shader() -> ShaderRef {
        ShaderRef::Handle(GRID_SHADER)
    }
}

/// Registers both materials and their shaders.
pub struct MaterialsPlugin;

impl Plugin for MaterialsPlugin {
    fn build(&self, app: &mut App) {
        load_internal_asset!(
            app,
            XRAY_SHADER,
            "../../shaders/xray.wgsl",
            Shader::from_wgsl
        );
        load_internal_asset!(
            app,
            GRID_SHADER,
            "../../shaders/grid.wgsl",
            Shader::from_wgsl
        );
        app.add_plugins((
            MaterialPlugin::<XrayMaterial>::default(),
            MaterialPlugin::<GridMaterial>::default(),
        ));
    }
}
