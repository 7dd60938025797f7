"""Structural rewiring over days and the imaging signatures of a treated brain.

:class:`RewiringModel` holds a parcellated brain (built-in AAL2 or a user folder) in its
depressed, "rigid" state and answers:

* :meth:`RewiringModel.window_deviation` — Δc, how much each pair's correlation during the
  window (acute 5-HT2A state at the chain's occupancy, the session's setting) deviates from the
  habitual one, weighted by the spine formation that overlaps it (linearised Hopf, no simulation);
* :meth:`RewiringModel.spine_course` — the synapse link run resolved by connection;
* :meth:`RewiringModel.rewired` — connection weights on given days: the rigid baseline scaled by
  each connection's synapses plus the covariance-rule change η·Δc carried by its consolidated
  spines, then synaptic scaling of every region's input strength;
* :meth:`RewiringModel.expected_fc`, :meth:`RewiringModel.measures`,
  :meth:`RewiringModel.scan` — expected FC, and modularity / DMN / flexibility measured with
  :mod:`psilosim.metrics` exactly as on real data.

The trial plug-in that measures the network at a design's imaging visits
(:class:`psilosim.clinical.imaging.ImagingHook`) lives in the clinical link, which joins the
links; this module knows nothing of trials. Equations and sources: ``docs/rewiring.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd
import xarray as xr
from threadpoolctl import threadpool_limits

from .._frozen import Frozen, read_only
from .._labels import align_regions
from ..connectome import DMN, Parcellation, labelled_matrix, labelled_timeseries, load_dataset
from ..connectome.builtin import HT2A
from ..errors import DataError, InputError
from ..metrics import detect_communities, dmn_fc, hippocampus_dmn_fc, multilayer_flexibility
from ..metrics.networks import hippocampus_mask
from ..network._checks import checked_sc
from ..network.dmf import DMFModel
from ..network.dmf.linear import LinearDMF, is_stable, stable_coupling
from ..network.hopf import HOPF, HopfModel, HopfParams
from ..network.scan import MAX_BACKOFFS, STABILITY_BACKOFF, coupling_for, gain_from
from ..units import HOURS_PER_DAY, SECONDS_PER_MINUTE
from .kernel import (
    correlation,
    hopf_covariance,
    input_covariance,
    rigid_structure,
    scale_inputs,
    simulate_linear_hopf,
    spine_factor,
)
from .params import ENVIRONMENT_NETWORKS, REWIRING, RewiringParams

#: Occupancy of the drive that sets the acute state (the 5-HT2A surface pool, as in network.scan).
OCCUPANCY_TARGET = "5-HT2A_surface"
#: Representations of the acute 5-HT2A state during the window (names as in psilosim.network.acute):
#: what each changes. The choice decides the sign of NW2 (docs/rewiring.md#nw2-hippocampus-dmn).
ACUTE_STATES: dict[str, str] = {
    "bifurcation_shift": "Hopf bifurcation parameter a_i = a + shift·R_i·occupancy (synchronises; psilosim's "
                         "assumption, direction as in Jobst et al. 2021 NeuroImage 230:117809)",
    "gain": "DMF excitatory gain g_i = 1 + s·R_i·occupancy, linear-noise FC (desynchronises; Deco et al. 2018 "
            "Curr Biol 28:3065; the network link's acute state)",
}
DEFAULT_ACUTE_STATE = "bifurcation_shift"
#: Measures every imaging visit reports (more are added: flexibility, hippocampus–DMN).
BASE_MEASURES = ("modularity", "dmn_within", "dmn_between", "mean_fc", "rewired_fraction")
#: BLAS threads used by the small dense solves here (many threads on tiny matrices are ~100× slower
#: on a loaded 2-core machine; the trial parallelises over patients instead).
BLAS_THREADS = 1


def _labelled(values: np.ndarray, labels: list[str], name: str) -> xr.DataArray:
    return labelled_matrix(np.asarray(values, dtype=float), labels, name=name)


def _correlations(values: np.ndarray, labels: list[str], name: str) -> xr.DataArray:
    """A region × region correlation matrix, labelled, dimensionless."""
    return _labelled(values, labels, name).assign_attrs(units="1", long_name="Pearson r (expected, linearised)")


class RewiringModel(Frozen):
    """A brain (depressed by default), with the rewiring rule and the imaging measures.

    Parameters
    ----------
    brain
        A :class:`~psilosim.connectome.Parcellation` (needs a DMN in its region table).
    params
        :class:`~psilosim.rewiring.params.RewiringParams`.
    hopf
        Hopf constants (bifurcation, frequency, noise) of :mod:`psilosim.network.hopf`.
    depressed
        Start from the documented depressed ("rigid") state: within-DMN structural excess and the
        rumination input (default). ``False`` starts from the dataset's own structure without
        rumination, for studies of healthy volunteers (Siegel et al. 2024).
    acute_state
        How 5-HT2A occupancy changes the network during the window (:data:`ACUTE_STATES`):
        ``"bifurcation_shift"`` (default) or ``"gain"``, the network link's DMF gain map.
    """

    def __init__(self, brain: Parcellation, *, params: RewiringParams = REWIRING,
                 hopf: HopfParams = HOPF, depressed: bool = True,
                 acute_state: str = DEFAULT_ACUTE_STATE):
        if DMN not in set(brain.regions["network"]):
            raise InputError("dataset", f"{brain.name} has no '{DMN}' network in its region table")
        if acute_state not in ACUTE_STATES:
            raise InputError("acute_state", f"{acute_state!r}: expected one of {', '.join(ACUTE_STATES)}")
        self.brain = brain
        self.params = params
        self.hopf = hopf
        self.labels = list(brain.labels)
        self.regions: pd.DataFrame = brain.regions
        self.healthy = read_only(np.array(brain.sc.values, dtype=float))  # a copy: the brain's own stays writable
        if (self.healthy < 0).any() or not np.isfinite(self.healthy).all():
            raise InputError("sc", "structural connectivity must be finite and non-negative")
        self.strength = read_only(self.healthy.sum(axis=1))
        if not self.strength.any():
            raise InputError("sc", f"{brain.name}: structural connectivity has no connections (all weights zero)")
        self.coupling = params.effective_coupling.value / float(self.strength.mean())
        self.dmn = read_only(self.network_mask((DMN,)))
        self.rigid = read_only(rigid_structure(self.healthy, self.dmn, params.dmn_structural_excess.value))
        self.depressed = bool(depressed)
        #: The structure treatment starts from: the rigid one, or the healthy one.
        self.untreated = self.rigid if self.depressed else self.healthy
        self.acute_state = acute_state
        self.has_hippocampus = bool(hippocampus_mask(self.regions).any())
        self._experience: dict[str, xr.DataArray] = {}
        self._baseline: dict[bool, dict[str, float]] = {}
        self._states: dict[tuple[str, int, int], np.ndarray] = {}
        self.density = read_only(receptor_density(brain))

    # ------------------------------------------------------------------ structure and inputs
    def network_mask(self, networks: tuple[str, ...]) -> np.ndarray:
        """Boolean mask of the regions in any of ``networks``."""
        return self.regions["network"].astype(str).isin(networks).to_numpy()

    def input_cov(self, *, environment: str | None = None,
                  depressed: bool | None = None) -> np.ndarray:
        """Input covariance: intrinsic noise, the depressed DMN's rumination drive, an environment's input."""
        return self.hopf.noise.value ** 2 * self.relative_input_cov(environment=environment, depressed=depressed)

    def relative_input_cov(self, *, environment: str | None = None,
                           depressed: bool | None = None) -> np.ndarray:
        """:meth:`input_cov` in units of each region's intrinsic noise variance (identity: private noise only).

        ``depressed`` defaults to the model's own state.
        """
        if environment is not None and environment not in ENVIRONMENT_NETWORKS:
            raise InputError("environment", f"{environment!r}: expected one of {sorted(ENVIRONMENT_NETWORKS)}")
        p = self.params
        depressed = self.depressed if depressed is None else depressed
        groups = [(self.dmn, p.rumination_input.value)] if depressed else []
        if environment in ("supportive", "stressful"):
            ratio = p.supportive_input.value if environment == "supportive" else p.stressful_input.value
            groups.append((self.network_mask(ENVIRONMENT_NETWORKS[environment]), ratio))
        return input_covariance(len(self.labels), 1.0, groups)

    def _weights(self, weights: np.ndarray | xr.DataArray | None) -> np.ndarray:
        """Weights in the model's region order: a labelled connectome is checked
        (:func:`~psilosim.network._checks.checked_sc`) and reordered by label; a bare array is
        taken to be in :attr:`labels` order (what :meth:`rewired` returns); ``None`` is the untreated
        structure."""
        if weights is None:
            return self.untreated
        if isinstance(weights, xr.DataArray):
            try:
                values, labels = checked_sc(weights)
            except InputError as exc:  # the same rules as a connectome, named as this argument
                raise InputError("weights", exc.problem) from None
            order = align_regions(labels, self.labels, field="weights", found_in="the weights",
                                  wanted_in="the model's regions")
            return values[np.ix_(order, order)]
        values = np.asarray(weights, dtype=float)
        n = len(self.labels)
        if values.shape != (n, n):
            raise InputError("weights", f"expected a {n} × {n} matrix in the model's region order, got shape "
                                        f"{values.shape}")
        if not np.isfinite(values).all() or (values < 0).any():
            raise InputError("weights", "must be finite and non-negative")
        return values

    def _block(self, weights: np.ndarray) -> np.ndarray:
        model = HopfModel(_labelled(weights, self.labels, "sc"), params=self.hopf)
        n = len(self.labels)
        return model.jacobian(self.coupling)[:n, :n]

    def _omega(self) -> float:
        return 2.0 * np.pi * self.hopf.frequency.to("Hz")

    # ------------------------------------------------------------------ expected FC
    def expected_fc(self, *, weights: np.ndarray | xr.DataArray | None = None,
                    environment: str | None = None,
                    depressed: bool | None = None) -> xr.DataArray:
        """Expected FC of the linearised network (default weights: the untreated structure)."""
        w = self._weights(weights)
        with threadpool_limits(BLAS_THREADS):
            cov = hopf_covariance(self._block(w), self.input_cov(environment=environment, depressed=depressed), self._omega())
        return _correlations(correlation(cov), self.labels, "fc")

    def experience(self, environment: str) -> xr.DataArray:
        """Correlation of every pair of regions under ``environment``'s input alone (no drug; cached)."""
        if environment not in self._experience:
            fc = self.expected_fc(environment=environment)
            self._experience[environment] = fc.rename("experience")
        return self._experience[environment]

    # ------------------------------------------------------------------ window-period correlations
    def habitual(self) -> xr.DataArray:
        """The habitual correlations: the untreated network's, no drug, no setting (in the acute-state model)."""
        return self.state_correlation(0.0, 0.0, "none")

    def state_correlation(self, occupancy: float, effect: float, environment: str) -> xr.DataArray:
        """Expected FC in the acute drug state (cached on an occupancy × effect grid), labelled
        ``(region_i, region_j)``, Pearson r (units ``"1"``).

        With ``acute_state="bifurcation_shift"``, 5-HT2A occupancy ``o`` moves each region towards
        its bifurcation, ``a_i = a + shift·R_i·o`` (:meth:`psilosim.network.hopf.HopfModel.bifurcation`);
        with ``"gain"``, it raises the DMF's excitatory gain, ``g_i = 1 + s·R_i·o`` (Deco et al.
        2018, as :mod:`psilosim.network.scan`), FC from the DMF's linear-noise approximation. The
        session's setting adds ``environment``'s common input, weighted by the subjective
        intensity ``effect`` (0–1).
        """
        return _correlations(self._state_values(occupancy, effect, environment), self.labels, "state_correlation")

    def _state_values(self, occupancy: float, effect: float, environment: str) -> np.ndarray:
        """:meth:`state_correlation` as a bare array (the cached values the window sums use)."""
        if environment not in ENVIRONMENT_NETWORKS:
            raise InputError("environment", f"{environment!r}: expected one of {sorted(ENVIRONMENT_NETWORKS)}")
        io = int(round(float(np.clip(occupancy, 0.0, 1.0)) / self.params.occupancy_step.value))
        ie = int(round(float(np.clip(effect, 0.0, 1.0)) / self.params.effect_step.value))
        key = (environment, io, ie)
        if key not in self._states:
            o, e = io * self.params.occupancy_step.value, ie * self.params.effect_step.value
            base = self.relative_input_cov(environment=None)
            q = base + e * (self.relative_input_cov(environment=environment) - base)
            with threadpool_limits(BLAS_THREADS):
                if self.acute_state == "gain":
                    self._states[key] = self._gain_state(o, q)
                else:
                    self._states[key] = self._bifurcation_state(o, q)
        return self._states[key]

    def _bifurcation_state(self, occupancy: float, relative_q: np.ndarray) -> np.ndarray:
        model = HopfModel(_labelled(self.untreated, self.labels, "sc"), params=self.hopf)
        n = len(self.labels)
        block = model.jacobian(self.coupling, a=model.bifurcation(density=self.density, occupancy=occupancy))[:n, :n]
        return correlation(hopf_covariance(block, self.hopf.noise.value ** 2 * relative_q, self._omega()))

    def _gain_state(self, occupancy: float, relative_q: np.ndarray) -> np.ndarray:
        lin = self.gain_network()
        cov = lin.covariance(gain=gain_from(self.density, occupancy), input_cov=relative_q)
        n = len(self.labels)
        return correlation(cov[:n, :n])

    def gain_network(self) -> LinearDMF:
        """The linearised DMF of the untreated structure, at the network link's coupling for this dataset.

        The coupling is backed off (as :func:`psilosim.network.scan.linear_session` does) until the
        fixed point is stable at every occupancy bin, so every acute state has a stationary FC.
        Built on the first call and kept (the model is immutable, so it cannot go stale).
        """
        return self._gain_network

    @cached_property
    def _gain_network(self) -> LinearDMF:
        """:meth:`gain_network`, computed once (a cached property: stored without assignment)."""
        model = DMFModel(_labelled(self.untreated, self.labels, "sc"))
        step = self.params.occupancy_step.value
        bins = np.unique(np.clip(np.append(np.arange(0.0, 1.0, step), 1.0), 0.0, 1.0))
        gains = [gain_from(self.density, o) for o in bins]
        with threadpool_limits(BLAS_THREADS):
            coupling = stable_coupling(model, coupling_for(self.brain), gains=gains)
            for _ in range(MAX_BACKOFFS):  # stability is not monotonic in G: confirm, else back off
                if coupling > 0 and is_stable(model, coupling, gains=gains):
                    break
                coupling *= STABILITY_BACKOFF
            else:
                raise DataError(f"{self.brain.name}: no coupling keeps the DMF fixed point stable at every "
                                "occupancy; the 'gain' acute state is not available for this brain")
        return LinearDMF(model, coupling)

    def window_deviation(self, biology, environment: str, until_day: float) -> xr.DataArray:
        """Δc: correlations during the plasticity window minus the habitual ones (region × region).

        ``Δc = Σ_t g(t) (c(o(t), e(t)) − c_hab) / Σ_t g(t)`` up to ``until_day``, with
        ``g = T⁺ · window`` (the formation of plasticity-born spines while the window is open, the
        spines whose consolidation the correlations guide), ``o`` the surface 5-HT2A occupancy and
        ``e`` the subjective effect of the patient's drive. Outside the acute drug state the
        correlations are the habitual ones and contribute nothing: a window opened without an acute
        5-HT2A state (an SSRI's slow BDNF route) gives Δc ≈ 0.
        """
        t = np.asarray(biology.time_d, dtype=float)
        g = np.clip(np.asarray(biology.bdnf_rel) - 1.0, 0.0, None) * np.asarray(biology.window)
        keep = t <= until_day + 1e-9
        total = float(np.trapezoid(g[keep], t[keep])) if keep.sum() > 1 else 0.0
        out = np.zeros((len(self.labels), len(self.labels)))
        drive = getattr(biology, "drive", None)
        if drive is not None and total > 0:
            out = self._acute_sum(drive, t, g, environment, until_day) / total
        return _labelled(out, self.labels, "window_deviation")

    def _acute_sum(self, drive, t: np.ndarray, g: np.ndarray, environment: str, until_day: float) -> np.ndarray:
        """Σ over the drive's samples in an acute state of g·dt·(c(o, e) − c_hab)."""
        day = drive.time_h / HOURS_PER_DAY
        dt = np.gradient(day) if day.size > 1 else np.ones(1)
        occ, eff = drive.target(OCCUPANCY_TARGET), drive.effect_or_zero()
        io = np.round(occ / self.params.occupancy_step.value).astype(int)
        ie = np.round(eff / self.params.effect_step.value).astype(int)
        acute = ((io > 0) | (ie > 0)) & (day <= until_day)
        self._check_grid_resolves(t, day[acute])
        weight = np.interp(day, t, g) * dt
        hab = self._state_values(0.0, 0.0, "none")
        out = np.zeros_like(hab)
        bins: dict[tuple[int, int], float] = {}
        for k in np.flatnonzero(acute):
            bins[(io[k], ie[k])] = bins.get((io[k], ie[k]), 0.0) + weight[k]
        for (i, e), w in bins.items():
            c = self._state_values(i * self.params.occupancy_step.value, e * self.params.effect_step.value,
                                   environment)
            out += w * (c - hab)
        return out

    def _check_grid_resolves(self, t: np.ndarray, acute_days: np.ndarray) -> None:
        """Refuse a biology grid coarser than ``max_window_grid_step`` where the drug state is acute.

        g(t) is interpolated between grid days at the drive's samples: on a coarse grid it rises
        linearly from the last grid day before the dose, so the acute hours would silently get too
        little weight (REWIRING.max_window_grid_step gives the measured error).
        """
        if acute_days.size == 0 or t.size < 2:
            return
        intervals = np.clip(np.searchsorted(t, acute_days, side="right") - 1, 0, t.size - 2)
        widest = float(np.max(t[intervals + 1] - t[intervals]))
        limit = self.params.max_window_grid_step.to("day")
        if widest > limit * (1.0 + 1e-9):
            raise InputError("biology.time_d", f"grid step {widest:g} d where the drug state is acute is coarser than "
                                               f"{limit:g} d: the window's spine formation would under-weight the "
                                               f"acute hours; simulate the biology on a grid of ≤ {limit:g} d "
                                               "(as TrialDesign.grid() with its default step)")

    # ------------------------------------------------------------------ rewiring
    def spine_course(self, plasticity: xr.Dataset, *, background_stress: float = 0.0,
                     stress=None, spine_params=None) -> xr.Dataset:
        """The synapse link, resolved by connection; every connection selects its new spines alike.

        The selection input is the spine set's ``default_correlation`` on every connection: which
        connection a consolidated spine strengthens is decided by the covariance rule in
        :meth:`rewired`, not by a second selection rule here.
        """
        from ..synapses import simulate_spines
        from ..synapses import spine_params as species_spines

        species = plasticity.attrs.get("species", "human")
        p = spine_params or species_spines(species)
        uniform = np.full((len(self.labels), len(self.labels)), p.default_correlation.value)
        return simulate_spines(plasticity, species=species, regions=self.labels,
                               experience=_labelled(uniform, self.labels, "experience"),
                               background_stress=background_stress, stress=stress, params=p)

    def rewired(self, spines: xr.Dataset, days, *,
                deviation: np.ndarray | xr.DataArray | None = None) -> xr.DataArray:
        """Connection weights on ``days`` (day, region_i, region_j).

        ``C̃_ij(t) = C_rigid_ij · (n_ij(t) + η Δc_ij(t) k_ij(t)) / n_ij(0)``, then each row scaled back
        to the region's input strength (synaptic scaling). ``n_ij`` are the spines of region i on its
        connection from j, ``k_ij`` the consolidated plasticity-born ones among them (the synapse
        link's ``density_by_connection`` and ``consolidated_by_connection``), ``Δc`` the
        :meth:`window_deviation` up to each day: one region × region matrix per day
        (day × region × region, as :func:`window_deviations` gives), or one matrix for every day;
        ``None``: only spine counts.
        """
        days = np.atleast_1d(np.asarray(days, dtype=float))
        t = spines["time_d"].values
        if days.min() < t[0] - 1e-9 or days.max() > t[-1] + 1e-9:
            raise InputError("days", f"{days.min():g}–{days.max():g} outside the spine course {t[0]:g}–{t[-1]:g}")
        index = {label: i for i, label in enumerate(self.labels)}
        rows = np.array([index[r] for r in spines["connection_region"].values])
        cols = np.array([index[p] for p in spines["connection_partner"].values])
        dens = spines["density_by_connection"].values
        factor = spine_factor(dens, self.params.spine_weight_exponent.value)
        dc = self._deviation_by_day(deviation, days.size)
        cons = spines["consolidated_by_connection"].values / dens[0]
        out = np.empty((days.size, len(self.labels), len(self.labels)))
        for k, day in enumerate(days):
            at_day = _interp_rows(day, t, factor)
            if dc is not None:
                gain = self.params.consolidation_gain.value * dc[k][rows, cols]
                at_day = np.clip(at_day + gain * _interp_rows(day, t, cons), 0.0, None)
            scale = np.ones_like(self.untreated)
            scale[rows, cols] = at_day
            out[k] = scale_inputs(self.untreated * scale, self.strength)
        return xr.DataArray(out, dims=("day", "region_i", "region_j"),
                            coords={"day": days, "region_i": self.labels, "region_j": self.labels},
                            name="sc", attrs={"units": "1", "note": "rewired structural weights"})

    def _deviation_by_day(self, deviation, n_days: int) -> np.ndarray | None:
        """Δc as (day × region × region): one matrix per day, or one repeated for every day."""
        if deviation is None:
            return None
        dc = np.asarray(getattr(deviation, "values", deviation), dtype=float)
        n = len(self.labels)
        if dc.shape == (n, n):
            return np.broadcast_to(dc, (n_days, n, n))
        if dc.shape != (n_days, n, n):
            raise InputError("deviation", f"shape {dc.shape}: expected ({n}, {n}) or ({n_days}, {n}, {n})")
        return dc

    def window_deviations(self, biology, environment: str, days) -> np.ndarray:
        """:meth:`window_deviation` up to each of ``days`` (day × region × region).

        A visit's rewiring uses the window only up to that visit, so its measures do not depend on
        which later visits a design has.
        """
        return np.stack([self.window_deviation(biology, environment, float(d)).values
                         for d in np.atleast_1d(np.asarray(days, dtype=float))])

    # ------------------------------------------------------------------ measures
    def measure_names(self, *, flexibility: bool = False) -> tuple[str, ...]:
        """Names of the measures :meth:`measures` returns."""
        extra = (("flexibility",) if flexibility else ()) + (("hippocampus_dmn",) if self.has_hippocampus else ())
        return BASE_MEASURES + extra

    def measures(self, fc: xr.DataArray, *, weights: np.ndarray | None = None,
                 seed: int = 0) -> dict[str, float]:
        """Modularity, DMN FC, mean FC, structural change (and hippocampus–DMN FC) of one FC matrix."""
        communities = detect_communities(fc, self.regions, n_runs=int(self.params.community_runs.value), seed=seed)
        dmn = dmn_fc(fc, self.regions)
        values = np.asarray(fc.values)
        upper = values[np.triu_indices_from(values, k=1)]
        w = self._weights(weights)
        out = {"modularity": communities.q, "dmn_within": dmn["within"], "dmn_between": dmn["between"],
               "mean_fc": float(upper.mean()),
               "rewired_fraction": float(np.abs(w - self.untreated).sum() / self.untreated.sum())}
        if self.has_hippocampus:
            out["hippocampus_dmn"] = hippocampus_dmn_fc(fc, self.regions)
        return out

    def baseline_measures(self, *, depressed: bool | None = None) -> dict[str, float]:
        """:meth:`measures` of the untreated network (cached: the same for every patient).

        ``depressed`` defaults to the model's own state; ``False`` on a depressed model gives the
        healthy reference.
        """
        depressed = self.depressed if depressed is None else depressed
        if depressed not in self._baseline:
            weights = self.rigid if depressed else self.healthy
            fc = self.expected_fc(weights=weights, depressed=depressed)
            self._baseline[depressed] = self.measures(fc, weights=weights)
        return dict(self._baseline[depressed])

    def scan(self, *, weights: np.ndarray | None = None, seed: int = 0,
             minutes: float | None = None) -> xr.DataArray:
        """A short simulated resting scan of the linearised network (region, time), x as BOLD."""
        p = self.params
        w = self._weights(weights)
        dt, tr = p.scan_dt.to("s"), p.scan_tr.to("s")
        every = int(round(tr / dt))
        n_samples = int(round((minutes if minutes is not None else p.scan_minutes.to("min")) * SECONDS_PER_MINUTE / tr))
        warmup = int(round(-1.0 / self.hopf.bifurcation.to("1/s") * 5.0 / dt))  # five relaxation times
        with threadpool_limits(BLAS_THREADS):
            x = simulate_linear_hopf(self._block(w), self.input_cov(), self._omega(), dt=dt, n_samples=n_samples,
                                     every=every, warmup=warmup, rng=np.random.default_rng(seed))
        return labelled_timeseries(x, self.labels, tr)

    def flexibility(self, bold: xr.DataArray, *, seed: int = 0) -> float:
        """Mean multilayer network flexibility of a scan (:func:`psilosim.metrics.multilayer_flexibility`)."""
        p = self.params
        result = multilayer_flexibility(bold, self.regions, window_s=p.flexibility_window.to("s"),
                                        step_s=p.flexibility_step.to("s"), seed=seed)
        return float(result["flexibility"].mean())


