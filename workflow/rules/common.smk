# Configuration parsing, target lists, input functions and wildcard constraints shared by every rule.
#
# Everything here runs when the workflow is parsed, before any job: the config is validated against
# workflow/schemas/config.schema.yaml and every input file the study names is checked, so a mistake
# fails at once with the key or file named.

import json
import shlex
import sys
from pathlib import Path

from snakemake.logging import logger
from snakemake.settings.types import DeploymentMethod
from snakemake.utils import min_version, validate

from kymata_core.config_schema import check_config
from kymata_core.ippm.registry import DENOISER_NAMES
from kymata_core.entities.hemispheres import HEMIS_OF_SPACE, SPACE_OF_HEMI
from kymata_core.study import GROUP, NAME_PATTERN, Study

min_version("9.0")

SCHEMA = workflow.source_path("../schemas/config.schema.yaml")
check_config(config, SCHEMA)  # one error naming the key and what is allowed there
validate(config, schema="../schemas/config.schema.yaml")  # fills in the schema's defaults

STUDY = Study.from_config(config)  # refuses what the schema cannot check, naming the key or file
for warning in STUDY.warnings:
    logger.warning(f"kymata-pipeline: {warning}")

# Every rule runs the `kymata-core` command with the Python that runs Snakemake (its module form), so
# the workflow needs no PATH set-up: not in a shell without the venv activated, not on cluster nodes.
# In a container (--software-deployment-method apptainer) that Python is not there: the image's own
# kymata-core is used.
if DeploymentMethod.APPTAINER in workflow.deployment_settings.deployment_method:
    KYMATA = "kymata-core"
else:
    KYMATA = f"{shlex.quote(sys.executable)} -m kymata_core"


def kymata(arguments):
    """The shell command running the kymata-core subcommand and `arguments` (a shell: template)."""
    return f"{KYMATA} {arguments}"


RESULTS = STUDY.results
DEMO = config["dataset"] == "demo"
GRIDSEARCH = config["gridsearch"]
SPACES = STUDY.spaces
PARTICIPANTS = STUDY.participants
ALL_PARTICIPANTS = STUDY.all_participants
TRANSFORMS = STUDY.transforms
HIERARCHY = STUDY.hierarchy
DENOISERS = STUDY.denoisers
DENOISER_PARAMS = config["ippm"]["denoiser_params"]


def participant_emeg(participant, space):
    return STUDY.participant_emeg(participant, space)


# --- wildcard constraints ----------------------------------------------------------------------------


# Names are checked against NAME_PATTERN (no dots or slashes) when the config is read, so a character
# class is exact enough, and much cheaper to match over 20,000 jobs than an alternation of the names.
wildcard_constraints:
    participant=NAME_PATTERN,
    transform=NAME_PATTERN,
    hemi="scalp|lh|rh",
    space="sensor|source",
    denoiser="|".join(DENOISER_NAMES),
    fmt="png|svg|pdf",


# A participant wildcard that is not the grand average (rules that make a real participant's files). The
# look-ahead ends at the next character that cannot be in a name: in a path, "group/" is the group.
PARTICIPANT_NOT_GROUP = f"(?!{GROUP}(?![A-Za-z0-9_-])){NAME_PATTERN}"


# --- input functions and parameters -----------------------------------------------------------------


def gridsearch_inputs(wildcards):
    """The EMEG file(s) and the transform file of one gridsearch job (one function for both: see _gridsearch_flags)."""
    return {
        "emeg": participant_emeg(wildcards.participant, SPACE_OF_HEMI[wildcards.hemi]),
        "transform": TRANSFORMS[wildcards.transform],
    }


