"""``kymata-core ippm`` (build, write atomically, refuse, check against planted truth)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kymata_core.cli import main
from kymata_core.entities.expression import HexelExpressionSet
from kymata_core.io.nkg import save_expression_set
from kymata_core.ippm.ippm import IPPM


def _e13():
    # the E13 hexel set (docs/ippm.md §12)
    left, right = np.zeros((8, 13, 2)), np.zeros((8, 13, 2))
    for h, lat, v in [(0, 0, -50), (1, 1, -70), (2, 1, -34), (3, 6, -100), (4, 7, -50), (5, 3, -15), (6, 5, -7),
                      (7, 8, -3)]:  # fmt: skip
        left[h, lat, 0] = v
    for h, lat, v in [(0, 0, -2), (1, 1, -50), (2, 5, -99), (3, 5, -78), (4, 6, -23), (5, 8, -77), (6, 10, -54),
                      (7, 11, -4)]:  # fmt: skip
        right[h, lat, 1] = v
    latencies = np.round(np.arange(13) * 0.005, 6)
    es = HexelExpressionSet(["f1", "f2"], range(8), range(8), latencies, left, right)
    return es, {"in": [], "f1": ["in"], "f2": ["f1"]}


@pytest.fixture
def files(tmp_path):
    es, ctl = _e13()
    expr = tmp_path / "expression.nkg"
    save_expression_set(es, expr)
    hier = tmp_path / "hierarchy.yaml"
    hier.write_text("in: []\nf1: [in]\nf2: [f1]\n")
    return es, ctl, expr, hier, tmp_path


def run(*argv) -> int:
    return main(["ippm", *map(str, argv)])


def test_writes_the_ippm_json(files, capsys):
    es, ctl, expr, hier, tmp = files
    out = tmp / "maxpool.json"
    assert run("--expression", expr, "--hierarchy", hier, "--out", out) == 0
    assert out.read_text() == IPPM(es, ctl).to_json() + "\n"
    assert "wrote" in capsys.readouterr().out
    assert [p.name for p in tmp.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_refuses_to_overwrite(files, capsys):
    es, ctl, expr, hier, tmp = files
    out = tmp / "x.json"
    out.write_text("keep")
    assert run("--expression", expr, "--hierarchy", hier, "--out", out) == 2
    err = capsys.readouterr().err
    assert "x.json" in err and "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert out.read_text() == "keep"
    assert run("--expression", expr, "--hierarchy", hier, "--out", out, "--overwrite") == 0
    assert json.loads(out.read_text())["nodes"]


def test_denoiser_params_and_none(files):
    es, ctl, expr, hier, tmp = files
    params = tmp / "params.yaml"
    params.write_text("base_bin_size: 0.03\nbin_significance_threshold: 1\n")
    out = tmp / "a.json"
    assert run("--expression", expr, "--hierarchy", hier, "--denoiser", "adaptive_maxpool", "--params", params,
               "--out", out) == 0  # fmt: skip
    expected = IPPM(es, ctl, denoiser="adaptive_maxpool", base_bin_size=0.03, bin_significance_threshold=1)
    assert out.read_text() == expected.to_json() + "\n"
    out = tmp / "b.json"
    assert run("--expression", expr, "--hierarchy", hier, "--denoiser", "dbscan", "--params", '{"eps": 0.01}',
               "--out", out, "--merge-hemispheres") == 0  # fmt: skip
    expected = IPPM(es, ctl, denoiser="dbscan", eps=0.01, merge_before_denoising=True)
    assert out.read_text() == expected.to_json() + "\n"
    out = tmp / "c.json"
    assert run("--expression", expr, "--hierarchy", hier, "--denoiser", "none", "--out", out) == 0
    assert out.read_text() == IPPM(es, ctl, denoiser=None).to_json() + "\n"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"--denoiser": "bogus"}, "bogus"),
        ({"--params": '{"bandwidth": 1}'}, "bandwidth"),
        ({"--params": "[1, 2]"}, "--params"),
        ({"--params": "not json"}, "--params"),
        ({"--params": '{"bin_size": -1}'}, "bin_size"),
        ({"--denoiser": "none", "--params": '{"bin_size": 0.01}'}, "none"),
        ({"--hierarchy": "cycle"}, "cycle: a -> b -> a"),
        ({"--hierarchy": "missing"}, "f9"),
        ({"--hierarchy": "list"}, "mapping"),
        ({"--expression": "absent.nkg"}, "absent.nkg"),
    ],
)
def test_errors_are_one_line(files, capsys, change, message):
    es, ctl, expr, hier, tmp = files
    (tmp / "cycle.yaml").write_text("a: [b]\nb: [a]\n")
    (tmp / "missing.yaml").write_text("in: []\nf1: [in]\nf9: [f1]\n")
    (tmp / "list.yaml").write_text("- a\n- b\n")
    args = {"--expression": str(expr), "--hierarchy": str(hier), "--out": str(tmp / "o.json")}
    for key, value in change.items():
        args[key] = str(tmp / f"{value}.yaml") if key == "--hierarchy" else value
    if change.get("--expression"):
        args["--expression"] = str(tmp / change["--expression"])
    assert run(*[x for kv in args.items() for x in kv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp / "o.json").exists()


def test_truth_check(files, capsys):
    es, ctl, expr, hier, tmp = files
    truth = {"hierarchy": ctl, "effects": [{"transform": "f1", "latency_s": 0.004, "hemisphere": "lh"},
                                           {"transform": "f1", "latency_s": 0.031, "hemisphere": "lh"},
                                           {"transform": "f2", "latency_s": 0.030, "hemisphere": "rh"}]}  # fmt: skip
    (tmp / "truth.json").write_text(json.dumps(truth))
    out = tmp / "ippm.json"
    assert run("--expression", expr, "--hierarchy", hier, "--out", out, "--truth", tmp / "truth.json") == 0
    check = json.loads((tmp / "ippm.check.json").read_text())
    assert check["matches"] is True and check["missing"] == check["extra"] == check["bad_edges"] == []
    assert "matches" in capsys.readouterr().out
    truth["effects"] = truth["effects"][1:] + [{"transform": "f2", "latency_s": 0.2, "hemisphere": "rh"}]
    (tmp / "truth2.json").write_text(json.dumps(truth))
    out = tmp / "ippm2.json"
    assert run("--expression", expr, "--hierarchy", hier, "--out", out, "--truth", tmp / "truth2.json") == 0
    check = json.loads((tmp / "ippm2.check.json").read_text())
    assert check["matches"] is False
    assert check["extra"] == ["left_h1"]
    assert check["missing"] == [{"transform": "f2", "latency_s": 0.2, "hemisphere": "right"}]
    assert "does NOT match" in capsys.readouterr().out


def test_truth_check_with_a_simulation_truth_file(files):
    # the shape written by kymata_core.simulate: no hierarchy (taken from --hierarchy), channels per effect
    es, ctl, expr, hier, tmp = files
    truth = {"effects": [
        {"transform": "f1", "channel_space": "source", "channels": [["lh", 1], ["lh", 2]], "latency_s": 0.005},
        {"transform": "f1", "channel_space": "source", "channels": [["lh", 3]], "latency_s": 0.030},
        {"transform": "f2", "channel_space": "source", "channels": [["rh", 2]], "latency_s": 0.025},
        {"transform": "f2", "channel_space": "sensor", "channels": ["MEG0111"], "latency_s": 0.3},
    ]}  # fmt: skip
    (tmp / "truth.json").write_text(json.dumps(truth))
    assert (
        run("--expression", expr, "--hierarchy", hier, "--out", tmp / "o.json", "--truth", tmp / "truth.json")
        == 0
    )
    assert json.loads((tmp / "o.check.json").read_text())["matches"] is True
    truth["effects"][2]["channels"] = [["rh", 2], ["lh", 2]]  # now also expected in the left hemisphere
    (tmp / "truth2.json").write_text(json.dumps(truth))
    assert (
        run(
            "--expression", expr, "--hierarchy", hier, "--out", tmp / "p.json", "--truth", tmp / "truth2.json"
        )
        == 0
    )
    check = json.loads((tmp / "p.check.json").read_text())
    assert check["missing"] == [{"transform": "f2", "latency_s": 0.025, "hemisphere": "left"}]
