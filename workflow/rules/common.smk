# Configuration parsing, target lists, input functions and wildcard constraints shared by every rule.
#
# Everything here runs when the workflow is parsed, before any job: the config is validated against
# workflow/schemas/config.schema.yaml and every input file the study names is checked, so a mistake
# fails at once with the key or file named.

import csv
import json
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")


class ConfigError(ValueError):
    """A mistake in the study's configuration, named by key or file."""


validate(config, schema="../schemas/config.schema.yaml")

RESULTS = config["results_dir"].rstrip("/")
DEMO = config["dataset"] == "demo"
GROUP = "group"
GRIDSEARCH = config["gridsearch"]

SPACES = [config["channel_space"]] if isinstance(config["channel_space"], str) else list(config["channel_space"])
HEMIS_OF_SPACE = {"sensor": ["scalp"], "source": ["lh", "rh"]}
SPACE_OF_HEMI = {"scalp": "sensor", "lh": "source", "rh": "source"}


# --- the study: participants, EMEG files, transforms ---------------------------------------------


def _demo_study():
    """Participants, transforms and input paths of the simulated demo study."""
    from kymata_core.simulate import DEMO_SPEC, StudySpec

    spec = StudySpec.from_yaml(config["demo"]["spec"]) if config["demo"]["spec"] else DEMO_SPEC
    data = config["demo"]["data_dir"].rstrip("/")
    return {
        "participants": list(spec.participants),
        "transforms": {name: f"{data}/transforms/{name}.npy" for name in spec.transforms},
        "transform_rate": float(spec.transform_sample_rate),
        "emeg": {
            "sensor": f"{data}/emeg/{{participant}}-ave.fif",
            "source": f"{data}/emeg/{{participant}}-lh.stc",
        },
        "truth": f"{data}/truth.json",
        "data_dir": data,
        "hierarchy": dict(spec.hierarchy),
    }


def _read_participants(value):
    if isinstance(value, list):
        return value
    path = Path(value)
    if not path.is_file():
        raise ConfigError(f"config key 'participants': participants file {value} not found")
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows or "participant_id" not in rows[0]:
        raise ConfigError(f"config key 'participants': {value} needs a 'participant_id' column")
    ids = [row["participant_id"].strip() for row in rows if row["participant_id"].strip()]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"config key 'participants': {value} lists a participant twice")
    return ids


def _npz_transform_names(path):
    import numpy as np

    if not Path(path).is_file():
        raise ConfigError(f"config key 'transforms.npz': file {path} not found")
    with np.load(path, allow_pickle=False) as npz:
        return [key for key in npz.files if key != "sample_rate"]


def _files_study():
    participants = _read_participants(config["participants"])
    tconf = config["transforms"]
    if "files" in tconf:
        transforms = dict(tconf["files"])
        if "names" in tconf:
            raise ConfigError("config key 'transforms.names' only applies to 'transforms.npz'")
    else:
        available = _npz_transform_names(tconf["npz"])
        names = tconf.get("names", available)
        unknown = [n for n in names if n not in available]
        if unknown:
            raise ConfigError(
                f"config key 'transforms.names': {unknown} not in {tconf['npz']} (it has {available})"
            )
        transforms = {name: tconf["npz"] for name in names}
    missing_spaces = [s for s in SPACES if s not in config["emeg"]]
    if missing_spaces:
        raise ConfigError(f"config key 'emeg': no file pattern for channel space(s) {missing_spaces}")
    return {
        "participants": participants,
        "transforms": transforms,
        "transform_rate": float(tconf["sample_rate"]),
        "emeg": dict(config["emeg"]),
        "truth": None,
        "data_dir": None,
        "hierarchy": {},
    }


STUDY = _demo_study() if DEMO else _files_study()
PARTICIPANTS = STUDY["participants"]
TRANSFORMS = STUDY["transforms"]
if config["group_average"] and GROUP in PARTICIPANTS:
    raise ConfigError(f"config key 'participants': '{GROUP}' is reserved for the grand average")
ALL_PARTICIPANTS = PARTICIPANTS + ([GROUP] if config["group_average"] else [])


def participant_emeg(participant, space):
    """The EMEG files of one participant in one channel space (both files of an .stc pair)."""
    if participant == GROUP:
        if space == "sensor":
            return [f"{RESULTS}/{GROUP}/emeg/{GROUP}-ave.fif"]
        return [f"{RESULTS}/{GROUP}/emeg/{GROUP}-lh.stc", f"{RESULTS}/{GROUP}/emeg/{GROUP}-rh.stc"]
    path = STUDY["emeg"][space].format(participant=participant)
    if path.endswith("-lh.stc"):
        return [path, path[: -len("-lh.stc")] + "-rh.stc"]
    return [path]


