//! The distillation run: environments, the DAgger iterations, evaluation on held-out seeds,
//! metrics (CSV and TensorBoard), policy files and atomic checkpoints (the student, its
//! optimiser, the random streams and the whole dataset), and `--resume` in the same folder.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::{DistillConfig, PolicyTeacher, RolloutStats, Student, collect};
use crate::episode::ConfigIdentity;
use crate::rl::eval::{EvalReport, evaluate};
use crate::rl::metrics::MetricsWriter;
use crate::rl::normalize::RunningStats;
use crate::rl::pixel::{ImageShape, PixelPolicy, RandomShift};
use crate::rl::policy::{Policy, PolicyMeta};
use crate::rl::tensors::{self, TensorFile};
use crate::scene::BuiltScene;
use crate::task::{DrConfig, RewardConfig, TaskConfig, TaskEnv, VecEnv};

/// Where a run stands, for progress bars.
#[derive(Debug, Clone)]
pub struct DistillProgress {
    /// Iteration (0-based).
    pub iteration: usize,
    /// `collect`, `train` or `eval`.
    pub phase: &'static str,
    /// Work done (env steps plus updates) over the whole run.
    pub done: usize,
    /// Total work.
    pub total: usize,
    /// Latest minibatch loss.
    pub loss: f64,
    /// Latest evaluation success rate.
    pub eval_success: Option<f64>,
    /// Samples in the dataset.
    pub data: usize,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct DistillReport {
    /// Iterations done.
    pub iterations: usize,
    /// Env steps collected.
    pub env_steps: usize,
    /// Gradient steps.
    pub updates: usize,
    /// Wall time of this invocation, seconds.
    pub wall_secs: f64,
    /// The last evaluation.
    pub last_eval: Option<EvalReport>,
    /// The best evaluation success rate.
    pub best_success: f64,
    /// The final policy file.
    pub policy: PathBuf,
}

/// Checkpoint metadata (the tensors hold the weights and the optimiser moments).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointMeta {
    iterations_done: usize,
    env_steps: usize,
    updates: usize,
    adam_t: i64,
    norm: RunningStats,
    shift: RandomShift,
    sample_rng: rand_chacha::ChaCha8Rng,
    mix_rng: rand_chacha::ChaCha8Rng,
    best_success: f64,
    data_added: usize,
    config_toml: String,
}

/// Everything a run needs, resolved from the config.
struct Setup {
    task: TaskConfig,
    reward: RewardConfig,
    teacher: PolicyTeacher,
    image: ImageShape,
    state_dim: usize,
}

fn setup(cfg: &DistillConfig, teacher: &Path, scene: &BuiltScene) -> anyhow::Result<Setup> {
    let task_path = DistillConfig::resolve(&cfg.task);
    let mut task = TaskConfig::load(&task_path)?;
    if let Some(dr) = &cfg.dr {
        task.dr = Some(DrConfig::load(&DistillConfig::resolve(dr))?);
    }
    crate::task::check_task_scene(&task, scene, &task_path)?;
    let Some(image) = &task.obs.image else {
        bail!(
            "{}: the student's task needs [obs.image]",
            task_path.display()
        );
    };
    let space = crate::task::obs::observation_space(&task.obs);
    if !space.privileged_names().is_empty() {
        bail!(
            "{}: the student must not read privileged state (set [obs.image] privileged_state = false)",
            task_path.display()
        );
    }
    let reward = RewardConfig::load(&DistillConfig::resolve(&cfg.reward))?;
    let policy = Policy::load(teacher)?;
    let teacher_task: TaskConfig = toml::from_str(&policy.meta.config.task_toml)
        .context("the teacher's recorded task config")?;
    let teacher_space = crate::task::obs::observation_space(&teacher_task.obs);
    policy.check_layout(&teacher_space.names, teacher)?;
    Ok(Setup {
        image: ImageShape::of(&image.spec()),
        state_dim: space.dim(),
        teacher: PolicyTeacher {
            policy,
            obs: teacher_task.obs,
        },
        task,
        reward,
    })
}

