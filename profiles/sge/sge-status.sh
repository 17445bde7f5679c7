#!/usr/bin/env bash
# Print the state of one Grid Engine job for Snakemake's cluster-generic executor:
# exactly one line, "running", "success" or "failed".   Usage: sge-status.sh <jobid>
#   in qstat, error state (E, e.g. Eqw)      -> failed (the job would never run)
#   in qstat otherwise                       -> running (queued, running, held, transferring)
#   in qacct: failed == 0 and exit_status 0  -> success, else failed
#   in neither                               -> running (accounting not written yet), but failed once
#                                               that lasts SGE_ACCT_GRACE seconds (default 180)
set -uo pipefail
: "${SGE_ROOT:=/var/lib/gridengine}" "${SGE_CELL:=default}"; export SGE_ROOT SGE_CELL
jid=${1%%.*}                                   # "123" or array "123.1-3:1"
grace=${SGE_ACCT_GRACE:-180}
marker=${TMPDIR:-/tmp}/sge-status.$(id -u).$jid

if state=$(qstat -u '*' 2>/dev/null | awk -v j="$jid" '$1 == j {print $5; exit}') && [ -n "$state" ]; then
  rm -f "$marker"
  case $state in *E*) echo "sge-status.sh: job $jid is in error state $state" >&2; echo failed ;; *) echo running ;; esac
  exit 0
fi
if acct=$(qacct -j "$jid" 2>/dev/null) && [ -n "$acct" ]; then
  rm -f "$marker"
  # The last record wins (a job id can recur in the accounting file after a qmaster reset).
  read -r failed exit_status < <(awk '/^failed/{f=$2} /^exit_status/{e=$2} END{print f, e}' <<<"$acct")
  if [ "$failed" = 0 ] && [ "$exit_status" = 0 ]; then echo success; else echo failed; fi
  exit 0
fi
now=$(date +%s)
[ -s "$marker" ] || echo "$now" > "$marker"
if (( now - $(cat "$marker") > grace )); then
  echo "sge-status.sh: job $jid is neither in qstat nor in qacct after ${grace}s" >&2
  rm -f "$marker"; echo failed
else
  echo running
fi
