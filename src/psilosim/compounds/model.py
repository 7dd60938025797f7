"""The compound schema: PK per species and parameter set, binding per target, CNS properties.

A compound is data (one YAML file per compound in ``compounds/library/``, or a mapping in a
scenario). Everything a simulation needs about a molecule lives here; the solvers in
``pharmacokinetics`` and ``binding`` have no compound-specific code paths.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import InputError
from ..parameters import Param, ParameterSet
from ..pharmacokinetics.params import PKParameters
from ..units import Q_

#: Unit the binding model reads affinities in; a molar one is converted through the analyte's molar mass.
AFFINITY_UNIT = "ng/mL"
MOLAR_MASS_UNIT = "g/mol"

#: Receptor/transporter families a compound may bind. 5-HT2A is split into a surface and an
#: intracellular pool by ``binding`` (membrane permeability decides which pools a ligand reaches).
TARGET_FAMILIES = ("5-HT2A", "TrkB", "SERT", "NMDA")


class Prodrug(ParameterSet):
    """The dosed molecule when it is not the analyte (psilocybin → psilocin).

    ``dose × bioavailability × analyte_molar_mass / parent_molar_mass`` is the mass of analyte
    that reaches the circulation (bioavailability counted in moles).
    """

    canonical_units: ClassVar[dict[str, str]] = {"parent_molar_mass": MOLAR_MASS_UNIT}

    parent: str
    parent_molar_mass: Param


class TargetBinding(ParameterSet):
    """Single-site binding of the analyte to one target at the effect site.

    ``occupancy = occmax · (Ce/ec50) / (1 + Σ_j Ce_j/ec50_j)`` (competitive rule when several
    ligands share the target; see :mod:`psilosim.binding`).

    ``ec50`` is kept in ng/mL (another mass concentration, ``mg/L``, is converted to it); a
    compound converts a molar one (``nM``) through its ``analyte_molar_mass`` before this set is
    built, so a molar ``ec50`` here on its own is refused. ``occmax`` is a fraction (``%`` accepted).
    """

    canonical_units: ClassVar[dict[str, str]] = {"ec50": AFFINITY_UNIT, "occmax": ""}

    ec50: Param
    occmax: Param

    @model_validator(mode="before")
    @classmethod
    def _not_molar(cls, data: Any) -> Any:
        # runs before ParameterSet's unit check, to say why a molar ec50 is refused here
        if isinstance(data, dict) and _is_molar(data.get("ec50")):
            raise InputError("ec50", "a molar concentration needs the analyte's molar mass: give ec50 in a compound "
                                     "(converted through its analyte_molar_mass) or in a mass concentration (e.g. ng/mL)")
        return data

    @model_validator(mode="after")
    def _bounds(self) -> TargetBinding:
        if not self.ec50.value > 0:
            raise InputError("ec50", "must be greater than zero")
        if not 0.0 <= self.occmax.value <= 1.0:
            raise InputError("occmax", f"{self.occmax.value} is not a fraction in [0, 1]")
        return self


class SpeciesPK(BaseModel):
    """The PK parameter sets of one species and which one is the default (and why)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: str
    default_reason: str = ""
    sets: dict[str, PKParameters] = Field(min_length=1)

    @model_validator(mode="after")
    def _default_exists(self) -> SpeciesPK:
        if self.default not in self.sets:
            raise InputError("default", f"{self.default!r} is not one of the parameter sets {sorted(self.sets)}")
        return self


