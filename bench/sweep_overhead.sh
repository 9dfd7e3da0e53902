#!/usr/bin/env bash
# Sweep overhead: 8 tiny runs on 2 CPU slots. Compares the wall time
# of the whole `hcx sweep` command (start-up, expansion, registration,
# scheduling, summary) with the ideal: the sum of the runs' own wall times
# divided by the slots. A run's wall time is what the executor measured from
# spawn to exit (the "hcx sweep: exit 0 after S s" footer of its log), so the
# ratio is what the sweep adds beyond running `hcx run` by hand. Target <= 1.05.
#
# Usage: bench/sweep_overhead.sh [HCX_BINARY] [REPEATS]   (defaults: build/apps/hcx/hcx, 3)
# Prints one line per repeat and a Markdown row for bench/README.md.
set -euo pipefail
HCX=$(realpath "${1:-build/apps/hcx/hcx}")
REPEATS=${2:-3}
SLOTS=2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Eight runs of one variant (eight seeds): equal work, so a perfect scheduler
# reaches the ideal exactly. About 5-10 s each on 2 cores: the sweep's fixed
# cost (mostly loading LibTorch into the hcx process, ~0.6 s) is then ~2 %.
cat > "$work/overhead.json" <<'JSON'
{
  "name": "overhead",
  "base": {
    "model": {"d_model": 32, "n_layers": 2, "n_heads": 2, "seq_len": 32},
    "residual": {"kind": "hc", "n": 2},
    "data": {"synthetic_tokens": 65536},
    "train": {"steps": 600, "batch_size": 8, "warmup_steps": 10, "log_every": 10, "checkpoint_every": 100},
    "eval": {"every": 0, "batches": 2, "tasks": [{"name": "syn_recall", "kind": "synthetic", "limit": 8}]}
  },
  "seeds": 8
}
JSON

ratios=()
for i in $(seq 1 "$REPEATS"); do
  out="$work/r$i"
  t0=$(date +%s.%N)
  "$HCX" sweep "$work/overhead.json" --jobs "$SLOTS" --devices cpu --threads 1 --db "$out/hcx.db" \
    > "$out.stdout" 2> "$out.stderr" || { cat "$out.stderr" >&2; exit 1; }
  t1=$(date +%s.%N)
  read -r runs sum < <(cat "$out"/logs/*.log | awk '/hcx sweep: exit 0 after/ {n++; s += $(NF-1)} END {print n, s}')
  if [ "$runs" != 8 ]; then echo "expected 8 completed runs, found $runs" >&2; exit 1; fi
  # Where the difference goes: before the first child starts, after the last one exits.
  first=$(date -d "$(grep -h '^==== .* hcx sweep: start' "$out"/logs/*.log | awk '{print $2}' | sort | head -1)" +%s.%N)
  last=$(date -d "$(grep -h '^==== .* hcx sweep: exit' "$out"/logs/*.log | awk '{print $2}' | sort | tail -1)" +%s.%N)
  breakdown=$(awk -v t0="$t0" -v t1="$t1" -v a="$first" -v b="$last" \
    'BEGIN {printf "  start-up %.3f s (process, expansion, registration), wind-down %.3f s (summary, exit)", a - t0, t1 - b}')
  ratio=$(awk -v t0="$t0" -v t1="$t1" -v s="$sum" -v k="$SLOTS" 'BEGIN {printf "%.3f", (t1 - t0) / (s / k)}')
  awk -v t0="$t0" -v t1="$t1" -v s="$sum" -v k="$SLOTS" -v r="$ratio" -v i="$i" \
    'BEGIN {printf "repeat %d: wall %.2f s, runs %.2f s in total (%.2f s each), ideal %.2f s, ratio %s\n",
            i, t1 - t0, s, s / 8, s / k, r}'
  echo "$breakdown"
  ratios+=("$ratio")
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
echo
echo "| runs | slots | repeats | wall / ideal (median) | all repeats | cpus | load before |"
echo "|---|---|---|---|---|---|---|"
echo "| 8 | $SLOTS | $REPEATS | $median | ${ratios[*]} | $(nproc) | $(cut -d' ' -f1 /proc/loadavg) |"
