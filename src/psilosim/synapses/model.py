"""Dendritic spine density and turnover per region, driven by the plasticity link.

:func:`simulate_spines` takes the output of :func:`psilosim.plasticity.simulate_plasticity`
(TrkB signalling and the window over days) and returns labelled spine densities per region and
per connection. The experience-dependent selection hook is the ``experience`` argument: the
correlation of activity on each connection during the window (a later layer computes it from the
network; here any mapping or region × region matrix will do).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import xarray as xr
from pydantic import ConfigDict, Field

from .._seeds import checked_seed
from ..errors import InputError
from ..regimen import RaisesInputError
from .kernel import (
    Connections,
    DailyInputs,
    SpineConstants,
    integrate_spines,
    sample_spines,
    steady_state,
    stress_for_density,
)
from .params import SpineParams, spine_params

#: Default region of the spine link (the region the rodent data come from).
DEFAULT_REGIONS: tuple[str, ...] = ("PFC",)
#: Label of the unspecified partner of a region's spines when no experience is supplied.
ANY_PARTNER = "any"


class StressInput(RaisesInputError):
    """Chronic stress as an input: on from ``start_d`` for ``duration_d`` days at ``intensity``.

    ``intensity`` 1 is the reference protocol (≈ 3 weeks of daily restraint or corticosterone in
    rodents); times are days relative to the first dose (negative = before it).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    input_error_prefix: ClassVar[str] = "stress"

    start_d: float
    duration_d: float = Field(gt=0)
    intensity: float = Field(default=1.0, ge=0)

    @property
    def end_d(self) -> float:
        return self.start_d + self.duration_d

    def on_grid(self, t_d: np.ndarray) -> np.ndarray:
        """Intensity at each grid time."""
        return np.where((t_d >= self.start_d) & (t_d < self.end_d), self.intensity, 0.0)


#: The protocol behind "chronic stress" in the rodent spine studies: 21 days, ending at the dose
#: (Radley et al. 2006 restraint; Moda-Sava et al. 2019 corticosterone).
CHRONIC_STRESS_DAYS = 21.0


def chronic_stress(*, intensity: float = 1.0) -> StressInput:
    """The reference chronic-stress protocol: 21 days ending at the first dose."""
    return StressInput(start_d=-CHRONIC_STRESS_DAYS, duration_d=CHRONIC_STRESS_DAYS, intensity=intensity)


def stress_blocks(stress) -> tuple[StressInput, ...]:
    """``None``, one :class:`StressInput` or a sequence of them, as a tuple (blocks add up)."""
    if stress is None:
        return ()
    if isinstance(stress, StressInput):
        return (stress,)
    blocks = tuple(stress)
    if not all(isinstance(b, StressInput) for b in blocks):
        raise InputError("stress", "expected a StressInput or a list of StressInput blocks")
    return blocks


def stress_start_d(stress) -> float:
    """Earliest start of the stress blocks, capped at 0 (the first dose)."""
    return min([0.0] + [b.start_d for b in stress_blocks(stress)])


def stress_on_grid(stress, t_d: np.ndarray, *, background: float = 0.0) -> np.ndarray:
    """Total stress intensity on ``t_d``: a constant ``background`` plus every block."""
    s = np.full_like(np.asarray(t_d, dtype=float), float(background))
    for block in stress_blocks(stress):
        s = s + block.on_grid(t_d)
    return s


def stress_for_deficit(deficit: float, params: SpineParams) -> float:
    """The constant (background) stress intensity whose rest state lacks ``deficit`` of the spines.

    Used to express a stress history by the density deficit it left: the synapse link then
    produces that deficit itself (``background_stress=``).
    """
    if not 0.0 <= deficit < 1.0:
        raise InputError("deficit", f"a spine deficit is a fraction in [0, 1), got {deficit}")
    return stress_for_density(1.0 - deficit, spine_constants(params))


