//! SAC persistence: checkpoints and policy files round-trip exactly; corrupt ones are errors.

use crate::common;

use std::path::PathBuf;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use so101_lab::episode::ConfigIdentity;
use so101_lab::rl::checkpoint::{self, CHECKPOINT_FORMAT, TrainState};
use so101_lab::rl::normalize::{ObsNormalizer, RewardScaler};
use so101_lab::rl::policy::{Policy, PolicyError};
use so101_lab::rl::replay::ReplayBuffer;
use so101_lab::rl::train::export_policy;
use so101_lab::rl::{Sac, SacConfig};
use so101_lab::task::{ObsConfig, RewardConfig, TaskConfig, obs::observation_space};

fn temp_dir(name: &str) -> PathBuf {
    common::temp_dir("so101-rl", name)
}

fn small_cfg() -> SacConfig {
    SacConfig {
        net_arch: vec![32, 32],
        batch_size: 16,
        ..SacConfig::default()
    }
}

/// A learner trained for a few updates, and its train state.
fn trained() -> (Sac, TrainState) {
    let cfg = small_cfg();
    let mut sac = Sac::new(21, 4, &cfg);
    let mut buf = ReplayBuffer::new(500, 21, 4);
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut norm = ObsNormalizer::new(21, 10.0, true);
    for _ in 0..200 {
        let o: Vec<f64> = (0..21).map(|_| rng.random_range(-2.0..2.0)).collect();
        norm.stats.update(&o);
        buf.push(
            &o,
            &[0.2, -0.1, 0.0, 0.5],
            rng.random_range(-1.0..1.0),
            &o,
            false,
        );
    }
    for _ in 0..20 {
        let mut b = buf.sample(16, &mut rng);
        b.obs = norm.apply_batch(&b.obs);
        b.next_obs = norm.apply_batch(&b.next_obs);
        sac.update(&b, 1.0);
    }
    let state = TrainState {
        format: CHECKPOINT_FORMAT.into(),
        version: 1,
        config: cfg.clone(),
        step: 1234,
        episodes: 5,
        updates: 20,
        adam_t: [
            sac.actor_opt.t,
            sac.critic_opt.t,
            sac.alpha_opt.as_ref().map_or(0, |o| o.t),
        ],
        obs_norm: norm,
        reward_scaler: RewardScaler::new(1, 0.99, 10.0, true),
        sample_rng: rng,
        action_rng: ChaCha8Rng::seed_from_u64(9),
        noise: sac.noise.clone(),
        best_success: 0.25,
    };
    (sac, state)
}

/// The learner as a policy file for the default layout and configs.
fn policy_of(sac: &Sac, state: &TrainState, notes: &str) -> Policy {
    let names = observation_space(&ObsConfig::default()).names;
    let scene = common::default_scene().config;
    let id = ConfigIdentity::of(&scene, &TaskConfig::default(), &RewardConfig::default());
    export_policy(sac, state, &names, &id, &small_cfg(), notes)
}

fn probe_obs() -> Vec<Vec<f32>> {
    (0..5)
        .map(|k| {
            (0..21)
                .map(|i| ((i * 7 + k * 3) % 11) as f32 * 0.2 - 1.0)
                .collect()
        })
        .collect()
}

