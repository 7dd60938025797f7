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

from functools import lru_cache
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, field_validator

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
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float
    unit: str = ""
    source: str
    kind: EvidenceKind
    note: str = ""
    low: float | None = None
    high: float | None = None

    @field_validator("unit")
    @classmethod
    def _unit_is_known(cls, unit: str) -> str:
        try:
            ureg.Unit(unit)
        except Exception as exc:  # pint raises several types; pydantic reports ValueError
            raise ValueError(f"unknown unit {unit!r} ({exc})") from None
        return unit

    @property
    def quantity(self):
        """The value as a pint quantity."""
        return Q_(self.value, self.unit)

    def to(self, unit: str) -> float:
        """Magnitude converted to ``unit`` (cached: parameters are immutable and pint is slow)."""
        return _converted(self.value, self.unit, unit)

    def with_value(self, value: float, *, source: str = "user override") -> Param:
        """A copy with a new value (in the same unit), marked as an override."""
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise ValueError(f"{value} {self.unit} is outside [{self.low}, {self.high}]")
        return self.model_copy(update={"value": float(value), "source": source, "kind": "override"})


@lru_cache(maxsize=4096)
def _converted(value: float, unit: str, target: str) -> float:
    return float(Q_(value, unit).to(target).magnitude)


class ParameterSet(BaseModel):
    """Base class for a model's parameters: immutable, cloneable, closed to unknown names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def replace(self, **changes: Any) -> Self:
        """A validated copy with some parameters changed.

        Values may be :class:`Param` objects, nested :class:`ParameterSet` objects, or bare numbers
        (taken in the parameter's own unit and marked ``kind="override"``).
        """
        unknown = set(changes) - set(type(self).model_fields)
        if unknown:
            raise KeyError(
                f"{type(self).__name__} has no parameter(s) {sorted(unknown)}; "
                f"known: {sorted(type(self).model_fields)}"
            )
        update: dict[str, Any] = {}
        for name, new in changes.items():
            old = getattr(self, name)
            if isinstance(old, Param) and isinstance(new, (int, float)):
                update[name] = old.with_value(float(new))
            else:
                update[name] = new
        return type(self).model_validate({**self.__dict__, **update})

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
