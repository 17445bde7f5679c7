"""Which recordings of an MNE file are analysed: the chosen condition and its repetitions.

An evoked file may hold several conditions (MNE's sample data: "Left Auditory", "Right
Auditory", ...), each an evoked with its own comment, and an epochs file several event types. The
Kymata design presents one stimulus several times, and each presentation is a *repetition* of the
same condition. So:

* evokeds with the same comment (or epochs of the same event type) are repetitions of that condition;
* ``condition`` (a name, or a list of names) chooses what is analysed; a list takes the named
  evokeds in its order, as repetitions of one stimulus (for files that name each presentation);
* with no ``condition``, a file whose evokeds all share one name is that condition's repetitions,
  and a file with differently named evokeds is refused, listing the names.

:func:`select_recordings` is the one rule, used by the readers and by the checks the workflow makes
on every participant's file (from its header, :mod:`kymata_core.io.emeg_shape`) before any job runs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from kymata_core.errors import KymataError

Condition = str | Sequence[str] | None


class ConditionError(KymataError, ValueError):
    """A condition that is not in the file, or a file whose conditions must be chosen from."""


def select_recordings(names: Sequence[str], condition: Condition, source: str | os.PathLike) -> list[int]:
    """Indices of the recordings (evokeds or epochs) that are the repetitions to analyse.

    Parameters
    ----------
    names : sequence of str
        Each recording's condition name (an evoked's comment, an epoch's event name), in file order.
    condition : str, sequence of str, or None
        What to analyse (see the module docstring).
    source : path-like
        The file, for the error messages.

    Returns
    -------
    list of int
        Indices into ``names``, in the order they are used as repetitions.

    Raises
    ------
    ConditionError
        A named condition is not in the file, or the file holds several differently named
        conditions and none was chosen. The message lists the file's conditions.
    """
    names = [str(n) for n in names]
    distinct = list(dict.fromkeys(names))
    if not names:
        raise ConditionError(f"{source}: holds no evoked data")
    if condition is None:
        if len(distinct) > 1:
            raise ConditionError(
                f"{source} holds {len(distinct)} different conditions {distinct}: choose what to analyse "
                "(emeg.condition in the config, --condition on the command line); recordings with the same "
                "name are taken as repetitions of one condition"
            )
        return list(range(len(names)))
    wanted = [condition] if isinstance(condition, str) else list(condition)
    if not wanted:
        raise ConditionError(f"{source}: an empty list of conditions selects nothing")
    chosen: list[int] = []
    for name in wanted:
        found = [i for i, n in enumerate(names) if n == name]
        if not found:
            raise ConditionError(f"{source} has no condition {name!r}; it holds {distinct}")
        chosen.extend(i for i in found if i not in chosen)
    return chosen


def condition_arg(values: Sequence[str] | None) -> Condition:
    """A ``--condition`` option given once is a condition name, given several times a list of names."""
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)


def describe_condition(condition: Condition) -> str:
    """The condition as words for logs and messages."""
    if condition is None:
        return "the file's only condition"
    if isinstance(condition, str):
        return f"condition {condition!r}"
    return f"conditions {list(condition)}"
