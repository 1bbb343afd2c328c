#!/usr/bin/env bash
# Two ranks of `semifer launch --nproc 2` on one machine (docs/distributed.md,
# "Threads"): with launch's default (no OMP_NUM_THREADS: each rank gets the
# logical CPUs / 2) against every rank taking one intra-op thread per
# logical CPU (OMP_NUM_THREADS=$(nproc), the default before 2026-12-06).
# The same semi-supervised training as bench/run_distributed.sh but without
# train.torch_threads, so that the thread count comes from the launcher.
# Prints the median images_per_second of each run's metric lines after the
# first (both ranks' images), a row per repeat.
#   bench/run_launch_threads.sh [MODEL] [SIZE] [B] [STEPS] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-resnet18}; size=${2:-112}; batch=${3:-8}; steps=${4:-30}; repeats=${5:-2}
cli=${SEMIFER_BUILD_DIR:-build}/semifer
[ -x "$cli" ] || scripts/build semifer_cli
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cli" data synth "$tmp/data" --size "$size" --scale 0.3 >/dev/null
cat > "$tmp/train.yaml" <<YAML
data: data/data.yaml
augment: {size: $size}
model: {name: $model}
train: {epochs: 1, steps_per_epoch: $steps, batch_labeled: $batch, batch_unlabeled: $batch,
        log_every: 10, checkpoint_every: 100000, threads: 1}
ssl: {dtm_per_class: 10}
eval: {max_samples: 10}
YAML
median_rate() {
  python3 -c '
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("%.1f" % statistics.median(l["images_per_second"] for l in lines[1:]))' "$1"
}
cpus=$(nproc)
echo "| repeat | launch's default (images/s) | OMP_NUM_THREADS=$cpus per rank (images/s) | ratio |"
echo "| --- | --- | --- | --- |"
for r in $(seq "$repeats"); do
  env -u OMP_NUM_THREADS "$cli" launch --nproc 2 -- train "$tmp/train.yaml" \
    --out "$tmp/shared$r" --quiet >/dev/null 2>&1
  OMP_NUM_THREADS=$cpus "$cli" launch --nproc 2 -- train "$tmp/train.yaml" \
    --out "$tmp/all$r" --quiet >/dev/null 2>&1
  a=$(median_rate "$tmp/shared$r/metrics.jsonl")
  b=$(median_rate "$tmp/all$r/metrics.jsonl")
  echo "| $r | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }') |"
done
