#!/usr/bin/env bash
# make gpu-check: hcx on an NVIDIA GPU in one command, for a machine that has a
# GPU, a Python whose torch is CUDA-enabled, nvcc, CMake and a C++ compiler,
# but none of Debian's dev packages (they come from the bundle that
# `make gpu-bundle` unpacked on a build machine).
#
# Steps: configure against that Python's torch and the bundle; build hcx, the
# model and train tests and train_bench; then, with a GPU: the CUDA-labelled
# tests, one bf16 `hcx run` on cuda, and the bf16 throughput benchmark at d 768,
# 12 layers, seq 1024 (train_bench gpu) for Pre-Norm, DHC×4 and mHC×4 against
# the same models in that Python's PyTorch. Without a GPU it stops after the
# build with exit 3 and says so. Everything lands in OUT (summary.txt, *.log).
#
# Environment: PYTHON (python3), HCX_BUNDLE (.carry/gpu-bundle), GPU_BUILD
# (build-gpu), OUT (results/gpu-check, or the folder $OUT names), JOBS (nproc).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
BUNDLE=${HCX_BUNDLE:-.carry/gpu-bundle}
BUILD=${GPU_BUILD:-build-gpu}
OUT=${OUT:-results/gpu-check}
JOBS=${JOBS:-$(nproc)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
summary="$OUT/summary.txt"
: >"$summary"
start=$(date +%s)
say() { echo "$*" | tee -a "$summary"; }
elapsed() { echo "$(( $(date +%s) - start )) s"; }
die() { say "gpu-check: $*"; exit "${code:-1}"; }

[ -f "$BUNDLE/usr/lib/x86_64-linux-gnu/cmake/spdlog/spdlogConfig.cmake" ] ||
  die "no dependency bundle at $BUNDLE: run 'make gpu-bundle' on a build machine first and bring $BUNDLE along"
py=$(command -v "$PYTHON") || die "no $PYTHON on PATH (set PYTHON to the Python whose torch to use)"
"$py" - >"$OUT/torch.txt" 2>/dev/null <<'PY' || die "$py cannot import torch"
import torch
print("torch", torch.__version__, "cuda", torch.version.cuda)
print("gpu", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")
PY
say "gpu-check: $(head -1 "$OUT/torch.txt") ($py), $(sed -n 2p "$OUT/torch.txt")"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
say "== configure ($BUILD)"
cmake -S . -B "$BUILD" "${generator[@]}" -DHCX_TORCH_PYTHON="$py" -DHCX_BUNDLE="$(cd "$BUNDLE" && pwd)" \
  >"$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; die "configure failed ($OUT/configure.log)"; }
grep 'hcx: LibTorch' "$OUT/configure.log" | sed 's/^-- //' | tee -a "$summary"
say "== build: hcx, test_model, test_train, train_bench ($(elapsed))"
cmake --build "$BUILD" -j "$JOBS" --target hcx test_model test_train train_bench >"$OUT/build.log" 2>&1 ||
  { tail -30 "$OUT/build.log"; die "build failed ($OUT/build.log)"; }
say "built in $(elapsed)"

if [ "$(sed -n 2p "$OUT/torch.txt")" = "gpu none" ]; then
  code=3 die "no CUDA device: torch.cuda.is_available() is False in $py. The build steps passed; the GPU steps (CUDA tests, bf16 run, throughput) need a machine with an NVIDIA GPU and its driver."
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >>"$summary" 2>/dev/null

say "== CUDA tests ($(elapsed))"
(cd "$BUILD" && ctest -L cuda --output-on-failure) >"$OUT/ctest-cuda.log" 2>&1
tests_rc=$?
grep -E 'tests passed|tests failed' "$OUT/ctest-cuda.log" | tee -a "$summary"

say "== one bf16 hcx run on cuda ($(elapsed))"
"$BUILD/apps/hcx/hcx" run experiments/examples/tiny.json --db "$OUT/run.db" --device cuda -s train.dtype=bfloat16 \
  --progress plain >"$OUT/run.log" 2>&1
run_rc=$?
say "hcx run: exit $run_rc; $(sqlite3 "$OUT/run.db" "SELECT status || ', final val/loss ' || printf('%.4f', final_val_loss) FROM runs" 2>/dev/null ||
  grep -m1 'completed\|error' "$OUT/run.log")"

say "== throughput, bf16 ($(elapsed))"
"$BUILD/bench/train_bench" gpu --python "$py" --reference bench/reference_gpt.py --json "$OUT/throughput.json" \
  2>"$OUT/throughput.err" | tee -a "$summary"
bench_rc=${PIPESTATUS[0]}
say "gpu-check: done in $(elapsed): tests rc $tests_rc, run rc $run_rc, throughput rc $bench_rc; logs in $OUT"
[ "$tests_rc$run_rc$bench_rc" = 000 ]
