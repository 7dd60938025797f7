"""Objects that cannot be changed once built: :class:`Frozen`.

A model derives values from its inputs when it is built (a DMF's kernel constants and FIC working
point from its parameters, a rewiring model's rigid structure from its connectome). Assigning a new
input afterwards would leave those derived values stale, a misspelt attribute would be silently
created, and a model shared by a cache (:func:`psilosim.rewiring.model_for`) would carry one
caller's change into every later caller's results. A :class:`Frozen` object therefore refuses
attribute assignment and deletion once its ``__init__`` has returned: to change an input, build a
new object.

Caches a class fills lazily stay possible: :func:`functools.cached_property` stores its value
without going through ``__setattr__``, and a dict attribute can still be filled in place.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import numpy as np

#: Instance attribute set (bypassing ``__setattr__``) when construction has finished.
_BUILT = "_frozen_after_init"


class _FreezesAfterInit(type):
    """Metaclass: freezes an instance when the outermost ``__init__`` (a subclass's too) returns."""

    def __call__(cls, *args, **kwargs):
        instance = super().__call__(*args, **kwargs)
        object.__setattr__(instance, _BUILT, True)
        return instance


class Frozen(metaclass=_FreezesAfterInit):
    """Mixin: attributes are set in ``__init__`` only; afterwards assignment and deletion raise.

    Raises
    ------
    dataclasses.FrozenInstanceError
        (an ``AttributeError``, as a frozen dataclass raises) naming the class and attribute and
        saying to build a new object.
    """

    __slots__ = ()

    def __setattr__(self, name: str, value) -> None:
        if getattr(self, _BUILT, False):
            raise FrozenInstanceError(_refusal(self, f"cannot set attribute {name!r}"))
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if getattr(self, _BUILT, False):
            raise FrozenInstanceError(_refusal(self, f"cannot delete attribute {name!r}"))
        super().__delattr__(name)


def _refusal(instance: Frozen, what: str) -> str:
    cls = type(instance).__name__
    return (f"{cls} cannot be changed after it is built ({what}): its derived values would go stale; "
            f"build a new {cls}(...) with the inputs you want instead")


def read_only(array: np.ndarray) -> np.ndarray:
    """``array`` with writing disabled, so an object that shares it (a cached model) cannot be
    changed in place either; returns the same array."""
    array.flags.writeable = False
    return array
