#!/usr/bin/env bash
# Stop the daemons that .ci/cluster/sge-up.sh started: exactly the PIDs recorded in $STATE, nothing else.
# Each is sent SIGTERM and waited for (SIGKILL to that same PID after 30 s). Also removes the /etc/hosts
# line that sge-up.sh added, if it added one. Safe to run twice.
set -euo pipefail

STATE=${STATE:-/tmp/kymata-ci/sge}
HOSTS_MARK="# added by kymata .ci/cluster/sge-up.sh"
t_start=$(date +%s.%N)
TAG=sge-down
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # log, die, elapsed, wait_for, ours, need_start, record_pidfile, stop

stop sge_execd sge_execd
stop sge_qmaster sge_qmaster
if [ -e "$STATE/etc-hosts-line" ]; then
  # Rewrite in place (not a rename): /etc/hosts may be a bind mount.
  grep -vF "$HOSTS_MARK" /etc/hosts > "$STATE/hosts.tmp" || true
  cat "$STATE/hosts.tmp" > /etc/hosts
  rm -f "$STATE/hosts.tmp" "$STATE/etc-hosts-line"
  log "removed our line from /etc/hosts"
fi
log "done in $(elapsed "$t_start") s"
