//! Gripper-aware exploration: random gripper commands held for a while, overriding the policy's
//! gripper action during training (never in evaluation).
//!
//! Why: SAC explores with Gaussian noise around a tanh-squashed mean. A policy that has learned
//! to park above the cube with its gripper saturated open (the reach reward pays for that)
//! samples a closing command almost never, so no grasp, and no grasp reward, is ever seen; on
//! some training seeds the entropy coefficient has collapsed before the first grasp. A held
//! random command closes (or opens) the jaw for long enough to matter; replay stores the executed
//! action, so the off-policy learner sees what happened.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Index of the gripper in the action.
pub const GRIPPER: usize = 3;

/// One env's exploration state: steps left of the current hold, and its command.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GripperHold {
    /// Steps left (0 = the policy's own gripper action).
    pub left: usize,
    /// The held command in [-1, 1].
    pub command: f64,
}

/// Applies the holds to one step's actions: an env without a hold starts one with probability
/// `prob` (a uniform command in [-1, 1], held `steps[0]..=steps[1]` steps). Draws nothing when
/// `prob` is 0, so a run without it keeps its random stream.
pub fn override_gripper(
    actions: &mut [[f64; 4]],
    holds: &mut [GripperHold],
    rng: &mut ChaCha8Rng,
    prob: f64,
    steps: [usize; 2],
) {
    if prob <= 0.0 {
        return;
    }
    for (a, hold) in actions.iter_mut().zip(holds.iter_mut()) {
        if hold.left == 0 && rng.random::<f64>() < prob {
            *hold = GripperHold {
                left: rng.random_range(steps[0]..=steps[1].max(steps[0])),
                command: rng.random_range(-1.0..=1.0),
            };
        }
        if hold.left > 0 {
            hold.left -= 1;
            a[GRIPPER] = hold.command;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn holds_override_only_the_gripper_for_their_length() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut holds = vec![GripperHold::default(); 2];
        let policy = [0.1, -0.2, 0.3, 0.9];
        let mut first = [policy; 2];
        override_gripper(&mut first, &mut holds, &mut rng, 1.0, [3, 3]);
        for (a, h) in first.iter().zip(&holds) {
            assert_eq!(&a[..3], &policy[..3], "arm actions untouched");
            assert_eq!(a[GRIPPER], h.command);
            assert!((-1.0..=1.0).contains(&h.command));
            assert_eq!(h.left, 2);
        }
        // The same command for the hold's 3 steps (prob 0 starts none after it), then the
        // policy's own again.
        let commands: Vec<f64> = holds.iter().map(|h| h.command).collect();
        for step in 1..4 {
            let mut a = [policy; 2];
            override_gripper(&mut a, &mut holds, &mut rng, 1e-12, [3, 3]);
            let expect: Vec<f64> = if step < 3 {
                commands.clone()
            } else {
                vec![policy[GRIPPER]; 2]
            };
            assert_eq!(vec![a[0][GRIPPER], a[1][GRIPPER]], expect, "step {step}");
        }
    }

    #[test]
    fn off_draws_nothing() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let before = rng.clone();
        let mut a = [[0.0, 0.0, 0.0, 0.5]];
        override_gripper(&mut a, &mut [GripperHold::default()], &mut rng, 0.0, [1, 2]);
        assert_eq!(a[0][GRIPPER], 0.5);
        assert_eq!(rng, before);
    }
}
