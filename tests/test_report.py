"""The HTML report (``snakemake --report``) of a small study, opened in a real headless Chromium.

Snakemake's report is a React app: the page's content exists only after its JavaScript ran, so the
checks read the DOM Chromium dumps after a virtual-time budget, never the HTML file itself (whose
scripts hold every text as data). Without Chromium the tests are skipped with the reason; with
``KYMATA_REQUIRE_BROWSER=1`` (set by CI, which installs it) a missing Chromium fails instead.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path

import pytest

from kymata_core import __version__
from kymata_core.simulate import Effect, StudySpec, simulate_study, vectorview_sensors
from tests.workflow_utils import copy_workflow, run_snakemake, write_config

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PARTICIPANTS = ["p1", "p2"]
TRANSFORMS = ["a", "b"]
HIERARCHY = {"input": [], "a": ["input"], "b": ["a"]}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
DEPENDENCIES = ("python", "numpy", "scipy", "mne", "scikit-learn", "matplotlib", "snakemake")


def find_browser() -> str:
    """Chromium's executable, or skip (fail with KYMATA_REQUIRE_BROWSER=1) when there is none."""
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    reason = f"no headless browser to open the report in (none of {', '.join(BROWSERS)} on PATH; apt-get install chromium)"
    if os.environ.get("KYMATA_REQUIRE_BROWSER") == "1":
        pytest.fail(f"KYMATA_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def run_browser(browser: str, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Open ``page`` in headless Chromium with a fresh profile, let its scripts run for 10 s of
    virtual time, and do what ``args`` ask (``--dump-dom``, ``--screenshot=...``)."""
    with tempfile.TemporaryDirectory(prefix="kymata-chromium-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=10000",
            "--window-size=1400,1000",
            *args,
            page.resolve().as_uri(),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if result.returncode != 0:
        raise AssertionError(f"{browser} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result


class Dom(HTMLParser):
    """What a dumped page shows: its text, images, links, tables (by class) and preformatted blocks,
    outside <script> and <style> (which hold the report's data and would match anything), and the
    text of the side panel's caption (Snakemake's ``prose-invert`` element)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.text: list[str] = []
        self.caption: list[str] = []
        self._caption_depth = 0
        self.images: list[dict[str, str]] = []
        self.links: list[dict[str, str]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.pres: list[str] = []
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._pre: list[str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if self._caption_depth or "prose-invert" in attrs.get("class", "").split():
            self._caption_depth += tag not in VOID
        if tag in ("script", "style"):
            self.hidden += 1
        elif tag == "img":
            self.images.append(attrs)
        elif tag == "a":
            self.links.append(attrs)
        elif tag == "table":
            self._table = self.tables.setdefault(attrs.get("class", ""), [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "pre":
            self._pre = []

    def handle_endtag(self, tag):
        if self._caption_depth and tag not in VOID:
            self._caption_depth -= 1
        if tag in ("script", "style"):
            self.hidden -= 1
        elif tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "pre" and self._pre is not None:
            self.pres.append("".join(self._pre))
            self._pre = None

    def handle_data(self, data):
        if self.hidden:
            return
        self.text.append(data)
        if self._caption_depth:
            self.caption.append(data)
        for buffer in (self._cell, self._pre):
            if buffer is not None:
                buffer.append(data)

    def table(self, css_class: str) -> dict[str, list[str]]:
        """The rows of the table of that class, by their first cell."""
        rows = self.tables.get(css_class)
        assert rows, f"no table of class {css_class!r} on the page; tables: {sorted(self.tables)}"
        return {row[0]: row[1:] for row in rows if row}


@pytest.fixture(scope="module")
def browser() -> str:
    return find_browser()


@pytest.fixture(scope="module")
def report(browser, tmp_path_factory) -> Path:
    """A two-participant study in sensor space (with its group average), run, and its report written.

    Small, as every job's start-up (a Python importing MNE) dominates: 24 jobs, under a minute on 2 cores.
    """
    root = copy_workflow(tmp_path_factory.mktemp("report"))
    sensors = vectorview_sensors(3, 2)
    spec = StudySpec(
        participants=PARTICIPANTS,
        n_splits=40,
        sensors=sensors,
        hexels_lh=list(range(4)),
        hexels_rh=list(range(4)),
        transforms=TRANSFORMS,
        effects=[
            Effect("a", "sensor", [sensors[0]], 0.05, 0.6),
            Effect("b", "sensor", [sensors[3]], 0.1, 0.6),
        ],
        stimulus_delivery_latency=0.0,
        seed=7,
    )
    simulate_study(spec, root / "data")
    config = write_config(
        root,
        {
            "dataset": "files",
            "participants": PARTICIPANTS,
            "channel_space": "sensor",
            "emeg": {"sensor": "data/emeg/{participant}-ave.fif"},
            "transforms": {"sample_rate": 200, "files": {t: f"data/transforms/{t}.npy" for t in TRANSFORMS}},
            "gridsearch": {"n_splits": 40, "n_derangements": 2, "stimulus_delivery_latency": 0.0},
            "ippm": {"hierarchy": HIERARCHY, "denoisers": ["maxpool"]},
        },
    )
    run_snakemake(root, "--configfile", str(config))
    run_snakemake(root, "--configfile", str(config), "--report", "report.html")
    # moved away from the results, as a report is when it is sent to someone: it must not need them
    moved = tmp_path_factory.mktemp("sent") / "report.html"
    shutil.move(root / "report.html", moved)
    return moved


@pytest.fixture(scope="module")
def landing(browser, report) -> Dom:
    """The report's first page, as Chromium shows it."""
    return Dom(run_browser(browser, report, "--dump-dom").stdout)


def test_the_page_was_rendered_by_its_scripts(landing):
    text = " ".join(landing.text)
    assert "kymata-pipeline report" in text, text[:2000]  # the first page, rendered from the app's data
    for category in ("Configuration", "Group average", "Participants", "Summaries"):
        assert category in text, f"menu entry {category!r} missing"


def test_the_landing_page_shows_the_group_figures_embedded(landing):
    embedded = [img for img in landing.images if img.get("src", "").startswith("data:image/png;base64,")]
    alts = sorted(img.get("alt", "") for img in embedded)
    assert alts == [
        "IPPM (maxpool), group average, sensor space",
        "expression plot, group average, sensor space",
    ], alts
    assert all(len(img["src"]) > 10_000 for img in embedded)
    # each figure opens its report item in one click
    targets = {link.get("href", "") for link in landing.links}
    for name in ("expression-sensor.png", "ippm-maxpool-sensor.png"):
        assert f"javascript:app.showResultInfo('results/group/plots/{name}')" in targets


def test_the_landing_page_shows_the_summary_table(landing):
    summaries = [pre for pre in landing.pres if pre.startswith("participant group")]
    assert len(summaries) == 1, landing.pres
    summary = summaries[0]
    assert "sensor space:" in summary
    for transform in TRANSFORMS:
        assert f"    {transform} " in summary
    assert "significant channel(s)" in summary


def test_the_landing_page_shows_the_hierarchy(landing):
    hierarchy = landing.table("kymata-hierarchy")
    assert hierarchy == {"transform": ["parents"], "input": ["(an input)"], "a": ["input"], "b": ["a"]}


def test_the_landing_page_shows_the_configuration(landing):
    config = landing.table("kymata-config")
    assert config["dataset"] == ["files"]
    assert config["channel_space"] == ["sensor"]
    assert config["gridsearch.n_splits"] == ["40"]
    assert config["gridsearch.n_derangements"] == ["2"]
    assert config["ippm.denoisers"] == ['["maxpool"]']
    assert config["ippm.hierarchy.b"] == ['["a"]']
    assert config["emeg.sensor"] == ["data/emeg/{participant}-ave.fif"]


def test_the_landing_page_shows_the_dependency_versions(landing):
    versions = landing.table("kymata-versions")
    assert versions["python"] == [platform.python_version()]
    for name in DEPENDENCIES[1:]:
        assert versions[name] == [version(name)], name
    assert versions["kymata-pipeline"][0].startswith(f"{__version__} (commit ")


def test_a_click_on_a_group_figure_opens_it_with_its_caption(browser, report, tmp_path):
    # the click is made by a script added to a copy of the report, after the app has rendered
    html = report.read_text(encoding="utf-8")
    click = (
        "<script>setTimeout(function () {"
        " document.querySelector(\"a[href*='group/plots/expression-sensor.png']\").click(); }, 1000);</script>"
    )
    end = html.rindex("</body>")
    clicked = tmp_path / "clicked.html"
    clicked.write_text(html[:end] + click + html[end:], encoding="utf-8")
    dom = Dom(run_browser(browser, clicked, "--dump-dom").stdout)
    assert "results/group/plots/expression-sensor.png" in " ".join(dom.text)  # the result's breadcrumb
    caption = " ".join("".join(dom.caption).split())
    assert caption.startswith("Expression plot of the group average"), caption
    assert 'The upper panel, "left sensors"' in caption and '"right sensors"' in caption
    assert "The dotted horizontal line in each panel is the significance threshold" in caption
    assert "dashed" not in caption and "hemisphere" not in caption


def test_a_screenshot_of_the_landing_page(browser, report, tmp_path):
    shot = tmp_path / "landing.png"
    run_browser(browser, report, f"--screenshot={shot}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
