"""A study configuration against the workflow's JSON schema, with one error a user can act on.

``jsonschema`` reports a misspelt key inside ``gridsearch`` as a failure of the whole document,
and Snakemake's ``validate`` prints the entire schema after it. :func:`check_config` reports the
most relevant violation instead, as one :class:`~kymata_core.study.ConfigError` naming the config
key, what is wrong with it, and what is allowed there (the keys of that section, with the closest
match for a typo, or the values or type the key takes).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from kymata_core.study import ConfigError


def check_config(config: Mapping[str, Any], schema: str | os.PathLike | Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` for the most relevant way ``config`` breaks ``schema``.

    Parameters
    ----------
    config : mapping
        The configuration as loaded from YAML.
    schema : path or mapping
        The JSON schema (draft 2020-12), or the path of its YAML file.
    """
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    if not isinstance(schema, Mapping):
        schema = yaml.safe_load(Path(schema).read_text())
    error = best_match(Draft202012Validator(schema).iter_errors(dict(config)))
    if error is not None:
        raise ConfigError(_describe(error))


def _key(path: Any) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else "(top level)"


def _describe(error) -> str:
    where = _key(error.absolute_path)
    schema = error.schema
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = sorted(schema.get("properties", {}))
        unknown = [k for k in error.instance if k not in allowed]
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hints.append(f"'{key}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        prefix = "" if not error.absolute_path else f"{where}."
        return (
            f"config key '{prefix}{unknown[0] if unknown else '?'}' is not a known key: {', '.join(hints)} "
            f"{'is' if len(hints) == 1 else 'are'} not allowed in {where}; the keys allowed there are: "
            f"{', '.join(allowed)}"
        )
    if error.validator == "required":
        return f"config key '{where}': {error.message}"
    text = f"config key '{where}': {error.message}"
    if error.validator == "enum":
        text += f" (allowed: {', '.join(map(str, error.validator_value))})"
    description = schema.get("description") if isinstance(schema, Mapping) else None
    if description:
        text += f". {where.split('.')[-1]}: {' '.join(str(description).split())}"
    return text
