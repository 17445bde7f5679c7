#!/usr/bin/env bash
# Stop the daemons that .ci/cluster/slurm-up.sh started: exactly the PIDs recorded in $STATE, nothing else.
# Each is sent SIGTERM and waited for (SIGKILL to that same PID after 30 s). Safe to run twice.
set -euo pipefail

STATE=${STATE:-/tmp/kymata-ci/slurm}
t_start=$(date +%s.%N)
log() { printf '[slurm-down] %s\n' "$*"; }

stop() {  # stop <record name> <expected comm>
  local f=$STATE/$1.pid pid i
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$2" ]; then
    log "$2: recorded pid $pid is not running (or is another program now): nothing to stop"
    rm -f "$f"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$2 (pid $pid) still alive after 30 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$f"
  log "$2 (pid $pid) stopped"
}

# Reverse order of start-up: compute daemons, controller, accounting, database, auth.
stop slurmd slurmd
stop slurmctld slurmctld
stop slurmdbd slurmdbd
stop mariadbd mariadbd
stop munged munged
log "done in $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