class Compound(ParameterSet):
    """One compound of the library (or a custom compound from a scenario).

    Parameters
    ----------
    name, aliases
        Matched case-insensitively by :func:`psilosim.compounds.get_compound`.
    analyte
        What the concentrations refer to (``"psilocin"`` for psilocybin).
    analyte_molar_mass
        g/mol; converts an affinity quoted in molar units (``ec50: {value: 95, unit: nM}``) to the
        ng/mL the binding model reads, when the compound is validated.
    prodrug
        Set when the dosed molecule is converted to the analyte.
    species
        PK by species name (``"human"``; a later issue adds ``"mouse"``).
    effect_site_rate
        ke0 (1/h) of the effect compartment (hysteresis between plasma and brain).
    membrane_permeability
        Fraction of the effect-site concentration that reaches intracellular 5-HT2A (0–1).
    agonist_efficacy
        Intrinsic efficacy at 5-HT2A signalling, both pools (0–1).
    hallucinogenic_efficacy
        Efficacy for the subjective ("trip") response at surface 5-HT2A (0–1).
    binding
        Affinity/occupancy parameters by target family (:data:`TARGET_FAMILIES`).
    max_studied_dose
        Largest single human dose of the studies the compound's parameters come from (mg, µg or
        mg/kg); doses far above it are refused as unit slips, doses above it warned about (:mod:`psilosim.pharmacokinetics.dose_guard`).

    Units: each parameter is kept in the unit of :attr:`canonical_units` (another unit of the same
    dimension is converted to it when the compound is validated, ``%`` to a fraction); one of
    another dimension, or a dimensional one without a unit, is an :class:`InputError` naming it.
    ``max_studied_dose`` keeps its unit (a mass, or a mass per body mass), which says how doses are
    compared with it.
    """

    canonical_units: ClassVar[dict[str, str]] = {
        "analyte_molar_mass": MOLAR_MASS_UNIT, "effect_site_rate": "1/h", "membrane_permeability": "",
        "agonist_efficacy": "", "hallucinogenic_efficacy": "",
    }
    unit_dimensions: ClassVar[dict[str, tuple[str, ...]]] = {"max_studied_dose": ("mg", "mg/kg")}

    name: str
    aliases: list[str] = []
    analyte: str
    description: str = ""
    analyte_molar_mass: Param
    prodrug: Prodrug | None = None
    species: dict[str, SpeciesPK]
    effect_site_rate: Param
    membrane_permeability: Param
    agonist_efficacy: Param
    hallucinogenic_efficacy: Param
    binding: dict[str, TargetBinding] = {}
    max_studied_dose: Param | None = None

    @model_validator(mode="before")
    @classmethod
    def _molar_affinities_in_mass_units(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("binding"), dict):
            return data
        binding = {target: _with_mass_ec50(entry, data.get("analyte_molar_mass"))
                   for target, entry in data["binding"].items()}
        return {**data, "binding": binding}

    @field_validator("name")
    @classmethod
    def _name_nonempty(cls, value: str) -> str:
        if not value.strip():
            raise InputError("name", "a compound needs a name")
        return value.strip()

    @field_validator("binding")
    @classmethod
    def _known_targets(cls, value: dict[str, TargetBinding]) -> dict[str, TargetBinding]:
        unknown = set(value) - set(TARGET_FAMILIES)
        if unknown:
            raise InputError("binding", f"unknown target(s) {sorted(unknown)}; known: {', '.join(TARGET_FAMILIES)}")
        return value

    @model_validator(mode="after")
    def _fractions(self) -> Compound:
        for name in ("membrane_permeability", "agonist_efficacy", "hallucinogenic_efficacy"):
            v = getattr(self, name).value
            if not 0.0 <= v <= 1.0:
                raise InputError(name, f"{v} is not a fraction in [0, 1]")
        if not self.effect_site_rate.value > 0:
            raise InputError("effect_site_rate", "must be greater than zero")
        return self

    # ------------------------------------------------------------------ access
    @property
    def molar_ratio(self) -> float:
        """Mass of analyte per mass of dosed molecule (1 when dosed as the analyte)."""
        if self.prodrug is None:
            return 1.0
        return self.analyte_molar_mass.to("g/mol") / self.prodrug.parent_molar_mass.to("g/mol")

    def species_pk(self, species: str) -> SpeciesPK:
        """The PK of ``species`` (InputError listing the species with data)."""
        key = species.lower()
        if key not in self.species:
            raise InputError("species", f"no {self.name} PK for {species!r}; available: {', '.join(sorted(self.species))}")
        return self.species[key]

    def pk(self, species: str = "human", *, parameter_set: str | None = None) -> PKParameters:
        """One PK parameter set (the species default when ``parameter_set`` is ``None``)."""
        spk = self.species_pk(species)
        name = parameter_set or spk.default
        if name not in spk.sets:
            raise InputError("parameter_set", f"{name!r} is not a {self.name} parameter set; known: {', '.join(sorted(spk.sets))}")
        return spk.sets[name]

    def fraction_available(self, route: str, pk: PKParameters) -> float:
        """Mass of analyte reaching the circulation per mass dosed by ``route``."""
        return pk.route(route).bioavailability.value * self.molar_ratio

    def params(self, prefix: str = "") -> dict[str, Param]:
        out = super().params(prefix)
        for species, spk in self.species.items():
            for set_name, pk in spk.sets.items():
                # named as a compound file writes them (and a load error names them)
                out.update(pk.params(prefix=f"{prefix}species.{species}.sets.{set_name}."))
        for target, tb in self.binding.items():
            out.update(tb.params(prefix=f"{prefix}binding.{target}."))
        return out

    def derive(self, name: str, **changes: Any) -> Compound:
        """A custom compound based on this one: numbers replace Param values (kind = override).

        ``changes`` may name top-level parameters (``hallucinogenic_efficacy=0.02``) or binding
        entries as ``binding={"5-HT2A": {"ec50": 5.0}}``. The template's ``max_studied_dose`` is
        not inherited (no study has given the new compound): give a full parameter to set one.

        Raises
        ------
        InputError
            On the field of a change the compound schema refuses (``hallucinogenic_efficacy``
            outside [0, 1], ...), or a name the compound does not have.
        """
        from pydantic import ValidationError

        from ..regimen import did_you_mean, input_error_from

        data = self.model_dump()
        data["name"], data["aliases"] = name, []
        data["max_studied_dose"] = None
        for key, new in changes.items():
            if key == "binding":
                for target, fields in new.items():
                    entry = data["binding"].setdefault(target, {})
                    for field, value in fields.items():
                        entry[field] = _override(entry.get(field), value, f"binding.{target}.{field}")
            elif key not in data:
                raise InputError(key, f"{self.name} has no field {key!r}" + did_you_mean(key, list(data)))
            else:
                data[key] = _override(data[key], new, key)
        try:
            return Compound.model_validate(data)
        except ValidationError as exc:
            raise input_error_from(exc) from None


