"""A study as the workflow sees it: participants, EMEG files, transforms and the IPPM set-up.

:meth:`Study.from_config` turns a configuration that has passed the JSON schema
(``workflow/schemas/config.schema.yaml``) into the lists the workflow's rules are built from, and
refuses what the schema cannot check: a participants file without ids, transforms that are not in
the stimulus file, a hierarchy naming unknown transforms, missing input files. Every refusal is one
:class:`ConfigError` naming the config key or file. The workflow calls it when it is parsed, so a
mistake stops the run before any job; the tests call it directly.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kymata_core.errors import KymataError

GROUP = "group"
"""The participant id of the grand average."""

NAME_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_-]*"
"""What a participant id or transform name may look like: it becomes a path component and a
command-line word, and the workflow's wildcard constraints rely on it having no dot or slash.
The one rule for names (:func:`invalid_names`); the config schema's patterns for participant ids and
transform names are this one anchored (tests/test_parameters.py checks they agree)."""

_NAME = re.compile(NAME_PATTERN)


def invalid_names(names: Iterable[Any]) -> list[Any]:
    """The names that cannot be a participant id or transform name (not :data:`NAME_PATTERN`), in order."""
    return [n for n in names if not (isinstance(n, str) and _NAME.fullmatch(n))]

RESERVED_NAMES = ("logs", "benchmarks", "ippm")
"""Directories of the results folder that no participant may be named after (besides ``group``)."""



class ConfigError(KymataError, ValueError):
    """A mistake in a study's configuration, naming the config key or file."""


