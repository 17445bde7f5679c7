"""The gridsearch's and the IPPM's parameters, each written once: name, type, default, flag, config key, meaning.

One :class:`Parameter` for each setting the workflow takes from a study's config and passes to
``kymata-core gridsearch`` or ``kymata-core ippm`` (and for the few config keys of those sections that
only the workflow reads). The two commands build their options' defaults and help from these tables.
The config schema (``workflow/schemas/config.schema.yaml``) and ``config/README.md`` cannot import
Python: ``tests/test_parameters.py`` checks that their defaults are the ones here.

``default`` is the config's default, which every study gets for a key it leaves out. A command run by
hand gets the same default, except where ``cli_default`` says otherwise, and then ``why`` says why.
:func:`kymata_core.gridsearch.plain.do_gridsearch` keeps the reference kymata-core 1.0.6 signature,
defaults included, so that it stays a drop-in replacement; where that differs, ``why`` says so too.

This module imports nothing beyond the standard library's typing: the command line's start-up
(``kymata-core --help``) must stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kymata_core.ippm.registry import DEFAULT_DENOISER


class _Marker:
    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return self._name


UNSET: Any = _Marker("UNSET")
"""``default`` of a config key that has no default (absent unless given)."""

SAME: Any = _Marker("SAME")
"""``cli_default`` of a parameter whose command default is the config's."""


@dataclass(frozen=True)
class Parameter:
    """One parameter of the gridsearch or the IPPM.

    Attributes
    ----------
    name : str
        Its name: the last part of the config key, and the keyword of the library function.
    type : type
        The type of its value on the command line (``bool``: a flag that is off by default).
    default : object
        The config's default (the schema's); :data:`UNSET` when the key has none.
    doc : str
        What it means, in one line (the command's help, without the default).
    flag : str or None
        The command-line option, or None when only the workflow reads it.
    config_key : str or None
        Its dotted path in the study config (``gridsearch.n_splits``).
    cli_default : object
        The command's default when it is not ``default`` (:data:`SAME`); ``why`` then says why.
    cli_default_doc : str
        How the command's help shows its default, when that is not the value itself (a None default).
    why : str
        Why a default differs between the config, the command and the library function.
    """

    name: str
    type: type
    default: Any
    doc: str
    flag: str | None = None
    config_key: str | None = None
    cli_default: Any = SAME
    cli_default_doc: str = ""
    why: str = ""

    @property
    def command_default(self) -> Any:
        """The default of the command-line option."""
        return self.default if self.cli_default is SAME else self.cli_default

    @property
    def help(self) -> str:
        """The command's help: the doc and the default (a flag's is off), with ``%`` escaped for argparse."""
        if self.type is bool:
            return self.doc.replace("%", "%%")
        default = self.cli_default_doc or str(self.command_default)
        return f"{self.doc} (default: {default})".replace("%", "%%")

    def add_to(self, parser: Any, **kwargs: Any) -> Any:
        """Add the option to an argparse parser or group, its default and help from here.

        ``kwargs`` (``type``, ``metavar``, ``choices``, or a ``help`` worded for the command) are passed
        on to ``add_argument``.
        """
        if self.flag is None:
            raise ValueError(f"parameter {self.name!r} has no command-line option")
        kwargs.setdefault("help", self.help)
        if self.type is bool:
            if self.command_default is not False:
                raise ValueError(f"flag {self.flag} must be off by default")
            return parser.add_argument(self.flag, action="store_true", **kwargs)
        kwargs.setdefault("type", self.type)
        return parser.add_argument(self.flag, default=self.command_default, **kwargs)


