#!/usr/bin/env bash
# Starts a real single-node Slurm on this machine for kdpipe's Slurm tests.
#
# Idempotent: if a Slurm is already usable (sinfo answers and the node is
# up), it is used as it is and nothing is started. Otherwise, as root, it
# installs Debian's packages (if missing), creates a munge key, and starts
# munged, slurmctld and slurmd in the background, recording their PIDs in
# $KDPIPE_SLURM_STATE (default /tmp/kdpipe-slurm) so that slurm-down.sh stops
# only those. No systemd is needed.
#
# Exit status: 0 when Slurm is usable; 1 (with the reason) when it cannot be
# started (not root, packages not installable, daemons not coming up).
set -euo pipefail

STATE=${KDPIPE_SLURM_STATE:-/tmp/kdpipe-slurm}
PARTITION=${KDPIPE_SLURM_PARTITION:-debug}
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf

say() { printf 'slurm-up: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

# A Slurm whose node is usable (idle, mixed or allocated) and whose
# controller answers.
slurm_usable() {
    command -v sinfo >/dev/null 2>&1 || return 1
    local states
    # sinfo retries for a long time when no controller answers: bound it.
    states=$(timeout "${1:-3}" sinfo -h -N -o '%T' 2>/dev/null) || return 1
    grep -Eq '^(idle|mixed|allocated|completing)' <<<"$states"
}

smoke_test() {
    local t0 out
    t0=$(now)
    out=$(timeout 60 srun -N1 -n1 --job-name kdpipe-smoke /bin/echo kdpipe-slurm-ok 2>&1) \
        || die "srun smoke test failed: $out"
    [[ $out == *kdpipe-slurm-ok* ]] || die "srun smoke test printed: $out"
    say "srun round trip: $(elapsed "$t0")"
}

if slurm_usable; then
    say "a usable Slurm is already running; using it"
    sinfo >&2
    smoke_test
    exit 0
fi

[[ $(id -u) -eq 0 ]] || die "not root: cannot install or start Slurm (need root, or a running Slurm)"

mkdir -p "$STATE"

# --- packages -----------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    t0=$(now)
    say "installing slurmctld slurmd slurm-client munge (Debian packages)"
    # Keep the packages' post-install scripts from starting services (no
    # systemd here; we start the daemons ourselves below).
    policy=/usr/sbin/policy-rc.d
    had_policy=0
    if [[ -e $policy ]]; then had_policy=1; cp -p "$policy" "$STATE/policy-rc.d.saved"; fi
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    restore_policy() {
        if [[ $had_policy -eq 1 ]]; then mv -f "$STATE/policy-rc.d.saved" "$policy"; else rm -f "$policy"; fi
    }
    trap restore_policy EXIT
    export DEBIAN_FRONTEND=noninteractive
    install() {
        apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >"$STATE/apt.log" 2>&1
    }
    if ! install; then
        say "apt-get install failed; running apt-get update and trying again"
        apt-get update >>"$STATE/apt.log" 2>&1 || true
        install || { tail -n 20 "$STATE/apt.log" >&2; die "cannot install the Slurm packages (log: $STATE/apt.log)"; }
    fi
    restore_policy
    trap - EXIT
    say "packages installed in $(elapsed "$t0")"
fi

t_start=$(now)

# --- munge --------------------------------------------------------------
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [[ ! -s /etc/munge/munge.key ]]; then
    say "creating munge key"
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
        || mungekey -c -k /etc/munge/munge.key
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge 2>/dev/null || true
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged already running"
else
    say "starting munged"
    # munged forks into the background and writes its own pid file.
    if id munge >/dev/null 2>&1; then
        runuser -u munge -- munged --pid-file=/run/munge/munged.pid \
            || munged --force --pid-file=/run/munge/munged.pid
    else
        munged --force --pid-file=/run/munge/munged.pid
    fi
    for _ in $(seq 50); do
        [[ -s /run/munge/munged.pid ]] && break
        sleep 0.1
    done
    cp /run/munge/munged.pid "$STATE/munged.pid"
    munge -n | unmunge >/dev/null || die "munged does not answer"
fi

# --- slurm.conf ---------------------------------------------------------
mkdir -p "$CONF_DIR" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
chown -R slurm:slurm /var/spool/slurmctld /var/log/slurm 2>/dev/null || true
CPUS=$(nproc)
want=$(cat <<CONF
# Written by kdpipe scripts/slurm-up.sh: a single-node test cluster.
ClusterName=kdpipe
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=3600
MailProg=/bin/true
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$STATE/slurmctld.daemon.pid
SlurmdPidFile=$STATE/slurmd.daemon.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=localhost CPUs=$CPUS State=UNKNOWN
PartitionName=$PARTITION Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
)
if [[ ! -f $CONF ]] || [[ "$(cat "$CONF")" != "$want" ]]; then
    if [[ -f $CONF ]] && ! grep -q 'Written by kdpipe' "$CONF"; then
        cp -p "$CONF" "$STATE/slurm.conf.saved"
        say "saved the existing $CONF to $STATE/slurm.conf.saved"
    fi
    printf '%s\n' "$want" >"$CONF"
    say "wrote $CONF (CPUs=$CPUS, partition $PARTITION)"
fi

# --- daemons ------------------------------------------------------------
if pid_alive "$STATE/slurmctld.pid"; then
    say "slurmctld already running (pid $(cat "$STATE/slurmctld.pid"))"
else
    say "starting slurmctld"
    # -i: ignore state files a previous, unrelated run may have left.
    nohup slurmctld -D -i >"$STATE/slurmctld.out" 2>&1 &
    echo $! >"$STATE/slurmctld.pid"
fi
if pid_alive "$STATE/slurmd.pid"; then
    say "slurmd already running (pid $(cat "$STATE/slurmd.pid"))"
else
    say "starting slurmd"
    nohup slurmd -D -N localhost >"$STATE/slurmd.out" 2>&1 &
    echo $! >"$STATE/slurmd.pid"
fi

# --- wait until usable --------------------------------------------------
for i in $(seq 300); do
    if slurm_usable 2; then break; fi
    if ! pid_alive "$STATE/slurmctld.pid"; then
        tail -n 20 "$STATE/slurmctld.out" "$STATE/slurmctld.log" >&2 2>/dev/null || true
        die "slurmctld exited (see $STATE/slurmctld.log)"
    fi
    if ! pid_alive "$STATE/slurmd.pid"; then
        tail -n 20 "$STATE/slurmd.out" "$STATE/slurmd.log" >&2 2>/dev/null || true
        die "slurmd exited (see $STATE/slurmd.log)"
    fi
    # A node left down/drained by an earlier run: bring it back.
    if (( i % 20 == 0 )); then
        scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
    fi
    sleep 0.1
done
slurm_usable || { sinfo >&2 || true; die "the node did not become idle within 30 s (see $STATE/*.log)"; }
say "daemons up in $(elapsed "$t_start")"
sinfo >&2
smoke_test
say "Slurm is ready (state: $STATE; stop with scripts/slurm-down.sh)"
