#!/usr/bin/env bash
# Runs every benchmark of bench/ against one build (`make bench` calls it); see bench/README.md.
#
# Usage: bench/run_all.sh [BUILD_DIR] [NAME ...]    (default build; names: train, report, sweep; default all)
# Environment: PYTHON, a python3 with torch (default: the first of python3, /usr/bin/python3 that imports it);
#              TRAIN_BENCH_ARGS, extra arguments for train_bench (e.g. "--repeat 1 --quick").
# Each benchmark's output goes to stdout; results land in BUILD_DIR/bench/. Exit 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
NAMES=${*:-train report sweep}
OUT="$BUILD/bench"
failed=()

find_python() {
  for py in ${PYTHON:-} python3 /usr/bin/python3; do
    if "$py" -c 'import torch' 2>/dev/null; then echo "$py"; return 0; fi
  done
  return 1
}

train() {
  local exe="$OUT/train_bench" py
  py=$(find_python) || { echo "no python3 with torch (apt-get install python3-torch, or set PYTHON)" >&2; return 1; }
  echo "== train_bench: equivalence of hcx and the PyTorch reference (bench/reference_gpt.py)"
  local dir
  dir=$(mktemp -d)
  "$exe" check "$dir" || return 1
  for v in pre_norm dhc; do "$py" bench/reference_gpt.py check "$dir/$v" || { rm -rf "$dir"; return 1; }; done
  rm -rf "$dir"
  echo "== train_bench: training tokens/s, hcx and PyTorch ($("$py" -c 'import torch; print(torch.__version__)'))"
  # shellcheck disable=SC2086
  "$exe" --python "$py" --reference bench/reference_gpt.py --json "$OUT/train_bench.json" ${TRAIN_BENCH_ARGS:-}
}

report() {
  echo "== report_bench"
  "$OUT/report_bench"
}

sweep() {
  echo "== sweep_overhead"
  bench/sweep_overhead.sh "$BUILD/apps/hcx/hcx"
}

for name in $NAMES; do
  case $name in
    train) [ -x "$OUT/train_bench" ] || { echo "skip train: $OUT/train_bench not built"; continue; } ;;
    report) [ -x "$OUT/report_bench" ] || { echo "skip report: $OUT/report_bench not built"; continue; } ;;
    sweep) [ -f bench/sweep_overhead.sh ] || { echo "skip sweep: bench/sweep_overhead.sh missing"; continue; } ;;
    *) echo "unknown benchmark '$name' (train, report, sweep)" >&2; failed+=("$name"); continue ;;
  esac
  "$name" || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
