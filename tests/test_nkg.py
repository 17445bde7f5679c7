"""Writing .nkg files (format 0.5), round trips, determinism, safe reading and atomic writes."""

from __future__ import annotations

import io
import os
import warnings
import zipfile

import numpy as np
import pytest
import sparse

from kymata_core.entities.expression import HexelExpressionSet, SensorExpressionSet, combine
from kymata_core.io import nkg
from kymata_core.io.layouts import SensorLayout
from kymata_core.io.nkg import (
    NkgFormatError,
    file_version,
    load_expression_set,
    read_provenance,
    save_expression_set,
)
from tests.nkg_archives import zipfile_bytes
from tests.paths import NKG_FIXTURES_DIR

LATENCIES = np.round(np.arange(-0.2, 0.3, 0.005), 3)  # as a gridsearch makes them: -0.2, -0.195, ...


def _random_logp(rng, n_channels, n_transforms) -> np.ndarray:
    n_latencies = len(LATENCIES)
    values = -rng.exponential(3.0, size=(n_channels, n_latencies, n_transforms))
    values[rng.random(values.shape) < 0.01] = 0.0
    return values


def make_hexel_set(seed=0, transforms=("a", "b", "c"), n=30, left=True, right=True) -> HexelExpressionSet:
    rng = np.random.default_rng(seed)
    hexels = np.arange(0, 3 * n, 3)
    lh = hexels if left else []
    rh = hexels + 1 if right else []
    data_lh = _random_logp(rng, n, len(transforms)) if left else None
    data_rh = _random_logp(rng, n, len(transforms)) if right else None
    return HexelExpressionSet(list(transforms), lh, rh, LATENCIES, data_lh, data_rh)


def make_sensor_set(seed=0, transforms=("a", "b"), layout=None) -> SensorExpressionSet:
    rng = np.random.default_rng(seed)
    sensors = ["MEG0111", "MEG0112", "MEG0113", "MEG0121", "EEG001", "EEG002"]
    with warnings.catch_warnings():  # EEG sensors are not in a MEG-only layout
        warnings.simplefilter("ignore")
        return SensorExpressionSet(
            list(transforms), sensors, LATENCIES, _random_logp(rng, 6, len(transforms)), layout
        )


def _save_bytes(es, **kwargs) -> bytes:
    buffer = io.BytesIO()
    save_expression_set(es, buffer, **kwargs)
    return buffer.getvalue()