fn student_meta(
    cfg: &DistillConfig,
    s: &Setup,
    scene: &BuiltScene,
    student: &Student,
    steps: usize,
    notes: String,
) -> PolicyMeta {
    let space = crate::task::obs::observation_space(&s.task.obs);
    PolicyMeta {
        image: s.task.obs.image.as_ref().map(|i| i.spec()),
        encoder: Some(cfg.encoder.clone()),
        deterministic_head: true,
        training: Some(crate::rl::policy::TrainingRecord::of(
            "distill", cfg, cfg.seed, 0, steps,
        )),
        ..PolicyMeta::for_actor(
            &space.names,
            &cfg.head,
            &student.norm,
            ConfigIdentity::of(&scene.config, &s.task, &s.reward),
            steps,
            notes,
        )
    }
}

fn save_checkpoint(dir: &Path, student: &Student, meta: &CheckpointMeta) -> std::io::Result<()> {
    let mut named = student.actor.named();
    for (k, (m, v)) in student.opt.m().iter().zip(student.opt.v()).enumerate() {
        named.push((format!("adam.m.{k}"), m.shallow_clone()));
        named.push((format!("adam.v.{k}"), v.shallow_clone()));
    }
    let json = serde_json::to_string(meta).map_err(std::io::Error::other)?;
    tensors::save(&dir.join("checkpoint.safetensors"), &named, &json)
}

fn load_checkpoint(dir: &Path, student: &mut Student) -> anyhow::Result<CheckpointMeta> {
    let path = dir.join("checkpoint.safetensors");
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut file = TensorFile::parse(&bytes).with_context(|| path.display().to_string())?;
    let meta: CheckpointMeta = serde_json::from_str(&file.meta_json)
        .with_context(|| format!("{}: not a distillation checkpoint", path.display()))?;
    tch::no_grad(|| -> anyhow::Result<()> {
        for (name, param) in student.actor.named() {
            let t = file.take(&name, &param.size())?;
            param.shallow_clone().copy_(&t);
        }
        for k in 0..student.opt.m().len() {
            let shape = student.opt.m()[k].size();
            let m = file.take(&format!("adam.m.{k}"), &shape)?;
            let v = file.take(&format!("adam.v.{k}"), &shape)?;
            student.opt.m()[k].shallow_clone().copy_(&m);
            student.opt.v()[k].shallow_clone().copy_(&v);
        }
        Ok(())
    })
    .with_context(|| path.display().to_string())?;
    student.opt.t = meta.adam_t;
    student.norm.stats = meta.norm.clone();
    student.shift = meta.shift.clone();
    student.sample_rng = meta.sample_rng.clone();
    student.mix_rng = meta.mix_rng.clone();
    Ok(meta)
}

fn eval_student(
    env: &mut TaskEnv,
    student: &Student,
    episodes: usize,
    first_seed: u64,
) -> anyhow::Result<EvalReport> {
    Ok(evaluate(
        env,
        episodes,
        first_seed,
        None,
        "student",
        |obs, pixels| {
            let a = student.act_batch(&[obs.to_vec()], &[pixels.unwrap_or(&[])]);
            (a.first().copied().unwrap_or([0.0; 4]), None)
        },
    )?)
}

/// A resumed run must continue with the config it started with; only the number of iterations
/// may grow (so `--iterations` can extend a finished run).
fn check_same_config(recorded: &str, cfg: &DistillConfig) -> anyhow::Result<()> {
    if recorded.is_empty() {
        return Ok(());
    }
    let mut then: DistillConfig =
        toml::from_str(recorded).context("reading the checkpoint's recorded config")?;
    then.iterations = cfg.iterations;
    let then = toml::to_string(&then).unwrap_or_default();
    let now = toml::to_string(cfg).unwrap_or_default();
    if then != now {
        let differs: Vec<_> = then
            .lines()
            .zip(now.lines())
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("checkpoint `{a}`, now `{b}`"))
            .collect();
        bail!(
            "the config differs from the run's ({}); resume with the same config and seed",
            differs.join("; ")
        );
    }
    Ok(())
}

/// The iteration's gradient steps on the aggregated dataset; returns the last loss.
fn train_student(
    student: &mut Student,
    data: &super::Dataset,
    cfg: &DistillConfig,
    meta: &mut CheckpointMeta,
    metrics: &mut MetricsWriter,
    mut on_progress: impl FnMut(usize, f64),
) -> std::io::Result<f64> {
    let mut loss = f64::NAN;
    for u in 0..cfg.updates_per_iteration {
        loss = student.update(data, cfg.batch_size);
        meta.updates += 1;
        if u % 50 == 0 {
            metrics.scalar(meta.updates, "losses/bc_loss", loss)?;
            on_progress(u, loss);
        }
    }
    Ok(loss)
}

