// Image observations on the GPU (src/render/gpu.rs): the same scene, camera conventions and
// light model as the software rasterizer (OpenGL fixed-function terms, as MuJoCo's renderer),
// lit per fragment. Every env of a batch is one tile of an atlas; each instance carries its
// model matrix, material and the index of its view (camera, lights, tile).

struct Light {
    at: vec4<f32>,        // xyz: direction toward the light (w = 1) or its position (w = 0)
    axis: vec4<f32>,      // xyz: spot axis; w = 1 for spot lights
    ambient: vec4<f32>,   // rgb; w: cos(cutoff)
    diffuse: vec4<f32>,   // rgb; w: spot exponent
    specular: vec4<f32>,  // rgb
    atten: vec4<f32>,     // constant, linear, quadratic
};

struct View {
    view_proj: mat4x4<f32>,
    cam_pos: vec4<f32>,   // w: number of lights
    cam_x: vec4<f32>,
    cam_y: vec4<f32>,
    cam_z: vec4<f32>,     // backward axis; depth = -dot(p - cam_pos, cam_z)
    tile: vec4<f32>,      // origin x, y and size w, h in pixels
    lens: vec4<f32>,      // focal length (px), centre x, centre y, far distance
    sky_top: vec4<f32>,
    sky_bottom: vec4<f32>,
    lights: array<Light, 8>,
};

struct Instance {
    model: mat4x4<f32>,   // scaled local -> world
    rot: mat4x4<f32>,     // local -> world rotation (normals)
    color: vec4<f32>,     // rgb; w: emission
    material: vec4<f32>,  // specular, shininess, pattern kind (0 none, 1 model texture, 2 checker, 3 noise), pattern size
    pattern: vec4<f32>,   // checker: second colour; noise: amplitude in x
    scale: vec4<f32>,     // local scale (patterns are in metres); w: texture uniform flag
    tex: vec4<f32>,       // texture repeat x, y; plane half extents x, y
    ids: vec4<u32>,       // owner (drawable + 1), view index, noise seed
};

@group(0) @binding(0) var<storage, read> views: array<View>;
@group(0) @binding(1) var<storage, read> instances: array<Instance>;
@group(0) @binding(2) var model_texture: texture_2d<f32>;
@group(0) @binding(3) var model_sampler: sampler;

struct VsOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) local: vec3<f32>,
    @location(3) @interpolate(flat) instance: u32,
};

@vertex
fn vs_main(
    @location(0) pos: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @builtin(instance_index) i: u32,
) -> VsOut {
    let inst = instances[i];
    let view = views[inst.ids.y];
    let world = inst.model * vec4<f32>(pos, 1.0);
    var out: VsOut;
    out.clip = view.view_proj * world;
    out.world = world.xyz;
    out.normal = (inst.rot * vec4<f32>(normal, 0.0)).xyz;
    out.local = pos * inst.scale.xyz;
    out.instance = i;
    return out;
}

struct FsOut {
    @location(0) color: vec4<f32>,
    @location(1) depth: f32,
    @location(2) owner: u32,
};

fn hash3(x: i32, y: i32, z: i32, seed: u32) -> f32 {
    var h = (bitcast<u32>(x) * 0x8da6b343u) ^ (bitcast<u32>(y) * 0xd8163841u)
        ^ (bitcast<u32>(z) * 0xcb1ab31fu) ^ (seed * 0x9e3779b9u);
    h = h ^ (h >> 13u);
    h = h * 0x5bd1e995u;
    h = h ^ (h >> 15u);
    return f32(h & 0x00ffffffu) / 16777215.0;
}

fn value_noise(p: vec3<f32>, seed: u32) -> f32 {
    let i = floor(p);
    let t = p - i;
    let f = t * t * (3.0 - 2.0 * t);
    let c = vec3<i32>(i);
    var acc = 0.0;
    for (var dz = 0; dz < 2; dz++) {
        for (var dy = 0; dy < 2; dy++) {
            for (var dx = 0; dx < 2; dx++) {
                let w = select(1.0 - f.x, f.x, dx == 1) * select(1.0 - f.y, f.y, dy == 1)
                    * select(1.0 - f.z, f.z, dz == 1);
                acc += w * hash3(c.x + dx, c.y + dy, c.z + dz, seed);
            }
        }
    }
    return acc;
}

fn plane_axis(c: f32, size: f32, repeat: f32, uniform: bool, flip: bool) -> f32 {
    let rep = select(1.0, repeat, repeat > 0.0);
    if size > 0.0 {
        var base = (c + size) / (2.0 * size);
        if flip {
            base = 1.0 - base;
        }
        return rep * select(1.0, size, uniform) * base;
    }
    let base = select(0.5 * c, -0.5 * c, flip);
    return rep * base - 0.5;
}

