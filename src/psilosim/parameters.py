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

A set may declare the unit each parameter is kept in (:attr:`ParameterSet.canonical_units`): a
parameter given in another unit of the same dimension (``26 L/min``, ``100 %``) is converted to it
when the set is validated, so a model may read ``.value``; one of another dimension (a clearance in
``L``, or with no unit) is an :class:`~psilosim.errors.InputError` naming the parameter.
:attr:`ParameterSet.unit_dimensions` checks the dimension only, for a parameter whose unit is part
of its meaning (a dose in mg or in mg/kg).

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
from typing import Any, ClassVar, Literal, Self

import pint
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from .errors import InputError
from .units import Q_, is_mass_ratio, ureg

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
            if not _same_dimension(str(value.units), self.unit):  # mg/kg for a fraction: not 1e-4
                raise InputError(field, f"{value:~} cannot be converted to {self.unit or 'a dimensionless number'}")
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


def _unit_of(item: Any) -> str | None:
    """The unit of a :class:`Param` or of a mapping that describes one (``""`` when it names
    none); ``None`` when ``item`` is neither or its unit is not one pint knows (the Param's own
    validation reports that)."""
    if isinstance(item, Param):
        return item.unit
    if not isinstance(item, dict) or not isinstance(item.get("unit", ""), str):
        return None
    unit = item.get("unit", "")
    try:
        ureg.Unit(unit)
    except Exception:  # pint raises several types
        return None
    return unit


def _same_dimension(unit: str, example: str) -> bool:
    # mg/kg is a dose per body mass, not any dimensionless number, and the other way round: a
    # fraction given as "100 mg/kg" would silently become 1e-4
    if is_mass_ratio(Q_(1.0, example)) or is_mass_ratio(Q_(1.0, unit)):
        return is_mass_ratio(Q_(1.0, example)) and is_mass_ratio(Q_(1.0, unit))
    return ureg.Unit(unit).dimensionality == ureg.Unit(example).dimensionality


def _dimension_words(example: str) -> str:
    if is_mass_ratio(Q_(1.0, example)):
        return "a mass per mass"
    dimension = str(ureg.Unit(example).dimensionality)
    return _DIMENSION_WORDS.get(dimension, f"a quantity of dimension {dimension}")


def _unit_problem(unit: str, examples: tuple[str, ...]) -> str:
    """``"'L' is not a volume per time (e.g. L/h)"``; ``"no unit given: ..."`` for a missing one."""
    words = " or ".join(dict.fromkeys(_dimension_words(e) for e in examples))
    shown = " or ".join(e if e else "a plain number, or %" for e in examples)
    if not unit:
        return f"no unit given: expected {words} (e.g. {shown})"
    return f"{unit!r} is not {words} (e.g. {shown})"


def _in_unit(item: Any, canonical: str, field: str) -> Any:
    """A Param (or its mapping) converted to ``canonical``; left as it is when it is not one or is
    already in that unit (pydantic then reports a malformed one)."""
    unit = _unit_of(item)
    if unit is None or unit == canonical:
        return item
    if not _same_dimension(unit, canonical):
        raise InputError(field, _unit_problem(unit, (canonical,)))
    fields = item.model_dump() if isinstance(item, Param) else dict(item)
    try:
        given = float(fields["value"])
    except (KeyError, TypeError, ValueError):
        return item
    fields.update(value=_converted(given, unit, canonical), unit=canonical,
                  note="; ".join(n for n in (fields.get("note", ""), f"given as {given:g} {unit}") if n))
    for bound in ("low", "high"):
        if fields.get(bound) is not None:
            fields[bound] = _converted(float(fields[bound]), unit, canonical)
    return Param.model_validate(fields) if isinstance(item, Param) else fields


@lru_cache(maxsize=4096)
def _converted(value: float, unit: str, target: str) -> float:
    return float(Q_(value, unit).to(target).magnitude)


#: What a dimension is called in a message about a unit (pint dimensionality -> words).
_DIMENSION_WORDS = {
    "[length] ** 3 / [time]": "a volume per time",
    "[length] ** 3": "a volume",
    "1 / [time]": "a rate (per time)",
    "[time]": "a time",
    "[mass]": "a mass",
    "[mass] / [substance]": "a molar mass",
    "[mass] / [length] ** 3": "a mass concentration",
    "[substance] / [length] ** 3": "a molar concentration",
    "dimensionless": "a dimensionless number",
}