@dataclass
class Study:
    """Everything the workflow needs to know about a study, derived from its configuration.

    Attributes
    ----------
    participants : list of str
        Participant ids, without the grand average.
    transforms : dict
        Transform name to the file holding it.
    transform_rate : float
        Sample rate of the transform files, Hz.
    emeg : dict
        Channel space to the EMEG path pattern (with ``{participant}``).
    spaces : list of str
        The channel spaces analysed (``sensor``, ``source``).
    results : str
        The results directory.
    group_average : bool
        Whether the grand average is analysed as participant ``group``.
    hierarchy : dict
        Transform to parent transforms, for the IPPMs (empty: none).
    denoisers : list of str
        IPPM denoisers to run.
    truth : str or None
        The ``truth.json`` of a simulated study.
    data_dir : str or None
        Where a simulated study's inputs are written.
    condition : str, list of str, or None
        The condition analysed in the sensor files (``emeg.condition``; None: each file's only one).
    transforms_key : str
        ``"files"`` or ``"npz"``: the config key that names the transform files.
    warnings : list of str
        What the checks of the input files found suspicious but did not refuse.
    inverse : str or None
        Path pattern of the participants' inverse operators, when source space is made from them.
    morph : str, dict or None
        The morph to a common subject: a ``-morph.h5`` path pattern or ``{subject_to, subjects_dir, spacing}``.
    source_snr, source_method : float, str
        The inverse's ``snr`` (``lambda2 = 1 / snr ** 2``) and method.
    bids : BidsSpec or None
        Where the recordings are, for ``dataset: bids`` (:mod:`kymata_core.io.bids`).
    epochs : EpochSettings or None
        How the workflow cuts BIDS recordings into presentations (None: it does not).
    """

    participants: list[str]
    transforms: dict[str, str]
    transform_rate: float
    emeg: dict[str, str]
    spaces: list[str]
    results: str = "results"
    group_average: bool = True
    hierarchy: dict[str, list[str]] = field(default_factory=dict)
    denoisers: list[str] = field(default_factory=list)
    truth: str | None = None
    data_dir: str | None = None
    condition: str | list[str] | None = None
    transforms_key: str = "files"
    warnings: list[str] = field(default_factory=list)
    inverse: str | None = None
    morph: str | dict[str, Any] | None = None
    source_snr: float = 4.0
    source_method: str = "MNE"
    bids: Any = None
    epochs: Any = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, check_files: bool = True) -> Study:
        """The study of a schema-validated configuration (defaults filled in).

        Parameters
        ----------
        config : mapping
            The configuration, after validation against the workflow's JSON schema.
        check_files : bool
            Also require every user-supplied input file to exist.

        Raises
        ------
        ConfigError
            For each mistake the schema cannot catch, naming the key or file.
        """
        spaces = [config["channel_space"]] if isinstance(config["channel_space"], str) else list(config["channel_space"])
        common = {
            "spaces": spaces,
            "results": config.get("results_dir", "results").rstrip("/") or ".",
            "group_average": bool(config.get("group_average", True)),
            "denoisers": list(config.get("ippm", {}).get("denoisers", [])),
        }
        if config["dataset"] == "demo":
            study = cls._demo(config.get("demo", {}), **common)
        elif config["dataset"] == "bids":
            study = cls._bids(config, **common)
        else:
            study = cls._files(config, **common)
        hierarchy = config.get("ippm", {}).get("hierarchy")
        if hierarchy:
            study.hierarchy = {str(t): [str(p) for p in parents] for t, parents in hierarchy.items()}
        study._check_participants()
        study._check_names()
        study._check_hierarchy()
        if check_files and config["dataset"] != "demo":
            from kymata_core.study_inputs import check_study_inputs

            study._check_input_files()
            study.warnings = check_study_inputs(study, config["gridsearch"])
        return study

    @classmethod
    def _demo(cls, demo: Mapping[str, Any], **common: Any) -> Study:
        from kymata_core.simulate import DEMO_SPEC, StudySpec

        try:
            spec = StudySpec.from_yaml(demo["spec"]) if demo.get("spec") else DEMO_SPEC
        except (ValueError, FileNotFoundError) as e:
            raise ConfigError(f"config key 'demo.spec': {e}") from None
        data = str(demo.get("data_dir", "demo-data")).rstrip("/")
        return cls(
            participants=list(spec.participants),
            transforms={name: f"{data}/transforms/{name}.npy" for name in spec.transforms},
            transform_rate=float(spec.transform_sample_rate),
            emeg={"sensor": f"{data}/emeg/{{participant}}-ave.fif", "source": f"{data}/emeg/{{participant}}-lh.stc"},
            truth=f"{data}/truth.json",
            data_dir=data,
            hierarchy=dict(spec.hierarchy),
            **common,
        )

    @classmethod
    def _files(cls, config: Mapping[str, Any], **common: Any) -> Study:
        tconf = config["transforms"]
        transforms = _transform_files(tconf)
        emeg = config["emeg"]
        inverse = emeg.get("inverse_operator") if "source" in common["spaces"] else None
        if "source" in common["spaces"] and "source" in emeg and "inverse_operator" in emeg:
            raise ConfigError(
                "config keys 'emeg.source' and 'emeg.inverse_operator': give one way to source space, "
                "source estimates or inverse operators, not both"
            )
        if inverse is not None and "sensor" not in emeg:
            raise ConfigError("config key 'emeg.inverse_operator' needs 'emeg.sensor': the evoked files it is applied to")
        if "morph" in emeg and inverse is None:
            raise ConfigError("config key 'emeg.morph' only applies with 'emeg.inverse_operator'")
        needed = [s for s in common["spaces"] if not (s == "source" and inverse is not None)]
        missing_spaces = [s for s in needed if s not in emeg]
        if missing_spaces:
            raise ConfigError(
                f"config key 'emeg': no file pattern for channel space(s) {missing_spaces}"
                + (" (source space: emeg.source, or emeg.inverse_operator with emeg.sensor)" if "source" in missing_spaces else "")
            )
        if inverse is not None and common["group_average"] and "morph" not in emeg:
            raise ConfigError(
                "config key 'emeg.morph' is needed for the group average in source space: every participant's hexels "
                "must be on one common subject (e.g. {subject_to: fsaverage, subjects_dir: ...}, also when the "
                "inverses are already on fsaverage); or set 'group_average: false'"
            )
        source = config.get("source", {})
        return cls(
            participants=_read_participants(config["participants"]),
            transforms=transforms,
            transform_rate=float(tconf["sample_rate"]),
            emeg={space: emeg[space] for space in common["spaces"] if space in emeg},
            condition=emeg.get("condition"),
            transforms_key="files" if "files" in tconf else "npz",
            inverse=inverse,
            morph=emeg.get("morph") if inverse is not None else None,
            source_snr=float(source.get("snr", 4.0)),
            source_method=str(source.get("method", "MNE")),
            **common,
        )

    @classmethod
    def _bids(cls, config: Mapping[str, Any], **common: Any) -> Study:
        """A study of a BIDS dataset: its participants, evoked files made from its recordings (or taken from
        mne-bids-pipeline's derivatives), transforms in its ``stimuli/`` folder."""
        from kymata_core.io.bids import BidsError, BidsSpec, bids_participants

        b = config["bids"]
        spec = BidsSpec(
            root=str(b["root"]), task=str(b["task"]), session=b.get("session"), run=b.get("run"),
            acquisition=b.get("acquisition"), datatype=b.get("datatype", "meg"), derivatives=b.get("derivatives"),
        )  # fmt: skip
        try:
            participants = bids_participants(spec.root, b.get("participants"))
        except BidsError as e:
            key = "bids.participants" if b.get("participants") else "bids.root"
            raise ConfigError(f"config key '{key}': {e}") from None
        user_emeg = config.get("emeg", {})
        unknown = sorted(set(user_emeg) - {"condition", "inverse_operator", "morph"})
        if unknown:
            raise ConfigError(
                f"config key 'emeg': with 'dataset: bids' the evoked files come from the dataset; only emeg.condition, "
                f"emeg.inverse_operator and emeg.morph apply (not {unknown})"
            )
        if spec.derivatives is not None:
            emeg = {"sensor": _participant_pattern(spec.derivative("PARTICIPANT", "ave"))}
            inverse = _participant_pattern(spec.derivative("PARTICIPANT", "inv")) if "source" in common["spaces"] else None
            if "inverse_operator" in user_emeg:
                raise ConfigError("config key 'emeg.inverse_operator': with bids.derivatives the inverse operators come from there")
        else:
            if b.get("trigger") is None:
                raise ConfigError("config key 'bids.trigger' is needed to cut the recordings into presentations (or give bids.derivatives)")
            emeg = {"sensor": f"{common['results']}/{{participant}}/emeg/{{participant}}-ave.fif"}
            inverse = user_emeg.get("inverse_operator") if "source" in common["spaces"] else None
            if "source" in common["spaces"] and inverse is None:
                raise ConfigError(
                    "config key 'emeg.inverse_operator': source space from a BIDS dataset's raw recordings needs each "
                    "participant's inverse operator (or give bids.derivatives, or channel_space: sensor)"
                )
        if inverse is not None and common["group_average"] and "morph" not in user_emeg:
            raise ConfigError(
                "config key 'emeg.morph' is needed for the group average in source space (a common subject), "
                "or set 'group_average: false'"
            )
        transforms = _transform_files(config["transforms"], base=Path(spec.root) / "stimuli")
        epochs = None
        if spec.derivatives is None:
            from kymata_core.io.bids import EpochSettings
            from kymata_core.io.transform import transform_length

            duration = b.get("stimulus_duration")
            if duration is None:
                first, path = next(iter(transforms.items()))
                if not Path(path).is_file():
                    raise ConfigError(f"config key 'transforms.files.{first}': {path} not found")
                duration = transform_length(path, first) / float(config["transforms"]["sample_rate"])
            margins, band = b.get("margins", {}), b.get("filter", {})
            epochs = EpochSettings(
                trigger=b["trigger"], duration=float(duration), before=float(margins.get("before", 0.5)),
                after=float(margins.get("after", 1.5)), l_freq=band.get("l_freq"), h_freq=band.get("h_freq"),
                keep_repetitions=config.get("gridsearch", {}).get("n_reps", 1) > 1,
                stim_channel=b.get("stim_channel"), bad_channels=tuple(b.get("bad_channels", [])),
            )  # fmt: skip
        source = config.get("source", {})
        return cls(
            participants=participants,
            transforms=transforms,
            transform_rate=float(config["transforms"]["sample_rate"]),
            emeg=emeg,
            condition=user_emeg.get("condition"),
            transforms_key="files" if "files" in config["transforms"] else "npz",
            inverse=inverse,
            morph=user_emeg.get("morph") if inverse is not None else None,
            source_snr=float(source.get("snr", 4.0)),
            source_method=str(source.get("method", "MNE")),
            bids=spec,
            epochs=epochs,
            **common,
        )

    @property
    def epochs_from_bids(self) -> bool:
        """Whether the participants' evoked files are made by the workflow from BIDS recordings."""
        return self.epochs is not None

    def recording_files(self, participant: str) -> list[str]:
        """A participant's BIDS recording and the sidecars that change what is cut from it (events, channels)."""
        from kymata_core.io.bids import recording

        bids_path = recording(self.bids, participant)
        files = [str(bids_path.fpath)]
        for suffix in ("events", "channels"):
            sidecar = bids_path.copy().update(suffix=suffix, extension=".tsv", check=False).fpath
            if Path(sidecar).is_file():
                files.append(str(sidecar))
        return files

    # --- derived lists --------------------------------------------------------------------------

    @property
    def all_participants(self) -> list[str]:
        """The participants and, when analysed, the grand average ``group``."""
        return self.participants + ([GROUP] if self.group_average else [])

    @property
    def source_from_inverse(self) -> bool:
        """Whether source space is made from inverse operators (else read from source estimates)."""
        return self.inverse is not None

    def participant_emeg(self, participant: str, space: str) -> list[str]:
        """The EMEG files of one participant in one channel space (both files of an ``.stc`` pair).

        Source space from inverse operators: the participant's sensor evoked (see :meth:`source_operator`).
        """
        if participant == GROUP:
            stem = f"{self.results}/{GROUP}/emeg/{GROUP}"
            return [f"{stem}-ave.fif"] if space == "sensor" else [f"{stem}-lh.stc", f"{stem}-rh.stc"]
        if space == "source" and self.source_from_inverse:
            space = "sensor"
        path = self.emeg[space].format(participant=participant)
        if path.endswith("-lh.stc"):
            return [path, path[: -len("-lh.stc")] + "-rh.stc"]
        return [path]

    def emeg_file_space(self, participant: str, space: str) -> str:
        """The kind of file :meth:`participant_emeg` names: ``"sensor"`` (evoked) or ``"source"`` (estimate)."""
        return "sensor" if space == "sensor" or (participant != GROUP and self.source_from_inverse) else "source"

    def source_operator(self, participant: str) -> str:
        """Where the workflow writes a participant's premorphed source operator."""
        return f"{self.results}/{participant}/operator/source-operator.h5"

    def inverse_operator(self, participant: str) -> str:
        """A participant's MNE inverse operator file."""
        assert self.inverse is not None
        return self.inverse.format(participant=participant)

    def morph_file(self, participant: str) -> str | None:
        """A participant's precomputed morph file, when ``morph`` is a path pattern."""
        return self.morph.format(participant=participant) if isinstance(self.morph, str) else None

    # --- checks ---------------------------------------------------------------------------------

    def _check_participants(self) -> None:
        if not self.participants:
            raise ConfigError("config key 'participants': no participant")
        if self.group_average and GROUP in self.participants:
            raise ConfigError(f"config key 'participants': '{GROUP}' is reserved for the grand average")
        reserved = [p for p in self.participants if p in RESERVED_NAMES]
        if reserved:
            raise ConfigError(f"config key 'participants': {reserved} are reserved for folders of the results")

    def _check_names(self) -> None:
        for key, names in (("participants", self.participants), ("transforms", self.transforms)):
            bad = invalid_names(names)
            if bad:
                raise ConfigError(
                    f"config key '{key}': {bad[:5]} cannot be used as names (letters, digits, '_' and '-' "
                    "only, as they become file names and command-line words)"
                    + (": pick usable transforms with 'transforms.names'" if key == "transforms" else "")
                )

    def _check_hierarchy(self) -> None:
        if self.denoisers and not self.hierarchy:
            raise ConfigError(
                f"config key 'ippm.hierarchy' is needed to build IPPMs with ippm.denoisers {self.denoisers}: "
                "give the hierarchy, or set 'ippm: {denoisers: []}' for no IPPMs"
            )
        unknown = sorted(
            {t for t, parents in self.hierarchy.items() if parents and t not in self.transforms}
            | {p for parents in self.hierarchy.values() for p in parents if p not in self.hierarchy}
        )
        if unknown:
            raise ConfigError(
                f"config key 'ippm.hierarchy': transform(s) {unknown} are neither study transforms "
                f"({sorted(self.transforms)}) nor hierarchy inputs"
            )

    def _check_input_files(self) -> None:
        """Every user-supplied input must exist before anything runs."""
        made_here = self.epochs_from_bids  # the evoked files are the workflow's own outputs
        missing = [
            (f"emeg.{space}" if self.bids is None else "bids.derivatives", path)
            for space in self.spaces
            for participant in self.participants
            for path in self.participant_emeg(participant, space)
            if not (made_here and self.emeg_file_space(participant, space) == "sensor") and not Path(path).is_file()
        ]
        missing += [(f"transforms.files.{n}", p) for n, p in self.transforms.items() if not Path(p).is_file()]
        if self.source_from_inverse:
            missing += [
                (key, path)
                for participant in self.participants
                for key, path in (("emeg.inverse_operator", self.inverse_operator(participant)), ("emeg.morph", self.morph_file(participant)))
                if path is not None and not Path(path).is_file()
            ]
            if isinstance(self.morph, dict) and not Path(self.morph["subjects_dir"]).is_dir():
                missing.append(("emeg.morph.subjects_dir", self.morph["subjects_dir"]))
        if missing:
            listed = "; ".join(f"{key}: {path}" for key, path in missing[:10])
            more = f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
            raise ConfigError(f"input file(s) not found: {listed}{more}")


