"""JSON export, KIDs and the network rules (docs/ippm.md §7, §8, §13; E8, E9)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import time
import urllib.error
import warnings

import networkx as nx
import numpy as np
import pytest

from kymata_core.entities.expression import ExpressionPoint as P
from kymata_core.io import atlas
from kymata_core.io.json import NODE_KEYS, NumpyJSONEncoder, serialise_graph
from kymata_core.ippm.denoising_strategies import DENOISERS
from kymata_core.ippm.graph import IPPMGraph
from kymata_core.ippm.ippm import IPPM

S = {"input": [], "func1": ["input"], "func2": ["input", "func1"], "func3": ["func2"], "func4": ["func3"]}
S_POINTS = [P("c1", 0.010, "func1", -28), P("c2", 0.025, "func1", -79), P("c3", 0.050, "func2", -61),
            P("c4", 0.060, "func3", -92), P("c5", 0.065, "func3", -12), P("c6", 0.070, "func4", -42)]  # fmt: skip


def strict_loads(text: str):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def e8() -> IPPM:
    return IPPM(S_POINTS, S, denoiser=None)


# --- E8 -------------------------------------------------------------------------------------------


def test_e8_to_json():
    text = e8().to_json()
    data = strict_loads(text)
    assert list(data) == ["directed", "multigraph", "graph", "nodes", "edges"]
    assert data["directed"] is True and data["multigraph"] is False and data["graph"] == {}
    assert [n["node_id"] for n in data["nodes"]] == ["sc1", "sc2", "sc3", "sc4", "sc5", "sc6", "i1"]
    assert data["nodes"][0] == {"node_id": "sc1", "is_input_node": False, "hemisphere": "scalp", "channel": "c1",
                                "latency": 0.01, "transform": "func1", "logp_value": -28.0, "KID": "unassigned"}  # fmt: skip
    assert data["nodes"][-1] == {"node_id": "i1", "is_input_node": True, "hemisphere": "scalp", "channel": 1,
                                 "latency": 0.0, "transform": "input", "logp_value": None, "KID": "unassigned"}  # fmt: skip
    for node in data["nodes"]:
        assert list(node) == list(NODE_KEYS)
    assert [(e["source"], e["target"], e["transform"]) for e in data["edges"]] == [
        ("sc1", "sc2", "func1"), ("sc2", "sc3", "func2"), ("sc3", "sc4", "func3"), ("sc4", "sc5", "func3"),
        ("sc5", "sc6", "func4"), ("i1", "sc1", "func1"), ("i1", "sc3", "func2")]  # fmt: skip
    for edge in data["edges"]:
        assert list(edge) == ["source", "target", "transform", "KID"] and edge["KID"] == "unassigned"
    assert "Infinity" not in text and "NaN" not in text
    assert text.startswith(
        '{\n  "directed": true,\n  "multigraph": false,\n  "graph": {},\n  "nodes": [\n    {'
    )


def test_underflowed_logp_is_null_but_not_an_input():
    ippm = IPPM([P("c1", 0.01, "func1", -np.inf)], {"input": [], "func1": ["input"]}, denoiser=None)
    data = strict_loads(ippm.to_json())
    node = next(n for n in data["nodes"] if n["node_id"] == "sc1")
    assert node["logp_value"] is None and node["is_input_node"] is False


def test_serialise_graph_and_encoder():
    assert serialise_graph(nx.DiGraph()) == {"directed": True, "multigraph": False, "graph": {}, "nodes": [],
                                              "edges": []}  # fmt: skip
    assert serialise_graph(e8().graph.graph_last_to_first) == strict_loads(e8().to_json())
    encoded = json.dumps({"i": np.int64(3), "f": np.float32(0.5), "a": np.arange(2)}, cls=NumpyJSONEncoder)
    assert json.loads(encoded) == {"i": 3, "f": 0.5, "a": [0, 1]}
    with pytest.raises(TypeError):
        json.dumps({"x": object()}, cls=NumpyJSONEncoder)


def test_json_edges_without_attributes_get_defaults():
    g = e8().graph.graph_last_to_first
    for _, _, d in g.edges(data=True):
        d.clear()
    edges = serialise_graph(g)["edges"]
    assert {(e["transform"], e["KID"]) for e in edges} == {("unknown", "unassigned")}


# --- E9 and the network ---------------------------------------------------------------------------


def _fail_if_called(*args, **kwargs):
    raise AssertionError("fetch_data_dict must not be called")


def test_e9_set_kids_without_verification(monkeypatch):
    monkeypatch.setattr(atlas, "fetch_data_dict", _fail_if_called)
    ippm = e8()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ippm.set_kids({"func1": "K1", "func3": "K3", "other": "KX"}, verify_against_api=False)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    assert "['other']" in messages[0] and "not represented in the graph" in messages[0]
    assert "['func2', 'func4']" in messages[1] and "weren't supplied a KID" in messages[1]
    data = strict_loads(ippm.to_json())
    kids = {n["node_id"]: n["KID"] for n in data["nodes"]}
    assert kids == {"sc1": "K1", "sc2": "K1", "sc3": "unassigned", "sc4": "K3", "sc5": "K3", "sc6": "unassigned",
                    "i1": "unassigned"}  # fmt: skip
    edge_kids = {(e["source"], e["target"]): e["KID"] for e in data["edges"]}
    assert edge_kids == {("i1", "sc1"): "K1", ("sc1", "sc2"): "K1", ("sc3", "sc4"): "K3", ("sc4", "sc5"): "K3",
                         ("sc2", "sc3"): "unassigned", ("sc5", "sc6"): "unassigned",
                         ("i1", "sc3"): "unassigned"}  # fmt: skip
    # a later call overrides only what it maps; input nodes get KIDs too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ippm.set_kids({"func1": "K1b", "input": "KI"}, verify_against_api=False)
    kids = {n.node_id: n.KID for n in ippm.graph.nodes}
    assert kids["sc1"] == "K1b" and kids["sc4"] == "K3" and kids["i1"] == "KI"
    assert all(
        d.get("KID") == "K3" for u, v, d in ippm.graph.graph_full.edges(data=True) if v.transform == "func3"
    )


def test_e9_unknown_kids_raise_before_any_change(monkeypatch):
    calls = []

    def stub(api, timeout_s):
        calls.append((api, timeout_s))
        return [{"kid": "K1", "name": "f"}]

    monkeypatch.setattr(atlas, "fetch_data_dict", stub)
    ippm = e8()
    before = ippm.to_json()
    with pytest.raises(ValueError, match=r"do not exist in the API: \['K3', 'KX'\]"):
        ippm.set_kids({"func1": "K1", "func3": "K3", "other": "KX"})
    assert ippm.to_json() == before
    assert calls == [("https://kymata.org/api/functions/", 5.0)]


@pytest.mark.parametrize(
    "failure",
    [
        TimeoutError("no complete response within 5 s"),
        urllib.error.URLError("unreachable"),
        urllib.error.HTTPError(atlas.API_URL, 503, "Service Unavailable", None, None),
        json.JSONDecodeError("Expecting value", "<html>", 0),
        "payload",
    ],
)
def test_e9_api_failures_only_warn(monkeypatch, failure):
    def stub(api, timeout_s):
        if failure == "payload":
            return {"unexpected": "shape"}
        raise failure

    monkeypatch.setattr(atlas, "fetch_data_dict", stub)
    ippm = e8()
    with pytest.warns(UserWarning) as record:
        ippm.set_kids({"func1": "K1", "func2": "K2", "func3": "K3", "func4": "K4"})
    fetch_warnings = [str(w.message) for w in record if "Failed to fetch KID data" in str(w.message)]
    assert len(fetch_warnings) == 1
    assert fetch_warnings[0].startswith(f"Failed to fetch KID data from {atlas.API_URL} (")
    assert fetch_warnings[0].endswith("). KIDs will not be verified.")
    assert {n.KID for n in ippm.graph.nodes if n.transform == "func1"} == {"K1"}


def test_empty_mapping_makes_no_request(monkeypatch):
    monkeypatch.setattr(atlas, "fetch_data_dict", _fail_if_called)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e8().set_kids({})


def test_set_kids_with_no_network_returns_quickly_with_a_warning():
    ippm = e8()
    start = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ippm.set_kids({"func1": "K1"})
    assert time.monotonic() - start < 4.0
    assert sum("Failed to fetch KID data" in str(w.message) for w in caught) == 1
    assert ippm.graph.nodes[0].KID == "K1"


def test_fetch_has_a_total_timeout(monkeypatch):
    def slow(*args, **kwargs):
        time.sleep(3)
        raise AssertionError("should have timed out first")

    monkeypatch.setattr(atlas.urllib.request, "urlopen", slow)
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        atlas.fetch_data_dict(atlas.API_URL, timeout_s=0.2)
    assert time.monotonic() - start < 1.5
    assert atlas.API_TIMEOUT_S == 5.0 and atlas.API_URL == "https://kymata.org/api/functions/"


def test_fetch_parses_json(monkeypatch):
    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def read(self):
            return b'[{"kid": "K1"}]'

    monkeypatch.setattr(atlas.urllib.request, "urlopen", lambda url, timeout: Response())
    assert atlas.fetch_data_dict(atlas.API_URL, timeout_s=1.0) == [{"kid": "K1"}]


# --- determinism across hash seeds ----------------------------------------------------------------

_DETERMINISM_SCRIPT = textwrap.dedent(
    """
    import hashlib, sys
    import numpy as np
    from kymata_core.entities.expression import HexelExpressionSet
    from kymata_core.ippm.ippm import IPPM
    rng = np.random.default_rng(0)
    lat = np.round(np.arange(0, 0.301, 0.002), 6)
    names = ["t_b", "t_a", "t_c"]
    hier = {"zin": [], "ain": [], "t_b": ["zin", "ain"], "t_a": ["t_b"], "t_c": ["t_b"]}
    blocks = []
    for _ in range(2):
        data = -rng.uniform(0, 2, (30, len(lat), 3))
        for h in range(30):
            t = h % 3
            peak = (0.05, 0.15)[h % 2] + 0.04 * t
            data[h, int(round(peak / 0.002)) + int(rng.integers(-4, 5)), t] = -rng.uniform(15, 40)
        blocks.append(data)
    es = HexelExpressionSet(names, range(30), range(30), lat, blocks[0], blocks[1])
    for name in sys.argv[1:]:
        kwargs = {} if name == "none" else {"should_shuffle": True}
        ippm = IPPM(es, hier, denoiser=None if name == "none" else name, **kwargs)
        print(name, hashlib.sha256(ippm.to_json().encode()).hexdigest())
    """
)


def test_byte_identical_json_across_hash_seeds():
    names = [*DENOISERS, "none"]
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _DETERMINISM_SCRIPT, *names],
            env={**os.environ, "PYTHONHASHSEED": seed},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in ("1", "4242")
    ]
    outputs = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=180)
        assert run.returncode == 0, stderr
        outputs.append(stdout)
    assert outputs[0] == outputs[1]
    lines = outputs[0].splitlines()
    assert [line.split()[0] for line in lines] == names
    assert len({line.split()[1] for line in lines}) > 1  # the denoisers do differ


def test_strict_parse_rejects_what_we_never_write():
    with pytest.raises(ValueError):
        strict_loads('{"x": -Infinity}')
    graph = IPPMGraph({"in": [], "A": ["in"]}, {"left": [], "right": []})
    text = json.dumps(serialise_graph(graph.graph_last_to_first), allow_nan=False)
    assert [n["logp_value"] for n in strict_loads(text)["nodes"]] == [None, None]
    assert hashlib.sha256(text.encode()).hexdigest()  # serialisable with allow_nan=False
