"""kymata_core: the library behind the kymata-pipeline workflow.

Maps stimulus transforms to MEG/EEG data with the Kymata gridsearch, stores the evidence as
ExpressionSets in ``.nkg`` files, and builds Information Processing Pathway Maps (IPPMs).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kymata-pipeline")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