/// One iteration's numbers in metrics.csv and TensorBoard, at step `it` (the iteration count).
#[expect(clippy::too_many_arguments, reason = "the numbers of one iteration")]
fn log_iteration(
    metrics: &mut MetricsWriter,
    it: usize,
    beta: f64,
    meta: &CheckpointMeta,
    dataset: usize,
    stats: &RolloutStats,
    eval: &EvalReport,
    wall_secs: f64,
) -> std::io::Result<()> {
    for (name, v) in [
        ("distill/beta", beta),
        ("distill/env_steps", meta.env_steps as f64),
        ("distill/dataset", dataset as f64),
        (
            "rollout/success_rate",
            stats.successes as f64 / stats.episodes.max(1) as f64,
        ),
        (
            "rollout/student_share",
            stats.student_steps as f64 / stats.steps.max(1) as f64,
        ),
        ("eval/success_rate", eval.success_rate),
        ("eval/mean_return", eval.mean_return),
        ("time/wall_secs", wall_secs),
    ] {
        metrics.scalar(it, name, v)?;
    }
    metrics.flush()
}

fn copy_atomic(from: &Path, to: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    crate::fsutil::write_atomic(to, &bytes).with_context(|| format!("writing {}", to.display()))
}

/// A fresh run's checkpoint state and empty dataset, or (`resume`) the ones saved in `out`,
/// refused when they do not belong together or to this config. A fresh run never overwrites one.
fn open_run(
    cfg: &DistillConfig,
    out: &Path,
    resume: bool,
    student: &mut Student,
    image_len: usize,
    state_dim: usize,
) -> anyhow::Result<(CheckpointMeta, super::Dataset)> {
    let data_path = out.join("dataset.bin");
    if !resume {
        if out.join("checkpoint.safetensors").exists() {
            bail!(
                "{} already holds a run; resume it with --resume or choose another --out",
                out.display()
            );
        }
        let meta = CheckpointMeta {
            iterations_done: 0,
            env_steps: 0,
            updates: 0,
            adam_t: 0,
            norm: student.norm.stats.clone(),
            shift: student.shift.clone(),
            sample_rng: student.sample_rng.clone(),
            mix_rng: student.mix_rng.clone(),
            best_success: -1.0,
            data_added: 0,
            config_toml: toml::to_string(cfg).unwrap_or_default(),
        };
        let data = super::Dataset::new(image_len, state_dim, cfg.dataset_capacity);
        return Ok((meta, data));
    }
    let meta = load_checkpoint(out, student)?;
    check_same_config(&meta.config_toml, cfg)?;
    let data = super::Dataset::load(&data_path)?;
    if data.added != meta.data_added {
        bail!(
            "{} does not belong to the checkpoint (written by another iteration)",
            data_path.display()
        );
    }
    Ok((meta, data))
}

/// The policy files of a finished iteration (latest, and best when it is), then the dataset and
/// the checkpoint that names it.
#[expect(clippy::too_many_arguments, reason = "one iteration's whole state")]
fn save_iteration(
    out: &Path,
    cfg: &DistillConfig,
    s: &Setup,
    scene: &BuiltScene,
    teacher: &Path,
    student: &Student,
    meta: &mut CheckpointMeta,
    data: &super::Dataset,
    eval: &EvalReport,
) -> anyhow::Result<()> {
    let notes = format!(
        "distilled from {} by DAgger: {} iterations, {} env steps, {} updates; {}/{} on held-out seeds from {}",
        teacher.display(),
        meta.iterations_done,
        meta.env_steps,
        meta.updates,
        eval.successes,
        eval.episodes,
        cfg.eval_first_seed
    );
    let policy = PixelPolicy::from_parts(
        student_meta(cfg, s, scene, student, meta.env_steps, notes),
        &student.actor,
        &student.norm,
    );
    policy.save(&out.join("policy_latest.safetensors"))?;
    if eval.success_rate >= meta.best_success {
        meta.best_success = eval.success_rate;
        policy.save(&out.join("policy_best.safetensors"))?;
    }
    // The dataset first, then the checkpoint that names it: a crash between the two leaves a
    // checkpoint whose dataset count does not match, which resume refuses.
    meta.adam_t = student.opt.t;
    meta.norm = student.norm.stats.clone();
    meta.shift = student.shift.clone();
    meta.sample_rng = student.sample_rng.clone();
    meta.mix_rng = student.mix_rng.clone();
    meta.data_added = data.added;
    data.save(&out.join("dataset.bin"))?;
    save_checkpoint(out, student, meta)?;
    Ok(())
}