def _members(payload: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        return [(info.filename, zf.read(info)) for info in zf.infolist()]


def _load_bytes(payload: bytes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_expression_set(io.BytesIO(payload))


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "es",
    [
        make_hexel_set(),
        make_hexel_set(seed=1, right=False),
        make_hexel_set(seed=2, left=False, transforms=("only",)),
        make_sensor_set(),
        make_sensor_set(layout=SensorLayout(meg="Vectorview", eeg="Easycap")),
        make_sensor_set(layout=SensorLayout(meg="Vectorview")),
    ],
    ids=[
        "hexel",
        "hexel-left-shard",
        "hexel-right-shard",
        "sensor",
        "sensor-layout",
        "sensor-meg-only-layout",
    ],
)
def test_round_trip(es, tmp_path):
    path = tmp_path / "set.nkg"
    save_expression_set(es, path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_expression_set(path)
    # a 0.5 file we wrote loads without warnings (except that EEG sensors are not in a MEG-only layout)
    assert all("not in the layout" in str(w.message) for w in caught)
    assert len(caught) == (1 if getattr(es, "sensor_layout", None) == SensorLayout(meg="Vectorview") else 0)
    assert loaded == es
    assert type(loaded) is type(es)
    assert file_version(path) == (0, 5)
    for block in es.block_names:
        np.testing.assert_array_equal(loaded.coo(block).data, es.coo(block).data)


def test_round_trip_keeps_extreme_values(tmp_path):
    data = np.zeros((2, len(LATENCIES), 1))
    data[0, 3, 0] = -np.inf  # p = 0
    data[1, 5, 0] = -1e-300
    es = SensorExpressionSet("t", ["s1", "s2"], LATENCIES, data)
    save_expression_set(es, tmp_path / "x.nkg")
    loaded = load_expression_set(tmp_path / "x.nkg")
    assert loaded.coo("scalp").data.tolist() == [-np.inf, -1e-300]


def test_combined_shards_round_trip(tmp_path):
    left = make_hexel_set(seed=3, right=False, transforms=("f",))
    right = make_hexel_set(seed=4, left=False, transforms=("f",))
    paths = [tmp_path / "f.lh.nkg", tmp_path / "f.rh.nkg"]
    save_expression_set(left, paths[0])
    save_expression_set(right, paths[1])
    combined = load_expression_set(paths)
    assert combined == combine([left, right])
    assert len(combined.hexels_left) == len(combined.hexels_right) == 30


def test_tied_minima_are_read_and_written_once(tmp_path):
    coords = np.array([[0, 0, 1], [2, 5, 3], [0, 0, 0]])
    coo = sparse.COO(coords, np.array([-4.0, -4.0, -2.0]), shape=(2, len(LATENCIES), 1), fill_value=0.0)
    es = SensorExpressionSet("t", ["s1", "s2"], LATENCIES, coo)
    assert es.coo("scalp").nnz == 3  # sparse input is kept as given: the tie is kept
    save_expression_set(es, tmp_path / "tied.nkg")
    loaded = load_expression_set(tmp_path / "tied.nkg")
    # the writer keeps one entry per (channel, transform): the earliest latency of the tied minimum
    assert loaded.coo("scalp").coords.tolist() == [[0, 1], [2, 3], [0, 0]]
    assert loaded.best_transforms() == es.best_transforms()


# --- exact format ------------------------------------------------------------------------------


def test_written_members_and_text_formats():
    es = make_sensor_set(layout=SensorLayout(meg="Vectorview", eeg="Easycap"))
    members = dict(_members(_save_bytes(es)))
    assert list(members) == [
        "_metadata/format-version.txt",
        "_metadata/expression-set-type.txt",
        "/latencies.txt",
        "/transforms.txt",
        "/blocks.txt",
        "/layout.txt",
        "/scalp/channels.txt",
        "/scalp/coo-coords.bytes",
        "/scalp/coo-data.bytes",
        "/scalp/coo-shape.txt",
    ]
    assert members["_metadata/format-version.txt"] == b"0.5"
    assert members["_metadata/expression-set-type.txt"] == b"sensor"
    assert members["/latencies.txt"].split(b"\n")[:3] == [b"-0.2", b"-0.195", b"-0.19"]
    assert not members["/latencies.txt"].endswith(b"\n")
    assert members["/transforms.txt"] == b"a\nb"
    assert members["/blocks.txt"] == b"scalp"
    assert members["/layout.txt"] == b"MEG:\tVectorview\nEEG:\tEasycap\n"
    assert members["/scalp/channels.txt"] == b"MEG0111\nMEG0112\nMEG0113\nMEG0121\nEEG001\nEEG002"
    assert members["/scalp/coo-shape.txt"] == f"6\n{len(LATENCIES)}\n2".encode()
    coords = np.frombuffer(members["/scalp/coo-coords.bytes"], dtype="<i8").reshape(3, -1)
    data = np.frombuffer(members["/scalp/coo-data.bytes"], dtype="<f8")
    assert coords.shape[1] == data.size == es.coo("scalp").nnz
    linear = np.ravel_multi_index(tuple(coords), (6, len(LATENCIES), 2))
    assert np.all(np.diff(linear) > 0)  # sorted by (channel, latency, transform)
    # one entry per (channel, transform), at its minimum over latencies
    pairs = coords[0] * 2 + coords[2]
    assert np.unique(pairs).size == pairs.size


def test_every_member_is_lzma_with_fixed_metadata():
    with zipfile.ZipFile(io.BytesIO(_save_bytes(make_hexel_set()))) as zf:
        for info in zf.infolist():
            assert info.compress_type == zipfile.ZIP_LZMA
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert (info.external_attr >> 16) & 0o777 == 0o644


def test_saving_twice_is_byte_identical(tmp_path):
    es = make_hexel_set(seed=7)
    save_expression_set(es, tmp_path / "a.nkg")
    save_expression_set(es.copy(), tmp_path / "b.nkg")
    assert (tmp_path / "a.nkg").read_bytes() == (tmp_path / "b.nkg").read_bytes()
    # and after a load / save cycle
    save_expression_set(load_expression_set(tmp_path / "a.nkg"), tmp_path / "c.nkg")
    assert (tmp_path / "a.nkg").read_bytes() == (tmp_path / "c.nkg").read_bytes()


@pytest.mark.parametrize("name", ["version_0_5_hexel.nkg", "version_0_5_sensor.nkg"])
def test_resaving_a_reference_file_gives_the_same_members(name):
    """Our writer produces the reference's member list, order and text members for the same content."""
    original = (NKG_FIXTURES_DIR / name).read_bytes()
    resaved = _save_bytes(_load_bytes(original))
    ours, theirs = _members(resaved), _members(original)
    assert [n for n, _ in ours] == [n for n, _ in theirs]
    for (name_ours, bytes_ours), (_, bytes_theirs) in zip(ours, theirs, strict=True):
        assert bytes_ours == bytes_theirs, name_ours


def test_resaving_an_old_reference_file_upgrades_it(tmp_path):
    with pytest.warns(UserWarning, match="re-saving"):
        es = load_expression_set(NKG_FIXTURES_DIR / "many_functions.nkg")
    save_expression_set(es, tmp_path / "new.nkg")
    assert file_version(tmp_path / "new.nkg") == (0, 5)
    assert load_expression_set(tmp_path / "new.nkg") == es


def test_deflate_compression_is_readable():
    es = make_sensor_set()
    payload = _save_bytes(es, compression=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(io.BytesIO(payload)) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}
    assert _load_bytes(payload) == es


# --- provenance ----------------------------------------------------------------------------------


def test_provenance_is_stored_sorted_and_read_back(tmp_path):
    es = make_sensor_set()
    provenance = {"tool": "kymata-core", "params": {"n_derangements": 5, "seed": 1}, "alpha": [1, 2]}
    path = tmp_path / "p.nkg"
    save_expression_set(es, path, provenance=provenance)
    assert read_provenance(path) == provenance
    members = dict(_members(path.read_bytes()))
    text = members["_metadata/provenance.json"].decode()
    assert text.index('"alpha"') < text.index('"params"') < text.index('"tool"')
    assert load_expression_set(path) == es
    assert _save_bytes(es, provenance=dict(reversed(provenance.items()))) == path.read_bytes()


def test_no_provenance_reads_none(tmp_path):
    save_expression_set(make_sensor_set(), tmp_path / "n.nkg")
    assert read_provenance(tmp_path / "n.nkg") is None


def test_unserialisable_provenance_is_refused(tmp_path):
    with pytest.raises(TypeError, match="JSON"):
        save_expression_set(make_sensor_set(), tmp_path / "x.nkg", provenance={"f": object()})
    assert not (tmp_path / "x.nkg").exists()


# --- overwrite and atomic writes ------------------------------------------------------------------


def test_refuses_to_overwrite_unless_asked(tmp_path):
    path = tmp_path / "x.nkg"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="x.nkg"):
        save_expression_set(make_sensor_set(), path)
    assert path.read_bytes() == b"precious"
    save_expression_set(make_sensor_set(), path, overwrite=True)
    assert load_expression_set(path) == make_sensor_set()


def test_failure_mid_save_leaves_nothing(tmp_path, monkeypatch):
    def failing_write(f, members, compression):
        f.write(b"PK half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(nkg, "_write_zip", failing_write)
    with pytest.raises(OSError, match="disk full"):
        save_expression_set(make_sensor_set(), tmp_path / "x.nkg")
    assert os.listdir(tmp_path) == []


def test_failure_mid_overwrite_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "x.nkg"
    save_expression_set(make_sensor_set(seed=1), path)
    before = path.read_bytes()
    monkeypatch.setattr(nkg, "_write_zip", lambda f, m, c: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        save_expression_set(make_sensor_set(seed=2), path, overwrite=True)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["x.nkg"]


def test_open_file_is_written_directly(tmp_path):
    path = tmp_path / "f.nkg"
    with path.open("wb") as f:
        save_expression_set(make_sensor_set(), f)
    assert load_expression_set(path) == make_sensor_set()


def test_bad_arguments():
    with pytest.raises(TypeError):
        save_expression_set("not a set", io.BytesIO())
    with pytest.raises(TypeError):
        save_expression_set(make_sensor_set(), 42)
    with pytest.raises(FileNotFoundError):
        load_expression_set("/nonexistent/dir/x.nkg")


# --- safe reading: every malformed case is an NkgFormatError naming the file -------------------


def _valid_members(kind="sensor") -> list[tuple[str, bytes]]:
    es = make_sensor_set(seed=5) if kind == "sensor" else make_hexel_set(seed=5, n=4)
    return _members(_save_bytes(es))


def _with(members, name, payload=None, remove=False):
    out = []
    for n, b in members:
        if n == name:
            if remove:
                continue
            b = payload
        out.append((n, b))
    return out


def _coords_data(members, block="scalp"):
    m = dict(members)
    coords = np.frombuffer(m[f"/{block}/coo-coords.bytes"], dtype="<i8").reshape(3, -1).copy()
    data = np.frombuffer(m[f"/{block}/coo-data.bytes"], dtype="<f8").copy()
    return coords, data


def _malformed_cases():
    base = _valid_members()
    coords, data = _coords_data(base)
    n_lat = len(LATENCIES)
    out_of_range = coords.copy()
    out_of_range[0, -1] = 6
    negative = coords.copy()
    negative[1, 0] = -1
    duplicated = np.concatenate([coords, coords[:, :1]], axis=1)
    zero_bomb = (1000 * 1000 * 8) * b"\0"
    old = _with(base, "_metadata/format-version.txt", b"0.3")
    old = [
        (n.replace("/transforms.txt", "/functions.txt").replace("/blocks.txt", "/layers.txt"), b)
        for n, b in old
    ]
    old = [(n.replace("/scalp/channels.txt", "/channels.txt"), b) for n, b in old if n != "/layout.txt"]
    cases = {
        "unknown version": (_with(base, "_metadata/format-version.txt", b"0.9"), "unknown format version"),
        "empty version": (_with(base, "_metadata/format-version.txt", b""), "unknown format version"),
        "unknown type": (
            _with(base, "_metadata/expression-set-type.txt", b"volume"),
            "unknown expression set type",
        ),
        "wrong blocks": (_with(base, "/blocks.txt", b"left\nright"), "blocks"),
        "coords not multiple of 24": (
            _with(base, "/scalp/coo-coords.bytes", coords.tobytes() + b"\0" * 8),
            "multiple of 24",
        ),
        "coords disagree with data": (
            _with(base, "/scalp/coo-data.bytes", data[:-1].tobytes()),
            "coordinates",
        ),
        "data not whole float64": (_with(base, "/scalp/coo-data.bytes", data.tobytes()[:-3]), "float64"),
        "coords outside shape": (_with(base, "/scalp/coo-coords.bytes", out_of_range.tobytes()), "outside"),
        "negative coords": (_with(base, "/scalp/coo-coords.bytes", negative.tobytes()), "outside"),
        "duplicate coords": (
            _with(
                _with(base, "/scalp/coo-coords.bytes", duplicated.tobytes()),
                "/scalp/coo-data.bytes",
                np.append(data, data[0]).tobytes(),
            ),
            "twice",
        ),
        "shape vs channels": (_with(base, "/scalp/coo-shape.txt", f"7\n{n_lat}\n2".encode()), "channels"),
        "shape vs latencies": (
            _with(base, "/scalp/coo-shape.txt", f"6\n{n_lat + 1}\n2".encode()),
            "latencies",
        ),
        "shape vs transforms": (_with(base, "/scalp/coo-shape.txt", f"6\n{n_lat}\n3".encode()), "names"),
        "shape not integers": (_with(base, "/scalp/coo-shape.txt", b"6\nmany\n2"), "non-integer"),
        "shape four lines": (_with(base, "/scalp/coo-shape.txt", f"6\n{n_lat}\n2\n1".encode()), "3 lines"),
        "huge shape": (_with(base, "/scalp/coo-shape.txt", b"9999999\n9999999\n999999"), "shape"),
        "negative shape": (_with(base, "/scalp/coo-shape.txt", f"-6\n{n_lat}\n2".encode()), "shape"),
        "duplicate transforms": (_with(base, "/transforms.txt", b"a\na"), "duplicate transform"),
        "empty transform name": (_with(base, "/transforms.txt", b"a\n"), "names"),
        "non-numeric latency": (
            _with(base, "/latencies.txt", b"\n".join([b"-0.2", b"soon"] + [b"1"] * (n_lat - 2))),
            "non-numeric",
        ),
        "decreasing latencies": (
            _with(
                base, "/latencies.txt", "\n".join(["0.5"] + [repr(float(x)) for x in LATENCIES[1:]]).encode()
            ),
            "increasing",
        ),
        "nan latency": (
            _with(
                base, "/latencies.txt", "\n".join(["nan"] + [repr(float(x)) for x in LATENCIES[1:]]).encode()
            ),
            "increasing",
        ),
        "duplicate channel": (
            _with(base, "/scalp/channels.txt", b"MEG0111\nMEG0111\nMEG0113\nMEG0121\nEEG001\nEEG002"),
            "twice",
        ),
        "bad layout": (_with(base, "/layout.txt", b"MEG:\tSQUIDmagic\nEEG:\tNone\n"), "layout"),
        "garbled layout": (_with(base, "/layout.txt", b"hello"), "layout"),
        "not utf-8": (_with(base, "/transforms.txt", b"\xff\xfe"), "UTF-8"),
        "zip bomb in data": (_with(base, "/scalp/coo-data.bytes", zero_bomb), "more than"),
        "zip bomb in channels": (_with(base, "/scalp/channels.txt", zero_bomb), "more than"),
        "zip bomb in version": (_with(base, "_metadata/format-version.txt", zero_bomb), "more than"),
    }
    for member in [n for n, _ in base if n != "/layout.txt"]:
        cases[f"missing {member}"] = (_with(base, member, remove=True), "missing member")
    hexel = _valid_members("hexel")
    cases["missing /right/channels.txt"] = (
        _with(hexel, "/right/channels.txt", remove=True),
        "missing member",
    )
    cases["hexel channel not integer"] = (_with(hexel, "/left/channels.txt", b"0\n1\nx\n3"), "non-numeric")
    return cases


MALFORMED = _malformed_cases()


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_file_is_refused(case, tmp_path):
    members, match = MALFORMED[case]
    path = tmp_path / "bad-file.nkg"
    path.write_bytes(zipfile_bytes(members, zipfile.ZIP_DEFLATED))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(NkgFormatError, match=match) as info:
            load_expression_set(path)
    assert str(path) in str(info.value)
    assert info.value.file == str(path)


def test_positive_values_load_as_the_reference_loads_them_with_a_warning_naming_the_file(tmp_path):
    """Files whose values are above 0 (log10 p above 0, or old files' p-values above 1) are not damaged: the
    reference loads them, keeping the values; so do we, warning once and naming the file."""
    from kymata_core.entities.expression import PositiveLogPWarning

    base = _valid_members()
    coords, data = _coords_data(base)
    path = tmp_path / "positive.nkg"
    path.write_bytes(zipfile_bytes(_with(base, "/scalp/coo-data.bytes", np.abs(data).tobytes()), zipfile.ZIP_DEFLATED))
    with pytest.warns(PositiveLogPWarning, match=str(path)):
        es = load_expression_set(path)
    loaded = es.coo("scalp")
    assert np.all(loaded.data > 0) and sorted(loaded.data.tolist()) == sorted(np.abs(data).tolist())


def test_the_base_of_the_malformed_cases_is_valid():
    assert _load_bytes(zipfile_bytes(_valid_members())) == make_sensor_set(seed=5)


@pytest.mark.parametrize("payload", [b"", b"hello, I am not a zip", b"PK\x03\x04" + b"\0" * 40])
def test_not_a_zip_is_refused(payload, tmp_path):
    path = tmp_path / "plain.nkg"
    path.write_bytes(payload)
    with pytest.raises(NkgFormatError, match="not a ZIP") as info:
        load_expression_set(path)
    assert "plain.nkg" in str(info.value)
    with pytest.raises(NkgFormatError):
        file_version(path)


def test_member_larger_than_its_header_says_is_refused(tmp_path):
    """A lying size field in the ZIP directory must not let a reader decompress without bound."""
    payload = bytearray(zipfile_bytes(_valid_members(), zipfile.ZIP_STORED))
    # shrink the declared uncompressed size of /latencies.txt in the central directory to 8 bytes
    name = b"/latencies.txt"
    central = payload.rfind(b"PK\x01\x02", 0, payload.rfind(name))
    assert payload[central + 46 : central + 46 + len(name)] == name
    payload[central + 24 : central + 28] = (8).to_bytes(4, "little")
    with pytest.raises(NkgFormatError):
        _load_bytes(bytes(payload))


def test_nkg_format_error_is_a_value_error():
    assert issubclass(NkgFormatError, ValueError)
    error = NkgFormatError("f.nkg", "broken")
    assert str(error) == "f.nkg: not a readable .nkg file: broken"


# --- the info command -------------------------------------------------------------------------------


def test_info_command(tmp_path, capsys):
    from kymata_core.cli import main

    es = make_sensor_set(seed=9)
    path = tmp_path / "i.nkg"
    save_expression_set(es, path, provenance={"seed": 9})
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "type: sensor" in out and "format version: 0.5" in out
    assert f"latencies: {len(LATENCIES)}" in out and "transforms: 2" in out
    best = min(range(es.coo("scalp").nnz), key=lambda i: es.coo("scalp").data[i])
    c, lat, t = es.coo("scalp").coords[:, best]
    top_line = next(line for line in out.splitlines() if line.strip().startswith(str(es.sensors[c])))
    assert f"{LATENCIES[lat]:.4f}" in top_line and es.transforms[t] in top_line
    assert f"{es.coo('scalp').data[best]:.3f}" in top_line
    assert sum(1 for line in out.splitlines() if line.startswith("  ") and "." in line and "-" in line) >= 5
    assert '"seed": 9' in out


def test_info_command_bad_file(tmp_path, capsys):
    from kymata_core.cli import main

    path = tmp_path / "bad.nkg"
    path.write_bytes(b"not a zip")
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.nkg" in err and "not a ZIP" in err


# --- sensor sides (an extra member the reference reader ignores) --------------------------------

SIDES_MEMBER = "_metadata/sensor-sides.tsv"
BLOCK = "scalp"


def make_sensor_set_with_sides(sides=None, seed=0) -> SensorExpressionSet:
    es = make_sensor_set(seed=seed, layout=SensorLayout(meg="Vectorview", eeg="Easycap"))
    sides = sides if sides is not None else {"EEG001": "left", "MEG0111": "left", "MEG0121": "midline"}
    return SensorExpressionSet(
        es.transforms, es.sensors, es.latencies, es.coo(BLOCK), es.sensor_layout, sensor_sides=sides
    )



def test_sensor_sides_round_trip(tmp_path):
    es = make_sensor_set_with_sides()
    save_expression_set(es, tmp_path / "sides.nkg")
    loaded = load_expression_set(tmp_path / "sides.nkg")
    assert loaded == es
    assert dict(loaded.sensor_sides) == {"MEG0111": "left", "MEG0121": "midline", "EEG001": "left"}


def test_sensor_sides_member_format_and_determinism():
    es = make_sensor_set_with_sides()
    payload = _save_bytes(es)
    assert payload == _save_bytes(make_sensor_set_with_sides())
    members = dict(_members(payload))
    # in the set's sensor order, tab-separated, no trailing newline
    assert members[SIDES_MEMBER] == b"MEG0111\tleft\nMEG0121\tmidline\nEEG001\tleft"


def test_sets_without_sides_are_written_as_before():
    """The sides member is the only difference; without sides the file has the reference's members only."""
    with_sides = _members(_save_bytes(make_sensor_set_with_sides()))
    plain = make_sensor_set(layout=SensorLayout(meg="Vectorview", eeg="Easycap"))
    without = _members(_save_bytes(plain))
    assert SIDES_MEMBER not in dict(without)
    assert [m for m in with_sides if m[0] != SIDES_MEMBER] == without
    assert _load_bytes(_save_bytes(plain)).sensor_sides is None


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"MEG0111\tup", "line 1 is not"),
        (b"MEG0111 left", "line 1 is not"),
        (b"MEG0111\tleft\nMEG9999\tright", "line 2 names a sensor not in the set: 'MEG9999'"),
        (b"MEG0111\tleft\nMEG0111\tleft", "line 2 gives sensor 'MEG0111' a side twice"),
        (b"MEG0111\t\xffleft", "not UTF-8"),
    ],
    ids=["unknown-side", "no-tab", "unknown-sensor", "duplicate", "bad-encoding"],
)
def test_damaged_sensor_sides_member_is_refused(payload, match, tmp_path):
    members = _members(_save_bytes(make_sensor_set_with_sides()))
    path = tmp_path / "damaged.nkg"
    path.write_bytes(zipfile_bytes(_with(members, SIDES_MEMBER, payload)))
    with pytest.raises(NkgFormatError, match=match) as info:
        load_expression_set(path)
    assert str(path) in str(info.value) and SIDES_MEMBER in str(info.value)


def test_sensor_sides_member_in_a_hexel_set_is_refused(tmp_path):
    members = _members(_save_bytes(make_hexel_set(n=4)))
    path = tmp_path / "hexel.nkg"
    path.write_bytes(zipfile_bytes([*members, (SIDES_MEMBER, b"0\tleft")]))
    with pytest.raises(NkgFormatError, match="sensor-sides.tsv is only for sensor sets") as info:
        load_expression_set(path)
    assert str(path) in str(info.value)
