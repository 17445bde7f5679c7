#!/usr/bin/env bash
# Bring up a single-node Son of Grid Engine (Debian gridengine 8.1.9) on loopback, for CI.
#
#   sudo .ci/cluster/sge-up.sh            # as root; idempotent
#   STATE=/some/dir .ci/cluster/sge-up.sh
#
# Installs the Debian packages if missing (preseeded: cell "default", master "localhost"), starts
# sge_qmaster, configures it with qconf (root may submit, 1 s scheduling, queue all.q, PE smp), starts
# sge_execd, and records both PIDs in $STATE/<daemon>.pid; sge-down.sh stops exactly those PIDs.
# A daemon already running with a PID recorded here is left alone; one running with a PID NOT
# recorded here makes this script refuse.
#
# Host names: the cluster calls its only host "localhost", whatever `hostname` prints. SGE checks that a
# client's own host name matches the name its IP resolves to (127.0.0.1 -> localhost), so every name
# this machine may call itself is made an alias of localhost in $SGE_ROOT/$SGE_CELL/common/host_aliases.
# If `hostname` (or its short form) does not resolve, a line "127.0.0.1 <names>" is added to /etc/hosts
# (recorded, and removed again by sge-down.sh).
#
# Clients need: export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
set -euo pipefail

STATE=${STATE:-/tmp/kymata-ci/sge}
export DEBIAN_FRONTEND=noninteractive SGE_ROOT=${SGE_ROOT:-/var/lib/gridengine} SGE_CELL=${SGE_CELL:-default}
SPOOL=/var/spool/gridengine
QUEUE=all.q
PE=smp
HOSTS_MARK="# added by kymata .ci/cluster/sge-up.sh"

t_start=$(date +%s.%N)
TAG=sge-up
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # log, die, elapsed, wait_for, ours, need_start, record_pidfile, stop

[ "$(id -u)" = 0 ] || die "must run as root (installs packages and starts system daemons)"
mkdir -p "$STATE"

quiet() {  # quiet <command...>: run a qconf call, show its chatter only if it fails
  local out
  out=$("$@" 2>&1) || die "$* failed: $out"
}

# ---- packages ----------------------------------------------------------------------------------
t=$(date +%s.%N)
pkgs="gridengine-common gridengine-client gridengine-master gridengine-exec"
missing=""
for p in $pkgs; do dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$missing $p"; done
if [ -n "$missing" ]; then
  for p in common client master exec; do
    echo "gridengine-$p shared/gridengineconfig boolean true"
    echo "gridengine-$p shared/gridenginecell string default"
    echo "gridengine-$p shared/gridenginemaster string localhost"
  done | debconf-set-selections
  log "installing:$missing"
  apt-get install -y -qq --no-install-recommends $missing >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
  log "apt install: $(elapsed "$t") s"
else
  log "packages already installed"
fi

# ---- host names --------------------------------------------------------------------------------
H=$(hostname)
# SGE also looks up the short name of a dotted host name; an unresolvable name sends it to DNS, which
# on an offline CI machine hangs the daemons. So both must resolve.
unresolved=""
for n in "$H" "${H%%.*}"; do
  [ "$n" = localhost ] || getent hosts "$n" >/dev/null || case " $unresolved " in *" $n "*) ;; *) unresolved="$unresolved $n" ;; esac
done
if [ -n "$unresolved" ] && ! grep -qF "$HOSTS_MARK" /etc/hosts; then
  echo "127.0.0.1$unresolved $HOSTS_MARK" >> /etc/hosts
  touch "$STATE/etc-hosts-line"
  log "host name(s)$unresolved did not resolve: added '127.0.0.1$unresolved' to /etc/hosts"
fi
# Every name this machine may go by: hostname, short and FQDN, and whatever its address resolves to.
names=$( { echo "$H"; echo "${H%%.*}"; hostname -f 2>/dev/null || true; getent hosts "$H" | cut -d' ' -f2- | tr ' ' '\n';
           getent hosts "$(getent hosts "$H" | awk '{print $1; exit}')" | cut -d' ' -f2- | tr ' ' '\n'; } \
         | tr -s ' \t' '\n' | grep -v -x -e '' -e localhost | sort -u | tr '\n' ' ')
C=$SGE_ROOT/$SGE_CELL/common
[ -d "$C" ] || die "$C missing: gridengine packages not configured"
echo "localhost ${names% }" | sed 's/ *$//' > "$C/host_aliases"
echo localhost > "$C/act_qmaster"
names=${names% }
log "host aliases: localhost = ${names:-(none)}"

# ---- qmaster -----------------------------------------------------------------------------------
t=$(date +%s.%N)
install -d -o sgeadmin -g sgeadmin /var/run/gridengine
if need_start sge_qmaster sge_qmaster; then
  rm -f "$SPOOL/qmaster/qmaster.pid"
  /usr/sbin/sge_qmaster      # daemonizes
  record_pidfile sge_qmaster "$SPOOL/qmaster/qmaster.pid" sge_qmaster
