#!/bin/sh
# Every file under experiments/ works from a copy of the repository with no
# ../shared beside it (label build): experiment files dry-run (which checks
# that every file a run reads exists), from the repository root and from
# inside experiments/ (paths are relative to the file); run configs validate
# with hcx inspect; the .sql queries run against a database of a real
# one-step run.
# Usage: experiments_dry_run.sh HCX SOURCE_DIR
set -eu
hcx=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/repo"
cp -R "$src/experiments" "$src/data" "$tmp/repo/"
[ ! -e "$tmp/shared" ] || { echo "FAIL: $tmp/shared exists"; exit 1; }
cd "$tmp/repo"
fail=0
n=0
for f in $(find experiments -name '*.json' | sort); do
  n=$((n + 1))
  case "$f" in
    experiments/examples/*)  # run configs, for hcx run
      if ! "$hcx" inspect "$f" > "$tmp/out" 2>&1; then echo "FAIL: hcx inspect $f"; cat "$tmp/out"; fail=1; fi ;;
    *)
      if ! "$hcx" sweep "$f" --dry-run --db "$tmp/r/hcx.db" > "$tmp/out" 2>&1; then
        echo "FAIL: hcx sweep $f --dry-run (from the repository root)"; cat "$tmp/out"; fail=1
      fi
      if ! (cd experiments && "$hcx" sweep "${f#experiments/}" --dry-run --db "$tmp/r/hcx.db") > "$tmp/out" 2>&1; then
        echo "FAIL: hcx sweep ${f#experiments/} --dry-run (from experiments/)"; cat "$tmp/out"; fail=1
      fi ;;
  esac
done
[ ! -e "$tmp/r/hcx.db" ] || { echo "FAIL: a dry run wrote $tmp/r/hcx.db"; fail=1; }
"$hcx" run experiments/examples/tiny.json -s train.steps=1 --db "$tmp/q/hcx.db" --progress none > "$tmp/out" 2>&1 ||
  { echo "FAIL: hcx run experiments/examples/tiny.json"; cat "$tmp/out"; exit 1; }
for f in $(find experiments -name '*.sql' | sort); do
  n=$((n + 1))
  if ! "$hcx" query "$(cat "$f")" --db "$tmp/q/hcx.db" > "$tmp/out" 2>&1; then echo "FAIL: hcx query $f"; cat "$tmp/out"; fail=1; fi
done
[ "$fail" = 0 ] || exit 1
echo "experiments: $n files work from a copy without ../shared"
