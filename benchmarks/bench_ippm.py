"""Benchmark the IPPM: every denoiser on a full cortical source space, and the scaling of the no-denoiser path.

The expression set has 2 x 10242 hexels, 200 latencies (-0.2 ... 0.795 s) and 10 transforms, stored
sparse with one best latency per hexel and transform (as the gridsearch writes it): noise everywhere
(log10 p in [-3, 0]) and two planted peaks per transform (150 hexels per peak and hemisphere,
log10 p in [-60, -20], latency jitter +-10 ms = +-2 grid steps).

For each denoiser: wall and CPU time of ``IPPM(...)`` + ``to_json()`` (best of ``--repeat``), and the peak
of traced Python/numpy allocations (tracemalloc, a separate run). Then ``denoiser=None`` at three
sizes, to show construction and JSON export are linear (graph_full, quadratic by definition, is
built lazily and never touched here).

Times are wall and CPU (process) seconds, best of ``--repeat``; on a shared machine compare CPU.

Usage: python benchmarks/bench_ippm.py [--repeat N] [--hexels N] [--scaling-only]
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
import tracemalloc

import numpy as np
import sparse

from kymata_core.entities.expression import HexelExpressionSet
from kymata_core.ippm.denoising_strategies import DENOISERS
from kymata_core.ippm.ippm import IPPM

N_LATENCIES = 200
N_TRANSFORMS = 10
LATENCIES = np.round(-0.2 + 0.005 * np.arange(N_LATENCIES), 6)
TRANSFORMS = [f"t{i}" for i in range(N_TRANSFORMS)]
# a chain: input -> t0 -> t1 -> ... -> t9
HIERARCHY = {"input": [], **{t: [TRANSFORMS[i - 1] if i else "input"] for i, t in enumerate(TRANSFORMS)}}


def make_block(rng: np.random.Generator, n_hexels: int, peaks_per_hemi: int = 150) -> sparse.COO:
    channels = np.repeat(np.arange(n_hexels), N_TRANSFORMS)
    transforms = np.tile(np.arange(N_TRANSFORMS), n_hexels)
    lat = rng.integers(0, N_LATENCIES, size=channels.size)
    logp = -rng.uniform(0.0, 3.0, size=channels.size)
    values = logp.reshape(n_hexels, N_TRANSFORMS)
    lats = lat.reshape(n_hexels, N_TRANSFORMS)
    chosen = rng.permutation(n_hexels)
    k = 0
    for t in range(N_TRANSFORMS):
        # centred in 25 ms bins (0.060 = middle grid point of [0.050, 0.075)), 350 ms apart
        for peak_s in (0.060 + 0.025 * t, 0.410 + 0.025 * t):
            hexels = chosen[k : k + peaks_per_hemi]
            k += peaks_per_hemi
            centre = int(np.argmin(np.abs(LATENCIES - peak_s)))
            lats[hexels, t] = centre + rng.integers(-2, 3, size=hexels.size)
            values[hexels, t] = -rng.uniform(20.0, 60.0, size=hexels.size)
    coords = np.stack([channels, lats.ravel(), transforms])
    return sparse.COO(coords, values.ravel(), shape=(n_hexels, N_LATENCIES, N_TRANSFORMS), fill_value=0.0)


def make_set(n_hexels: int, seed: int = 0) -> HexelExpressionSet:
    rng = np.random.default_rng(seed)
    peaks = min(150, n_hexels // (2 * N_TRANSFORMS))
    left, right = make_block(rng, n_hexels, peaks), make_block(rng, n_hexels, peaks)
    return HexelExpressionSet(TRANSFORMS, np.arange(n_hexels), np.arange(n_hexels), LATENCIES, left, right)


def run_once(es: HexelExpressionSet, denoiser: str | None, **kwargs) -> tuple[float, float, IPPM]:
    """(wall s, CPU s, ippm) of IPPM construction + to_json."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    ippm = IPPM(es, HIERARCHY, denoiser=denoiser, **kwargs)
    ippm.to_json()
    return time.perf_counter() - start, time.process_time() - cpu, ippm


def peak_memory_mb(es: HexelExpressionSet, denoiser: str | None, **kwargs) -> float:
    gc.collect()
    tracemalloc.start()
    IPPM(es, HIERARCHY, denoiser=denoiser, **kwargs).to_json()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--hexels", type=int, default=10242, help="hexels per hemisphere")
    parser.add_argument("--scaling-only", action="store_true", help="only the no-denoiser scaling")
    args = parser.parse_args()
    if args.scaling_only:
        scaling(args.hexels, args.repeat)
        return
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    start = time.perf_counter()
    es = make_set(args.hexels)
    print(f"expression set: 2 x {args.hexels} hexels, {N_LATENCIES} latencies, {N_TRANSFORMS} transforms "
          f"(built in {time.perf_counter() - start:.1f} s)")  # fmt: skip

    print(f"\n{'denoiser':<26}{'wall s':>8}{'CPU s':>8}{'peak MiB':>10}{'nodes':>7}  planted peaks recovered")
    variants = [(name, {}) for name in DENOISERS] + [("gmm", {"reg_covar": 2.5e-5}), (None, {})]
    for name, kwargs in variants:
        times, cpus = [], []
        for _ in range(args.repeat):
            elapsed, cpu, ippm = run_once(es, name, **kwargs)
            times.append(elapsed)
            cpus.append(cpu)
        nodes = [n for n in ippm.graph.nodes if not n.is_input]
        per_block_transform = {(n.hemisphere, n.transform) for n in nodes}
        two_each = sum(
            1
            for b in ("left", "right")
            for t in TRANSFORMS
            if len(ippm.graph.points_for_transform(t)[b]) == 2
        )
        label = (name or "None") + "".join(f" {k}={v}" for k, v in kwargs.items())
        assert ippm.graph._full is None, "graph_full must not be built by IPPM() or to_json()"
        print(
            f"{label:<26}{min(times):>8.2f}{min(cpus):>8.2f}{peak_memory_mb(es, name, **kwargs):>10.1f}{len(nodes):>7}  "
            f"{two_each}/{2 * N_TRANSFORMS} (block, transform) with exactly 2 nodes; "
            f"{len(per_block_transform)} with any"
        )

    scaling(args.hexels, args.repeat)


def scaling(n_hexels: int, repeat: int) -> None:
    """CPU time of the no-denoiser path at three sizes, with and without Python's cyclic GC."""
    print("\nno-denoiser scaling (IPPM + to_json, last-to-first; CPU s, best of --repeat):")
    results = []
    for n in (n_hexels // 4, n_hexels // 2, n_hexels):
        es = make_set(n, seed=1)
        with_gc = min(run_once(es, None)[1] for _ in range(repeat))
        gc.disable()  # the cyclic GC's full collections grow with the live heap, not with our algorithm
        try:
            runs = [run_once(es, None) for _ in range(repeat)]
        finally:
            gc.enable()
        without_gc = min(r[1] for r in runs)
        n_nodes = len(runs[0][2].graph.nodes)
        results.append((n_nodes, without_gc))
        print(
            f"  2 x {n:>6} hexels: {n_nodes:>6} nodes, {with_gc:.2f} s (GC on), {without_gc:.2f} s (GC off)"
        )
    (n1, t1), (n3, t3) = results[0], results[-1]
    ratio_n, ratio_t = n3 / n1, t3 / t1
    print(
        f"  nodes x{ratio_n:.1f} -> CPU (GC off) x{ratio_t:.1f} (linear: x{ratio_n:.1f}, quadratic: x{ratio_n**2:.1f})"
    )


if __name__ == "__main__":
    main()
