"""Typed, immutable, cited model parameters.

Every number a model uses is a :class:`Param`: a value with a unit, a source and the kind of
evidence behind it. Parameters are grouped in :class:`ParameterSet` subclasses (one per model), which
are frozen pydantic models that reject unknown names, so a typo never silently creates a new key::

    class OneCompartment(ParameterSet):
        clearance: Param
        volume: Param

    p = OneCompartment(
        clearance=Param(value=300.0, unit="L/h", source="Holze 2023, Table 2", kind="published"),
        volume=Param(value=500.0, unit="L", source="Otto 2025", kind="published"),
    )
    p.clearance.to("L/min")            # 5.0
    q = p.replace(clearance=250.0)     # a validated copy; the citation becomes "user override"

``kind`` records how a value was obtained:

``published``   read from a primary source (table or figure named in ``source``)
``secondary``   read in a secondary source (review, meta-analysis table): REFERENCES.md "(2°)"
``unverified``  commonly quoted, not found in a primary text
``derived``     computed from published values (``note`` says how)
``fitted``      fitted by psilosim to the data named in ``source`` (``note`` says which targets)
``assumed``     a modelling assumption with no direct measurement (``note`` says why)
``override``    set by a user for this run
"""

from __future__ import annotations

import difflib
import math
import numbers
from functools import lru_cache
from typing import Any, Literal, Self

import pint
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .errors import InputError
from .units import Q_, ureg

EvidenceKind = Literal[
    "published", "secondary", "unverified", "derived", "fitted", "assumed", "override"
]


