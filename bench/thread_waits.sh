#!/usr/bin/env bash
# Tokens/s of Pre-Norm, DHC×4 and mHC×4 at d 512 on 2 threads, fp32 and bf16,
# first under libgomp's default spin count and GOMP_SPINCOUNT 0, 3000, 30000
# (three alternating repeats), then at GOMP_SPINCOUNT 30000 under OpenBLAS's
# default thread timeout and OPENBLAS_THREAD_TIMEOUT 4, 12, 20 (two repeats)
# (bench/README.md, "Thread pools"). One line per measurement:
# spin|timeout DTYPE VARIANT VALUE TOKENS_PER_S.
#   bench/thread_waits.sh build/bench/train_bench
set -euo pipefail
B=${1:?usage: bench/thread_waits.sh TRAIN_BENCH}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
unset OMP_WAIT_POLICY
tokens() { grep -o '"tokens_per_s":[0-9]*' | cut -d: -f2; }
for rep in 1 2 3; do for dt in float32 bfloat16; do for v in pre_norm dhc mhc; do for sc in default 0 3000 30000; do
  if [ $sc = default ]; then r=$(env -u GOMP_SPINCOUNT -u OPENBLAS_THREAD_TIMEOUT "$B" measure 512 4 8 256 2 $v 2 5 $dt)
  else r=$(env -u OPENBLAS_THREAD_TIMEOUT GOMP_SPINCOUNT=$sc "$B" measure 512 4 8 256 2 $v 2 5 $dt); fi
  echo "spin $dt $v $sc $(echo "$r" | tokens)"
done; done; done; done
for rep in 1 2; do for dt in float32 bfloat16; do for v in pre_norm dhc mhc; do for to in default 4 12 20; do
  if [ $to = default ]; then r=$(env -u OPENBLAS_THREAD_TIMEOUT GOMP_SPINCOUNT=30000 "$B" measure 512 4 8 256 2 $v 2 5 $dt)
  else r=$(GOMP_SPINCOUNT=30000 OPENBLAS_THREAD_TIMEOUT=$to "$B" measure 512 4 8 256 2 $v 2 5 $dt); fi
  echo "timeout $dt $v $to $(echo "$r" | tokens)"
done; done; done; done
