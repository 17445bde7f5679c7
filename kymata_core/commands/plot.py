"""``kymata-core plot``: draw the expression plot of an ``.nkg`` file or the plot of an IPPM JSON file."""

from __future__ import annotations

import argparse
import inspect
import json
from pathlib import Path
from typing import Any

from kymata_core.cli import COMMANDS
from kymata_core.errors import UsageError
from kymata_core.io.atomic import check_overwrite

EPILOG = """\
examples:
  kymata-core plot expression --expression results/p01/expression.nkg --out results/p01/plots/expression.png \\
      --options '{"title": "p01", "xlims": [-100, 600], "minimap": "standard"}'
  kymata-core plot ippm --ippm results/p01/ippm/maxpool.json --out results/p01/plots/ippm-maxpool.png \\
      --expression results/p01/expression.nkg --hierarchy config/hierarchy.yaml --options '{"figheight": null}'

The format (png, svg or pdf) comes from the suffix of --out. --options, --colors and --hierarchy take a
JSON (or YAML) file or inline JSON. Expression options are the keyword arguments of
kymata_core.plot.expression.expression_plot (title, xlims [ms], ylim [log10 p], show_only, color, fig_size,
plot_top_n, paired_axes, minimap, minimap_latency_range [s], show_only_sensors, legend_display, ...);
IPPM options are those of kymata_core.plot.ippm.plot_ippm (title, xlims_s, y_ordinate_style,
connection_style, scale_nodes, figheight, figwidth, linewidth, show_labels, relabel, ...).
Default IPPM colours are the expression plot's palette in the transform order of --expression (sorted
names without it), so a transform has the same colour in both figures.
"""

# options given as JSON lists that the plotting functions expect as tuples
_TUPLE_OPTIONS = {"xlims", "fig_size", "minimap_latency_range", "xlims_s", "arrowhead_dims"}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "plot",
        help=COMMANDS["plot"],
        description="Draw the expression plot of an .nkg file, or the plot of an IPPM JSON file.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = parser.add_subparsers(dest="plot_kind", metavar="KIND", required=True)

    expr = kinds.add_parser(
        "expression",
        help="expression plot of an .nkg file",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    expr.add_argument("--expression", required=True, type=Path, help="the .nkg ExpressionSet to plot")
    _add_common(expr)
    expr.set_defaults(func=run_expression)

    ippm = kinds.add_parser(
        "ippm",
        help="plot of an IPPM JSON file",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ippm.add_argument("--ippm", required=True, type=Path, help="the IPPM JSON file (from kymata-core ippm)")
    ippm.add_argument("--colors", help="transform → colour, as a JSON/YAML file or inline JSON")
    ippm.add_argument(
        "--expression",
        type=Path,
        help="an .nkg whose transform order fixes the default colours (as in the expression plot)",
    )
    ippm.add_argument(
        "--hierarchy",
        help="the candidate transform list (transform → parents), file or inline JSON; "
        "inferred from the IPPM's edges when omitted",
    )
    _add_common(ippm)
    ippm.set_defaults(func=run_ippm)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, type=Path, help="figure to write: .png, .svg or .pdf")
    parser.add_argument("--options", help="plot options, as a JSON/YAML file or inline JSON object")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")


def run_expression(args: argparse.Namespace) -> int:
    _use_agg()
    from kymata_core.plot.expression import expression_plot

    options = _options(args.options, expression_plot, exclude={"expression_set", "save_to", "overwrite"})
    _check_out(args.out, args.overwrite)
    if not args.expression.is_file():
        raise FileNotFoundError(f"--expression: {args.expression} not found")
    from kymata_core.io.nkg import load_expression_set

    es = load_expression_set(args.expression)
    fig = expression_plot(es, save_to=args.out, overwrite=args.overwrite, **options)
    _close(fig)
    return 0


def run_ippm(args: argparse.Namespace) -> int:
    _use_agg()
    from kymata_core.plot.ippm import plot_ippm, plot_ippm_json

    options = _options(args.options, plot_ippm, exclude={"ippm", "colors", "ax", "_test_hemisphere_colors"})
    _check_out(args.out, args.overwrite)
    if not args.ippm.is_file():
        raise FileNotFoundError(f"--ippm: {args.ippm} not found")
    colors = _mapping(args.colors, "--colors") if args.colors else None
    hierarchy = _mapping(args.hierarchy, "--hierarchy") if args.hierarchy else None
    order = None
    if args.expression is not None:
        from kymata_core.io.nkg import load_expression_set

        order = load_expression_set(args.expression).transforms
    fig = plot_ippm_json(
        args.ippm, colors=colors, candidate_transform_list=hierarchy, transform_order=order, **options
    )
    from kymata_core.plot.save import save_figure

    save_figure(fig, args.out, overwrite=args.overwrite, bbox_inches="tight")
    _close(fig)
    return 0


def _check_out(out: Path, overwrite: bool) -> None:
    from kymata_core.plot.save import figure_format

    figure_format(out)
    check_overwrite(out, overwrite, flag="--overwrite")
    out.parent.mkdir(parents=True, exist_ok=True)


def _load_structured(value: str, flag: str) -> Any:
    """Inline JSON, or the contents of a JSON or YAML file."""
    path = Path(value)
    if not value.lstrip().startswith(("{", "[")) and path.is_file():
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            try:
                return yaml.safe_load(text)
            except yaml.YAMLError as e:
                raise UsageError(f"{flag}: {path} is not valid YAML ({e})") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise UsageError(f"{flag}: {path} is not valid JSON ({e})") from None
    try:
        return json.loads(value)
    except json.JSONDecodeError as e:
        raise UsageError(f"{flag}: expected a JSON object or an existing file, got {value!r} ({e})") from None


def _mapping(value: str, flag: str) -> dict:
    data = _load_structured(value, flag)
    if not isinstance(data, dict):
        raise UsageError(f"{flag}: expected a JSON object (a mapping), got {type(data).__name__}")
    return data


def _options(value: str | None, function, exclude: set[str]) -> dict[str, Any]:
    if value is None:
        return {}
    options = _mapping(value, "--options")
    allowed = [p for p in inspect.signature(function).parameters if p not in exclude]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise UsageError(f"--options: unknown option(s) {unknown}; allowed: {', '.join(allowed)}")
    return {k: tuple(v) if k in _TUPLE_OPTIONS and isinstance(v, list) else v for k, v in options.items()}


def _use_agg() -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only: never needs a display


def _close(fig) -> None:
    from matplotlib import pyplot as plt

    plt.close(fig)
