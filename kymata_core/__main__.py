"""``python -m kymata_core``: the ``kymata-core`` command, run by the Python that imports it.

The workflow's rules call it this way, with the Python that runs Snakemake, so that no ``PATH``
set-up is needed on this machine or on a cluster's nodes.

Once the subcommand has returned, the process ends without the interpreter's teardown: with mne,
scipy and xarray loaded (some 1,700 modules), freeing their objects one by one takes about 0.4 s,
a fifth of a small gridsearch job, in each of a study's tens of thousands of jobs. Exit handlers
still run and the output streams are flushed first, and every output file is closed by then (each is
written under a temporary name and renamed into place). The ordinary exit is kept when other
threads are alive, when flushing fails, or when ``KYMATA_CORE_FULL_EXIT`` is set.
"""

import atexit
import os
import sys
import threading

from kymata_core.cli import main


def _exit_without_teardown(status: int) -> None:
    """Run the exit handlers, flush stdout and stderr and end the process; return if that is unsafe."""
    if os.environ.get("KYMATA_CORE_FULL_EXIT") or threading.active_count() > 1:
        return
    atexit._run_exitfuncs()  # logging.shutdown, temporary-directory finalizers, ...
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: let the ordinary exit report it
        return
    os._exit(status)


status = main()
_exit_without_teardown(status)
sys.exit(status)
