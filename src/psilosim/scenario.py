"""The scenario file: a YAML document validated by pydantic.

A scenario names the treatments (compound + regimen), the subject, the population, the seed,
the simulation grid and the outputs::

    name: psilocybin-25mg
    seed: 1
    treatments:
      - compound: psilocybin
        regimen: {route: oral, phases: [{dose: 25 mg}]}
    subject: {species: human, weight: 70 kg, comedication: []}
    population: {size: 1, variability: false}
    simulation: {duration: 24 h, step: 15 min, method: analytic}
    outputs: {folder: psilosim-out, figures: [acute]}

Every section rejects unknown keys (a typo is an error naming the field); every section except
``treatments`` is optional. Later links add their sections (``environment``, ``scans``,
``arms``) as new optional fields of :class:`Scenario`, so existing files stay valid.

A compound is a library name or a custom definition: ``{name, based_on, overrides}`` derives
from a library compound (numbers replace parameter values, marked ``override``), or a full
:class:`~psilosim.compounds.Compound` mapping.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ._yaml import UniqueKeyLoader, read_yaml, yaml_error_text  # noqa: F401 (public here since 0.x)
from .errors import InputError
from .regimen import SUGGESTION_CUTOFF, Regimen, input_error_from
from .units import parse_quantity

#: Relative slack when checking that the duration is a whole number of steps (float rounding).
GRID_TOLERANCE = 1e-9

_FORBID = ConfigDict(frozen=True, extra="forbid")
#: Upper bound of a population in one scenario run (a safeguard against typos such as 1e9).
MAX_POPULATION = 100_000
DEFAULT_SCENARIO = "psilocybin_25mg.yaml"
#: Seeds drawn for a scenario without one are below this (a signed 64-bit integer, for NetCDF).
SEED_MODULUS = 2**63


class CustomCompound(BaseModel):
    """A compound derived from a library compound with some values replaced."""

    model_config = _FORBID

    name: str
    based_on: str
    overrides: dict[str, Any] = {}

    def build(self):
        """The derived :class:`~psilosim.compounds.Compound`.

        Raises
        ------
        InputError
            On ``based_on`` for an unknown library compound, on ``overrides.<field>`` for an
            override the library compound does not have or refuses.
        """
        from .compounds import get_compound

        try:
            base = get_compound(self.based_on)
        except InputError as exc:  # the library names its argument "compound"; here it is based_on
            raise InputError("based_on", exc.problem) from None
        try:
            return base.derive(self.name, **self.overrides)
        except InputError as exc:
            raise InputError(f"overrides.{exc.field}", exc.problem) from None


def custom_compound_first(value: Any, *, any_mapping: bool = False) -> Any:
    """``value`` validated as a :class:`CustomCompound` when it is a mapping with ``based_on`` (any
    mapping with ``any_mapping``); anything else unchanged.

    Validating it here, before the union ``str | CustomCompound | ...`` is tried, names a typo at its
    own path (``compound.overides``, did you mean overrides?) instead of blaming the union's last
    member or reporting the member's class name (``compound.CustomCompound.overides``).

    Raises
    ------
    InputError
        Naming the custom compound's field (``overides``), relative to ``compound``.
    """
    if isinstance(value, dict) and (any_mapping or _names_a_base(value)):
        try:
            return CustomCompound.model_validate(value)
        except ValidationError as exc:
            raise input_error_from(exc, model=CustomCompound) from None
    return value


def _names_a_base(mapping: dict) -> bool:
    """Whether a compound mapping is meant as a custom compound: it has ``based_on``, or a key
    that is a misspelling of it (``base_on``), which a full compound definition never has."""
    import difflib

    keys = [str(k) for k in mapping]
    return "based_on" in keys or bool(difflib.get_close_matches("based_on", keys, n=1, cutoff=SUGGESTION_CUTOFF))


class TreatmentSpec(BaseModel):
    """One compound on one regimen."""

    model_config = _FORBID

    compound: str | CustomCompound | dict[str, Any]
    regimen: Regimen

    @field_validator("compound", mode="before")
    @classmethod
    def _custom_first(cls, value: Any) -> Any:
        return custom_compound_first(value)

    def resolve_compound(self):
        """The :class:`~psilosim.compounds.Compound` this treatment refers to."""
        from .compounds import Compound, get_compound

        if isinstance(self.compound, str):
            return get_compound(self.compound)
        if isinstance(self.compound, CustomCompound):
            try:
                return self.compound.build()
            except InputError as exc:
                raise InputError(f"compound.{exc.field}", exc.problem) from None
        try:
            return Compound.model_validate(self.compound)
        except ValidationError as exc:
            raise input_error_from(exc, prefix="compound") from None


class SubjectSpec(BaseModel):
    """The simulated individual (or the typical individual of a population)."""

    model_config = _FORBID

    species: str = "human"
    weight: str | None = None
    comedication: list[str] = []
    interactions: dict[str, bool] = {}
    parameter_sets: dict[str, str] = {}

    @field_validator("weight")
    @classmethod
    def _mass(cls, value: str | None) -> str | None:
        if value is not None:
            q = parse_quantity(value, field="weight", expect="mass")
            if not q.magnitude > 0:
                raise InputError("weight", f"{value!r}: must be greater than zero")
        return value

    def to_subject(self):
        """The :class:`~psilosim.pharmacokinetics.Subject`; without ``weight``, a laboratory
        species gets its standard body weight (:func:`psilosim.species.default_weight_kg`).

        Raises
        ------
        InputError
            Naming ``subject.<field>`` (an unknown comedication flag or interaction name).
        """
        from .pharmacokinetics import Subject
        from .species import default_weight_kg

        weight = self.weight if self.weight is not None else default_weight_kg(self.species)
        try:
            return Subject(species=self.species, weight=weight, comedication=tuple(self.comedication),
                           interactions=self.interactions,
                           parameter_sets={k.lower(): v for k, v in self.parameter_sets.items()})
        except ValidationError as exc:
            raise input_error_from(exc, prefix="subject") from None
        except InputError as exc:  # Subject reports its own bad field as an InputError
            raise InputError(f"subject.{exc.field}", exc.problem) from None


class PopulationSpec(BaseModel):
    """How many subjects, and whether they differ (log-normal random effects)."""

    model_config = _FORBID

    size: int = Field(default=1, ge=1, le=MAX_POPULATION)
    variability: bool = True


class SimulationSpec(BaseModel):
    """Time grid and numerical method."""

    model_config = _FORBID

    duration: str = "24 h"
    step: str = "15 min"
    method: Literal["analytic", "ode"] = "analytic"

    @field_validator("duration", "step")
    @classmethod
    def _positive_time(cls, value: str, info) -> str:
        q = parse_quantity(value, field=info.field_name, expect="time")
        if not q.magnitude > 0:
            raise InputError(info.field_name, f"{value!r}: must be greater than zero")
        return value

    @property
    def duration_h(self) -> float:
        return float(parse_quantity(self.duration, field="duration", expect="time").to("hour").magnitude)

    @property
    def step_h(self) -> float:
        return float(parse_quantity(self.step, field="step", expect="time").to("hour").magnitude)


class OutputSpec(BaseModel):
    """Where results go and which figures are drawn."""

    model_config = _FORBID

    folder: str = "psilosim-out"
    figures: list[Literal["acute"]] = ["acute"]


class Scenario(BaseModel):
    """A complete scenario; see the module docstring."""

    model_config = _FORBID

    name: str = "scenario"
    description: str = ""
    seed: int | None = Field(default=None, ge=0)
    treatments: list[TreatmentSpec] = Field(min_length=1)
    subject: SubjectSpec = SubjectSpec()
    population: PopulationSpec = PopulationSpec()
    simulation: SimulationSpec = SimulationSpec()
    outputs: OutputSpec = OutputSpec()

    @model_validator(mode="after")
    def _grid_covers_the_doses(self) -> Scenario:
        sim = self.simulation
        steps = sim.duration_h / sim.step_h
        if steps < 1.0 + GRID_TOLERANCE:
            raise InputError("simulation.step", f"{sim.step} is not shorter than the duration {sim.duration}")
        if abs(steps - round(steps)) > GRID_TOLERANCE:
            raise InputError("simulation.step", f"the duration {sim.duration} is not a whole number of {sim.step} "
                             f"steps (the grid would stop at {int(steps) * sim.step_h:g} h); choose a step "
                             "that divides the duration")
        for k, treatment in enumerate(self.treatments):
            first = treatment.regimen.first_dose_h()
            if first >= sim.duration_h:
                raise InputError(f"treatments.{k}.regimen", f"its first dose at {first:g} h is not before the end "
                                 f"of the simulation ({sim.duration}): nothing of it would be simulated")
        return self

    @model_validator(mode="after")
    def _treatments_can_run(self) -> Scenario:
        """Build the subject and each compound now, so that a bad name fails at parse time
        naming its field, not later inside :func:`simulate_scenario`."""
        subject = self.subject.to_subject()
        for k, treatment in enumerate(self.treatments):
            compound = _named(f"treatments.{k}", treatment.resolve_compound, nested=True)  # compound[.…]
            _named("subject.species", lambda c=compound: c.species_pk(subject.species))
            chosen = subject.parameter_set(compound.name)
            field = f"subject.parameter_sets.{compound.name.lower()}"
            pk = _named(field, lambda c=compound, s=chosen: c.pk(subject.species, parameter_set=s))
            _named(f"treatments.{k}.regimen.route", lambda p=pk, r=str(treatment.regimen.route): p.route(r))
            _doses_resolve(treatment.regimen, subject.weight_kg, prefix=f"treatments.{k}.regimen")
        from .pharmacokinetics.subject import for_compounds

        for_compounds(subject, [t.resolve_compound() for t in self.treatments])  # no stray subject keys
        return self


def _named(field: str, build, *, nested: bool = False):
    """``build()``, with any :class:`InputError` or pydantic error re-raised on ``field``; with
    ``nested``, under it, keeping the field the error named (``treatments.0`` +
    ``compound.overrides.clearence``)."""
    try:
        return build()
    except InputError as exc:
        raise InputError(f"{field}.{exc.field}" if nested else field, exc.problem) from None
    except ValidationError as exc:
        raise input_error_from(exc, prefix=field) from None


def _doses_resolve(regimen: Regimen, weight_kg: float | None, *, prefix: str) -> None:
    """A per-weight dose needs ``subject.weight`` (inside a scenario there is no ``--weight``)."""
    try:
        regimen.events(weight_kg=weight_kg)
    except InputError as exc:
        problem = exc.problem.replace("--weight or subject.weight", "subject.weight")
        raise InputError(f"{prefix}.{exc.field.removeprefix('regimen.')}", problem) from None


def parse_scenario(text: str, *, source: str = "scenario", base: Path | None = None) -> Scenario:
    """Validate YAML ``text`` as a :class:`Scenario`.

    With ``base`` (the folder of the scenario file), a treatment's ``compound:`` naming a compound
    file (``dmt.yaml``, relative to ``base``) is read as if its mapping had been pasted there
    (:func:`psilosim.compounds.inline_compound_files`).

    ``text`` may be a ``psilosim run`` provenance record (:func:`scenario_from_provenance`): its
    saved parameter values are then compared with the current ones, and a
    :class:`~psilosim.errors.RerunChangedWarning` names each that differs (or another psilosim
    version); the scenario is returned all the same.

    Raises
    ------
    InputError
        For a YAML syntax error (with its line) or the first invalid field (dotted path).
    """
    from .io import json_record

    record = json_record(text)  # a record is JSON: read as JSON, so its numbers stay numbers
    data = record if isinstance(record, dict) and PROVENANCE_MARK in record else read_yaml(text, source=source)
    if not isinstance(data, dict):
        raise InputError(source, "a scenario must be a YAML mapping (key: value lines)")
    record = data if PROVENANCE_MARK in data else None
    if record is not None:  # a provenance.json of an earlier run (JSON is YAML): re-run it
        data = scenario_from_provenance(record, source=source)
    elif base is not None and "treatments" in data:
        from .compounds import inline_compound_files

        data = {**data, "treatments": inline_compound_files(data["treatments"], base=base, field="treatments")}
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise input_error_from(exc, model=Scenario) from None
    if record is not None:  # same numbers only under the same values: say which differ
        from .io import warn_if_rerun_differs

        warn_if_rerun_differs(source, record, "parameter_values", parameter_values(scenario))
    return scenario


#: The key that tells a provenance record (``provenance.json``) from a scenario file.
PROVENANCE_MARK = "psilosim_version"


def scenario_from_provenance(record: dict[str, Any], *, source: str = "provenance") -> dict[str, Any]:
    """The scenario block of a ``psilosim run`` provenance record, with the seed the run used.

    A record written before the scenario block held a drawn seed has it only at top level
    (``seed``); it is put back into the block, so the re-run draws the same subjects.

    Raises
    ------
    InputError
        On ``source`` for a record that is not a psilosim provenance record, or is a virtual trial's
        (:func:`psilosim.io.check_provenance`).
    """
    from .io import check_provenance

    scenario = dict(check_provenance(record, "run", source)["scenario"])
    if scenario.get("seed") is None and record.get("seed") is not None:
        scenario["seed"] = record["seed"]
    return scenario


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read a scenario file, or the built-in default (psilocybin 25 mg, one human) for ``None``.

    The file may also be the ``provenance.json`` a ``psilosim run`` wrote: its scenario block (with
    the seed used) is run again, giving the same numbers (:func:`scenario_from_provenance`).
    """
    if path is None:
        text = (resources.files("psilosim") / "scenarios" / DEFAULT_SCENARIO).read_text(encoding="utf-8")
        return parse_scenario(text, source=f"built-in {DEFAULT_SCENARIO}")
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such scenario file")
    return parse_scenario(path.read_text(encoding="utf-8"), source=str(path), base=path.parent)


