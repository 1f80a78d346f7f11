//! Command-line interface: clap definitions and dispatch; one file per command family.

mod bench;
mod distill;
mod dr;
mod episode;
pub mod lerobot;
mod pick;
mod pixel;
mod record;
mod sweep;
mod train;
pub mod triage;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{SceneConfig, default_configs_dir};
use crate::pick::PickConfig;
use crate::task::{ResetMode, RewardConfig, TaskConfig, check_task_scene, load_reward_for};

pub use bench::BenchCommand;

/// so101-lab: simulate, train and debug RL on the SO-101 arm in MuJoCo.
#[derive(Debug, Parser)]
#[command(name = "so101-lab", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the scripted top-down pick on seeded cube placements and report the success rate.
    Pick(PickArgs),
    /// Train SAC on the lift task.
    Train(TrainArgs),
    /// Distil a state-based teacher into a policy that sees only the wrist camera and the arm's
    /// own state (DAgger).
    Distill(distill::DistillArgs),
    /// Train pixel SAC (DrQ-v2 style: augmentation, an encoder only the critic trains) on a task
    /// with images, from scratch or from a distilled student.
    TrainPixel(pixel::TrainPixelArgs),
    /// Evaluate a policy file: success rate with a 95% interval, failures by kind.
    Eval(EvalArgs),
    /// Run a grid of training configs x reward versions x seeds, N processes at a time, and
    /// gather held-out results in one table.
    Sweep(sweep::SweepArgs),
    /// Policy file tools.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Record episodes of the lift task with the scripted or a random policy.
    Record(RecordArgs),
    /// Episode file tools.
    #[command(subcommand)]
    Episode(EpisodeCommand),
    /// Write the debug view of an episode as a video: any camera, overlays, reward plots, at
    /// the episode's real time (ffmpeg).
    Render(triage::RenderArgs),
    /// Read a folder of episodes (e.g. `eval --record DIR`) as a table: outcome, failure kind
    /// and moment, return, grasp verdict and quality, peak height; sort, filter, HTML report.
    Triage(triage::TriageArgs),
    /// Scene tools: export the compiled MJCF, print effective contact parameters.
    #[command(subcommand)]
    Scene(SceneCommand),
    /// Domain randomisation tools.
    #[command(subcommand)]
    Dr(DrCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Open the app: the live scene, overlays, cameras (needs the `app` feature).
    #[cfg(feature = "app")]
    View(crate::app::ViewArgs),
    /// Print where this binary finds its bundled configs and assets, and the set-up's cache
    /// (the search order: $SO101_LAB_DATA, the checkout it was built from, the embedded copy).
    Paths,
    /// Print a config's built-in defaults as TOML (a starting point for your own file).
    Defaults {
        /// Which config.
        #[arg(value_enum)]
        which: ConfigKind,
    },
}

/// Config files with built-in defaults.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ConfigKind {
    /// configs/scene.toml
    Scene,
    /// configs/pick.toml
    Pick,
}

/// Scene config selection shared by subcommands.
#[derive(Debug, Clone, Args)]
pub struct SceneArgs {
    /// Scene config file (default: configs/scene.toml).
    #[arg(long, value_name = "CONFIG")]
    pub scene: Option<PathBuf>,
}

impl SceneArgs {
    /// Loads the chosen (or default) scene config.
    pub fn load(&self) -> anyhow::Result<SceneConfig> {
        let path = self
            .scene
            .clone()
            .unwrap_or_else(|| default_configs_dir().join("scene.toml"));
        Ok(SceneConfig::load(&path)?)
    }

    /// Loads the chosen (or default) scene config and builds the scene; errors name the file.
    pub fn build(&self) -> anyhow::Result<crate::scene::BuiltScene> {
        let cfg = self.load()?;
        crate::scene::build(&cfg).with_context(|| {
            let path = self
                .scene
                .clone()
                .unwrap_or_else(|| default_configs_dir().join("scene.toml"));
            format!("building the scene of {}", path.display())
        })
    }
}

