"""Re-simulates a so101-lab episode in MuJoCo's own Python bindings and reports, step by step,
whether the recorded physics state is reproduced bit for bit.

    python tools/resim_episode.py MODEL.mjb|MODEL.xml EPISODE.jsonl

The episode's initial state is restored with mj_setState (the integration state, which holds
warm starts), then each env step sets the recorded servo targets and runs the task's substeps
with mj_step. Prints one JSON object: steps, identical_steps, first_mismatch, max_abs_diff.
"""

import json
import sys
import tomllib

import mujoco
import numpy as np


def main(model_path: str, episode_path: str) -> None:
    if model_path.endswith(".mjb"):
        model = mujoco.MjModel.from_binary_path(model_path)
    else:
        model = mujoco.MjModel.from_xml_path(model_path)
    data = mujoco.MjData(model)
    spec = mujoco.mjtState.mjSTATE_INTEGRATION
    with open(episode_path) as f:
        header = json.loads(f.readline())
        steps = [json.loads(line) for line in f if line.strip()]
    substeps = tomllib.loads(header["config"]["task_toml"])["substeps"]
    initial = np.array(header["initial_state"]["values"], dtype=np.float64)
    if initial.size != mujoco.mj_stateSize(model, spec):
        sys.exit(f"{model_path}: the episode's state has {initial.size} values, the model "
                 f"{mujoco.mj_stateSize(model, spec)}")
    mujoco.mj_setState(model, data, initial, spec)
    state = np.empty(initial.size, dtype=np.float64)
    identical, first_mismatch, max_abs = 0, None, 0.0
    for k, step in enumerate(steps):
        data.ctrl[:] = step["ctrl"]
        for _ in range(substeps):
            mujoco.mj_step(model, data)
        mujoco.mj_getState(model, data, state, spec)
        recorded = np.array(step["state"]["values"], dtype=np.float64)
        if np.array_equal(state.view(np.uint64), recorded.view(np.uint64)):
            identical += 1
        elif first_mismatch is None:
            first_mismatch = k
        max_abs = max(max_abs, float(np.max(np.abs(state - recorded))))
    print(json.dumps({
        "steps": len(steps),
        "identical_steps": identical,
        "first_mismatch": first_mismatch,
        "max_abs_diff": max_abs,
    }))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
