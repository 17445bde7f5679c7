"""The project's error base: errors about the user's input, which the ``kymata-core`` command reports as one line.

Raise a :class:`KymataError` (or a subclass) for a problem the user can fix from the message alone: a bad
option, a damaged or foreign input file, a configuration that cannot work. The command prints such an
error as ``kymata-core COMMAND: error: MESSAGE`` and exits with status 2. Any other exception is a bug,
and the command lets it show its traceback.

The subclasses that replace a ``ValueError`` (:class:`UsageError`, ``ConfigError``, ``NkgFormatError``,
...) derive from ``ValueError`` as well, so that code catching ``ValueError`` keeps working.
"""

from __future__ import annotations


class KymataError(Exception):
    """An error about the user's input (options, files, configuration) that the CLI reports as one clear line."""


class UsageError(KymataError, ValueError):
    """A value the user gave (a command-line option, a function argument, a parameter file) that cannot be used."""


class InputFileError(KymataError, ValueError):
    """An input file that cannot be read as what it should be, or whose contents cannot be used; names the file."""