/// Runs (or resumes, from `resume` = the run folder) a distillation of `teacher` into `out`.
pub fn distill(
    cfg: &DistillConfig,
    teacher: &Path,
    scene: &BuiltScene,
    out: &Path,
    resume: bool,
    mut progress: impl FnMut(&DistillProgress),
) -> anyhow::Result<DistillReport> {
    let started = Instant::now();
    let mut s = setup(cfg, teacher, scene)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut student = Student::new(s.image, s.state_dim, cfg).map_err(anyhow::Error::msg)?;
    let (mut meta, mut data) =
        open_run(cfg, out, resume, &mut student, s.image.len(), s.state_dim)?;
    let mut metrics = MetricsWriter::create(out)?;
    let mut vec = VecEnv::try_new(scene, &s.task, &s.reward, cfg.envs, cfg.threads)?;
    // Evaluations run in the nominal world: the same numbers for every run and seed.
    let mut eval_env = TaskEnv::try_new(scene.clone(), s.task.without_dr(), s.reward.clone())?;
    let unit = cfg.steps_per_iteration + cfg.updates_per_iteration;
    let total = cfg.iterations * unit;
    let mut last_eval = None;
    let mut loss = f64::NAN;
    for k in meta.iterations_done..cfg.iterations {
        let beta = cfg.beta(k);
        let report =
            |phase, done: usize, loss: f64, eval: Option<f64>, data: usize| DistillProgress {
                iteration: k,
                phase,
                done: k * unit + done,
                total,
                loss,
                eval_success: eval,
                data,
            };
        let last = last_eval.as_ref().map(|e: &EvalReport| e.success_rate);
        progress(&report("collect", 0, loss, last, data.len()));
        tch::set_num_threads(1);
        vec.reset(cfg.seed.wrapping_mul(1_000_003).wrapping_add(k as u64));
        let stats: RolloutStats = collect(
            &mut vec,
            &mut s.teacher,
            &mut student,
            &mut data,
            beta,
            cfg.steps_per_iteration,
            meta.env_steps == 0,
        );
        meta.env_steps += stats.steps;
        tch::set_num_threads(cfg.torch_threads.max(1) as i32);
        loss = train_student(&mut student, &data, cfg, &mut meta, &mut metrics, |u, l| {
            progress(&report(
                "train",
                cfg.steps_per_iteration + u,
                l,
                None,
                data.len(),
            ));
        })?;
        tch::set_num_threads(1);
        progress(&report("eval", unit, loss, None, data.len()));
        let eval = eval_student(
            &mut eval_env,
            &student,
            cfg.eval_episodes,
            cfg.eval_first_seed,
        )?;
        let it = k + 1;
        let wall = started.elapsed().as_secs_f64();
        log_iteration(
            &mut metrics,
            it,
            beta,
            &meta,
            data.len(),
            &stats,
            &eval,
            wall,
        )?;
        meta.iterations_done = it;
        save_iteration(
            out, cfg, &s, scene, teacher, &student, &mut meta, &data, &eval,
        )?;
        let done = Some(eval.success_rate);
        progress(&report("eval", unit, loss, done, data.len()));
        last_eval = Some(eval);
    }
    let final_path = out.join("policy_final.safetensors");
    copy_atomic(&out.join("policy_latest.safetensors"), &final_path)?;
    Ok(DistillReport {
        iterations: meta.iterations_done,
        env_steps: meta.env_steps,
        updates: meta.updates,
        wall_secs: started.elapsed().as_secs_f64(),
        last_eval,
        best_success: meta.best_success,
        policy: final_path,
    })
}
