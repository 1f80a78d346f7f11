"""Runs a so101-lab sweep on a Ray cluster: one Ray task per trial, each a `so101-lab sweep
--only TRIAL` process (train, then the held-out evaluation), then the results table.

    python tools/ray_sweep.py --config configs/sweeps/ablation_demo.toml --out runs/sweeps/x \\
        [--address ray://HEAD:10001 | auto | local] [--so101 PATH/TO/so101-lab]

Every node must see the repository, the `so101-lab` binary and the --out folder at the same
paths (a shared file system). `local` starts a private Ray instance on this machine.
"""

import argparse
import json
import subprocess
import sys

import ray


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--address", default="auto")
    ap.add_argument("--so101", default="so101-lab")
    ap.add_argument("--cpus-per-trial", type=float, default=None,
                    help="Ray CPUs reserved per trial (default: the sweep's torch_threads)")
    args = ap.parse_args()
    plan = json.loads(subprocess.run(
        [args.so101, "sweep", "--config", args.config, "--plan"],
        check=True, capture_output=True, text=True).stdout)
    if args.address == "local":
        ray.init(include_dashboard=False, _node_ip_address="127.0.0.1")
    else:
        ray.init(address=args.address)
    cpus = args.cpus_per_trial
    if cpus is None:
        import tomllib
        with open(args.config, "rb") as f:
            cpus = float(tomllib.load(f).get("torch_threads", 1))

    @ray.remote(num_cpus=cpus)
    def trial(name: str):
        done = subprocess.run(
            [args.so101, "sweep", "--config", args.config, "--out", args.out, "--only", name],
            capture_output=True, text=True)
        return name, done.returncode, done.stderr[-2000:]

    failed = []
    for name, code, err in ray.get([trial.remote(t["name"]) for t in plan]):
        print(f"{name}: {'ok' if code == 0 else 'failed'}", file=sys.stderr)
        if code != 0:
            failed.append(f"{name}: {err}")
    ray.shutdown()
    table = subprocess.run(
        [args.so101, "sweep", "--config", args.config, "--out", args.out, "--resume"])
    if failed:
        print("\n".join(failed), file=sys.stderr)
    return 1 if failed or table.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
