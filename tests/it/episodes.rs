//! Episode files: round trip, exact re-simulation, crash safety, bad input, load time.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use so101_lab::episode::{
    ConfigIdentity, Episode, EpisodeError, EpisodeRecorder, header_for, resimulate, step_record,
};
use so101_lab::scripted::CartesianPlacePolicy;
use so101_lab::task::{RewardConfig, TaskConfig, TaskEnv};

fn temp_dir(name: &str) -> PathBuf {
    common::temp_dir("so101-ep", name)
}

fn assisted() -> TaskConfig {
    TaskConfig {
        gravity_feedforward: 1.0,
        top_down_ik: true,
        ..TaskConfig::default()
    }
}

/// Records one full scripted episode (300 steps unless it succeeds) and returns its path.
fn record(dir: &Path, seed: u64, task: TaskConfig) -> PathBuf {
    record_with(dir, seed, task, RewardConfig::default())
}

/// [`record`] with a reward version; the scripted controller picks and lifts, or on a task with
/// a target, picks and places.
fn record_with(dir: &Path, seed: u64, task: TaskConfig, reward: RewardConfig) -> PathBuf {
    let mut env = TaskEnv::new(common::default_scene(), task, reward);
    let obs = env.reset(seed);
    let path = dir.join(format!("ep_{seed}.jsonl"));
    let mut rec =
        EpisodeRecorder::create(&path, &header_for(&env, seed, "scripted", &obs)).expect("create");
    let mut policy = CartesianPlacePolicy::new();
    loop {
        let a = policy.act(&env);
        let out = env.step(&a);
        rec.record(&step_record(&env, &a, &out, None))
            .expect("record");
        if out.terminated || out.truncated {
            break;
        }
    }
    rec.finish().expect("finish")
}

#[test]
fn round_trip_and_bitwise_resimulation() {
    let dir = temp_dir("roundtrip");
    let path = record(&dir, 3, assisted());
    let ep = Episode::read(&path).expect("reads");
    assert!(ep.warnings.is_empty());
    assert!(!ep.steps.is_empty());
    let last = ep.steps.last().expect("steps");
    println!(
        "scripted episode: {} steps, success {}, return {:.1}",
        ep.steps.len(),
        last.info.success,
        ep.total_reward()
    );
    assert!(
        last.info.success,
        "the scripted policy succeeds with the assisted task"
    );
    assert_eq!(ep.header.obs_names.len(), 21);
    assert_eq!(ep.header.qpos_names[0], "shoulder_pan");
    assert!(ep.header.qpos_names.iter().any(|n| n == "cube/qw"));
    let report = resimulate(&ep, &path).expect("resim");
    assert_eq!(report.first_divergence, None, "diverged");
    assert_eq!(report.steps, ep.steps.len());
    // Episodes are never overwritten.
    let mut env = TaskEnv::new(common::default_scene(), assisted(), RewardConfig::default());
    let obs = env.reset(3);
    let err = EpisodeRecorder::create(&path, &header_for(&env, 3, "x", &obs)).expect_err("exists");
    assert!(matches!(err, EpisodeError::Exists { .. }));
}

#[test]
fn a_300_step_episode_loads_in_under_20_ms() {
    let dir = temp_dir("loadtime");
    // The reference task without aids does not succeed early: a full 300 steps.
    let path = record(&dir, 4, TaskConfig::default());
    let mut best = f64::INFINITY;
    let mut steps = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let ep = Episode::read(&path).expect("reads");
        best = best.min(t.elapsed().as_secs_f64());
        steps = ep.steps.len();
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "{steps}-step episode ({:.0} KiB) loads in {:.1} ms",
        size as f64 / 1024.0,
        best * 1e3
    );
    assert_eq!(steps, 300);
    assert!(best < 0.020, "load took {:.1} ms", best * 1e3);
}