def subject_seeds(seed: int | None, size: int) -> list[int | None]:
    """Independent per-subject seeds derived from the scenario seed (``None`` stays ``None``)."""
    import numpy as np

    if seed is None:
        return [None] * size
    states = np.random.SeedSequence(seed).spawn(size)
    return [int(s.generate_state(1)[0]) for s in states]


def simulate_scenario(scenario: Scenario, *, check_doses: bool = True):
    """Run the acute pharmacology of a scenario for its whole population.

    A population with ``variability`` and no ``seed`` gets a fresh seed (:func:`fresh_seed`),
    stored in the result's ``attrs["seed"]`` (with ``attrs["seed_drawn"] = 1``) and, through
    :func:`psilosim.io.write_run`, in the provenance record. ``check_doses=False`` skips the
    studied-dose check of :func:`psilosim.binding.simulate_acute` for a caller that has made it
    already (``psilosim run``, which checks before it touches the output folder).

    Returns
    -------
    xarray.Dataset
        :func:`psilosim.binding.simulate_acute` outputs stacked along a ``subject`` dimension.
    """
    import xarray as xr

    from .binding import simulate_acute

    treatments = [(t.resolve_compound(), t.regimen) for t in scenario.treatments]
    base = scenario.subject.to_subject()
    sim = scenario.simulation
    size = scenario.population.size
    seed = scenario.seed
    if scenario.population.variability and seed is None:
        seed = fresh_seed()  # variable subjects need a seed; recorded below so the run can be repeated
    seeds = subject_seeds(seed, size) if scenario.population.variability else [None] * size
    runs = [simulate_acute(treatments, subject=base, t_end_h=sim.duration_h, dt_h=sim.step_h, seed=s,
                           method=sim.method, check_doses=check_doses) for s in seeds]
    ds = xr.concat(runs, dim="subject", combine_attrs="drop_conflicts")
    ds = ds.assign_coords(subject=("subject", list(range(size))))
    ds.attrs.update({"scenario": scenario.name, "seed_drawn": int(scenario.seed is None and seed is not None),
                     **({} if seed is None else {"seed": seed})})  # netCDF attributes cannot be None
    return ds