def _override(old: Any, new: Any, field: str) -> Any:
    if isinstance(new, (int, float)) and not isinstance(new, bool):
        if not isinstance(old, dict):
            raise InputError(field, "give a full parameter ({value, unit, source, kind}) for a new entry")
        return {**old, "value": float(new), "kind": "override", "source": "scenario override"}
    return new


def _quantity(item: Any):
    """A Param or its mapping as a pint quantity (``None`` when it is neither, or malformed: the
    Param's own validation reports that)."""
    try:
        if isinstance(item, Param):
            return item.quantity
        if isinstance(item, dict):
            return Q_(float(item["value"]), item.get("unit", ""))
    except Exception:  # a missing or non-numeric value, an unknown unit (pint raises several types)
        return None
    return None


def _is_molar(item: Any) -> bool:
    q = _quantity(item)
    return q is not None and q.check("[substance] / [length] ** 3")


def _with_mass_ec50(entry: Any, molar_mass: Any) -> Any:
    """A binding entry whose molar ``ec50`` is converted to ng/mL through ``molar_mass`` (unit
    conversion: mol/L × g/mol = g/L); left as it is otherwise (a molar mass in a wrong unit is
    reported on ``analyte_molar_mass`` by the compound's unit check)."""
    if not isinstance(entry, dict) or not _is_molar(entry.get("ec50")):
        return entry
    mass = _quantity(molar_mass)
    if mass is None or not mass.check("[mass] / [substance]"):
        return entry
    ec50 = entry["ec50"]
    fields = ec50.model_dump() if isinstance(ec50, Param) else dict(ec50)
    given = _quantity(ec50)
    converted = {"value": float((given * mass).to(AFFINITY_UNIT).magnitude), "unit": AFFINITY_UNIT}
    for bound in ("low", "high"):
        if fields.get(bound) is not None:
            converted[bound] = float((Q_(float(fields[bound]), given.units) * mass).to(AFFINITY_UNIT).magnitude)
    how = f"given as {given.magnitude:g} {fields.get('unit')} × analyte_molar_mass {mass.magnitude:g} {mass.units:~}"
    fields.update(converted, note="; ".join(n for n in (fields.get("note", ""), how) if n))
    return {**entry, "ec50": fields}
