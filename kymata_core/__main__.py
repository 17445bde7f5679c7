"""``python -m kymata_core``: the ``kymata-core`` command, run by the Python that imports it.

The workflow's rules call it this way, with the Python that runs Snakemake, so that no ``PATH``
set-up is needed on this machine or on a cluster's nodes.
"""

import sys

from kymata_core.cli import main

sys.exit(main())