/// `so101-lab pick`.
#[derive(Debug, Args)]
pub struct PickArgs {
    /// Number of seeded placements.
    #[arg(long, default_value_t = 20)]
    pub seeds: usize,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// Cube yaw range, +/- degrees (uniform).
    #[arg(long, default_value_t = 0.0)]
    pub yaw: f64,
    /// Pick config file (default: configs/pick.toml).
    #[arg(long, value_name = "CONFIG")]
    pub pick_config: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Run the scripted controller on this task config through the env (pick-and-place on
    /// tasks with a target), judged by the task's success predicate.
    #[arg(long, value_name = "CONFIG")]
    pub task: Option<PathBuf>,
    /// Reward version with `--task` (default: the task's own).
    #[arg(long, value_name = "CONFIG", requires = "task")]
    pub reward: Option<PathBuf>,
    #[command(flatten)]
    /// Scene config.
    pub scene: SceneArgs,
}

/// Task and reward config selection.
#[derive(Debug, Clone, Args)]
pub struct TaskArgs {
    /// Task config (default: configs/task.toml; for `eval`, the one recorded in the policy).
    #[arg(long, value_name = "CONFIG")]
    pub task: Option<PathBuf>,
    /// Reward version (default: configs/rewards/v11.toml).
    #[arg(long, value_name = "CONFIG")]
    pub reward: Option<PathBuf>,
    /// Domain randomisation ranges (configs/dr/*.toml); replaces the task's `[dr]`.
    #[arg(long, value_name = "CONFIG", conflicts_with = "no_dr")]
    pub dr: Option<PathBuf>,
    /// Switch the task's domain randomisation off (e.g. to evaluate a policy trained with it in
    /// the nominal world).
    #[arg(long)]
    pub no_dr: bool,
}

impl TaskArgs {
    fn task_path(&self) -> PathBuf {
        self.task
            .clone()
            .unwrap_or_else(|| default_configs_dir().join("task.toml"))
    }

    /// Loads the task and reward configs (and the DR file, when given).
    /// The reward is `--reward`, else the task's own `reward`, else V11.
    pub fn load(&self) -> anyhow::Result<(TaskConfig, RewardConfig)> {
        let task_path = self.task_path();
        let mut task = TaskConfig::load(&task_path)?;
        self.apply_dr(&mut task)?;
        if let (None, Some(own)) = (&self.reward, task.reward_path(&task_path)) {
            let reward = load_reward_for(&task, &own).with_context(|| {
                format!(
                    "{}: field `reward` ({})",
                    task_path.display(),
                    own.display()
                )
            })?;
            return Ok((task, reward));
        }
        let reward_path = task.reward_path_or_default(self.reward.as_deref(), &task_path);
        let reward = load_reward_for(&task, &reward_path)?;
        Ok((task, reward))
    }

    /// Applies `--dr FILE` (replace the task's ranges) or `--no-dr` (remove them).
    pub fn apply_dr(&self, task: &mut TaskConfig) -> anyhow::Result<()> {
        if let Some(dr) = &self.dr {
            task.dr = Some(crate::task::DrConfig::load(dr)?);
        }
        if self.no_dr {
            task.dr = None;
        }
        Ok(())
    }

    /// [`TaskArgs::load`], then the checks that need the compiled scene (camera names), with
    /// errors naming the task file and field.
    pub fn load_for(
        &self,
        scene: &crate::scene::BuiltScene,
    ) -> anyhow::Result<(TaskConfig, RewardConfig)> {
        let (task, reward) = self.load()?;
        check_task_scene(&task, scene, &self.task_path())?;
        Ok((task, reward))
    }
}

/// `so101-lab train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training config (configs/train/*.toml).
    #[arg(long)]
    pub config: PathBuf,
    /// Continue a killed run from its folder's checkpoint, in that folder.
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub resume: Option<PathBuf>,
    /// Run folder (default runs/<config name>); never overwritten.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override total_timesteps.
    #[arg(long)]
    pub total_timesteps: Option<usize>,
    /// Override the device: cpu, cuda or auto.
    #[arg(long)]
    pub device: Option<String>,
    #[command(flatten)]
    /// Scene.
    pub scene: SceneArgs,
}

/// `so101-lab dr ...`.
#[derive(Debug, Subcommand)]
pub enum DrCommand {
    /// Write a contact sheet of camera images, one per seed, each in its randomised world.
    Preview {
        /// Number of seeds (episodes) shown.
        #[arg(long, default_value_t = 16)]
        seeds: usize,
        /// First seed.
        #[arg(long, default_value_t = 0)]
        first_seed: u64,
        /// Output folder (contact_sheet.png and samples.json; never overwritten).
        #[arg(long)]
        out: PathBuf,
        /// Camera.
        #[arg(long, default_value = "wrist")]
        camera: String,
        /// Image size, WIDTHxHEIGHT.
        #[arg(long, default_value = "128x128")]
        size: String,
        /// Images per row.
        #[arg(long, default_value_t = 8)]
        cols: u32,
        #[command(flatten)]
        /// Task, reward and DR ranges (default DR: configs/dr/default.toml).
        task: TaskArgs,
        #[command(flatten)]
        /// Scene.
        scene: SceneArgs,
    },
}