def simulate_with_summary(scenario: Scenario, *, check_doses: bool = True):
    """:func:`simulate_scenario`'s result, and the same run at the acute chain's internal step for
    the peaks and durations read from it, simulated once.

    The values at the output times are exact at any ``simulation.step``, but a peak or a time
    above threshold read from a coarse output grid is a sample that can miss the peak
    (:class:`~psilosim.errors.CoarseOutputStepWarning`). A scenario whose step is no coarser
    than :data:`~psilosim.binding.ACUTE_RESOLUTION`'s ``max_internal_step`` returns its run
    twice; otherwise the run is simulated on a step that divides the scenario's step (so it
    also divides the duration) and is no longer than that, and the output is every so many of
    its samples, on the scenario's own time grid (the values the coarse run gives, to round-off).

    Returns
    -------
    tuple
        ``(ds, fine)``: the run on the scenario's grid, and on the finer one (``ds`` itself when
        the step is fine already).
    """
    from .binding import ACUTE_RESOLUTION, internal_split
    from .pharmacokinetics.model import time_grid

    sim = scenario.simulation
    parts = internal_split(sim.step_h, ACUTE_RESOLUTION.max_internal_step.to("h"))
    if parts <= 1:
        ds = simulate_scenario(scenario, check_doses=check_doses)
        return ds, ds
    finer = scenario.model_copy(update={"simulation": sim.model_copy(update={"step": f"{sim.step_h / parts!r} h"})})
    fine = simulate_scenario(finer, check_doses=check_doses)
    ds = fine.isel(time_h=slice(None, None, parts))
    ds = ds.assign_coords(time_h=("time_h", time_grid(sim.duration_h, sim.step_h), ds["time_h"].attrs))
    return ds, fine


