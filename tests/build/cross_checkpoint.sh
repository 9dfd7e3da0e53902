#!/usr/bin/env bash
# A checkpoint written by one build resumes under the other (label build;
# registered in the PyPI build, both directions, when the Debian build's hcx
# is known: tests/CMakeLists.txt).
#
# Usage: cross_checkpoint.sh WRITER_HCX READER_HCX
# The writer trains a tiny HC x2 run and is stopped (SIGTERM, which
# checkpoints) at step 12 or just past it; the reader resumes it to step 40.
# Its train/loss curve after the resume must equal the reader's own
# uninterrupted run to TOL (default 2e-4): the two builds round differently (OpenBLAS vs MKL), so
# equality is to float tolerance, not bit for bit; a resume that lost the
# optimizer moments or the data position misses by 1e-2 or more.
# Exit 77 (ctest: skipped) when the writer binary is not built.
set -uo pipefail
writer=$1 reader=$2 tol=${TOL:-2e-4}
[ -x "$writer" ] || { echo "skipped: $writer not built (make build-debian builds it)"; exit 77; }
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
pid=0
mkdir -p "$tmp/ref" "$tmp/x"
cat >"$tmp/run.json" <<'JSON'
{"model": {"d_model": 16, "n_layers": 2, "n_heads": 2, "seq_len": 24, "vocab_size": 64},
 "residual": {"kind": "hc", "n": 2},
 "data": {"synthetic_tokens": 20000},
 "train": {"steps": 40, "batch_size": 4, "lr": 3e-3, "warmup_steps": 4, "log_every": 1,
           "checkpoint_every": 5, "threads": 1},
 "eval": {"every": 10, "batches": 2}}
JSON
curve() { sqlite3 "$1" "SELECT step || ' ' || printf('%.9g', value) FROM metrics WHERE name = 'train/loss' ORDER BY step"; }

"$reader" run "$tmp/run.json" --db "$tmp/ref/r.db" --progress none >"$tmp/ref.log" 2>&1 ||
  { cat "$tmp/ref.log"; echo "FAIL: the reader's uninterrupted run"; exit 1; }

# The writer runs in 20 ms slices (SIGCONT ... SIGSTOP) and the step is read
# while it is stopped, so a fast machine cannot finish all 40 steps between
# two looks (a step takes milliseconds: polling a free-running writer missed
# step 12 on CI). The SIGTERM is sent while it is stopped and lands on SIGCONT.
"$writer" run "$tmp/run.json" --db "$tmp/x/r.db" --progress none >"$tmp/writer.log" 2>&1 &
pid=$!
step=0
for _ in $(seq 3000); do
  kill -STOP "$pid" 2>/dev/null || break
  step=$(sqlite3 "$tmp/x/r.db" "SELECT coalesce(max(step), 0) FROM runs" 2>/dev/null || echo 0)
  [ "${step:-0}" -ge 12 ] && break
  kill -CONT "$pid"
  sleep 0.02
done
[ "${step:-0}" -lt 40 ] || { cat "$tmp/writer.log"; echo "FAIL: the writer finished before it could be stopped"; exit 1; }
kill -TERM "$pid"
kill -CONT "$pid"
wait "$pid"
code=$?
[ "$code" = 3 ] || { cat "$tmp/writer.log"; echo "FAIL: writer exit $code after SIGTERM, expected 3 (interrupted)"; exit 1; }

"$reader" run "$tmp/run.json" --db "$tmp/x/r.db" --progress none >"$tmp/reader.log" 2>&1
code=$?
cat "$tmp/reader.log"
[ "$code" = 0 ] || { echo "FAIL: reader exit $code on the writer's checkpoint"; exit 1; }
at=$(grep -o 'resumed from the checkpoint at step [0-9]*' "$tmp/reader.log" | grep -o '[0-9]*$')
[ -n "$at" ] || { echo "FAIL: the reader did not resume from the checkpoint"; exit 1; }

# Steps after the resume: the reader's uninterrupted curve, to tol.
join <(curve "$tmp/x/r.db") <(curve "$tmp/ref/r.db") | awk -v at="$at" -v tol="$tol" '
  $1 > at { n++; d = $2 - $3; if (d < 0) d = -d; if (d > max) max = d }
  END {
    printf "resumed at step %d: %d steps compared, max |loss - uninterrupted| = %.3g (tol %s)\n", at, n, max, tol
    if (n != 40 - at) { print "FAIL: expected " 40 - at " steps after the resume"; exit 1 }
    if (max > tol) { print "FAIL: the resumed curve leaves the uninterrupted one"; exit 1 }
  }' || exit 1
echo "cross-build checkpoint: $("$writer" --version 2>/dev/null | head -1) -> $("$reader" --version 2>/dev/null | head -1): passed"
