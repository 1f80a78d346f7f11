//! Distillation: DAgger aggregates data and labels every visited state with the teacher; a
//! student learns a toy teacher on a tiny image task; pixel policy files round-trip; the CLI run
//! resumes in its folder and never overwrites one.

use crate::common;

use common::bin;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use so101_lab::episode::ConfigIdentity;
use so101_lab::rl::distill::{Dataset, DistillConfig, Student, Teacher, collect};
use so101_lab::rl::pixel::{EncoderConfig, ImageShape, PixelPolicy};
use so101_lab::rl::policy::{POLICY_FORMAT, POLICY_VERSION, PolicyMeta};
use so101_lab::task::{ImageObsConfig, ObsConfig, RewardConfig, TaskConfig, VecEnv};

fn tiny_cfg() -> DistillConfig {
    DistillConfig {
        encoder: EncoderConfig {
            channels: vec![8, 16],
            strides: vec![2, 2],
            kernel: 3,
            features: 32,
        },
        head: vec![64],
        shift_px: 0,
        learning_rate: 1e-3,
        gripper_weight: 1.0,
        seed: 3,
        ..DistillConfig::default()
    }
}

/// A teacher that reads the privileged layout and remembers every label it gave.
struct ToyTeacher {
    obs: ObsConfig,
    given: Vec<[f64; 4]>,
}

impl Teacher for ToyTeacher {
    fn obs_config(&self) -> &ObsConfig {
        &self.obs
    }

    fn label(&mut self, obs: &[Vec<f64>]) -> Vec<[f64; 4]> {
        // Toward the cube (privileged: cube_pos is obs[18..21], the TCP obs[12..15]), gripper open.
        let out: Vec<[f64; 4]> = obs
            .iter()
            .map(|o| {
                let d = |k: usize| (20.0 * (o[18 + k] - o[12 + k])).tanh();
                [d(0), d(1), d(2), 0.5]
            })
            .collect();
        self.given.extend_from_slice(&out);
        out
    }
}

#[test]
fn dagger_aggregates_data_and_labels_every_state_with_the_teacher() {
    let scene = common::default_scene();
    let task = TaskConfig {
        obs: ObsConfig {
            image: Some(ImageObsConfig {
                width: 16,
                height: 16,
                frame_stack: 1,
                ..ImageObsConfig::default()
            }),
            ..ObsConfig::default()
        },
        ..TaskConfig::default()
    };
    let spec = task.obs.image.as_ref().expect("image").spec();
    let state_dim = so101_lab::task::obs::observation_space(&task.obs).dim();
    let mut vec = VecEnv::new(&scene, &task, &RewardConfig::default(), 2, 2);
    vec.reset(5);
    let mut teacher = ToyTeacher {
        obs: ObsConfig::default(),
        given: Vec::new(),
    };
    let mut student = Student::new(ImageShape::of(&spec), state_dim, &tiny_cfg()).expect("student");
    let mut data = Dataset::new(spec.len(), state_dim, 10_000);
    // Iteration 0: the teacher acts; iteration 1: the student acts, the teacher still labels.
    let first = collect(
        &mut vec,
        &mut teacher,
        &mut student,
        &mut data,
        1.0,
        40,
        true,
    );
    assert_eq!((first.steps, first.student_steps, data.len()), (40, 0, 40));
    let second = collect(
        &mut vec,
        &mut teacher,
        &mut student,
        &mut data,
        0.0,
        40,
        false,
    );
    assert_eq!((second.steps, second.student_steps), (40, 40));
    assert_eq!(data.len(), 80, "the dataset aggregates both iterations");
    assert_eq!(
        teacher.given.len(),
        80,
        "the teacher labelled every visited state"
    );
    for (i, label) in teacher.given.iter().enumerate() {
        let stored = data.action(i);
        for k in 0..4 {
            assert!((f64::from(stored[k]) - label[k]).abs() < 1e-6, "sample {i}");
        }
    }
    // The student's states hold no cube pose: 21 - 3 values.
    assert_eq!(data.state(0).len(), 18);
}

