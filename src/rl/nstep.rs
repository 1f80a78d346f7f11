//! n-step returns: folds each env's last n transitions into one replay transition whose reward
//! is the discounted sum and whose bootstrap discount is gamma^m (m <= n steps actually folded).
//!
//! Why: the lift reward pays for a grasp many steps after the gripper starts closing; a one-step
//! target moves that credit back one step per update, an n-step target n steps at a time. The
//! entropy bonuses of the folded intermediate steps are left out, as in most n-step SAC
//! implementations (the bootstrap keeps the entropy of the state it bootstraps from).

use std::collections::VecDeque;

/// One folded transition, ready for the replay buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    /// Observation of the first folded step.
    pub obs: Vec<f64>,
    /// Action of the first folded step.
    pub action: Vec<f64>,
    /// sum_k gamma^k r_k over the folded steps.
    pub reward: f64,
    /// Observation after the last folded step (the final observation at an episode's end).
    pub next_obs: Vec<f64>,
    /// The last folded step ended in a terminal state (no bootstrap).
    pub terminal: bool,
    /// gamma^m, m the number of folded steps: the factor of the bootstrap value.
    pub discount: f64,
}

#[derive(Debug, Clone)]
struct Pending {
    obs: Vec<f64>,
    action: Vec<f64>,
    reward: f64,
}

/// Per-env queues of the last n transitions.
#[derive(Debug, Clone)]
pub struct NStepFolder {
    n: usize,
    gamma: f64,
    queues: Vec<VecDeque<Pending>>,
}

impl NStepFolder {
    /// Folds `n` steps (1 = plain one-step transitions) for `n_envs` envs with discount `gamma`.
    pub fn new(n: usize, gamma: f64, n_envs: usize) -> Self {
        Self {
            n: n.max(1),
            gamma,
            queues: vec![VecDeque::new(); n_envs.max(1)],
        }
    }

    /// Adds env `env`'s transition and returns the transitions it completes: none while the
    /// queue fills, one when it holds n steps, and every pending one when the episode ends
    /// (`terminal` or `truncated`), each bootstrapping from `next_obs` (or not, if terminal).
    #[allow(
        clippy::too_many_arguments,
        reason = "one env step, as the replay buffer takes it"
    )]
    pub fn push(
        &mut self,
        env: usize,
        obs: &[f64],
        action: &[f64],
        reward: f64,
        next_obs: &[f64],
        terminal: bool,
        truncated: bool,
    ) -> Vec<Folded> {
        let (n, gamma) = (self.n, self.gamma);
        let q = &mut self.queues[env];
        q.push_back(Pending {
            obs: obs.to_vec(),
            action: action.to_vec(),
            reward,
        });
        let fold = |q: &VecDeque<Pending>, terminal: bool| {
            let (mut ret, mut discount) = (0.0, 1.0);
            for p in q {
                ret += discount * p.reward;
                discount *= gamma;
            }
            let first = &q[0];
            Folded {
                obs: first.obs.clone(),
                action: first.action.clone(),
                reward: ret,
                next_obs: next_obs.to_vec(),
                terminal,
                discount,
            }
        };
        let mut out = Vec::new();
        if terminal || truncated {
            while !q.is_empty() {
                out.push(fold(q, terminal));
                q.pop_front();
            }
        } else if q.len() >= n {
            out.push(fold(q, false));
            q.pop_front();
        }
        out
    }

    /// Drops every pending transition (a reset that was not an episode end, e.g. a resume).
    pub fn clear(&mut self) {
        self.queues.iter_mut().for_each(VecDeque::clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(folder: &mut NStepFolder, rewards: &[f64], end: (bool, bool)) -> Vec<Folded> {
        let mut out = Vec::new();
        for (t, &r) in rewards.iter().enumerate() {
            let last = t + 1 == rewards.len();
            let (term, trunc) = if last { end } else { (false, false) };
            out.extend(folder.push(
                0,
                &[t as f64],
                &[10.0 + t as f64],
                r,
                &[t as f64 + 1.0],
                term,
                trunc,
            ));
        }
        out
    }

    /// gamma 0.5, n 3, rewards 1 2 4 8 16, terminal at the fifth step. By hand:
    /// s0: 1 + 0.5*2 + 0.25*4 = 3, bootstrap from s3 with 0.125;
    /// s1: 2 + 2 + 2 = 6 -> s4, 0.125;
    /// at the end, s2: 4 + 4 + 4 = 12, s3: 8 + 8 = 16, s4: 16, all terminal (no bootstrap).
    #[test]
    fn three_step_targets_on_a_hand_computed_trajectory() {
        let mut f = NStepFolder::new(3, 0.5, 1);
        let out = run(&mut f, &[1.0, 2.0, 4.0, 8.0, 16.0], (true, false));
        let got: Vec<(f64, f64, f64, bool, f64, f64)> = out
            .iter()
            .map(|t| {
                (
                    t.obs[0],
                    t.action[0],
                    t.reward,
                    t.terminal,
                    t.discount,
                    t.next_obs[0],
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (0.0, 10.0, 3.0, false, 0.125, 3.0),
                (1.0, 11.0, 6.0, false, 0.125, 4.0),
                (2.0, 12.0, 12.0, true, 0.125, 5.0),
                (3.0, 13.0, 16.0, true, 0.25, 5.0),
                (4.0, 14.0, 16.0, true, 0.5, 5.0),
            ]
        );
    }

    /// A truncation flushes the queue like a terminal, but every transition bootstraps.
    #[test]
    fn truncation_flushes_and_bootstraps() {
        let mut f = NStepFolder::new(4, 0.9, 1);
        let out = run(&mut f, &[1.0, 1.0], (false, true));
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|t| !t.terminal));
        assert!((out[0].reward - 1.9).abs() < 1e-12);
        assert!((out[0].discount - 0.81).abs() < 1e-12);
        assert_eq!((out[1].reward, out[1].discount), (1.0, 0.9));
        assert!(out.iter().all(|t| t.next_obs == vec![2.0]));
    }

    /// n = 1 gives back exactly the one-step transitions.
    #[test]
    fn one_step_is_the_identity() {
        let mut f = NStepFolder::new(1, 0.99, 1);
        let out = run(&mut f, &[0.5, -1.0, 2.0], (true, false));
        let rewards: Vec<f64> = out.iter().map(|t| t.reward).collect();
        assert_eq!(rewards, vec![0.5, -1.0, 2.0]);
        assert!(out.iter().all(|t| t.discount == 0.99));
        assert_eq!(
            out.iter().map(|t| t.terminal).collect::<Vec<_>>(),
            vec![false, false, true]
        );
    }

    /// Envs fold independently.
    #[test]
    fn envs_do_not_mix() {
        let mut f = NStepFolder::new(2, 0.5, 2);
        assert!(
            f.push(0, &[0.0], &[0.0], 1.0, &[1.0], false, false)
                .is_empty()
        );
        assert!(
            f.push(1, &[5.0], &[0.0], 8.0, &[6.0], false, false)
                .is_empty()
        );
        let a = f.push(0, &[1.0], &[0.0], 2.0, &[2.0], false, false);
        assert_eq!(
            (a[0].obs[0], a[0].reward, a[0].next_obs[0]),
            (0.0, 2.0, 2.0)
        );
        let b = f.push(1, &[6.0], &[0.0], 4.0, &[7.0], false, false);
        assert_eq!(
            (b[0].obs[0], b[0].reward, b[0].next_obs[0]),
            (5.0, 10.0, 7.0)
        );
    }
}
