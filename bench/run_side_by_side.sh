#!/usr/bin/env bash
# Two builds of semifer side by side, in turn, on this machine: the input
# pipeline (`bench pipeline`), inference (`bench infer`) and a short
# semi-supervised training run (images per second from its metrics.jsonl).
# For checking that a change keeps the speed (docs/benchmarks.md).
#   bench/run_side_by_side.sh OLD_CLI NEW_CLI [ROUNDS]
# OLD_CLI, NEW_CLI: paths of two `semifer` executables. Prints one row per
# measure: the medians over ROUNDS (default 3) and NEW / OLD.
set -euo pipefail
old=$1
new=$2
rounds=${3:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/semifer-side.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$new" data synth "$tmp/data" --size 48 --scale 0.5 >/dev/null
cat >"$tmp/train.yaml" <<YAML
data: data/data.yaml
augment: {size: 48}
model: {name: smallnet}
train: {epochs: 1, steps_per_epoch: 120, batch_labeled: 32,
        batch_unlabeled: 32, threads: 2, log_every: 40,
        checkpoint_every: 1000}
ssl: {dtm_per_class: 20}
eval: {max_samples: 64}
YAML
rate() { sed -E 's/^([0-9.]+) (images|samples).*/\1/'; }
# Median images/s of the metric lines after the first (warm-up) window.
train_rate() {
  rm -rf "$tmp/run"
  "$1" train "$tmp/train.yaml" --out "$tmp/run" --quiet >/dev/null
  python3 - "$tmp/run/metrics.jsonl" <<'PY'
import json, statistics, sys
rates = [json.loads(l)["images_per_second"] for l in open(sys.argv[1]) if l.strip()]
print(statistics.median(rates[1:]))
PY
}
measure() {  # name, then the command (with CLI for the executable)
  local name=$1
  shift
  local a=() b=()
  for _ in $(seq "$rounds"); do
    a+=("$("${@//CLI/$old}")")
    b+=("$("${@//CLI/$new}")")
  done
  python3 - "$name" "${a[*]}" "${b[*]}" <<'PY'
import statistics, sys
name, a, b = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
ma, mb = statistics.median(a), statistics.median(b)
print(f"| {name} | {ma:.1f} | {mb:.1f} | {mb / ma:.3f} |")
PY
}
pipeline() { "$1" bench pipeline --images "$tmp/data/labeled" --size 112 --threads 2 --seconds 3 | rate; }
infer() { "$1" bench infer --model efficientnet_b0 --size 112 --batch 16 --threads 2 --seconds 3 | rate; }
echo "| measure (median of $rounds) | old | new | new / old |"
echo "| --- | --- | --- | --- |"
measure "bench pipeline, 112 px, 2 threads (samples/s)" pipeline CLI
measure "bench infer, efficientnet_b0 112 px, batch 16, 2 threads (images/s)" infer CLI
measure "train, smallnet 48 px, SSL, 32+32 per step (images/s)" train_rate CLI
