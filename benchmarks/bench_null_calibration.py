"""Calibration of the gridsearch's p-values under the null, on real MEG noise (docs/statistics.md).

Long recordings are built from the short real recordings in ``tests/data/real-meg`` with
:func:`kymata_core.planted.lengthen_recording` (Neuromag: the four evoked conditions' brain channels
concatenated; KIT raw; CTF raw, brain channels only), and random transforms that the recordings do
not contain are tested against them: every significant cell is a false positive. For each setting
the script reports the fraction of cells (channel × latency) with p below 0.05, 1e-3, 1e-5 (and
1e-7), the fraction of channels whose best latency passes the pipeline's 5-sigma Šidák threshold
(:func:`kymata_core.summary.significance_threshold`), and the distribution of each channel's
minimum log10 p.

Experiments (``--experiments``):

``splits``
    The main one: n_splits from ``--splits``, 1 repetition, ``--n-derangements`` derangements,
    band-limited transforms (10 Hz, :class:`kymata_core.planted.BandLimitedSignal`), ``--trials``
    trials (a trial = one transform and one fresh lengthened recording per system).
``reps``
    The same total S = n_splits × n_reps reached with repetitions (independently lengthened
    recordings as repetitions): does a repetition count like a split?
``derangements``
    n_derangements 1, 6 and 20 at a few split counts.
``smoothness``
    Transforms band-limited at 5 and 40 Hz, and white noise, against the 10 Hz default.

Every setting uses 1 s splits, start latency −0.2 s and the transform at the EMEG rate divided by
``round(rate / 200)`` (Neuromag 200.2 Hz, KIT 200 Hz, CTF 240 Hz).

Usage::

    .venv/bin/python benchmarks/bench_null_calibration.py                    # all, ~10 min on 2 cores
    .venv/bin/python benchmarks/bench_null_calibration.py --trials 3 --side-trials 2 \
        --splits 4 10 50 --experiments splits reps                           # a quick look, < 1 min
    .venv/bin/python benchmarks/bench_null_calibration.py --json out.json --figure docs/images/null-calibration.png

Prints Markdown tables; ``--json`` keeps every gridsearch's record, ``--figure`` draws the main
experiment (and ``--factors-figure`` the others).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kymata_core.entities.transform import Transform  # noqa: E402
from kymata_core.gridsearch.memory import split_geometry  # noqa: E402
from kymata_core.gridsearch.plain import do_gridsearch  # noqa: E402
from kymata_core.math.probability import p_threshold_for_sigmas  # noqa: E402
from kymata_core.planted import BandLimitedSignal, lengthen_recording  # noqa: E402
from kymata_core.summary import SIGMAS, significance_threshold  # noqa: E402

REAL_MEG_DIR = REPO / "tests" / "data" / "real-meg"
SYSTEMS = ("neuromag", "kit", "ctf")
LEVELS = (0.05, 1e-3, 1e-5, 1e-7)
DEFAULT_SPLITS = (4, 6, 8, 10, 12, 15, 20, 25, 30, 50, 100, 200)
SECONDS_PER_SPLIT = 1.0
START_LATENCY = -0.2
TARGET_RATE = 200.0

#: Groups of (n_splits, n_reps) of the ``reps`` experiment: equal S = n_splits × n_reps in a group, from
#: splits only to mostly repetitions. (4 × 10 is missing: its derangements cannot be drawn, see the docs.)
REPS_GROUPS = (((4, 1), (2, 2)), ((8, 1), (4, 2), (2, 4)), ((20, 1), (10, 2), (4, 5)), ((40, 1), (10, 4), (8, 5)))
REPS_SETTINGS = tuple(pair for group in REPS_GROUPS for pair in group)
DERANGEMENT_COUNTS = (1, 6, 20)
SIDE_SPLITS = (4, 10, 30, 100)
SMOOTHNESS_KINDS = ("bl5", "bl40", "white")


@dataclass(frozen=True)
class Source:
    """Real recording material of one MEG system: brain channels × samples."""

    system: str
    data: NDArray[np.float64]
    names: list[str]
    sfreq: float

    @property
    def d(self) -> int:
        """EMEG samples per transform sample."""
        return max(1, round(self.sfreq / TARGET_RATE))

    @property
    def transform_rate(self) -> float:
        return self.sfreq / self.d

    @property
    def n_lat(self) -> int:
        return split_geometry(SECONDS_PER_SPLIT, self.sfreq, self.transform_rate)[2]

    def n_times(self, n_splits: int) -> int:
        """EMEG samples that ``n_splits`` splits read (start latency = EMEG start)."""
        return (n_splits - 1) * self.n_lat * self.d + int(2 * self.sfreq * SECONDS_PER_SPLIT) + 2


@dataclass(frozen=True)
class Condition:
    """One gridsearch setting."""

    experiment: str
    kind: str
    n_splits: int
    n_reps: int
    n_der: int

    @property
    def total(self) -> int:
        return self.n_splits * self.n_reps


def load_sources(systems: Iterable[str], data_dir: Path = REAL_MEG_DIR) -> list[Source]:
    """The brain channels of the real recordings (``mne.pick_types(meg=True, eeg=True, ref_meg=False)``)."""
    import mne

    mne.set_log_level("error")
    out = []
    for system in systems:
        if system == "neuromag":
            evokeds = mne.read_evokeds(data_dir / "neuromag-sample-ave.fif.gz")
            picks = mne.pick_types(evokeds[0].info, meg=True, eeg=True, ref_meg=False)
            data = np.concatenate([e.data[picks] for e in evokeds], axis=1)
            info = evokeds[0].info
        elif system in ("kit", "ctf"):
            raw = mne.io.read_raw_fif(data_dir / f"{system}-{'raw' if system == 'kit' else 'comp-raw'}.fif", preload=True)
            picks = mne.pick_types(raw.info, meg=True, eeg=True, ref_meg=False)
            data = raw.get_data(picks=picks)
            info = raw.info
        else:
            raise ValueError(f"unknown system {system!r}; choose among {SYSTEMS}")
        out.append(Source(system, data, [info.ch_names[i] for i in picks], float(info["sfreq"])))
    return out


def make_transform(kind: str, seed: int, rate: float, n_samples: int) -> NDArray[np.float64]:
    """A random transform of ``kind``: ``blF`` (band-limited at F Hz) or ``white`` (white noise)."""
    if kind == "white":
        return np.random.default_rng(10_000 + seed).standard_normal(n_samples)
    if kind.startswith("bl"):
        return BandLimitedSignal(cutoff_hz=float(kind[2:]), seed=seed).at(np.arange(n_samples) / rate)
    raise ValueError(f"unknown transform kind {kind!r}")


def conditions(experiments: Sequence[str], splits: Sequence[int], n_der: int) -> list[Condition]:
    """Every setting of the chosen experiments."""
    out: list[Condition] = []
    if "splits" in experiments:
        out += [Condition("splits", "bl10", n, 1, n_der) for n in splits]
    if "reps" in experiments:
        out += [Condition("reps", "bl10", n, r, n_der) for n, r in REPS_SETTINGS]
    if "derangements" in experiments:
        out += [Condition("derangements", "bl10", n, 1, k) for n in SIDE_SPLITS for k in DERANGEMENT_COUNTS]
    if "smoothness" in experiments:
        out += [Condition("smoothness", kind, n, 1, n_der) for kind in ("bl10", *SMOOTHNESS_KINDS) for n in SIDE_SPLITS]
    return out


def run_one(source: Source, recordings: list[NDArray[np.float32]], cond: Condition, trial: int,
            transforms: dict[tuple[str, int], NDArray[np.float64]], n_jobs: int) -> dict:
    """One null gridsearch; its cell counts, channels passing the threshold and channel minima."""
    n_times = source.n_times(cond.n_splits)
    if cond.n_reps == 1:
        emeg = recordings[0][:, None, :n_times]
    else:
        emeg = np.stack([r[:, :n_times] for r in recordings[: cond.n_reps]], axis=1)
    values = transforms[(cond.kind, trial)][: cond.n_splits * source.n_lat]
    transform = Transform(f"{cond.kind}_{trial}", values, source.transform_rate)
    t0 = time.perf_counter()
    es, logp = do_gridsearch(
        emeg, transform, source.names, "sensor", START_LATENCY, START_LATENCY, 0.0, 0.0, source.sfreq,
        n_derangements=cond.n_der, seconds_per_split=SECONDS_PER_SPLIT, n_splits=cond.n_splits,
        n_reps=cond.n_reps, seed=trial, return_dense=True, progress=False, n_jobs=n_jobs,
    )
    seconds = time.perf_counter() - t0
    threshold = significance_threshold(es, SIGMAS)
    minima = logp.min(axis=1)
    return dict(
        **asdict(cond), system=source.system, trial=trial, n_channels=int(logp.shape[0]), n_lat=int(logp.shape[1]),
        below=[int(np.count_nonzero(logp < np.log10(level))) for level in LEVELS],
        threshold=threshold, n_pass=int(np.count_nonzero(minima < threshold)),
        minima=[round(float(m), 4) for m in minima], seconds=seconds,
    )


def run(sources: list[Source], conds: list[Condition], trials: int, side_trials: int, n_jobs: int,
        log: bool = True) -> list[dict]:
    """Every condition × trial × system; the main experiment gets ``trials``, the others ``side_trials``."""
    records = []
    started = time.perf_counter()
    for trial in range(max(trials, side_trials)):
        todo = [c for c in conds if trial < (trials if c.experiment == "splits" else side_trials)]
        if not todo:
            continue
        for si, source in enumerate(sources):
            reps_needed = max(c.n_reps for c in todo)
            recordings = []
            for rep in range(reps_needed):
                longest = max(c.n_splits for c in todo if c.n_reps > rep)
                rec = lengthen_recording(source.data, source.n_times(longest), seed=100_000 * si + 100 * trial + rep)
                recordings.append(rec.astype(np.float32))
            transforms = {}
            for kind in {c.kind for c in todo}:
                longest = max(c.n_splits for c in todo if c.kind == kind)
                transforms[(kind, trial)] = make_transform(kind, trial, source.transform_rate, longest * source.n_lat)
            done: dict[tuple, dict] = {}
            for cond in todo:
                key = (cond.kind, cond.n_splits, cond.n_reps, cond.n_der)
                if key not in done:  # the same setting in two experiments: run once, record in both
                    done[key] = run_one(source, recordings, cond, trial, transforms, n_jobs)
                records.append({**done[key], "experiment": cond.experiment})
        if log:
            print(f"trial {trial + 1}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return records


def welch_model_rate(n_total: int, alpha: float, n_der: int, n_lat: int) -> float:
    """P(p < alpha) per cell of the gridsearch's Welch test under an idealised null (no real noise).

    The S true Fisher z of a cell are i.i.d. normal with variance σ², their mean differs from the
    null mean by ``N(0, σ²/S)``, and the null's variance term in the test is
    ``σ² / (S (n_der + 1) L)`` (the count the gridsearch uses). Only the true sample's variance
    ``u σ²`` (``u ~ χ²_{S-1} / (S-1)``) is random; the Welch–Satterthwaite df grows from ``S - 1``
    towards the null's size when ``u`` is small, and the p-value then shrinks much faster than a
    ``t_{S-1}`` would allow. Integrated over ``u`` on a grid in ``log u``.
    """
    from scipy import special, stats

    s = int(n_total)
    c = (n_der + 1) * n_lat
    n_null = s * n_der * n_lat
    log_u = np.linspace(-120.0, 4.0, 62_001)
    u = np.exp(log_u)
    log_density = stats.chi2.logpdf(u * (s - 1), s - 1) + np.log(s - 1) + log_u
    b = 1.0 / c
    df = (u + b) ** 2 / (u * u / (s - 1) + b * b / (n_null - 1))
    q = stats.t.isf(alpha / 2, df) * np.sqrt(u + b)
    return float(np.trapezoid(np.exp(log_density + np.log(2.0) + special.log_ndtr(-q)), log_u))


def _clopper_pearson_upper(k: int, n: int, level: float = 0.95) -> float:
    from scipy import stats

    return 1.0 if k >= n else float(stats.beta.ppf(level, k + 1, n - k))


def summarise(records: list[dict], keys: Sequence[str] = ("experiment", "kind", "n_splits", "n_reps", "n_der"),
              n_boot: int = 400, model: bool = True) -> list[dict]:
    """Aggregate records per setting: cell fractions (bootstrap 95% CI over gridsearches), channel rates, minima.

    With ``model``, also :func:`welch_model_rate` at the same settings: its fraction of cells below
    each level, and its inflation at the 5-sigma Šidák per-cell threshold (rate / nominal).
    """
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        groups[tuple(r[k] for k in keys)].append(r)
    rng = np.random.default_rng(0)
    out = []
    for key, recs in groups.items():
        cells = np.array([r["n_channels"] * r["n_lat"] for r in recs], dtype=float)
        below = np.array([r["below"] for r in recs], dtype=float)
        frac = below.sum(axis=0) / cells.sum()
        boot = rng.integers(0, len(recs), (n_boot, len(recs)))
        boot_frac = below[boot].sum(axis=1) / cells[boot].sum(axis=1)[:, None]
        lo, hi = np.percentile(boot_frac, [2.5, 97.5], axis=0)
        n_ch = sum(r["n_channels"] for r in recs)
        n_pass = sum(r["n_pass"] for r in recs)
        minima = np.concatenate([r["minima"] for r in recs])
        # A calibrated test passes a channel with probability 1 - (1 - p*)^L, p* the per-cell threshold.
        nominal_channel = np.mean(
            [-np.expm1(r["n_lat"] * np.log1p(-(10.0 ** r["threshold"]))) for r in recs]
        )
        out.append(dict(
            zip(keys, key, strict=True), total=recs[0]["n_splits"] * recs[0]["n_reps"], n_gridsearches=len(recs),
            n_channels=n_ch, cells=int(cells.sum()), fraction=frac.tolist(), ci_low=lo.tolist(), ci_high=hi.tolist(),
            n_pass=n_pass, channel_rate=n_pass / n_ch, channel_rate_upper=_clopper_pearson_upper(n_pass, n_ch),
            nominal_channel_rate=float(nominal_channel),
            gridsearches_with_pass=sum(r["n_pass"] > 0 for r in recs),
            nominal_familywise=p_threshold_for_sigmas(SIGMAS),
            min_median=float(np.median(minima)), min_p5=float(np.percentile(minima, 5)),
            min_p1=float(np.percentile(minima, 1)), min_min=float(minima.min()),
            threshold_range=[min(r["threshold"] for r in recs), max(r["threshold"] for r in recs)],
        ))
        if not model:
            continue
        # The idealised model at the same S, derangements and latencies (mean over systems' L and threshold).
        s = out[-1]
        n_lat = round(float(np.mean([r["n_lat"] for r in recs])))
        cell_threshold = float(np.mean([10.0 ** r["threshold"] for r in recs]))
        s["model_n_lat"], s["model_cell_threshold"] = n_lat, cell_threshold
        s["model_fraction"] = [welch_model_rate(s["total"], level, recs[0]["n_der"], n_lat) for level in LEVELS]
        s["model_inflation_5sigma"] = welch_model_rate(s["total"], cell_threshold, recs[0]["n_der"], n_lat) / cell_threshold
    return out


def markdown(summary: list[dict], label: str) -> str:
    """One Markdown table row per setting; ``(m …)`` is the idealised model's figure where computed."""
    head = (
        f"| {label} | S | gridsearches | channels | p<0.05 | p<1e-3 | p<1e-5 | p<1e-7 | channels past 5σ Šidák "
        "| gridsearches with one | model inflation at 5σ Šidák | min log10 p: median | 5th pct | lowest |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for s in summary:
        fr = s["fraction"]
        model = s.get("model_fraction")
        cells = [f"{fr[0]:.4f}"] + [
            f"{fr[i]:.1e}" + (f" (m {model[i]:.1e})" if model and i >= 2 else "") for i in range(1, len(LEVELS))
        ]
        rate = f"{s['n_pass']} ({s['channel_rate']:.1e})" if s["n_pass"] else f"0 (< {s['channel_rate_upper']:.0e})"
        inflation = f"{s['model_inflation_5sigma']:.3g}" if "model_inflation_5sigma" in s else "–"
        rows.append(
            f"| {s['_label']} | {s['total']} | {s['n_gridsearches']} | {s['n_channels']} | {' | '.join(cells)} "
            f"| {rate} | {s['gridsearches_with_pass']} | {inflation} | {s['min_median']:.2f} "
            f"| {s['min_p5']:.2f} | {s['min_min']:.1f} |"
        )
    return head + "\n".join(rows) + "\n"


def _model_channel_curve(rows: list[dict]) -> tuple[NDArray, NDArray]:
    """The model's rate of channels past 5σ Šidák (inflation × nominal) on a fine grid of S."""
    ref = rows[-1]
    grid = np.unique(np.r_[np.arange(4, 41), np.geomspace(40, max(s["total"] for s in rows), 12).round()]).astype(int)
    nominal = float(np.mean([s["nominal_channel_rate"] for s in rows]))
    rate = [
        welch_model_rate(int(n), ref["model_cell_threshold"], ref["n_der"], ref["model_n_lat"])
        / ref["model_cell_threshold"] * nominal
        for n in grid
    ]
    return grid, np.array(rate)


def plot_main(summary: list[dict], per_system: list[dict], path: Path) -> None:
    """Observed against nominal rates and the channel minima, against n_splits (main experiment)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kymata_core.gridsearch.reliability import MIN_TOTAL_SPLITS

    rows = sorted((s for s in summary if s["experiment"] == "splits"), key=lambda s: s["n_splits"])
    x = np.array([s["n_splits"] for s in rows], dtype=float)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    ax = axes[0]
    colours = ("C0", "C1", "C2", "C3")
    for i, level in enumerate(LEVELS):
        y = np.array([s["fraction"][i] for s in rows])
        lo = np.array([s["ci_low"][i] for s in rows])
        hi = np.array([s["ci_high"][i] for s in rows])
        ok = y > 0
        ax.errorbar(x[ok], y[ok], yerr=[y[ok] - lo[ok], hi[ok] - y[ok]], fmt="o", color=colours[i], ms=4,
                    capsize=2, label=f"p < {level:g}")
        if "model_fraction" in rows[0]:
            ax.plot(x, [s["model_fraction"][i] for s in rows], "-", color=colours[i], lw=1, alpha=0.7)
        ax.axhline(level, color=colours[i], ls="--", lw=1)
    ax.set(xscale="log", yscale="log", xlabel="n_splits (1 s each, n_reps = 1)", ylabel="fraction of cells",
           title="cells: observed (points, 95% CI), model (lines),\nnominal (dashed); no point = none seen")
    ax.legend(fontsize=8)
    ax = axes[1]
    rate = np.array([s["channel_rate"] for s in rows])
    upper = np.array([s["channel_rate_upper"] for s in rows])
    nominal = np.array([s["nominal_channel_rate"] for s in rows])
    hit = rate > 0
    ax.plot(x[hit], rate[hit], "o", color="C3", label="observed")
    ax.plot(x[~hit], upper[~hit], "v", color="C3", mfc="none", label="none seen: 95% upper bound")
    if "model_cell_threshold" in rows[-1]:
        grid, model = _model_channel_curve(rows)
        ax.plot(grid, model, "-", color="C3", lw=1, alpha=0.7, label="model")
    ax.plot(x, nominal, "k--", lw=1, label="nominal (calibrated test)")
    ax.axvline(MIN_TOTAL_SPLITS, color="grey", lw=1, ls=":", label=f"MIN_TOTAL_SPLITS = {MIN_TOTAL_SPLITS}")
    ax.set(xscale="log", yscale="log", xlabel="n_splits", ylabel="fraction of channels",
           title=f"channels whose best latency passes {SIGMAS}σ Šidák")
    ax.legend(fontsize=8)
    ax = axes[2]
    floor = -25.0
    for system, marker in zip(SYSTEMS, "os^", strict=True):
        rs = sorted((s for s in per_system if s["experiment"] == "splits" and s["system"] == system),
                    key=lambda s: s["n_splits"])
        if not rs:
            continue
        xs = np.array([s["n_splits"] for s in rs], dtype=float)
        line = ax.plot(xs, [s["min_median"] for s in rs], marker + "-", ms=4, label=f"{system}: median")[0]
        colour = line.get_color()
        ax.plot(xs, [s["min_p5"] for s in rs], marker + ":", ms=4, color=colour, label=f"{system}: 5th pct")
        lowest = np.array([s["min_min"] for s in rs])
        ax.plot(xs, np.maximum(lowest, floor), marker, ms=6, mfc="none", color=colour, label=f"{system}: lowest")
        for xv, v in zip(xs[lowest < floor], lowest[lowest < floor], strict=True):
            ax.annotate(f"{v:.0f}", (xv, floor), xytext=(4, 6 + 9 * SYSTEMS.index(system)), textcoords="offset points",
                        fontsize=7, color=colour)
        ax.axhline(np.mean(rs[0]["threshold_range"]), color=colour, ls="--", lw=1)
    ax.set(xscale="log", xlabel="n_splits", ylabel="channel's minimum log10 p", ylim=(floor - 1, 0.5),
           title=f"channel minima; dashed: {SIGMAS}σ Šidák threshold\n(lowest below {floor:g} drawn at {floor:g})")
    ax.legend(fontsize=6, ncol=3, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_factors(summary: list[dict], path: Path) -> None:
    """Per-cell rate at p < 1e-5 and the 1st percentile of channel minima for the side experiments."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def series(s: dict) -> str:
        if s["experiment"] == "reps":
            role = next(g.index(pair) for g in REPS_GROUPS for pair in g if pair == (s["n_splits"], s["n_reps"]))
            return ("n_reps = 1", "some repetitions (2, 2, 2, 4)", "mostly repetitions (4, 5, 5)")[role]
        if s["experiment"] == "derangements":
            return f"n_derangements = {s['n_der']}"
        return f"transform {s['kind']}"

    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5), sharex=True)
    for j, experiment in enumerate(("reps", "derangements", "smoothness")):
        rows = [s for s in summary if s["experiment"] == experiment]
        for k, name in enumerate(sorted({series(s) for s in rows}, key=lambda v: (len(v), v))):
            rs = sorted((s for s in rows if series(s) == name), key=lambda s: s["total"])
            xs = np.array([s["total"] for s in rs], dtype=float) * (1 + 0.03 * (k - 1))  # a little apart
            y = np.array([s["fraction"][2] for s in rs])
            ok = y > 0
            line = axes[0, j].plot(xs[ok], y[ok], "o", ms=5, label=name)[0]
            if experiment == "derangements" and "model_fraction" in rs[0]:
                axes[0, j].plot(xs, [s["model_fraction"][2] for s in rs], "-", lw=1, color=line.get_color(),
                                alpha=0.7)
            axes[1, j].plot(xs, [s["min_p1"] for s in rs], "o-", ms=4, color=line.get_color(), label=name)
        axes[0, j].axhline(1e-5, color="k", ls="--", lw=1)
        title = {"reps": "repetitions (equal S in each group)", "derangements": "derangements (lines: model)",
                 "smoothness": "transform smoothness"}[experiment]
        axes[0, j].set(xscale="log", yscale="log", title=title, ylabel="fraction of cells with p < 1e-5",
                       ylim=(1e-6, 1e-3))
        axes[1, j].set(xscale="log", xlabel="S = n_splits × n_reps", ylabel="1st percentile of channel min log10 p")
        axes[0, j].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _label(s: dict) -> str:
    if s["experiment"] == "splits":
        return str(s["n_splits"])
    if s["experiment"] == "reps":
        return f"{s['n_splits']} × {s['n_reps']}"
    if s["experiment"] == "derangements":
        return f"{s['n_splits']}, {s['n_der']} der."
    return f"{s['n_splits']}, {s['kind']}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", nargs="+", default=["splits", "reps", "derangements", "smoothness"],
                        choices=["splits", "reps", "derangements", "smoothness"])
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--splits", nargs="+", type=int, default=list(DEFAULT_SPLITS), help="n_splits of the main experiment")
    parser.add_argument("--trials", type=int, default=40, help="trials of the main experiment")
    parser.add_argument("--side-trials", type=int, default=12, help="trials of the other experiments")
    parser.add_argument("--n-derangements", type=int, default=6)
    parser.add_argument("--n-jobs", type=int, default=1, help="gridsearch threads")
    parser.add_argument("--json", type=Path, help="write every record and the summaries here")
    parser.add_argument("--figure", type=Path, help="figure of the main experiment (PNG)")
    parser.add_argument("--factors-figure", type=Path, help="figure of the other experiments (PNG)")
    parser.add_argument("--from-json", type=Path, help="summarise and plot an earlier --json instead of running")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        records, meta = saved["records"], saved["meta"]
    else:
        sources = load_sources(args.systems)
        conds = conditions(args.experiments, args.splits, args.n_derangements)
        records = run(sources, conds, args.trials, args.side_trials, args.n_jobs)
        meta = dict(
            argv=list(sys.argv[1:] if argv is None else argv), seconds=time.perf_counter() - started,
            machine=dict(cpus=os.cpu_count(), processor=platform.processor() or platform.machine(),
                         python=platform.python_version(), numpy=np.__version__,
                         load_average=os.getloadavg()),
            sources={s.system: dict(channels=len(s.names), sfreq=s.sfreq, transform_rate=s.transform_rate,
                                    n_lat=s.n_lat, source_seconds=s.data.shape[1] / s.sfreq) for s in sources},
        )
    summary = summarise(records)
    per_system = summarise(records, keys=("experiment", "kind", "n_splits", "n_reps", "n_der", "system"), model=False)
    for s in summary + per_system:
        s["_label"] = _label(s)
    for experiment, label in (("splits", "n_splits"), ("reps", "n_splits × n_reps"),
                              ("derangements", "n_splits, derangements"), ("smoothness", "n_splits, transform")):
        rows = sorted((s for s in summary if s["experiment"] == experiment),
                      key=lambda s: (str(s["kind"]), s["n_der"], s["total"], -s["n_reps"]))
        if rows:
            print(f"\n### {experiment}\n\n" + markdown(rows, label))
    rows = sorted((s for s in per_system if s["experiment"] == "splits"), key=lambda s: (s["system"], s["n_splits"]))
    if rows:
        for s in rows:
            s["_label"] = f"{s['system']} {s['n_splits']}"
        print("\n### splits, per system\n\n" + markdown(rows, "system, n_splits"))
    print(f"\n{len(records)} gridsearches; {meta['seconds']:.0f} s in all "
          f"(load average at the end {meta['machine']['load_average'][0]:.1f})")
    if args.json:
        args.json.write_text(json.dumps(dict(meta=meta, records=records, summary=summary, per_system=per_system)))
    if args.figure:
        plot_main(summary, per_system, args.figure)
    if args.factors_figure:
        plot_factors(summary, args.factors_figure)


if __name__ == "__main__":
    main()