#[test]
fn checkpoint_save_load_gives_identical_actions_and_state() {
    let dir = temp_dir("ckpt");
    let (mut sac, state) = trained();
    let path = checkpoint::save(&dir, &sac, &state).expect("save");
    let mut fresh = Sac::new(21, 4, &small_cfg());
    let loaded = checkpoint::load_into(&path, &mut fresh).expect("load");
    assert_eq!(loaded.step, 1234);
    assert_eq!(loaded.obs_norm, state.obs_norm);
    assert_eq!(fresh.critic_opt.t, sac.critic_opt.t);
    for o in probe_obs() {
        let (a, b) = (sac.act(&o, true).action, fresh.act(&o, true).action);
        assert_eq!(
            a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }
    // The sampling noise continues identically too.
    let o = probe_obs().remove(0);
    assert_eq!(sac.act(&o, false).action, fresh.act(&o, false).action);
}

#[test]
fn policy_file_round_trips_and_checks_layout() {
    let dir = temp_dir("policy");
    let (sac, state) = trained();
    let names = observation_space(&ObsConfig::default()).names;
    let mut policy = policy_of(&sac, &state, "test");
    let path = dir.join("p.safetensors");
    policy.save(&path).expect("save");
    let mut loaded = Policy::load(&path).expect("load");
    assert_eq!(loaded.meta, policy.meta);
    let raw: Vec<f64> = (0..21).map(|i| i as f64 * 0.1 - 1.0).collect();
    assert_eq!(policy.act(&raw).action, loaded.act(&raw).action);
    loaded.check_layout(&names, &path).expect("same layout");
    let other = observation_space(&ObsConfig {
        rot6d: true,
        ..ObsConfig::default()
    })
    .names;
    let err = loaded
        .check_layout(&other, &path)
        .expect_err("different layout");
    assert!(matches!(err, PolicyError::LayoutMismatch { .. }));
    assert!(err.to_string().contains("tcp_rot/col0_x"), "{err}");
}

#[test]
fn corrupt_or_truncated_files_are_clear_errors() {
    let dir = temp_dir("corrupt");
    let (sac, state) = trained();
    let ckpt = checkpoint::save(&dir, &sac, &state).expect("save");
    let names = observation_space(&ObsConfig::default()).names;
    let id = ConfigIdentity::of(
        &common::default_scene().config,
        &TaskConfig::default(),
        &RewardConfig::default(),
    );
    let pol = dir.join("p.safetensors");
    export_policy(&sac, &state, &names, &id, &small_cfg(), "")
        .save(&pol)
        .expect("save");
    for good in [&ckpt, &pol] {
        let bytes = std::fs::read(good).expect("read");
        let variants: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("truncated", bytes[..bytes.len() / 2].to_vec()),
            ("header only", bytes[..64.min(bytes.len())].to_vec()),
            ("garbage", b"definitely not safetensors".to_vec()),
            ("flipped length", {
                let mut b = bytes.clone();
                b[0] ^= 0x55;
                b
            }),
        ];
        for (name, b) in variants {
            let p = dir.join(format!("bad_{name}.safetensors"));
            std::fs::write(&p, &b).expect("write");
            let mut fresh = Sac::new(21, 4, &small_cfg());
            let msg = if good == &ckpt {
                checkpoint::load_into(&p, &mut fresh)
                    .expect_err(name)
                    .to_string()
            } else {
                Policy::load(&p).expect_err(name).to_string()
            };
            assert!(msg.contains(&p.display().to_string()), "{name}: {msg}");
        }
    }
    // A checkpoint is not a policy and vice versa.
    assert!(
        Policy::load(&ckpt)
            .expect_err("ckpt as policy")
            .to_string()
            .contains("policy")
    );
    let mut fresh = Sac::new(21, 4, &small_cfg());
    assert!(checkpoint::load_into(&pol, &mut fresh).is_err());
    // A checkpoint of a different architecture is refused.
    let mut bigger = Sac::new(
        21,
        4,
        &SacConfig {
            net_arch: vec![64, 64],
            ..small_cfg()
        },
    );
    let err = checkpoint::load_into(&ckpt, &mut bigger).expect_err("shape");
    assert!(err.to_string().contains("shape"), "{err}");
}

/// A bundled policy loads, fits the layout it records, and lifts the cube on 10 fresh seeds
/// (3,000,000..: neither its training, its in-training evaluations nor the documented held-out
/// evaluation used them).
fn bundled_policy_lifts(file: &str) -> Policy {
    bundled_policy_succeeds(file, 9)
}

/// Evaluates a bundled policy on its recorded task, seeds 3,000,000.. (never used in training or
/// in its held-out evaluation), and checks at least `min` of 10 succeed.
fn bundled_policy_succeeds(file: &str, min: usize) -> Policy {
    use so101_lab::rl::eval::evaluate;
    use so101_lab::task::TaskEnv;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let mut policy = Policy::load(&path).expect("bundled policy loads");
    let c = policy.meta.config.clone();
    let task: TaskConfig = toml::from_str(&c.task_toml).expect("task");
    let reward: RewardConfig = toml::from_str(&c.reward_toml).expect("reward");
    let mut env = TaskEnv::new(common::default_scene(), task, reward);
    policy
        .check_layout(&env.observation_space().names, &path)
        .expect("layout");
    let report = evaluate(&mut env, 10, 3_000_000, None, "bundled", |o, _| {
        let a = policy.act(o).action;
        (std::array::from_fn(|i| a[i]), None)
    })
    .expect("evaluates");
    println!(
        "{file}: {}/10 on seeds 3000000.., mean length {:.0}",
        report.successes, report.mean_length
    );
    assert!(report.successes >= min, "{report:?}");
    policy
}

#[test]
fn bundled_policy_lifts_the_cube() {
    bundled_policy_lifts("assets/policies/lift_sac.safetensors");
}

