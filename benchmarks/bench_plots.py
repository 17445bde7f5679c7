"""Time the expression plot of a full cortical source space, and the IPPM plot.

Expression plot: 2 × 10242 hexels (fsaverage ico-5), 201 latencies, 100 transforms; each hexel
has one significant-looking entry per transform (as a gridsearch shard stores it). Timed: building
the figure, and building plus saving it as PNG. IPPM plot: a chain of 20 transforms with 5 nodes
each in both hemispheres.

Run: ``.venv/bin/python benchmarks/bench_plots.py``. Prints seconds (best of ``--repeat``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import sparse  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from kymata_core.entities.expression import ExpressionPoint, HexelExpressionSet  # noqa: E402
from kymata_core.ippm.graph import IPPMGraph  # noqa: E402
from kymata_core.plot.colors import default_transform_colors  # noqa: E402
from kymata_core.plot.expression import expression_plot  # noqa: E402
from kymata_core.plot.ippm import plot_ippm  # noqa: E402

N_HEXELS = 10242
N_TRANSFORMS = 100
LATENCIES = np.round(np.arange(-0.2, 0.8001, 0.005), 6)


def hexel_set(rng: np.random.Generator) -> HexelExpressionSet:
    def block():
        c = np.repeat(np.arange(N_HEXELS), N_TRANSFORMS)
        t = np.tile(np.arange(N_TRANSFORMS), N_HEXELS)
        lat = rng.integers(0, len(LATENCIES), size=c.size)
        v = -rng.exponential(3.0, size=c.size) - 1e-3
        strong = rng.random(c.size) < 0.01
        v[strong] -= rng.uniform(10, 60, size=strong.sum())
        return sparse.COO(
            np.stack([c, lat, t]), v, shape=(N_HEXELS, len(LATENCIES), N_TRANSFORMS), fill_value=0.0
        )

    names = [f"t{i:03d}" for i in range(N_TRANSFORMS)]
    return HexelExpressionSet(names, np.arange(N_HEXELS), np.arange(N_HEXELS), LATENCIES, block(), block())


def ippm_graph() -> IPPMGraph:
    names = [f"t{i:02d}" for i in range(20)]
    ctl = {"input": [], names[0]: ["input"], **{names[i]: [names[i - 1]] for i in range(1, 20)}}
    points = {
        hemi: [
            ExpressionPoint(k + 10 * i, 0.03 + 0.03 * i + 0.005 * k, t, -20.0 - k)
            for i, t in enumerate(names)
            for k in range(5)
        ]
        for hemi in ("left", "right")
    }
    return IPPMGraph(ctl, points)


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        plt.close("all")
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    es = hexel_set(rng)
    print(
        f"build HexelExpressionSet 2x{N_HEXELS} hexels x {N_TRANSFORMS} transforms: {time.perf_counter() - start:.2f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "expression.png"
        t_fig = best_of(args.repeat, lambda: expression_plot(es))
        t_png = best_of(args.repeat, lambda: expression_plot(es, save_to=out, overwrite=True))
        t_svg = best_of(1, lambda: expression_plot(es, save_to=Path(tmp) / "e.svg", overwrite=True))
        print(f"expression_plot, figure only:          {t_fig:.2f} s")
        print(f"expression_plot, figure + PNG (150 dpi): {t_png:.2f} s")
        print(
            f"expression_plot, figure + SVG:           {t_svg:.2f} s ({(Path(tmp) / 'e.svg').stat().st_size / 1e6:.1f} MB)"
        )
        graph = ippm_graph()
        colors = default_transform_colors(sorted(graph.transforms))
        t_ippm = best_of(args.repeat, lambda: plot_ippm(graph, colors).savefig(Path(tmp) / "ippm.png"))
        print(f"plot_ippm (2 x 20 transforms x 5 nodes) + PNG: {t_ippm:.2f} s")


if __name__ == "__main__":
    main()
