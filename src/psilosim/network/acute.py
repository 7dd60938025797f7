"""Named representations of the acute 5-HT2A state, for comparing them on the same checks.

Two choices define how occupancy of the 5-HT2A receptor enters a whole-brain model:

* ``acute_state`` — what the drug changes in a region:

  - ``"gain"`` (the default of psilosim's checks): the excitatory gain of the dynamic mean
    field, ``g_i = 1 + s R_i occupancy`` (Deco et al. 2018 Curr Biol 28:3065; Kringelbach et
    al. 2020 PNAS 117:9566), FC from the linear-noise approximation of the DMF;
  - ``"bifurcation_shift"``: the local bifurcation parameter of the Hopf model moves towards
    the bifurcation, ``a_i = a + shift R_i occupancy`` (psilosim's assumption, qualitatively in
    line with Jobst et al. 2021 NeuroImage 230:117809, whose fitted LSD working point lies
    further from the stable equilibrium), FC from the Lyapunov equation of the linearised
    Hopf network at the dataset's fitted coupling (:data:`~psilosim.network.hopf.FITTED_HOPF`).

* ``normalisation`` — how the PET density becomes ``R_i``:

  - ``"max"`` (the default): ``R = density / max`` as in the code of Deco et al. 2018 and
    Kringelbach et al. 2020; on Schaefer-100 R spans 0.59–1, so every region gets ≥ 59 % of
    the largest change;
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
from .hopf import FITTED_HOPF, HopfModel
from .scan import conditions, expected_fc_session, linear_session, stored_coupling


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
        "Deco et al. 2018 Curr Biol 28:3065; Kringelbach et al. 2020 PNAS 117:9566", "published"),
    "bifurcation_shift": AcuteState(
        "bifurcation_shift", "Hopf bifurcation parameter, a_i = a + shift·R_i·occupancy (HOPF.drug_shift)",
        "psilosim (direction as in Jobst et al. 2021 NeuroImage 230:117809)", "assumed"),
}

NORMALISATIONS = ("max", "minmax")


def density_normaliser(parcellation: Parcellation, how: str = "max",
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


def acute_session(parcellation: Parcellation, occupancy: float, *, acute_state: str = "gain",
                  normalisation: str = "max", seed: int = 0, maps: Sequence[str] = ("receptor",),
                  n_shuffles: int | None = None) -> xr.Dataset:
    """Expected FC of baseline and drug conditions under a named acute-state representation.

    Same conditions and the same dataset layout as :func:`psilosim.network.scan.linear_session`
    (``fc`` over condition × region × region; ``attrs`` coupling, requested_coupling,
    mean_occupancy, dataset, plus acute_state and normalisation).
    """
    if acute_state not in ACUTE_STATES:
        raise InputError("acute_state", f"{acute_state!r}; expected one of {', '.join(ACUTE_STATES)}")
    if not 0.0 <= occupancy <= 1.0:
        raise InputError("occupancy", f"must be a fraction in [0, 1], got {occupancy}")
    remap = density_normaliser(parcellation, normalisation)
    if acute_state == "gain":
        session = linear_session(parcellation, occupancy, seed=seed, maps=maps, n_shuffles=n_shuffles,
                                 density_transform=remap)
    else:
        session = _hopf_session(parcellation, occupancy, remap, seed, maps, n_shuffles)
    session.attrs.update(acute_state=acute_state, normalisation=normalisation)
    return session


def _hopf_session(parcellation: Parcellation, occupancy: float, remap, seed: int,
                  maps: Sequence[str], n_shuffles: int | None) -> xr.Dataset:
    """Linear Hopf FC of every condition at the dataset's fitted coupling."""
    coupling = stored_coupling(parcellation, FITTED_HOPF)
    if coupling is None:
        raise DataError(f"{parcellation.name}: no fitted Hopf coupling for this SC; run `psilosim fit --model hopf`")
    model = HopfModel(parcellation.sc)
    conds = conditions(parcellation, seed, maps, n_shuffles)
    with threadpool_limits(limits=1, user_api="blas"):  # small dense solves: threads only contend
        baseline = model.linear_fc(coupling).values
        fcs = [baseline if c.density is None
               else model.linear_fc(coupling, model.bifurcation(remap(c.density), occupancy)).values
               for c in conds]
    return expected_fc_session(parcellation, conds, fcs, coupling=coupling, requested_coupling=coupling,
                               method="linear-hopf", occupancy=occupancy)


__all__ = ["ACUTE_STATES", "NORMALISATIONS", "AcuteState", "acute_session", "density_normaliser"]