/// `so101-lab policy ...`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print a policy file's inputs (names, privileged entries, image layout), outputs,
    /// network and training record.
    Info {
        /// Policy file.
        policy: PathBuf,
        /// Print JSON: the training record, the input layout with privileged entries, the
        /// image layout, outputs and the scene/task/reward identity.
        #[arg(long)]
        json: bool,
    },
    /// Export a policy file as a TorchScript actor (raw observation in, action out).
    ExportTorchscript {
        /// Policy file.
        policy: PathBuf,
        /// Output .pt file.
        out: PathBuf,
    },
}

/// `so101-lab eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Policy file (default: the bundled lift policy). Evaluated on the scene, task and reward
    /// recorded in it unless --scene/--task/--reward are given.
    #[arg(default_value = train::BUNDLED_POLICY, value_parser = crate::paths::parse_data_path)]
    pub policy: PathBuf,
    /// Episodes.
    #[arg(long, default_value_t = 100)]
    pub episodes: usize,
    /// First reset seed.
    #[arg(long, default_value_t = 1_000_000)]
    pub first_seed: u64,
    /// Record every episode into this folder.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Write the failure-triage table as one HTML page, with a thumbnail per failure. The
    /// episodes are recorded (into --record, or `<report>.episodes/` beside the page).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    /// Task and reward.
    pub task: TaskArgs,
    #[command(flatten)]
    /// Scene.
    pub scene: SceneArgs,
}

/// How `record --images` stores frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FramesFormat {
    /// One PNG per step in `<episode>.frames/`.
    Png,
    /// One H.264 video per episode, `<episode>.mp4` (ffmpeg from the set-up).
    Mp4,
}

/// Who acts in recorded episodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RecordPolicy {
    /// The scripted pick, through the env's action space.
    Scripted,
    /// Uniform random actions (seeded).
    Random,
}

/// `so101-lab record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Reset mode (overrides the task config).
    #[arg(long, value_enum)]
    pub reset: Option<ResetMode>,
    /// Who acts.
    #[arg(long, value_enum, default_value = "scripted")]
    pub policy: RecordPolicy,
    /// Number of episodes (seeds `--seed`, `--seed + 1`, ...).
    #[arg(long, default_value_t = 1)]
    pub episodes: usize,
    /// First reset seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output folder (created if missing; existing episodes are never overwritten).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the rendered camera frames beside each episode.
    #[arg(long, value_enum)]
    pub images: Option<FramesFormat>,
    /// Camera of `--images` (default: the task's first image camera, else `wrist`).
    #[arg(long)]
    pub camera: Option<String>,
    /// Size of `--images`, WIDTHxHEIGHT (default: the task's image size, else 128x128).
    #[arg(long)]
    pub image_size: Option<String>,
    #[command(flatten)]
    /// Task and reward.
    pub task: TaskArgs,
    #[command(flatten)]
    /// Scene.
    pub scene: SceneArgs,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One JSON document: header summary and per-step records with named terms and flags.
    Json,
    /// One row per step: time, qpos, qvel, ctrl, action, obs, every reward term, flags.
    Csv,
    /// NumPy arrays (`np.load`): time, qpos, qvel, ctrl, actions, obs, rewards, state,
    /// initial_state, terms/<name>, and the success/terminated/truncated/grasping flags.
    Npz,
    /// A LeRobot dataset (format v3, written by LeRobot's own dataset class): one episode per
    /// file, `observation.state` and `action` as the SO-101 follower's `<motor>.pos` (degrees;
    /// gripper 0-100), the cube pose, reward and success. `FILE` may be a folder of episodes.
    Lerobot,
}

