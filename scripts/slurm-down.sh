#!/usr/bin/env bash
# Stops the Slurm daemons that scripts/slurm-up.sh started (by the PIDs it
# recorded), and nothing else. A Slurm it did not start is left alone.
set -uo pipefail

STATE=${KDPIPE_SLURM_STATE:-/tmp/kdpipe-slurm}
say() { printf 'slurm-down: %s\n' "$*" >&2; }

stop() {
    local name=$1 file=$STATE/$1.pid pid
    [[ -s $file ]] || return 0
    pid=$(cat "$file")
    if kill -0 "$pid" 2>/dev/null; then
        say "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name (pid $pid) did not stop in 10 s; killing it"
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    rm -f "$file"
}

if [[ ! -d $STATE ]]; then
    say "nothing to stop ($STATE does not exist)"
    exit 0
fi
stop slurmd
stop slurmctld
stop munged
say "done"
