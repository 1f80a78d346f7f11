//! `PolicyPlotsPlugin`: what the driver did, step by step, for the current episode: reward terms
//! (stacked) and their total, the return so far, cube height against the 0.02 / 0.06 / 0.08 m
//! thresholds, grasp and pad-contact flags, and the policy's action mean and std per dimension.
//! Histories are filled at the fixed step from the session's last step and are bounded.

use bevy::prelude::*;

use super::state::{HISTORY_LEN, PlotHistory, SimClock, SimResource, SimSystems, StepSample};

/// Live plots of the driver.
pub struct PolicyPlotsPlugin;

impl Plugin for PolicyPlotsPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<PlotHistory>().add_systems(
            FixedUpdate,
            record_history
                .after(SimSystems::Step)
                .before(SimSystems::Publish),
        );
    }
}

/// Appends the session's last step if a new one was taken; a new episode starts a new history.
pub fn record_history(sim: Res<SimResource>, clock: Res<SimClock>, mut hist: ResMut<PlotHistory>) {
    if clock.steps == hist.seen_steps {
        return;
    }
    hist.seen_steps = clock.steps;
    let Some(last) = sim.session.last() else {
        return;
    };
    let info = &last.outcome.info;
    let new_episode = hist.samples.back().is_none_or(|s| info.step <= s.step);
    if new_episode {
        hist.samples.clear();
        hist.comparison.clear();
    }
    let cumulative = hist.samples.back().map_or(0.0, |s| s.cumulative) + last.outcome.reward;
    let mean_std = last
        .outputs
        .as_ref()
        .map(|o| (o.mean.clone(), o.std.clone()))
        .unwrap_or_default();
    let reward = last.outcome.reward;
    let q_alpha = last
        .outputs
        .as_ref()
        .map(|o| (o.q.clone(), o.alpha))
        .unwrap_or_default();
    let grasp = sim.session.env().sim().inspect_grasp();
    hist.samples.push_back(
        StepSample::of(info, reward, cumulative, last.action, mean_std, q_alpha).with_grasp(&grasp),
    );
    while hist.samples.len() > HISTORY_LEN {
        hist.samples.pop_front();
    }
}
