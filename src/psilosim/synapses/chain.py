"""The slow chain: dose → receptor drive → BDNF/TrkB and the window → spines, in one call.

:func:`simulate_slow_chain` is what the network and clinical layers call per patient, so it is
kept cheap: the acute pharmacology is solved only while a compound is present (dense steps
near doses), the slow states on a coarse day grid elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from ..errors import InputError
from ..plasticity import Drive, simulate_plasticity
from ..plasticity.model import HOURS_PER_DAY
from .model import DEFAULT_REGIONS, StressInput, simulate_spines, stress_start_d

#: Time after the last dose over which the acute pharmacology is solved before the drive is
#: checked for wash-out (numerical setting; extended automatically while occupancy persists).
ACUTE_TAIL_H = 48.0
#: A drive counts as washed out when every occupancy and the effect are below this fraction.
WASHOUT_LEVEL = 1e-3
#: Step of the acute solution in hours (the binding link's default resolution).
ACUTE_STEP_H = 0.25
#: A simulated span shorter than a few steps gets a finer step, so it still has this many samples.
MIN_ACUTE_SAMPLES = 4


def acute_drive(treatments, *, species: str, days: float, subject=None) -> Drive:
    """Receptor drive from the pharmacology link for ``treatments`` (list of (compound, Regimen)).

    The acute solution runs to the last dose plus :data:`ACUTE_TAIL_H`, doubling the tail while
    any target is still occupied, never beyond ``days``.
    """
    from ..binding import simulate_acute  # the pharmacology link; imported late on purpose
    subject = _subject_for(species, subject)
    last_dose_h = max((_last_dose_h(reg, subject.weight_kg) for _, reg in treatments), default=0.0)
    end_h = days * HOURS_PER_DAY
    tail = ACUTE_TAIL_H
    while True:
        t_end = min(last_dose_h + tail, end_h)
        ds = simulate_acute(treatments, subject=subject, t_end_h=t_end,
                            dt_h=min(ACUTE_STEP_H, t_end / MIN_ACUTE_SAMPLES))
        drive = Drive.from_acute(ds, label=_label(treatments))
        if t_end >= end_h or _washed_out(drive):
            return drive
        tail *= 2


def _subject_for(species: str, subject):
    if subject is not None:
        return subject
    from ..species import default_subject

    return default_subject(species)


def _last_dose_h(regimen, weight_kg) -> float:
    events = regimen.events(weight_kg)
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
) -> xr.Dataset:
    """Run links 1–5 for one subject: doses → occupancy → BDNF/TrkB, window → spine density.

    Parameters
    ----------
    treatments
        A list of ``(compound or name, Regimen)`` pairs (``[]`` = untreated), or a ready
        :class:`~psilosim.plasticity.Drive`.
    species
        ``"mouse"`` or ``"human"`` (PK, binding and cellular parameter sets).
    days
        Days simulated after the first dose.
    stress
        Chronic stress input (times relative to the first dose), or ``None``.
    mechanisms
        Routes to TrkB signalling that are on (see :func:`psilosim.plasticity.resolve_mechanisms`).
    regions
        Region labels of the spine link.
    experience
        Activity correlation per connection during the window (selection hook).
    subject
        The binding link's subject (weight etc.); defaults to the species' default subject.
    stochastic, replicates, seed
        Individual-spine option of :func:`simulate_spines`.
    background_stress
        Ongoing stress since long before the simulation (see :func:`simulate_spines`).
    plasticity_params, spine_params
        Parameter sets replacing the species defaults (e.g. an individual's).

    Returns
    -------
    xarray.Dataset
        Over ``time_d`` (0 = first dose; negative while stress precedes it): ``bdnf_rel``,
        ``window``, ``engagement``, ``density_rel`` (time_d, region), ``formation_rate``,
        ``elimination_rate``, ``head_width_rel`` and the other plasticity and spine variables.
    """
    if isinstance(treatments, Drive):
        drive = treatments
    elif not treatments:
        drive = Drive.none()
    else:
        drive = acute_drive(list(treatments), species=species, days=days, subject=subject)
    start_d = stress_start_d(stress)
    plast = simulate_plasticity(drive, species=species, days=days, mechanisms=mechanisms, start_d=start_d,
                                params=plasticity_params)
    spines = simulate_spines(plast, species=species, regions=regions, stress=stress, experience=experience,
                             params=spine_params, stochastic=stochastic, replicates=replicates, seed=seed,
                             background_stress=background_stress)
    out = xr.merge([plast, spines], combine_attrs="drop_conflicts")
    out.attrs.update(species=species.lower(), drive=drive.label, background_stress=float(background_stress),
                     stress=_stress_label(stress))
    return out


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