/// A 16x16 picture with a bright 3x3 square at (x, y), and the label the toy teacher gives it.
fn toy_sample(rng: &mut ChaCha8Rng) -> (Vec<u8>, f64, [f64; 4]) {
    let (x, y) = (rng.random_range(2..14usize), rng.random_range(2..14usize));
    let mut img = vec![20u8; 256];
    for dy in 0..3 {
        for dx in 0..3 {
            img[(y + dy - 1) * 16 + x + dx - 1] = 230;
        }
    }
    let s: f64 = rng.random_range(-1.0..1.0);
    let (nx, ny) = ((x as f64 - 7.5) / 8.0, (y as f64 - 7.5) / 8.0);
    (img, s, [nx, ny, 0.5 * s, -nx])
}

#[test]
fn a_student_learns_a_toy_teacher_on_a_tiny_image_task() {
    let shape = ImageShape {
        planes: 1,
        height: 16,
        width: 16,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut data = Dataset::new(256, 1, 4000);
    let mut student = Student::new(shape, 1, &tiny_cfg()).expect("student");
    for _ in 0..3000 {
        let (img, s, a) = toy_sample(&mut rng);
        data.push(&img, &[s], &a);
        student.norm.stats.update(&[s]);
    }
    let mut last = f64::NAN;
    for _ in 0..600 {
        last = student.update(&data, 64);
    }
    let (mut err, mut baseline) = (0.0, 0.0);
    let n = 200;
    for _ in 0..n {
        let (img, s, a) = toy_sample(&mut rng);
        let got = student.act_batch(&[vec![s]], &[&img])[0];
        for k in 0..4 {
            err += (got[k] - a[k]).abs() / (4 * n) as f64;
            baseline += a[k].abs() / (4 * n) as f64;
        }
    }
    println!("toy task: final loss {last:.4}, mean |error| {err:.3} (predicting 0: {baseline:.3})");
    assert!(
        err < 0.08,
        "the student did not learn the toy teacher: {err}"
    );
    assert!(err < 0.25 * baseline);
}

#[test]
fn a_pixel_policy_file_round_trips_with_identical_actions() {
    let shape = ImageShape {
        planes: 3,
        height: 32,
        width: 32,
    };
    let cfg = tiny_cfg();
    let mut student = Student::new(shape, 18, &cfg).expect("student");
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for _ in 0..50 {
        let s: Vec<f64> = (0..18).map(|_| rng.random_range(-2.0..2.0)).collect();
        student.norm.stats.update(&s);
    }
    let image = ImageObsConfig {
        width: 32,
        height: 32,
        frame_stack: 1,
        ..ImageObsConfig::default()
    };
    let task = TaskConfig {
        obs: ObsConfig {
            image: Some(image.clone()),
            ..ObsConfig::default()
        },
        ..TaskConfig::default()
    };
    let space = so101_lab::task::obs::observation_space(&task.obs);
    let meta = PolicyMeta {
        format: POLICY_FORMAT.into(),
        version: POLICY_VERSION,
        obs_names: space.names.clone(),
        action_names: ["dx", "dy", "dz", "gripper"].map(String::from).to_vec(),
        net_arch: cfg.head.clone(),
        normalize_obs: true,
        clip: 10.0,
        obs_count: student.norm.stats.count,
        obs_mean: student.norm.stats.mean.clone(),
        obs_var: student.norm.stats.var.clone(),
        config: ConfigIdentity::of(
            &common::default_scene().config,
            &task,
            &RewardConfig::default(),
        ),
        trained_steps: 0,
        notes: String::new(),
        image: Some(image.spec()),
        encoder: Some(cfg.encoder.clone()),
        training: Some(so101_lab::rl::policy::TrainingRecord::of(
            "distill", &cfg, cfg.seed, 0, 0,
        )),
        deterministic_head: true,
    };
    let policy = PixelPolicy::from_parts(meta, &student.actor, &student.norm);
    let dir = common::temp_dir("so101-pixel-policy", "roundtrip");
    let path = dir.join("p.safetensors");
    policy.save(&path).expect("save");
    let loaded = PixelPolicy::load(&path).expect("load");
    assert_eq!(loaded.meta, policy.meta);
    for _ in 0..5 {
        let s: Vec<f64> = (0..18).map(|_| rng.random_range(-2.0..2.0)).collect();
        let px: Vec<u8> = (0..3 * 32 * 32).map(|_| rng.random()).collect();
        let (a, b) = (policy.act(&s, &px).action, loaded.act(&s, &px).action);
        assert_eq!(
            a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        let saliency = loaded.saliency(&s, &px);
        assert_eq!(saliency.len(), 3 * 32 * 32);
        assert!(saliency.iter().all(|v| (0.0..=1.0).contains(v)) && saliency.contains(&1.0));
    }
    loaded
        .check_layout(&space.names, &path)
        .expect("same layout");
    // A truncated file is an error, not a crash; a state policy loader refuses it.
    let bytes = std::fs::read(&path).expect("read");
    std::fs::write(dir.join("cut.safetensors"), &bytes[..bytes.len() / 2]).expect("write");
    assert!(PixelPolicy::load(&dir.join("cut.safetensors")).is_err());
    assert!(so101_lab::rl::policy::Policy::load(&path).is_err());
}

#[test]
fn distill_runs_resumes_in_its_folder_and_never_overwrites() {
    let dir = common::temp_dir("so101-distill", "cli");
    let task = common::tiny_wrist_task(&dir);
    let cfg = format!(
        "task = \"{}\"\nenvs = 2\nthreads = 1\ntorch_threads = 1\niterations = 1\nsteps_per_iteration = 40\nupdates_per_iteration = 5\nbatch_size = 16\neval_episodes = 1\nhead = [32]\n[encoder]\nchannels = [8, 8]\nstrides = [2, 2]\nkernel = 3\nfeatures = 16\n",
        task.display()
    );
    std::fs::write(dir.join("tiny.toml"), cfg).expect("write");
    let run = dir.join("run");
    let go = |extra: &[&str]| {
        bin()
            .arg("distill")
            .arg("--config")
            .arg(dir.join("tiny.toml"))
            .args(extra)
            .output()
            .expect("runs")
    };
    let out = go(&["--out", run.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["iterations"], 1);
    assert_eq!(report["env_steps"], 40);
    for f in [
        "checkpoint.safetensors",
        "dataset.bin",
        "metrics.csv",
        "policy_final.safetensors",
        "policy_best.safetensors",
    ] {
        assert!(run.join(f).exists(), "{f} missing");
    }
    // Running into the same folder again is refused.
    let again = go(&["--out", run.to_str().expect("utf-8")]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));
    // Resuming with another seed would mix two runs' data; it is refused and names the field.
    let other = go(&["--resume", run.to_str().expect("utf-8"), "--seed", "7"]);
    assert!(!other.status.success());
    let err = String::from_utf8_lossy(&other.stderr);
    assert!(
        err.contains("seed = 0") && err.contains("seed = 7"),
        "{err}"
    );
    // Resuming continues the same run, in the same folder.
    let resumed = go(&[
        "--resume",
        run.to_str().expect("utf-8"),
        "--iterations",
        "2",
    ]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&resumed.stdout).expect("json");
    assert_eq!(report["iterations"], 2);
    assert_eq!(report["env_steps"], 80);
    assert_eq!(report["updates"], 10);
    let dataset = Dataset::load(&run.join("dataset.bin")).expect("dataset");
    assert_eq!(dataset.len(), 80);
    // The distilled policy evaluates (it reads images) and lists its inputs.
    let eval = bin()
        .arg("eval")
        .arg(run.join("policy_final.safetensors"))
        .args(["--episodes", "1", "--json"])
        .output()
        .expect("eval");
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let info = bin()
        .args(["policy", "info"])
        .arg(run.join("policy_final.safetensors"))
        .output()
        .expect("info");
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(
        text.contains("none privileged") && text.contains("image input: 3 plane(s) of 32x32"),
        "{text}"
    );
}
