//! `so101-lab train` and `so101-lab eval`.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use super::{EvalArgs, TrainArgs};
use crate::rl::SacConfig;
use crate::rl::eval::evaluate;
use crate::rl::policy::Policy;
use crate::task::{RewardConfig, TaskConfig, TaskEnv};

/// The bundled lift policy, relative to the data root (`crate::paths`).
pub const BUNDLED_POLICY: &str = "assets/policies/lift_sac.safetensors";

/// Trains SAC with a progress bar; prints the final evaluation.
pub fn train(args: &TrainArgs) -> anyhow::Result<()> {
    let mut cfg = SacConfig::load(&args.config)?;
    if let Some(steps) = args.total_timesteps {
        cfg.total_timesteps = steps;
    }
    if let Some(device) = &args.device {
        cfg.device = device.clone();
        cfg.validate()
            .map_err(|e| anyhow::anyhow!("--device: {e}"))?;
    }
    let scene = args.scene.build()?;
    let task = TaskConfig::load(&SacConfig::resolve(&cfg.task))
        .with_context(|| format!("{}: field `task`", args.config.display()))?;
    let reward = crate::task::load_reward_for(&task, &SacConfig::resolve(&cfg.reward))
        .with_context(|| format!("{}: field `reward`", args.config.display()))?;
    let out = match (&args.resume, &args.out) {
        (Some(dir), _) => dir.clone(),
        (None, Some(out)) => out.clone(),
        (None, None) => super::default_run_dir(&args.config, "runs", ""),
    };
    let checkpoint = out.join("checkpoint.safetensors");
    let resume = match &args.resume {
        Some(dir) if !checkpoint.is_file() => {
            anyhow::bail!(
                "--resume {}: no checkpoint.safetensors there",
                dir.display()
            )
        }
        Some(_) => Some(checkpoint),
        None if checkpoint.exists() || out.join("policy_final.safetensors").exists() => {
            anyhow::bail!(
                "{} already holds a run; continue it with --resume {} or choose another --out",
                out.display(),
                out.display()
            )
        }
        None => None,
    };
    eprintln!("training {} -> {}", args.config.display(), out.display());
    let bar = ProgressBar::new(cfg.total_timesteps as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {per_sec}  ETA {eta}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let report =
        crate::rl::train::train(&cfg, &scene, &task, &reward, &out, resume.as_deref(), |p| {
            bar.set_position(p.step as u64);
            bar.set_message(format!(
                "return {:.1}  success {:.0}%  alpha {:.3}  qf_loss {:.3}{}",
                p.recent_return,
                100.0 * p.recent_success,
                p.alpha,
                p.qf_loss,
                p.eval_success
                    .map_or(String::new(), |e| format!("  eval {:.0}%", 100.0 * e))
            ));
        })?;
    bar.finish();
    if let Some(r) = report {
        let label = format!("last evaluation (seeds {}..)", cfg.eval_first_seed);
        print_report(&label, false, &r)?;
    }
    println!("policies and checkpoint in {}", out.display());
    Ok(())
}

fn is_torchscript(path: &std::path::Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("pt" | "ts" | "torchscript")
    )
}

/// Evaluates a policy file (ours, or a TorchScript actor: `.pt`/`.ts`) deterministically.
pub fn eval(args: &EvalArgs) -> anyhow::Result<()> {
    if is_torchscript(&args.policy) {
        return eval_torchscript(args);
    }
    let (_, meta) = crate::rl::policy::read_policy_file(&args.policy)?;
    if meta.image.is_some() {
        return eval_pixel(args);
    }
    eval_native(args)
}

/// The scene, task and reward to evaluate a policy on: its recorded ones unless the command
/// line names others; `--dr` adds domain randomisation.
fn eval_env(args: &EvalArgs, recorded: &crate::episode::ConfigIdentity) -> anyhow::Result<TaskEnv> {
    let scene_cfg = match &args.scene.scene {
        Some(_) => args.scene.load()?,
        None => {
            toml::from_str(&recorded.scene_toml).context("the policy's recorded scene config")?
        }
    };
    let scene = crate::scene::build(&scene_cfg).context("building the scene")?;
    let (mut task, reward): (TaskConfig, RewardConfig) = match (&args.task.task, &args.task.reward)
    {
        (None, None) => (
            toml::from_str(&recorded.task_toml).context("the policy's recorded task config")?,
            toml::from_str(&recorded.reward_toml).context("the policy's recorded reward config")?,
        ),
        _ => args.task.load()?,
    };
    args.task.apply_dr(&mut task)?;
    task.check_scene(&scene.model)
        .map_err(|e| anyhow::anyhow!("task config: {e}"))?;
    Ok(TaskEnv::try_new(scene, task, reward)?)
}

