#!/usr/bin/env bash
# Regenerates the pictures in docs/img/ from so101-lab's own commands (docs/development.md):
#
#   app.png           `view --screenshot`: the bundled policy lifting the cube (seed 3), overlays on,
#                     the wrist camera in the corner; under xvfb-run
#   policy_view.png   `view --policy-view --screenshot`: the wrist-camera task driven by the
#                     scripted pick, the stacked frames and the state a policy gets
#   dr_preview.png    `dr preview`: 16 seeds of configs/dr/default.toml, wrist camera at 96x96
#   render_lift.png   one frame of `render --plots`: the scripted pick on the assisted task, seed 3
#   render_place.png  one frame of `render`: the scripted pick-and-place, seed 0
#
# The binary is `cargo run --quiet --` (the dev build the tests use), or $SO101_LAB when set (e.g. SO101_LAB=so101-lab
# for an installed one). Needs what tools/setup.sh installs: Xvfb, Mesa's Vulkan, ffmpeg.
# Optional: XVFB_SCREEN (default 1280x800x24), SHOT_SIZE (window size of the screenshots, default
# 1280x720), SHOT_FRAMES (frames before a screenshot, default 60), LIFT_AT and PLACE_AT (seconds
# into the videos at which the frames are taken, default 3.0 and 2.0).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

OUT=docs/img
SCREEN="${XVFB_SCREEN:-1280x800x24}"
SIZE="${SHOT_SIZE:-1280x720}"
FRAMES="${SHOT_FRAMES:-60}"
LIFT_AT="${LIFT_AT:-3.0}"
PLACE_AT="${PLACE_AT:-2.0}"

log() { printf '\033[1;34m[docs_pictures]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[docs_pictures] error:\033[0m %s\n' "$*" >&2; exit 1; }

for tool in xvfb-run ffmpeg; do
  command -v "$tool" >/dev/null || die "$tool not found (tools/setup.sh installs it)"
done

if [[ -n "${SO101_LAB:-}" ]]; then
  lab=("$SO101_LAB")
else
  lab=(cargo run --quiet --)
  log "building the dev binary"
  cargo build --quiet
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The app needs a runtime folder; a headless session has none.
if [[ -z "${XDG_RUNTIME_DIR:-}" ]]; then
  export XDG_RUNTIME_DIR="$tmp/xdg"
  mkdir -m 700 "$XDG_RUNTIME_DIR"
fi
mkdir -p "$OUT"

# headless CMD...: run CMD on a virtual X server.
headless() { xvfb-run -a -s "-screen 0 $SCREEN" "$@"; }

# frame VIDEO SECONDS PNG: one frame of VIDEO, SECONDS in, as PNG (an error past its end).
frame() {
  rm -f "$tmp/frame.png"
  ffmpeg -loglevel error -y -ss "$2" -i "$1" -frames:v 1 "$tmp/frame.png"
  [[ -s "$tmp/frame.png" ]] || die "no frame at $2 s of $1 (the video is shorter)"
  mv "$tmp/frame.png" "$3"
}

log "app.png: the bundled policy, seed 3, tracking the cube"
headless "${lab[@]}" view --screenshot "$tmp/app.png" \
  --frames "$FRAMES" --seed 3 --size "$SIZE" --camera track-cube
cp "$tmp/app.png" "$OUT/app.png"

log "policy_view.png: the wrist-camera task, scripted pick, policy view open"
headless "${lab[@]}" view --screenshot "$tmp/policy_view.png" \
  --task configs/task_wrist.toml --driver scripted --policy-view \
  --frames "$FRAMES" --seed 3 --size "$SIZE"
cp "$tmp/policy_view.png" "$OUT/policy_view.png"

log "dr_preview.png: 16 seeds of the default ranges"
"${lab[@]}" dr preview --seeds 16 --size 96x96 --dr configs/dr/default.toml --out "$tmp/dr"
cp "$tmp/dr/contact_sheet.png" "$OUT/dr_preview.png"

log "render_lift.png: the scripted pick on the assisted task, seed 3, with plots"
"${lab[@]}" record --task configs/task_assisted.toml --policy scripted --seed 3 --out "$tmp/lift"
"${lab[@]}" render "$tmp/lift/episode_000003.jsonl" --out "$tmp/lift.mp4" --plots
frame "$tmp/lift.mp4" "$LIFT_AT" "$OUT/render_lift.png"

log "render_place.png: the scripted pick-and-place, seed 0"
"${lab[@]}" record --task configs/tasks/place.toml --policy scripted --seed 0 --out "$tmp/place"
"${lab[@]}" render "$tmp/place/episode_000000.jsonl" --out "$tmp/place.mp4"
frame "$tmp/place.mp4" "$PLACE_AT" "$OUT/render_place.png"

log "done: $(cd "$OUT" && ls ./*.png | tr '\n' ' ')"
