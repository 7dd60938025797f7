"""A virtual subject: species, body weight, co-medication, individual random effects."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .._seeds import checked_seed  # its home before psilosim._seeds: still importable from here
from ..errors import InputError
from ..units import parse_quantity
from .interactions import COMEDICATIONS, enabled_interactions

#: Random-effect names (η on the log scale of the typical value).
ETA_NAMES = ("clearance", "volume", "absorption")


class Subject(BaseModel):
    """One individual.

    Parameters
    ----------
    species
        Name of the PK parameter set family (``"human"``).
    weight
        Body weight: ``"70 kg"`` or a number of kg (``weight_kg=70`` is accepted too); stored as
        :attr:`weight_kg` (kg). Needed for mg/kg doses. Without it a laboratory species gets its
        standard body weight (:func:`psilosim.species.default_weight_kg`, as a scenario's subject
        does); a human has none.
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
            pk = compound.pk(self.species, self.parameter_set(compound.name))
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
        from pydantic import ValidationError

        from ..regimen import input_error_from

        try:
            return Subject.model_validate(subject)
        except ValidationError as exc:
            raise input_error_from(exc, prefix="subject") from None
    raise InputError("subject", f"expected a Subject or a mapping, got {type(subject).__name__}")
