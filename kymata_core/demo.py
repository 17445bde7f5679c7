"""What the demo run found: ``python -m kymata_core.demo [RESULTS_DIR]`` (called by ``make demo``).

Prints where the results are, and for every participant whether the planted effects of the simulated
study were recovered; for the IPPMs, whether they match the planted structure. Exits with status 1 if
the group average missed a planted effect.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def describe(results: Path) -> tuple[str, bool]:
    """The text to print, and whether every planted effect was recovered in the group results."""
    lines = [f"Results are in {results.resolve()}/"]
    report = results / "report.html"
    if report.is_file():
        lines.append(f"HTML report: {report.resolve()}")
    group_ok = False
    for summary_path in sorted(results.glob("*/summary.json")):
        summary = json.loads(summary_path.read_text())
        participant = summary["participant"]
        planted = summary.get("planted_effects", [])
        n_ok = sum(p["recovered"] for p in planted)
        fps = len(summary.get("false_positives", []))
        lines.append(
            f"  {participant:<16} planted effects recovered: {n_ok}/{len(planted)}, false positives: {fps}"
        )
        if participant == "group":
            group_ok = bool(planted) and n_ok == len(planted)
    for check_path in sorted(results.glob("group/ippm/*.check.json")):
        check = json.loads(check_path.read_text())
        verdict = "matches" if check.get("matches") else "does NOT match"
        lines.append(f"  group IPPM {check_path.name.removesuffix('.check.json'):<24} {verdict} the planted structure")
    lines.append(
        "All planted effects were recovered in the group average."
        if group_ok
        else "Some planted effects were NOT recovered in the group average (see results/group/summary.txt)."
    )
    return "\n".join(lines), group_ok


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    results = Path(args[0] if args else "results")
    if not results.is_dir():
        print(f"no results directory {results}: run the workflow first", file=sys.stderr)
        return 2
    text, ok = describe(results)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
