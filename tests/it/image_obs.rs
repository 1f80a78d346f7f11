//! Image observations in the env: layout, stacking, no privileged state, batched envs,
//! domain randomisation recorded and re-rendered bit for bit, dataset frames, and bad input
//! (unknown camera, zero or odd size, reversed DR range) naming the file and field.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use so101_lab::config::default_configs_dir;
use so101_lab::episode::{
    Episode, EpisodeRecorder, Replay, header_for, pixels_sha, resimulate, step_record,
};
use so101_lab::scripted::CartesianPickPolicy;
use so101_lab::task::{
    DrConfig, ImageChannel, ImageObsConfig, ImagePipeline, RewardConfig, TaskConfig, TaskEnv,
    VecEnv,
};

fn temp_dir(name: &str) -> PathBuf {
    common::temp_dir("so101-img", name)
}

fn seeing_task() -> TaskConfig {
    TaskConfig {
        gravity_feedforward: 1.0,
        top_down_ik: true,
        obs: so101_lab::task::ObsConfig {
            image: Some(ImageObsConfig {
                channels: vec![
                    ImageChannel::Rgb,
                    ImageChannel::Depth,
                    ImageChannel::Segmentation,
                ],
                ..ImageObsConfig::default()
            }),
            ..Default::default()
        },
        ..TaskConfig::default()
    }
}

fn default_dr() -> DrConfig {
    DrConfig::load(&default_configs_dir().join("dr/default.toml")).expect("configs/dr/default.toml")
}

#[test]
fn the_image_observation_is_named_stacked_and_unprivileged() {
    let mut env = TaskEnv::new(
        common::default_scene(),
        seeing_task(),
        RewardConfig::default(),
    );
    let spec = env.image_spec().expect("image spec");
    assert_eq!(spec.planes.len(), 3 * 5);
    assert_eq!(spec.planes[0], "wrist/r@t-2");
    assert_eq!(spec.planes[14], "wrist/segmentation@t-0");
    let names = &env.observation_space().names;
    assert!(names.iter().all(|n| !n.starts_with("cube_")), "{names:?}");
    assert!(env.observation_space().privileged_names().is_empty());
    env.reset(3);
    let first = env.pixels().expect("pixels").to_vec();
    assert_eq!(first.len(), spec.len());
    let per_frame = first.len() / 3;
    // After reset every stacked frame is the first frame.
    assert_eq!(first[..per_frame], first[per_frame..2 * per_frame]);
    assert_eq!(first[..per_frame], first[2 * per_frame..]);
    let mut policy = CartesianPickPolicy::new();
    let a = policy.act(&env);
    let out = env.step(&a);
    let second = out.pixels.expect("pixels in the step outcome");
    // The stack shifts: the old newest frame is now the middle one.
    assert_eq!(second[per_frame..2 * per_frame], first[2 * per_frame..]);
    assert_eq!(second[..per_frame], first[..per_frame]);
    // Segmentation planes hold class ids (0..=4), depth is quantised metres.
    let seg = &second[2 * per_frame + 4 * 84 * 84..];
    assert!(seg.iter().all(|&c| c <= 4));
    assert!(seg.contains(&1), "the wrist camera sees the floor");
}

