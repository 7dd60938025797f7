"""A virtual subject: species, body weight, co-medication, individual random effects."""

from __future__ import annotations

import zlib
from typing import Any, ClassVar

import numpy as np
from pydantic import ConfigDict, Field, field_validator, model_validator

from .._seeds import checked_seed  # its home before psilosim._seeds: still importable from here
from ..errors import InputError
from ..parameters import Param, ParameterSet
from ..regimen import RaisesInputError
from ..units import parse_quantity
from .interactions import COMEDICATIONS, enabled_interactions

#: Random-effect names (η on the log scale of the typical value).
ETA_NAMES = ("clearance", "volume", "absorption")


class BodyWeightLimits(ParameterSet):
    """The body weights a single subject of one species may have (bounds on input, not model constants).

    Each is a mass, kept in the unit given (messages show the weights in the unit of ``lightest``).
    """

    unit_dimensions: ClassVar[dict[str, tuple[str, ...]]] = {"lightest": ("kg",), "heaviest": ("kg",)}

    lightest: Param
    heaviest: Param


#: Plausible body weight per species; a weight outside is refused as most likely a unit slip.
#: The human range is wider than the one virtual trial patients are drawn in
#: (:func:`psilosim.clinical.patients.weight_range_kg`, 37.5–150 kg), which truncates a sampling
#: distribution: a single subject may be any real adult. A species without limits here (a user's
#: own PK family) is not checked.
SUBJECT_WEIGHT_LIMITS: dict[str, BodyWeightLimits] = {
    "human": BodyWeightLimits(
        lightest=Param(value=30.0, unit="kg", kind="assumed", source="psilosim (plausibility bound for an adult)",
                       note="the PK sets were fitted in adults; a lighter subject is a child, for whom none "
                            "applies, or a unit slip (grams for kilograms); a bound on input, not a model constant"),
        heaviest=Param(value=250.0, unit="kg", kind="assumed", source="psilosim (plausibility bound for an adult)",
                       note="above the weight of all but exceptional adults and far outside the PK studies; a "
                            "heavier weight is most likely a unit slip (pounds given as kilograms); a bound on "
                            "input, not a model constant"),
    ),
    "mouse": BodyWeightLimits(
        lightest=Param(value=10.0, unit="g", kind="assumed", source="psilosim (plausibility bound for a dosed mouse)",
                       note="below a weanling laboratory mouse (adults in the dosing studies weigh 20–35 g; "
                            "species default 25 g); a lighter weight is most likely a unit slip"),
        heaviest=Param(value=80.0, unit="g", kind="assumed", source="psilosim (plausibility bound for a dosed mouse)",
                       note="above even obese laboratory strains; a heavier weight is most likely a unit slip "
                            "(kilograms for grams); a bound on input, not a model constant"),
    ),
}


#: Who a weight below a species' lightest one would be, where psilosim does not model them: said
#: when such a weight is refused (the human PK sets were fitted in adults).
LIGHTER_THAN_MODELLED = {"human": "children are not modelled"}


def checked_body_weight(weight_kg: float | None, field: str, *,
                        species: str = "human") -> float | None:
    """``weight_kg`` if it lies within the species' :data:`SUBJECT_WEIGHT_LIMITS` (``None`` passes,
    and so does any weight of a species without limits).

    Raises
    ------
    InputError
        On ``field`` when the weight is outside the species' plausible range.
    """
    limits = SUBJECT_WEIGHT_LIMITS.get(str(species).strip().lower())
    if weight_kg is None or limits is None:
        return weight_kg
    low, high = limits.lightest.to("kg"), limits.heaviest.to("kg")
    if not low <= weight_kg <= high:
        unit = limits.lightest.unit
        shown = parse_quantity(f"{weight_kg} kg", field=field, expect="mass").to(unit).magnitude
        accepted = f"{limits.lightest.value:g}–{limits.heaviest.to(unit):g} {unit}"
        scope = LIGHTER_THAN_MODELLED.get(str(species).strip().lower()) if weight_kg < low else None
        raise InputError(field, f"{shown:g} {unit} is not a plausible {str(species).strip().lower()} body weight"
                                + (f": {scope} (adults {accepted})" if scope else f" (accepted: {accepted})"))
    return weight_kg


