#!/usr/bin/env bash
# Stop the single-node test Slurm started by start-slurm.sh.
#
# Only processes recorded in pid files under $HCX_SLURM_DIR (default
# /tmp/hcx-slurm) are stopped: slurmd, slurmctld and munged.  Before the
# daemons go down, all jobs of this cluster are cancelled so no job processes
# (slurmstepd and its children) outlive the cluster; any slurmstepd still
# holding a socket in our spool directory afterwards is killed with its
# process tree.  Idempotent: exits 0 when nothing runs.
set -uo pipefail

DIR="${HCX_SLURM_DIR:-/tmp/hcx-slurm}"
CONF="$DIR/slurm.conf"

log() { echo "stop-slurm: $*" >&2; }

case "$DIR" in
/*) ;;
*) log "HCX_SLURM_DIR must be an absolute path (got '$DIR')"; exit 2 ;;
esac
[ -d "$DIR" ] || exit 0

# Serialize with start-slurm.sh (which sets HCX_SLURM_LOCK_HELD when it calls us).
if [ -z "${HCX_SLURM_LOCK_HELD:-}" ] && command -v flock >/dev/null 2>&1; then
    exec 9>>"$DIR/.lock"
    flock -w 180 9 || { log "could not lock $DIR/.lock"; exit 1; }
fi

. "$(dirname "${BASH_SOURCE[0]}")/processes.sh"  # alive, pid_of

# wait_gone PID SECONDS: wait until PID exits; 0 if gone.
wait_gone() {
    local pid=$1 n=$(($2 * 10))
    while [ "$n" -gt 0 ]; do
        alive "$pid" || return 0
        sleep 0.1
        n=$((n - 1))
    done
    ! alive "$pid"
}

# stop_daemon NAME PIDFILE: TERM, wait, KILL; remove pid file.
stop_daemon() {
    local name=$1 file=$2 pid
    if pid=$(pid_of "$name" "$file"); then
        kill -TERM "$pid" 2>/dev/null
        if ! wait_gone "$pid" 20; then
            log "$name (pid $pid) ignored SIGTERM, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null
            wait_gone "$pid" 5 || log "$name (pid $pid) still alive"
        fi
        log "stopped $name (pid $pid)"
    fi
    rm -f "$file"
}

# descendants PID...: print all descendant pids of the given pids.
descendants() {
    local table todo=("$@") p c
    table=$(ps -eo pid=,ppid= 2>/dev/null) || return 0
    while [ "${#todo[@]}" -gt 0 ]; do
        p=${todo[0]}
        todo=("${todo[@]:1}")
        while read -r c; do
            [ -n "$c" ] || continue
            echo "$c"
            todo+=("$c")
        done < <(awk -v p="$p" '$2 == p { print $1 }' <<<"$table")
    done
}

# 1. Cancel every job of this cluster while the controller is still up.
if pid_of slurmctld "$DIR/slurmctld.pid" >/dev/null && [ -r "$CONF" ]; then
    export SLURM_CONF="$CONF"
    ids=$(timeout 10 squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -n "${ids// /}" ]; then
        log "cancelling jobs: $ids"
        # shellcheck disable=SC2086
        timeout 10 scancel $ids 2>/dev/null
        for _ in $(seq 1 150); do
            [ -z "$(timeout 10 squeue -h -t R,CG,S,ST -o %A 2>/dev/null)" ] && break
            sleep 0.1
        done
    fi
fi

# 2. Daemons: compute node first, then controller, then munge.
stop_daemon slurmd "$DIR/slurmd.pid"
stop_daemon slurmctld "$DIR/slurmctld.pid"

# 3. Orphaned step daemons (e.g. after an unclean stop): any process holding a
#    unix socket in our spool directory is one of ours.
if [ -r /proc/net/unix ] && [ -d "$DIR/spool" ]; then
    inodes=$(awk -v d="$DIR/spool/" 'NR > 1 && index($8, d) == 1 { print $7 }' /proc/net/unix | sort -u)
    if [ -n "$inodes" ]; then
        pids=()
        for c in /proc/[0-9]*/comm; do
            comm=; read -r comm 2>/dev/null <"$c"
            [ "$comm" = slurmstepd ] || continue
            p=${c#/proc/}; p=${p%/comm}
            for fd in /proc/"$p"/fd/*; do
                t=$(readlink "$fd" 2>/dev/null) || continue
                case "$t" in socket:*) ;; *) continue ;; esac
                ino=${t//[^0-9]/}
                if grep -Fqx "$ino" <<<"$inodes"; then
                    pids+=("$p")
                    break
                fi
            done
        done
        if [ "${#pids[@]}" -gt 0 ]; then
            mapfile -t pids < <(printf '%s\n' "${pids[@]}" | sort -u)
            mapfile -t kids < <(descendants "${pids[@]}")
            all=("${pids[@]}" "${kids[@]}")
            log "killing orphaned slurmstepd processes: ${all[*]}"
            kill -KILL "${all[@]}" 2>/dev/null
            for p in "${all[@]}"; do wait_gone "$p" 5; done
        fi
    fi
fi

stop_daemon munged "$DIR/munge/munged.pid"
exit 0