/// Evaluates a pixel policy: it sees the env's image tensor and state.
fn eval_pixel(args: &EvalArgs) -> anyhow::Result<()> {
    let policy = crate::rl::pixel::PixelPolicy::load(&args.policy)?;
    let mut env = eval_env(args, &policy.meta.config)?;
    policy.check_privileged(env.task(), &args.policy)?;
    policy.check_layout(&env.observation_space().names, &args.policy)?;
    if env.image_spec() != policy.meta.image {
        anyhow::bail!(
            "policy {} expects images {:?} but the task renders {:?}",
            args.policy.display(),
            policy.meta.image,
            env.image_spec()
        );
    }
    let name = format!("policy:{}", args.policy.display());
    evaluate_and_report(args, &mut env, &name, |o, pixels| {
        let out = policy.act(o, pixels.unwrap_or(&[]));
        let action = std::array::from_fn(|i| out.action.get(i).copied().unwrap_or(0.0));
        (action, None)
    })
}

fn eval_torchscript(args: &EvalArgs) -> anyhow::Result<()> {
    let scene = args.scene.build()?;
    let (task, reward) = args.task.load_for(&scene)?;
    let mut env = TaskEnv::try_new(scene, task, reward)?;
    let actor = crate::rl::torchscript::TorchScriptActor::load(
        &args.policy,
        env.observation_space().dim(),
    )?;
    let name = format!("torchscript:{}", args.policy.display());
    let mut failure = None;
    evaluate_and_report(args, &mut env, &name, |o, _| {
        let a = actor.act(o).unwrap_or_else(|e| {
            failure.get_or_insert(e);
            [0.0; 4]
        });
        (a, None)
    })?;
    failure.map_or(Ok(()), |e| Err(e.into()))
}

/// Runs the episodes `args` asks for with `act` and prints the report.
fn evaluate_and_report<F>(
    args: &EvalArgs,
    env: &mut TaskEnv,
    name: &str,
    act: F,
) -> anyhow::Result<()>
where
    F: FnMut(&[f64], Option<&[u8]>) -> ([f64; 4], Option<crate::episode::PolicyOutputs>),
{
    let record = match (&args.record, &args.report) {
        (Some(dir), _) => Some(dir.clone()),
        (None, Some(page)) => Some(page.with_extension("episodes")),
        (None, None) => None,
    };
    if let Some(page) = &args.report {
        anyhow::ensure!(
            !page.exists(),
            "{} already exists; not overwriting it",
            page.display()
        );
    }
    let report = evaluate(
        env,
        args.episodes,
        args.first_seed,
        record.as_deref(),
        name,
        act,
    )?;
    print_report(&args.policy.display().to_string(), args.json, &report)?;
    if let (Some(page), Some(dir)) = (&args.report, &record) {
        let mut t = crate::episode::triage::scan(dir)?;
        t.sort(crate::episode::triage::SortKey::Seed, false);
        let title = format!("eval of {} ({})", args.policy.display(), dir.display());
        super::triage::write_report(&t, &title, page)?;
    }
    Ok(())
}

/// An evaluation as JSON, or as three lines headed by `label` (the policy).
fn print_report(
    label: &str,
    json: bool,
    report: &crate::rl::eval::EvalReport,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        println!(
            "{label}: success {}/{} = {:.1}% (95% CI {:.1}-{:.1}%), mean return {:.2}, mean length {:.1}",
            report.successes,
            report.episodes,
            100.0 * report.success_rate,
            100.0 * report.success_ci95[0],
            100.0 * report.success_ci95[1],
            report.mean_return,
            report.mean_length
        );
        let place = report
            .per_episode
            .iter()
            .any(|r| r.failure.is_some_and(crate::task::FailureKind::place_only));
        if place {
            let kinds: Vec<String> = report
                .failure_counts()
                .iter()
                .map(|(k, n)| format!("{} {n}", k.label()))
                .collect();
            println!("failures: {}", kinds.join(", "));
        } else {
            println!(
                "failures: never touched {}, one-pad contact {}, dropped {}, timeout {}",
                report.never_touched, report.one_pad_contact, report.dropped, report.timeout
            );
        }
        let g = &report.grasp;
        println!(
            "grasp quality ({} episodes held the cube): pads only {:.0}% of held steps, \
             sliding {:.0}%, deepest jaw-box penetration {:.2} mm (mean {:.2} mm)",
            g.episodes_held,
            100.0 * g.mean_pads_only_fraction,
            100.0 * g.mean_sliding_fraction,
            1e3 * g.max_box_penetration_m,
            1e3 * g.mean_max_box_penetration_m
        );
    }
    Ok(())
}

/// Writes a policy file as a TorchScript actor.
pub fn export_torchscript(policy: &std::path::Path, out: &std::path::Path) -> anyhow::Result<()> {
    let p = Policy::load(policy)?;
    p.export_torchscript(out)
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "wrote {} (input: raw observation [B, {}], output: action [B, 4])",
        out.display(),
        p.meta.obs_names.len()
    );
    Ok(())
}

