# Process checks shared by start-slurm.sh and stop-slurm.sh (sourced, bash).

# alive PID: true if PID exists and is not a zombie (PID 1 here may be slow
# to reap, and kill -0 succeeds on zombies).
alive() {
    local st=
    read -r st 2>/dev/null <"/proc/$1/stat" || return 1
    st=${st##*) }
    [ "${st%% *}" != Z ]
}

# pid_of NAME PIDFILE: print the pid if PIDFILE names a live process called NAME.
pid_of() {
    local name=$1 file=$2 pid comm
    [ -r "$file" ] || return 1
    pid=$(tr -dc '0-9' <"$file" 2>/dev/null)
    [ -n "$pid" ] || return 1
    read -r comm 2>/dev/null <"/proc/$pid/comm" || return 1
    [ "$comm" = "$name" ] || return 1
    alive "$pid" || return 1
    echo "$pid"
}