@dataclass(frozen=True)
class SpineLayout:
    """Which connections the spines of each region belong to, and their correlation."""

    regions: tuple[str, ...]
    connections: tuple[str, ...]
    region_of: np.ndarray
    partner: tuple[str, ...]
    share: np.ndarray
    correlation: np.ndarray

    @classmethod
    def build(cls, regions: Sequence[str], *, experience=None,
              default_correlation: float = 0.5) -> SpineLayout:
        """Layout from region labels and an optional experience (correlation) input.

        Parameters
        ----------
        regions
            Region labels (at least one).
        experience
            ``None``; a mapping ``{region: c}`` or ``{(region, partner): c}`` or
            ``{"region|partner": c}``; or an ``xarray.DataArray`` with dims
            ``("region_i", "region_j")`` giving the correlation between regions during the window.
            Correlations must lie in [-1, 1]; negative ones count as 0 (no stabilisation).
            A region's spines are split equally among its listed partners.
        default_correlation
            Correlation of regions without any experience entry.
        """
        regions = _region_labels(regions)
        pairs = _experience_pairs(regions, experience)
        names, owner, partners, corr = [], [], [], []
        for r_idx, region in enumerate(regions):
            entries = pairs.get(region) or {ANY_PARTNER: default_correlation}
            for partner, c in entries.items():
                names.append(f"{region}|{partner}")
                owner.append(r_idx)
                partners.append(partner)
                corr.append(c)
        owner_a = np.asarray(owner, dtype=np.int64)
        per_region = np.bincount(owner_a, minlength=len(regions))
        return cls(
            regions=regions, connections=tuple(names), region_of=owner_a, partner=tuple(partners),
            share=1.0 / per_region[owner_a], correlation=np.clip(np.asarray(corr, float), 0.0, 1.0),
        )


def _region_labels(regions) -> tuple[str, ...]:
    if isinstance(regions, str):
        regions = [regions]
    labels = tuple(str(r) for r in regions)
    if not labels or any(not r.strip() for r in labels):
        raise InputError("regions", "give at least one non-empty region label")
    if len(set(labels)) != len(labels):
        raise InputError("regions", "region labels must be unique")
    return labels


def _experience_pairs(regions, experience) -> dict[str, dict[str, float]]:
    if experience is None:
        return {}
    pairs: dict[str, dict[str, float]] = {}
    if isinstance(experience, xr.DataArray):
        if set(experience.dims) != {"region_i", "region_j"}:
            raise InputError("experience", "a matrix needs dims ('region_i', 'region_j') with region labels")
        for region in regions:
            if region not in experience["region_i"].values:
                continue
            row = experience.sel(region_i=region)
            pairs[region] = {str(j): float(v) for j, v in zip(row["region_j"].values, row.values, strict=True)
                             if str(j) != region}
    elif isinstance(experience, Mapping):
        for key, value in experience.items():
            region, partner = _split_key(key)
            pairs.setdefault(region, {})[partner] = float(value)
    else:
        raise InputError("experience", "expected a mapping or a region × region xarray.DataArray")
    for region, entries in pairs.items():
        if region not in regions:
            raise InputError("experience", f"region {region!r} is not among the simulated regions {list(regions)}")
        for partner, c in entries.items():
            if not np.isfinite(c) or c < -1 or c > 1:
                raise InputError("experience", f"correlation {region}|{partner} = {c} is not in [-1, 1]")
    return pairs


def _split_key(key) -> tuple[str, str]:
    if isinstance(key, tuple) and len(key) == 2:
        return str(key[0]), str(key[1])
    text = str(key)
    if "|" in text:
        region, partner = text.split("|", 1)
        return region, partner
    return text, ANY_PARTNER


def spine_constants(p: SpineParams) -> SpineConstants:
    """Kernel constants (1/day, days) from a parameter set."""
    return SpineConstants(
        formation_rate=p.baseline_formation_rate,
        labile_loss_rate=p.labile_loss_rate.to("1/day"),
        persistent_loss_rate=p.persistent_loss_rate,
        consolidated_loss_rate=p.new_spine_loss_rate.to("1/day"),
        maturation_rate=p.maturation_rate.to("1/day"),
        homeostatic_gain=p.homeostatic_gain.value,
        formation_gain=p.formation_gain.value,
        stabilisation_rate=p.stabilisation_rate.to("1/day"),
        stress_gain=p.stress_elimination_gain.value,
        head_gain=p.head_gain.to("1/day"),
        head_time_d=p.head_time.to("day"),
    )


def _inputs(plasticity: xr.Dataset, stress, background: float = 0.0):
    t_d = plasticity["time_d"].values
    trkb = plasticity["trkb_signal"].values
    window = plasticity["window"].values
    return t_d, trkb, window, stress_on_grid(stress, t_d, background=background)


