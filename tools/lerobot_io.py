#!/usr/bin/env python3
"""LeRobot datasets for so101-lab, written and read with LeRobot's own dataset class.

`so101-lab episode export --format lerobot` and `so101-lab episode import-lerobot` run this
script in the set-up's venv (third_party/sb3-venv, which holds `lerobot-dataset`, the standalone
LeRobotDataset package). The Rust side owns everything about the simulation and the units; this
file only moves arrays in and out of the dataset format (v3: parquet, meta/info.json, stats,
tasks), so the files are exactly what LeRobot itself writes and reads.

  lerobot_io.py write SPEC.json|- ROOT  build a dataset in ROOT (must not exist) from a spec
  lerobot_io.py read ROOT EPISODE       print one episode's fps, feature names and frames as JSON
  lerobot_io.py info ROOT               print the dataset's episode and frame counts and features

The result is the last line of stdout; a failure is one `error: ...` line on stderr (exit 2).
"""

import json
import math
import os
import sys
import traceback
from pathlib import Path

# A local dataset never needs the Hub; without this the class may try to reach it.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def die(message: str) -> None:
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(2)


try:
    import numpy as np
    from ledataset.datasets.lerobot_dataset import LeRobotDataset
except ImportError as e:
    die(f"{e}: LeRobot's dataset package is missing (tools/setup.sh installs it into the venv)")


def features_of(spec: dict) -> dict:
    n_state = len(spec["state_names"])
    feats = {
        "observation.state": {
            "dtype": "float32",
            "shape": (n_state,),
            "names": spec["state_names"],
        },
        "action": {
            "dtype": "float32",
            "shape": (n_state,),
            "names": spec["state_names"],
        },
        "next.reward": {"dtype": "float32", "shape": (1,), "names": None},
        "next.success": {"dtype": "bool", "shape": (1,), "names": None},
    }
    if spec.get("env_state_names"):
        feats["observation.environment_state"] = {
            "dtype": "float32",
            "shape": (len(spec["env_state_names"]),),
            "names": spec["env_state_names"],
        }
    return feats


def write(spec_path: str, root: str) -> None:
    if spec_path == "-":
        spec = json.load(sys.stdin)
    else:
        with open(spec_path) as f:
            spec = json.load(f)
    if Path(root).exists():
        die(f"{root} exists; a dataset is never overwritten")
    feats = features_of(spec)
    ds = LeRobotDataset.create(
        repo_id=spec["repo_id"],
        fps=int(spec["fps"]),
        features=feats,
        root=root,
        robot_type=spec["robot_type"],
        use_videos=False,
    )
    frames = 0
    for ep in spec["episodes"]:
        n = len(ep["state"])
        for i in range(n):
            frame = {
                "observation.state": np.asarray(ep["state"][i], dtype=np.float32),
                "action": np.asarray(ep["action"][i], dtype=np.float32),
                "next.reward": np.asarray([ep["reward"][i]], dtype=np.float32),
                "next.success": np.asarray([ep["success"][i]], dtype=bool),
                "task": ep["task"],
            }
            if "observation.environment_state" in feats:
                frame["observation.environment_state"] = np.asarray(
                    ep["env_state"][i], dtype=np.float32
                )
            ds.add_frame(frame)
        ds.save_episode()
        frames += n
    ds.finalize()
    print(json.dumps({"episodes": len(spec["episodes"]), "frames": frames}))


def load(root: str, episodes=None) -> LeRobotDataset:
    path = Path(root)
    if not (path / "meta" / "info.json").is_file():
        die(f"{root}: not a LeRobot dataset (no meta/info.json)")
    # The repo id only names the dataset; everything is read from `root`.
    return LeRobotDataset(f"local/{path.name}", root=path, episodes=episodes)


def column(ds: LeRobotDataset, key: str, lo: int, hi: int) -> list:
    rows = ds.hf_dataset.select(range(lo, hi))[key]
    out = []
    for frame, r in enumerate(rows):
        values = np.asarray(r, dtype=np.float64).reshape(-1).tolist()
        if not all(math.isfinite(v) for v in values):
            die(f"frame {frame} of the episode: `{key}` is not finite: {values}")
        out.append(values)
    return out


def names_of(feats: dict, key: str) -> list:
    """A feature's entry names: a list, or LeRobot's older {"motors": [...]} form."""
    names = feats[key].get("names")
    if isinstance(names, dict) and len(names) == 1:
        names = next(iter(names.values()))
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        die(f"`{key}` has no list of entry names (names: {names!r}); cannot tell the motors apart")
    return names


def read(root: str, episode: str) -> None:
    try:
        k = int(episode)
    except ValueError:
        die(f"episode `{episode}` is not a number")
    meta_ds = load(root)
    total = meta_ds.meta.total_episodes
    if not 0 <= k < total:
        die(f"{root} has {total} episodes (0..{total - 1}); episode {k} does not exist")
    feats = meta_ds.meta.features
    if "observation.state" not in feats:
        die(f"{root}: no `observation.state` feature (features: {sorted(feats)})")
    ep = meta_ds.meta.episodes[k]
    lo, hi = int(ep["dataset_from_index"]), int(ep["dataset_to_index"])
    out = {
        "fps": meta_ds.meta.fps,
        "robot_type": meta_ds.meta.robot_type,
        "total_episodes": total,
        "episode": k,
        "state_names": names_of(feats, "observation.state"),
        "state": column(meta_ds, "observation.state", lo, hi),
        "timestamp": [float(t) for t in meta_ds.hf_dataset.select(range(lo, hi))["timestamp"]],
    }
    print(json.dumps(out))


def info(root: str) -> None:
    ds = load(root)
    print(
        json.dumps(
            {
                "episodes": ds.meta.total_episodes,
                "frames": ds.meta.total_frames,
                "fps": ds.meta.fps,
                "robot_type": ds.meta.robot_type,
                "features": sorted(ds.meta.features),
                "state_names": ds.meta.features["observation.state"]["names"],
                "len": len(ds),
            }
        )
    )


def main() -> None:
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "write":
        write(args[1], args[2])
    elif len(args) == 3 and args[0] == "read":
        read(args[1], args[2])
    elif len(args) == 2 and args[0] == "info":
        info(args[1])
    else:
        die("usage: lerobot_io.py write SPEC|- ROOT | read ROOT EPISODE | info ROOT")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as e:  # LeRobot's own errors: the traceback for a person, one line for us
        traceback.print_exc()
        die(f"{type(e).__name__}: {e}")
