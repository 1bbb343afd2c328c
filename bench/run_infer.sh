#!/usr/bin/env bash
# The inference benchmark of docs/benchmarks.md: `semifer bench infer`
# against the torchvision eager reference, back to back in one run. The
# reference runs twice: with glibc's default allocator settings, and with the
# settings the semifer executable applies to itself (keep freed memory).
#   bench/run_infer.sh [SECONDS]      (needs python3-torchvision)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
cli=${SEMIFER_BUILD_DIR:-build}/semifer
rate() { sed -E 's/^([0-9.]+) images.*/\1/'; }
echo "| model | size | batch | threads | python (default malloc) | python (semifer's malloc settings) | semifer | semifer / python default | semifer / python same malloc |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for spec in "efficientnet_b0 224 16 2" "efficientnet_b0 224 16 1" "resnet18 224 16 2" "resnet50 224 16 2" "efficientnet_b7 224 4 2"; do
  set -- $spec
  args=(--model "$1" --size "$2" --batch "$3" --threads "$4" --seconds "$seconds")
  py=$(/usr/bin/python3 bench/infer_reference.py "${args[@]}" | rate)
  pym=$(MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=1073741824 \
        /usr/bin/python3 bench/infer_reference.py "${args[@]}" | rate)
  ours=$("$cli" bench infer "${args[@]}" | rate)
  awk -v m="$1" -v s="$2" -v b="$3" -v t="$4" -v p="$py" -v q="$pym" -v o="$ours" \
    'BEGIN { printf "| %s | %s | %s | %s | %.1f | %.1f | %.1f | %.2fx | %.2fx |\n", m, s, b, t, p, q, o, o / p, o / q }'
done