class Param(BaseModel):
    """One model parameter: value, unit and provenance.

    Parameters
    ----------
    value
        Magnitude in ``unit``.
    unit
        A pint unit string (``"L/h"``, ``"ng/mL"``, ``"1/day"``); ``""`` for dimensionless.
    source
        Citation: paper with table or figure, or the derivation's inputs.
    kind
        Evidence kind, see the module docstring.
    note
        How the value was derived, fitted or why it was assumed.
    low, high
        Optional physiological bounds; :meth:`ParameterSet.replace` refuses values outside them.
    low_inclusive
        Whether ``low`` itself is allowed (``False`` for a quantity that must be positive: a
        clearance of zero is no clearance).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float
    unit: str = ""
    source: str
    kind: EvidenceKind
    note: str = ""
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True

    @field_validator("unit")
    @classmethod
    def _unit_is_known(cls, unit: str) -> str:
        try:
            ureg.Unit(unit)
        except Exception as exc:  # pint raises several types; pydantic reports ValueError
            raise ValueError(f"unknown unit {unit!r} ({exc})") from None
        return unit

    def __repr__(self) -> str:
        # Short: a ParameterSet as a default argument otherwise fills help() with every citation;
        # the source and note stay on the fields (and in every docs parameter table).
        unit = f" {self.unit}" if self.unit else ""
        return f"Param({self.value:g}{unit}, {self.kind})"

    @property
    def quantity(self):
        """The value as a pint quantity."""
        return Q_(self.value, self.unit)

    def to(self, unit: str) -> float:
        """Magnitude converted to ``unit`` (cached: parameters are immutable and pint is slow)."""
        return _converted(self.value, self.unit, unit)

    def with_value(self, value: float | str | pint.Quantity, *, source: str = "user override",
                   field: str = "value") -> Param:
        """A copy with a new value, marked as an override.

        ``value`` is a number in the parameter's own unit, or a quantity (``"14 days"``, a pint
        quantity) converted to it. Raises :class:`InputError` on ``field`` for a value that is not
        finite, has an incompatible unit or lies outside ``[low, high]``.
        """
        value = self._magnitude(value, field)
        if not math.isfinite(value):
            raise InputError(field, f"{value} is not a finite number")
        if self.outside(value):
            raise InputError(field, self.out_of_range(value))
        return self.model_copy(update={"value": value, "source": source, "kind": "override"})

    def outside(self, value: float) -> bool:
        """Whether ``value`` (in this parameter's unit) lies outside ``low``/``high``."""
        below = self.low is not None and (value < self.low if self.low_inclusive else value <= self.low)
        return below or (self.high is not None and value > self.high)

    def out_of_range(self, value: float) -> str:
        """Why ``value`` (in this parameter's unit) is refused: ``"2 is outside [0, 1]"``,
        ``"-1 h is outside the allowed range (>= 0 h)"``, ``"0 L/h ... (> 0 L/h)"``; an open end
        is not shown."""
        unit = f" {self.unit}" if self.unit else ""
        opening = "[" if self.low_inclusive else "("
        if self.low is not None and self.high is not None:
            return f"{value:g}{unit} is outside {opening}{self.low:g}, {self.high:g}]{unit}"
        allowed = (f"{'>=' if self.low_inclusive else '>'} {self.low:g}" if self.low is not None
                   else f"<= {self.high:g}")
        return f"{value:g}{unit} is outside the allowed range ({allowed}{unit})"

    def _magnitude(self, value: Any, field: str) -> float:
        """``value`` as a float in this parameter's unit (a bare number is already in it)."""
        if isinstance(value, numbers.Real) and not isinstance(value, bool):  # numpy scalars too
            return float(value)
        if isinstance(value, str):
            try:
                value = ureg.Quantity(value.strip())
            except Exception as exc:  # pint raises several unrelated exception types
                raise InputError(field, f"{value!r} is not a quantity with a unit ({exc})") from None
        if isinstance(value, pint.Quantity):
            try:
                return float(value.to(self.unit or "dimensionless").magnitude)
            except pint.DimensionalityError:
                raise InputError(field, f"{value:~} cannot be converted to {self.unit or 'a dimensionless number'}") \
                    from None
        raise InputError(field, f"expected a number in {self.unit or '1'} or a quantity such as "
                                f"'3 {self.unit or 'percent'}', got {value!r}")


class UnknownParameterError(InputError, KeyError):
    """A parameter name a set does not have (a ``KeyError`` too, for callers that caught one)."""

    __str__ = InputError.__str__


@lru_cache(maxsize=4096)
def _converted(value: float, unit: str, target: str) -> float:
    return float(Q_(value, unit).to(target).magnitude)


class ParameterSet(BaseModel):
    """Base class for a model's parameters: immutable, cloneable, closed to unknown names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def replace(self, **changes: Any) -> Self:
        """A validated copy with some parameters changed.

        Values may be :class:`Param` objects, nested :class:`ParameterSet` objects, bare numbers
        (taken in the parameter's own unit) or quantities (``"14 days"``, converted to it); numbers
        and quantities are marked ``kind="override"``.

        Raises
        ------
        UnknownParameterError
            (an :class:`InputError` and a ``KeyError``) naming an unknown name and the closest known one.
        InputError
            Naming the parameter, for a value outside its bounds, in an incompatible unit, or
            refused by the set's own checks.
        """
        known = list(type(self).model_fields)
        for name in changes:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise UnknownParameterError(
                    name, f"{type(self).__name__} has no parameter {name!r}; {hint}known: {', '.join(sorted(known))}")
        update: dict[str, Any] = {}
        for name, new in changes.items():
            old = getattr(self, name)
            if isinstance(old, Param) and not isinstance(new, (Param, dict, type(None))):
                update[name] = old.with_value(new, field=name)
            else:
                update[name] = new
        try:
            return type(self).model_validate({**self.__dict__, **update})
        except ValidationError as exc:
            err = exc.errors()[0]
            inner = err.get("ctx", {}).get("error")
            if isinstance(inner, InputError):  # a set's own check, already worded for a user
                raise InputError(inner.field, inner.problem) from None
            field = ".".join(str(part) for part in err["loc"]) or type(self).__name__
            raise InputError(field, err["msg"]) from None

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; ``update`` goes through the checks of :meth:`replace` (names, bounds, units),
        so a typo or an out-of-range number cannot slip into a parameter set."""
        copy = self.replace(**update) if update else self
        return super(ParameterSet, copy).model_copy(deep=deep)

    def overridden(self) -> list[str]:
        """Dotted names of the parameters a user changed (``kind="override"``, as :meth:`replace`
        marks them), in declaration order."""
        return [name for name, p in self.params().items() if p.kind == "override"]

    def labelled(self, base: str) -> str:
        """``base`` with the overridden parameters: ``"holze2023 (modified: clearance)"``, so a
        modified set is never reported as the published one."""
        changed = self.overridden()
        return base if not changed else f"{base} (modified: {', '.join(changed)})"

    def params(self, prefix: str = "") -> dict[str, Param]:
        """All parameters, flattened to dotted names."""
        out: dict[str, Param] = {}
        for name in type(self).model_fields:
            item = getattr(self, name)
            if isinstance(item, Param):
                out[prefix + name] = item
            elif isinstance(item, ParameterSet):
                out.update(item.params(prefix=f"{prefix}{name}."))
        return out

    def table(self) -> list[dict[str, Any]]:
        """Rows for a documentation table: name, value, unit, kind, source, note."""
        return [
            {"name": n, "value": p.value, "unit": p.unit, "kind": p.kind, "source": p.source,
             "note": p.note}
            for n, p in self.params().items()
        ]

    def markdown_table(self) -> str:
        """The parameter table as Markdown (used by the docs)."""
        lines = ["| parameter | value | unit | kind | source |", "|---|---|---|---|---|"]
        for row in self.table():
            src = row["source"] + (f" — {row['note']}" if row["note"] else "")
            lines.append(
                f"| `{row['name']}` | {row['value']:.4g} | {row['unit'] or '1'} | {row['kind']} | {src} |"
            )
        return "\n".join(lines)
