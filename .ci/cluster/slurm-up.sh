#!/usr/bin/env bash
# Bring up a single-node SLURM cluster on loopback, with accounting (slurmdbd + MariaDB), for CI.
#
#   sudo .ci/cluster/slurm-up.sh          # as root; idempotent
#   STATE=/some/dir .ci/cluster/slurm-up.sh
#
# Installs the Debian packages if missing, writes /etc/slurm/{slurm,slurmdbd}.conf, starts munged,
# mariadbd, slurmdbd, slurmctld and slurmd by hand (no systemd), and records every PID it started in
# $STATE/<daemon>.pid. slurm-down.sh stops exactly those PIDs. A daemon already running with a PID
# recorded here is left alone; one running with a PID NOT recorded here makes this script refuse.
# Result: partition "debug" with one node "localhost", account "ci", and working sacct.
set -euo pipefail

STATE=${STATE:-/tmp/kymata-ci/slurm}
CLUSTER=ci
ACCOUNT=ci
DB_PASS=${SLURM_DB_PASS:-kymata-ci-slurmdbd}   # loopback-only throwaway database user
export DEBIAN_FRONTEND=noninteractive

t_start=$(date +%s.%N)
TAG=slurm-up
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"   # log, die, elapsed, wait_for, ours, need_start, record_pidfile, stop

[ "$(id -u)" = 0 ] || die "must run as root (installs packages and starts system daemons)"
mkdir -p "$STATE"

# ---- packages ----------------------------------------------------------------------------------
t=$(date +%s.%N)
pkgs="munge slurm-client slurmctld slurmd slurmdbd mariadb-server"
missing=""
for p in $pkgs; do dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$missing $p"; done
if [ -n "$missing" ]; then
  log "installing:$missing"
  # Package postinst scripts cannot start services here (policy-rc.d / no systemd); that is expected.
  apt-get install -y -qq --no-install-recommends $missing >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
  log "apt install: $(elapsed "$t") s"
else
  log "packages already installed"
fi

# ---- munge -------------------------------------------------------------------------------------
t=$(date +%s.%N)
[ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
install -d -o munge -g munge -m 0755 /run/munge
if need_start munged munged; then
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  record_pidfile munged /run/munge/munged.pid munged
fi
wait_for 10 "a working munge socket" sh -c 'munge -n | unmunge'

# ---- slurm.conf (must exist before slurmdbd/sacctmgr run) --------------------------------------
install -d -m 0755 /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
NCPU=$(nproc)
MEM_MB=$(( $(awk '/^MemTotal/{print int($2/1024)}' /proc/meminfo) - 1024 ))
cat > /etc/slurm/slurm.conf <<CONF
# Written by .ci/cluster/slurm-up.sh: single node on loopback, no cgroups, no systemd.
ClusterName=${CLUSTER}
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=10
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageEnforce=associations
AccountingStoreFlags=job_comment
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=300
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=${NCPU} RealMemory=${MEM_MB} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

# ---- MariaDB + slurmdbd (accounting: sacct, -A <account>, efficiency reports) ------------------
t=$(date +%s.%N)
install -d -o mysql -g root -m 0755 /run/mysqld
if need_start mariadbd mariadbd; then
  rm -f /run/mysqld/mysqld.pid
  # Run in the background of a subshell whose output goes to a log; mariadbd writes its own pid file.
  ( setsid /usr/sbin/mariadbd --user=mysql --pid-file=/run/mysqld/mysqld.pid --bind-address=127.0.0.1 \
      >"$STATE/mariadb.log" 2>&1 < /dev/null & )
  wait_for 30 "MariaDB to answer" mysqladmin ping
  record_pidfile mariadbd /run/mysqld/mysqld.pid mariadbd
fi
mysql -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '${DB_PASS}';
          ALTER USER 'slurm'@'localhost' IDENTIFIED BY '${DB_PASS}';
          GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
umask_old=$(umask); umask 077
cat > /etc/slurm/slurmdbd.conf <<CONF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=${DB_PASS}
StorageLoc=slurm_acct_db
LogFile=/var/log/slurm/slurmdbd.log
PidFile=/run/slurmdbd.pid
CONF
umask "$umask_old"
if need_start slurmdbd slurmdbd; then
  rm -f /run/slurmdbd.pid
  /usr/sbin/slurmdbd          # daemonizes
  record_pidfile slurmdbd /run/slurmdbd.pid slurmdbd
fi
wait_for 30 "slurmdbd to answer sacctmgr" sacctmgr -n show cluster
# Register cluster/account/user before slurmctld starts, so AccountingStorageEnforce finds them.
sacctmgr -n show cluster format=cluster -P | grep -qx "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" >/dev/null
sacctmgr -n show account format=account -P | grep -qx "$ACCOUNT" \
  || sacctmgr -i add account "$ACCOUNT" Description=ci Organization=ci Cluster="$CLUSTER" >/dev/null
sacctmgr -n show user root format=user -P | grep -qx root \
  || sacctmgr -i add user root DefaultAccount="$ACCOUNT" Cluster="$CLUSTER" >/dev/null
sacctmgr -n show assoc user=root account="$ACCOUNT" format=account -P | grep -qx "$ACCOUNT" \
  || sacctmgr -i add user root Account="$ACCOUNT" Cluster="$CLUSTER" >/dev/null
log "accounting (mariadb + slurmdbd): $(elapsed "$t") s"

# ---- slurmctld + slurmd ------------------------------------------------------------------------
t=$(date +%s.%N)
if need_start slurmctld slurmctld; then
  rm -f /run/slurmctld.pid
  /usr/sbin/slurmctld -i      # daemonizes; -i ignores unusable saved state from a previous run
  record_pidfile slurmctld /run/slurmctld.pid slurmctld
fi
if need_start slurmd slurmd; then
  rm -f /run/slurmd.pid
  /usr/sbin/slurmd -N localhost   # node name must equal NodeName, whatever `hostname` says
  record_pidfile slurmd /run/slurmd.pid slurmd
fi
wait_for 60 "node localhost to be idle" sh -c "sinfo -h -n localhost -o '%T' | grep -Eq '^(idle|mixed|allocated)'"
log "slurmctld + slurmd: $(elapsed "$t") s"

sinfo
log "SLURM up in $(elapsed "$t_start") s (state: $STATE; stop with .ci/cluster/slurm-down.sh)"
