#!/usr/bin/env bash
# The video benchmark of docs/benchmarks.md: `semifer video`'s whole job on a
# synthetic 640x480 video of drifting faces (UTKFace crops where
# ../shared/data is present, else rendered faces), with whole-frame
# detection every 5 frames (the default) against every frame, in turn in one
# run; for lbp, and for yunet when its model file is given.
#   bench/run_video.sh [REPEATS] [YUNET_ONNX]
# Stop other jobs first: the figures are frames per second on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-3}
yunet=${2:-../shared/models/yunet_2022.onnx}
cli=${SEMIFER_BUILD_DIR:-build}/semifer
faces=()
if [ -d ../shared/data/utkface/crop_part1 ]; then
  faces=(--faces ../shared/data/utkface/crop_part1)
fi
"$cli" bench video "${faces[@]}" --frames 300 --repeats "$repeats"
if [ -f "$yunet" ]; then
  "$cli" bench video "${faces[@]}" --frames 300 --repeats "$repeats" \
    --detector yunet --detector-model "$yunet"
fi