GRIDSEARCH: tuple[Parameter, ...] = (
    Parameter(
        "start_latency", float, -0.2, "earliest latency tested, s",
        "--start-latency", "gridsearch.start_latency",
        why="do_gridsearch takes it positionally, without a default (the reference's signature)",
    ),
    Parameter(
        "seconds_per_split", float, 1.0, "length of a stimulus split, and of the latency window, s",
        "--seconds-per-split", "gridsearch.seconds_per_split",
    ),
    Parameter("n_splits", int, 400, "number of splits of the stimulus", "--n-splits", "gridsearch.n_splits"),
    Parameter(
        "n_reps", int, 1, "repetitions used as extra splits (evokeds in a sensor-space file)",
        "--n-reps", "gridsearch.n_reps",
    ),
    Parameter(
        "n_derangements", int, 6, "shuffled pairings of splits that form the null distribution",
        "--n-derangements", "gridsearch.n_derangements",
        why="do_gridsearch's own default is 1, the reference function's, kept for drop-in use; "
        "the config and the command use 6",
    ),
    Parameter(
        "resample", float, 200,
        "rate the transform is tested at, Hz: the EMEG rate divided by a whole number, within 1% of this "
        "value (200 at 600.615 Hz EMEG is 200.205 Hz), or 'emeg' for the EMEG's own rate",
        "--resample", "gridsearch.resample",
        cli_default=None, cli_default_doc="the transform file's rate",
        why="the config tests at the reference's 200 Hz; a command run by hand tests the transform it is "
        "given at the file's own rate unless told, as it always has (a new default would change its results)",
    ),
    Parameter(
        "seed", int, 0, "seed of the derangements: the same seed gives byte-identical results",
        "--seed", "gridsearch.seed",
        why="do_gridsearch's default is None (fresh entropy), as the reference draws unseeded",
    ),
    Parameter(
        "stimulus_delivery_latency", float, 0.026, "constant delay between trigger and stimulus, s",
        "--stimulus-delivery-latency", "gridsearch.stimulus_delivery_latency",
        cli_default=0.0,
        why="the config takes the reference's measured 26 ms; a command run by hand corrects no delay "
        "unless told, as it always has (a new default would change its results); do_gridsearch takes it "
        "positionally",
    ),
    Parameter(
        "stimulus_shift_correction", float, 0.0, "drift of the stimulus clock, s per s",
        "--stimulus-shift-correction", "gridsearch.stimulus_shift_correction",
        why="do_gridsearch takes it positionally, without a default (the reference's signature)",
    ),
    Parameter(
        "nan_policy", str, "error", "NaNs in a transform: refuse, or replace them by zero or the mean",
        "--nan-policy", "transforms.nan_policy",
    ),
    Parameter(
        "memory_budget_mb", float, 1024, "working memory a gridsearch job may use beyond its input, MB",
        "--memory-budget-mb", "gridsearch.memory_budget_mb",
        cli_default=None, cli_default_doc="min(25% of free memory, 2 GB)",
        why="the workflow asks the scheduler for each job's memory, so the config fixes the budget; "
        "a command run by hand fits the machine it runs on",
    ),
    Parameter("threads", int, 1, "threads for the FFTs", "--threads", "gridsearch.threads"),
    Parameter("runtime_min", int, 60, "wall-time request per gridsearch job, minutes", None, "gridsearch.runtime_min"),
    Parameter(
        "save_dense", bool, False,
        "also write each shard's dense log10 p (channels x latencies) as HDF5 (the command's --dense-out)",
        None, "gridsearch.save_dense",
    ),
)
"""The gridsearch's parameters (config section ``gridsearch``, and ``transforms.nan_policy``)."""

IPPM: tuple[Parameter, ...] = (
    Parameter(
        "hierarchy", dict, UNSET, "transform to its parent transforms; inputs have an empty list",
        None, "ippm.hierarchy",
        why="the workflow writes it to a file, the command's --hierarchy (required)",
    ),
    Parameter(
        "denoisers", str, [], "the denoisers IPPMs are built with (kymata_core.ippm.registry)",
        "--denoiser", "ippm.denoisers",
        cli_default=DEFAULT_DENOISER,
        why="the config lists the denoisers to run, none by default; the command builds one IPPM, with one "
        "denoiser (or 'none'), and the workflow runs it once per listed denoiser",
    ),
    Parameter(
        "denoiser_params", str, {}, "denoiser parameters: a JSON/YAML file or inline JSON object",
        "--params", "ippm.denoiser_params",
        cli_default=None, cli_default_doc="the denoiser's defaults",
        why="the config maps each denoiser to its parameters; the command takes one denoiser's, none by default",
    ),
    Parameter(
        "merge_hemispheres", bool, False, "pool both hemispheres before denoising (hexel sets)",
        "--merge-hemispheres", "ippm.merge_hemispheres",
    ),
)
"""The IPPM's parameters (config section ``ippm``)."""

ALL: tuple[Parameter, ...] = GRIDSEARCH + IPPM


def by_name(name: str, table: tuple[Parameter, ...] = ALL) -> Parameter:
    """The parameter called ``name``."""
    for parameter in table:
        if parameter.name == name:
            return parameter
    raise KeyError(f"no parameter {name!r}; known: {[p.name for p in table]}")