class ParameterSet(BaseModel):
    """Base class for a model's parameters: immutable, cloneable, closed to unknown names.

    A subclass declares units in two optional class attributes (see the module docstring):
    :attr:`canonical_units` (converted to) and :attr:`unit_dimensions` (checked only).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The unit each named parameter is kept in (``{"clearance": "L/h", "bioavailability": ""}``).
    #: A parameter in another unit of the same dimension is converted to it (``note`` records what
    #: was given); one of another dimension, or a dimensional one given without a unit, is refused.
    canonical_units: ClassVar[dict[str, str]] = {}
    #: Example units of the dimensions a parameter may have, checked but not converted
    #: (``{"max_studied_dose": ("mg", "mg/kg")}``; a mass ratio example admits mass ratios only).
    unit_dimensions: ClassVar[dict[str, tuple[str, ...]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _declared_units(cls, data: Any) -> Any:
        return cls.in_declared_units(data)

    @classmethod
    def in_declared_units(cls, data: Any) -> Any:
        """``data`` (the mapping a set is validated from) with each parameter of
        :attr:`canonical_units` converted to its unit and each of :attr:`unit_dimensions` checked.

        Raises
        ------
        InputError
            Naming the parameter, when its unit has another dimension or is missing.
        """
        if not isinstance(data, dict) or not (cls.canonical_units or cls.unit_dimensions):
            return data
        data = dict(data)
        for name, unit in cls.canonical_units.items():
            if data.get(name) is not None:
                data[name] = _in_unit(data[name], unit, name)
        for name, examples in cls.unit_dimensions.items():
            unit = _unit_of(data.get(name))
            if unit is not None and not any(_same_dimension(unit, e) for e in examples):
                raise InputError(name, _unit_problem(unit, examples))
        return data

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
            elif isinstance(old, Param) and isinstance(new, (Param, dict)) and self._keeps_unit(name):
                # The model reads an undeclared parameter in the unit it was written in, so a
                # replacement in another unit of the same dimension is converted to that unit.
                update[name] = _in_unit(new, old.unit, name)
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

    @classmethod
    def _keeps_unit(cls, name: str) -> bool:
        """Whether :meth:`replace` keeps ``name`` in its current unit: every parameter but those
        whose unit may legitimately change dimension (:attr:`unit_dimensions`) or is declared
        (:attr:`canonical_units`, converted by the set's own validation)."""
        return name not in cls.unit_dimensions and name not in cls.canonical_units

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


# ----------------------------------------------------------------------------- discovery
# Every parameter set the package defines, found by walking its modules (``psilosim params`` and
# the conformance suite both use this, so what a user can list is what the checks check).


def _candidates(value: Any) -> list[tuple[str, Any]]:
    """``value`` itself, or the items of a module-level dict / tuple / list (with their key)."""
    if isinstance(value, dict):
        return [(f"[{key!r}]", item) for key, item in value.items()]
    if isinstance(value, (list, tuple)):
        return [(f"[{i}]", item) for i, item in enumerate(value)]
    return [("", value)]


def import_all_modules() -> list:
    """Every psilosim module, imported (so that every module-level set and class exists)."""
    import importlib
    import pkgutil

    import psilosim

    return [importlib.import_module(info.name)
            for info in pkgutil.walk_packages(psilosim.__path__, "psilosim.")]


def _module_sets() -> dict[int, tuple[str, ParameterSet]]:
    """Module-level ParameterSets of every psilosim module, by identity.

    A set re-exported by several modules is named after the module that defines its class when
    that module holds it, else after the deepest module that does (``binding.params.EFFECT_PARAMS``
    rather than ``binding.EFFECT_PARAMS``).
    """
    found: dict[int, list[str]] = {}
    objects: dict[int, ParameterSet] = {}
    for module in import_all_modules():
        for name, value in vars(module).items():
            for suffix, item in _candidates(value):
                if isinstance(item, ParameterSet):
                    found.setdefault(id(item), []).append(f"{module.__name__}.{name}{suffix}")
                    objects[id(item)] = item
    out = {}
    for key, names in found.items():
        home = type(objects[key]).__module__
        names.sort(key=lambda n: (not n.startswith(home + "."), -n.count("."), n))
        out[key] = (names[0].removeprefix("psilosim."), objects[key])
    return out


def _compound_sets() -> dict[int, tuple[str, ParameterSet]]:
    """Every registered compound (its params() include PK per species and binding)."""
    from .compounds import get_compound, known_compounds

    return {id(c): (f"compound:{c.name}", c) for c in map(get_compound, known_compounds())}


def _species_builder_sets() -> dict[int, tuple[str, ParameterSet]]:
    """Cellular sets built per species by a function rather than held at module level."""
    from .plasticity import plasticity_params
    from .species import SPECIES
    from .synapses import spine_params

    out = {}
    for species in SPECIES:
        for link, build in (("plasticity", plasticity_params), ("spines", spine_params)):
            s = build(species)
            out[id(s)] = (f"{link}:{species}", s)
    return out


def all_parameter_sets() -> dict[str, ParameterSet]:
    """Every parameter set the package defines, by readable name, sorted and deduplicated by identity.

    Names: ``compound:<name>`` for each registered compound, ``plasticity:<species>`` and
    ``spines:<species>`` for the per-species cellular sets, else the module path of the
    module-level set (``network.bold.BALLOON``, ``species.SPECIES['mouse']``). Compounds come
    first so that the compound registry's own dict does not name them.
    """
    merged: dict[int, tuple[str, ParameterSet]] = {}
    for source in (_compound_sets(), _species_builder_sets(), _module_sets()):
        for key, entry in source.items():
            merged.setdefault(key, entry)
    return {name: s for name, s in sorted(merged.values(), key=lambda e: e[0])}


def parameter_rows(sets: dict[str, ParameterSet]) -> list[dict[str, Any]]:
    """One row per parameter of ``sets``: set, field (dotted), value, unit, kind, source, note.

    A field is named by the path a file of the set uses (a compound's PK parameters as
    ``species.human.sets.holze2023.clearance``, :meth:`psilosim.compounds.Compound.params`).
    """
    return [{"set": set_name, "field": row.pop("name"), **row}
            for set_name, s in sets.items() for row in s.table()]