fn albedo(inst: Instance, local: vec3<f32>) -> vec3<f32> {
    let kind = u32(inst.material.z);
    if kind == 1u {
        // MuJoCo's plane mapping (see plane_uv in src/render/draw.rs).
        let uv = vec2<f32>(
            plane_axis(local.x, inst.tex.z, inst.tex.x, inst.scale.w > 0.5, false),
            plane_axis(local.y, inst.tex.w, inst.tex.y, inst.scale.w > 0.5, true),
        );
        let dims = vec2<f32>(textureDimensions(model_texture));
        let texel = vec2<i32>(fract(uv) * dims);
        return textureLoad(model_texture, texel, 0).rgb;
    }
    if kind == 2u {
        let s = 1.0 / max(inst.material.w, 1e-4);
        let cell = vec3<i32>(floor(local * s));
        if ((cell.x + cell.y + cell.z) & 1) == 0 {
            return inst.color.rgb;
        }
        return inst.pattern.rgb;
    }
    if kind == 3u {
        let s = 1.0 / max(inst.material.w, 1e-4);
        let n = value_noise(local * s, inst.ids.z);
        return inst.color.rgb * (1.0 + inst.pattern.x * (2.0 * n - 1.0));
    }
    return inst.color.rgb;
}

@fragment
fn fs_main(in: VsOut) -> FsOut {
    let inst = instances[in.instance];
    let view = views[inst.ids.y];
    let n = normalize(in.normal);
    let p = in.world;
    var diff = vec3<f32>(0.0);
    var spec = vec3<f32>(0.0);
    let count = u32(view.cam_pos.w);
    for (var l = 0u; l < count; l++) {
        let light = view.lights[l];
        var dir: vec3<f32>;
        var k = 1.0;
        if light.at.w > 0.5 {
            dir = light.at.xyz;
        } else {
            let d = light.at.xyz - p;
            let dist = max(length(d), 1e-9);
            dir = d / dist;
            k = 1.0 / max(light.atten.x + light.atten.y * dist + light.atten.z * dist * dist, 1e-9);
        }
        if light.axis.w > 0.5 {
            let c = -dot(dir, light.axis.xyz);
            if c < light.ambient.w {
                continue;
            }
            k = k * pow(max(c, 0.0), light.diffuse.w);
        }
        let ndl = max(dot(n, dir), 0.0);
        diff += k * (light.ambient.rgb + light.diffuse.rgb * ndl);
        if ndl > 0.0 && inst.material.x > 0.0 {
            let v = normalize(view.cam_pos.xyz - p);
            let h = normalize(dir + v);
            spec += k * inst.material.x * pow(max(dot(n, h), 0.0), inst.material.y) * light.specular.rgb;
        }
    }
    var out: FsOut;
    if u32(inst.material.z) == 1u {
        // OpenGL's fixed function: the lit material colour is clamped, then modulated by the
        // texture.
        let lit = clamp(inst.color.rgb * (diff + inst.color.w) + spec, vec3<f32>(0.0), vec3<f32>(1.0));
        out.color = vec4<f32>(lit * albedo(inst, in.local), 1.0);
    } else {
        let a = albedo(inst, in.local);
        out.color = vec4<f32>(clamp(a * (diff + inst.color.w) + spec, vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
    }
    out.depth = -dot(p - view.cam_pos.xyz, view.cam_z.xyz);
    out.owner = inst.ids.x;
    return out;
}

// The sky behind everything: one triangle over the tile, the gradient by ray elevation.
struct SkyOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) @interpolate(flat) view: u32,
};

@vertex
fn vs_sky(@builtin(vertex_index) v: u32, @builtin(instance_index) i: u32) -> SkyOut {
    let xy = vec2<f32>(f32((v << 1u) & 2u), f32(v & 2u)) * 2.0 - 1.0;
    var out: SkyOut;
    out.clip = vec4<f32>(xy, 1.0, 1.0);
    out.view = i;
    return out;
}

@fragment
fn fs_sky(in: SkyOut) -> FsOut {
    let view = views[in.view];
    let px = in.clip.xy - view.tile.xy;
    let f = view.lens.x;
    let ray = (px.x - view.lens.y) / f * view.cam_x.xyz - (px.y - view.lens.z) / f * view.cam_y.xyz
        - view.cam_z.xyz;
    let t = 0.5 * (normalize(ray).z + 1.0);
    var out: FsOut;
    out.color = vec4<f32>(mix(view.sky_bottom.rgb, view.sky_top.rgb, t), 1.0);
    out.depth = view.lens.w;
    out.owner = 0u;
    return out;
}
