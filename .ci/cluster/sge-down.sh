#!/usr/bin/env bash
# Stop the daemons that .ci/cluster/sge-up.sh started: exactly the PIDs recorded in $STATE, nothing else.
# Each is sent SIGTERM and waited for (SIGKILL to that same PID after 30 s). Also removes the /etc/hosts
# line that sge-up.sh added, if it added one. Safe to run twice.
set -euo pipefail

STATE=${STATE:-/tmp/kymata-ci/sge}
HOSTS_MARK="# added by kymata .ci/cluster/sge-up.sh"
t_start=$(date +%s.%N)
log() { printf '[sge-down] %s\n' "$*"; }

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

stop sge_execd sge_execd
stop sge_qmaster sge_qmaster
if [ -e "$STATE/etc-hosts-line" ]; then
  # Rewrite in place (not a rename): /etc/hosts may be a bind mount.
  grep -vF "$HOSTS_MARK" /etc/hosts > "$STATE/hosts.tmp" || true
  cat "$STATE/hosts.tmp" > /etc/hosts
  rm -f "$STATE/hosts.tmp" "$STATE/etc-hosts-line"
  log "removed our line from /etc/hosts"
fi
log "done in $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