fi
wait_for 30 "qmaster to answer qconf" qconf -sh
log "qmaster: $(elapsed "$t") s"

# ---- configuration (idempotent: add when missing, modify when present) -------------------------
t=$(date +%s.%N)
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
# Global config: allow root jobs, fast load reports, accounting flushed every second so qacct sees jobs.
# The file must be called "global", or qconf takes its name for a host name.
qconf -sconf > "$W/global"
sed -i -e 's/^min_uid .*/min_uid                      0/' -e 's/^min_gid .*/min_gid                      0/' \
  -e 's/^load_report_time .*/load_report_time             00:00:05/' \
  -e 's/flush_time=[0-9:]*/flush_time=00:00:01/' "$W/global"
quiet qconf -Mconf "$W/global"
# Scheduler: dispatch every second instead of every 15.
qconf -ssconf > "$W/sched"
sed -i -e 's/^schedule_interval .*/schedule_interval                 0:0:1/' \
  -e 's/^flush_submit_sec .*/flush_submit_sec                  1/' \
  -e 's/^flush_finish_sec .*/flush_finish_sec                  1/' "$W/sched"
quiet qconf -Msconf "$W/sched"
qconf -ss 2>/dev/null | grep -qx localhost || quiet qconf -as localhost
printf '%s\n' "hostname localhost" "load_scaling NONE" "complex_values NONE" "user_lists NONE" \
  "xuser_lists NONE" "projects NONE" "xprojects NONE" "usage_scaling NONE" "report_variables NONE" > "$W/exechost"
if qconf -sel 2>/dev/null | grep -qx localhost; then quiet qconf -Me "$W/exechost"
else quiet qconf -Ae "$W/exechost"; fi
printf '%s\n' "pe_name $PE" "slots 999" "user_lists NONE" "xuser_lists NONE" "start_proc_args NONE" \
  "stop_proc_args NONE" 'allocation_rule $pe_slots' "control_slaves FALSE" "job_is_first_task TRUE" \
  "urgency_slots min" "accounting_summary FALSE" "qsort_args NONE" > "$W/pe"
if qconf -spl 2>/dev/null | grep -qx "$PE"; then quiet qconf -Mp "$W/pe"; else quiet qconf -Ap "$W/pe"; fi
# The queue: no load thresholds (a busy shared CI machine must not put it in "alarm" state and stop
# dispatching). Written through qconf's editor hook (it has no "add from file" for a fresh default).
NCPU=$(nproc)
cat > "$W/edit-queue" <<EOF
#!/bin/sh
sed -i -e 's/^qname .*/qname $QUEUE/' -e 's/^hostlist .*/hostlist localhost/' -e 's/^slots .*/slots $NCPU/' \
  -e 's/^pe_list .*/pe_list $PE/' -e 's|^shell .*|shell /bin/bash|' \
  -e 's/^load_thresholds .*/load_thresholds NONE/' -e 's/^suspend_thresholds .*/suspend_thresholds NONE/' "\$1"
EOF
chmod +x "$W/edit-queue"
if qconf -sql 2>/dev/null | grep -qx "$QUEUE"; then EDITOR=$W/edit-queue quiet qconf -mq "$QUEUE"
else EDITOR=$W/edit-queue quiet qconf -aq; fi
log "configuration: $(elapsed "$t") s"

# ---- execd -------------------------------------------------------------------------------------
t=$(date +%s.%N)
if need_start sge_execd sge_execd; then
  rm -f "$SPOOL"/execd/*/execd.pid   # stale: no sge_execd runs (checked above)
  /usr/sbin/sge_execd        # daemonizes
  # Its spool dir is named after the host: "localhost", or the short `hostname` when that is a dotted name.
  wait_for 30 "sge_execd's pid file" sh -c "ls $SPOOL/execd/*/execd.pid"
  record_pidfile sge_execd "$(ls -t "$SPOOL"/execd/*/execd.pid | head -1)" sge_execd
fi
# The queue instance is usable once execd has reported load (no "au"/"u" state flags).
wait_for 60 "queue $QUEUE@localhost to come up" \
  sh -c "qstat -f -q $QUEUE 2>/dev/null | grep -Eq '^$QUEUE@localhost +[A-Z]+ +[0-9]+/[0-9]+/[0-9]+ +[-0-9.]+ +[a-z0-9-]+ *$'"
log "execd: $(elapsed "$t") s"

qstat -f
log "SGE up in $(elapsed "$t_start") s (state: $STATE; stop with .ci/cluster/sge-down.sh)"
log "clients need: export SGE_ROOT=$SGE_ROOT SGE_CELL=$SGE_CELL"
