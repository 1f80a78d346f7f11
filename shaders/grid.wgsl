// Ground grid: 1 cm minor and 10 cm major lines on the MuJoCo floor plane (world XZ in Bevy),
// anti-aliased with screen-space derivatives and faded with distance to avoid moire.
#import bevy_pbr::forward_io::VertexOutput
#import bevy_pbr::mesh_view_bindings::view

struct GridUniform {
    base: vec4<f32>,
    minor: vec4<f32>,
    major: vec4<f32>,
    // x: minor spacing (m), y: major spacing (m), z: fade distance (m)
    params: vec4<f32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> grid: GridUniform;

fn line_coverage(p: vec2<f32>, spacing: f32) -> f32 {
    let coord = p / spacing;
    let width = fwidth(coord);
    let dist = abs(fract(coord - 0.5) - 0.5) / max(width, vec2<f32>(1e-6));
    return 1.0 - min(min(dist.x, dist.y), 1.0);
}

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let p = in.world_position.xz;
    let fade = clamp(1.0 - length(in.world_position.xyz - view.world_position) / grid.params.z, 0.0, 1.0);
    let minor = line_coverage(p, grid.params.x) * fade;
    let major = line_coverage(p, grid.params.y) * sqrt(fade);
    var rgb = mix(grid.base.rgb, grid.minor.rgb, minor * grid.minor.a);
    rgb = mix(rgb, grid.major.rgb, major * grid.major.a);
    // The world axes: x red, MuJoCo y (Bevy -z) green.
    let axis_w = fwidth(p) * 1.5;
    if abs(p.y) < axis_w.y { rgb = vec3<f32>(0.8, 0.2, 0.2); }
    if abs(p.x) < axis_w.x { rgb = vec3<f32>(0.2, 0.7, 0.2); }
    return vec4<f32>(rgb, 1.0);
}
