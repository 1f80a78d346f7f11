//! The asymmetric critic's extra inputs: state only a simulator knows, read by the critics and
//! never by the actor (so the exported policy keeps the env's observation layout).
//!
//! Why these: the lift's success bonus arrives after 150 consecutive held steps, and the hold
//! counter is in no observation, so a critic that reads only the actor's observation cannot
//! tell step 10 of a hold from step 140. Pad contacts and the grasp flag separate a one-pad
//! touch (the failure of policies that hover with the jaw open) from a grasp, and the cube's
//! orientation and offset from the TCP say whether a closing jaw will catch it.
//!
//! The critic's input is `[observation, extras, action]`; replay stores `[observation, extras]`
//! as one vector, and the actor reads its first `obs_dim` columns.

use crate::task::{StepInfo, TaskEnv};

/// Names of the extras, in input order.
pub const NAMES: [&str; 10] = [
    "critic/static_pad_contact",
    "critic/moving_pad_contact",
    "critic/grasping",
    "critic/hold_fraction",
    "critic/cube_quat/w",
    "critic/cube_quat/x",
    "critic/cube_quat/y",
    "critic/cube_quat/z",
    "critic/cube_from_tcp/xy",
    "critic/cube_from_tcp/z",
];

/// Number of extras.
pub const DIM: usize = NAMES.len();

fn flag(b: bool) -> f64 {
    f64::from(u8::from(b))
}

/// The extras after a step, from its info (the state the step ended in, before any reset).
pub fn from_info(info: &StepInfo, success_hold_steps: usize) -> [f64; DIM] {
    let d: [f64; 3] = std::array::from_fn(|k| info.cube_pos[k] - info.tcp_pos[k]);
    let q = info.cube_quat;
    [
        flag(info.static_pad_contact),
        flag(info.moving_pad_contact),
        flag(info.grasping),
        info.hold_count as f64 / success_hold_steps.max(1) as f64,
        q[0],
        q[1],
        q[2],
        q[3],
        d[0].hypot(d[1]),
        d[2],
    ]
}

/// The asymmetric critic's extras after a step (`hold` = the task's success hold steps, when
/// the learner has an asymmetric critic); empty otherwise.
pub(super) fn extras_after(hold: Option<usize>, info: &StepInfo) -> Vec<f64> {
    hold.map_or_else(Vec::new, |h| from_info(info, h).to_vec())
}

/// The extras of an env's current state with no step taken yet (just reset): no hold so far.
pub fn at_reset(env: &TaskEnv) -> [f64; DIM] {
    let sim = env.sim();
    let grasp = sim.grasp_state();
    let (cube, tcp) = (sim.cube_pose(), sim.tcp_pose());
    let q = cube.quat();
    let d = cube.pos - tcp.pos;
    [
        flag(grasp.static_pad_contact),
        flag(grasp.moving_pad_contact),
        flag(grasp.grasping),
        0.0,
        q.w,
        q.i,
        q.j,
        q.k,
        d.x.hypot(d.y),
        d.z,
    ]
}

/// `obs` followed by `extras`: one replay row of the asymmetric learner.
pub fn joined(obs: &[f64], extras: &[f64]) -> Vec<f64> {
    let mut v = Vec::with_capacity(obs.len() + extras.len());
    v.extend_from_slice(obs);
    v.extend_from_slice(extras);
    v
}