def fresh_seed() -> int:
    """A new seed from the operating system's entropy, reduced to 63 bits (it fits a NetCDF attribute)."""
    import numpy as np

    return int(np.random.SeedSequence().entropy % SEED_MODULUS)


def acute_chain_parameter_values() -> dict[str, dict]:
    """The values (with unit, source and kind) of the binding link's parameter sets every acute
    simulation uses: the subjective effect, the drug interactions and the time resolution."""
    from .binding import params as binding_params
    from .pharmacokinetics import interactions

    return {"binding.effect": binding_params.EFFECT_PARAMS.model_dump(mode="json"),
            "binding.acute_resolution": binding_params.ACUTE_RESOLUTION.model_dump(mode="json"),
            "interactions": interactions.INTERACTION_PARAMS.model_dump(mode="json")}


def parameter_values(scenario: Scenario) -> dict[str, dict]:
    """Every parameter set a run of ``scenario`` uses, by name, as values with unit and source.

    ``compound.<name>``: the compound as simulated (its PK sets per species, affinities, custom
    overrides); the acute chain's sets (:func:`acute_chain_parameter_values`).
    """
    out = {}
    for treatment in scenario.treatments:
        compound = treatment.resolve_compound()
        out[f"compound.{compound.name}"] = compound.model_dump(mode="json")
    return {**out, **acute_chain_parameter_values()}
