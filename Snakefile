# kymata-pipeline: the Kymata method as a reproducible Snakemake workflow.
#
#   snakemake --profile profiles/default              the demo study (config/config.yaml)
#   snakemake --profile profiles/slurm                the same on a SLURM cluster
#   snakemake --profile profiles/default --configfile my-study.yaml
#
# See README.md and config/README.md.

# config/config.yaml is the built-in demo study. It is read only when no --configfile is given, so a
# study's own config gets the documented defaults (the schema's), never the demo's settings.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


# With --software-deployment-method apptainer, every job runs in this image of the locked environment,
# built from containers/kymata-pipeline.def (containers/README.md); a path relative to the project
# directory, where Snakemake runs. Plain runs ignore it and use .venv.
container: "containers/kymata-pipeline.sif"


include: "workflow/rules/common.smk"


if DEMO:

    include: "workflow/rules/simulate.smk"


if STUDY.epochs_from_bids:

    include: "workflow/rules/bids.smk"


if STUDY.source_from_inverse:

    include: "workflow/rules/operator.smk"


include: "workflow/rules/average.smk"
include: "workflow/rules/gridsearch.smk"
include: "workflow/rules/combine.smk"
include: "workflow/rules/ippm.smk"
include: "workflow/rules/plots.smk"
include: "workflow/rules/report.smk"


rule all:
    localrule: True
    input:
        all_targets(),
    default_target: True
