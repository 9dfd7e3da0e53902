#!/usr/bin/env bash
# What the loader really resolves for an hcx binary, and that the binary runs
# CPU work here (label build; tests/CMakeLists.txt registers it per build).
#
# Usage: loader_check.sh HCX TORCH_LIB_DIR [WHEEL_SITE_PACKAGES]
# Checks: nothing unresolved; libtorch*/libc10* from TORCH_LIB_DIR; for a wheel
# build, every CUDA library (cudart, cublas, cufft, curand, nvrtc, cudnn, nccl,
# ...) from the wheel's nvidia/*/lib and none from the CUDA toolkit; the driver
# (libcuda.so.1) not needed at load time; a 3-step run on the CPU completes;
# and, with no GPU, train.device=cuda is refused with a clear message.
set -uo pipefail
hcx=$1
torch_lib=$(readlink -f "$2")
site=${3:-}
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

resolved=$(ldd "$hcx") || { echo "FAIL: ldd $hcx"; exit 1; }
echo "$resolved" | grep 'not found' && fail "unresolved libraries"
toolkit=""
if command -v nvcc >/dev/null; then toolkit=$(readlink -f "$(dirname "$(command -v nvcc)")/.."); fi
n_torch=0 n_cuda=0
while read -r name arrow path _; do
  [ "$arrow" = "=>" ] && [ -e "$path" ] || continue
  dir=$(dirname "$(readlink -f "$path")")
  case $name in
    libtorch*.so* | libc10*.so*)
      n_torch=$((n_torch + 1))
      [ "$dir" = "$torch_lib" ] || fail "$name from $dir, expected $torch_lib" ;;
    libcudart* | libcublas* | libcufft* | libcurand* | libnvrtc* | libcudnn* | libnccl* | libcusparse* | \
    libcusolver* | libnvJitLink* | libcupti* | libnvshmem* | libcufile*)
      n_cuda=$((n_cuda + 1))
      if [ -z "$site" ]; then fail "$name in a non-wheel build ($dir)"; continue; fi
      case $dir/ in "$(readlink -f "$site")"/nvidia/*) ;; *) fail "$name from $dir, expected $site/nvidia/*/lib" ;; esac
      if [ -n "$toolkit" ]; then case $dir/ in "$toolkit"/*) fail "$name from the CUDA toolkit ($dir)" ;; esac; fi ;;
  esac
done <<<"$resolved"
[ "$n_torch" -ge 2 ] || fail "no LibTorch libraries in ldd's list"
if [ -n "$site" ] && [ -e "$torch_lib/libtorch_cuda.so" ]; then
  [ "$n_cuda" -ge 5 ] || fail "a CUDA LibTorch, but only $n_cuda CUDA libraries resolved"
fi
needed=$(readelf -d "$hcx" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if [ -n "$site" ]; then
  # The wheel's libtorch.so exports std::filesystem functions that crash when
  # called from outside it: libstdc++ must come first (cmake/wheel_torch.cmake).
  first=$(grep -n -m1 -E '^(libstdc\+\+|libtorch|libc10)' <<<"$needed" | cut -d: -f2)
  [ "${first%%.so*}" = "libstdc++" ] || fail "NEEDED lists $first before libstdc++.so.6: std::filesystem would bind to libtorch's copy"
fi
if grep -q '^libcuda\.so' <<<"$needed"; then fail "$hcx needs the driver (libcuda.so) at load time"; fi
echo "ldd: $n_torch LibTorch and $n_cuda CUDA libraries, all from the expected folders"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo '{"model": {"d_model": 16, "n_layers": 1, "n_heads": 2, "seq_len": 16, "vocab_size": 64},
       "data": {"synthetic_tokens": 4000}, "train": {"steps": 3, "batch_size": 2, "log_every": 1},
       "eval": {"every": 0}}' >"$tmp/run.json"
out=$("$hcx" run "$tmp/run.json" --db "$tmp/r.db" --progress none 2>&1) || fail "CPU run failed: $out"
rows=$(sqlite3 "$tmp/r.db" "SELECT count(*) FROM metrics WHERE name = 'train/loss'" 2>&1)
[ "$rows" = 3 ] || fail "CPU run: expected 3 train/loss rows, got '$rows'"
if [ ! -e /dev/nvidia0 ]; then
  out=$("$hcx" run "$tmp/run.json" --db "$tmp/c.db" --device cuda --progress none 2>&1)
  code=$?
  [ "$code" = 2 ] || fail "--device cuda without a GPU: exit $code, expected 2: $out"
  grep -q 'train.device' <<<"$out" || fail "--device cuda without a GPU: no word on train.device: $out"
  echo "no GPU here: --device cuda refused: $(grep -m1 'train.device' <<<"$out")"
fi
[ "$failures" = 0 ] || exit 1
echo "loader check passed"