def simulate_spines(
    plasticity: xr.Dataset,
    *,
    species: str | None = None,
    regions: Sequence[str] = DEFAULT_REGIONS,
    stress: StressInput | Sequence[StressInput] | None = None,
    experience=None,
    params: SpineParams | None = None,
    stochastic: bool = False,
    replicates: int = 1,
    seed: int | None = None,
    background_stress: float = 0.0,
) -> xr.Dataset:
    """Spine density per region and connection over the plasticity result's day grid.

    Parameters
    ----------
    plasticity
        Output of :func:`psilosim.plasticity.simulate_plasticity` (needs ``trkb_signal`` and
        ``window`` over ``time_d``).
    species
        Parameter set to use (defaults to the plasticity result's species).
    regions
        Region labels; every region gets the same cellular drive until the network link makes it
        region-resolved.
    stress
        Chronic stress input, a list of such blocks (they add up), or ``None``.
    experience
        Correlation of activity per connection during the window (see :meth:`SpineLayout.build`).
    params
        A spine parameter set overriding the species default.
    stochastic
        Also simulate individual spines (``spines_per_segment`` per region, ``replicates``
        segments, seeded) next to the mean field.
    replicates
        Number of stochastic dendrite segments.
    seed
        Seed of the stochastic option.
    background_stress
        A constant stress intensity present since long before the simulation (a stress history
        that is still going on); the pools start at their rest state under it
        (:func:`~psilosim.synapses.kernel.steady_state`), so an untreated run stays there.

    Returns
    -------
    xarray.Dataset
        ``density_rel`` (time_d, region; 1 = unstressed baseline), ``density_by_connection``,
        ``labile``/``born``/``persistent`` pools (time_d, region; ``persistent`` includes the
        ``consolidated`` plasticity-born spines, also given alone and per connection), ``formation_rate`` and
        ``elimination_rate`` (time_d, region; fraction of baseline density per day),
        ``head_width_rel`` and ``stress``; with ``stochastic``, ``spine_count``
        (time_d, replicate, connection).
    """
    species = species or plasticity.attrs.get("species", "mouse")
    p = params or spine_params(species)
    lay = SpineLayout.build(regions, experience=experience, default_correlation=p.default_correlation.value)
    c = spine_constants(p)
    if not (np.isfinite(background_stress) and background_stress >= 0):
        raise InputError("background_stress", f"must be a non-negative intensity, got {background_stress}")
    t_d, trkb, window, s = _inputs(plasticity, stress, background_stress)
    init = steady_state(lay.share, c, stress_level=background_stress)
    inputs, connections = DailyInputs(t_d, trkb, window, s), _connections(lay)
    n, b, pers, cons, formed, elim, head = integrate_spines(
        inputs, connections, c, True, np.zeros((0, len(lay.regions))), init)
    ds = _dataset(t_d, lay, n, b, pers, cons, formed, elim, head, s, species)
    if stochastic:
        if replicates < 1:
            raise InputError("replicates", "must be at least 1")
        rng = np.random.default_rng(checked_seed(seed))
        counts = sample_spines(inputs, connections, c, int(p.spines_per_segment.value), int(replicates), rng, init=init)
        ds["spine_count"] = (("time_d", "replicate", "connection"), counts,
                             {"units": "1", "long_name": "spines per connection on one segment (count)"})
        ds.attrs["spines_per_segment"] = int(p.spines_per_segment.value)
        if seed is not None:  # an unseeded run has no seed to record (NetCDF attrs cannot be None)
            ds.attrs["seed"] = int(seed)
    return ds


def _connections(lay: SpineLayout) -> Connections:
    """The layout's numbers as the kernels take them."""
    return Connections(lay.region_of, lay.share, lay.correlation, len(lay.regions))


