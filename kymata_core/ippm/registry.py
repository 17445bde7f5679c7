"""The IPPM denoisers' names: the one list that every other list of them comes from or is checked against.

Each name maps to the name of its strategy class in :mod:`kymata_core.ippm.denoising_strategies`, whose
``DENOISERS`` (name → class) is built from this mapping. The module imports nothing, so the command
line (``kymata-core ippm --help``) and the workflow (its ``denoiser`` wildcard) read the names without
importing numpy or scikit-learn. Lists that cannot import Python, the config schema's enums
(``workflow/schemas/config.schema.yaml``), ``config/README.md`` and ``docs/ippm.md``, are checked
against it by ``tests/test_parameters.py``.

To add a denoiser: write its clusterer (:mod:`kymata_core.ippm.cluster`) and its strategy class, add it
here, and add its name where that test points.
"""

from __future__ import annotations

DENOISER_CLASSES: dict[str, str] = {
    "maxpool": "MaxPoolingStrategy",
    "adaptive_maxpool": "AdaptiveMaxPoolingStrategy",
    "dbscan": "DBSCANStrategy",
    "gmm": "GMMStrategy",
    "mean_shift": "MeanShiftStrategy",
}
"""Denoiser name (as in configs and on the command line) → strategy class name."""

DENOISER_NAMES: tuple[str, ...] = tuple(DENOISER_CLASSES)
"""Every denoiser name, in the order the documentation lists them."""

DEFAULT_DENOISER = "maxpool"
"""The denoiser of :class:`~kymata_core.ippm.ippm.IPPM` and ``kymata-core ippm`` when none is named."""
