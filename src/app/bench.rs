//! `so101-lab bench view`: the app's frame time at a given window size with physics and the
//! policy running, overlays on; reported as mean / p50 / p95 / max milliseconds and fps, with the
//! render adapter and the mesh detail drawn (`--meshes`), so runs side by side compare.

use std::time::Instant;

use bevy::prelude::*;

use super::ViewArgs;

#[derive(Resource, Debug, Clone)]
struct Shared(std::sync::Arc<std::sync::Mutex<FrameTimes>>);

#[derive(Debug, Default)]
struct FrameTimes {
    warmup: u32,
    frames: u32,
    seen: u32,
    last: Option<Instant>,
    samples_ms: Vec<f64>,
    /// The adapter: name (device type, backend), and whether it renders in software.
    adapter: Option<(String, bool)>,
    /// Mesh detail while measuring, and the mesh triangles it draws per view.
    meshes: Option<(String, usize)>,
    /// (when measuring started, env steps then), and the env step period.
    steps_start: Option<(Instant, u64)>,
    steps_rtf: f64,
    /// Render pass times (`--passes`), read once the last frame is measured.
    passes: Vec<PassTime>,
}

/// One render pass's time per frame, averaged over Bevy's diagnostic history (its last 20
/// frames). On llvmpipe the GPU times miss most of the work: it rasterises a pass after the
/// timestamp that ends it is written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PassTime {
    /// Bevy's diagnostic path, e.g. `render/main_opaque_pass_3d/elapsed_gpu`.
    pub path: String,
    /// Mean milliseconds per frame.
    pub ms: f64,
}

/// `bench view`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct ViewBenchArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Frames measured (after the warm-up).
    #[arg(long, default_value_t = 200)]
    pub frames: u32,
    /// Frames skipped before measuring.
    #[arg(long, default_value_t = 30)]
    pub warmup: u32,
    /// Window size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x720")]
    pub size: String,
    /// Meshes drawn, as `view --meshes`: full, lod (the observation renderer's decimated
    /// ones) or auto (lod on a software render adapter).
    #[arg(long, value_enum, default_value = "auto")]
    pub meshes: super::state::MeshDetail,
    /// Also time each render pass (GPU timestamps where the adapter has them, else the CPU
    /// time spent encoding it), to see where a frame goes.
    #[arg(long)]
    pub passes: bool,
    /// More `view` arguments after `--`, to split the frame time (e.g. `-- --no-ui`,
    /// `-- --pip none`).
    #[arg(last = true, value_name = "VIEW_ARGS")]
    pub view_args: Vec<String>,
}

/// Result of a view benchmark.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ViewBench {
    /// Window size.
    pub size: String,
    /// Frames measured.
    pub frames: usize,
    /// Mean frame time, ms.
    pub mean_ms: f64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// Slowest frame, ms.
    pub max_ms: f64,
    /// 1000 / mean.
    pub fps: f64,
    /// Simulated seconds per real second over the measured frames.
    pub real_time_factor: f64,
    /// The wgpu adapter that rendered: name (device type, backend).
    pub adapter: String,
    /// The adapter renders in software (llvmpipe, lavapipe, ...).
    pub software_adapter: bool,
    /// The meshes drawn (`--meshes`), and why.
    pub meshes: String,
    /// Triangles of the MuJoCo mesh geoms per view at that detail.
    pub mesh_triangles: usize,
    /// The `view` arguments added after `--`.
    pub view_args: Vec<String>,
    /// Render pass times, slowest first (`--passes`; empty without it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passes: Vec<PassTime>,
}

