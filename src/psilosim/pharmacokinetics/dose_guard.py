"""Plausibility of a dose: compare it with the largest human dose in the compound's reference data.

Each library compound carries ``max_studied_dose`` (per administration; in mg, µg or mg/kg): the
largest dose of the studies its parameters come from, not the largest dose ever given to people.
A dose above it is simulated with a warning (the model is extrapolating); a dose more than
:data:`DOSE_GUARD_PARAMS` ``refusal_factor`` times above it is refused, since at two orders of
magnitude it is almost surely a unit slip ("25 kg" for "25 mg"). A per-kg maximum is compared
per kg of the subject's body weight. Animal doses are compared by the same rule with the largest
per-kg dose of the animal studies the species' parameters come from (:data:`ANIMAL_MAX_STUDIED_DOSES`,
e.g. psilocybin 1 mg/kg i.p. in mouse, Shao et al. 2021), never with a human maximum: "25 mg" in a
25 g mouse is 1000 mg/kg and is refused (:func:`studied_maximum`).

A simulation checks its own regimens (:func:`guard_regimens`; ``check_doses=False`` on
:func:`~psilosim.binding.simulate_acute` skips it for a caller that has checked already). A virtual
trial checks each arm once before any patient (:func:`check_dose_over_weights`): a per-kg dose or
a per-kg maximum makes the comparison depend on the body weight, and since the ratio of a dose to
its maximum is monotone in the weight (each amount is fixed or proportional to it), checking the
lightest and the heaviest weight a patient can have covers every patient.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ExtrapolationWarning, InputError
from ..parameters import Param, ParameterSet
from ..units import ureg

#: Species whose doses are compared with the compound's own (human) ``max_studied_dose``.
GUARDED_SPECIES = ("human",)

_ANIMAL_NOTE = ("largest per-kg dose of the animal study the species' plasticity/spine calibration uses "
                "(psilosim.species.EXPERIMENTAL_DOSES); doses above it are extrapolation, 100x above a unit slip")


def _animal_maxima() -> dict[tuple[str, str], Param]:
    """:data:`psilosim.species.EXPERIMENTAL_DOSES` of the animal species as studied maxima (one source)."""
    from ..species import EXPERIMENTAL_DOSES

    out = {}
    for (species, compound), dose in EXPERIMENTAL_DOSES.items():
        if species in GUARDED_SPECIES:
            continue
        amount = ureg.Quantity(dose.dose)
        out[(species, compound)] = Param(value=float(amount.magnitude), unit=f"{amount.units:~}".replace(" ", ""),
                                         kind=dose.kind, source=dose.source,
                                         note=f"{_ANIMAL_NOTE}; studied as {dose.describe().split(' (')[0]}")
    return out


#: Largest studied dose per administration in each animal species, by ``(species, compound)``:
#: the per-kg dose of the experiments the species' parameters are checked against
#: (:data:`psilosim.species.EXPERIMENTAL_DOSES`, read from there; their counterpart of a compound's
#: human ``max_studied_dose``). A compound without an entry is not checked.
ANIMAL_MAX_STUDIED_DOSES: dict[tuple[str, str], Param] = _animal_maxima()


def studied_maximum(compound, *, species: str = "human") -> Param | None:
    """The largest studied dose ``compound`` is compared with in ``species``.

    Parameters
    ----------
    compound
        A :class:`~psilosim.compounds.Compound` (or anything with ``name`` and, for a human,
        ``max_studied_dose``).
    species
        ``"human"`` (the guarded species) or an animal species, case-insensitive.

    Returns
    -------
    Param or None
        The compound's human ``max_studied_dose`` (mg or mg/kg), or the animal per-kg maximum
        (:data:`ANIMAL_MAX_STUDIED_DOSES`); ``None`` when there is none (a custom compound, a
        species without data).
    """
    key = species.strip().lower()
    if key in GUARDED_SPECIES:
        return getattr(compound, "max_studied_dose", None)
    return ANIMAL_MAX_STUDIED_DOSES.get((key, str(getattr(compound, "name", "")).strip().lower()))


#: What a dose of a compound is a dose of, where a user may mean something else: said with every
#: warning and refusal of such a dose ("3 g" of psilocybin is of the pure compound, not of dried
#: mushrooms, whose psilocybin content varies and which psilosim does not model).
DOSE_MEANING = {"psilocybin": "pure psilocybin; mushroom material is not modelled"}


class DoseGuardParams(ParameterSet):
    """How far above the largest studied dose a dose is refused rather than warned about."""

    refusal_factor: Param


DOSE_GUARD_PARAMS = DoseGuardParams(
    refusal_factor=Param(
        value=100.0, unit="", kind="assumed", source="input plausibility rule, not a toxicological limit",
        note="two orders of magnitude above the highest studied dose, i.e. a unit slip", low=1.0),
)


def _per_kg(param: Param) -> bool:
    return ureg.Quantity(1.0, param.unit).dimensionality == ureg.Quantity(1.0, "mg/kg").dimensionality


def _dose_and_maximum(reference: Param, largest_mg: float, weight_kg: float | None,
                      species: str = "human") -> tuple[float, float, str]:
    """A dose and the studied maximum ``reference`` in the same terms: ``(dose, maximum, unit)``.

    Per kg of ``weight_kg`` when the maximum is per kg (without a weight, the species' typical
    subject's), else in mg. Their ratio is what :func:`check_studied_dose` judges and what
    :func:`check_dose_over_weights` ranks the weights by.
    """
    if not _per_kg(reference):
        return largest_mg, reference.to("mg"), "mg"
    if weight_kg is None:  # the typical subject of the species
        from ..species import species_defaults

        weight_kg = species_defaults(species).body_weight.to("kg")
    return largest_mg / weight_kg, reference.to("mg/kg"), "mg/kg"


def check_studied_dose(compound, amounts_mg, weight_kg: float | None, *, species: str = "human",
                       field: str = "dose", params: DoseGuardParams = DOSE_GUARD_PARAMS) -> str | None:
    """Compare the largest single administration with the compound's largest studied dose.

    Parameters
    ----------
    compound
        A :class:`psilosim.compounds.Compound`; without a studied maximum for ``species``
        (:func:`studied_maximum`) nothing is checked.
    amounts_mg
        Amount of each administration (mg of the dosed molecule), e.g. ``DosingEvents.amount_mg``.
    weight_kg
        Body weight, used when the studied maximum is per kg (default: the species' typical
        body weight).
    species
        Human doses are compared with ``max_studied_dose``, animal doses with
        :data:`ANIMAL_MAX_STUDIED_DOSES`.
    field
        Name of the dose input, for the error and the warning.

    Returns
    -------
    str or None
        A one-line warning when the dose exceeds the studied maximum, else ``None``.

    Raises
    ------
    InputError
        When the dose exceeds the studied maximum by more than ``refusal_factor``.
    """
    reference = studied_maximum(compound, species=species)
    amounts = np.asarray(amounts_mg, dtype=float)
    if reference is None or amounts.size == 0:
        return None
    dose, limit, unit = _dose_and_maximum(reference, float(amounts.max()), weight_kg, species)
    human = species.strip().lower() in GUARDED_SPECIES
    name = compound.name if human else f"{compound.name} dose in {species.strip().lower()}"
    studied = f"{reference.value:g} {reference.unit}"
    where = "the compound's max_studied_dose" if human else "dose_guard.ANIMAL_MAX_STUDIED_DOSES"
    ratio = dose / limit
    meaning = DOSE_MEANING.get(str(compound.name).strip().lower())
    meaning = f" ({meaning})" if meaning else ""
    if ratio > params.refusal_factor.value:
        raise InputError(field, f"{dose:.4g} {unit} is {ratio:.3g}x the largest {name}"
                                f"{' dose' if human else ''} in psilosim's reference data ({studied}); check the unit"
                                + ("" if human else ", or choose the human species for a human dose") + meaning)
    if ratio > 1.0 and not np.isclose(ratio, 1.0):  # isclose: 0.05 mg/kg x 0.025 kg / 0.025 kg is not exact
        return (f"{field} {dose:.4g} {unit} is above the largest {name}{' dose' if human else ''} in psilosim's "
                f"reference data ({studied}, see {where}): the model is extrapolating{meaning}")
    return None


def regimen_dose_field(template: str, regimen, weight_kg: float | None, *, index: int | None = None) -> str:
    """The input a dose message names: ``template`` with ``{i}`` the treatment's position and ``{p}``
    the regimen's phase with the largest administration (:meth:`psilosim.regimen.Regimen.largest_phase`),
    e.g. ``"treatments.{i}.regimen.phases.{p}.dose"`` → ``"treatments.0.regimen.phases.1.dose"``.
    A template without them (a CLI option, ``"--dose"``) is returned as it is."""
    if "{p}" in template:
        template = template.replace("{p}", str(regimen.largest_phase(weight_kg=weight_kg)))
    return template if index is None else template.replace("{i}", str(index))


def guard_regimens(treatments, subject, *, stacklevel: int = 2,
                   field: str = "treatments.{i}.regimen.phases.{p}.dose") -> None:
    """:func:`check_studied_dose` for each ``(compound, Regimen)`` of a simulation.

    A dose above the studied maximum is reported as an :class:`~psilosim.errors.ExtrapolationWarning`
    (a ``UserWarning``) on ``field`` (``{i}``: the treatment's position, ``{p}``: the phase with the
    largest administration, :func:`regimen_dose_field`; ``simulate_pk``, which takes one regimen,
    passes ``"regimen.phases.{p}.dose"``); a dose ``refusal_factor`` times above it raises
    :class:`InputError` there. ``stacklevel`` is counted from the caller of this function.
    """
    for i, (compound, regimen) in enumerate(treatments):
        events = regimen.events(weight_kg=subject.weight_kg)
        message = check_studied_dose(compound, events.amount_mg, subject.weight_kg, species=subject.species,
                                     field=regimen_dose_field(field, regimen, subject.weight_kg, index=i))
        if message is not None:
            warnings.warn(message, ExtrapolationWarning, stacklevel=stacklevel + 1)


def check_dose_over_weights(compound, regimen, weights_kg, *, species: str = "human", field: str = "dose",
                            params: DoseGuardParams = DOSE_GUARD_PARAMS) -> str | None:
    """:func:`check_studied_dose` of ``regimen`` for every body weight in ``weights_kg``, worst case reported.

    A trial passes the lightest and heaviest weight its patients can be drawn with: the ratio of
    a dose to the studied maximum is monotone in the weight, so the worse end is the worst patient.
    When the outcome depends on the weight, the message names the weight it is about.

    Parameters
    ----------
    compound
        A :class:`psilosim.compounds.Compound`.
    regimen
        A :class:`psilosim.regimen.Regimen` (per-kg doses are multiplied by each weight).
    weights_kg
        Body weights (kg) to check, e.g. ``(lightest, heaviest)``.
    species, field, params
        As :func:`check_studied_dose`.

    Returns
    -------
    str or None
        The warning for the weight with the highest dose relative to the maximum, else ``None``.

    Raises
    ------
    InputError
        On ``field`` when the dose is refused for any of the weights.
    """
    weights = [float(w) for w in weights_kg]
    refusals: list[tuple[float, InputError]] = []
    messages: list[tuple[float, str | None]] = []
    for weight in weights:
        events = regimen.events(weight_kg=weight)
        try:
            messages.append((weight, check_studied_dose(compound, events.amount_mg, weight, species=species,
                                                        field=regimen_dose_field(field, regimen, weight),
                                                        params=params)))
        except InputError as exc:
            refusals.append((weight, exc))
    if refusals:
        weight, exc = max(refusals, key=lambda we: _ratio_of(compound, regimen, we[0], species))
        if _same_for_every_weight([e.problem for _, e in refusals], weights):
            raise exc
        raise InputError(exc.field, f"{exc.problem} {_for_weight(weight, weights)}")
    found = [(w, m) for w, m in messages if m is not None]
    if not found:
        return None
    weight, message = max(found, key=lambda wm: _ratio_of(compound, regimen, wm[0], species))
    if _same_for_every_weight([m for _, m in found], weights):
        return message
    return f"{message} {_for_weight(weight, weights)}"


def _same_for_every_weight(outcomes: list[str], weights: list[float]) -> bool:
    """Every weight gave the same message: the dose relative to the maximum does not depend on it."""
    return len(outcomes) == len(weights) and len(set(outcomes)) == 1


def _ratio_of(compound, regimen, weight_kg: float, species: str = "human") -> float:
    """Largest administration over the studied maximum, for one body weight."""
    largest_mg = float(np.max(regimen.events(weight_kg=weight_kg).amount_mg))
    dose, limit, _ = _dose_and_maximum(studied_maximum(compound, species=species), largest_mg, weight_kg, species)
    return dose / limit


def _for_weight(weight_kg: float, weights: list[float]) -> str:
    return (f"(for a body weight of {weight_kg:g} kg, where in the range {min(weights):g}–{max(weights):g} kg "
            "the dose is highest relative to the studied one)")