def _gridsearch_flags():
    """Every flag of a gridsearch job but its files and threads, with the job's wildcards left in.

    A rule parameter, so that a change of any of them reruns the job. A string rather than a
    function of the wildcards: Snakemake inspects and calls every function of every job, which adds
    up over 20,000 jobs (see benchmarks/README.md), while it fills a string's wildcards cheaply.
    """
    g = GRIDSEARCH
    flags = [
        "--hemi {hemi} --transform-name {transform}",
        f"--transform-rate {STUDY.transform_rate!r}",
        f"--start-latency {g['start_latency']!r}",
        f"--seconds-per-split {g['seconds_per_split']!r}",
        f"--n-splits {g['n_splits']}",
        f"--n-reps {g['n_reps']}",
        f"--n-derangements {g['n_derangements']}",
        f"--seed {g['seed']}",
        f"--stimulus-delivery-latency {g['stimulus_delivery_latency']!r}",
        f"--stimulus-shift-correction {g['stimulus_shift_correction']!r}",
        f"--nan-policy {config['transforms'].get('nan_policy', 'error')}",
        f"--memory-budget-mb {g['memory_budget_mb']}",
    ]
    if g["resample"] is not None:
        flags.append(f"--resample {g['resample']}")
    if "sensor" in SPACES:
        flags.append(condition_flags())  # the CLI applies it to sensor-space files only
    return " ".join(flags)


def condition_flags():
    """``--condition`` for each condition of ``emeg.condition`` (sensor space), quoted for the shell."""
    condition = STUDY.condition
    names = [] if condition is None else [condition] if isinstance(condition, str) else condition
    return " ".join(f"--condition {shlex.quote(name)}" for name in names)


GRIDSEARCH_FLAGS = _gridsearch_flags()


def gridsearch_mem_mb(wildcards, input, threads):
    """Memory request of one gridsearch job from the library's memory model (MB)."""
    from kymata_core.io.emeg_shape import read_emeg_shape
    from kymata_core.gridsearch.memory import estimate_gridsearch_memory

    from kymata_core.gridsearch.rates import resolve_transform_rate

    space = SPACE_OF_HEMI[wildcards.hemi]
    if space == "sensor":
        shape = read_emeg_shape(input.emeg[0], space, None, STUDY.condition)
    else:
        shape = read_emeg_shape(input.emeg[0], space, wildcards.hemi)
    g = GRIDSEARCH
    transform_rate = resolve_transform_rate(g["resample"], shape.sample_rate, STUDY.transform_rate)
    estimate = estimate_gridsearch_memory(
        n_channels=shape.n_channels,
        n_times=shape.n_times,
        n_reps=g["n_reps"],
        n_splits=g["n_splits"],
        n_derangements=g["n_derangements"],
        seconds_per_split=g["seconds_per_split"],
        emeg_sample_rate=shape.sample_rate,
        transform_sample_rate=transform_rate,
        memory_budget=g["memory_budget_mb"] * 1024**2,
    )
    return int(estimate / 1024**2) + 1


def operator_inputs(wildcards):
    """A participant's evoked, inverse operator and (precomputed) morph: what its source operator is built from."""
    inputs = {
        "evoked": participant_emeg(wildcards.participant, "sensor")[0],
        "inverse": STUDY.inverse_operator(wildcards.participant),
    }
    if (morph := STUDY.morph_file(wildcards.participant)) is not None:
        inputs["morph"] = morph
    return inputs


def _operator_flags():
    """The source settings of every operator job, and a morph to compute (a precomputed one is an input)."""
    flags = [f"--snr {STUDY.source_snr!r}", f"--method {STUDY.source_method}", condition_flags()]
    if isinstance(STUDY.morph, dict):
        m = STUDY.morph
        flags.append(
            f"--morph-to {shlex.quote(m['subject_to'])} --subjects-dir {shlex.quote(m['subjects_dir'])} "
            f"--spacing {m.get('spacing', 5)}"
        )
    return " ".join(flags)


OPERATOR_FLAGS = _operator_flags() if STUDY.source_from_inverse else ""


