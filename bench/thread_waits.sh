#!/usr/bin/env bash
# Tokens/s of Pre-Norm, DHC×4 and mHC×4 at d 512 on 2 threads, fp32 and bf16,
# under libgomp's default spin count and GOMP_SPINCOUNT 0, 3000, 30000
# (bench/README.md, "Thread pools"). One line per measurement:
# DTYPE VARIANT SPINCOUNT TOKENS_PER_S, three alternating repeats.
#   bench/thread_waits.sh build/bench/train_bench
set -euo pipefail
B=${1:?usage: bench/thread_waits.sh TRAIN_BENCH}
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 MKL_NUM_THREADS=2
unset OMP_WAIT_POLICY
for rep in 1 2 3; do for dt in float32 bfloat16; do for v in pre_norm dhc mhc; do for sc in default 0 3000 30000; do
  if [ $sc = default ]; then r=$(env -u GOMP_SPINCOUNT "$B" measure 512 4 8 256 2 $v 2 5 $dt)
  else r=$(GOMP_SPINCOUNT=$sc "$B" measure 512 4 8 256 2 $v 2 5 $dt); fi
  echo "$dt $v $sc $(echo "$r" | grep -o '"tokens_per_s":[0-9]*' | cut -d: -f2)"
done; done; done; done
