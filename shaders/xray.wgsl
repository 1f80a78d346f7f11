// X-ray material: the surface is mostly transparent and brightest where it is seen edge-on
// (a Fresnel-like rim), so a jaw pushed into the cube shows as an outline inside the cube
// instead of disappearing behind its face.
#import bevy_pbr::forward_io::VertexOutput
#import bevy_pbr::mesh_view_bindings::view

struct XrayUniform {
    color: vec4<f32>,
    // x: base opacity, y: rim opacity, z: rim sharpness
    params: vec4<f32>,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> xray: XrayUniform;

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    let n = normalize(in.world_normal);
    let to_eye = normalize(view.world_position - in.world_position.xyz);
    // Back faces are drawn too; |n.v| makes both sides rim the same way.
    let facing = abs(dot(n, to_eye));
    let rim = pow(1.0 - facing, xray.params.z);
    let alpha = clamp(xray.params.x + xray.params.y * rim, 0.0, 1.0);
    let rgb = mix(xray.color.rgb, vec3<f32>(1.0), 0.35 * rim);
    return vec4<f32>(rgb, alpha);
}