#[test]
fn a_crash_keeps_every_complete_step() {
    let dir = temp_dir("crash");
    let path = record(&dir, 5, assisted());
    let bytes = std::fs::read(&path).expect("read");
    // Cut in the middle of the 11th step line, as a crash mid-write would.
    let line_starts: Vec<usize> = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i + 1)
        .collect();
    let cut = line_starts[10] + 100;
    let ep = Episode::parse(&bytes[..cut], &path).expect("partial file loads");
    assert_eq!(ep.steps.len(), 10);
    assert_eq!(ep.warnings.len(), 1, "{:?}", ep.warnings);
    println!("{}", ep.warnings[0]);
    // A recorder that never finished leaves its steps in <file>.partial.
    let mut env = TaskEnv::new(common::default_scene(), assisted(), RewardConfig::default());
    let obs = env.reset(6);
    let target = dir.join("unfinished.jsonl");
    let mut rec =
        EpisodeRecorder::create(&target, &header_for(&env, 6, "x", &obs)).expect("create");
    for _ in 0..7 {
        let a = [0.0, 0.0, -0.1, 0.0];
        let out = env.step(&a);
        rec.record(&step_record(&env, &a, &out, None))
            .expect("record");
    }
    drop(rec);
    let partial = dir.join("unfinished.jsonl.partial");
    assert_eq!(
        Episode::read(&partial).expect("partial reads").steps.len(),
        7
    );
    assert!(!target.exists());
}

