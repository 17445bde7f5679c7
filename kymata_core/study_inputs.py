"""A study's input files checked against its gridsearch settings, from their headers, before any job runs.

Mistakes of rate, length and condition used to surface inside a job, or not at all (a transform
declared at the wrong rate ran to the end and found nothing). :func:`check_study_inputs` reads each
participant's EMEG header and each transform's length, and refuses, naming the config key and the
file:

* a condition that is not in a participant's file, or a file whose conditions must be chosen;
* fewer repetitions of that condition than ``gridsearch.n_reps``;
* a transform rate that does not fit the EMEG rate (``gridsearch.resample``, see
  :mod:`kymata_core.gridsearch.rates`), or participants at different rates when there is a group average;
* a recording that does not cover every gridsearch window (the same arithmetic as the gridsearch);
* a transform shorter than its splits, or whose file records a rate other than ``transforms.sample_rate``.

It warns when a transform, at the declared rate, lasts far longer than the recordings (the usual
sign of a wrong ``transforms.sample_rate`` in a file that records no rate), and when there are too
few splits for trustworthy p-values (:mod:`kymata_core.gridsearch.reliability`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kymata_core.study import ConfigError

if TYPE_CHECKING:
    from kymata_core.io.emeg_shape import EMEGShape
    from kymata_core.study import Study

#: A transform lasting more than this many times the longest recording gets a warning.
SUSPICIOUS_LENGTH_RATIO = 2.0


def check_study_inputs(study: Study, gridsearch: Mapping[str, Any]) -> list[str]:
    """Check every participant's EMEG and every transform against the gridsearch settings.

    Parameters
    ----------
    study : Study
        The study, its input files known to exist.
    gridsearch : mapping
        The ``gridsearch`` section of the configuration, with defaults filled in.

    Returns
    -------
    list of str
        Warnings for the user (nothing is refused for them).

    Raises
    ------
    ConfigError
        The first mistake found, naming the config key and the file.
    """
    from kymata_core.gridsearch.geometry import SplitWindows
    from kymata_core.gridsearch.reliability import few_splits_warning

    geometries: dict[tuple[float, int], str] = {}  # (rate, latencies) -> a file that needs it
    rates: dict[float, str] = {}
    longest_recording = 0.0
    for space in study.spaces:
        for participant in study.participants:
            path = study.participant_emeg(participant, space)[0]
            file_space = study.emeg_file_space(participant, space)
            if study.epochs_from_bids and file_space == "sensor":
                shape = _planned_shape(study, participant, gridsearch)
                path = f"{participant}'s BIDS recording"
            else:
                shape = _shape(path, file_space, study.condition)
            if file_space == "sensor" and shape.n_reps < gridsearch["n_reps"]:
                raise ConfigError(
                    f"config key 'gridsearch.n_reps' is {gridsearch['n_reps']}, but {path} has {shape.n_reps} "
                    f"repetition(s) of {_condition_words(study.condition)} (evokeds with the same comment, or epochs)"
                )
            rate = _transform_rate(gridsearch["resample"], shape.sample_rate, study.transform_rate, path)
            try:
                windows = SplitWindows(
                    shape.n_times,
                    shape.t_start,
                    shape.sample_rate,
                    rate,
                    gridsearch["start_latency"],
                    gridsearch["seconds_per_split"],
                    gridsearch["n_splits"],
                    gridsearch["stimulus_shift_correction"],
                    gridsearch["stimulus_delivery_latency"],
                )
            except ValueError as e:
                raise ConfigError(f"config key 'gridsearch' (n_splits, seconds_per_split, start_latency): {path}: {e}") from None
            geometries.setdefault((rate, windows.n_lat), path)
            rates.setdefault(shape.sample_rate, path)
            longest_recording = max(longest_recording, shape.n_times / shape.sample_rate)
    if gridsearch["n_reps"] > 1 and "source" in study.spaces and (study.group_average or not study.source_from_inverse):
        raise ConfigError(
            f"config key 'gridsearch.n_reps' is {gridsearch['n_reps']}, but source estimates hold one repetition "
            + ("(the group average's among them)" if study.source_from_inverse else "")
            + ": average the repetitions, analyse sensor space only, or, with inverse operators, set 'group_average: false'"
        )
    if study.group_average and len(rates) > 1:
        (rate_a, file_a), (rate_b, file_b) = list(rates.items())[:2]
        raise ConfigError(
            f"the group average needs every participant at one sample rate, but {file_a} is at {rate_a:g} Hz and "
            f"{file_b} at {rate_b:g} Hz: resample the recordings, or set 'group_average: false'"
        )
    warnings = _check_transforms(study, gridsearch, geometries, longest_recording)
    if few := few_splits_warning(gridsearch["n_splits"], gridsearch["n_reps"]):
        warnings.append(f"gridsearch.n_splits: {few}")
    return warnings


def _shape(path: str, space: str, condition) -> EMEGShape:
    from kymata_core.io.conditions import ConditionError
    from kymata_core.io.emeg_shape import read_emeg_shape

    try:
        return read_emeg_shape(path, space, None, condition if space == "sensor" else None)
    except ConditionError as e:
        raise ConfigError(f"config key 'emeg.condition': {e}") from None
    except ValueError as e:
        raise ConfigError(f"config key 'emeg.{space}': {e}") from None


def _planned_shape(study: Study, participant: str, gridsearch: Mapping[str, Any]) -> EMEGShape:
    """The shape of the evoked file the workflow will cut from a participant's BIDS recording."""
    from kymata_core.io.bids import BidsError, planned_presentations

    try:
        shape, n_presentations = planned_presentations(study.bids, participant, study.epochs)
    except BidsError as e:
        text = str(e)
        keys = {"with the trigger": "bids.trigger", "shorter than the stimulus": "bids.stimulus_duration"}
        keys.update({f"with {entity} ": f"bids.{entity}" for entity in ("task", "session", "run", "acquisition")})
        key = next((k for fragment, k in keys.items() if fragment in text), "bids.root")
        raise ConfigError(f"config key '{key}': {text}") from None
    if gridsearch["n_reps"] > n_presentations:
        raise ConfigError(
            f"config key 'gridsearch.n_reps' is {gridsearch['n_reps']}, but {participant}'s recording has "
            f"{n_presentations} presentation(s)"
        )
    return shape


