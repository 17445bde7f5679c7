"""The gridsearch against its own FFT floor, and against kymata-core 1.0.6, in one run.

The floor is the arithmetic the algorithm cannot avoid, done with the gridsearch's own sizes,
dtype, batching and threads: the forward real FFT of every EMEG window once and, for every pairing
(the identity and each derangement), one complex product with the transform spectra and one
inverse real FFT. Everything else the gridsearch does (cutting and normalising windows, the
sliding window norms, the Fisher z and the sums, the statistics) is overhead on top of it, so
``gridsearch / floor`` says how far the kernel is from what its FFTs alone cost.

Cases (benchmarks/README.md, "Gridsearch kernel against its floor"):
  a  300 channels, 400 splits of 1 s, 5 derangements, 1 kHz
  b  120 channels, 300 splits of 1 s, 4 derangements, 1 kHz
  c  full cortex, 2 x 10242 hexels, 400 splits of 1 s at 200 Hz, 6 derangements
     (EMEG written to an HDF5 file first, 6.6 GB of float32, and read lazily by chunks of rows, as a
     full source estimate does not fit the memory budget; writing it is not timed)

Usage:
  python benchmarks/bench_fft_floor.py [a b c] [--threads 1 2] [--reference-python /tmp/refvenv/bin/python]
                                       [--scratch DIR]    where case c's HDF5 file goes (default: a temporary directory)
  python benchmarks/bench_fft_floor.py --engines      scipy.fft against pyFFTW (if installed) at these sizes

Each (case, threads) runs in its own process (peak RSS is that process's ``VmHWM``); the floor runs
in the same process right after the gridsearch, and the two alternate ``--repeats`` times (default 3),
each keeping its best time. The reference (kymata 1.0.6 in its own venv with
numpy<1.27, numba==0.58.1) runs case b once, in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gridsearch import LazyNoise, peak_rss_bytes  # noqa: E402

CASES = {
    "a": dict(n_channels=300, n_splits=400, n_der=5, rate=1000.0, space="sensor"),
    "b": dict(n_channels=120, n_splits=300, n_der=4, rate=1000.0, space="sensor"),
    "c": dict(n_channels=2 * 10242, n_splits=400, n_der=6, rate=200.0, space="source"),
}
SECONDS_PER_SPLIT = 1.0
START_LATENCY = -0.2
EMEG_T_START = -0.2


def case_data(name: str, emeg_file: str | None = None):
    """The transform (float32), EMEG and channel names of one case.

    Sensor cases hold their EMEG in memory. Case c reads it from ``emeg_file`` (an HDF5 dataset made
    by :func:`write_case_emeg`) when given, else makes it row by row as it is read.
    """
    cfg = CASES[name]
    rate, n_splits, n_ch = cfg["rate"], cfg["n_splits"], cfg["n_channels"]
    rng = np.random.default_rng(1)
    transform = np.convolve(rng.standard_normal(int(n_splits * rate) + 10), np.ones(5) / 5, mode="same")
    transform = transform.astype(np.float32)
    n_times = int((n_splits + 1.5) * rate)
    emeg = LazyNoise(n_ch, n_times, transform, int(0.3 * rate))  # effect at 100 ms on every 50th channel
    if cfg["space"] == "sensor":
        return transform, emeg[0:n_ch, 0:1, 0:n_times], [f"S{i:03d}" for i in range(n_ch)]
    if emeg_file is not None:
        import h5py

        emeg = h5py.File(emeg_file, "r")["emeg"]
    return transform, emeg, [list(range(n_ch // 2)), list(range(n_ch // 2))]


def write_case_emeg(name: str, path: Path, rows_per_write: int = 512) -> float:
    """Write case ``name``'s EMEG to an HDF5 dataset ``emeg`` (float32, chunked by rows); seconds taken."""
    import h5py

    t0 = time.perf_counter()
    _, lazy, _ = case_data(name)
    with h5py.File(path, "w") as f:
        dataset = f.create_dataset("emeg", shape=lazy.shape, dtype=np.float32, chunks=(64, 1, lazy.shape[2]))
        for c0 in range(0, lazy.shape[0], rows_per_write):
            c1 = min(lazy.shape[0], c0 + rows_per_write)
            dataset[c0:c1] = lazy[c0:c1, 0:1, 0 : lazy.shape[2]]
    return time.perf_counter() - t0