def _evoked_flags():
    """Every flag of the BIDS evoked jobs but the participant: the dataset's entities and the epoching."""
    b, e = STUDY.bids, STUDY.epochs
    flags = [f"--bids-root {shlex.quote(b.root)} --task {shlex.quote(b.task)} --datatype {b.datatype}"]
    flags += [f"--{key} {shlex.quote(str(value))}" for key, value in (("session", b.session), ("run", b.run), ("acquisition", b.acquisition)) if value is not None]
    flags.append(f"--trigger {shlex.quote(str(e.trigger))} --duration {e.duration!r} --before {e.before!r} --after {e.after!r}")
    flags += [f"--{key} {value!r}" for key, value in (("l-freq", e.l_freq), ("h-freq", e.h_freq)) if value is not None]
    if e.stim_channel:
        flags.append(f"--stim-channel {shlex.quote(e.stim_channel)}")
    flags += [f"--bad-channel {shlex.quote(ch)}" for ch in e.bad_channels]
    if e.keep_repetitions:
        flags.append("--keep-repetitions")
    return " ".join(flags)


EVOKED_FLAGS = _evoked_flags() if STUDY.epochs_from_bids else ""


def projected_gridsearch_inputs(wildcards):
    """A participant's evoked, source operator and transform: a hexel gridsearch through the operator."""
    return {
        "emeg": participant_emeg(wildcards.participant, "sensor")[0],
        "operator": STUDY.source_operator(wildcards.participant),
        "transform": TRANSFORMS[wildcards.transform],
    }


def projected_gridsearch_mem_mb(wildcards, input, threads):
    """Memory request of a hexel gridsearch through a source operator: the sensor data and the operator's
    rows are held, the hexels formed a chunk at a time within the budget (MB)."""
    from kymata_core.io.emeg_shape import read_emeg_shape
    from kymata_core.io.source_operator import read_source_operator_header
    from kymata_core.gridsearch.memory import estimate_gridsearch_memory
    from kymata_core.gridsearch.rates import resolve_transform_rate

    header = read_source_operator_header(input.operator)
    sensors = read_emeg_shape(input.emeg, "sensor", None, STUDY.condition)
    n_hexels = header.n_hexels(wildcards.hemi)
    g = GRIDSEARCH
    estimate = estimate_gridsearch_memory(
        n_channels=n_hexels,
        n_times=sensors.n_times,
        n_reps=g["n_reps"],
        n_splits=g["n_splits"],
        n_derangements=g["n_derangements"],
        seconds_per_split=g["seconds_per_split"],
        emeg_sample_rate=sensors.sample_rate,
        transform_sample_rate=resolve_transform_rate(g["resample"], sensors.sample_rate, STUDY.transform_rate),
        memory_budget=g["memory_budget_mb"] * 1024**2,
        emeg_itemsize=4,
        emeg_in_memory=False,
    )
    held = 4 * len(header.channel_names) * (sensors.n_reps * sensors.n_times + n_hexels)
    return int((estimate + held) / 1024**2) + 1


def average_source_mem_mb(wildcards, input):
    """Memory request of the source-space group average (MB): from source estimates, a few times their size;
    through source operators, the averaged hexel time series (float64 sum and float32 result) and one
    participant's projected data at a time."""
    if not STUDY.source_from_inverse:
        return 1024 + 3 * int(input.size_mb)
    from kymata_core.io.emeg_shape import read_emeg_shape
    from kymata_core.io.source_operator import read_source_operator_header

    sensors = read_emeg_shape(input.evoked[0], "sensor", None, STUDY.condition)
    n_hexels = read_source_operator_header(input.operators[0]).n_hexels()
    samples = n_hexels * GRIDSEARCH["n_reps"] * sensors.n_times
    return 1024 + int((samples * (8 + 4 + 4) + 8 * input.size_mb * 2**20 / len(input.evoked)) / 2**20)


def combine_shards(wildcards):
    return expand(
        f"{RESULTS}/{wildcards.participant}/shards/{{transform}}.{{hemi}}.nkg",
        transform=TRANSFORMS,
        hemi=HEMIS_OF_SPACE[wildcards.space],
    )