#[test]
fn vec_env_renders_the_same_pixels_as_single_envs() {
    let scene = common::default_scene();
    let task = seeing_task();
    let mut vec = VecEnv::new(&scene, &task, &RewardConfig::default(), 3, 2);
    vec.reset(11);
    let mut singles: Vec<TaskEnv> = (0..3)
        .map(|_| TaskEnv::new(scene.clone(), task.clone(), RewardConfig::default()))
        .collect();
    // VecEnv env i draws its first seed from ChaCha8 stream i of 11.
    for (i, env) in singles.iter_mut().enumerate() {
        use rand::{RngCore, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        rng.set_stream(i as u64);
        env.reset(rng.next_u64());
    }
    let actions = [
        [0.2, -0.1, -0.3, 0.5],
        [0.0, 0.3, -0.2, -1.0],
        [-0.4, 0.0, 0.1, 1.0],
    ];
    for _ in 0..4 {
        let step = vec.step(&actions);
        for (i, env) in singles.iter_mut().enumerate() {
            let out = env.step(&actions[i]);
            assert_eq!(step.pixels[i].as_deref(), out.pixels.as_deref(), "env {i}");
        }
    }
}

#[test]
fn a_recorded_episode_with_dr_re_simulates_and_re_renders_identically() {
    let dir = temp_dir("dr-episode");
    let mut task = seeing_task();
    task.dr = Some(default_dr());
    let mut env = TaskEnv::new(common::default_scene(), task, RewardConfig::default());
    let path = dir.join("ep.jsonl");
    let seed = 42;
    let obs = env.reset(seed);
    let sample = *env.dr_sample().expect("dr sample");
    assert!(
        sample.physics.cube_size_m.is_some(),
        "the default ranges randomise the cube"
    );
    // The compiled cube is the sampled one and it rests on the floor at its own half size.
    let half = env.sim().model().geom_size()[env.sim().handles().cube_geom][2];
    assert!((2.0 * half - sample.physics.cube_size_m.unwrap_or(0.0)).abs() < 1e-12);
    let mut rec =
        EpisodeRecorder::create(&path, &header_for(&env, seed, "scripted", &obs)).expect("create");
    let mut policy = CartesianPickPolicy::new();
    for _ in 0..60 {
        let a = policy.act(&env);
        let out = env.step(&a);
        rec.record(&step_record(&env, &a, &out, None))
            .expect("record");
        if out.terminated || out.truncated {
            break;
        }
    }
    rec.finish().expect("finish");
    let episode = Episode::read(&path).expect("read");
    assert_eq!(episode.header.dr, Some(sample));
    assert!(episode.header.image.is_some());
    let report = resimulate(&episode, &path).expect("resim");
    assert_eq!(report.first_divergence, None);
    assert_eq!(report.first_pixel_divergence, None);
    assert_eq!(report.pixels_checked, episode.steps.len() + 1);
    // The replay re-renders the stacked input at any cursor exactly as the policy saw it.
    let replay = Replay::open(&path).expect("replay");
    let mut pipeline = ImagePipeline::new(
        replay.env().sim(),
        replay
            .env()
            .task()
            .obs
            .image
            .as_ref()
            .expect("image config"),
    )
    .expect("pipeline");
    for k in [0, 1, 2, 7, episode.steps.len()] {
        replay.render_stack(k, &mut pipeline).expect("render");
        let want = match k {
            0 => episode.header.initial_pixels_sha.clone(),
            k => episode.steps[k - 1].pixels_sha.clone(),
        };
        assert_eq!(Some(pixels_sha(pipeline.observation())), want, "cursor {k}");
    }
}

#[test]
fn dr_changes_the_world_per_seed_and_not_the_cube_placement() {
    let scene = common::default_scene();
    let mut plain = TaskEnv::new(scene.clone(), seeing_task(), RewardConfig::default());
    let mut task = seeing_task();
    let mut dr = default_dr();
    // Only appearance and latency: the physics stay as built, so the start states match.
    dr.cube_physics = Default::default();
    dr.servo.kp_scale = None;
    task.dr = Some(dr);
    let mut randomised = TaskEnv::new(scene, task, RewardConfig::default());
    let mut looks = std::collections::HashSet::new();
    for seed in 0..6 {
        plain.reset(seed);
        randomised.reset(seed);
        assert_eq!(
            plain.sim().save_state(),
            randomised.sim().save_state(),
            "seed {seed}"
        );
        let px = randomised.pixels().expect("pixels").to_vec();
        assert_ne!(
            Some(px.as_slice()),
            plain.pixels(),
            "seed {seed}: DR changed nothing"
        );
        looks.insert(pixels_sha(&px));
    }
    assert_eq!(looks.len(), 6);
}

#[test]
fn action_latency_delays_the_action() {
    let scene = common::default_scene();
    let mut task = TaskConfig::default();
    let mut dr = DrConfig::default();
    dr.servo.latency_steps = Some([2, 2]);
    task.dr = Some(dr);
    let mut delayed = TaskEnv::new(scene.clone(), task, RewardConfig::default());
    let mut direct = TaskEnv::new(scene, TaskConfig::default(), RewardConfig::default());
    delayed.reset(1);
    direct.reset(1);
    let t0 = delayed.target();
    let up = [0.0, 0.0, 1.0, 0.3];
    delayed.step(&up);
    delayed.step(&up);
    assert_eq!(
        delayed.target(),
        t0,
        "the first two steps apply the neutral action"
    );
    delayed.step(&up);
    direct.step(&up);
    assert!((delayed.target().z - direct.target().z).abs() < 1e-12);
    assert!(delayed.target().z > t0.z);
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_so101-lab"))
}

fn task_text(image: &str) -> String {
    let base = std::fs::read_to_string(default_configs_dir().join("task.toml")).expect("task");
    format!("{base}\n[obs.image]\n{image}\n")
}

#[test]
fn bad_image_and_dr_configs_name_the_file_and_field() {
    let dir = temp_dir("bad");
    let cases = [
        ("cameras = [\"nope\"]", "obs.image.cameras[0]", "wrist"),
        ("width = 0", "obs.image.width", "even"),
        ("height = 85", "obs.image.height", "even"),
    ];
    for (i, (image, field, hint)) in cases.iter().enumerate() {
        let task = write(&dir, &format!("task{i}.toml"), &task_text(image));
        let out = bin()
            .args(["record", "--episodes", "1", "--out"])
            .arg(dir.join(format!("out{i}")))
            .arg("--task")
            .arg(&task)
            .output()
            .expect("run");
        let err = String::from_utf8_lossy(&out.stderr);
        println!("{err}");
        assert!(!out.status.success());
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains(&task.display().to_string()), "{err}");
        assert!(err.contains(field) && err.contains(hint), "{err}");
    }
    let dr_text = std::fs::read_to_string(default_configs_dir().join("dr/default.toml"))
        .expect("dr")
        .replace("mass_kg = [0.02, 0.05]", "mass_kg = [0.05, 0.02]");
    let dr = write(&dir, "dr.toml", &dr_text);
    let out = bin()
        .args(["dr", "preview", "--seeds", "2", "--out"])
        .arg(dir.join("preview"))
        .arg("--dr")
        .arg(&dr)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    println!("{err}");
    assert!(!out.status.success());
    assert!(
        err.contains(&dr.display().to_string()) && err.contains("cube_physics.mass_kg"),
        "{err}"
    );
    assert!(err.contains("min <= max"), "{err}");
}

