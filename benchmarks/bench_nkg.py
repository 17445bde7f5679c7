"""Benchmark: saving and loading a large .nkg file, and combining many single-transform sets.

Run: ``.venv/bin/python benchmarks/bench_nkg.py [--transforms 100] [--sets 200]``. Prints wall time and
peak traced memory (tracemalloc: numpy allocations; not the interpreter) for each operation, and
the process's peak RSS at the end.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import psutil
import sparse

from kymata_core.entities.expression import HexelExpressionSet, combine
from kymata_core.io.nkg import load_expression_set, save_expression_set

N_HEXELS_PER_HEMI = 10242  # 20484 hexels: fsaverage ico-5
N_LATENCIES = 200


def _block(rng: np.random.Generator, n_transforms: int) -> sparse.COO:
    """One entry per (hexel, transform) at a random latency: what a gridsearch stores."""
    hexel, transform = np.meshgrid(np.arange(N_HEXELS_PER_HEMI), np.arange(n_transforms), indexing="ij")
    coords = np.stack([hexel.ravel(), rng.integers(0, N_LATENCIES, hexel.size), transform.ravel()])
    data = -rng.exponential(5.0, hexel.size)
    return sparse.COO(coords, data, shape=(N_HEXELS_PER_HEMI, N_LATENCIES, n_transforms), fill_value=0.0)


def make_set(n_transforms: int, seed: int = 0, names: list[str] | None = None) -> HexelExpressionSet:
    rng = np.random.default_rng(seed)
    hexels = np.arange(N_HEXELS_PER_HEMI)
    latencies = np.round(np.arange(N_LATENCIES) * 0.005 - 0.2, 3)
    names = names or [f"t{i:03d}" for i in range(n_transforms)]
    return HexelExpressionSet(
        names, hexels, hexels, latencies, _block(rng, n_transforms), _block(rng, n_transforms)
    )


def measure(label: str, fn):
    """Run ``fn`` once; print wall time, CPU time (steadier on a shared machine) and peak traced memory."""
    tracemalloc.start()
    start, start_cpu = time.perf_counter(), time.process_time()
    result = fn()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<55} wall {elapsed:8.2f} s  cpu {cpu:8.2f} s  peak {peak / 2**20:7.1f} MiB", flush=True)
    return result, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transforms", type=int, default=100)
    parser.add_argument("--sets", type=int, default=200)
    parser.add_argument(
        "--pairwise-max", type=int, default=200, help="largest chain for the pairwise combine"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    make_set(2)  # warm up sparse/numba so the timings below are steady state
    big = make_set(args.transforms)
    nnz = sum(big.coo(b).nnz for b in big.block_names)
    print(
        f"set: 2 x {N_HEXELS_PER_HEMI} hexels, {N_LATENCIES} latencies, {args.transforms} transforms, {nnz} entries"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for label, method in [("LZMA", zipfile.ZIP_LZMA), ("DEFLATE", zipfile.ZIP_DEFLATED)]:
            path = Path(tmp) / f"big-{label}.nkg"
            measure(f"save ({label})", lambda p=path, m=method: save_expression_set(big, p, compression=m))
            print(f"{'  file size':<55} {path.stat().st_size / 2**20:8.1f} MiB")
            loaded, _ = measure(f"load ({label})", lambda p=path: load_expression_set(p))
            assert loaded == big

    singles = [make_set(1, seed=i, names=[f"t{i:03d}"]) for i in range(args.sets)]
    for n in sorted({args.sets // 4, args.sets // 2, args.sets}):
        _, linear = measure(f"combine {n} single-transform sets (one call)", lambda n=n: combine(singles[:n]))
        if n <= args.pairwise_max:
            _, chain = measure(
                f"combine {n} single-transform sets (pairwise chain)",
                lambda n=n: functools.reduce(lambda a, b: combine([a, b]), singles[:n]),
            )
            print(f"{'':<55} chain / one call = {chain / linear:.1f}x")
    print(
        f"peak RSS of the process: {psutil.Process().memory_info().rss / 2**20:.0f} MiB (current), "
        f"{getattr(psutil.Process().memory_info(), 'peak_wset', 0) or 'n/a'}"
    )


if __name__ == "__main__":
    main()
