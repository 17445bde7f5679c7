"""kymata_core: the library behind the kymata-pipeline workflow.

Maps stimulus transforms to MEG/EEG data with the Kymata gridsearch, stores the evidence as
ExpressionSets in ``.nkg`` files, and builds Information Processing Pathway Maps (IPPMs).
"""

# Written out rather than read from the installed metadata, so that a source tree that is not installed
# (a container's bind mount, a cluster node's PYTHONPATH) still reports it; it must equal pyproject.toml's
# version, which tests/test_packaging.py checks (docs/releasing.md).
__version__ = "0.2.0"
