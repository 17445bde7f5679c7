"""One home per parameter and name: the lists that cannot import :mod:`kymata_core.parameters` or
:mod:`kymata_core.ippm.registry` (the config schema, config/README.md, the docs) agree with them, and
the commands build their options from them.

* every gridsearch and IPPM parameter: the config schema's default, config/README.md's table and the
  command's option (a differing command default must say why);
* every list of denoiser names equals the registry, and docs/ippm-denoisers.md's defaults are the
  clusterers' (from which the strategies take theirs);
* the schema's name patterns accept and refuse the same names as the one rule of the library
  (:func:`kymata_core.study.invalid_names`), which the simulation's spec uses too.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import re
from pathlib import Path

import pytest
import yaml

from kymata_core.cli import build_parser
from kymata_core.ippm.denoising_strategies import DENOISERS
from kymata_core.ippm.registry import DENOISER_CLASSES, DENOISER_NAMES
from kymata_core.parameters import ALL, GRIDSEARCH, IPPM, SAME, UNSET, Parameter
from kymata_core.simulate import StudySpec
from kymata_core.study import NAME_PATTERN, invalid_names

REPO = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
README = (REPO / "config/README.md").read_text()
RULES = "\n".join(p.read_text() for p in sorted((REPO / "workflow/rules").glob("*.smk")))


def _readme_tables(text: str) -> dict[str, list[str]]:
    """Config key → the cells of its row, from every table of config/README.md.

    A key is the first backquoted word of the row's first cell, prefixed with the section's key
    (the backquoted word in its heading, ``## Gridsearch (`gridsearch`)``) unless it has a dot.
    """
    rows: dict[str, list[str]] = {}
    prefix = None
    for line in text.splitlines():
        if line.startswith("## "):
            heading = re.search(r"\(`([a-z_]+)`", line)
            prefix = heading.group(1) if heading else None
        elif line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            key = re.match(r"`([^`]+)`", cells[0]).group(1)
            if "." not in key and prefix:
                key = f"{prefix}.{key}"
            rows[key] = cells
    return rows


README_ROWS = _readme_tables(README)


def _readme_default(key: str):
    """The default column's first backquoted value (parsed as YAML), or UNSET when it has none."""
    cells = README_ROWS[key]
    found = re.search(r"`([^`]*)`", cells[2])
    return yaml.safe_load(found.group(1)) if found else UNSET


def _schema_node(key: str) -> dict:
    node = SCHEMA
    for part in key.split("."):
        node = node["properties"][part]
    return node


def _command_parser(command: str) -> argparse.ArgumentParser:
    parser = build_parser(command)
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices[command]


def _cli_options(command: str) -> dict[str, argparse.Action]:
    return {flag: action for action in _command_parser(command)._actions for flag in action.option_strings}


CLI = {"gridsearch": _cli_options("gridsearch"), "ippm": _cli_options("ippm")}


def _ids(parameter: Parameter) -> str:
    return parameter.config_key or parameter.name


# --- parameters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("section, table", [("gridsearch", GRIDSEARCH), ("ippm", IPPM)])
def test_every_config_key_of_the_section_has_one_entry(section, table):
    keys = [p.config_key for p in table if p.config_key.startswith(section + ".")]
    assert sorted(keys) == sorted(f"{section}.{k}" for k in SCHEMA["properties"][section]["properties"])
    assert sorted(keys) == sorted(k for k in README_ROWS if k.startswith(section + "."))
    assert len({p.name for p in ALL}) == len(ALL)


@pytest.mark.parametrize("parameter", ALL, ids=_ids)
def test_schema_and_readme_defaults_are_the_table_s(parameter):
    node = _schema_node(parameter.config_key)
    assert node.get("default", UNSET) == parameter.default
    assert _readme_default(parameter.config_key) == parameter.default


@pytest.mark.parametrize("parameter", [p for p in ALL if p.flag], ids=_ids)
def test_command_options_are_built_from_the_table(parameter):
    command = "gridsearch" if parameter in GRIDSEARCH else "ippm"
    action = CLI[command][parameter.flag]
    assert action.default == parameter.command_default
    if parameter.flag != "--denoiser":  # worded for one denoiser
        assert parameter.doc.replace("%", "%%") in action.help
    # the workflow passes it
    assert re.search(re.escape(parameter.flag) + r"\b", RULES), f"no rule passes {parameter.flag}"


@pytest.mark.parametrize("parameter", ALL, ids=_ids)
def test_a_differing_default_says_why(parameter):
    if parameter.cli_default is not SAME and parameter.cli_default != parameter.default:
        assert parameter.why, f"{parameter.name}: the command's default differs from the config's: say why"


def test_do_gridsearch_keeps_the_reference_defaults_and_the_table_says_so():
    from kymata_core.gridsearch.plain import do_gridsearch

    signature = inspect.signature(do_gridsearch).parameters
    for parameter in GRIDSEARCH:
        if parameter.name not in signature:
            continue
        given = signature[parameter.name].default
        if given is inspect.Parameter.empty or given != parameter.default:
            assert "do_gridsearch" in parameter.why, parameter.name
    assert signature["n_derangements"].default == 1  # the reference's


# --- denoiser names -------------------------------------------------------------------------------


def test_every_list_of_denoiser_names_is_the_registry():
    names = list(DENOISER_NAMES)
    assert list(DENOISERS) == names
    assert [cls.__name__ for cls in DENOISERS.values()] == list(DENOISER_CLASSES.values())
    ippm = SCHEMA["properties"]["ippm"]["properties"]
    assert ippm["denoisers"]["items"]["enum"] == names
    assert ippm["denoiser_params"]["propertyNames"]["enum"] == names
    assert re.findall(r"`([a-z_]+)`", README_ROWS["ippm.denoisers"][1]) == names
    docs_rows = re.findall(r"^\| `([a-z_]+)`(?: \(default\))? \| `(\w+)` \|", (REPO / "docs/ippm.md").read_text(), re.M)
    assert dict(docs_rows) == DENOISER_CLASSES
    assert [n for n in names if f"`{n}` |" in (REPO / "docs/ippm-denoisers.md").read_text()] == names
    assert f"one of {', '.join(names)}, or none" in _command_parser("ippm").epilog


@pytest.mark.parametrize("name", DENOISER_NAMES)
def test_strategies_take_their_clusterer_s_parameters_and_the_documented_defaults(name):
    strategy = DENOISERS[name]
    own = inspect.signature(strategy.clusterer_class).parameters
    parameters = inspect.signature(strategy).parameters
    for key, p in own.items():
        assert parameters[key].default == p.default
    row = next(line for line in (REPO / "docs/ippm-denoisers.md").read_text().splitlines()
               if line.startswith(f"| `{name}` |"))  # fmt: skip
    documented = dict(re.findall(r"`(\w+)=([^`]+)`", row))
    assert documented, row
    for key, value in documented.items():
        assert parameters[key].default == ast.literal_eval(value), (name, key)


# --- names ----------------------------------------------------------------------------------------

NAMES = ["p01", "sub-01", "P_1-b", "1", "_x", "x_", "-x", "a.b", "a/b", "", "a b", "über", ".hidden", "a:b"]


def _schema_accepts(pattern: str, name: str) -> bool:
    return re.search(pattern, name) is not None  # as jsonschema applies a pattern


@pytest.mark.parametrize(
    "where",
    [
        ("participants", lambda s: s["properties"]["participants"]["oneOf"][0]["items"]["pattern"]),
        ("transforms.files", lambda s: s["properties"]["transforms"]["properties"]["files"]["propertyNames"]["pattern"]),
        ("transforms.names", lambda s: s["properties"]["transforms"]["properties"]["names"]["items"]["pattern"]),
    ],
    ids=lambda w: w[0],
)
def test_schema_name_patterns_are_the_library_s_rule(where):
    pattern = where[1](SCHEMA)
    assert pattern == f"^{NAME_PATTERN}$"
    refused = invalid_names(NAMES)
    assert [n for n in NAMES if not _schema_accepts(pattern, n)] == refused
    assert set(refused) == {"-x", "a.b", "a/b", "", "a b", "über", ".hidden", "a:b"}


def test_the_simulation_spec_uses_the_same_rule():
    for name in NAMES:
        bad = bool(invalid_names([name]))
        try:
            StudySpec(participants=[name])
        except ValueError as e:
            assert bad and "cannot be used" in str(e), (name, e)
        else:
            assert not bad, name
