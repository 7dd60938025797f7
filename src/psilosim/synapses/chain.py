"""The slow chain: dose → receptor drive → BDNF/TrkB and the window → spines, in one call.

:func:`simulate_slow_chain` is what the network and clinical layers call per patient, so it is
kept cheap: the acute pharmacology is solved only while a compound is present (dense steps
near doses), the slow states on a coarse day grid elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import xarray as xr

from ..errors import InputError
from ..parameters import ParameterSet
from ..plasticity import Drive, plasticity_params, simulate_plasticity
from ..plasticity.model import HOURS_PER_DAY
from ..units import as_time
from .model import DEFAULT_REGIONS, StressInput, simulate_spines, stress_start_d
from .params import spine_params

#: Time after the last dose over which the acute pharmacology is solved before the drive is
#: checked for wash-out (numerical setting; extended automatically while occupancy persists).
ACUTE_TAIL_H = 48.0
#: A drive counts as washed out when every occupancy and the effect are below this fraction.
WASHOUT_LEVEL = 1e-3
#: Step of the acute solution in hours (the binding link's default resolution).
ACUTE_STEP_H = 0.25
#: A simulated span shorter than a few steps gets a finer step, so it still has this many samples.
MIN_ACUTE_SAMPLES = 4


def acute_drive(treatments, *, species: str, days: float, subject=None, check_doses: bool = True) -> Drive:
    """Receptor drive from the pharmacology link for ``treatments`` (list of (compound, Regimen)).

    The acute solution runs to the last dose plus :data:`ACUTE_TAIL_H`, doubling the tail while
    any target is still occupied, never beyond ``days``. ``check_doses=False`` skips the studied-dose
    check of :func:`~psilosim.binding.simulate_acute` for a caller that has made it already.
    ``subject=None`` is the species' typical subject (:func:`psilosim.species.default_subject`,
    a human at the conventional 70 kg): internal callers that dose the published experimental
    doses rely on it; :func:`simulate_slow_chain` refuses a human per-kg dose without a weight.
    """
    from ..binding import simulate_acute  # the pharmacology link; imported late on purpose
    subject = _subject_for(species, subject)
    last_dose_h = max((_last_dose_h(reg, subject.weight_kg) for _, reg in treatments), default=0.0)
    end_h = days * HOURS_PER_DAY
    tail = ACUTE_TAIL_H
    while True:
        t_end = min(last_dose_h + tail, end_h)
        try:
            ds = simulate_acute(treatments, subject=subject, t_end_h=t_end,
                                dt_h=min(ACUTE_STEP_H, t_end / MIN_ACUTE_SAMPLES), check_doses=check_doses)
        except InputError as exc:
            raise _with_species_hint(exc, species) from None
        drive = Drive.from_acute(ds, label=_label(treatments))
        if t_end >= end_h or _washed_out(drive):
            return drive
        tail *= 2


def _refuse_per_kg_without_weight(treatments, species: str) -> None:
    """A per-kg dose for a species weighed individually (human) needs a given weight, as in
    :func:`~psilosim.binding.simulate_acute`: the species' reference weight would be a guess."""
    from ..species import INDIVIDUAL_WEIGHT_SPECIES

    if str(species).strip().lower() in INDIVIDUAL_WEIGHT_SPECIES:
        for _, regimen in treatments:
            regimen.events(weight_kg=None)  # InputError on the dose when it is per kg


def dose_times_d(treatments, weight_kg: float | None) -> np.ndarray:
    """Sorted distinct dose times of ``treatments``.

    Parameters
    ----------
    treatments
        ``(compound, Regimen)`` pairs.
    weight_kg
        Body weight (kg) the regimens' per-kg doses are resolved with (``None``: none is per kg).

    Returns
    -------
    numpy.ndarray
        The distinct dose times in days after t = 0, ascending (empty without treatments).
    """
    times = [np.asarray(regimen.events(weight_kg=weight_kg).time_h, dtype=float) for _, regimen in treatments]
    return np.unique(np.concatenate(times)) / HOURS_PER_DAY if times else np.empty(0)


def _with_species_hint(exc: InputError, species: str) -> InputError:
    """A route missing in the default (mouse) PK usually means a human dose: say how to ask for one."""
    if exc.field != "route" or str(species).strip().lower() == "human":
        return exc
    return InputError(exc.field, f"{exc.problem} (species={species!r}; for a human dose such as oral "
                                 'psilocybin pass species="human")')