/// The from-reward-alone policy lifts too, and its file says it was trained without
/// demonstrations, by scratch.toml's recipe.
#[test]
fn bundled_scratch_policy_lifts_the_cube_and_records_no_demos() {
    let policy = bundled_policy_lifts("assets/policies/lift_sac_scratch.safetensors");
    let t = policy.meta.training.expect("training record");
    assert_eq!((t.method.as_str(), t.demos), ("sac", 0));
    let cfg: SacConfig = toml::from_str(&t.config_toml).expect("config");
    assert_eq!(cfg.demos, 0);
    assert!(cfg.n_step == 3 && cfg.asymmetric_critic && cfg.gripper_explore_prob > 0.0);
    assert_eq!(
        policy.meta.obs_names.len(),
        21,
        "the critic's extras stay out of the policy"
    );
}

/// The place policy (97/100 held out; 9/10 on these seeds) places on its recorded task, reads
/// the target, and was trained with the scripted demonstrations on place_v5 for 300k steps.
#[test]
fn bundled_place_policy_places_the_cube_and_reads_the_target() {
    let policy = bundled_policy_succeeds("assets/policies/place_sac.safetensors", 8);
    let names = &policy.meta.obs_names;
    assert_eq!(names.len(), 23);
    assert_eq!(names[21..], ["target_pos/x", "target_pos/y"]);
    let t = policy.meta.training.expect("training record");
    assert_eq!(t.demos, 50);
    assert_eq!(
        t.env_steps, 260_000,
        "the best evaluation of the 300k-step run"
    );
    let task: TaskConfig = toml::from_str(&policy.meta.config.task_toml).expect("task");
    assert_eq!(task.name, "place");
    let reward: RewardConfig = toml::from_str(&policy.meta.config.reward_toml).expect("reward");
    assert_eq!(reward.name, "place_v5");
}

/// Export to TorchScript, load it back: the same actions as the policy file; bad modules and
/// wrong layouts are errors.
#[test]
fn torchscript_export_round_trips_and_bad_modules_are_errors() {
    use so101_lab::rl::torchscript::TorchScriptActor;
    let dir = temp_dir("torchscript");
    let (sac, state) = trained();
    let mut policy = policy_of(&sac, &state, "");
    let pt = dir.join("actor.pt");
    policy.export_torchscript(&pt).expect("export");
    let actor = TorchScriptActor::load(&pt, 21).expect("load");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for _ in 0..20 {
        let o: Vec<f64> = (0..21).map(|_| rng.random_range(-1.5..1.5)).collect();
        let native = policy.act(&o).action;
        let traced = actor.act(&o).expect("acts");
        for (a, b) in native.iter().zip(traced) {
            assert!((a - b).abs() < 1e-5, "{native:?} vs {traced:?}");
        }
    }
    let err = TorchScriptActor::load(&pt, 24).expect_err("wrong layout");
    assert!(
        err.to_string().contains("[1, 24]") && !err.to_string().contains("frame #"),
        "{err}"
    );
    let bad = dir.join("bad.pt");
    std::fs::write(&bad, b"not a zip").expect("write");
    let err = TorchScriptActor::load(&bad, 21).expect_err("garbage");
    assert!(
        err.to_string().contains("not a TorchScript module"),
        "{err}"
    );
    assert!(TorchScriptActor::load(&dir.join("missing.pt"), 21).is_err());
}

#[test]
fn a_checkpoint_drives_live_with_its_critics_and_alpha() {
    use so101_lab::session::LoadedPolicy;
    let (mut sac, state) = trained();
    let dir = temp_dir("ckpt-live");
    let path = checkpoint::save(&dir, &sac, &state).expect("save");
    let mut live = LoadedPolicy::load(&path, 21).expect("a checkpoint loads as a policy");
    assert!(matches!(live, LoadedPolicy::Checkpoint { .. }));
    for obs in probe_obs() {
        let raw: Vec<f64> = obs.iter().map(|v| f64::from(*v)).collect();
        let mut x = Vec::new();
        state.obs_norm.apply(&raw, &mut x);
        let want = sac.act(&x, true);
        let got = live.act(&raw, None).expect("acts");
        assert_eq!(got.action, want.action, "same deterministic action");
        let q = tch::no_grad(|| {
            let o = tch::Tensor::from_slice(&x).reshape([1, 21]);
            let a: Vec<f32> = want.action.iter().map(|v| *v as f32).collect();
            let a = tch::Tensor::from_slice(&a).reshape([1, 4]);
            Vec::<f64>::try_from(
                sac.q_values(&o, &a)
                    .reshape([-1])
                    .to_kind(tch::Kind::Double),
            )
            .expect("q")
        });
        assert_eq!(got.q, q, "Q1/Q2 of the action");
        assert_eq!(got.alpha, Some(sac.alpha()));
    }
    // A file that is neither a policy nor a checkpoint reports the policy error.
    let junk = dir.join("junk.safetensors");
    std::fs::write(&junk, b"junk").expect("write");
    let err = LoadedPolicy::load(&junk, 21).expect_err("junk is refused");
    assert!(err.to_string().contains("junk.safetensors"), "{err}");
}
