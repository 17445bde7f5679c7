#!/usr/bin/env bash
# Submit one Snakemake job script to Grid Engine; print the job id (cluster-generic reads it).
# Called by snakemake (profiles/sge/config.yaml) as:  sge-submit.sh <jobscript>
# The rule name, threads and resources are read from the "# properties = {json}" line that Snakemake
# writes at the top of every job script.
set -euo pipefail

# ---- EDIT FOR YOUR SITE (or set these in the environment) --------------------------------------------
SGE_QUEUE=${SGE_QUEUE-all.q}            # -q; empty: let SGE choose
SGE_PE=${SGE_PE-smp}                    # parallel environment for multi-threaded jobs (`qconf -spl`)
SGE_MEM_COMPLEX=${SGE_MEM_COMPLEX-h_vmem}  # per-slot memory complex (h_vmem, mem_free, m_mem_free, ...)
SGE_MEM_FLOOR_MB=${SGE_MEM_FLOOR_MB-2048}  # minimum per JOB: Python + numpy/scipy/mne map ~1-2 GB virtual
SGE_LOGDIR=${SGE_LOGDIR-.snakemake/sge_logs}
SGE_EXTRA=${SGE_EXTRA-}                 # anything else, e.g. "-P myproject -l scratch=10G"
# -------------------------------------------------------------------------------------------------------
: "${SGE_ROOT:=/var/lib/gridengine}" "${SGE_CELL:=default}"; export SGE_ROOT SGE_CELL

jobscript=${!#}
[ -r "$jobscript" ] || { echo "sge-submit.sh: cannot read job script '$jobscript'" >&2; exit 2; }

# -> name threads mem_mb runtime_minutes
read -r name threads mem_mb runtime < <(python3 - "$jobscript" <<'PY'
import json, re, sys
props = {}
with open(sys.argv[1]) as f:
    for line in f:
        if line.startswith("# properties = "):
            props = json.loads(line[len("# properties = "):])
            break
res = props.get("resources", {}) or {}
name = props.get("rule") or "group_" + str(props.get("groupid", "job"))
name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
def num(v, default):
    try:
        return max(1, int(float(v)))
    except (TypeError, ValueError):
        return default
print(name, num(props.get("threads"), 1), num(res.get("mem_mb"), 1024), num(res.get("runtime"), 60))
PY
)

per_slot=$(( ( (mem_mb > SGE_MEM_FLOOR_MB ? mem_mb : SGE_MEM_FLOOR_MB) + threads - 1 ) / threads ))
h_rt=$(printf '%d:%02d:00' $(( runtime / 60 )) $(( runtime % 60 )))

args=(-terse -V -cwd -S /bin/bash -j y -o "$SGE_LOGDIR/" -N "smk_$name" -l "h_rt=$h_rt")
[ -z "$SGE_QUEUE" ] || args+=(-q "$SGE_QUEUE")
[ -z "$SGE_PE" ] || args+=(-pe "$SGE_PE" "$threads")
[ -z "$SGE_MEM_COMPLEX" ] || args+=(-l "$SGE_MEM_COMPLEX=${per_slot}M")
mkdir -p "$SGE_LOGDIR"
# The job is a two-line script, read by qsub from stdin, that restores this PATH and then runs the job
# script. -V alone is not enough: SGE starts bash as a login shell (global config `login_shells`), whose
# profile files reset PATH, and the rules' commands (kymata-core, python) must come from the same
# environment as Snakemake.
# shellcheck disable=SC2086  # SGE_EXTRA is a list of options
exec qsub "${args[@]}" $SGE_EXTRA <<JOB
export PATH=$(printf '%q' "$PATH")
exec /bin/sh $(printf '%q' "$(realpath "$jobscript")")
JOB
