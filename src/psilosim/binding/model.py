"""Acute pharmacodynamics: occupancy per target, 5-HT2A pools, subjective effect.

:func:`simulate_acute` is the public contract the later links code against::

    ds = simulate_acute([("psilocybin", Regimen.single("25 mg"))], t_end_h=24)
    ds.concentration.sel(compound="psilocybin")     # psilocin, ng/mL
    ds.occupancy.sel(target="5-HT2A_surface")       # fraction 0-1
    ds.effect                                       # "any drug effect", 0-1

Rules (see docs/pharmacology.md):

* every compound has its own effect compartment (ke0); binding uses the effect-site
  concentration;
* ligands of one target compete: ``occ_i = occmax_i r_i / (1 + Σ r_j)``, ``r = Ce/EC50``;
* 5-HT2A has two pools: a ligand reaches the intracellular pool with its
  ``membrane_permeability``; serotonin raised by SERT blockade reaches only the surface pool;
* 5-HT2A availability ``R`` (both pools) falls under sustained SERT occupancy (RB8);
* the subjective effect is a sigmoid of ``R · Σ hallucinogenic_efficacy · occ_surface``.

The chain is solved on an internal grid that contains the output times (step at most
``ACUTE_RESOLUTION.max_internal_step``), so the values at the output times do not depend on the
output step; peaks and durations read from the output are samples of it, and a step that misses
them raises a :class:`CoarseOutputStepWarning`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from .. import DISCLAIMER
from .._seeds import checked_seed
from ..errors import CoarseOutputStepWarning, InputError
from ..pharmacokinetics.dose_guard import guard_regimens
from ..pharmacokinetics.interactions import (
    INTERACTION_PARAMS,
    InteractionParams,
    enabled_interactions,
)
from ..pharmacokinetics.model import as_hours, check_method, compound_profiles, time_grid
from ..pharmacokinetics.subject import Subject, as_subject, for_compounds
from ..regimen import Regimen
from .kernel import competitive_occupancy, relax_first_order, sigmoid_emax, time_above
from .params import ACUTE_RESOLUTION, EFFECT_PARAMS, EffectParams, ResolutionParams

#: Target coordinates of the ``occupancy`` variable (the public contract).
TARGETS = ("5-HT2A_surface", "5-HT2A_intracellular", "TrkB", "SERT", "NMDA")
POOLS = ("surface", "intracellular")

Treatment = tuple[Any, Regimen]
#: Relative slack when dividing the output step into internal steps (float rounding).
_STEP_SLACK = 1e-9


def internal_split(dt_h: float, max_step_h: float) -> int:
    """Fewest equal parts of an output step that are no longer than the largest internal step.

    Parameters
    ----------
    dt_h
        The output step (h).
    max_step_h
        The largest internal step allowed (h; ``ACUTE_RESOLUTION.max_internal_step``).

    Returns
    -------
    int
        The number of parts, at least 1 (a step already short enough is not split); a ratio
        within float rounding of a whole number counts as that number.
    """
    return max(1, math.ceil(dt_h / max_step_h - _STEP_SLACK))


def _normalise_treatments(treatments) -> list[tuple[Any, Regimen]]:
    if isinstance(treatments, tuple) and len(treatments) == 2 and isinstance(treatments[1], (Regimen, dict)):
        treatments = [treatments]
    if not isinstance(treatments, Sequence) or isinstance(treatments, (str, bytes)) or not treatments:
        raise InputError("treatments", "expected a non-empty list of (compound, Regimen) pairs")
    out = []
    for i, item in enumerate(treatments):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise InputError(f"treatments.{i}", "expected a (compound, Regimen) pair")
        compound, regimen = item
        if isinstance(regimen, dict):
            regimen = Regimen.build(**regimen)
        if not isinstance(regimen, Regimen):
            raise InputError(f"treatments.{i}", f"expected a Regimen, got {type(regimen).__name__}")
        out.append((compound, regimen))
    return out


def _resolve_compounds(treatments) -> list[tuple[Any, Regimen]]:
    from ..compounds import Compound, get_compound

    out = []
    for i, (compound, regimen) in enumerate(treatments):
        if not isinstance(compound, (str, Compound)):
            raise InputError(f"treatments.{i}", f"expected a compound name or Compound, got {type(compound).__name__}")
        out.append((get_compound(compound), regimen))
    return out


def _group_by_compound(treatments):
    groups: dict[str, tuple[Any, list[Regimen]]] = {}
    for comp, regimen in treatments:
        groups.setdefault(comp.name.lower(), (comp, []))[1].append(regimen)
    return list(groups.values())


def simulate_acute(treatments, *, subject: Subject | dict | None = None, t_end_h: float | str,
                   dt_h: float | str = 0.25, seed: int | None = None, method: str = "analytic",
                   effect_params: EffectParams = EFFECT_PARAMS,
                   interaction_params: InteractionParams = INTERACTION_PARAMS,
                   check_doses: bool = True, resolution: ResolutionParams = ACUTE_RESOLUTION) -> xr.Dataset:
    """Concentrations, occupancy per target and subjective effect for one subject.

    Parameters
    ----------
    treatments
        A list of ``(compound, Regimen)`` pairs (compound: name or
        :class:`~psilosim.compounds.Compound`), or a single pair. Several regimens of one
        compound superpose.
    subject
        :class:`~psilosim.pharmacokinetics.Subject` (species, weight, co-medication, random
        effects, interaction switches); default the typical human. Its ``parameter_sets`` and
        ``random_effects`` may only name compounds of ``treatments`` (aliases accepted).
    t_end_h, dt_h
        Simulated time and output step (h, or a time such as ``"12 h"``, ``"15 min"``). The
        chain is solved on an internal grid of ``dt_h`` split into equal steps no longer than
        ``resolution.max_internal_step``, so the values at the output times do not depend on
        ``dt_h``; peaks and durations read from the output are samples of it.
    seed
        Draw random effects for compounds the subject has none for.
    method
        ``"analytic"`` or ``"ode"`` (see :mod:`psilosim.pharmacokinetics.kernel`).
    check_doses
        Compare each dose with the compound's largest studied dose (below). ``False`` is for a
        caller that has checked the doses already, e.g. a virtual trial, which checks each arm
        once before its patients (:func:`psilosim.clinical.trial.check_arm_doses`).
    resolution
        Internal step and the tolerance of the coarse-step warning (:class:`ResolutionParams`).

    Returns
    -------
    xarray.Dataset
        ``concentration`` and ``effect_site_concentration`` (compound, time_h; ng/mL of the
        analyte), ``occupancy`` (target, time_h; 0–1), ``serotonin_occupancy`` (time_h; surface
        pool), ``activation`` (pool, time_h), ``receptor_availability`` (time_h), ``effect``
        (time_h; 0–1); attrs hold units, the parameter set of each compound (with the
        parameters a user changed: ``"psilocybin=holze2023 (modified: clearance)"``), the
        disclaimer, ``internal_step_h``, and ``weight_kg`` and ``seed`` when the subject has a
        weight and a seed was given.

    Warns
    -----
    CoarseOutputStepWarning
        (a ``UserWarning``) naming ``dt_h`` when a peak concentration, peak occupancy, peak effect
        or effect duration read from the output grid differs from the same on the internal grid
        by more than ``resolution.summary_rtol`` of it (and an occupancy or effect by more than
        ``resolution.summary_atol``); the message gives the internal-grid values.

    Raises
    ------
    InputError
        Naming the bad argument; for a human dose more than 100 times the compound's largest
        studied dose (:mod:`~psilosim.pharmacokinetics.dose_guard`; a dose above the studied one
        is simulated with an :class:`~psilosim.errors.ExtrapolationWarning`, a ``UserWarning``).
    """
    check_method(method)
    seed = checked_seed(seed)
    t_end_h, dt_h = as_hours(t_end_h, "t_end_h"), as_hours(dt_h, "dt_h")
    resolved = _resolve_compounds(_normalise_treatments(treatments))
    groups = _group_by_compound(resolved)
    subj = for_compounds(as_subject(subject), [c for c, _ in groups])
    if check_doses:
        guard_regimens(resolved, subj, stacklevel=2)
    if seed is not None:
        missing = [c for c, _ in groups if c.name.lower() not in subj.random_effects]
        subj = subj.with_random_effects(missing, seed=seed) if missing else subj
    times = time_grid(t_end_h, dt_h)
    inner, every = _internal_grid(times, resolution.max_internal_step.to("h"))
    profiles = [compound_profiles(c, regs, subj, inner, method=method) for c, regs in groups]
    compounds = [c for c, _ in groups]
    conc = np.stack([p["concentration"] for p in profiles])
    ce = np.stack([p["effect_site_concentration"] for p in profiles])
    pd = acute_pharmacodynamics(compounds, ce, inner, subj, effect_params=effect_params, interaction_params=interaction_params)
    ds = _to_dataset(compounds, subj, inner, conc, ce, pd, method, seed, effect_params)
    ds.attrs["internal_step_h"] = float(inner[1] - inner[0])
    if every == 1:
        return ds
    out = ds.isel(time_h=slice(None, None, every))  # the output times, exactly (_internal_grid)
    _warn_if_sampled_summaries_differ(ds, out, dt_h, resolution)
    return out


def _internal_grid(times: np.ndarray, max_step_h: float) -> tuple[np.ndarray, int]:
    """The output grid ``times`` (uniform, h) with each step split into the fewest equal parts no
    longer than ``max_step_h``; returns the grid and the split, so ``grid[::split] == times``."""
    dt = float(times[1] - times[0])
    split = internal_split(dt, max_step_h)
    inner = np.arange((times.size - 1) * split + 1) * (dt / split)
    inner[::split] = times  # the output times exactly, not up to round-off
    return inner, split


def acute_summary(ds: xr.Dataset) -> dict[str, tuple[float, str]]:
    """Peaks and effect duration of an acute run, each with its display unit: the summary
    ``psilosim run`` prints and gives under ``--json`` key ``summary`` (its keys), and the
    quantities :func:`simulate_acute` checks for a coarse output step.

    Parameters
    ----------
    ds
        :func:`simulate_acute`'s result (one subject), or such results stacked along a ``subject``
        dimension (:func:`psilosim.scenario.simulate_scenario`).

    Returns
    -------
    dict
        ``{name: (value, unit)}``, each value the median over subjects of the subject's own value:
        ``Cmax <moiety>`` (ng/mL; the library analyte, e.g. ``psilocin``, or ``<compound> active
        moiety`` for a custom compound), ``peak occupancy <target>`` (%, only targets some subject
        occupies at all), ``peak subjective effect`` (% of scale) and ``effect duration`` (h at or
        above the effect's ``duration_threshold`` attribute, default the documented one).
    """
    subjects = [ds.isel(subject=i) for i in range(ds.sizes["subject"])] if "subject" in ds.dims else [ds]
    threshold = ds.effect.attrs.get("duration_threshold")
    out: dict[str, tuple[float, str]] = {}
    for comp, analyte in zip(ds.compound.values, ds.analyte.values, strict=True):
        out[f"Cmax {_moiety_name(str(comp), str(analyte))}"] = (
            _median(s.concentration.sel(compound=comp).max() for s in subjects), "ng/mL")
    for target in ds.target.values:
        if float(ds.occupancy.sel(target=target).max()) > 0:
            out[f"peak occupancy {target}"] = (100 * _median(s.occupancy.sel(target=target).max() for s in subjects),
                                                "%")
    out["peak subjective effect"] = (100 * _median(s.effect.max() for s in subjects), "% of scale")
    out["effect duration"] = (_median(effect_duration_h(s, threshold=threshold) for s in subjects), "h")
    return out


def _median(values) -> float:
    return float(np.median([float(v) for v in values]))


def _moiety_name(compound: str, analyte: str) -> str:
    """What a concentration is of: the library analyte (``psilocin``), or for a custom compound,
    which inherits its template's analyte name, that compound's own active moiety."""
    from ..compounds import get_compound

    try:
        library = get_compound(compound)
    except InputError:
        return f"{compound} active moiety"
    return analyte if library.analyte == analyte else f"{compound} active moiety"


def _warn_if_sampled_summaries_differ(inner: xr.Dataset, out: xr.Dataset, dt_h: float,
                                      resolution: ResolutionParams) -> None:
    exact, sampled = acute_summary(inner), acute_summary(out)
    rtol, atol = resolution.summary_rtol.value, resolution.summary_atol.value
    off = []
    for name, (value, unit) in exact.items():
        gap = abs(sampled[name][0] - value)
        on_scale = unit != "ng/mL" and unit != "h"  # percentages of a 0-1 scale
        if gap > rtol * abs(value) and (not on_scale or gap > 100 * atol):
            off.append(f"{name} {sampled[name][0]:.3g} (internal grid: {value:.3g} {unit})")
    if off:
        step = inner.attrs["internal_step_h"]
        warnings.warn(CoarseOutputStepWarning(
            f"dt_h = {dt_h:g} h samples the peaks: on the output grid {'; '.join(off)}. The values at the output "
            f"times are exact (internal step {step:g} h), but peaks and durations read from them are sampled; "
            f"choose dt_h <= {step:g} h for them"), stacklevel=3)


def acute_pharmacodynamics(compounds, ce: np.ndarray, times: np.ndarray, subject: Subject,
                           *, effect_params: EffectParams = EFFECT_PARAMS,
                           interaction_params: InteractionParams = INTERACTION_PARAMS) -> dict[str, np.ndarray]:
    """Occupancy, activation, availability and effect from effect-site concentrations.

    ``ce`` has shape ``(n_compounds, T)`` in ng/mL, on the uniform grid ``times`` (h).
    """
    enabled = enabled_interactions(subject.interactions)
    occupancy = {t: np.zeros(times.size) for t in TARGETS}
    for family in ("TrkB", "SERT", "NMDA"):
        occupancy[family] = _family_occupancy(compounds, ce, family).sum(axis=0)

    background = interaction_params.chronic_ssri_sert_occupancy.value if "ssri" in subject.comedication else 0.0
    sert_block = np.maximum(occupancy["SERT"], background)
    serotonin_ratio = (interaction_params.serotonin_ratio_at_full_sert_block.value * sert_block
                       if enabled["ssri_surface_serotonin"] else np.zeros(times.size))

    surface = _family_occupancy(compounds, ce, "5-HT2A", extra_ratio=serotonin_ratio)
    intracellular = _family_occupancy(compounds, ce, "5-HT2A", permeable_only=True)
    occupancy["5-HT2A_surface"] = surface.sum(axis=0)
    occupancy["5-HT2A_intracellular"] = intracellular.sum(axis=0)
    serotonin_occ = serotonin_ratio / (1.0 + _ratios(compounds, ce, "5-HT2A").sum(axis=0) + serotonin_ratio)

    # the individual's receptor density scales availability (B_max), not the occupied fraction
    availability = subject.ht2a_density * _availability(times, sert_block, background, enabled, interaction_params)
    agonism = np.array([c.agonist_efficacy.value for c in compounds])[:, None]
    hallucinogenic = np.array([c.hallucinogenic_efficacy.value for c in compounds])[:, None]
    activation = {
        # serotonin is a full agonist at the surface pool
        "surface": availability * ((agonism * surface).sum(axis=0) + serotonin_occ),
        "intracellular": availability * (agonism * intracellular).sum(axis=0),
    }
    drive = availability * (hallucinogenic * surface).sum(axis=0)
    effect = sigmoid_emax(drive, effect_params.drive_50.value, effect_params.hill.value, effect_params.emax.value)
    return {"occupancy": occupancy, "serotonin_occupancy": serotonin_occ, "activation": activation,
            "availability": availability, "drive": drive, "effect": effect}


def _ratios(compounds, ce, family: str, *, permeable_only: bool = False) -> np.ndarray:
    rows = []
    for comp, c in zip(compounds, ce, strict=True):
        tb = comp.binding.get(family)
        if tb is None:
            rows.append(np.zeros_like(c))
            continue
        reach = comp.membrane_permeability.value if permeable_only else 1.0
        rows.append(reach * c / tb.ec50.to("ng/mL"))
    return np.array(rows)


def _family_occupancy(compounds, ce, family: str, *, permeable_only: bool = False,
                      extra_ratio: np.ndarray | float = 0.0) -> np.ndarray:
    ratios = _ratios(compounds, ce, family, permeable_only=permeable_only)
    occmax = np.array([c.binding[family].occmax.value if family in c.binding else 0.0 for c in compounds])
    return competitive_occupancy(ratios, occmax, extra_ratio=extra_ratio)


def _availability(times, sert_block, background, enabled, params: InteractionParams) -> np.ndarray:
    """5-HT2A availability ``R(t)`` (1 = no down-regulation)."""
    if not enabled["ssri_5ht2a_downregulation"]:
        return np.ones(times.size)
    d_max = params.downregulation_max.value
    tau_h = params.downregulation_time.to("hour")
    target = 1.0 - d_max * sert_block
    start = 1.0 - d_max * background
    dt = float(times[1] - times[0]) if times.size > 1 else 1.0
    return relax_first_order(target, dt, tau_h, start)


def is_sub_psychedelic(peak_effect: float, *, effect_params: EffectParams = EFFECT_PARAMS) -> bool:
    """Whether a peak subjective effect stays sub-psychedelic: below ``duration_threshold``, the
    level the model counts as a subjective effect at all (the one definition of "sub-psychedelic"
    used by ``psilosim spines`` / ``window`` and the trial report).

    Parameters
    ----------
    peak_effect
        Peak of the subjective "any drug effect" (0-1): one subject's, or for a trial arm the mean
        of its patients' peaks (``acute_effect_peak`` of :func:`psilosim.clinical.stats.biology_summary`).
    effect_params
        The effect parameters whose ``duration_threshold`` is the limit.

    Returns
    -------
    bool
        ``True`` when ``peak_effect`` is below the threshold.
    """
    return float(peak_effect) < effect_params.duration_threshold.value


def effect_duration_h(ds: xr.Dataset, *, threshold: float | None = None) -> float:
    """Hours with the subjective effect at or above ``threshold`` (default: the documented one)."""
    thr = EFFECT_PARAMS.duration_threshold.value if threshold is None else threshold
    return time_above(ds.time_h.values, ds.effect.values, thr)


def _to_dataset(compounds, subject, times, conc, ce, pd, method, seed, effect_params) -> xr.Dataset:
    names = [c.name for c in compounds]
    sets = {c.name: c.pk(subject.species, parameter_set=subject.parameter_set(c.name)).provenance_label() for c in compounds}
    ds = xr.Dataset(
        {
            "concentration": (("compound", "time_h"), conc,
                              {"units": "ng/mL", "long_name": "plasma concentration of the active analyte"}),
            "effect_site_concentration": (("compound", "time_h"), ce,
                                          {"units": "ng/mL", "long_name": "effect-site concentration"}),
            "occupancy": (("target", "time_h"), np.stack([pd["occupancy"][t] for t in TARGETS]),
                          {"units": "1", "long_name": "fraction of available sites occupied by drug"}),
            "serotonin_occupancy": ("time_h", pd["serotonin_occupancy"],
                                    {"units": "1", "long_name": "surface 5-HT2A occupied by SSRI-raised serotonin"}),
            "activation": (("pool", "time_h"), np.stack([pd["activation"][p] for p in POOLS]),
                           {"units": "1", "long_name": "5-HT2A activation (availability x efficacy x occupancy)"}),
            "receptor_availability": ("time_h", pd["availability"],
                                      {"units": "1", "long_name": "5-HT2A availability after down-regulation"}),
            "effect": ("time_h", pd["effect"], {"units": "1", "long_name": "subjective 'any drug effect' (0-1)",
                                                "duration_threshold": effect_params.duration_threshold.value}),
        },
        coords={
            "time_h": ("time_h", times, {"units": "h"}),
            "compound": ("compound", names),
            "analyte": ("compound", [c.analyte for c in compounds]),
            "target": ("target", list(TARGETS)),
            "pool": ("pool", list(POOLS)),
        },
        attrs={
            "species": subject.species,
            "comedication": ",".join(subject.comedication),
            "parameter_sets": ";".join(f"{k}={v}" for k, v in sets.items()),
            "method": method,
            "disclaimer": DISCLAIMER,
            # netCDF attributes cannot be None: an unknown weight or an absent seed is left out
            **({} if subject.weight_kg is None else {"weight_kg": subject.weight_kg}),
            **({} if seed is None else {"seed": int(seed)}),
        },
    )
    return ds