#[allow(clippy::too_many_arguments, reason = "one Bevy system's resources")]
fn measure(
    shared: Res<Shared>,
    mut exit: MessageWriter<AppExit>,
    clock: Res<super::state::SimClock>,
    fixed: Res<Time<Fixed>>,
    adapter: Option<Res<bevy::render::renderer::RenderAdapterInfo>>,
    detail: Option<Res<super::state::MeshDetailSettings>>,
    loaded: Option<Res<super::state::LoadedScene>>,
    diagnostics: Option<Res<bevy::diagnostic::DiagnosticsStore>>,
) {
    let Ok(mut times) = shared.0.lock() else {
        return;
    };
    if times.adapter.is_none() {
        times.adapter = adapter.map(|a| super::state::describe_adapter(&a));
    }
    if let (Some(d), Some(l)) = (&detail, &loaded)
        && (times.meshes.is_none() || d.is_changed() || l.is_changed())
    {
        times.meshes = Some((d.describe(), l.mesh_triangles(d.lod())));
    }
    let now = Instant::now();
    times.seen += 1;
    if times.seen > times.warmup
        && let Some(last) = times.last
    {
        times
            .samples_ms
            .push(now.duration_since(last).as_secs_f64() * 1e3);
        let (start, steps0) = *times.steps_start.get_or_insert((now, clock.steps));
        let elapsed = now.duration_since(start).as_secs_f64();
        if elapsed > 0.0 {
            // Simulated time from env steps taken: immune to resets jumping the sim clock back.
            times.steps_rtf =
                (clock.steps - steps0) as f64 * fixed.timestep().as_secs_f64() / elapsed;
        }
    }
    times.last = Some(now);
    if times.samples_ms.len() >= times.frames as usize {
        if let Some(d) = diagnostics {
            times.passes = d
                .iter()
                .filter(|d| {
                    let p = d.path().as_str();
                    p.starts_with("render/") && p.contains("/elapsed_")
                })
                .filter_map(|d| {
                    Some(PassTime {
                        path: d.path().as_str().to_owned(),
                        ms: d.average()?,
                    })
                })
                .collect();
            times.passes.sort_by(|a, b| b.ms.total_cmp(&a.ms));
        }
        exit.write(AppExit::Success);
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Runs the benchmark with `meshes` (the `view --meshes` setting) and any more `view` arguments,
/// and prints the result.
pub fn run(opts: &ViewBenchArgs) -> anyhow::Result<()> {
    let ViewBenchArgs {
        json,
        frames,
        warmup,
        ref size,
        meshes,
        passes,
        ref view_args,
    } = *opts;
    use clap::Parser;
    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        view: ViewArgs,
    }
    let argv = ["view", "--size", size.as_str()]
        .into_iter()
        .map(str::to_owned)
        .chain(view_args.iter().cloned());
    let mut args = Wrapper::try_parse_from(argv)?.view;
    args.meshes = meshes;
    let mut app = super::build_app(&args)?;
    if passes {
        app.add_plugins(bevy::render::diagnostic::RenderDiagnosticsPlugin);
    }
    let shared = Shared(std::sync::Arc::new(std::sync::Mutex::new(FrameTimes {
        warmup,
        frames: frames.max(1),
        ..FrameTimes::default()
    })));
    app.insert_resource(shared.clone())
        .add_systems(Last, measure);
    app.run();
    let times = shared
        .0
        .lock()
        .map_err(|_| anyhow::anyhow!("the benchmark panicked"))?;
    if times.samples_ms.is_empty() {
        anyhow::bail!("the app closed before measuring");
    }
    let (adapter, software_adapter) = times
        .adapter
        .clone()
        .unwrap_or_else(|| ("unknown".to_owned(), false));
    let (meshes, mesh_triangles) = times
        .meshes
        .clone()
        .unwrap_or_else(|| ("unknown".to_owned(), 0));
    let mut s = times.samples_ms.clone();
    s.sort_by(f64::total_cmp);
    let mean = s.iter().sum::<f64>() / s.len().max(1) as f64;
    let r = ViewBench {
        size: size.clone(),
        frames: s.len(),
        mean_ms: mean,
        p50_ms: percentile(&s, 0.5),
        p95_ms: percentile(&s, 0.95),
        max_ms: s.last().copied().unwrap_or(0.0),
        fps: if mean > 0.0 { 1e3 / mean } else { 0.0 },
        real_time_factor: times.steps_rtf,
        adapter,
        software_adapter,
        meshes,
        mesh_triangles,
        view_args: view_args.to_vec(),
        passes: times.passes.clone(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "view {}: {:.1} ms/frame mean ({:.1} fps), p50 {:.1}, p95 {:.1}, max {:.1} ms; real-time factor {:.2}; adapter {}{}; meshes {} ({} mesh triangles)",
            r.size,
            r.mean_ms,
            r.fps,
            r.p50_ms,
            r.p95_ms,
            r.max_ms,
            r.real_time_factor,
            r.adapter,
            if r.software_adapter {
                " [software]"
            } else {
                ""
            },
            r.meshes,
            r.mesh_triangles
        );
        for p in &r.passes {
            println!("  {:>8.2} ms  {}", p.ms, p.path);
        }
    }
    Ok(())
}
