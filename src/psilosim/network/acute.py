"""Named representations of the acute 5-HT2A state, for comparing them on the same checks.

Two choices define how occupancy of the 5-HT2A receptor enters a whole-brain model:

* ``acute_state`` — what the drug changes in a region:

  - ``"gain"`` (the default of psilosim's checks): the excitatory gain of the dynamic mean
    field, ``g_i = 1 + s R_i occupancy`` (Deco et al. 2018 Curr Biol 28:3065), FC from the
    linear-noise approximation of the DMF;
  - ``"current"``: receptor-weighted input currents into both populations of the DMF,
    ``w_exc R_i I_drug`` into E and ``w_inh R_i I_drug`` into I, with ``I_drug = J_drug ·
    occupancy / O_ref`` (Kringelbach et al. 2020 PNAS 117:9566, authors' code
    decolab/pnas-neuromod, where ``I_drug`` relaxes to ``J_drug`` times a sigmoid of the
    raphe-driven serotonin release; :data:`CURRENT`), FC from the same linear-noise
    approximation with FIC at its baseline values. The current adds net excitation, and at the
    stored fitted couplings (FIC's working point just below its instability) even a small one
    takes the baseline fixed point through a saddle-node, so the session lowers G as
    :func:`~psilosim.network.scan.linear_session` does and records it in ``attrs["coupling"]``;
  - ``"bifurcation_shift"``: the local bifurcation parameter of the Hopf model moves towards
    the bifurcation, ``a_i = a + shift R_i occupancy`` (psilosim's assumption, qualitatively in
    line with Jobst et al. 2021 NeuroImage 230:117809, whose fitted LSD working point lies
    further from the stable equilibrium), FC from the Lyapunov equation of the linearised
    Hopf network at the dataset's fitted coupling (:data:`~psilosim.network.hopf.FITTED_HOPF`).

* ``normalisation`` — how the PET density becomes ``R_i``:

  - ``"max"`` (the default): ``R = density / max`` as in the code of Deco et al. 2018 and
    Kringelbach et al. 2020 (decolab/pnas-neuromod); on Schaefer-100 R spans 0.59–1, so every
    region gets ≥ 59 % of the largest change;
  - ``"minmax"``: ``R = (density − min) / (max − min)``, the [0, 1] rescaling used for
    heterogeneity maps elsewhere; the least dense region gets no drug effect.

Null maps that carry the real map's values (shuffled, variogram) and the uniform map (the real
map's mean) are transformed with the *real* map's minimum, so every condition keeps the same
values as the receptor condition. The measured consequences for NW1, NW2 and NW6 are in
``docs/network.md`` ("Acute state: alternatives investigated").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from ..connectome import Parcellation
from ..connectome.builtin import HT2A
from ..errors import DataError, InputError
from ..parameters import Param, ParameterSet
from .dmf import DMFModel
from .dmf.linear import LinearDMF, stable_coupling
from .hopf import FITTED_HOPF, HopfModel
from .scan import (
    MAX_BACKOFFS,
    STABILITY_BACKOFF,
    conditions,
    coupling_for,
    expected_fc_session,
    linear_session,
    stored_coupling,
)

K2020 = "Kringelbach et al. 2020 PNAS 117:9566"
K2020_CODE = K2020 + ", authors' code decolab/pnas-neuromod"
CH2012 = "Carhart-Harris et al. 2012 PNAS 109:2138"


class CurrentParams(ParameterSet):
    """The ``"current"`` acute state: receptor-weighted drug currents (Kringelbach et al. 2020)."""

    w_exc: Param
    w_inh: Param
    j_drug: Param
    reference_occupancy: Param


class Kringelbach2020Scans(ParameterSet):
    """The psilocybin scans Kringelbach et al. 2020 fitted, as a regimen and a scan window."""

    dose: Param
    scan_start: Param
    scan_end: Param
    time_step: Param


KRINGELBACH2020_SCANS = Kringelbach2020Scans(
    dose=Param(value=2.0, unit="mg", source=CH2012 + " (the data of " + K2020 + ")", kind="published", low=0.0,
               note="psilocybin intravenously (injected over 60 s), taken as a bolus at the start of the injection"),
    scan_start=Param(value=1.0, unit="min", source=CH2012 + " (Methods; not verified)", kind="unverified",
                     note="the 12-min BOLD run had the injection 6 min in; the drug condition is taken as the "
                          "post-injection part, from the end of the 60-s injection (which part the authors' "
                          "time courses hold is not stated in their code); the chain's occupancy is still rising "
                          "here, so the window matters (docs/network.md#acute-alternatives)"),
    scan_end=Param(value=6.0, unit="min", source=CH2012 + " (Methods; not verified)", kind="unverified",
                   note="end of the 12-min run, 6 min after the start of the injection"),
    time_step=Param(value=1.0, unit="min", source="psilosim numerical setting", kind="assumed",
                    note="output step of the occupancy series averaged over the window (as gain_scale)"),
)


CURRENT = CurrentParams(
    w_exc=Param(value=0.3, unit="", source=K2020_CODE + ", psilo_w_optimum.m (wexc)", kind="published", low=0.0,
                note="weight of the drug current into the excitatory pools; the optimum of their fit to the "
                     "psilocybin fMRI (LEiDA substate probabilities, Carhart-Harris et al. 2012 data)"),
    w_inh=Param(value=0.1, unit="", source=K2020_CODE + ", psilo_w_optimum.m (winh)", kind="published", low=0.0,
                note="weight of the drug current into the inhibitory pools (same fit)"),
    j_drug=Param(value=0.1, unit="nA", source=K2020_CODE + ", psilo_w_optimum.m (Jlsd)", kind="published", low=0.0,
                 note="the drug current when the sigmoid of raphe-driven serotonin release saturates; their "
                      "current relaxes (τ 120 ms) to J·sigmoid and never exceeds J"),
    reference_occupancy=Param(
        value=0.2802, unit="", low=0.0, high=1.0,
        source="5-HT2A surface occupancy of " + CH2012 + "'s scans (2 mg psilocybin IV, post-injection window) "
               "from psilosim's PK/binding chain (psilosim.network.acute.kringelbach2020_occupancy)",
        kind="derived",
        note="O_ref in I_drug = J_drug · occupancy / O_ref: their fitted state (I_drug = J_drug, saturated sigmoid) "
             "is placed at the occupancy their data were recorded at, as DMF.gain_scale does for Deco 2018's LSD. "
             "Uncertain: the window is unverified (0–6 min gives 0.24, 2–6 min 0.31), the effect-site rate is "
             "fitted to oral effect curves and the one-compartment PK has no distribution phase, so the IV rise "
             "may be faster (larger O_ref); O_ref = 1 (their saturated state = full occupancy) and 0.5 are the "
             "sensitivity cases of docs/network.md#acute-alternatives. Above O_ref the current exceeds J_drug, "
             "which their sigmoid never does",
    ),
)


@dataclass(frozen=True)
class AcuteState:
    """One representation of the acute 5-HT2A state: what it changes and on whose authority."""

    name: str
    changes: str
    source: str
    kind: str


ACUTE_STATES: dict[str, AcuteState] = {
    "gain": AcuteState(
        "gain", "excitatory gain of the DMF, g_i = 1 + s·R_i·occupancy (DMF.gain_scale)",
        "Deco et al. 2018 Curr Biol 28:3065", "published"),
    "current": AcuteState(
        "current", "receptor-weighted currents into E and I, w_exc·R_i·I_drug and w_inh·R_i·I_drug, "
                   "I_drug = J_drug·occupancy/O_ref (CURRENT)",
        K2020_CODE + " (psilo_w_optimum.m)", "published"),
    "bifurcation_shift": AcuteState(
        "bifurcation_shift", "Hopf bifurcation parameter, a_i = a + shift·R_i·occupancy (HOPF.drug_shift)",
        "psilosim (direction as in Jobst et al. 2021 NeuroImage 230:117809)", "assumed"),
}

NORMALISATIONS = ("max", "minmax")


def density_normaliser(parcellation: Parcellation, *, how: str = "max",
                       receptor: str = HT2A) -> Callable[[np.ndarray], np.ndarray]:
    """Map a max-normalised density (any condition's) to the ``how`` normalisation.

    The map is affine and fixed by the *real* map, so permuted or surrogate maps carrying the
    real values, and the uniform map at the real mean, are transformed consistently.
    """
    if how not in NORMALISATIONS:
        raise InputError("normalisation", f"{how!r}; expected one of {', '.join(NORMALISATIONS)}")
    if how == "max":
        return lambda density: np.asarray(density, dtype=float)
    low = float(parcellation.receptor_map(receptor).values.min())
    if not low < 1.0:
        raise DataError(f"{parcellation.name}: the {receptor} map is flat; min–max normalisation is undefined")
    return lambda density: (np.asarray(density, dtype=float) - low) / (1.0 - low)


def kringelbach2020_occupancy(*, scans: Kringelbach2020Scans = KRINGELBACH2020_SCANS) -> float:
    """Mean 5-HT2A surface occupancy (0–1) of the typical subject during the psilocybin scans
    Kringelbach et al. 2020 fitted (2 mg IV, Carhart-Harris et al. 2012), from psilosim's chain.

    The value of ``CURRENT.reference_occupancy``. The library's psilocybin has an oral route only;
    :func:`psilosim.network.gain_scale.with_iv_bolus` adds the intravenous one (the library's
    oral bioavailability is relative to intravenous psilocybin, Hasler et al. 1997).

    Raises
    ------
    InputError
        If the window is empty or starts before the dose.
    DataError
        If the chain gives an occupancy outside (0, 1).
    """
    from ..binding import simulate_acute
    from ..regimen import Regimen
    from .gain_scale import with_iv_bolus
    from .scan import OCCUPANCY_TARGET

    start_h, end_h = scans.scan_start.to("h"), scans.scan_end.to("h")
    if not 0.0 <= start_h < end_h:
        raise InputError("scan window", f"needs 0 <= start < end, got {start_h:.3g} h to {end_h:.3g} h")
    step_h = scans.time_step.to("h")
    regimen = Regimen.single(f"{scans.dose.to('mg')} mg", route="iv")
    acute = simulate_acute([(with_iv_bolus(compound="psilocybin"), regimen)], t_end_h=end_h + step_h, dt_h=step_h)
    occ = acute["occupancy"].sel(target=OCCUPANCY_TARGET)
    # half a step of slack so that grid points on the window's ends are kept despite rounding
    mean = float(occ.sel(time_h=slice(start_h - step_h / 2, end_h + step_h / 2)).mean())
    if not (np.isfinite(mean) and 0.0 < mean < 1.0):
        raise DataError(f"psilocybin {OCCUPANCY_TARGET} occupancy over the window is {mean}, not in (0, 1)")
    return mean


def drug_currents(density: np.ndarray, occupancy: float,
                  *, params: CurrentParams = CURRENT) -> tuple[np.ndarray, np.ndarray]:
    """Per-region drug currents (nA) into the excitatory and inhibitory pools.

    ``current_e = w_exc · R_i · I_drug`` and ``current_i = w_inh · R_i · I_drug`` with
    ``I_drug = J_drug · occupancy / O_ref`` (:data:`CURRENT`; Kringelbach et al. 2020).

    Raises
    ------
    InputError
        ``occupancy`` outside [0, 1] or not finite; a density that is negative or not finite.
    """
    if not (np.isfinite(occupancy) and 0.0 <= occupancy <= 1.0):
        raise InputError("occupancy", f"must be a fraction in [0, 1], got {occupancy}")
    density = np.asarray(density, dtype=float)
    if not np.isfinite(density).all() or (density < 0).any():
        raise InputError("density", "must be finite and non-negative in every region")
    drug = params.j_drug.to("nA") * occupancy / params.reference_occupancy.value
    return params.w_exc.value * density * drug, params.w_inh.value * density * drug


def acute_session(parcellation: Parcellation, occupancy: float, *, acute_state: str = "gain",
                  normalisation: str = "max", seed: int = 0, maps: Sequence[str] = ("receptor",),
                  n_shuffles: int | None = None, current_params: CurrentParams = CURRENT) -> xr.Dataset:
    """Expected FC of baseline and drug conditions under a named acute-state representation.

    Same conditions and the same dataset layout as :func:`psilosim.network.scan.linear_session`
    (``fc`` over condition × region × region; ``attrs`` coupling, requested_coupling,
    mean_occupancy, dataset, plus acute_state and normalisation). ``current_params`` are the
    constants of the ``"current"`` state (default :data:`CURRENT`; other values for sensitivity
    analyses).
    """
    if acute_state not in ACUTE_STATES:
        raise InputError("acute_state", f"{acute_state!r}; expected one of {', '.join(ACUTE_STATES)}")
    if not 0.0 <= occupancy <= 1.0:
        raise InputError("occupancy", f"must be a fraction in [0, 1], got {occupancy}")
    remap = density_normaliser(parcellation, how=normalisation)
    if acute_state == "gain":
        session = linear_session(parcellation, occupancy, seed=seed, maps=maps, n_shuffles=n_shuffles,
                                 density_transform=remap)
    elif acute_state == "current":
        session = _current_session(parcellation, occupancy, remap, seed, maps, n_shuffles, current_params)
    else:
        session = _hopf_session(parcellation, occupancy, remap, seed, maps, n_shuffles)
    session.attrs.update(acute_state=acute_state, normalisation=normalisation)
    return session


def _current_session(parcellation: Parcellation, occupancy: float, remap, seed: int, maps: Sequence[str],
                     n_shuffles: int | None, params: CurrentParams) -> xr.Dataset:
    """Linear-noise DMF FC of every condition with drug currents, FIC at baseline.

    The coupling is chosen as :func:`~psilosim.network.scan.linear_session` chooses it: the
    stored fit, else the largest stable G below it, backed off until every map is stable.
    """
    requested = coupling_for(parcellation)
    model = DMFModel(parcellation.sc)
    conds = conditions(parcellation, seed, maps=maps, n_shuffles=n_shuffles)
    currents = [None] + [drug_currents(remap(c.density), float(occupancy), params=params)
                         for c in conds if c.density is not None]
    with threadpool_limits(limits=1, user_api="blas"):  # small dense solves: threads only contend
        coupling = stable_coupling(model, requested, currents=currents[1:3])
        coupling, fcs_by_current = _fcs_at_a_stable_coupling(model, coupling, currents, parcellation.name)
    drug = iter(fcs_by_current[1:])
    fcs = [fcs_by_current[0] if c.density is None else next(drug) for c in conds]
    session = expected_fc_session(parcellation, conds, fcs, coupling=coupling, requested_coupling=requested,
                                  method="linear-current", occupancy=occupancy)
    session.attrs.update(current_w_exc=params.w_exc.value, current_w_inh=params.w_inh.value,
                         current_j_drug_nA=params.j_drug.to("nA"),
                         current_reference_occupancy=params.reference_occupancy.value)
    return session


def _fcs_at_a_stable_coupling(model: DMFModel, coupling: float, currents: list, name: str):
    """FC for each current pair (``None`` = baseline), lowering G until every fixed point is stable."""
    for _ in range(MAX_BACKOFFS):  # stability is not monotonic in the currents
        lin = LinearDMF(model, coupling)
        try:
            return coupling, [lin.fc().values if pair is None else lin.fc(current_e=pair[0], current_i=pair[1]).values
                              for pair in currents]
        except DataError:
            coupling *= STABILITY_BACKOFF
    raise DataError(f"{name}: no coupling gives every drug-current map a stable DMF fixed point "
                    f"(backed off to G = {coupling:.3g})")


def _hopf_session(parcellation: Parcellation, occupancy: float, remap, seed: int,
                  maps: Sequence[str], n_shuffles: int | None) -> xr.Dataset:
    """Linear Hopf FC of every condition at the dataset's fitted coupling."""
    coupling = stored_coupling(parcellation, FITTED_HOPF)
    if coupling is None:
        raise DataError(f"{parcellation.name}: no fitted Hopf coupling for this SC; run `psilosim fit --model hopf`")
    model = HopfModel(parcellation.sc)
    conds = conditions(parcellation, seed, maps=maps, n_shuffles=n_shuffles)
    with threadpool_limits(limits=1, user_api="blas"):  # small dense solves: threads only contend
        baseline = model.linear_fc(coupling).values
        fcs = [baseline if c.density is None
               else model.linear_fc(coupling, a=model.bifurcation(density=remap(c.density), occupancy=occupancy)).values
               for c in conds]
    return expected_fc_session(parcellation, conds, fcs, coupling=coupling, requested_coupling=coupling,
                               method="linear-hopf", occupancy=occupancy)


__all__ = ["ACUTE_STATES", "CURRENT", "KRINGELBACH2020_SCANS", "NORMALISATIONS", "AcuteState", "CurrentParams",
           "Kringelbach2020Scans", "acute_session", "density_normaliser", "drug_currents",
           "kringelbach2020_occupancy"]