def _check_input_files():
    """Every user-supplied input must exist before anything runs."""
    if DEMO:
        return
    missing = []
    for space in SPACES:
        for participant in PARTICIPANTS:
            missing += [(f"emeg.{space}", p) for p in participant_emeg(participant, space) if not Path(p).is_file()]
    for name, path in TRANSFORMS.items():
        if not Path(path).is_file():
            missing.append((f"transforms.files.{name}", path))
    if missing:
        listed = "; ".join(f"{key}: {path}" for key, path in missing[:10])
        more = f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
        raise ConfigError(f"input file(s) not found: {listed}{more}")


_check_input_files()


# --- IPPM configuration ----------------------------------------------------------------------------

HIERARCHY = config["ippm"].get("hierarchy") or STUDY["hierarchy"]
DENOISERS = list(config["ippm"]["denoisers"])
DENOISER_PARAMS = config["ippm"]["denoiser_params"]
if DENOISERS and not HIERARCHY:
    raise ConfigError(
        f"config key 'ippm.hierarchy' is needed to build IPPMs with ippm.denoisers {DENOISERS}: "
        "give the hierarchy, or set 'ippm: {denoisers: []}' for no IPPMs"
    )
_unknown_in_hierarchy = sorted(
    {t for t, parents in HIERARCHY.items() if parents and t not in TRANSFORMS}
    | {p for parents in HIERARCHY.values() for p in parents if p not in HIERARCHY}
)
if _unknown_in_hierarchy:
    raise ConfigError(
        f"config key 'ippm.hierarchy': transform(s) {_unknown_in_hierarchy} are neither study transforms "
        f"({sorted(TRANSFORMS)}) nor hierarchy inputs"
    )


# --- wildcard constraints ----------------------------------------------------------------------------


def _alternatives(values):
    import re

    return "|".join(re.escape(v) for v in values)


wildcard_constraints:
    participant=_alternatives(ALL_PARTICIPANTS),
    transform=_alternatives(TRANSFORMS),
    hemi="scalp|lh|rh",
    space="sensor|source",
    denoiser="maxpool|adaptive_maxpool|dbscan|gmm|mean_shift",
    fmt="png|svg|pdf",


# --- input functions and parameters -----------------------------------------------------------------


def gridsearch_emeg(wildcards):
    return participant_emeg(wildcards.participant, SPACE_OF_HEMI[wildcards.hemi])


def transform_file(wildcards):
    return TRANSFORMS[wildcards.transform]


def _gridsearch_flags():
    """The study-wide gridsearch parameters as command-line flags."""
    g = GRIDSEARCH
    flags = [
        f"--transform-rate {STUDY['transform_rate']!r}",
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
        flags.append(f"--resample {g['resample']!r}")
    return " ".join(flags)


GRIDSEARCH_FLAGS = _gridsearch_flags()


def gridsearch_args(wildcards):
    """Every flag of one gridsearch job but its input and output files and threads.

    A rule parameter, so that a change of any of them reruns the job. One function, not one per
    flag: Snakemake inspects every callable of every job, which adds up over 20,000 jobs.
    """
    hemi = wildcards.hemi
    args = [
        f"--space {SPACE_OF_HEMI[hemi]}",
        "" if hemi == "scalp" else f"--hemi {hemi}",
        f"--transform-name {wildcards.transform}",
        GRIDSEARCH_FLAGS,
    ]
    if GRIDSEARCH["save_dense"]:
        args.append(f"--dense-out {RESULTS}/{wildcards.participant}/dense/{wildcards.transform}.{hemi}.h5")
    return " ".join(a for a in args if a)


def gridsearch_mem_mb(wildcards, input, threads):
    """Memory request of one gridsearch job from the library's memory model (MB)."""
    from kymata_core.io.emeg_shape import read_emeg_shape
    from kymata_core.gridsearch.memory import estimate_gridsearch_memory

    space = SPACE_OF_HEMI[wildcards.hemi]
    shape = read_emeg_shape(input.emeg[0], space, None if space == "sensor" else wildcards.hemi)
    g = GRIDSEARCH
    transform_rate = g["resample"] or STUDY["transform_rate"]
    estimate = estimate_gridsearch_memory(
        n_channels=shape.n_channels,
        n_times=shape.n_times,
        n_reps=shape.n_reps,
        n_splits=g["n_splits"],
        n_derangements=g["n_derangements"],
        seconds_per_split=g["seconds_per_split"],
        emeg_sample_rate=shape.sample_rate,
        transform_sample_rate=transform_rate,
        memory_budget=g["memory_budget_mb"] * 1024**2,
    )
    return int(estimate / 1024**2) + 1


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
    return [STUDY["truth"]] if STUDY["truth"] else []


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
    return targets
