#!/usr/bin/env bash
# Start a real single-node Slurm (Debian 12 / Slurm 22.05) on localhost for the
# hcx tests.  Must run as root; needs no systemd.
#
# Everything (slurm.conf, munge key/socket, pid files, state and spool dirs,
# logs, jobcomp file) lives under $HCX_SLURM_DIR (default /tmp/hcx-slurm).
# Nothing is written to /etc/slurm: clients must use
#     export SLURM_CONF=$HCX_SLURM_DIR/slurm.conf
#
# Idempotent: when our munged, slurmctld and slurmd are alive and the node
# answers (idle/mix/alloc), it only prints the hints and exits 0.  Otherwise
# it stops whatever of ours is left (stop-slurm.sh), wipes the state, and
# starts munged, slurmctld and slurmd afresh, then waits until the node is idle.
#
# Environment:
#   HCX_SLURM_DIR          state directory (absolute path)   [/tmp/hcx-slurm]
#   HCX_SLURM_WAIT         seconds to wait for the idle node  [60]
#   HCX_SLURM_CTLD_PORT    slurmctld port                     [6817]
#   HCX_SLURM_SLURMD_PORT  slurmd port                        [6818]
#   HCX_SLURM_RESTART=1    restart with clean state even if healthy
set -euo pipefail

DIR="${HCX_SLURM_DIR:-/tmp/hcx-slurm}"
WAIT="${HCX_SLURM_WAIT:-60}"
CTLD_PORT="${HCX_SLURM_CTLD_PORT:-6817}"
SLURMD_PORT="${HCX_SLURM_SLURMD_PORT:-6818}"
CONF="$DIR/slurm.conf"
MUNGE_DIR="$DIR/munge"
MUNGE_SOCKET="$MUNGE_DIR/munge.socket.2"
NODE=localhost
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKAGES=(slurmctld slurmd slurm-client munge)

log() { echo "start-slurm: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

case "$DIR" in
/*) ;;
*) die "HCX_SLURM_DIR must be an absolute path (got '$DIR')" ;;
esac
DIR="${DIR%/}"
[ -n "$DIR" ] || die "HCX_SLURM_DIR must not be /"
[ "$(id -u)" -eq 0 ] || die "must run as root"
for p in "$CTLD_PORT" "$SLURMD_PORT"; do
    case "$p" in '' | *[!0-9]*) die "invalid port '$p'" ;; esac
    if [ "$p" -lt 1 ] || [ "$p" -gt 65535 ]; then die "invalid port '$p'"; fi
done
[ "$CTLD_PORT" != "$SLURMD_PORT" ] || die "slurmctld and slurmd ports must differ"
case "$WAIT" in '' | *[!0-9]*) die "invalid HCX_SLURM_WAIT '$WAIT'" ;; esac

hints() {
    echo "Slurm is up (config $CONF). Use it with:"
    echo "export SLURM_CONF=$CONF"
}

. "$(dirname "${BASH_SOURCE[0]}")/processes.sh"  # alive, pid_of

daemons_alive() {
    pid_of munged "$MUNGE_DIR/munged.pid" >/dev/null &&
        pid_of slurmctld "$DIR/slurmctld.pid" >/dev/null &&
        pid_of slurmd "$DIR/slurmd.pid" >/dev/null
}

node_state() {
    SLURM_CONF="$CONF" timeout 10 sinfo -h -n "$NODE" -o %t 2>/dev/null | head -n1
}

healthy() {
    daemons_alive || return 1
    case "$(node_state)" in
    idle | mix | alloc | comp) return 0 ;;
    esac
    return 1
}

show_logs() {
    local f
    for f in "$MUNGE_DIR/munged.log" "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" \
        "$DIR/log/munged.out" "$DIR/log/slurmctld.out" "$DIR/log/slurmd.out"; do
        [ -s "$f" ] || continue
        echo "----- tail $f -----" >&2
        tail -n 25 "$f" >&2
    done
}

fail() {
    log "ERROR: $*"
    show_logs
    log "stopping the daemons started so far (logs stay in $DIR/log, $MUNGE_DIR)"
    HCX_SLURM_LOCK_HELD=1 HCX_SLURM_DIR="$DIR" "$HERE/stop-slurm.sh" || true
    exit 1
}

# Quick path before taking the lock or touching anything.
if [ "${HCX_SLURM_RESTART:-0}" != 1 ] && [ -r "$CONF" ] && healthy; then
    hints
    exit 0
fi

mkdir -p "$DIR"
chmod 755 "$DIR"
exec 9>>"$DIR/.lock"
flock -w 180 9 || die "could not lock $DIR/.lock"
export HCX_SLURM_LOCK_HELD=1
# Someone else may have started it while we waited for the lock.
if [ "${HCX_SLURM_RESTART:-0}" != 1 ] && [ -r "$CONF" ] && healthy; then
    hints
    exit 0
fi

# ---------------------------------------------------------------- packages
installed() {
    local p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || return 1
    done
}
if ! installed; then
    log "installing ${PACKAGES[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # The packages must not start system daemons (no systemd here, and they
    # would compete for the ports); block invoke-rc.d unless a policy exists.
    policy_added=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        policy_added=1
    fi
    apt_install() { apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" >"$DIR/apt.log" 2>&1; }
    if ! apt_install; then
        log "apt-get install failed; running apt-get update and retrying"
        apt-get update -q >>"$DIR/apt.log" 2>&1 || true
        if ! apt_install; then
            if [ -n "$policy_added" ]; then rm -f /usr/sbin/policy-rc.d; fi
            tail -n 30 "$DIR/apt.log" >&2
            die "could not install ${PACKAGES[*]}"
        fi
    fi
    if [ -n "$policy_added" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
for c in munged mungekey munge unmunge slurmctld slurmd sinfo; do
    command -v "$c" >/dev/null || die "$c not found after installing ${PACKAGES[*]}"
done

# ------------------------------------------------- clean stop, clean state
"$HERE/stop-slurm.sh"
rm -rf "$DIR/state" "$DIR/spool" "$DIR/log" "$MUNGE_DIR" \
    "$DIR/jobcomp.txt" "$DIR/slurmctld.pid" "$DIR/slurmd.pid" "$CONF"
mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log" "$MUNGE_DIR"
chmod 755 "$DIR/state" "$DIR/spool" "$DIR/log"
touch "$DIR/jobcomp.txt"
chmod 644 "$DIR/jobcomp.txt"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$CTLD_PORT" "$SLURMD_PORT"; do
    port_busy "$p" && die "port $p on 127.0.0.1 is already in use (another Slurm?); set HCX_SLURM_CTLD_PORT/HCX_SLURM_SLURMD_PORT"
done

# ------------------------------------------------------------------ munge
chown munge:munge "$MUNGE_DIR"
chmod 700 "$MUNGE_DIR"
runuser -u munge -- mungekey --create --keyfile="$MUNGE_DIR/munge.key" --bits=1024 9>&- ||
    fail "mungekey failed"
# Clients (any user) must reach the socket.
chmod 755 "$MUNGE_DIR"
setsid runuser -u munge -- /usr/sbin/munged \
    --socket="$MUNGE_SOCKET" \
    --key-file="$MUNGE_DIR/munge.key" \
    --log-file="$MUNGE_DIR/munged.log" \
    --pid-file="$MUNGE_DIR/munged.pid" \
    --seed-file="$MUNGE_DIR/munged.seed" \
    </dev/null >"$DIR/log/munged.out" 2>&1 9>&- || fail "munged failed to start"
ok=
for _ in $(seq 1 100); do
    if [ -S "$MUNGE_SOCKET" ] && munge -n -S "$MUNGE_SOCKET" 2>/dev/null | unmunge -S "$MUNGE_SOCKET" >/dev/null 2>&1; then
        ok=1
        break
    fi
    sleep 0.1
done
[ -n "$ok" ] || fail "munge -n | unmunge does not work with $MUNGE_SOCKET"

# ------------------------------------------------------------- slurm.conf
ncpu=$(nproc)
hw=$(slurmd -C 2>/dev/null | head -n1 || true)
topo="CPUs=$ncpu"
if [ "$(sed -n 's/.* CPUs=\([0-9]*\) .*/\1/p' <<<"$hw")" = "$ncpu" ]; then
    # Same CPU count as nproc: use slurmd's full topology to avoid mismatch.
    topo=$(grep -o 'CPUs=.* ThreadsPerCore=[0-9]*' <<<"$hw" || echo "CPUs=$ncpu")
fi
mem=$(free -m 2>/dev/null | awk '/^Mem:/ { print $2 }')
[ -n "$mem" ] || mem=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024))
margin=$((mem / 20))
[ "$margin" -ge 256 ] || margin=256
realmem=$((mem - margin))
[ "$realmem" -ge 256 ] || realmem=256
defmem=$((realmem / ncpu))