def plot_options(kind, title):
    """The plot options of the config as JSON, with a default title naming what is shown."""
    return json.dumps({"title": title, **config["plots"][kind]}, sort_keys=True)


def truth_file():
    return [STUDY.truth] if STUDY.truth else []


# --- targets -----------------------------------------------------------------------------------------


def all_targets():
    fmts = config["plots"]["formats"]
    targets = expand(f"{RESULTS}/{{participant}}/summary.json", participant=ALL_PARTICIPANTS)
    targets += expand(
        f"{RESULTS}/{{participant}}/plots/expression-{{space}}.{{fmt}}",
        participant=ALL_PARTICIPANTS,
        space=SPACES,
        fmt=fmts,
    )
    if DENOISERS:
        targets += expand(
            f"{RESULTS}/{{participant}}/plots/ippm-{{denoiser}}-{{space}}.{{fmt}}",
            participant=ALL_PARTICIPANTS,
            denoiser=DENOISERS,
            space=SPACES,
            fmt=fmts,
        )
    targets.append(f"{RESULTS}/config.yaml")
    targets += REPORT_TARGETS
    return targets


# --- cluster runs: retries and site settings ----------------------------------------------------------


def on_retry(base, growth):
    """A resource request that grows each time a failed job is retried (`retries` in the cluster profiles).

    ``base`` is the first attempt's request: a number, or a resource function of the job's wildcards,
    input and threads. Attempt n asks for ``base * (1 + growth * (n - 1))``, rounded up, so that a job
    the scheduler killed for its memory or time comes back with more instead of failing the same way.
    Local runs do not retry: their one attempt asks for ``base``.
    """
    import inspect
    import math

    if not callable(base):

        def constant(wildcards, attempt):
            return math.ceil(base * (1 + growth * (attempt - 1)))

        return constant

    wanted = set(inspect.signature(base).parameters) & {"input", "threads"}

    def grown(wildcards, input, threads, attempt):
        given = {"input": input, "threads": threads}
        value = base(wildcards, **{name: given[name] for name in wanted})
        return math.ceil(value * (1 + growth * (attempt - 1)))

    return grown


# How much more a retry asks for: half as much memory again, and the whole time again, per retry.
RETRY_MEM = 0.5
RETRY_TIME = 1.0

# Where to look up each site setting the cluster profiles leave as a placeholder.
SITE_SETTINGS = {
    "slurm_account": "a SLURM account you may charge (sacctmgr -n show assoc user=$USER format=account)",
    "slurm_partition": "a SLURM partition (sinfo -s)",
    "sge_queue": "a Grid Engine queue (qconf -sql; '' lets SGE choose)",
    "sge_pe": "a Grid Engine parallel environment for multi-threaded jobs (qconf -spl)",
}


def check_site_settings():
    """Stop with one message while a profile's site settings are still the placeholders it ships.

    profiles/slurm and profiles/sge give `default-resources` such as ``slurm_account: <your account>``:
    a value in angle brackets marks a setting only the user can know. Left as it is, it would reach
    sbatch or qsub and fail there, job after job, after the DAG is built.
    """
    from snakemake.exceptions import WorkflowError

    defaults = workflow.resource_settings.default_resources
    if not defaults:
        return
    unset = []
    for name, value in defaults.items():
        raw = getattr(value, "raw", value)
        text = raw.strip().strip("'\"") if isinstance(raw, str) else ""  # the profiles may quote it
        if text.startswith("<") and text.endswith(">"):
            unset.append(f"  {name}: {raw}    -> {SITE_SETTINGS.get(name, 'your site value')}")
    if unset:
        raise WorkflowError(
            "kymata-pipeline: the cluster profile's site settings are still placeholders. Set them under "
            "default-resources in the profile you run with (profiles/slurm/config.yaml or "
            "profiles/sge/config.yaml; README.md, 'Running on a cluster'):\n" + "\n".join(unset)
        )


check_site_settings()
