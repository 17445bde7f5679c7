#!/usr/bin/env bash
# Submit one Snakemake job script to Grid Engine; print the job id (cluster-generic reads it).
# Called by snakemake (profiles/sge/config.yaml) as:  sge-submit.sh <jobscript>
# The rule name, threads and resources are read from the "# properties = {json}" line that Snakemake
# writes at the top of every job script.
set -euo pipefail

# The queue and parallel environment come from the job's resources sge_queue and sge_pe
# (default-resources in profiles/sge/config.yaml; '' leaves -q or -pe out). Less common settings,
# with their defaults (set them in the environment when running snakemake to change them):
SGE_MEM_COMPLEX=${SGE_MEM_COMPLEX-h_vmem}  # per-slot memory complex (h_vmem, mem_free, m_mem_free, ...)
SGE_MEM_FLOOR_MB=${SGE_MEM_FLOOR_MB-2048}  # minimum per JOB: Python + numpy/scipy/mne map ~1-2 GB virtual
SGE_LOGDIR=${SGE_LOGDIR-.snakemake/sge_logs}
SGE_EXTRA=${SGE_EXTRA-}                 # anything else, e.g. "-P myproject -l scratch=10G"
: "${SGE_ROOT:=/var/lib/gridengine}" "${SGE_CELL:=default}"; export SGE_ROOT SGE_CELL

jobscript=${!#}
[ -r "$jobscript" ] || { echo "sge-submit.sh: cannot read job script '$jobscript'" >&2; exit 2; }

# -> name threads mem_mb runtime (minutes) queue pe, as shell assignments
props=$(python3 - "$jobscript" <<'PY'
import json, re, shlex, sys
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
values = {
    "name": name,
    "threads": num(props.get("threads"), 1),
    "mem_mb": num(res.get("mem_mb"), 1024),
    "runtime": num(res.get("runtime"), 60),
    "queue": str(res.get("sge_queue", "")).strip(),
    "pe": str(res.get("sge_pe", "")).strip(),
}
print("\n".join(f"{key}={shlex.quote(str(value))}" for key, value in values.items()))
PY
) || { echo "sge-submit.sh: cannot read the job properties of '$jobscript'" >&2; exit 2; }
eval "$props"

# A setting in <angle brackets> is the placeholder profiles/sge/config.yaml ships (the workflow refuses
# it before any job; other workflows run with this profile meet it here).
for setting in "sge_queue=$queue" "sge_pe=$pe"; do
  case ${setting#*=} in
    "<"*">") echo "sge-submit.sh: ${setting%%=*} is still the placeholder '${setting#*=}': set it under" \
               "default-resources in profiles/sge/config.yaml (qconf -sql: queues, qconf -spl:" \
               "parallel environments)" >&2; exit 2 ;;
  esac
done

# The Snakemake inside the job gets the CPUs the job asks for. Its `--cores all` would be every CPU of
# the execution host (SGE does not confine a job to its slots), and a group job would then run its jobs
# side by side instead of one after another as its request assumes.
sed -i -E "s/ --cores '?all'? / --cores $threads /" "$jobscript"

per_slot=$(( ( (mem_mb > SGE_MEM_FLOOR_MB ? mem_mb : SGE_MEM_FLOOR_MB) + threads - 1 ) / threads ))
h_rt=$(printf '%d:%02d:00' $(( runtime / 60 )) $(( runtime % 60 )))

args=(-terse -V -cwd -S /bin/bash -j y -o "$SGE_LOGDIR/" -N "smk_$name" -l "h_rt=$h_rt")
[ -z "$queue" ] || args+=(-q "$queue")
[ -z "$pe" ] || args+=(-pe "$pe" "$threads")
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
