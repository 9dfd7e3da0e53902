#!/bin/sh
# The ctest fixture of the Slurm tests (tests/CMakeLists.txt, label slurm-cluster):
#   ctest-fixture.sh start   start the test Slurm (start-slurm.sh), unless HCX_SKIP_SLURM=1
#   ctest-fixture.sh stop    stop it again, but only if `start` started it: a
#                            Slurm that was already up before the tests stays up
# State and logs: $HCX_SLURM_DIR (default /tmp/hcx-slurm), see README.md.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${HCX_SLURM_DIR:-/tmp/hcx-slurm}
MARK="$DIR/.started-by-ctest"

case "${1:-}" in
start)
    if [ "${HCX_SKIP_SLURM:-0}" = 1 ]; then
        echo "HCX_SKIP_SLURM=1: not starting Slurm; the Slurm tests skip themselves"
        exit 0
    fi
    out=$("$HERE/start-slurm.sh" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    if [ "$rc" -ne 0 ]; then
        echo "ctest-fixture: the test Slurm did not start (exit $rc): the Slurm tests fail." >&2
        echo "ctest-fixture: it must run as root on Debian 12; HCX_SKIP_SLURM=1 skips these tests." >&2
        exit "$rc"
    fi
    case "$out" in *" idle after "*) touch "$MARK" ;; esac
    ;;
stop)
    if [ -e "$MARK" ]; then
        rm -f "$MARK"
        exec "$HERE/stop-slurm.sh"
    fi
    echo "ctest-fixture: Slurm was not started by the tests; leaving it up"
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
