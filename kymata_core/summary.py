"""Summaries of expression sets: the most significant point per transform, and planted-effect checks.

A summary is a plain dict (written as JSON by ``kymata-core summary``) with, per channel space, the
most significant channel and latency of every transform and how many channels pass the 5-sigma
Šidák-corrected threshold. Given the ``truth.json`` of a simulated study, it also says whether each
planted effect was recovered: the planted channel's best latency for that transform is within one
latency step of the planted latency and passes the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kymata_core.entities.expression import (
    ExpressionSet,
    HexelExpressionSet,
    get_n_channels,
    get_n_comparisons,
)
from kymata_core.entities.hemispheres import SPACE_SENSOR, SPACE_SOURCE, hemi_of_block
from kymata_core.math.probability import p_threshold_for_sigmas, sidak_logp_threshold

SIGMAS = 5


def channel_space_of(es: ExpressionSet) -> str:
    """``"source"`` for a hexel set, ``"sensor"`` for a sensor set."""
    return SPACE_SOURCE if isinstance(es, HexelExpressionSet) else SPACE_SENSOR


def significance_threshold(es: ExpressionSet, sigmas: float = SIGMAS) -> float:
    """log10 p threshold: ``sigmas`` one-tailed, Šidák-corrected over channels × latencies × transforms."""
    return sidak_logp_threshold(p_threshold_for_sigmas(sigmas), get_n_comparisons(es))


def _best_entries(es: ExpressionSet) -> dict[str, list[dict[str, Any]]]:
    """For each transform, every channel's best (latency, log10 p), over all blocks."""
    entries: dict[str, list[dict[str, Any]]] = {t: [] for t in es.transforms}
    for block in es.block_names:
        found = es.best_points(block, per_transform=True)
        hemi = hemi_of_block(block)
        for channel, latency, transform, logp in found.rows():
            entries[transform].append({"channel": channel, "hemi": hemi, "latency_s": latency, "logp": logp})
    return entries


def summarise_expression_set(es: ExpressionSet, source: str | None = None) -> dict[str, Any]:
    """The most significant point of every transform in ``es`` and its significant-channel count."""
    threshold = significance_threshold(es)
    transforms = {}
    for transform, entries in _best_entries(es).items():
        best = min(entries, key=lambda e: (e["logp"], e["latency_s"]), default=None)
        transforms[transform] = {
            "best": best,
            "n_significant_channels": sum(e["logp"] < threshold for e in entries),
        }
    return {
        "file": source,
        "channel_space": channel_space_of(es),
        "n_channels": get_n_channels(es),
        "n_latencies": len(es.latencies),
        "latency_range_s": [float(es.latencies[0]), float(es.latencies[-1])],
        "threshold_logp": threshold,
        "transforms": transforms,
    }


def check_planted_effects(
    es: ExpressionSet, truth: Mapping[str, Any], participant: str | None = None
) -> list[dict[str, Any]]:
    """Whether each planted effect of a simulated study in ``es``'s channel space was recovered.

    An effect is recovered at a channel when that channel's best latency for the transform is within
    one latency step (plus float slack) of the planted latency and its log10 p passes the 5-sigma
    Šidák threshold. Also lists false positives: significant channels of a transform where nothing
    was planted for it.
    """
    space = channel_space_of(es)
    threshold = significance_threshold(es)
    step = float(np.min(np.diff(es.latencies))) if len(es.latencies) > 1 else 0.0
    best = {t: {(e["hemi"], e["channel"]): e for e in entries} for t, entries in _best_entries(es).items()}
    results = []
    planted_keys: dict[str, set] = {}
    for effect in truth["effects"]:
        if effect["channel_space"] != space or effect["transform"] not in best:
            continue
        planted_latency = effect["latency_s"]
        if participant and participant in effect.get("participants", {}):
            planted_latency = effect["participants"][participant]["latency_s"]
        for channel in effect["channels"]:
            key = (channel[0], int(channel[1])) if space == SPACE_SOURCE else (None, channel)
            planted_keys.setdefault(effect["transform"], set()).add(key)
            found = best[effect["transform"]].get(key)
            recovered = (
                found is not None
                and found["logp"] < threshold
                and abs(found["latency_s"] - planted_latency) <= step + 1e-9
            )
            results.append(
                {
                    "transform": effect["transform"],
                    "channel_space": space,
                    "hemi": key[0],
                    "channel": key[1],
                    "planted_latency_s": planted_latency,
                    "found_latency_s": found["latency_s"] if found else None,
                    "logp": found["logp"] if found else 0.0,
                    "recovered": bool(recovered),
                }
            )
    false_positives = [
        {"transform": t, "hemi": key[0], "channel": key[1], "latency_s": e["latency_s"], "logp": e["logp"]}
        for t, by_channel in best.items()
        for key, e in by_channel.items()
        if e["logp"] < threshold and key not in planted_keys.get(t, set())
    ]
    return results + [dict(fp, false_positive=True) for fp in false_positives]


def summarise(
    expression_sets: Sequence[tuple[str, ExpressionSet]],
    participant: str,
    truth: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The summary of one participant's expression sets (one per channel space)."""
    summary: dict[str, Any] = {"participant": participant, "spaces": {}}
    checks: list[dict[str, Any]] = []
    for path, es in expression_sets:
        summary["spaces"][channel_space_of(es)] = summarise_expression_set(es, path)
        if truth is not None:
            checks += check_planted_effects(es, truth, participant)
    if truth is not None:
        planted = [c for c in checks if not c.get("false_positive")]
        summary["planted_effects"] = planted
        summary["false_positives"] = [c for c in checks if c.get("false_positive")]
        summary["all_planted_recovered"] = bool(planted) and all(c["recovered"] for c in planted)
    return summary


def format_summary(summary: Mapping[str, Any]) -> str:
    """A short human-readable text version of :func:`summarise`'s result."""
    lines = [f"participant {summary['participant']}"]
    for space, s in summary["spaces"].items():
        lines.append(
            f"  {space} space: {s['n_channels']} channels, {s['n_latencies']} latencies, "
            f"5-sigma Šidák threshold log10 p < {s['threshold_logp']:.2f}"
        )
        for transform, t in s["transforms"].items():
            best = t["best"]
            if best is None:
                lines.append(f"    {transform:<20} no evidence")
                continue
            where = f"{best['hemi']}:{best['channel']}" if best["hemi"] else str(best["channel"])
            lines.append(
                f"    {transform:<20} best {where:<12} at {1000 * best['latency_s']:6.0f} ms, "
                f"log10 p = {best['logp']:8.2f}; {t['n_significant_channels']} significant channel(s)"
            )
    if "planted_effects" in summary:
        planted = summary["planted_effects"]
        n_ok = sum(c["recovered"] for c in planted)
        lines.append(f"  planted effects recovered: {n_ok} of {len(planted)}")
        for c in planted:
            if not c["recovered"]:
                where = f"{c['hemi']}:{c['channel']}" if c["hemi"] else str(c["channel"])
                lines.append(
                    f"    MISSED {c['transform']} at {where} ({1000 * c['planted_latency_s']:.0f} ms, "
                    f"found {c['found_latency_s']}, log10 p {c['logp']:.2f})"
                )
        lines.append(f"  false positives: {len(summary['false_positives'])}")
    lines += [f"  WARNING: {warning}" for warning in summary.get("warnings", [])]
    return "\n".join(lines) + "\n"
