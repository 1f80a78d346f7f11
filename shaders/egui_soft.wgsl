// The egui pass for software adapters (llvmpipe/lavapipe). Same inputs and bindings as
// bevy_egui's pipeline (its non-bindless layout), so it drops in for its shader. egui multiplies
// colours in gamma space and the target is linear, which costs six `pow`s per fragment; llvmpipe
// evaluates each as an exp2/log2 series over every panel pixel. Here the vertex stage converts
// the vertex colour once, exactly, and a fragment whose texel is white (text and every solid
// fill: the font atlas) uses it as is, so the panels come out as with the exact shader. Only
// other textures (the picture-in-picture) take polynomial fits of the sRGB curves, within about
// 2/255 of them.

struct Transform {
    scale: vec2<f32>,
    translation: vec2<f32>,
}

struct VertexInput {
    @location(0) position: vec2<f32>,
    @location(1) uv: vec2<f32>,
    @location(2) color: vec4<f32>,
}

struct VertexOutput {
    @builtin(position) position: vec4<f32>,
    @location(0) color: vec4<f32>,
    @location(1) uv: vec2<f32>,
    @location(2) linear_rgb: vec3<f32>,
}

@group(0) @binding(0) var<uniform> transform: Transform;
@group(1) @binding(0) var image_texture: texture_2d<f32>;
@group(1) @binding(1) var image_sampler: sampler;

// sRGB-encoded -> linear, exact (vertex stage: once per vertex).
fn to_linear_exact(c: vec3<f32>) -> vec3<f32> {
    let low = c / 12.92;
    let high = pow((c + vec3<f32>(0.055)) / 1.055, vec3<f32>(2.4));
    return select(high, low, c <= vec3<f32>(0.04045));
}

// sRGB-encoded -> linear: the straight segment, then a quartic least-squares fit above it.
fn to_linear(c: vec3<f32>) -> vec3<f32> {
    let fit = (((c * -0.0840225 + 0.4615502) * c + 0.6013910) * c + 0.0193726) * c + 0.0015659;
    return select(max(fit, vec3<f32>(0.0)), c / 12.92, c <= vec3<f32>(0.04045));
}

// linear -> sRGB-encoded: a mix of square roots (x^1/2, x^1/4, x^1/8) fitted to the curve.
fn to_srgb(x: vec3<f32>) -> vec3<f32> {
    let r1 = sqrt(x);
    let r2 = sqrt(r1);
    let r3 = sqrt(r2);
    return max(0.662003 * r1 + 0.684122 * r2 - 0.323584 * r3 - 0.022541 * x, vec3<f32>(0.0));
}

@vertex
fn vs_main(in: VertexInput) -> VertexOutput {
    let position = in.position * transform.scale + transform.translation;
    return VertexOutput(
        vec4<f32>(position, 0.0, 1.0),
        in.color,
        in.uv,
        to_linear_exact(in.color.rgb),
    );
}

@fragment
fn fs_main(in: VertexOutput) -> @location(0) vec4<f32> {
    let tex = textureSample(image_texture, image_sampler, in.uv);
    let gamma = to_srgb(tex.rgb) * in.color.rgb;
    let white = all(tex.rgb >= vec3<f32>(1.0));
    let rgb = select(to_linear(gamma), in.linear_rgb, white);
    return vec4<f32>(rgb, tex.a * in.color.a);
}