#[test]
fn malformed_files_give_clear_errors() {
    let dir = temp_dir("malformed");
    let good = std::fs::read_to_string(record(&dir, 7, assisted())).expect("read");
    let header = good.lines().next().expect("header").to_owned();
    let step = good.lines().nth(1).expect("step").to_owned();
    let p = Path::new("bad.jsonl");
    type Case = (&'static str, String, fn(&EpisodeError) -> bool);
    let cases: Vec<Case> = vec![
        ("empty", String::new(), |e| {
            matches!(e, EpisodeError::Empty { .. })
        }),
        ("not json", "hello\n".into(), |e| {
            matches!(e, EpisodeError::NotAnEpisode { .. })
        }),
        ("other json", "{\"a\":1}\n".into(), |e| {
            matches!(e, EpisodeError::NotAnEpisode { .. })
        }),
        (
            "future version",
            format!(
                "{}\n",
                header.replacen("\"version\":1", "\"version\":99", 1)
            ),
            |e| matches!(e, EpisodeError::FutureVersion { found: 99, .. }),
        ),
        (
            "truncated header",
            header[..header.len() / 2].to_owned(),
            |e| {
                matches!(
                    e,
                    EpisodeError::NotAnEpisode { .. } | EpisodeError::Header { .. }
                )
            },
        ),
        (
            "header missing a field",
            format!("{}\n", header.replacen("\"seed\":", "\"seedx\":", 1)),
            |e| matches!(e, EpisodeError::Header { .. }),
        ),
        (
            "garbage step in the middle",
            format!("{header}\n{step}\nnot json\n{step}\n"),
            |e| {
                matches!(
                    e,
                    EpisodeError::AtStep {
                        line: 3,
                        step: 1,
                        ..
                    }
                )
            },
        ),
        (
            "step with a short observation",
            format!(
                "{header}\n{}\n",
                step.replacen("\"obs\":[", "\"obs\":[1.0,", 1)
            ),
            |e| matches!(e, EpisodeError::AtStep { line: 2, .. }),
        ),
    ];
    for (name, text, expected) in cases {
        let err = Episode::parse(text.as_bytes(), p).expect_err(name);
        println!("{name}: {err}");
        assert!(expected(&err), "{name}: unexpected {err:?}");
        assert!(
            err.to_string().contains("bad.jsonl"),
            "{name}: error does not name the file"
        );
    }
    let missing = Episode::read(Path::new("/nonexistent/ep.jsonl")).expect_err("missing");
    assert!(missing.to_string().contains("/nonexistent/ep.jsonl"));
}

/// Mutation fuzzing of the reader: random byte flips, insertions, deletions and truncations of
/// a real episode must never panic.
#[test]
fn fuzz_reader_never_panics() {
    let dir = temp_dir("fuzz");
    let good = std::fs::read(record(&dir, 8, assisted())).expect("read");
    let small: Vec<u8> = good
        .split(|&b| b == b'\n')
        .take(4)
        .collect::<Vec<_>>()
        .join(&b'\n');
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let alphabet = b"{}[]:,\"0123456789.-eE \ntruefalsnul";
    let mut outcomes = (0, 0);
    for _ in 0..3000 {
        let mut b = small.clone();
        for _ in 0..rng.random_range(1..8) {
            let len = b.len().max(1);
            match rng.random_range(0..4) {
                0 => {
                    let i = rng.random_range(0..len.min(b.len()).max(1));
                    if i < b.len() {
                        b[i] = alphabet[rng.random_range(0..alphabet.len())];
                    }
                }
                1 => {
                    let i = rng.random_range(0..=b.len());
                    b.insert(i, alphabet[rng.random_range(0..alphabet.len())]);
                }
                2 if !b.is_empty() => {
                    let i = rng.random_range(0..b.len());
                    b.remove(i);
                }
                _ => {
                    let i = rng.random_range(0..=b.len());
                    b.truncate(i);
                }
            }
        }
        match Episode::parse(&b, Path::new("fuzz.jsonl")) {
            Ok(_) => outcomes.0 += 1,
            Err(_) => outcomes.1 += 1,
        }
    }
    println!(
        "fuzz: {} parsed, {} rejected with an error, 0 panics",
        outcomes.0, outcomes.1
    );
    assert!(outcomes.1 > 0);
}

#[test]
fn a_different_config_is_reported() {
    let dir = temp_dir("config");
    let ep = Episode::read(&record(&dir, 9, assisted())).expect("reads");
    let scene = common::default_scene().config;
    let same = ConfigIdentity::of(&scene, &assisted(), &RewardConfig::default());
    assert!(ep.config_differences(&same).is_empty());
    assert_eq!(same.hash, ep.header.config.hash);
    let other_reward = RewardConfig {
        cap_lift_progress: true,
        ..RewardConfig::default()
    };
    let other = ConfigIdentity::of(&scene, &assisted(), &other_reward);
    assert_eq!(ep.config_differences(&other), vec!["reward"]);
    assert_ne!(other.hash, ep.header.config.hash);
}

#[test]
fn an_old_lift_episode_still_loads_and_resimulates_bit_for_bit() {
    // Recorded before tasks became configs (no task name, success predicate, target or place
    // reward terms in the file).
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/episodes/lift_v1_seed7.jsonl");
    let ep = Episode::read(&path).expect("reads");
    let toml = &ep.header.config.task_toml;
    assert!(
        !toml.contains("\nsuccess =") && !toml.contains("name ="),
        "{toml}"
    );
    assert_eq!(ep.steps.len(), 40);
    assert_eq!(ep.header.reward_terms.len(), 9);
    let report = resimulate(&ep, &path).expect("resim");
    assert_eq!(report.first_divergence, None, "diverged");
    assert_eq!(report.steps, 40);
    let replay = so101_lab::episode::Replay::open(&path).expect("replay");
    let task = replay.env().task();
    assert_eq!(task.name, "lift");
    assert_eq!(task.success, so101_lab::task::SuccessPredicate::LiftHold);
    assert!(task.target.is_none());
    assert!(!replay.markers().place_task);
}

#[test]
fn a_place_episode_records_its_task_and_target_and_replays_bit_for_bit() {
    let dir = temp_dir("place");
    let tasks = so101_lab::config::default_configs_dir().join("tasks");
    let task = TaskConfig::load(&tasks.join("place.toml")).expect("place");
    let path = record_with(&dir, 11, task, RewardConfig::place_v1());
    let ep = Episode::read(&path).expect("reads");
    assert!(ep.steps.last().expect("steps").info.success, "placed");
    assert!(ep.header.config.task_toml.contains("name = \"place\""));
    assert!(ep.header.reward_terms.iter().any(|t| t == "release"));
    assert_eq!(ep.header.initial_controller.goal, env_goal(&ep));
    let report = resimulate(&ep, &path).expect("resim");
    assert_eq!(report.first_divergence, None, "diverged");
    let replay = so101_lab::episode::Replay::open(&path).expect("replay");
    let m = replay.markers();
    assert!(m.place_task);
    let (g, c, p, r) = (
        m.grasp.unwrap(),
        m.carry.unwrap(),
        m.place.unwrap(),
        m.release.unwrap(),
    );
    assert!(
        g <= c && c < p && p <= r,
        "grasp {g} carry {c} place {p} release {r}"
    );
    let names: Vec<String> = m.named().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["grasp", "carry", "place", "release", "drop"]);
    let marker = replay
        .snapshot()
        .annotations
        .place_target
        .expect("target drawn");
    assert_eq!(marker.radius_m, 0.02);
}

fn env_goal(ep: &Episode) -> Option<[f64; 2]> {
    ep.steps[0]
        .info
        .place
        .map(|p| [p.target_pos[0], p.target_pos[1]])
}
