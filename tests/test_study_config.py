"""The study configuration: schema validation and :class:`kymata_core.study.Study`, tested in-process.

The workflow validates its config with ``snakemake.utils.validate`` (the JSON schema, defaults filled
in) and then builds a ``Study``; this does the same without Snakemake, so that many configurations,
including random ones, can be tried quickly. Only ``jsonschema.ValidationError`` and ``ConfigError``
may come out of a bad configuration.
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import mne
import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kymata_core.simulate import DEMO_SPEC
from kymata_core.study import GROUP, ConfigError, Study

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
DEFAULT_CONFIG = yaml.safe_load((REPO / "config/config.yaml").read_text())


def _with_defaults(validator_class):
    """A validator that fills in schema defaults, as snakemake.utils.validate does."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


Validator = _with_defaults(jsonschema.Draft202012Validator)


def study_of(user: dict, check_files: bool = True) -> Study:
    """The Study of a user's config file, as the workflow builds it: the schema's defaults, nothing else."""
    config = copy.deepcopy(user)
    Validator(SCHEMA).validate(config)
    return Study.from_config(config, check_files=check_files)


def write_recordings(data: Path, participants, seconds: float = 7.0, rate: float = 200.0) -> None:
    """Small real MNE files: an evoked with two channels and a two-vertex-a-side source estimate."""
    n_times = int(seconds * rate)
    info = mne.create_info(["MEG0111", "EEG001"], rate, ["mag", "eeg"])
    rng = np.random.default_rng(0)
    for p in participants:
        mne.EvokedArray(rng.standard_normal((2, n_times)), info, tmin=-0.2, comment="stimulus", verbose="error").save(
            data / f"{p}-ave.fif", overwrite=True, verbose="error"
        )
        stc = mne.SourceEstimate(rng.standard_normal((4, n_times)), [np.arange(2), np.arange(2)], -0.2, 1 / rate)
        stc.save(data / p, ftype="stc", overwrite=True, verbose="error")


@pytest.fixture
def files_study(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    write_recordings(tmp_path / "data", ["p1", "p2"])
    np.save(tmp_path / "data/a.npy", np.zeros(1000))
    np.savez(tmp_path / "data/stim.npz", a=np.zeros(1000), b=np.ones(1000), sample_rate=np.array(200.0))
    return {
        "dataset": "files",
        "participants": ["p1", "p2"],
        "emeg": {"sensor": "data/{participant}-ave.fif", "source": "data/{participant}-lh.stc"},
        "transforms": {"sample_rate": 200, "files": {"a": "data/a.npy"}},
        "gridsearch": {"n_splits": 4},
        "ippm": {"hierarchy": {"input": [], "a": ["input"]}},
    }


def test_the_demo_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = study_of(DEFAULT_CONFIG)
    assert study.participants == DEMO_SPEC.participants
    assert list(study.transforms) == DEMO_SPEC.transforms
    assert study.all_participants == [*DEMO_SPEC.participants, GROUP]
    assert study.hierarchy == DEMO_SPEC.hierarchy
    assert study.denoisers == ["maxpool", "adaptive_maxpool"]
    assert study.truth == "demo-data/truth.json"


def test_a_files_study(files_study):
    study = study_of(files_study)
    assert study.participants == ["p1", "p2"]
    assert study.participant_emeg("p1", "source") == ["data/p1-lh.stc", "data/p1-rh.stc"]
    assert study.participant_emeg(GROUP, "sensor") == ["results/group/emeg/group-ave.fif"]
    assert study.transform_rate == 200.0


def test_transforms_from_an_npz(files_study):
    files_study["transforms"] = {"sample_rate": 200, "npz": "data/stim.npz"}
    assert study_of(files_study).transforms == {"a": "data/stim.npz", "b": "data/stim.npz"}
    files_study["transforms"]["names"] = ["b"]
    files_study["ippm"]["hierarchy"] = {"input": [], "b": ["input"]}
    assert study_of(files_study).transforms == {"b": "data/stim.npz"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(participants=["p1", "p3"]), "emeg.sensor: data/p3-ave.fif"),
        (lambda c: c["transforms"]["files"].update(b="data/b.npy"), "transforms.files.b: data/b.npy"),
        (lambda c: c.update(participants=["group"]), "'group' is reserved"),
        (lambda c: c.update(participants=["logs"]), "['logs'] are reserved"),
        (lambda c: c["ippm"].update(hierarchy={"input": [], "z": ["input"]}), "'ippm.hierarchy'"),
        (lambda c: c["ippm"].update(hierarchy={"a": ["nothing"]}), "['nothing']"),
        (lambda c: c.update(transforms={"sample_rate": 200, "npz": "data/stim.npz", "names": ["q"]}), "['q']"),
        (lambda c: c.update(transforms={"sample_rate": 200, "npz": "data/none.npz"}), "data/none.npz"),
        (lambda c: c.update(participants="missing.tsv"), "missing.tsv"),
        (lambda c: c.update(ippm={"denoisers": ["maxpool"]}), "denoisers: []"),
    ],
)
def test_each_mistake_is_one_config_error_naming_it(files_study, change, message):
    change(files_study)
    with pytest.raises(ConfigError) as error:
        study_of(files_study)
    assert message in str(error.value)


def test_names_that_cannot_be_file_names_or_shell_words_are_refused(files_study, tmp_path):
    """The schema checks names written in the config; names read from files are checked here."""
    np.savez(tmp_path / "data/odd.npz", **{"ok": np.zeros(1000), "TVL loudness (short-term)": np.ones(1000)})
    files_study["transforms"] = {"sample_rate": 200, "npz": "data/odd.npz"}
    files_study["ippm"] = {"denoisers": []}
    with pytest.raises(ConfigError, match=r"'transforms': \['TVL loudness \(short-term\)'\] cannot be used"):
        study_of(files_study)
    files_study["transforms"]["names"] = ["ok"]
    assert list(study_of(files_study).transforms) == ["ok"]

    (tmp_path / "participants.tsv").write_text("participant_id\tage\np1\t30\np.2\t31\n")
    files_study["participants"] = "participants.tsv"
    with pytest.raises(ConfigError, match=r"'participants': \['p.2'\] cannot be used"):
        study_of(files_study)


def test_group_average_off_frees_the_name(files_study):
    files_study["group_average"] = False
    study = study_of(files_study)
    assert GROUP not in study.all_participants


# --- property-based ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 500) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
KEYS = list(SCHEMA["properties"])
SUBKEYS = {
    key: list(SCHEMA["properties"][key].get("properties", {}))
    for key in KEYS
    if SCHEMA["properties"][key].get("type") == "object"
}


@st.composite
def mutated_configs(draw):
    config: dict = {}
    for _ in range(draw(st.integers(1, 4))):
        key = draw(st.sampled_from(KEYS + ["unknown_key"]))
        if key in SUBKEYS and SUBKEYS[key] and draw(st.booleans()):
            sub = draw(st.sampled_from(SUBKEYS[key] + ["unknown_subkey"]))
            config.setdefault(key, {})
            if isinstance(config[key], dict):
                config[key][sub] = draw(json_values)
        else:
            config[key] = draw(json_values)
    return config


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(user=mutated_configs())
def test_random_configs_give_only_documented_errors(files_study, user):
    base = copy.deepcopy(files_study)
    base.update(user)
    try:
        study = study_of(base)
    except (jsonschema.ValidationError, ConfigError):
        return
    assert study.participants and study.transforms and study.spaces
