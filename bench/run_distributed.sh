#!/usr/bin/env bash
# Data-parallel scaling on the CPU (docs/benchmarks.md, issue 13): the same
# semi-supervised training of MODEL at SIZE px, per-rank batch B labeled + B
# unlabeled, one intra-op thread and one loader thread per rank, as one
# process and as `semifer launch --nproc 2`, measured back to back. Each
# figure is the median images_per_second of the run's metric lines after
# the first (the job's images: both ranks'); the efficiency is
# 2-rank throughput / (2 x 1-rank throughput).
#   bench/run_distributed.sh [MODEL] [SIZE] [B] [STEPS] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-resnet18}; size=${2:-112}; batch=${3:-8}; steps=${4:-40}; repeats=${5:-3}
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
        log_every: 10, checkpoint_every: 100000, threads: 1, torch_threads: 1}
ssl: {dtm_per_class: 10}
eval: {max_samples: 10}
YAML
median_rate() {  # the median images_per_second of all metric lines but the first
  python3 -c '
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(statistics.median(l["images_per_second"] for l in lines[1:]))' "$1"
}
echo "| repeat | 1 process (images/s) | 2 ranks (images/s) | efficiency |"
echo "| --- | --- | --- | --- |"
for r in $(seq "$repeats"); do
  OMP_NUM_THREADS=1 "$cli" train "$tmp/train.yaml" --out "$tmp/one$r" --quiet >/dev/null
  OMP_NUM_THREADS=1 "$cli" launch --nproc 2 -- train "$tmp/train.yaml" --out "$tmp/two$r" --quiet >/dev/null
  one=$(median_rate "$tmp/one$r/metrics.jsonl")
  two=$(median_rate "$tmp/two$r/metrics.jsonl")
  awk -v r="$r" -v a="$one" -v b="$two" \
    'BEGIN { printf "| %d | %.1f | %.1f | %.2f |\n", r, a, b, b / (2 * a) }'
done
