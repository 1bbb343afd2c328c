#!/usr/bin/env bash
# Data-parallel scaling on the CPU (docs/benchmarks.md, issue 13): the same
# semi-supervised training of MODEL at SIZE px, per-rank batch B labeled + B
# unlabeled, one intra-op thread and one loader thread per rank, as one
# process and as `semifer launch --nproc 2`, measured back to back. Two
# figures per run: within the run, the median images_per_second of its
# metric lines after the first (the job's images: both ranks'); and the
# whole process's wall time, start-up, rendezvous, the DTM update and
# validation included (twice the images in the same steps, so its
# efficiency is 1-process time / 2-rank time). Efficiency within the run
# is 2-rank throughput / (2 x 1-rank throughput). The last line gives the
# medians over the repeats.
#   bench/run_distributed.sh [MODEL] [SIZE] [B] [STEPS] [REPEATS] [threads]
# With `threads` last (docs/distributed.md, "Threads"): no
# train.torch_threads in the config, and two ranks with launch's default
# (each its share of the logical CPUs) against every rank on all of them
# (OMP_NUM_THREADS = the logical CPUs, the default before 2026-12-06);
# the median images_per_second of each.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-resnet18}; size=${2:-112}; batch=${3:-8}; steps=${4:-40}; repeats=${5:-3}
mode=${6:-scaling}
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
        log_every: 10, checkpoint_every: 100000, threads: 1$([ "$mode" = threads ] || echo ", torch_threads: 1")}
ssl: {dtm_per_class: 10}
eval: {max_samples: 10}
YAML
median_rate() {  # the median images_per_second of all metric lines but the first
  python3 -c '
import json, statistics, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(statistics.median(l["images_per_second"] for l in lines[1:]))' "$1"
}
now() { date +%s.%N; }
if [ "$mode" = threads ]; then
  cpus=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
  echo "| repeat | launch's default (images/s) | OMP_NUM_THREADS=$cpus per rank (images/s) | ratio |"
  echo "| --- | --- | --- | --- |"
  for r in $(seq "$repeats"); do
    env -u OMP_NUM_THREADS "$cli" launch --nproc 2 -- train "$tmp/train.yaml" \
      --out "$tmp/shared$r" --quiet >/dev/null 2>&1
    OMP_NUM_THREADS=$cpus "$cli" launch --nproc 2 -- train "$tmp/train.yaml" \
      --out "$tmp/all$r" --quiet >/dev/null 2>&1
    a=$(median_rate "$tmp/shared$r/metrics.jsonl")
    b=$(median_rate "$tmp/all$r/metrics.jsonl")
    awk -v r="$r" -v a="$a" -v b="$b" 'BEGIN { printf "| %d | %.1f | %.1f | %.2f |\n", r, a, b, a / b }'
  done
  exit 0
fi
echo "| repeat | 1 process (images/s) | 2 ranks (images/s) | efficiency in the run | 1 process (wall s) | 2 ranks (wall s) | efficiency, whole processes |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
rows=()
for r in $(seq "$repeats"); do
  t0=$(now)
  OMP_NUM_THREADS=1 "$cli" train "$tmp/train.yaml" --out "$tmp/one$r" --quiet >/dev/null
  t1=$(now)
  OMP_NUM_THREADS=1 "$cli" launch --nproc 2 -- train "$tmp/train.yaml" --out "$tmp/two$r" --quiet >/dev/null
  t2=$(now)
  one=$(median_rate "$tmp/one$r/metrics.jsonl")
  two=$(median_rate "$tmp/two$r/metrics.jsonl")
  row=$(awk -v a="$one" -v b="$two" -v t0="$t0" -v t1="$t1" -v t2="$t2" \
    'BEGIN { printf "%.1f %.1f %.3f %.1f %.1f %.3f", a, b, b / (2 * a), t1 - t0, t2 - t1, (t1 - t0) / (t2 - t1) }')
  rows+=("$row")
  echo "| $r | ${row// / | } |"
done
printf '%s\n' "${rows[@]}" | python3 -c '
import statistics, sys
cols = list(zip(*(map(float, l.split()) for l in sys.stdin if l.strip())))
m = [statistics.median(c) for c in cols]
print("| median | %.1f | %.1f | %.3f | %.1f | %.1f | %.3f |" % tuple(m))'
