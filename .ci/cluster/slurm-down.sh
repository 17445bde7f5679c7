#!/usr/bin/env bash
# Stop the daemons that .ci/cluster/slurm-up.sh started: exactly the PIDs recorded in $STATE, nothing else.
# Each is sent SIGTERM and waited for (SIGKILL to that same PID after 30 s). Safe to run twice.
set -euo pipefail

STATE=${STATE:-/tmp/kymata-ci/slurm}
t_start=$(date +%s.%N)
TAG=slurm-down
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # log, die, elapsed, wait_for, ours, need_start, record_pidfile, stop

# Reverse order of start-up: compute daemons, controller, accounting, database, auth.
stop slurmd slurmd
stop slurmctld slurmctld
stop slurmdbd slurmdbd
stop mariadbd mariadbd
stop munged munged
log "done in $(elapsed "$t_start") s"