def floor_seconds(n_channels: int, n_total: int, n_window: int, n_pairings: int, threads: int, engine: str) -> float:
    """Seconds for the FFT arithmetic alone, blocked and threaded as the gridsearch is.

    Channels are shared between ``threads`` threads; each processes its channels in the
    gridsearch's blocks (:func:`kymata_core.gridsearch.memory.block_shape`): one forward rFFT of the
    block's windows, then per pairing one complex64 product and one inverse rFFT.
    """
    from kymata_core.gridsearch.memory import block_shape

    group, rows = block_shape(n_window, n_total)
    n_freq = n_window // 2 + 1
    rng = np.random.default_rng(0)
    rfft, irfft = _engine(engine, group * rows, n_window)

    def run(channels: range) -> None:
        x = rng.standard_normal((group * rows, n_window), dtype=np.float32)
        y = (rng.standard_normal((group * rows, n_freq)) + 1j).astype(np.complex64)
        product = np.empty_like(y)
        for g0 in range(channels.start, channels.stop, group):
            n_g = min(group, channels.stop - g0)
            for s0 in range(0, n_total, rows):
                m = n_g * (min(n_total, s0 + rows) - s0)
                spectra = rfft(x[:m])
                for _ in range(n_pairings):
                    np.multiply(spectra, y[:m], out=product[:m])
                    irfft(product[:m])

    per_thread = -(-n_channels // threads)
    per_thread = -(-per_thread // group) * group
    shares = [range(c0, min(n_channels, c0 + per_thread)) for c0 in range(0, n_channels, per_thread)]
    t0 = time.perf_counter()
    if threads == 1:
        run(shares[0])
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(run, shares))
    return time.perf_counter() - t0


def _engine(name: str, n_rows: int, n_window: int):
    """(rfft, irfft) callables on float32 / complex64 batches of ``n_window`` points, one thread each."""
    if name == "scipy":
        import scipy.fft

        return (
            lambda x: scipy.fft.rfft(x, axis=-1),
            lambda y: scipy.fft.irfft(y, n=n_window, axis=-1, overwrite_x=True),
        )
    if name == "pyfftw":
        import pyfftw

        pyfftw.interfaces.cache.enable()
        import pyfftw.interfaces.scipy_fft as fftw

        return (
            lambda x: fftw.rfft(x, axis=-1, workers=1, planner_effort="FFTW_MEASURE"),
            lambda y: fftw.irfft(y, n=n_window, axis=-1, workers=1, planner_effort="FFTW_MEASURE"),
        )
    raise ValueError(f"unknown FFT engine {name!r}")


def run_case(name: str, threads: int, repeats: int, emeg_file: str | None = None) -> dict:
    """Child process: the gridsearch of one case, then its floor, ``repeats`` times in turn; best times, peak RSS.

    Taking each one's best of alternated runs keeps a noisy machine's slow moments out of the ratio.
    """
    from kymata_core.entities.transform import Transform
    from kymata_core.gridsearch.memory import split_geometry
    from kymata_core.gridsearch.plain import do_gridsearch

    cfg = CASES[name]
    transform, emeg, names = case_data(name, emeg_file)
    _, n_window, _ = split_geometry(SECONDS_PER_SPLIT, cfg["rate"], cfg["rate"])

    def gridsearch(rows, channel_names) -> float:
        t0 = time.perf_counter()
        do_gridsearch(
            rows, Transform("bench", transform, cfg["rate"]), channel_names, cfg["space"], START_LATENCY,
            EMEG_T_START, 0.0, 0.0, cfg["rate"], None, n_derangements=cfg["n_der"],
            seconds_per_split=SECONDS_PER_SPLIT, n_splits=cfg["n_splits"], seed=0, n_jobs=threads, progress=False,
        )
        return time.perf_counter() - t0

    # A first call on two channels loads the compiled kernels and FFT plans: a job pays it once.
    first_call = gridsearch(emeg[0:2, 0:1, :], [[0], [1]] if cfg["space"] == "source" else names[:2])
    seconds, floor = float("inf"), float("inf")
    for _ in range(repeats):
        seconds = min(seconds, gridsearch(emeg, names))
        floor = min(floor, floor_seconds(cfg["n_channels"], cfg["n_splits"], n_window, cfg["n_der"] + 1, threads, "scipy"))
    peak = peak_rss_bytes()
    return dict(
        case=name, threads=threads, seconds=seconds, floor=floor, peak_rss=peak, n_window=n_window,
        first_call=first_call,
    )


def run_reference(name: str) -> dict:
    """Child process under the reference's venv: the same case with kymata 1.0.6 (sensor cases only)."""
    from kymata.entities.transform import Transform as RefTransform
    from kymata.gridsearch.plain import do_gridsearch as ref_gridsearch

    cfg = CASES[name]
    transform, emeg, names = case_data(name)
    t0 = time.perf_counter()
    ref_gridsearch(
        emeg, RefTransform(name="bench", values=transform, sample_rate=cfg["rate"]), names, "sensor",
        START_LATENCY, EMEG_T_START, 0.0, 0.0, cfg["rate"], None, n_derangements=cfg["n_der"],
        seconds_per_split=SECONDS_PER_SPLIT, n_splits=cfg["n_splits"],
    )
    return dict(seconds=time.perf_counter() - t0, peak_rss=peak_rss_bytes())


def compare_engines() -> None:
    """Floor of case b's geometry with each FFT engine available, 1 and 2 threads."""
    from kymata_core.gridsearch.memory import split_geometry

    cfg = CASES["b"]
    _, n_window, _ = split_geometry(SECONDS_PER_SPLIT, cfg["rate"], cfg["rate"])
    for engine in ("scipy", "pyfftw"):
        try:
            _engine(engine, 1, n_window)
        except ImportError:
            print(f"{engine}: not installed")
            continue
        for threads in (1, 2):
            floor_seconds(cfg["n_channels"], cfg["n_splits"], n_window, cfg["n_der"] + 1, threads, engine)  # plans
            best = min(
                floor_seconds(cfg["n_channels"], cfg["n_splits"], n_window, cfg["n_der"] + 1, threads, engine)
                for _ in range(3)
            )
            print(f"{engine}: case b floor, {threads} thread(s): {best:.2f} s (best of 3)", flush=True)


def _child(args: list[str], python: str = sys.executable) -> dict:
    out = subprocess.run([python, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", default=["a", "b", "c"], help="cases among a, b, c")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3, help="gridsearch and floor each run this many times (best)")
    parser.add_argument("--reference-python", metavar="PYTHON", help="python of a venv with kymata==1.0.6")
    parser.add_argument("--engines", action="store_true", help="compare FFT engines at case b's sizes")
    parser.add_argument("--scratch", metavar="DIR", help="directory for case c's HDF5 EMEG (6.6 GB)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--ref-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_case(args.child[0], int(args.child[1]), int(args.child[2]), *args.child[3:])))
        return
    if args.ref_child:
        print(json.dumps(run_reference(args.ref_child)))
        return
    if args.engines:
        compare_engines()
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}; load average {os.getloadavg()[0]:.1f}", flush=True)
    reference = None
    if args.reference_python:
        reference = _child(["--ref-child", "b"], args.reference_python)
        print(f"reference kymata 1.0.6, case b: {reference['seconds']:.1f} s, "
              f"peak RSS {reference['peak_rss'] / 2**20:.0f} MB", flush=True)
    with tempfile.TemporaryDirectory(dir=args.scratch, prefix="bench-fft-floor-") as scratch:
        emeg_files = {}
        for name in args.cases:
            if CASES[name]["space"] == "source":
                emeg_files[name] = str(Path(scratch) / f"case-{name}.h5")
                seconds = write_case_emeg(name, Path(emeg_files[name]))
                print(f"case {name}: EMEG written to HDF5 in {seconds:.0f} s (not timed)", flush=True)
        print("case threads  gridsearch  floor  ratio  peak RSS  vs reference  (first call on 2 channels)")
        for name in args.cases:
            for threads in args.threads:
                emeg_file = [emeg_files[name]] if name in emeg_files else []
                r = _child(["--child", name, str(threads), str(args.repeats), *emeg_file])
                speedup = f"{reference['seconds'] / r['seconds']:.1f}x" if reference and name == "b" else ""
                print(f"{name:>4} {threads:>7}  {r['seconds']:9.2f}s {r['floor']:5.2f}s "
                      f"{r['seconds'] / r['floor']:5.2f}  {r['peak_rss'] / 2**20:6.0f} MB  {speedup:>12}  "
                      f"({r['first_call']:.2f}s)", flush=True)

if __name__ == "__main__":
    main()
