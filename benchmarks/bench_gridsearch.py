"""Benchmark of kymata_core.gridsearch: wall time, peak RSS (one subprocess per case) and FFT throughput.

Cases (docs/gridsearch.md, "Memory and streaming"):
  a  300 channels, 400 splits of 1 s, 5 derangements, EMEG and transform at 1000 Hz
  b  the same at 200 Hz
  c  full cortical source space, 2 x 10242 hexels, 400 splits, 200 Hz, 6 derangements
     (EMEG generated lazily by rows: a 6.6 GB float32 array would not fit the 2 GB target;
     the measured peak is the gridsearch's own)

Usage: python benchmarks/bench_gridsearch.py [a b c] [--n-jobs N]
Prints one line per case: seconds, peak RSS, memory-model estimate, FFT GFLOP and GFLOP/s,
and the machine's scipy.fft float32 throughput for the same transform lengths.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time

import numpy as np

CASES = {
    "a": dict(n_channels=300, rate=1000.0, n_der=5, n_splits=400, space="sensor"),
    "b": dict(n_channels=300, rate=200.0, n_der=5, n_splits=400, space="sensor"),
    "c": dict(n_channels=2 * 10242, rate=200.0, n_der=6, n_splits=400, space="source"),
}
REFERENCE_A_SECONDS = 74.0


class LazyNoise:
    """Array-like (channels, 1, time) float32 noise made row by row on slicing, with a planted transform."""

    def __init__(self, n_channels: int, n_times: int, transform: np.ndarray, delay: int):
        self.shape = (n_channels, 1, n_times)
        self.dtype = np.dtype(np.float32)
        self.transform = transform
        self.delay = delay

    def __getitem__(self, key):
        rows, reps, times = key
        idx = range(*rows.indices(self.shape[0]))
        t = np.arange(self.shape[2])[times]
        out = np.empty((len(idx), 1, t.size), dtype=np.float32)
        for k, c in enumerate(idx):
            out[k, 0] = np.random.default_rng(c).standard_normal(t.size, dtype=np.float32)
            if c % 50 == 0:  # every 50th channel follows the transform at `delay` samples
                src = t - self.delay
                ok = (src >= 0) & (src < self.transform.size)
                out[k, 0, ok] += 0.5 * self.transform[src[ok]]
        return out[:, reps]


def fft_flops(n_channels: int, n_total: int, n_window: int, n_der: int) -> float:
    """FLOPs of the FFTs performed: one forward rfft per window, one irfft per window and pairing."""
    per_rfft = 2.5 * n_window * math.log2(n_window)  # 5 N log2 N, halved for a real transform
    return n_channels * n_total * (1 + (n_der + 1)) * per_rfft


def fft_throughput(n_window: int, n_rows: int = 20000, repeats: int = 3) -> float:
    """GFLOP/s of scipy.fft rfft+irfft (float32, one worker) on ``n_rows`` transforms of ``n_window``."""
    import scipy.fft

    x = np.random.default_rng(0).standard_normal((n_rows, n_window), dtype=np.float32)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        y = scipy.fft.rfft(x, axis=-1)
        scipy.fft.irfft(y, n=n_window, axis=-1)
        best = min(best, time.perf_counter() - t0)
    return 2 * n_rows * 2.5 * n_window * math.log2(n_window) / best / 1e9


def peak_rss_bytes() -> int:
    """Peak resident memory of this process: ``VmHWM`` of its own address space where Linux gives it.

    ``ru_maxrss`` is not used where avoidable: Linux carries it over from the parent at fork and
    exec, so a child started after the parent's FFT-throughput measurement would report the
    parent's peak.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_case(name: str, n_jobs: int) -> dict:
    """Child process: run one case, report time and peak RSS as JSON."""
    from kymata_core.entities.transform import Transform
    from kymata_core.gridsearch.memory import split_geometry
    from kymata_core.gridsearch.plain import do_gridsearch, estimate_gridsearch_memory

    cfg = CASES[name]
    rate, n_splits, n_ch = cfg["rate"], cfg["n_splits"], cfg["n_channels"]
    rng = np.random.default_rng(1)
    n_t_tr = int(n_splits * rate) + 10
    transform = np.convolve(rng.standard_normal(n_t_tr), np.ones(5) / 5, mode="same").astype(np.float32)
    n_times = int((n_splits + 1.5) * rate)
    delay = int(0.3 * rate)  # 0.1 s latency with start -0.2 and emeg_t_start -0.2
    lazy = cfg["space"] == "source"
    if lazy:
        emeg = LazyNoise(n_ch, n_times, transform, delay)
        names = [list(range(n_ch // 2)), list(range(n_ch // 2))]
    else:
        emeg = LazyNoise(n_ch, n_times, transform, delay)[0:n_ch, 0:1, 0:n_times]
        names = [f"S{i:03d}" for i in range(n_ch)]
    _, n_window, n_lat = split_geometry(1.0, rate, rate)
    estimate = estimate_gridsearch_memory(
        n_ch, n_times, 1, n_splits, cfg["n_der"], 1.0, rate, rate,
        emeg_itemsize=4, emeg_in_memory=not lazy, n_jobs=n_jobs,
    )
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = usage0.ru_utime + usage0.ru_stime
    t0 = time.perf_counter()
    es = do_gridsearch(
        emeg, Transform("bench", transform, rate), names, cfg["space"], -0.2, -0.2, 0.0, 0.0, rate, None,
        n_derangements=cfg["n_der"], seconds_per_split=1.0, n_splits=n_splits, seed=0, n_jobs=n_jobs, progress=False,
    )
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = peak_rss_bytes()
    cpu = usage.ru_utime + usage.ru_stime - cpu0
    del es
    return dict(
        case=name, seconds=seconds, cpu=cpu, peak_rss=peak, estimate=estimate,
        gflop=fft_flops(n_ch, n_splits, n_window, cfg["n_der"]) / 1e9, n_window=n_window,
    )


def run_reference(n_channels: int) -> dict:
    """Child process under the reference's venv: case a on ``n_channels`` channels with kymata 1.0.6."""
    from kymata.entities.transform import Transform as RefTransform
    from kymata.gridsearch.plain import do_gridsearch as ref_gridsearch

    rate, n_splits = 1000.0, 400
    rng = np.random.default_rng(1)
    transform = np.convolve(rng.standard_normal(int(n_splits * rate) + 10), np.ones(5) / 5, mode="same")
    transform = transform.astype(np.float32)
    n_times = int((n_splits + 1.5) * rate)
    emeg = LazyNoise(n_channels, n_times, transform, int(0.3 * rate))[0:n_channels, 0:1, 0:n_times]
    t0 = time.perf_counter()
    ref_gridsearch(
        emeg, RefTransform(name="bench", values=transform, sample_rate=rate), [f"S{i:03d}" for i in range(n_channels)],
        "sensor", -0.2, -0.2, 0.0, 0.0, rate, None, n_derangements=5, seconds_per_split=1.0, n_splits=n_splits,
    )
    seconds = time.perf_counter() - t0
    return dict(seconds=seconds, peak_rss=peak_rss_bytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", default=["a", "b", "c"], help="cases among a, b, c")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument(
        "--reference-python", metavar="PYTHON",
        help="python of a venv with kymata==1.0.6: also time the reference on case a with --reference-channels",
    )
    parser.add_argument("--reference-channels", type=int, default=30)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--ref-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(args.child, args.n_jobs)))
        return
    if args.ref_child:
        print(json.dumps(run_reference(args.ref_child)))
        return
    if args.reference_python:
        n_ref = args.reference_channels
        out = subprocess.run(
            [args.reference_python, __file__, "--ref-child", str(n_ref)], check=True, capture_output=True, text=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        scaled = r["seconds"] * CASES["a"]["n_channels"] / n_ref
        print(
            f"reference kymata 1.0.6, case a on {n_ref} channels: {r['seconds']:.1f} s, peak RSS "
            f"{r['peak_rss'] / 2**20:.0f} MB; scaled to 300 channels: {scaled:.0f} s",
            flush=True,
        )
    for name in args.cases:
        out = subprocess.run(
            [sys.executable, __file__, "--child", name, "--n-jobs", str(args.n_jobs)],
            check=True, capture_output=True, text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        machine = fft_throughput(r["n_window"])
        achieved = r["gflop"] / r["seconds"]
        extra = f", {REFERENCE_A_SECONDS / r['seconds']:.1f}x faster than the reference's 74 s" if name == "a" else ""
        print(
            f"case {name}: {r['seconds']:.1f} s wall, {r['cpu']:.1f} s CPU{extra}; peak RSS {r['peak_rss'] / 2**20:.0f} MB, "
            f"model estimate {r['estimate'] / 2**20:.0f} MB ({r['estimate'] / r['peak_rss']:.2f}x); "
            f"FFT work {r['gflop']:.1f} GFLOP, {achieved:.2f} GFLOP/s achieved vs {machine:.2f} GFLOP/s "
            f"scipy.fft rfft+irfft float32 on this machine ({achieved / machine:.0%}); n_jobs={args.n_jobs}",
            flush=True,
        )


if __name__ == "__main__":
    main()