def _subject_for(species: str, subject):
    """The binding link's subject: a mapping goes through ``as_subject`` (as in ``simulate_acute``),
    taking ``species`` unless it names its own; ``None`` is the species' default subject."""
    if subject is None:
        from ..species import default_subject

        return default_subject(species)
    if isinstance(subject, dict):
        from ..pharmacokinetics.subject import as_subject

        return as_subject({"species": str(species).strip().lower(), **subject})
    return subject


def checked_days(days) -> float:
    """``days`` as a positive, finite number of days (a number, or a time such as ``"6 weeks"``).

    Raises
    ------
    InputError
        On ``days`` for anything else.
    """
    value = as_time(days, unit="day", field="days")
    if not np.isfinite(value) or value <= 0:
        raise InputError("days", f"must be a positive, finite number of days, got {days!r}")
    return value


def parameter_set_label(params: ParameterSet, defaults) -> str:
    """Which built-in set ``params`` is, with the parameters overridden in it.

    ``defaults`` maps species to their set (``plasticity_params``/``spine_params``). The set is
    named after the species whose defaults its non-override parameters equal (``"custom"`` when
    none), followed by ``(modified: a, b)`` for the parameters of kind ``override``
    (:meth:`~psilosim.parameters.ParameterSet.replace`).
    """
    own = params.params()
    modified = set(params.overridden())
    base = "custom"
    for species in ("human", "mouse"):
        reference = defaults(species).params()
        if all(own[n] == reference[n] for n in own if n not in modified):
            base = species
            break
    return params.labelled(base)


def _last_dose_h(regimen, weight_kg) -> float:
    events = regimen.events(weight_kg=weight_kg)
    times = np.asarray(events.time_h, dtype=float)
    return float(times.max()) if times.size else 0.0


def _washed_out(drive: Drive) -> bool:
    tail = [a[-1] for a in drive.occupancy.values()] + [drive.effect_or_zero()[-1]]
    return max(tail) < WASHOUT_LEVEL


def _label(treatments) -> str:
    parts = []
    for compound, regimen in treatments:
        name = compound if isinstance(compound, str) else getattr(compound, "name", None) or str(compound)
        parts.append(f"{name} {regimen.describe()}")
    return " + ".join(parts) or "none"


def simulate_slow_chain(
    treatments,
    *,
    species: str = "mouse",
    days: float = 34.0,
    stress: StressInput | Sequence[StressInput] | None = None,
    mechanisms=None,
    regions: Sequence[str] = DEFAULT_REGIONS,
    experience=None,
    subject=None,
    stochastic: bool = False,
    replicates: int = 1,
    seed: int | None = None,
    background_stress: float = 0.0,
    plasticity_params=None,
    spine_params=None,
    check_doses: bool = True,
) -> xr.Dataset:
    """Run links 1–5 for one subject: doses → occupancy → BDNF/TrkB, window → spine density.

    Parameters
    ----------
    treatments
        A list of ``(compound or name, Regimen)`` pairs (``[]`` = untreated), or a ready
        :class:`~psilosim.plasticity.Drive`.
    species
        ``"mouse"`` (the default: the spine targets are mouse data) or ``"human"`` (PK, binding and
        cellular parameter sets). Human routes such as oral psilocybin need ``species="human"``.
    days
        Days simulated after the first dose: a positive number, or a time such as ``"6 weeks"``.
    stress
        Chronic stress input (times relative to the first dose), or ``None``.
    mechanisms
        Routes to TrkB signalling that are on (see :func:`psilosim.plasticity.resolve_mechanisms`).
    regions
        Region labels of the spine link.
    experience
        Activity correlation per connection during the window (selection hook).
    subject
        The binding link's subject: a :class:`~psilosim.pharmacokinetics.Subject` or a mapping of
        its fields (``{"weight": "70 kg"}``, read by ``as_subject`` as :func:`simulate_acute` does;
        ``species`` is filled in unless given); defaults to the species' default subject, except
        that a per-kg dose for a human needs a given weight (refused without one, as by
        :func:`~psilosim.binding.simulate_acute`: a human is weighed individually).
    stochastic, replicates, seed
        Individual-spine option of :func:`simulate_spines`.
    background_stress
        Ongoing stress since long before the simulation (see :func:`simulate_spines`).
    plasticity_params, spine_params
        Parameter sets replacing the species defaults (e.g. an individual's).
    check_doses
        Compare the doses with the compounds' largest studied doses
        (:mod:`~psilosim.pharmacokinetics.dose_guard`: a warning above, a refusal far above);
        ``False`` for a caller that has checked them already (the ``spines`` command).

    Returns
    -------
    xarray.Dataset
        Over ``time_d`` (0 = first dose; negative while stress precedes it): ``bdnf_rel``,
        ``window``, ``engagement``, ``density_rel`` (time_d, region), ``formation_rate``,
        ``elimination_rate``, ``head_width_rel`` and the other plasticity and spine variables.
        ``attrs["parameter_sets"]`` names the sets used, with any overridden parameters, e.g.
        ``"plasticity=human (modified: window_decay);spines=human"`` (see
        :func:`parameter_set_label`); ``attrs["dose_times_d"]`` the dose times in days (absent
        for an untreated run or a ready Drive), from which
        :func:`~psilosim.plasticity.window_days` counts.

    Raises
    ------
    InputError
        ``days`` not a positive time; a ``subject`` mapping with a bad field (``subject.<field>``);
        a route the species' PK lacks (``route``, suggesting ``species="human"``); a per-kg
        dose for a human without a ``subject`` weight (on the dose, as :func:`simulate_acute`).
    """
    days = checked_days(days)
    plasticity_params_used = plasticity_params if plasticity_params is not None else _built_in_plasticity(species)
    spine_params_used = spine_params if spine_params is not None else _built_in_spines(species)
    doses_d = np.empty(0)  # unknown for a ready Drive: window_days then counts from day 0
    if isinstance(treatments, Drive):
        drive = treatments
    elif not treatments:
        drive = Drive.none()
    else:
        treatments = list(treatments)
        if subject is None:
            _refuse_per_kg_without_weight(treatments, species)
        drive = acute_drive(treatments, species=species, days=days, subject=subject, check_doses=check_doses)
        doses_d = dose_times_d(treatments, _subject_for(species, subject).weight_kg)
    start_d = stress_start_d(stress)
    plast = simulate_plasticity(drive, species=species, days=days, mechanisms=mechanisms, start_d=start_d,
                                params=plasticity_params_used)
    spines = simulate_spines(plast, species=species, regions=regions, stress=stress, experience=experience,
                             params=spine_params_used, stochastic=stochastic, replicates=replicates, seed=seed,
                             background_stress=background_stress)
    out = xr.merge([plast, spines], combine_attrs="drop_conflicts")
    sets = {"plasticity": parameter_set_label(plasticity_params_used, _built_in_plasticity),
            "spines": parameter_set_label(spine_params_used, _built_in_spines)}
    out.attrs.update(species=species.lower(), drive=drive.label, background_stress=float(background_stress),
                     stress=_stress_label(stress),
                     parameter_sets=";".join(f"{k}={v}" for k, v in sets.items()))
    if doses_d.size:
        out.attrs["dose_times_d"] = [float(d) for d in doses_d]  # a list: JSON- and NetCDF-safe
    return out


