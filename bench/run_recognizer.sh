#!/usr/bin/env bash
# The Recognizer (the embedding API) called from one thread and from two at
# once, each caller with 1 intra-op thread and with one per core:
# bench/recognizer_bench under both OMP_NUM_THREADS settings, as a table of
# images per second (docs/benchmarks.md, "The Recognizer from several
# threads").
#   bench/run_recognizer.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${SEMIFER_BUILD_DIR:-build}/bench/recognizer_bench
cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
echo "| calling threads | intra-op threads per call | images/s |"
echo "| --- | --- | --- |"
for threads in 1 "$cores"; do
  OMP_NUM_THREADS=$threads "$bench" --benchmark_format=csv 2>/dev/null |
    awk -F, -v t="$threads" '/^"BM_PredictBatch/ {
      match($1, /threads:[0-9]+/); callers = substr($1, RSTART + 8, RLENGTH - 8)
      printf "| %s | %s | %.1f |\n", callers, t, $7 }'
done