class Subject(RaisesInputError):
    """One individual.

    A bad field raises :class:`~psilosim.errors.InputError` naming it (``weight``,
    ``comedication``, a misspelt field name); like pydantic's ``ValidationError`` it is a
    ``ValueError``.

    Parameters
    ----------
    species
        Name of the PK parameter set family (``"human"``).
    weight
        Body weight: a string with a mass unit (``"70 kg"``, ``"30 g"``, ``"154 lb"``; a string
        without a unit is refused, as the CLI's ``--weight`` is) or a number of kg
        (``weight_kg=70`` is accepted too); stored as :attr:`weight_kg` (kg). It must lie within
        the species' :data:`SUBJECT_WEIGHT_LIMITS` (human 30–250 kg, mouse 10–80 g), else an
        :class:`~psilosim.errors.InputError` on ``weight`` (``"70 g"`` for a human is a unit
        slip). Needed for mg/kg doses. Without it a laboratory species gets its standard body
        weight (:func:`psilosim.species.default_weight_kg`, as a scenario's subject does); a human
        has none.
    comedication
        Flags from :data:`~psilosim.pharmacokinetics.interactions.COMEDICATIONS` (``"maoi"``,
        ``"ssri"``: a chronic SSRI that is not simulated explicitly).
    random_effects
        η by compound name, then by :data:`ETA_NAMES`; missing entries are 0 (typical subject).
        Names are case-insensitive; a simulation refuses a name that is not one of its compounds
        (aliases accepted).
    parameter_sets
        PK parameter set by compound name (default: the compound's default); names as for
        ``random_effects``.
    interactions
        Interaction mechanisms switched on/off by name (default: all on).
    ht2a_density
        The individual's 5-HT2A receptor density relative to the typical subject (1); it scales
        5-HT2A availability in both pools (activation and subjective effect), not occupancy.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    species: str = "human"
    weight_kg: float | None = Field(default=None, alias="weight")
    comedication: tuple[str, ...] = ()
    random_effects: dict[str, dict[str, float]] = {}
    parameter_sets: dict[str, str] = {}
    interactions: dict[str, bool] = {}
    ht2a_density: float = Field(default=1.0, gt=0.0)

    @model_validator(mode="after")
    def _plausible_weight(self) -> Subject:
        checked_body_weight(self.weight_kg, "weight", species=self.species)
        return self

    @model_validator(mode="before")
    @classmethod
    def _default_weight(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("weight_kg", data.get("weight")) is None:
            from ..species import default_weight_kg

            standard = default_weight_kg(data.get("species", "human"))
            if standard is not None:
                data = {**{k: v for k, v in data.items() if k not in ("weight", "weight_kg")}, "weight_kg": standard}
        return data

    @field_validator("weight_kg", mode="before")
    @classmethod
    def _weight(cls, value: Any) -> float | None:
        if value is None:
            return None
        q = parse_quantity(value if not isinstance(value, (int, float)) else f"{value} kg",
                           field="weight", expect="mass")
        kg = float(q.to("kg").magnitude)
        if not kg > 0:
            raise InputError("weight", f"{value!r}: a body weight must be greater than zero")
        return kg

    @field_validator("comedication", mode="before")
    @classmethod
    def _comedication(cls, value: Any) -> tuple[str, ...]:
        items = (value,) if isinstance(value, str) else tuple(value or ())
        items = tuple(str(v).lower() for v in items)
        unknown = set(items) - set(COMEDICATIONS)
        if unknown:
            raise InputError("comedication", f"unknown flag(s) {sorted(unknown)}; known: {', '.join(COMEDICATIONS)}")
        return items

    @field_validator("random_effects")
    @classmethod
    def _eta_names(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for compound, etas in value.items():
            unknown = set(etas) - set(ETA_NAMES)
            if unknown:
                raise InputError(f"random_effects.{compound}", f"unknown name(s) {sorted(unknown)}; known: {', '.join(ETA_NAMES)}")
        return {k.lower(): v for k, v in value.items()}

    @field_validator("parameter_sets")
    @classmethod
    def _set_names(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.lower(): v for k, v in value.items()}

    @field_validator("interactions")
    @classmethod
    def _interactions(cls, value: dict[str, bool]) -> dict[str, bool]:
        enabled_interactions(value)  # validates the names
        return value

    def eta(self, compound: str) -> dict[str, float]:
        """Random effects of ``compound`` (zeros for the typical subject)."""
        given = self.random_effects.get(compound.lower(), {})
        return {name: float(given.get(name, 0.0)) for name in ETA_NAMES}

    def parameter_set(self, compound: str) -> str | None:
        return self.parameter_sets.get(compound.lower())

    def with_random_effects(self, compounds, *, seed: int) -> Subject:
        """A copy with η drawn from N(0, ω²) for each compound (deterministic in ``seed``).

        Each compound gets its own stream, keyed by the seed and the compound's name, so adding a
        compound to a treatment does not change the draws of the others.
        """
        seed = checked_seed(seed)
        etas = dict(self.random_effects)
        for compound in compounds:
            pk = compound.pk(self.species, parameter_set=self.parameter_set(compound.name))
            rng = np.random.default_rng([int(seed), zlib.crc32(compound.name.lower().encode())])
            omegas = (pk.omega_clearance.value, pk.omega_volume.value, pk.omega_absorption.value)
            etas[compound.name.lower()] = {n: float(rng.normal(0.0, w)) for n, w in zip(ETA_NAMES, omegas, strict=True)}
        return self.model_copy(update={"random_effects": etas})


def for_compounds(subject: Subject, compounds) -> Subject:
    """``subject`` with its per-compound entries keyed by the names of ``compounds``.

    A key of ``parameter_sets`` or ``random_effects`` may be a compound's name or alias (any
    case); it is renamed to the compound's name. A key naming a library compound that this run
    does not simulate is kept as it is (one subject may carry random effects for several
    compounds and be simulated with one at a time); a key naming no compound at all (a typo)
    would be silently ignored, so it is refused.

    Raises
    ------
    InputError
        On ``subject.parameter_sets.<key>`` / ``subject.random_effects.<key>``, listing the
        compounds of the run.
    """
    from ..compounds import get_compound

    names = {alias.lower(): c.name.lower() for c in compounds for alias in [*c.aliases, c.name]}
    update = {}
    for field in ("parameter_sets", "random_effects"):
        entries = getattr(subject, field)
        renamed = {}
        for key, value in entries.items():
            name = names.get(key.lower())
            if name is None and _is_library_compound(key, get_compound):
                renamed[key.lower()] = value  # another run's compound: not used here, kept
                continue
            if name is None or name in renamed:
                problem = (f"{key!r} is not a compound of this run" if name is None else
                           f"{key!r} names {name} again")
                raise InputError(f"subject.{field}.{key}",
                                 f"{problem}; compounds simulated: {', '.join(c.name for c in compounds)}")
            renamed[name] = value
        if renamed != entries:
            update[field] = renamed
    return subject.model_copy(update=update) if update else subject


def _is_library_compound(key: str, get_compound) -> bool:
    try:
        get_compound(key)
    except InputError:
        return False
    return True


def as_subject(subject: Subject | dict | None) -> Subject:
    """Accept ``None`` (typical human), a mapping, or a :class:`Subject`."""
    if subject is None:
        return Subject()
    if isinstance(subject, Subject):
        return subject
    if isinstance(subject, dict):
        try:
            return Subject.model_validate(subject)
        except InputError as exc:
            raise InputError(f"subject.{exc.field}", exc.problem) from None
    raise InputError("subject", f"expected a Subject or a mapping, got {type(subject).__name__}")
