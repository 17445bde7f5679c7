"""Checksums of what the demo workflow writes, to show that a change of code changed no result.

    python -m tests.demo_checksums results demo-data > checksums.txt           record
    python -m tests.demo_checksums results demo-data --against checksums.txt   compare (exit 1 on a difference)

Every ``.nkg`` is listed member by member, without its provenance member (which records the
software version, commit and times); every IPPM and summary JSON as a whole, and the evoked and
source files the demo simulates. Figures are left out: matplotlib's PNG bytes depend on its
version. Float results can differ in their last bits between CPUs (numpy picks SIMD code for the
machine), so compare lists made on the same machine; tests/data/demo-checksums.txt is the list
recorded on the project's 2-core x86-64 VM after the compiled Fisher z of #17 (which moved the demo's
log10 p by at most 3e-6 and no best point; the one-home clean-up of #16 had changed no byte).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import zipfile
from pathlib import Path

PROVENANCE_MEMBER = "_metadata/provenance.json"
WHOLE_FILES = ("*.json", "*.fif", "*.stc", "*.h5", "*.npz", "*.npy", "*.tsv")
SKIPPED_PARTS = ("logs", "benchmarks", "plots", ".snakemake")


def checksums(folder: Path) -> dict[str, str]:
    """``{folder/relative path[:member]: sha256}`` of the results under ``folder``."""
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder.parent)
        if not path.is_file() or set(relative.parts[1:]) & set(SKIPPED_PARTS) or path.name.endswith(".provenance.json"):
            continue
        if path.suffix == ".nkg":
            with zipfile.ZipFile(path) as archive:
                for member in sorted(archive.namelist()):
                    if member != PROVENANCE_MEMBER:
                        out[f"{relative}:{member}"] = hashlib.sha256(archive.read(member)).hexdigest()
        elif any(path.match(pattern) for pattern in WHOLE_FILES) and path.name != "versions.tsv":
            out[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", type=Path, nargs="+", help="the workflow's results (and demo-data) folders")
    parser.add_argument("--against", type=Path, help="a list recorded earlier: report every difference")
    args = parser.parse_args(argv)
    now = {name: digest for folder in args.folders for name, digest in checksums(folder).items()}
    if args.against is None:
        sys.stdout.writelines(f"{digest}  {name}\n" for name, digest in now.items())
        return 0
    before = dict(reversed(line.split("  ", 1)) for line in args.against.read_text().splitlines() if line)
    before = {name.strip(): digest for name, digest in before.items()}
    differ = sorted(name for name in before.keys() & now.keys() if before[name] != now[name])
    missing, new = sorted(before.keys() - now.keys()), sorted(now.keys() - before.keys())
    for label, names in (("differs", differ), ("missing", missing), ("new", new)):
        for name in names:
            print(f"{label}: {name}")
    print(f"{len(now)} checksums, {len(differ)} differ, {len(missing)} missing, {len(new)} new")
    return 1 if differ or missing or new else 0


if __name__ == "__main__":
    sys.exit(main())