cat >"$CONF" <<EOF
# Generated by tests/slurm/start-slurm.sh -- single-node test cluster.
ClusterName=hcx
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=cred_expire=10,socket=$MUNGE_SOCKET
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=$defmem
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_interval=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.txt
MinJobAge=3600
ReturnToService=2
MaxArraySize=100001
MaxJobCount=200000
JobRequeue=1
KillWait=5
OverTimeLimit=0
InactiveLimit=0
NodeName=$NODE NodeAddr=127.0.0.1 $topo RealMemory=$realmem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
chmod 644 "$CONF"
export SLURM_CONF="$CONF"

# ------------------------------------------------------------ slurm daemons
t0=$(date +%s.%N)
setsid slurmctld -f "$CONF" -c </dev/null >"$DIR/log/slurmctld.out" 2>&1 9>&- ||
    fail "slurmctld failed to start"
setsid slurmd -f "$CONF" -N "$NODE" </dev/null >"$DIR/log/slurmd.out" 2>&1 9>&- ||
    fail "slurmd failed to start"

deadline=$(($(date +%s) + WAIT))
state=
while :; do
    state=$(node_state || true)
    [ "$state" = idle ] && break
    # Daemons write their pid file right after forking; give them a moment.
    if [ -s "$DIR/slurmctld.pid" ] && ! pid_of slurmctld "$DIR/slurmctld.pid" >/dev/null; then
        fail "slurmctld died"
    fi
    if [ -s "$DIR/slurmd.pid" ] && ! pid_of slurmd "$DIR/slurmd.pid" >/dev/null; then
        fail "slurmd died"
    fi
    [ "$(date +%s)" -lt "$deadline" ] || fail "node $NODE not idle after ${WAIT}s (state '${state:-no answer}')"
    sleep 0.2
done
daemons_alive || fail "a daemon is not running although the node is idle"
log "node $NODE idle after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s"
hints
