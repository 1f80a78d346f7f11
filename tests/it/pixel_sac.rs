//! Pixel SAC (DrQ-v2 style): the shared encoder learns from the critic only, the learner can
//! start from a distilled student, and the CLI trains on a tiny CPU budget.

use crate::common;

use std::process::Command;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use so101_lab::rl::normalize::ObsNormalizer;
use so101_lab::rl::pixel::{
    EncoderConfig, ImageShape, PixelActor, PixelReplay, PixelSac, PixelSacParams, Transition,
};
use tch::Tensor;

const SHAPE: ImageShape = ImageShape {
    planes: 3,
    height: 24,
    width: 24,
};

fn params(actor_lr: f64, critic_lr: f64) -> PixelSacParams {
    PixelSacParams {
        seed: 4,
        actor_lr,
        critic_lr,
        gamma: 0.99,
        tau: 0.01,
        init_alpha: 0.1,
        shift_px: 2,
        critic_warmup: 0,
        encoder: EncoderConfig {
            channels: vec![8, 8],
            strides: vec![2, 2],
            kernel: 3,
            features: 16,
        },
        hidden: vec![32],
    }
}

fn replay() -> PixelReplay {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut r = PixelReplay::new(SHAPE.len(), 5, 100);
    for _ in 0..64 {
        let img: Vec<u8> = (0..SHAPE.len()).map(|_| rng.random()).collect();
        let next: Vec<u8> = (0..SHAPE.len()).map(|_| rng.random()).collect();
        let s: Vec<f64> = (0..5).map(|_| rng.random_range(-1.0..1.0)).collect();
        let a: [f64; 4] = std::array::from_fn(|_| rng.random_range(-1.0..1.0));
        r.push(&Transition {
            image: &img,
            state: &s,
            action: &a,
            reward: rng.random_range(0.0..1.0),
            next_image: &next,
            next_state: &s,
            done: false,
        });
    }
    r
}

fn snapshot(ts: &[&Tensor]) -> Vec<Tensor> {
    ts.iter().map(|t| t.detach().copy()).collect()
}

fn changed(before: &[Tensor], now: &[&Tensor]) -> bool {
    before.iter().zip(now).any(|(a, b)| !a.equal(b))
}

#[test]
fn only_the_critic_trains_the_shared_encoder() {
    let norm = ObsNormalizer::new(5, 10.0, false);
    let data = replay();
    // Actor learning only: the head moves, the encoder does not.
    let mut sac = PixelSac::new(SHAPE, 5, &params(1e-3, 0.0)).expect("learner");
    let (enc, head) = (
        snapshot(&sac.actor.encoder.parameters()),
        snapshot(&sac.actor.head.parameters()),
    );
    for _ in 0..3 {
        let s = sac.update(&data, 16, &norm);
        assert!(s.critic_loss.is_finite() && s.actor_loss.is_finite());
    }
    assert!(
        !changed(&enc, &sac.actor.encoder.parameters()),
        "the actor loss moved the encoder"
    );
    assert!(changed(&head, &sac.actor.head.parameters()));
    // Critic learning only: the encoder moves (through the critic loss), the head does not.
    let mut sac = PixelSac::new(SHAPE, 5, &params(0.0, 1e-3)).expect("learner");
    let (enc, head) = (
        snapshot(&sac.actor.encoder.parameters()),
        snapshot(&sac.actor.head.parameters()),
    );
    sac.update(&data, 16, &norm);
    assert!(
        changed(&enc, &sac.actor.encoder.parameters()),
        "the critic loss did not train the encoder"
    );
    assert!(!changed(&head, &sac.actor.head.parameters()));
}

