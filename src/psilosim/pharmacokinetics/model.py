"""User-facing PK simulation: compound + regimen + subject → labelled concentrations.

:func:`simulate_pk` returns an :class:`xarray.Dataset` on a time grid in hours with the
analyte's plasma concentration and effect-site concentration in ng/mL (optionally the amounts
in each compartment). :func:`compound_profiles` is the building block that
:func:`psilosim.binding.simulate_acute` uses for several treatments at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pint
import xarray as xr

from .._seeds import checked_seed
from ..errors import InputError
from ..regimen import DosingEvents, Regimen
from ..units import as_time
from .dose_guard import guard_regimens
from .interactions import clearance_factor, enabled_interactions
from .kernel import LinearPK, modal_response, solve_ode, superpose
from .subject import Subject, as_subject, for_compounds

if TYPE_CHECKING:
    from ..compounds import Compound

#: Numerical methods by name (Brian2 style).
METHODS = ("analytic", "ode")
#: mg/L → ng/mL.
MG_PER_L_TO_NG_PER_ML = 1000.0
#: Default simulated time after the last dose, in terminal half-lives.
HALF_LIVES_AFTER_LAST_DOSE = 5.0
#: Minimum default simulated time after the last dose (h).
MIN_HOURS_AFTER_LAST_DOSE = 24.0


@dataclass(frozen=True)
class IndividualPK:
    """The rate constants of one subject for one compound and route, after covariates and
    interactions."""

    system: LinearPK
    fraction_available: float
    lag_h: float
    renal_fraction: float


def individual_pk(compound: Compound, route: str, subject: Subject) -> IndividualPK:
    """Typical values × weight covariate × exp(η) × interaction factors.

    Every constant is converted from the unit it is written in to the base units (h, L, kg).
    The interaction factor (MAO inhibition) acts on the elimination clearance only: the
    intercompartmental clearance is distribution, not metabolism.
    """
    pk = compound.pk(subject.species, parameter_set=subject.parameter_set(compound.name))
    rp = pk.route(route)
    eta = subject.eta(compound.name)
    reference_kg = pk.reference_weight.to("kg")
    weight = subject.weight_kg if subject.weight_kg is not None else reference_kg
    w_rel = weight / reference_kg
    size_cl = (w_rel ** pk.clearance_weight_exponent.to("")) * np.exp(eta["clearance"])
    v_factor = (w_rel ** pk.volume_weight_exponent.to("")) * np.exp(eta["volume"])
    cl_factor = size_cl * clearance_factor(pk, subject.comedication, enabled_interactions(subject.interactions))
    ka = None if rp.absorption_rate is None else rp.absorption_rate.to("1/h") * np.exp(eta["absorption"])
    q = pk.intercompartmental_clearance
    v2 = pk.peripheral_volume
    system = LinearPK(
        clearance=pk.clearance.to("L/h") * cl_factor,
        central_volume=pk.central_volume.to("L") * v_factor,
        ke0=compound.effect_site_rate.to("1/h"),
        absorption_rate=ka,
        # the peripheral compartment shares the individual's size and random effects
        intercompartmental_clearance=0.0 if q is None else q.to("L/h") * size_cl,
        peripheral_volume=0.0 if v2 is None else v2.to("L") * v_factor,
    )
    return IndividualPK(system, compound.fraction_available(route, pk),
                        0.0 if rp.lag_time is None else rp.lag_time.to("h"), pk.renal_fraction.to(""))


def as_hours(value: float | str | pint.Quantity, field: str) -> float:
    """A time in hours: a number (already hours) or a quantity with a time unit (``"30 min"``);
    :func:`psilosim.units.as_time` in hours."""
    return as_time(value, unit="h", field=field)


def time_grid(t_end_h: float | str, dt_h: float | str) -> np.ndarray:
    """Uniform grid ``0, dt, ..., t_end`` (h); it stops at the last whole step when ``dt`` does not
    divide ``t_end`` (a scenario refuses such a pair, :class:`psilosim.scenario.SimulationSpec`).
    Either may be given as a time with a unit (``"12 h"``, ``"30 min"``)."""
    t_end_h, dt_h = as_hours(t_end_h, "t_end_h"), as_hours(dt_h, "dt_h")
    if not dt_h > 0:
        raise InputError("dt_h", f"{dt_h}: the time step must be greater than zero")
    if not t_end_h > 0:
        raise InputError("t_end_h", f"{t_end_h}: the simulated time must be greater than zero")
    if not dt_h < t_end_h:  # a one- or two-point grid is no time course
        raise InputError("dt_h", f"{dt_h} h: the time step must be shorter than the simulated time ({t_end_h} h)")
    n = int(np.floor(t_end_h / dt_h + 1e-9))
    return np.arange(n + 1) * dt_h


def default_t_end_h(compound: Compound, events: DosingEvents, subject: Subject) -> float:
    """Last dose end plus max(24 h, five terminal half-lives of the typical subject)."""
    pk = compound.pk(subject.species, parameter_set=subject.parameter_set(compound.name))
    after = max(MIN_HOURS_AFTER_LAST_DOSE, HALF_LIVES_AFTER_LAST_DOSE * pk.elimination_half_life_h())
    return events.end_h + after


def check_method(method: str) -> str:
    """``method`` if it is one of :data:`METHODS` (the PK solvers), else ``InputError("method", ...)``."""
    if method not in METHODS:
        raise InputError("method", f"{method!r} is not a method; known: {', '.join(METHODS)}")
    return method


def compound_profiles(compound: Compound, regimens: list[Regimen], subject: Subject, times: np.ndarray,
                      *, method: str = "analytic", amounts: bool = False) -> dict[str, np.ndarray]:
    """Plasma and effect-site concentration (ng/mL) of one compound under several regimens.

    Regimens of one compound superpose (the model is linear), so each is solved on its own
    route and the results are summed. With ``amounts=True`` the result also holds ``input``
    (mg of analyte entered so far), ``depot``, ``central``, ``peripheral`` and ``eliminated``
    (mg) and ``renal`` (mg excreted unchanged).
    """
    check_method(method)
    out: dict[str, np.ndarray] = {k: np.zeros(times.size) for k in
                                  ("concentration", "effect_site_concentration", "input", "depot",
                                   "central", "peripheral", "eliminated", "renal")}
    for regimen in regimens:
        events = regimen.events(weight_kg=subject.weight_kg)
        ind = individual_pk(compound, events.route.value, subject)
        doses = events.scaled(ind.fraction_available).shifted(ind.lag_h)
        states, eliminated = _solve(ind.system, times, doses, method, need_eliminated=amounts)
        names = ind.system.states
        v1 = ind.system.central_volume
        out["concentration"] += states[names.index("central")] / v1 * MG_PER_L_TO_NG_PER_ML
        out["effect_site_concentration"] += states[names.index("effect")] * MG_PER_L_TO_NG_PER_ML
        if amounts:
            for name in ("depot", "central", "peripheral"):
                if name in names:
                    out[name] += states[names.index(name)]
            out["eliminated"] += eliminated
            out["renal"] += ind.renal_fraction * eliminated
            out["input"] += _cumulative_input(times, doses)
    # a sum of exponentials that is exactly 0 at a dose time can come out as -1e-20 in floating
    # point; concentrations are non-negative by construction
    for key in ("concentration", "effect_site_concentration"):
        np.maximum(out[key], 0.0, out=out[key])
    return out


def _solve(system: LinearPK, times: np.ndarray, doses: DosingEvents, method: str,
           *, need_eliminated: bool) -> tuple[np.ndarray, np.ndarray]:
    if method == "ode":
        return solve_ode(system, times, doses.time_h, doses.amount_mg, doses.duration_h)
    lam, g = modal_response(system.matrix(), system.input_state)
    states = superpose(times, doses.time_h, doses.amount_mg, doses.duration_h, lam, g)
    eliminated = np.zeros(times.size)
    if need_eliminated:
        integral = superpose(times, doses.time_h, doses.amount_mg, doses.duration_h, lam, g, integral=True)
        k10 = system.clearance / system.central_volume
        eliminated = k10 * integral[system.states.index("central")]
    return states, eliminated


def _cumulative_input(times: np.ndarray, doses: DosingEvents) -> np.ndarray:
    since = times[None, :] - doses.time_h[:, None]
    dur = doses.duration_h[:, None]
    fraction = np.where(dur > 0, np.clip(since / np.where(dur > 0, dur, 1.0), 0.0, 1.0), since >= 0)
    return doses.amount_mg @ fraction


def simulate_pk(compound: str | Compound, regimen: Regimen | dict, *, subject: Subject | dict | None = None,
                t_end_h: float | str | None = None, dt_h: float | str = 0.25, seed: int | None = None,
                method: str = "analytic", parameter_set: str | None = None,
                amounts: bool = False) -> xr.Dataset:
    """Plasma concentration of a compound's analyte after a regimen.

    Parameters
    ----------
    compound
        Name (case-insensitive) or :class:`~psilosim.compounds.Compound`.
    regimen
        The dosing regimen (a :class:`~psilosim.regimen.Regimen`, or a mapping for
        :meth:`Regimen.build <psilosim.regimen.Regimen.build>`).
    subject
        :class:`Subject` (default: typical 70 kg-reference human without random effects).
        Its ``parameter_sets`` and ``random_effects`` may only name this compound.
    t_end_h, dt_h
        Simulated time and output step (h, or a time such as ``"3 days"``); default end: last
        dose + max(24 h, 5 half-lives).
    seed
        When given and the subject has no random effects for this compound, draw them.
    method
        ``"analytic"`` (exact superposition) or ``"ode"`` (LSODA, restarted at doses).
    parameter_set
        PK parameter set name (``"holze2023"`` | ``"brown2017"`` for psilocybin).
    amounts
        Also return compartment amounts (mg) for mass-balance checks.

    Returns
    -------
    xarray.Dataset
        ``concentration`` and ``effect_site_concentration`` (``time_h``; ng/mL); with
        ``amounts``, ``amount`` (``state``, ``time_h``; mg). ``attrs["parameter_set"]`` names the
        set and the parameters changed in it (``"holze2023 (modified: clearance)"``);
        ``attrs["seed"]`` is present when a seed was given.

    Raises
    ------
    InputError
        Naming the argument of the wrong type, a subject key that is not this compound, or a
        dose more than 100 times the compound's largest studied human dose
        (:mod:`~psilosim.pharmacokinetics.dose_guard`; above that dose it warns,
        :class:`~psilosim.errors.ExtrapolationWarning`).
    """
    from ..compounds import Compound, get_compound

    seed = checked_seed(seed)
    if not isinstance(compound, (str, Compound)):
        raise InputError("compound", f"expected a compound name or Compound, got {type(compound).__name__}")
    comp = get_compound(compound)
    regimen = as_regimen(regimen, "regimen")
    subj = for_compounds(as_subject(subject), [comp])
    t_end_h = None if t_end_h is None else as_hours(t_end_h, "t_end_h")
    dt_h = as_hours(dt_h, "dt_h")
    guard_regimens([(comp, regimen)], subj, stacklevel=2, field="regimen.phases.{p}.dose")
    if parameter_set is not None:
        comp.pk(subj.species, parameter_set=parameter_set)  # validates the name
        subj = subj.model_copy(update={"parameter_sets": {**subj.parameter_sets, comp.name.lower(): parameter_set}})
    if seed is not None and comp.name.lower() not in subj.random_effects:
        subj = subj.with_random_effects([comp], seed=seed)
    events = regimen.events(weight_kg=subj.weight_kg)
    times = time_grid(t_end_h if t_end_h is not None else default_t_end_h(comp, events, subj), dt_h)
    prof = compound_profiles(comp, [regimen], subj, times, method=method, amounts=amounts)
    pk = comp.pk(subj.species, parameter_set=subj.parameter_set(comp.name))
    ds = xr.Dataset(
        {
            "concentration": ("time_h", prof["concentration"], {"units": "ng/mL", "long_name": f"plasma {comp.analyte}"}),
            "effect_site_concentration": ("time_h", prof["effect_site_concentration"],
                                          {"units": "ng/mL", "long_name": f"effect-site {comp.analyte}"}),
        },
        coords={"time_h": ("time_h", times, {"units": "h"})},
        attrs={"compound": comp.name, "analyte": comp.analyte, "parameter_set": pk.provenance_label(),
               "species": subj.species, "method": method, "regimen": regimen.describe(),
               **({} if seed is None else {"seed": int(seed)})},
    )
    if amounts:
        states = ["input", "depot", "central", "peripheral", "eliminated", "renal"]
        ds["amount"] = (("state", "time_h"), np.stack([prof[s] for s in states]), {"units": "mg"})
        ds = ds.assign_coords(state=states)
    return ds


def as_regimen(regimen, field: str) -> Regimen:
    """A :class:`Regimen`, or a mapping built into one (InputError on ``field`` otherwise)."""
    if isinstance(regimen, dict):
        return Regimen.build(**regimen)
    if not isinstance(regimen, Regimen):
        raise InputError(field, f"expected a Regimen such as Regimen.single('25 mg'), got "
                                f"{type(regimen).__name__} {regimen!r}")
    return regimen
