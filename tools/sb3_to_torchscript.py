#!/usr/bin/env python3
"""Export a Stable-Baselines3 SAC model to a TorchScript actor that so101-lab can evaluate.

The exported module maps a raw observation batch [B, obs] to the deterministic action [B, act]
in [-1, 1] (tanh of the Gaussian mean), with the VecNormalize observation statistics baked in.

    python tools/sb3_to_torchscript.py model.zip actor.pt [--vecnormalize vecnormalize.pkl]
    so101-lab eval actor.pt --episodes 100 --task configs/task.toml
"""
import argparse
import pickle

import torch
from stable_baselines3 import SAC


class DeterministicActor(torch.nn.Module):
    """Observation normalisation followed by SB3's actor in deterministic mode."""

    def __init__(self, actor, mean, var, clip, eps):
        super().__init__()
        self.actor = actor
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.sqrt(torch.as_tensor(var, dtype=torch.float32) + eps))
        self.clip = float(clip)

    def forward(self, obs):
        x = torch.clamp((obs - self.mean) / self.std, -self.clip, self.clip)
        return self.actor(x, deterministic=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="SB3 SAC .zip")
    parser.add_argument("out", help="output TorchScript .pt")
    parser.add_argument("--vecnormalize", help="VecNormalize statistics (.pkl) saved with the model")
    args = parser.parse_args()

    model = SAC.load(args.model, device="cpu")
    obs_dim = model.observation_space.shape[0]
    if args.vecnormalize:
        with open(args.vecnormalize, "rb") as f:
            vn = pickle.load(f)
        mean, var, clip, eps = vn.obs_rms.mean, vn.obs_rms.var, vn.clip_obs, vn.epsilon
        if not vn.norm_obs:
            mean, var, clip, eps = [0.0] * obs_dim, [1.0] * obs_dim, float("inf"), 0.0
    else:
        mean, var, clip, eps = [0.0] * obs_dim, [1.0] * obs_dim, float("inf"), 0.0

    module = DeterministicActor(model.actor, mean, var, clip, eps).eval()
    example = torch.zeros(1, obs_dim)
    with torch.no_grad():
        traced = torch.jit.trace(module, example)
    traced.save(args.out)
    print(f"wrote {args.out}: observation [B, {obs_dim}] -> action [B, {model.action_space.shape[0]}]")


if __name__ == "__main__":
    main()