#[test]
fn the_critic_warm_up_holds_the_encoder_and_the_actor_then_releases_them() {
    let norm = ObsNormalizer::new(5, 10.0, false);
    let data = replay();
    let mut p = params(1e-3, 1e-3);
    p.critic_warmup = 3;
    let mut sac = PixelSac::new(SHAPE, 5, &p).expect("learner");
    let (enc, head, critic) = (
        snapshot(&sac.actor.encoder.parameters()),
        snapshot(&sac.actor.head.parameters()),
        snapshot(&sac.critic.parameters()),
    );
    let alpha = sac.alpha();
    for _ in 0..3 {
        sac.update(&data, 16, &norm);
    }
    assert!(
        changed(&critic, &sac.critic.parameters()),
        "the critics did not learn"
    );
    assert!(
        !changed(&enc, &sac.actor.encoder.parameters()),
        "encoder moved in the warm-up"
    );
    assert!(
        !changed(&head, &sac.actor.head.parameters()),
        "actor moved in the warm-up"
    );
    assert_eq!(sac.alpha(), alpha);
    sac.update(&data, 16, &norm);
    assert!(changed(&enc, &sac.actor.encoder.parameters()));
    assert!(changed(&head, &sac.actor.head.parameters()));
    assert_ne!(sac.alpha(), alpha);
}

#[test]
fn the_learner_can_start_from_a_distilled_student() {
    let p = params(1e-3, 1e-3);
    let mut init = so101_lab::rl::rng::TorchInit::new(99);
    let student =
        PixelActor::new(SHAPE, 5, 4, &p.encoder, &p.hidden, false, &mut init).expect("student");
    let mut sac = PixelSac::new(SHAPE, 5, &p).expect("learner");
    sac.init_from(&student).expect("same shapes");
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let img: Vec<u8> = (0..SHAPE.len()).map(|_| rng.random()).collect();
    let state: Vec<f32> = (0..5).map(|_| rng.random_range(-1.0..1.0)).collect();
    let theirs = tch::no_grad(|| {
        let i = so101_lab::rl::pixel::images_tensor(&img, 1, 3, 24, 24);
        let s = Tensor::from_slice(&state).reshape([1, 5]);
        Vec::<f64>::try_from(
            student
                .action(&i, &s)
                .reshape([-1])
                .to_kind(tch::Kind::Double),
        )
        .expect("vec")
    });
    let ours = sac.act(&img, &state, true);
    for k in 0..4 {
        assert!((ours[k] - theirs[k]).abs() < 1e-6, "{ours:?} vs {theirs:?}");
    }
}

#[test]
fn train_pixel_runs_on_a_tiny_cpu_budget() {
    let dir = common::temp_dir("so101-pixel-sac", "cli");
    let task = common::tiny_wrist_task(&dir);
    let cfg = format!(
        "task = \"{}\"\nenvs = 2\nthreads = 1\ntorch_threads = 1\ntotal_timesteps = 60\nlearning_starts = 20\nutd = 1.0\nbatch_size = 8\nbuffer_size = 100\nhidden = [32]\neval_every = 0\neval_episodes = 1\n[encoder]\nchannels = [8, 8]\nstrides = [2, 2]\nkernel = 3\nfeatures = 16\n",
        task.display()
    );
    std::fs::write(dir.join("tiny.toml"), cfg).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_so101-lab"))
        .args(["train-pixel", "--config"])
        .arg(dir.join("tiny.toml"))
        .arg("--out")
        .arg(dir.join("run"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["env_steps"], 60);
    // One update per env step from the vec step that reaches learning_starts: steps 20..=60.
    assert_eq!(report["updates"], 42);
    // The report splits the wall time: env stepping, updates and evaluations each took some.
    let secs = |k: &str| report[k].as_f64().unwrap_or(-1.0);
    let wall = secs("wall_secs");
    for part in ["env_secs", "update_secs", "eval_secs"] {
        assert!(secs(part) > 0.0 && secs(part) < wall, "{part}: {report}");
    }
    assert!(secs("env_secs") + secs("update_secs") + secs("eval_secs") <= wall);
    let rate = 42.0 / secs("update_secs");
    assert!(
        (secs("updates_per_sec") - rate).abs() < 1e-6 * rate,
        "{report}"
    );
    let eval = Command::new(env!("CARGO_BIN_EXE_so101-lab"))
        .arg("eval")
        .arg(dir.join("run/policy_final.safetensors"))
        .args(["--episodes", "1"])
        .output()
        .expect("eval");
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
}