def _read_participants(value: list[str] | str) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    path = Path(value)
    if not path.is_file():
        raise ConfigError(f"config key 'participants': participants file {value} not found")
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if not rows or "participant_id" not in rows[0]:
        raise ConfigError(f"config key 'participants': {value} needs a 'participant_id' column")
    ids = [(row["participant_id"] or "").strip() for row in rows]
    ids = [i for i in ids if i]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"config key 'participants': {value} lists a participant twice")
    return ids


def _npz_transform_names(path: str) -> list[str]:
    import numpy as np

    if not Path(path).is_file():
        raise ConfigError(f"config key 'transforms.npz': file {path} not found")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return [key for key in npz.files if key != "sample_rate"]
    except Exception as e:  # numpy/zipfile raise many types for a damaged archive
        raise ConfigError(f"config key 'transforms.npz': {path} is not a readable .npz file: {e}") from None


def _transform_files(tconf: Mapping[str, Any], base: Path | None = None) -> dict[str, str]:
    """Transform name to file, from ``transforms.files`` or ``transforms.npz`` (relative paths taken from
    ``base`` when given: a BIDS dataset's ``stimuli/`` folder)."""

    def resolve(path: str) -> str:
        return str(base / path) if base is not None and not Path(path).is_absolute() else str(path)

    if "files" in tconf:
        if "names" in tconf:
            raise ConfigError("config key 'transforms.names' only applies to 'transforms.npz'")
        transforms = {str(k): resolve(str(v)) for k, v in tconf["files"].items()}
    else:
        npz = resolve(tconf["npz"])
        available = _npz_transform_names(npz)
        names = tconf.get("names", available)
        unknown = [n for n in names if n not in available]
        if unknown:
            raise ConfigError(f"config key 'transforms.names': {unknown} not in {npz} (it has {available})")
        transforms = {name: npz for name in names}
    if not transforms:
        raise ConfigError("config key 'transforms': no transform to test")
    return transforms


def _participant_pattern(path: str) -> str:
    """A path built for the participant label ``PARTICIPANT`` as a ``{participant}`` pattern (ids are ``sub-…``)."""
    return path.replace("sub-PARTICIPANT", "{participant}")