# Built once per species (sets are frozen, so sharing them is safe); also the reason for the
# wrappers: simulate_slow_chain's keyword arguments shadow the two builders inside it.
@lru_cache(maxsize=8)
def _built_in_plasticity(species: str):
    """The species' built-in plasticity set (the default of a run, and what labels it)."""
    return plasticity_params(species)


@lru_cache(maxsize=8)
def _built_in_spines(species: str):
    return spine_params(species)


def _stress_label(stress) -> str:
    if stress is None:
        return "none"
    if isinstance(stress, StressInput):
        return stress.model_dump_json()
    return "[" + ", ".join(b.model_dump_json() for b in stress) + "]"


def density_change_pct(ds: xr.Dataset, day: float, *, region: str | None = None,
                       reference_day: float = 0.0) -> float:
    """Percent change of spine density at ``day`` from ``reference_day`` (imaging convention)."""
    dens = ds["density_rel"]
    region = region or str(dens["region"].values[0])
    if region not in dens["region"].values:
        raise InputError("region", f"{region!r} is not simulated; regions: {list(dens['region'].values)}")
    series = dens.sel(region=region)
    t = ds["time_d"].values
    if not (t[0] <= day <= t[-1]) or not (t[0] <= reference_day <= t[-1]):
        raise InputError("day", f"day {day} is outside the simulated {t[0]:g}–{t[-1]:g} days")
    d = float(np.interp(day, t, series.values))
    d0 = float(np.interp(reference_day, t, series.values))
    return 100.0 * (d / d0 - 1.0)


def experimental_regimen(dose) -> object:
    """The :class:`~psilosim.regimen.Regimen` of an :class:`~psilosim.species.ExperimentalDose`."""
    from ..regimen import Regimen

    if dose.every:
        return Regimen.build(route=dose.route, phases=[{"dose": dose.dose, "every": dose.every,
                                                        "duration": dose.duration}])
    if dose.infusion:
        return Regimen.infusion(dose.dose, over=dose.infusion, route=dose.route)
    return Regimen.single(dose.dose, route=dose.route)
