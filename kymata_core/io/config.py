"""Reading and editing YAML configuration files, and finding the data root directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

import yaml

from kymata_core.io.atomic import write_text_atomic

PathType = str | os.PathLike
FileType = IO

DATA_ROOT_ENV_VAR = "KYMATA_DATA_ROOT"
DATA_DIR_NAME = "kymata-core-data"
STUDY_DATA_DIR_NAME = "emeg_study_data"
CBU_ROOT = "/imaging/projects/cbu/kymata/data/"
CBU_LOCAL_ROOT = "//cbsu/data/imaging/projects/cbu/kymata/data/"
_CBU_ROOTS = {"cbu": CBU_ROOT, "cbu-local": CBU_LOCAL_ROOT}


def load_config(config_location: PathType | FileType) -> dict:
    """Load configuration parameters from a YAML file (a path or an open file).

    Returns
    -------
    dict
        The parameters; an empty file gives ``{}``.

    Raises
    ------
    FileNotFoundError
        If the path does not exist.
    yaml.YAMLError
        If the file is not valid YAML.
    ValueError
        If the YAML document is not a mapping.
    """
    if hasattr(config_location, "read"):
        config = yaml.safe_load(config_location)
        label = getattr(config_location, "name", "<config file>")
    else:
        path = Path(config_location)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: configuration file not found")
        with path.open(encoding="utf-8") as f:
            config = yaml.safe_load(f)
        label = str(path)
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ValueError(
            f"{label}: a configuration file must hold a YAML mapping, found {type(config).__name__}"
        )
    return config


def modify_param_config(config_location: PathType, key: str, value: Any) -> None:
    """Set ``key`` to ``value`` in a YAML configuration file, keeping the order of the other keys.

    The file is rewritten atomically (``yaml.safe_dump`` with ``sort_keys=False``); comments are
    not kept. A new key is appended at the end.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    yaml.YAMLError
        If the file is not valid YAML, or ``value`` cannot be represented safely.
    """
    path = Path(config_location)
    config = load_config(path)
    config[key] = value
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, default_flow_style=False)
    write_text_atomic(path, text, overwrite=True)


def get_root_dir(config: dict) -> str:
    """The data root directory named by ``config["data_location"]``, as kymata-core names them.

    * ``"local"``: the ``emeg_study_data`` folder of the data root, with a trailing separator.
      The data root is ``$KYMATA_DATA_ROOT`` when set; otherwise the first existing
      ``kymata-core-data`` folder in the working directory, ``~/Documents`` or ``~``; otherwise
      ``kymata-core-data`` in the working directory (not created here).
    * ``"cbu"``: ``/imaging/projects/cbu/kymata/data/``, the CBU imaging share.
    * ``"cbu-local"``: ``//cbsu/data/imaging/projects/cbu/kymata/data/``, the same share seen
      from a CBU workstation.

    ``config["data_locations"]`` (optional, not in kymata-core) maps location names to
    directories; a name given there takes that directory instead, and new names may be added.

    Parameters
    ----------
    config : dict
        The configuration, holding ``data_location``.

    Returns
    -------
    str
        The root directory.

    Raises
    ------
    KeyError
        If the config has no ``data_location``.
    ValueError
        If ``data_location`` is not ``local``, ``cbu``, ``cbu-local`` or a name in
        ``data_locations`` (the message lists the names allowed).
    """
    if "data_location" not in config:
        raise KeyError("the configuration has no 'data_location' key")
    locations = _named_locations(config)
    name = config["data_location"]
    if name in locations:
        return str(locations[name])
    if name == "local":
        return os.path.join(_data_root(), STUDY_DATA_DIR_NAME, "")
    if name in _CBU_ROOTS:
        return _CBU_ROOTS[name]
    allowed = sorted({"local", *_CBU_ROOTS, *map(str, locations)})
    raise ValueError(f"unknown data_location {name!r}; allowed values: {', '.join(allowed)}")


def _named_locations(config: dict) -> dict:
    locations = config.get("data_locations") or {}
    if not isinstance(locations, dict):
        raise ValueError(f"'data_locations' must map names to directories, got {type(locations).__name__}")
    return locations


def _data_root() -> str:
    """``$KYMATA_DATA_ROOT``, else the first existing default data folder, else the one in the working directory."""
    from_env = os.environ.get(DATA_ROOT_ENV_VAR)
    if from_env:
        return from_env
    candidates = [
        Path.cwd() / DATA_DIR_NAME,
        Path.home() / "Documents" / DATA_DIR_NAME,
        Path.home() / DATA_DIR_NAME,
    ]
    return str(next((c for c in candidates if c.is_dir()), candidates[0]))