#[test]
fn dr_preview_writes_a_contact_sheet_and_record_writes_frames() {
    let dir = temp_dir("preview");
    let out = bin()
        .args([
            "dr", "preview", "--seeds", "6", "--cols", "3", "--size", "64x64", "--out",
        ])
        .arg(dir.join("sheet"))
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sheet = image::open(dir.join("sheet/contact_sheet.png"))
        .expect("png")
        .to_rgb8();
    assert_eq!(sheet.dimensions(), (3 * 66 + 2, 2 * 66 + 2));
    let samples: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("sheet/samples.json")).expect("json"))
            .expect("json");
    assert_eq!(samples.as_array().map(Vec::len), Some(6));
    // A second run never overwrites.
    let again = bin()
        .args(["dr", "preview", "--seeds", "1", "--out"])
        .arg(dir.join("sheet"))
        .output()
        .expect("run");
    assert!(!again.status.success());

    let task = write(&dir, "seeing.toml", &task_text("width = 64\nheight = 48"));
    for format in ["png", "mp4"] {
        let out_dir = dir.join(format!("rec-{format}"));
        let out = bin()
            .args(["record", "--episodes", "1", "--images", format, "--out"])
            .arg(&out_dir)
            .arg("--task")
            .arg(&task)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let episode = Episode::read(&out_dir.join("episode_000000.jsonl")).expect("episode");
        let frames = episode.steps.len() + 1;
        match format {
            "png" => {
                let dir = out_dir.join("episode_000000.frames");
                let n = std::fs::read_dir(&dir).expect("frames").count();
                assert_eq!(n, frames);
                let img = image::open(dir.join("frame_000000.png")).expect("png");
                assert_eq!((img.width(), img.height()), (64, 48));
            }
            _ => {
                let video = out_dir.join("episode_000000.mp4");
                let probe = Command::new("ffprobe")
                    .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
                    .args([
                        "-show_entries",
                        "stream=nb_read_frames,width,height",
                        "-of",
                        "csv=p=0",
                    ])
                    .arg(&video)
                    .output()
                    .expect("ffprobe");
                let text = String::from_utf8_lossy(&probe.stdout);
                assert_eq!(text.trim(), format!("64,48,{frames}"), "{text}");
            }
        }
    }
}

#[test]
fn a_policy_reading_the_cube_pose_is_refused_for_a_real_robot_task() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = bin()
        .arg("eval")
        .arg(root.join("assets/policies/lift_sac.safetensors"))
        .args(["--episodes", "1", "--task"])
        .arg(root.join("configs/task_wrist.toml"))
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    println!("{err}");
    assert!(!out.status.success());
    assert!(
        err.contains("privileged") && err.contains("cube_pos/x"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