def receptor_density(brain: Parcellation) -> np.ndarray:
    """Regional 5-HT2A density normalised to a maximum of 1 (uniform 1 when the dataset has no map)."""
    receptors = brain.receptors
    if receptors is None or HT2A not in [str(r) for r in receptors["receptor"].values]:
        return np.ones(len(brain.labels))
    values = np.asarray(brain.receptor_map(HT2A).values, dtype=float)  # ÷ max, NaN skipped
    if not np.isfinite(np.nanmax(values)) or np.nanmax(values) <= 0:
        raise InputError("receptors", f"{brain.name}: the 5-HT2A map must have a positive maximum")
    return np.nan_to_num(values)


def _interp_rows(day: float, t: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Linear interpolation of every column of ``values`` (time × column) at ``day``."""
    i = int(np.clip(np.searchsorted(t, day, side="right") - 1, 0, t.size - 2))
    frac = (day - t[i]) / (t[i + 1] - t[i])
    return values[i] + np.clip(frac, 0.0, 1.0) * (values[i + 1] - values[i])


def model_for(dataset: str = "aal2", *, depressed: bool = True,
              acute_state: str = DEFAULT_ACUTE_STATE) -> RewiringModel:
    """The :class:`RewiringModel` of a built-in dataset name or folder, one per process and setting.

    Parameters
    ----------
    dataset
        Built-in name (``"aal2"``, ``"tvb76"``) or a parcellation folder.
    depressed, acute_state
        As :class:`RewiringModel`.
    """
    return _cached_model(str(dataset), bool(depressed), str(acute_state))


@lru_cache(maxsize=8)
def _cached_model(dataset: str, depressed: bool, acute_state: str) -> RewiringModel:
    return RewiringModel(load_dataset(dataset), depressed=depressed, acute_state=acute_state)


def plasticity_from_biology(biology) -> xr.Dataset:
    """The synapse link's input (``trkb_signal``, ``window`` over ``time_d``) from a trial's biology.

    ``bdnf_rel = 1 + T`` in the plasticity link, so ``T = bdnf_rel − 1``.
    """
    return xr.Dataset({"trkb_signal": ("time_d", np.asarray(biology.bdnf_rel) - 1.0),
                       "window": ("time_d", np.asarray(biology.window))},
                      coords={"time_d": np.asarray(biology.time_d)}, attrs={"species": "human"})


@dataclass(frozen=True)
class PatientNetwork:
    """One patient's network at the imaging visits."""

    days: np.ndarray
    measures: dict[str, np.ndarray]
    weights: xr.DataArray
    fc: list[xr.DataArray] = field(default_factory=list)


def patient_network(model: RewiringModel, biology, environment: str, days, *, background_stress: float = 0.0,
                    stress=None, spine_params=None, flexibility: bool = False, scan_seeds=None,
                    keep_fc: bool = False) -> PatientNetwork:
    """Rewire one patient's network and measure it at ``days`` (day 0 = the untreated baseline).

    Parameters
    ----------
    model
        The brain.
    biology
        A :class:`~psilosim.clinical.biology.BiologyTrajectory` (window and TrkB signalling).
    environment
        ``"supportive"``, ``"none"`` or ``"stressful"`` (the arm's setting during the window).
    days
        Imaging days.
    background_stress, stress, spine_params
        The patient's stress history and the human spine set (as the clinical chain uses them).
    flexibility
        Also simulate a short scan per visit and measure network flexibility.
    scan_seeds
        One noise seed per day for the scans.
    keep_fc
        Return the expected FC matrices too (for figures).
    """
    days = np.atleast_1d(np.asarray(days, dtype=float))
    course = plasticity_from_biology(biology)
    t = course["time_d"].values
    last = int(min(np.searchsorted(t, days.max(), side="left"), t.size - 1))
    course = course.isel(time_d=slice(0, max(last, 1) + 1))  # spines are needed only to the last visit
    spines = model.spine_course(course, background_stress=background_stress, stress=stress,
                                spine_params=spine_params)
    deviation = model.window_deviations(biology, environment, days)  # each visit: the window up to its day
    weights = model.rewired(spines, days, deviation=deviation)
    names = model.measure_names(flexibility=flexibility)
    table = {name: np.full(days.size, np.nan) for name in names}
    fcs = []
    for k, day in enumerate(days):
        w = weights.isel(day=k).values
        fc = model.expected_fc(weights=w)
        values = model.baseline_measures() if day == 0 else model.measures(fc, weights=w)
        if flexibility:
            seed = 0 if scan_seeds is None else int(scan_seeds[k])
            values["flexibility"] = model.flexibility(model.scan(weights=w, seed=seed), seed=seed)
        for name in names:
            table[name][k] = values[name]
        if keep_fc:
            fcs.append(fc)
    return PatientNetwork(days, table, weights, fcs)
