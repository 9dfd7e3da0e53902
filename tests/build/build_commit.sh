#!/usr/bin/env bash
# cmake/build_commit.cmake, which every build runs (label build): the commit
# of a checkout, "-dirty" once a tracked file differs, a new commit after a
# commit, "" outside git and for a folder inside someone else's checkout; and
# the generated file is left untouched (same mtime) when its text would not
# change, so an unchanged tree rebuilds nothing.
#
# Usage: build_commit.sh CMAKE SCRIPT
set -uo pipefail
cmake=$1
script=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/src
out=$tmp/out.cpp
mkdir -p "$src"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
generate() { "$cmake" -DSRC="$1" -DOUT="$out" -P "$script" || fail "cmake -P failed for $1"; }
expect() {  # expect COMMIT WHAT
  grep -qF "return \"$1\";" "$out" || { fail "$2: expected \"$1\" in"; cat "$out"; }
}
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
g() { git -C "$src" -c user.name=t -c user.email=t@t "$@"; }

generate "$src"
expect "" "not a git checkout"

g init -q && echo a >"$src/f" && g add f && g commit -qm one || { echo "FAIL: git"; exit 1; }
sha=$(g rev-parse HEAD)
generate "$src"
expect "$sha" "clean checkout"

touch -d @946684800 "$out"
generate "$src"
[ "$(stat -c %Y "$out")" = 946684800 ] || fail "rewritten although the commit did not change"

echo b >>"$src/f"
generate "$src"
expect "$sha-dirty" "edited tracked file"
echo untracked >"$src/new"
generate "$src"
expect "$sha-dirty" "untracked files do not matter, the edit still does"

g commit -qam two
sha2=$(g rev-parse HEAD)
generate "$src"
expect "$sha2" "after a commit"

mkdir -p "$src/sub"
generate "$src/sub"
expect "" "a folder inside another checkout"

[ "$failures" = 0 ] && echo "build_commit.cmake: all checks passed"
exit "$failures"
