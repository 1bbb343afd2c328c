#!/usr/bin/env bash
# The pipeline benchmark of docs/benchmarks.md: semifer (1 and 2 threads)
# against the Python reference, each case measured back to back in one run.
#   bench/run_pipeline.sh [SECONDS]      (needs ../shared/data and python3-torchvision)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
cli=${SEMIFER_BUILD_DIR:-build}/semifer
data=../shared/data
rate() { sed -E 's/^([0-9.]+) samples.*/\1/'; }
echo "| images | size | python (samples/s) | semifer 1 thread | ratio | semifer 2 threads | 2 vs 1 thread |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for spec in "fer2013/train 224" "utkface 224" "fer2013/train 48" "utkface 48"; do
  set -- $spec
  dir=$data/$1
  py=$(/usr/bin/python3 bench/pipeline_reference.py --images "$dir" --size "$2" --seconds "$seconds" | rate)
  one=$("$cli" bench pipeline --images "$dir" --size "$2" --threads 1 --seconds "$seconds" | rate)
  two=$("$cli" bench pipeline --images "$dir" --size "$2" --threads 2 --seconds "$seconds" | rate)
  awk -v d="$1" -v s="$2" -v p="$py" -v a="$one" -v b="$two" \
    'BEGIN { printf "| %s | %s | %.0f | %.0f | %.2fx | %.0f | %.2fx |\n", d, s, p, a, a / p, b, b / a }'
done
