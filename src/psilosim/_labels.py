"""Matching a labelled input to the regions it is meant to describe, by label, never by position.

Every link that takes region-labelled arrays (BOLD, FC, a partition, a list of regions to read)
lines them up with :func:`align_regions`, so a mismatch is refused the same way everywhere: an
:class:`~psilosim.errors.InputError` that names the first few labels in question.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from .errors import InputError

#: Labels an error names before it says how many there are in all (enough to spot a typo or a
#: mix-up of parcellations without printing hundreds of names).
SHOWN_LABELS = 5


def align_regions(found: Iterable, wanted: Iterable, *, field: str, found_in: str, wanted_in: str,
                  subset: bool = False, hint: str = "") -> np.ndarray:
    """Positions in ``found`` of each label of ``wanted``, in ``wanted``'s order.

    Labels are compared as text (``str``), so a region table read from CSV matches an array
    labelled with numbers.

    Parameters
    ----------
    found
        Labels the input carries, in its own order.
    wanted
        Labels in the order the caller needs.
    field
        The input blamed by an error.
    found_in, wanted_in
        What the two label lists belong to, as a message names them (``"bold"``,
        ``"the region table"``).
    subset
        If true, ``found`` may hold labels that ``wanted`` does not (they are left out);
        otherwise both must list the same regions.
    hint
        A likely cause, appended to the error (``"is it of another parcellation?"``).

    Returns
    -------
    numpy.ndarray
        Integer positions ``order`` with ``found[order[k]] == wanted[k]`` (as text).

    Raises
    ------
    InputError
        On ``field``: a label listed twice on either side, a label of ``wanted`` that ``found``
        lacks, or (unless ``subset``) a label of ``found`` that ``wanted`` lacks.
    """
    found, wanted = [str(x) for x in found], [str(x) for x in wanted]
    for labels, owner in ((found, found_in), (wanted, wanted_in)):
        repeated = [label for label, count in Counter(labels).items() if count > 1]
        if repeated:
            raise InputError(field, f"{owner} lists region(s) {_few(repeated)} more than once")
    position, expected = {label: k for k, label in enumerate(found)}, set(wanted)
    absent = [label for label in wanted if label not in position]
    unknown = [] if subset else [label for label in found if label not in expected]
    if absent or unknown:
        problem = _mismatch(found, wanted, absent, unknown, found_in, wanted_in, subset)
        raise InputError(field, f"{problem}: {hint}" if hint else problem)
    return np.array([position[label] for label in wanted], dtype=int)


def _mismatch(found: list[str], wanted: list[str], absent: list[str], unknown: list[str],
              found_in: str, wanted_in: str, subset: bool) -> str:
    """The problem text: the count when it differs, then the labels of each side the other lacks."""
    if subset:
        return f"{found_in} lacks {_few(absent)}"
    if len(found) != len(wanted):
        head = f"has {len(found)} regions but {wanted_in} has {len(wanted)}; they must list the same regions"
    else:
        head = f"region labels do not match {wanted_in} (they must list the same regions)"
    parts = [f"missing {_few(absent)}"] if absent else []
    parts += [f"unknown {_few(unknown)}"] if unknown else []
    return f"{head}: {', '.join(parts)}"


def _few(labels: list[str]) -> str:
    shown = repr(labels[:SHOWN_LABELS])
    return shown if len(labels) <= SHOWN_LABELS else f"{shown[:-1]}, …] ({len(labels)} in all)"


__all__ = ["SHOWN_LABELS", "align_regions"]