/// `so101-lab episode ...`.
#[derive(Debug, Subcommand)]
pub enum EpisodeCommand {
    /// Write an episode for analysis in other tools.
    Export {
        /// The episode file (or, for `--format lerobot`, a folder of episodes).
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Output file (default: next to the episode, with the format's extension); for
        /// `lerobot`, the dataset folder to create (required, never overwritten).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Python with LeRobot's dataset package, for `lerobot` (default: $SO101_PYTHON, else
        /// the set-up's venv).
        #[arg(long)]
        python: Option<PathBuf>,
    },
    /// Drive the sim's joints along episode K of a LeRobot SO-101 dataset (joint positions
    /// recorded on a real arm, at its fps, resampled to the control rate) and report how well
    /// the sim tracks it, per joint.
    ImportLerobot(lerobot::ImportArgs),
    /// Print an episode's summary and check it re-simulates bit for bit.
    Check {
        /// The episode file.
        file: PathBuf,
    },
}

/// `so101-lab scene ...`.
#[derive(Debug, Subcommand)]
pub enum SceneCommand {
    /// Write the compiled scene as standalone MJCF at full numeric precision (opens in MuJoCo's
    /// viewer or Python), and beside it the exact binary model (`.mjb`, the same name).
    Export {
        /// Output MJCF file.
        out: PathBuf,
        #[command(flatten)]
        /// Scene config.
        scene: SceneArgs,
    },
    /// Print the effective contact parameters of the pad-cube pairs (after MuJoCo's mixing).
    Contact {
        #[command(flatten)]
        /// Scene config.
        scene: SceneArgs,
    },
}

/// The default folder of a run of `config`: `<parent>/<prefix><config file stem>`.
pub(crate) fn default_run_dir(config: &std::path::Path, parent: &str, prefix: &str) -> PathBuf {
    let stem = config
        .file_stem()
        .map_or_else(|| "run".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from(parent).join(format!("{prefix}{stem}"))
}

/// Parses `WIDTHxHEIGHT`.
pub fn parse_size(text: &str) -> anyhow::Result<(u32, u32)> {
    let parsed = text
        .split_once('x')
        .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)));
    match parsed {
        Some((w, h)) if (2..=4096).contains(&w) && (2..=4096).contains(&h) => Ok((w, h)),
        _ => anyhow::bail!("size `{text}` is not WIDTHxHEIGHT with each side in 2..=4096"),
    }
}

/// Loads the pick config (default `configs/pick.toml`).
pub fn load_pick_config(path: Option<&PathBuf>) -> anyhow::Result<PickConfig> {
    let path = path
        .cloned()
        .unwrap_or_else(|| default_configs_dir().join("pick.toml"));
    Ok(PickConfig::load(&path)?)
}

/// Runs a parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Pick(args) => pick::run(&args),
        Command::Record(args) => record::run(&args),
        Command::Train(args) => train::train(&args),
        Command::Eval(args) => train::eval(&args),
        Command::Distill(args) => distill::run(&args),
        Command::TrainPixel(args) => pixel::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Policy(PolicyCommand::ExportTorchscript { policy, out }) => {
            train::export_torchscript(&policy, &out)
        }
        Command::Policy(PolicyCommand::Info { policy, json }) => train::policy_info(&policy, json),
        Command::Dr(DrCommand::Preview {
            seeds,
            first_seed,
            out,
            camera,
            size,
            cols,
            task,
            scene,
        }) => dr::preview(&dr::PreviewArgs {
            seeds,
            first_seed,
            out: &out,
            camera: &camera,
            size: &size,
            cols,
            task: &task,
            scene: &scene,
        }),
        Command::Episode(cmd) => episode::run(cmd),
        Command::Render(args) => triage::render(&args),
        Command::Triage(args) => triage::triage(&args),
        Command::Bench(cmd) => bench::run(cmd),
        #[cfg(feature = "app")]
        Command::View(args) => crate::app::run(&args),
        Command::Paths => {
            let (root, source) = crate::paths::data_root_with_source();
            println!("data     {} ({source})", root.display());
            println!("cache    {}", crate::paths::cache_dir().display());
            println!("robot    {}", crate::paths::robot_dir().display());
            println!("python   {}", crate::paths::venv_python().display());
            Ok(())
        }
        Command::Defaults { which } => {
            let text = match which {
                ConfigKind::Scene => toml::to_string_pretty(&SceneConfig::default())?,
                ConfigKind::Pick => toml::to_string_pretty(&PickConfig::default())?,
            };
            print!("{text}");
            Ok(())
        }
        Command::Scene(SceneCommand::Export { out, scene }) => {
            if out.extension().is_some_and(|e| e == "mjb") {
                anyhow::bail!(
                    "{}: give the MJCF path (.xml); the .mjb is written beside it",
                    out.display()
                );
            }
            let cfg = scene.load()?;
            crate::scene::export_xml(&cfg, &out)?;
            let mjb = out.with_extension("mjb");
            crate::scene::export_mjb(&cfg, &mjb)?;
            eprintln!("wrote {} and {}", out.display(), mjb.display());
            Ok(())
        }
        Command::Scene(SceneCommand::Contact { scene }) => {
            let built = crate::scene::build(&scene.load()?)?;
            for c in crate::scene::effective_pad_cube_contact(&built) {
                println!("{c}");
            }
            Ok(())
        }
    }
}