def _dataset(t_d, lay: SpineLayout, n, b, pers, cons, formed, elim, head, s, species) -> xr.Dataset:
    def by_region(x):
        out = np.zeros((t_d.size, len(lay.regions)))
        for j, r in enumerate(lay.region_of):
            out[:, r] += x[:, j]
        return out

    total = n + b + pers + cons
    reg = ("time_d", "region")
    ds = xr.Dataset(
        {
            "density_rel": (reg, by_region(total), {"units": "1", "long_name": "spine density relative to unstressed baseline"}),
            "density_by_connection": (("time_d", "connection"), total, {"units": "1"}),
            "pools": (("time_d", "pool", "connection"), np.stack([n, b, pers, cons], axis=1),
                      {"units": "1", "long_name": "labile N, plasticity-born P, persistent S, consolidated C"}),
            "labile": (reg, by_region(n), {"units": "1", "long_name": "baseline labile spines"}),
            "born": (reg, by_region(b), {"units": "1", "long_name": "plasticity-born labile spines"}),
            "persistent": (reg, by_region(pers + cons),
                           {"units": "1", "long_name": "persistent spines (old S plus consolidated C)"}),
            "consolidated": (reg, by_region(cons),
                             {"units": "1", "long_name": "consolidated plasticity-born spines C (part of persistent)"}),
            "consolidated_by_connection": (("time_d", "connection"), cons, {"units": "1"}),
            "formation_rate": (reg, formed, {"units": "1/day", "long_name": "gross spine formation"}),
            "elimination_rate": (reg, elim, {"units": "1/day", "long_name": "gross spine elimination"}),
            "head_width_rel": ("time_d", head, {"units": "1", "long_name": "spine head width, relative"}),
            "stress": ("time_d", s, {"units": "1", "long_name": "stress intensity"}),
        },
        coords={
            "time_d": ("time_d", t_d, {"units": "day"}),
            "region": list(lay.regions),
            "connection": list(lay.connections),
            "pool": ["labile", "born", "persistent", "consolidated"],
            "connection_region": ("connection", [lay.regions[r] for r in lay.region_of]),
            "connection_partner": ("connection", list(lay.partner)),
            "connection_correlation": ("connection", lay.correlation),
        },
        attrs={"species": str(species).lower()},
    )
    return ds


def imaging_turnover(plasticity: xr.Dataset, spines: xr.Dataset, t0: float, t1: float, *,
                     stress=None, params: SpineParams | None = None,
                     background_stress: float = 0.0) -> xr.Dataset:
    """Formation and elimination as two-photon imaging measures them between two sessions.

    ``formed`` = spines present at ``t1`` that were absent at ``t0``; ``eliminated`` = spines
    present at ``t0`` and gone at ``t1``; both as fractions of the density at ``t0``, per region.
    Uses a cohort run (the ``t0`` spines followed with formation off, same rates).
    """
    species = spines.attrs.get("species", "mouse")
    p = params or spine_params(species)
    c = spine_constants(p)
    t_all = plasticity["time_d"].values
    if not (t_all[0] <= t0 < t1 <= t_all[-1]):
        raise InputError("imaging", f"sessions {t0}–{t1} d must lie inside the simulated {t_all[0]}–{t_all[-1]} d")
    lay = SpineLayout(
        regions=tuple(spines["region"].values.tolist()),
        connections=tuple(spines["connection"].values.tolist()),
        region_of=np.array([list(spines["region"].values).index(r) for r in spines["connection_region"].values]),
        partner=tuple(spines["connection_partner"].values.tolist()),
        share=np.zeros(spines.sizes["connection"]),
        correlation=spines["connection_correlation"].values,
    )
    grid = np.unique(np.concatenate([[t0], t_all[(t_all > t0) & (t_all < t1)], [t1]]))
    sub = plasticity.interp(time_d=grid)
    full = spines.interp(time_d=grid)
    _, trkb, window, s = _inputs(sub, stress, background_stress)
    dens = full["density_rel"].values
    init = np.ascontiguousarray(full["pools"].values[0])
    n, b, pers, cons, *_ = integrate_spines(DailyInputs(grid, trkb, window, s), _connections(lay), c, False,
                                            dens, init)
    survivors = np.zeros(len(lay.regions))
    for j, r in enumerate(lay.region_of):
        survivors[r] += n[-1, j] + b[-1, j] + pers[-1, j] + cons[-1, j]
    d0, d1 = dens[0], dens[-1]
    return xr.Dataset(
        {"formed": ("region", (d1 - survivors) / d0, {"units": "1"}),
         "eliminated": ("region", (d0 - survivors) / d0, {"units": "1"})},
        coords={"region": list(lay.regions)}, attrs={"t0_d": t0, "t1_d": t1},
    )
