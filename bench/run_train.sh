#!/usr/bin/env bash
# The semi-supervised training step side by side with Python eager PyTorch
# (issue 14; docs/benchmarks.md, "Training step"): `semifer bench train`
# (the production Trainer) and bench/train_reference.py, in turn, ROUNDS
# times per setting, at the same intra-op thread count. Prints one table
# row per setting: the medians of each program's images/s (each itself the
# median of its measured windows), the median of the per-round ratios, and
# each program's peak device memory.
#
#   bench/run_train.sh CLI [ROUNDS] [SETTING...]
#
# A SETTING is MODEL:SIZE:DATA[:DEVICE], DATA `synthetic` (fixed tensors:
# the step alone) or a folder of class folders of JPEG files (both programs
# decode, resize and augment it: labeled and unlabeled batches from the same
# images). Default settings: smallnet:48 and resnet18:112, on fixed tensors
# and on ../shared/data/fer2013/train when present, on the CPU.
# Environment: THREADS (intra-op threads, default: the cores), WORKERS
# (loader threads / DataLoader workers, default 2), STEPS (measured, 40),
# WARMUP (10), WINDOW (10), BATCH (32), UNLABELED (32), PYTHON (python3,
# else /usr/bin/python3 when python3 has no torch), PY_ENV (VAR=value words
# set for the Python reference only; e.g. glibc's MALLOC_MMAP_THRESHOLD_=
# 268435456 MALLOC_TRIM_THRESHOLD_=1073741824, what the semifer executable
# sets for itself with mallopt: docs/benchmarks.md), SEMIFER_SET (KEY=VALUE
# words given to semifer as --set, e.g. train.cuda_graph=true; what the
# trainer then says of the graph goes to stderr).
set -euo pipefail
cli=$(realpath "$1")
rounds=${2:-3}
shift $(( $# >= 2 ? 2 : 1 ))
here=$(cd "$(dirname "$0")" && pwd)
threads=${THREADS:-$(nproc)}
workers=${WORKERS:-2}
steps=${STEPS:-40}
warmup=${WARMUP:-10}
window=${WINDOW:-10}
batch=${BATCH:-32}
unlabeled=${UNLABELED:-32}
python=${PYTHON:-python3}
# Debian's torch is /usr/bin/python3's (another python3 may come first).
if ! "$python" -c 'import torch' 2>/dev/null && [ -x /usr/bin/python3 ]; then
  python=/usr/bin/python3
fi
settings=("$@")
if [ ${#settings[@]} -eq 0 ]; then
  settings=(smallnet:48:synthetic resnet18:112:synthetic)
  fer="$here/../../shared/data/fer2013/train"
  if [ -d "$fer" ]; then
    fer=$(realpath "$fer")
    settings+=("smallnet:48:$fer" "resnet18:112:$fer")
  fi
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/semifer-train-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A training config over a folder of class folders, labeled and unlabeled
# alike (as the Python reference reads it). The folders' names map onto
# semifer's classes (docs/data.md).
folder_config() {  # folder
  cat >"$tmp/data.yaml" <<YAML
sampling: {per_class: 4000, leftovers_to_unlabeled: false, seed: 0}
validation:
  - {format: folder, root: $1, subset: {from: 0.0, to: 0.01}}
labeled:
  - {format: folder, root: $1}
unlabeled:
  - {name: same, format: folder, root: $1, layout: classes}
YAML
  cat >"$tmp/train.yaml" <<YAML
data: data.yaml
ssl: {dtm_per_class: 2}
eval: {max_samples: 32}
YAML
  echo "$tmp/train.yaml"
}

field() {  # regex with one group, text
  sed -nE "s#.*$1.*#\\1#p" <<<"$2" | head -1
}

echo "| model | size | data | device | Python images/s | semifer images/s | ratio | Python peak | semifer peak |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for setting in "${settings[@]}"; do
  IFS=: read -r model size data device <<<"$setting"
  device=${device:-cpu}
  common=(--model "$model" --size "$size" --device "$device" --batch "$batch"
          --unlabeled "$unlabeled" --steps "$steps" --warmup "$warmup"
          --window "$window")
  if [ "$data" = synthetic ]; then
    sem_data=(--data synthetic)
    py_data=()
    classes=8
    label=tensors
  else
    sem_data=(--data "$(folder_config "$data")")
    py_data=(--images "$data")
    classes=$(find "$data" -mindepth 1 -maxdepth 1 -type d | wc -l)
    label="JPEG $(basename "$(dirname "$data")")/$(basename "$data")"
  fi
  py=() sem=() ratios=() py_peak=- sem_peak=-
  for _ in $(seq "$rounds"); do
    # A program that fails gives nan (its error is on stderr) and the
    # table goes on.
    # shellcheck disable=SC2086 # PY_ENV is a list of words
    out=$(env ${PY_ENV:-} "$python" "$here/train_reference.py" "${common[@]}" "${py_data[@]}" \
          --classes "$classes" --threads "$threads" --workers "$workers") ||
      true
    py+=("$(field '^([0-9.]+) images/s' "$out")")
    [ -n "${py[-1]}" ] || py[-1]=nan
    py_peak=$(field 'peak device memory ([^ ]+( MiB)?) \(' "$out")
    sets=()
    for kv in ${SEMIFER_SET:-}; do sets+=(--set "$kv"); done
    out=$("$cli" bench train "${common[@]}" "${sem_data[@]}" "${sets[@]}" \
          --torch-threads "$threads" --threads "$workers") || true
    grep -E 'cuda_graph|captured' <<<"$out" >&2 || true
    sem+=("$(field '^([0-9.]+) images/s' "$out")")
    [ -n "${sem[-1]}" ] || sem[-1]=nan
    sem_peak=$(field 'peak device memory ([^ ]+( MiB)?) \(' "$out")
    if [ "${py[-1]}" = nan ] || [ "${sem[-1]}" = nan ]; then
      ratios+=(nan)
    else
      ratios+=("$(awk "BEGIN{print ${sem[-1]} / ${py[-1]}}")")
    fi
  done
  "$python" - "$model" "$size" "$label" "$device" "${py[*]}" "${sem[*]}" \
    "${ratios[*]}" "$py_peak" "$sem_peak" <<'PY'
import statistics, sys
model, size, data, device, py, sem, ratio, py_peak, sem_peak = sys.argv[1:]
med = lambda s: statistics.median(float(x) for x in s.split())
print(f"| {model} | {size} | {data} | {device} | {med(py):.1f} | {med(sem):.1f} "
      f"| {med(ratio):.2f} | {py_peak or '-'} | {sem_peak or '-'} |")
PY
done
