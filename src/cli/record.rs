//! `so101-lab record`: episodes of the lift task written with the episode recorder.

use anyhow::Context;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{RecordArgs, RecordPolicy};
use crate::episode::{EpisodeRecorder, header_for, step_record};
use crate::scripted::CartesianPickPolicy;
use crate::task::LiftEnv;

/// Records `args.episodes` episodes into `args.out`.
pub fn run(args: &RecordArgs) -> anyhow::Result<()> {
    let scene = crate::scene::build(&args.scene.load()?).context("building the scene")?;
    let (mut task, reward) = args.task.load()?;
    if let Some(mode) = args.reset {
        task.reset_mode = mode;
    }
    let mut env = LiftEnv::new(scene, task, reward);
    let policy_name = match args.policy {
        RecordPolicy::Scripted => "scripted",
        RecordPolicy::Random => "random",
    };
    let mut successes = 0;
    for k in 0..args.episodes as u64 {
        let seed = args.seed + k;
        let path = args.out.join(format!("episode_{seed:06}.jsonl"));
        let obs = env.reset(seed);
        let mut rec = EpisodeRecorder::create(&path, &header_for(&env, seed, policy_name, &obs))?;
        let mut scripted = CartesianPickPolicy::new();
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        let mut ret = 0.0;
        loop {
            let action = match args.policy {
                RecordPolicy::Scripted => scripted.act(&env),
                RecordPolicy::Random => std::array::from_fn(|_| rng.random_range(-1.0..=1.0)),
            };
            let out = env.step(&action);
            ret += out.reward;
            rec.record(&step_record(&env, &action, &out, None))?;
            if out.terminated || out.truncated {
                successes += usize::from(out.info.success);
                println!(
                    "{}: {} steps, return {ret:.2}, {}",
                    path.display(),
                    out.info.step,
                    if out.info.success {
                        "success"
                    } else if out.info.unstable {
                        "unstable"
                    } else {
                        "no success"
                    }
                );
                break;
            }
        }
        rec.finish()?;
    }
    println!("{successes}/{} episodes succeeded", args.episodes);
    Ok(())
}
