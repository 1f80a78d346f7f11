#!/usr/bin/env python3
"""MuJoCo's own renderer on the same scene, camera and states as `so101-lab bench render`.

Run by `so101-lab bench render` (with the set-up's venv, MUJOCO_GL=egl) for a side-by-side
comparison; prints one JSON object per case on stdout:
  {"case": "...", "width": W, "height": H, "frames": N, "frames_per_sec": F}

Usage: mujoco_render_bench.py SCENE.xml STATES.json --camera wrist --size 84x84 --frames 200
STATES.json holds a list of qpos vectors (the model's nq values each).
With --dump OUT.rgb it renders each state once instead (shadows, reflections and skybox off)
and writes the frames as raw RGB bytes, row 0 at the top: the reference images the test
tests/it/render_vs_mujoco.rs compares the software renderer with.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402


def measure(model, data, states, camera, width, height, frames, fast):
    scene_option = mujoco.MjvOption()
    renderer = mujoco.Renderer(model, height=height, width=width)
    if fast:
        # MuJoCo's cheapest settings short of hiding geometry: no shadows, reflections, skybox.
        renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
        renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
        renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = False
    # Warm up (shader compilation, texture upload).
    data.qpos[:] = states[0]
    mujoco.mj_forward(model, data)
    renderer.update_scene(data, camera=camera, scene_option=scene_option)
    renderer.render()
    start = time.perf_counter()
    for k in range(frames):
        data.qpos[:] = states[k % len(states)]
        mujoco.mj_kinematics(model, data)
        mujoco.mj_camlight(model, data)
        renderer.update_scene(data, camera=camera, scene_option=scene_option)
        renderer.render()
    elapsed = time.perf_counter() - start
    renderer.close()
    return frames / elapsed


def dump(model, data, states, camera, width, height, out):
    renderer = mujoco.Renderer(model, height=height, width=width)
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
    renderer.scene.flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = False
    with open(out, "wb") as f:
        for qpos in states:
            data.qpos[:] = qpos
            mujoco.mj_forward(model, data)
            renderer.update_scene(data, camera=camera)
            f.write(renderer.render().tobytes())
    renderer.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("scene")
    ap.add_argument("states")
    ap.add_argument("--camera", default="wrist")
    ap.add_argument("--size", default="84x84")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--dump", help="write one frame per state as raw RGB to this file")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    model = mujoco.MjModel.from_xml_path(args.scene)
    model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
    model.vis.global_.offheight = max(model.vis.global_.offheight, height)
    data = mujoco.MjData(model)
    with open(args.states) as f:
        states = json.load(f)
    if not states or len(states[0]) != model.nq:
        sys.exit(f"states must be lists of {model.nq} qpos values")
    if args.dump:
        dump(model, data, states, args.camera, width, height, args.dump)
        return
    for name, fast in (("mujoco renderer (EGL), defaults", False),
                       ("mujoco renderer (EGL), no shadow/reflection/skybox", True)):
        fps = measure(model, data, states, args.camera, width, height, args.frames, fast)
        print(json.dumps({"case": name, "width": width, "height": height,
                          "frames": args.frames, "frames_per_sec": fps}), flush=True)


if __name__ == "__main__":
    main()
