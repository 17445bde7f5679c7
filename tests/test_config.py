"""kymata_core.io.config: loading and editing YAML configs, and the data root."""

from __future__ import annotations

import io
import os

import pytest
import yaml

from kymata_core.io.config import get_root_dir, load_config, modify_param_config

CONFIG_TEXT = """\
data_location: local
dataset: demo
participants:
  - p01
  - p02
gridsearch:
  n_derangements: 5
  seconds_per_split: 0.5
"""


@pytest.fixture
def config_path(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG_TEXT)
    return path


def test_load_config_from_path_and_file(config_path):
    expected = {
        "data_location": "local",
        "dataset": "demo",
        "participants": ["p01", "p02"],
        "gridsearch": {"n_derangements": 5, "seconds_per_split": 0.5},
    }
    assert load_config(config_path) == expected
    assert load_config(str(config_path)) == expected
    assert load_config(io.StringIO(CONFIG_TEXT)) == expected


def test_load_config_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\nb: 3\n")
    with pytest.raises(yaml.YAMLError):
        load_config(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n")
    with pytest.raises(ValueError, match="mapping"):
        load_config(scalar)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_config(empty) == {}


def test_load_config_never_builds_python_objects(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("x: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(yaml.YAMLError):
        load_config(path)


def test_modify_param_config_keeps_key_order(config_path):
    modify_param_config(config_path, "dataset", "study-2")
    text = config_path.read_text()
    assert [line.split(":")[0] for line in text.splitlines() if line and line[0] not in " -"] == [
        "data_location",
        "dataset",
        "participants",
        "gridsearch",
    ]
    assert load_config(config_path)["dataset"] == "study-2"
    modify_param_config(config_path, "new_key", [1, 2])
    config = load_config(config_path)
    assert list(config) == ["data_location", "dataset", "participants", "gridsearch", "new_key"]
    assert config["new_key"] == [1, 2]
    assert config["gridsearch"] == {"n_derangements": 5, "seconds_per_split": 0.5}
    assert [p.name for p in config_path.parent.iterdir()] == ["config.yaml"]  # no temp file left


def test_modify_param_config_errors(tmp_path, config_path):
    with pytest.raises(FileNotFoundError):
        modify_param_config(tmp_path / "missing.yaml", "a", 1)
    assert not (tmp_path / "missing.yaml").exists()
    before = config_path.read_text()
    with pytest.raises(yaml.YAMLError):
        modify_param_config(config_path, "bad", object())
    assert config_path.read_text() == before


def test_get_root_dir_local_is_the_study_folder_of_the_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("KYMATA_DATA_ROOT", str(tmp_path / "root"))
    assert get_root_dir({"data_location": "local"}) == os.path.join(
        str(tmp_path / "root"), "emeg_study_data", ""
    )


def test_get_root_dir_local_without_the_variable_finds_or_names_kymata_core_data(monkeypatch, tmp_path):
    monkeypatch.delenv("KYMATA_DATA_ROOT", raising=False)
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    in_work = os.path.join(str(work / "kymata-core-data"), "emeg_study_data", "")
    assert get_root_dir({"data_location": "local"}) == in_work  # none exists: the working directory's
    assert not (work / "kymata-core-data").exists()  # and nothing is created
    (home / "Documents" / "kymata-core-data").mkdir(parents=True)
    in_documents = os.path.join(str(home / "Documents" / "kymata-core-data"), "emeg_study_data", "")
    assert get_root_dir({"data_location": "local"}) == in_documents
    (work / "kymata-core-data").mkdir()
    assert get_root_dir({"data_location": "local"}) == in_work  # the working directory's comes first


def test_get_root_dir_cbu_locations():
    assert get_root_dir({"data_location": "cbu"}) == "/imaging/projects/cbu/kymata/data/"
    assert get_root_dir({"data_location": "cbu-local"}) == "//cbsu/data/imaging/projects/cbu/kymata/data/"


def test_get_root_dir_named_locations(monkeypatch):
    monkeypatch.setenv("KYMATA_DATA_ROOT", "/env")
    config = {"data_location": "cbu", "data_locations": {"cbu": "/imaging/kymata", "local": "/mine"}}
    assert get_root_dir(config) == "/imaging/kymata"
    assert get_root_dir({**config, "data_location": "local"}) == "/mine"


def test_get_root_dir_unknown_location():
    with pytest.raises(ValueError, match=r"'elsewhere'.*cbu, cbu-local, local, mine$"):
        get_root_dir({"data_location": "elsewhere", "data_locations": {"mine": "/x"}})
    with pytest.raises(ValueError, match=r"'CBU'.*cbu, cbu-local, local$"):
        get_root_dir({"data_location": "CBU"})
    with pytest.raises(KeyError):
        get_root_dir({})


def test_get_root_dir_returns_str():
    assert isinstance(
        get_root_dir({"data_location": "x", "data_locations": {"x": os.path.join("a", "b")}}), str
    )