def _transform_rate(requested, emeg_rate: float, file_rate: float, path: str) -> float:
    from kymata_core.gridsearch.rates import SampleRateError, resolve_transform_rate

    try:
        return resolve_transform_rate(requested, emeg_rate, file_rate)
    except SampleRateError as e:
        key = "gridsearch.resample" if requested is not None else "transforms.sample_rate"
        advice = "" if requested is not None else " (or set gridsearch.resample)"
        raise ConfigError(f"config key '{key}'{advice}: {path} is at {emeg_rate:g} Hz: {e}") from None


def _check_transforms(
    study: Study, gridsearch: Mapping[str, Any], geometries: Mapping[tuple[float, int], str], longest: float
) -> list[str]:
    from kymata_core.io.transform import npz_sample_rate, transform_length

    warnings = []
    declared = study.transform_rate
    for name, path in study.transforms.items():
        key = f"transforms.files.{name}" if study.transforms_key == "files" else "transforms.npz"
        try:
            recorded = npz_sample_rate(path)
            n_samples = transform_length(path, name)
        except (ValueError, KeyError) as e:
            raise ConfigError(f"config key '{key}': {e.args[0] if e.args else e}") from None
        if recorded is not None and not math.isclose(recorded, declared, rel_tol=1e-9):
            raise ConfigError(
                f"config key 'transforms.sample_rate' is {declared:g} Hz, but {path} records sample_rate "
                f"{recorded:g} Hz: correct transforms.sample_rate"
            )
        seconds = n_samples / declared
        for (rate, n_lat), emeg_path in geometries.items():
            needed = gridsearch["n_splits"] * n_lat / rate
            if seconds < needed * (1 - 1e-9):
                raise ConfigError(
                    f"config key '{key}': transform {name!r} lasts {seconds:g} s ({n_samples} samples at "
                    f"transforms.sample_rate {declared:g} Hz), but gridsearch.n_splits {gridsearch['n_splits']} splits "
                    f"of {n_lat / rate:g} s (at {rate:g} Hz, for {emeg_path}) need {needed:g} s"
                )
        if longest and seconds > SUSPICIOUS_LENGTH_RATIO * longest:
            warnings.append(
                f"transform {name!r} lasts {seconds:g} s at transforms.sample_rate {declared:g} Hz, "
                f"{seconds / longest:.1f} times the longest recording ({longest:g} s): is the sample rate right?"
            )
    return warnings


def _condition_words(condition) -> str:
    from kymata_core.io.conditions import describe_condition

    return describe_condition(condition)