/// Evaluates one of our policy files.
fn eval_native(args: &EvalArgs) -> anyhow::Result<()> {
    let mut policy = Policy::load(&args.policy)?;
    // Unless told otherwise, evaluate on exactly the scene, task and reward it was trained on.
    let mut env = eval_env(args, &policy.meta.config)?;
    policy.check_privileged(env.task(), &args.policy)?;
    policy.check_layout(&env.observation_space().names, &args.policy)?;
    let name = format!("policy:{}", args.policy.display());
    evaluate_and_report(args, &mut env, &name, |o, _| {
        let out = policy.act(o);
        let action = std::array::from_fn(|i| out.action.get(i).copied().unwrap_or(0.0));
        let outputs = crate::episode::PolicyOutputs {
            mean: out.mean,
            std: out.std,
            ..Default::default()
        };
        (action, Some(outputs))
    })
}

/// The image half of `policy info`: the encoder and the image planes, if the policy sees.
fn print_image_inputs(m: &crate::rl::policy::PolicyMeta) {
    if let Some(enc) = &m.encoder {
        println!(
            "image encoder: conv channels {:?}, strides {:?}, kernel {}, {} features; head {}",
            enc.channels,
            enc.strides,
            enc.kernel,
            enc.features,
            if m.deterministic_head {
                "outputs the action (distilled)"
            } else {
                "outputs mean and log-std (SAC)"
            }
        );
    }
    match &m.image {
        Some(img) => {
            println!(
                "image input: {} plane(s) of {}x{} (cameras {}, channels {:?}, stack {}{})",
                img.planes.len(),
                img.width,
                img.height,
                img.cameras.join(", "),
                img.channels,
                img.frame_stack,
                if img.real_capture {
                    ", real-capture preprocessing"
                } else {
                    ""
                }
            );
            for (i, p) in img.planes.iter().enumerate() {
                println!("  plane {i:>2} {p}");
            }
        }
        None => println!("image input: none"),
    }
}

/// `so101-lab policy info`: what a policy file reads and writes, and how it was trained.
pub fn policy_info(path: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let (_, meta) = crate::rl::policy::read_policy_file(path)?;
    let m = &meta;
    if json {
        let privileged: Vec<bool> = m
            .obs_names
            .iter()
            .map(|n| crate::task::obs::is_privileged_name(n))
            .collect();
        let doc = serde_json::json!({
            "file": path.display().to_string(),
            "format": m.format,
            "version": m.version,
            "trained_steps": m.trained_steps,
            "training": m.training,
            "net_arch": m.net_arch,
            "normalize_obs": m.normalize_obs,
            "inputs": m.obs_names,
            "privileged": privileged,
            "image": m.image,
            "encoder": m.encoder,
            "outputs": m.action_names,
            "config": m.config,
            "notes": m.notes,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    println!("{}: {} v{}", path.display(), m.format, m.version);
    match &m.training {
        Some(t) => println!(
            "trained by {} (seed {}, {} scripted demonstrations{}), {} env steps; its config:\n{}",
            t.method,
            t.seed,
            t.demos,
            if t.demos == 0 {
                ": from reward alone"
            } else {
                ""
            },
            t.env_steps,
            t.config_toml
                .lines()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
        None => println!("training record: not in this file (written before it was recorded)"),
    }
    println!(
        "trained {} env steps; network {:?}; observation normalisation {}",
        m.trained_steps,
        m.net_arch,
        if m.normalize_obs { "on" } else { "off" }
    );
    let task: Option<crate::task::TaskConfig> = toml::from_str(&m.config.task_toml).ok();
    let privileged: Vec<&String> = m
        .obs_names
        .iter()
        .filter(|n| crate::task::obs::is_privileged_name(n))
        .collect();
    println!(
        "inputs: {} state values{}",
        m.obs_names.len(),
        if privileged.is_empty() {
            " (none privileged: real-robot compatible)".to_owned()
        } else {
            format!(
                " ({} privileged, simulator only: {})",
                privileged.len(),
                privileged
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    for (i, name) in m.obs_names.iter().enumerate() {
        let mark = if crate::task::obs::is_privileged_name(name) {
            "  [privileged]"
        } else {
            ""
        };
        let norm = match (m.obs_mean.get(i), m.obs_var.get(i)) {
            (Some(mu), Some(var)) if m.normalize_obs => {
                format!("  mean {mu:+.4} std {:.4}", var.sqrt())
            }
            _ => String::new(),
        };
        println!("  {i:>3} {name}{norm}{mark}");
    }
    print_image_inputs(m);
    println!("outputs: {}", m.action_names.join(", "));
    if let Some(task) = task {
        println!(
            "task: reset {:?}, {} steps, success after {} held steps above {} m{}",
            task.reset_mode,
            task.max_episode_steps,
            task.success_hold_steps,
            task.lift_height_m,
            if task.dr.is_some() {
                ", domain randomised"
            } else {
                ""
            }
        );
    }
    println!("config identity: {}", m.config.hash);
    if !m.notes.is_empty() {
        println!("notes: {}", m.notes);
    }
    Ok(())
}
