# Shared by the .ci/cluster/*-up.sh and *-down.sh scripts (sourced, not run). The caller sets TAG (the
# log prefix, e.g. "slurm-up") and STATE (the directory of <name>.pid records) first.
#
# The scripts start and stop system daemons as root, so they only ever touch processes whose PIDs they
# recorded themselves in $STATE, and check each PID still belongs to the program they started.

log() { printf '[%s] %s\n' "$TAG" "$*"; }
die() { printf '[%s] ERROR: %s\n' "$TAG" "$*" >&2; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

wait_for() {  # wait_for <seconds> <description> <command...>
  local limit=$1 what=$2 t0; shift 2; t0=$(date +%s)
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s) - t0 < limit )) || die "timed out after ${limit}s waiting for ${what}"
    sleep 0.2
  done
}

ours() {  # ours <name> <comm>: true if $STATE/<name>.pid names a live process called <comm>
  local f=$STATE/$1.pid pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  if [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ]; then return 0; fi
  rm -f "$f"   # stale record: that process is gone
  return 1
}

need_start() {  # need_start <name> <comm>: 0 = start it; 1 = already running and ours; dies if a foreign one runs
  if ours "$1" "$2"; then log "$2 already running (pid $(cat "$STATE/$1.pid"), started by us): kept"; return 1; fi
  local others
  others=$(pgrep -x "$2" | tr '\n' ' ' || true)
  [ -z "$others" ] || die "$2 is already running (pid ${others% }) but was not started by this script" \
    "(no record in $STATE); stop it yourself or point STATE at its records"
  return 0
}

record_pidfile() {  # record_pidfile <name> <daemon pid file> <comm> [seconds to wait for the file]
  wait_for "${4:-30}" "$2" test -s "$2"
  local pid; pid=$(cat "$2")
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$3" ] || die "$2 names pid $pid, which is not $3"
  echo "$pid" > "$STATE/$1.pid"
  log "$3 started (pid $pid)"
}

stop() {  # stop <name> <comm>: SIGTERM the recorded PID and wait; SIGKILL that same PID after 30 s
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
