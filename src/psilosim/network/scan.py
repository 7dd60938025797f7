"""Scan sessions: minutes of BOLD at a moment of a regimen, with the drug's 5-HT2A gain.

A session simulates, in one batch and with the same coupling G and baseline FIC, ``sessions``
independent scans (noise streams) per condition:

* ``baseline``           no drug (occupancy 0);
* ``baseline_repeat``    no drug, other noise streams: the test–retest noise floor;
* ``receptor``           the drug, gain ``1 + s R_i occ(t)`` with R the regional 5-HT2A density;
* ``uniform`` / ``shuffled_k`` / ``variogram_k`` (optional) the same mean gain on a flat map, on
  the receptor map with its regions permuted, or on spatially autocorrelated surrogates of it
  (:mod:`.nulls`), the controls of Deco et al. 2018.

The comparison is like-for-like: every condition has its own noise streams (a drug scan is a
different scan from a baseline one, as in the imaging studies) and the FC of a condition is the
Fisher-z average over its ``sessions`` scans, so drug–baseline and baseline–baseline differences
carry the same sampling noise. Drug conditions share their streams with each other (common
random numbers), so maps are compared without extra noise. Siegel et al. 2024 averaged several
15-min runs per person and condition (precision functional mapping); ``sessions`` plays that
role. Occupancy comes from the pharmacology chain (:func:`psilosim.binding.simulate_acute`) for
the scan window and is updated every minute of the scan. Because runs continue exactly across
chunks, a scan in one piece equals the same scan in minutes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from ..connectome import Parcellation
from ..connectome.builtin import HT2A
from ..errors import DataError, InputError
from ..parameters import ParameterSet
from ..units import MINUTES_PER_HOUR, SECONDS_PER_HOUR, SECONDS_PER_MINUTE
from ._checks import checked_coupling
from .bold import TIME_LONG_NAME
from .dmf import DMF, FITTED_G, DMFModel
from .dmf.linear import LinearDMF, stable_coupling
from .dmf.model import valid_gains
from .measures import (
    group_fc,
    mean_abs_fc_difference,
    network_fc_distance,
    nonfluctuating,
    region_fc_distance,
    within_network_change,
)
from .nulls import VariogramNulls, centroid_distances
from .settings import MAP_KINDS, SCAN, ScanParams

#: Occupancy variable that drives the gain (pharmacology contract, surface pool).
OCCUPANCY_TARGET = "5-HT2A_surface"
#: Map kinds that expand into several numbered maps.
NULL_KINDS = ("shuffled", "variogram")
#: Region-table columns with MNI centroids (needed for variogram nulls).
CENTROID_COLUMNS = ("x_mni", "y_mni", "z_mni")
#: Factor by which the linear session lowers G until every condition's fixed point is stable.
STABILITY_BACKOFF = 0.95
#: Most coupling back-offs (× STABILITY_BACKOFF each, ≈ 64 % less coupling in all) before a gain
#: map is declared unusable for a brain (a numerical guard, not a model constant).
MAX_BACKOFFS = 20
#: SHA-256 of the structural connectivity each stored fit (:data:`~psilosim.network.dmf.FITTED_G`,
#: :data:`~psilosim.network.hopf.FITTED_HOPF`) was made on (:func:`sc_fingerprint`): a stored
#: coupling applies to a dataset of that name only when its SC is that one.
FITTED_SC = {
    "aal2": "90e979374da7c5210e182883ca4dbd2ee17afb36c706e0109debd9d2c47c46f3",
    "schaefer100": "c1b5c9aabe5af6aeed699ab6ab72fa56cd9f0ec9bfa904600f983519621c8a73",
}
#: ``long_name`` of the FC of a simulated scan (``fc``; ``session_fc`` is the same per scan).
SCAN_FC_NAME = "FC: Pearson correlation of BOLD, Fisher-z average over the sessions"
SESSION_FC_NAME = "FC: Pearson correlation of BOLD in one scan"
#: ``long_name`` of the expected FC of a linear session, by its ``method``.
EXPECTED_FC_NAMES = {
    "linear": "expected FC: correlation of the S_E (NMDA gating) fluctuations, linear-noise DMF",
    "linear-current": "expected FC: correlation of the S_E (NMDA gating) fluctuations, linear-noise DMF "
                      "with drug currents",
    "linear-hopf": "expected FC: correlation of the oscillators' x, linearised Hopf network",
}
#: Relative slack (per hour of the clock's magnitude) at the ends of an occupancy series within
#: which a scan window still counts as covered: float rounding of the time grid, not model time.
COVERAGE_TOLERANCE_H = 1e-9
#: Decimals kept when fingerprinting an SC (far below any weight's meaning; absorbs parser ulps).
FINGERPRINT_DECIMALS = 9


# ---------------------------------------------------------------------- pharmacology link
def occupancy_window(compound: str, dose: str, at_hours: float, minutes: float, *,
                     seed: int | None = None, p: ScanParams = SCAN) -> xr.DataArray:
    """5-HT2A surface occupancy (0–1) over a scan window starting ``at_hours`` after one dose.

    The series is on a grid of ``p.occupancy_step`` and keeps one grid point on each side of the
    window, for interpolation. ``attrs["scan_start_h"]`` records ``at_hours``, so
    ``scan_session(parcellation, occupancy_window(compound, dose, at_hours, minutes, seed=seed),
    minutes=minutes, seed=seed)`` is the scan ``psilosim scan --compound --dose --at-hours --minutes
    --seed`` runs (the command line makes exactly that call); ``seed`` also draws the subject's
    pharmacokinetic random effects, as the command line's ``--seed`` does (``None``: the typical
    subject).
    """
    from ..binding import simulate_acute
    from ..regimen import Regimen

    if not np.isfinite(at_hours) or at_hours < 0:
        raise InputError("at_hours", f"must be a non-negative number of hours, got {at_hours}")
    end_h = at_hours + minutes / MINUTES_PER_HOUR
    step_h = p.occupancy_step.to("h")
    acute = simulate_acute([(compound, Regimen.single(dose))], t_end_h=end_h + p.occupancy_padding.to("h"),
                           dt_h=step_h, seed=seed)
    occ = acute["occupancy"].sel(target=OCCUPANCY_TARGET, drop=True)
    occ = occ.sel(time_h=slice(at_hours - step_h, end_h + step_h))
    occ.attrs.update(scan_start_h=float(at_hours), scan_minutes=float(minutes))
    return occ


def covered_range(occupancy: xr.DataArray) -> tuple[float, float]:
    """First and last ``time_h`` of an occupancy series (h)."""
    times = occupancy["time_h"].values
    return float(times.min()), float(times.max())


def require_covered(occupancy: float | xr.DataArray, start_h: float, end_h: float, *,
                    field: str = "start_h") -> None:
    """Refuse a window ``[start_h, end_h]`` (h) that an occupancy series does not cover.

    Outside its times a series says nothing about the occupancy (extrapolating it gave 0.77 a day
    after a dose whose true occupancy was ≈ 0, and 1.06 at 100 h); only float rounding
    (:data:`COVERAGE_TOLERANCE_H`) is allowed at the ends. A constant covers every window.

    Raises
    ------
    InputError
        Under ``field``, naming the window and the series' range.
    """
    if not isinstance(occupancy, xr.DataArray):
        return
    low, high = covered_range(occupancy)
    tol = COVERAGE_TOLERANCE_H * max(1.0, abs(low), abs(high))
    if not (np.isfinite(start_h) and np.isfinite(end_h)) or start_h < low - tol or end_h > high + tol:
        raise InputError(field, f"the scan window {start_h:.3f}–{end_h:.3f} h is not covered by the occupancy "
                                f"series, which spans time_h {low:.3f}–{high:.3f} h (a series from "
                                "occupancy_window(compound, dose, at_hours, minutes) covers a scan of those "
                                "minutes from at_hours; give start_h on the series' clock)")


def occupancy_at(occupancy: float | xr.DataArray, time_h: float) -> float:
    """Occupancy at ``time_h`` (a constant, or linear interpolation of a series over ``time_h``).

    Raises
    ------
    InputError
        ``time_h`` outside the series' times (beyond float rounding, :func:`require_covered`).
    """
    if isinstance(occupancy, xr.DataArray):
        if occupancy.sizes["time_h"] < 2:
            return float(occupancy.mean())
        require_covered(occupancy, time_h, time_h, field="time_h")
        low, high = covered_range(occupancy)
        return float(occupancy.interp(time_h=min(max(time_h, low), high)))
    return float(occupancy)


def window_mean_occupancy(occupancy: float | xr.DataArray, start_h: float, minutes: float) -> float:
    """Time average of the occupancy over a scan window of ``minutes`` from ``start_h`` (h).

    A series is linearly interpolated as :func:`occupancy_at` does (what a simulated scan's
    gains follow); the average integrates that interpolant exactly (trapezoids between the
    window's ends and the grid points inside it), so a window shorter than the series' grid step
    is averaged too. A window outside the series is an :class:`~psilosim.errors.InputError`
    (:func:`require_covered`).
    """
    if not isinstance(occupancy, xr.DataArray):
        return float(occupancy)
    end_h = start_h + minutes / MINUTES_PER_HOUR
    require_covered(occupancy, start_h, end_h)
    grid = occupancy["time_h"].values
    times = np.unique(np.concatenate([[start_h, end_h], grid[(grid > start_h) & (grid < end_h)]]))
    values = np.array([occupancy_at(occupancy, t) for t in times])
    return float(np.trapezoid(values, times) / (end_h - start_h))


# ---------------------------------------------------------------------- gain maps
def density_map(parcellation: Parcellation, kind: str, *, seed: int | np.random.SeedSequence = 0,
                receptor: str = HT2A) -> xr.DataArray:
    """Normalised density R_i (max 1) for ``kind`` in :data:`MAP_KINDS`, labelled by region.

    ``uniform`` has every region at the receptor map's mean (same total gain), ``shuffled``
    permutes the receptor map's regions with ``seed``, ``variogram`` is a spatially
    autocorrelated surrogate with the same values (:mod:`.nulls`; needs MNI centroids).
    """
    if kind not in MAP_KINDS:
        raise InputError("gain_map", f"{kind!r}; expected one of {', '.join(MAP_KINDS)}")
    density = parcellation.receptor_map(receptor).values
    if kind == "uniform":
        values = np.full_like(density, density.mean())
    elif kind == "shuffled":
        values = np.random.default_rng(seed).permutation(density)
    elif kind == "variogram":
        values = variogram_maps(parcellation, 1, seed=seed, receptor=receptor).values[0]
    else:
        values = density
    return _region_map(parcellation, values, kind=kind, receptor=receptor)


def _region_map(parcellation: Parcellation, values: np.ndarray, **attrs) -> xr.DataArray:
    """A normalised density (last axis = region) with the parcellation's region labels."""
    dims = ("region",) if values.ndim == 1 else ("map", "region")
    return xr.DataArray(values, dims=dims, coords={"region": parcellation.labels},
                        attrs={"units": "1", "long_name": "normalised receptor density R (max 1)", **attrs})


def has_centroids(parcellation: Parcellation) -> bool:
    """Whether the region table has finite MNI centroids for every region."""
    cols = list(CENTROID_COLUMNS)
    if not set(cols) <= set(parcellation.regions.columns):
        return False
    return bool(np.isfinite(parcellation.regions[cols].to_numpy(dtype=float)).all())


def variogram_maps(parcellation: Parcellation, n_maps: int, *, seed: int | np.random.SeedSequence = 0,
                   receptor: str = HT2A) -> xr.DataArray:
    """``n_maps`` variogram-matched surrogates of the receptor map (Burt et al. 2020), map × region."""
    if not has_centroids(parcellation):
        raise DataError(f"{parcellation.name}: variogram nulls need MNI centroids "
                        f"({', '.join(CENTROID_COLUMNS)}) in the region table")
    xyz = parcellation.regions[list(CENTROID_COLUMNS)].to_numpy(dtype=float)
    density = parcellation.receptor_map(receptor).values
    maps = VariogramNulls(density, centroid_distances(xyz)).draw(n_maps, seed=seed)
    return _region_map(parcellation, maps, kind="variogram", receptor=receptor)


def gain_from(density: np.ndarray, occupancy: float, *, scale: float | None = None) -> np.ndarray:
    """Excitatory gain ``1 + s R_i occupancy`` (Deco et al. 2018 with an occupancy factor)."""
    s = effective_gain_scale(scale)
    if not 0.0 <= occupancy <= 1.0:
        raise InputError("occupancy", f"must be a fraction in [0, 1], got {occupancy}")
    return 1.0 + s * np.asarray(density) * occupancy


def sc_fingerprint(sc: xr.DataArray | np.ndarray) -> str:
    """SHA-256 of an SC's shape and values (rounded to :data:`FINGERPRINT_DECIMALS`)."""
    values = np.round(np.asarray(sc, dtype=np.float64), FINGERPRINT_DECIMALS) + 0.0  # + 0.0: no -0.0
    values = np.ascontiguousarray(values)
    return hashlib.sha256(np.asarray(values.shape, dtype=np.int64).tobytes() + values.tobytes()).hexdigest()


def stored_coupling(parcellation: Parcellation, fitted: ParameterSet) -> float | None:
    """The coupling stored in ``fitted`` for this dataset, or ``None``.

    A stored value is used only when the dataset's SC is the one it was fitted on
    (:data:`FITTED_SC`): a user folder that happens to be called ``aal2``, or a modified SC
    under a built-in name, does not inherit a fit made on other data.
    """
    params = fitted.params()
    name = parcellation.name
    if name not in params or FITTED_SC.get(name) != sc_fingerprint(parcellation.sc.values):
        return None
    return params[name].value


def coupling_source(parcellation: Parcellation) -> str:
    """Where :func:`coupling_for` takes this dataset's coupling from, as a report says it."""
    if stored_coupling(parcellation, FITTED_G) is not None:
        return f"stored fit for {parcellation.name}"
    return "no stored fit for this connectome: AAL2's fit scaled by mean in-strength"


def coupling_for(parcellation: Parcellation) -> float:
    """The fitted G for a known dataset; otherwise the AAL2 fit scaled by mean in-strength.

    Known means the name *and* the SC of a stored fit (:func:`stored_coupling`). Keeping
    G·⟨Σ_j C_ij⟩ equal keeps the mean long-range input per region equal, the first-order
    condition for the same distance to the instability (an assumption for user parcellations;
    run ``psilosim fit`` for a real value).
    """
    stored = stored_coupling(parcellation, FITTED_G)
    if stored is not None:
        return stored
    from ..connectome import load_dataset

    ref = load_dataset("aal2").sc.values.sum(axis=1).mean()
    mine = parcellation.sc.values.sum(axis=1).mean()
    if mine <= 0:
        raise DataError(f"{parcellation.name}: structural connectivity is empty")
    return FITTED_G.aal2.value * ref / mine


_FIC_CACHE: dict[tuple[str, str, float, int], np.ndarray] = {}


def refined_fic(model: DMFModel, name: str, coupling: float, *, seed: int = 0) -> xr.DataArray:
    """Noisy-FIC weights J_i (nA) for a connectome and G, labelled by region, computed once per process.

    Keyed by the SC's values (:func:`sc_fingerprint`) and the model's parameters, not by ``name``
    (kept for the callers' messages): two connectomes under one name, or one connectome under
    other DMF parameters, never share FIC weights.
    """
    key = (sc_fingerprint(model.sc), model.params.model_dump_json(), round(coupling, 12), seed)
    if key not in _FIC_CACHE:
        _FIC_CACHE[key] = model.fic_refined([coupling], seed=seed)[0]
    # the weights depend on the SC's values only; the labels are this model's (two connectomes with
    # one SC under different labels share the weights, not the labels)
    return xr.DataArray(_FIC_CACHE[key].copy(), dims=("region",), coords={"region": model.labels},
                        attrs={"units": "nA", "long_name": f"FIC weight J ({name}, G {coupling:g})"})


# ---------------------------------------------------------------------- sessions
@dataclass(frozen=True)
class Condition:
    """One condition of a session: a name, a density map (or none) and its noise seeds."""

    name: str
    density: xr.DataArray | None
    seeds: tuple[int, ...]


#: Stream roles: scan k of a role has the noise stream ``SeedSequence(seed, spawn_key=(role, k))``
#: (:func:`psilosim.network._rng.seed_streams`), and the null maps draw from ``(role, k)`` keys of
#: their own. Every scan and every null map of a session has its own stream, and no two
#: session seeds share one (``seed + 3k + role`` made seed 0's second baseline seed 1's drug scan).
ROLE_BASELINE, ROLE_REPEAT, ROLE_DRUG, ROLE_SHUFFLED, ROLE_VARIOGRAM = range(5)


def session_seeds(seed: int, sessions: int, role: int) -> tuple[tuple[int, int, int], ...]:
    """Noise streams ``(seed, role, k)`` of one condition role (0 baseline, 1 repeat, 2 drug)."""
    return tuple((int(seed), role, k) for k in range(sessions))


def null_seed(seed: int, role: int, *key: int) -> np.random.SeedSequence:
    """The generator seed of a null map (an independent child of ``seed``)."""
    return np.random.SeedSequence(int(seed), spawn_key=(role, *key))


def conditions(parcellation: Parcellation, seed: int, *, maps: Sequence[str] = ("receptor",),
               n_shuffles: int | None = None, sessions: int = 1) -> list[Condition]:
    """Baseline, baseline repeat and one drug condition per map (null maps expand)."""
    n_shuffles = int(SCAN.n_shuffles.value) if n_shuffles is None else n_shuffles
    if sessions < 1:
        raise InputError("sessions", f"need at least one scan per condition, got {sessions}")
    drug = session_seeds(seed, sessions, ROLE_DRUG)
    out = [Condition("baseline", None, session_seeds(seed, sessions, ROLE_BASELINE)),
           Condition("baseline_repeat", None, session_seeds(seed, sessions, ROLE_REPEAT))]
    for kind in maps:
        if kind == "shuffled":
            out += [Condition(f"shuffled_{k}", density_map(parcellation, "shuffled",
                                                           seed=null_seed(seed, ROLE_SHUFFLED, k)), drug)
                    for k in range(n_shuffles)]
        elif kind == "variogram":
            nulls = variogram_maps(parcellation, n_shuffles, seed=null_seed(seed, ROLE_VARIOGRAM))
            out += [Condition(f"variogram_{k}", nulls[k], drug) for k in range(n_shuffles)]
        else:
            out.append(Condition(kind, density_map(parcellation, kind), drug))
    return out


def scan_samples(minutes: float, *, p: ScanParams = SCAN, tr_s: float | None = None) -> int:
    """BOLD samples of a scan of ``minutes`` (rounded to whole TRs of ``tr_s``, default ``p.tr``).

    Raises
    ------
    InputError
        ``minutes`` not positive, or shorter than ``p.min_samples`` TRs (FC would be undefined).
    """
    if not np.isfinite(minutes) or minutes <= 0:
        raise InputError("minutes", f"must be positive, got {minutes}")
    tr_s = p.tr.to("s") if tr_s is None else float(tr_s)
    n_samples = round(minutes * SECONDS_PER_MINUTE / tr_s)
    need = int(p.min_samples.value)
    if n_samples < need:
        raise InputError("minutes", f"{minutes:g} min gives {n_samples} BOLD sample(s) at TR {tr_s:g} s; "
                                      f"a scan needs at least {need} TRs ({need * tr_s / SECONDS_PER_MINUTE:g} min)")
    return n_samples


def scan_session(parcellation: Parcellation, occupancy: float | xr.DataArray, *,
                 minutes: float | None = None, seed: int = 0, maps: Sequence[str] = ("receptor",),
                 n_shuffles: int | None = None, coupling: float | None = None,
                 start_h: float | None = None, sessions: int | None = None, gain_scale: float | None = None,
                 progress=None) -> xr.Dataset:
    """Simulate one scan session (see the module docstring); returns BOLD and FC per condition.

    Parameters
    ----------
    occupancy
        5-HT2A occupancy (0–1): a constant, or a series over ``time_h`` covering the scan
        (:func:`occupancy_window` makes one for a scan at a time after a dose).
    minutes
        Scan length (default :data:`SCAN`), simulated in whole TRs (:func:`scan_samples`);
        ``attrs["minutes"]`` is the simulated length, ``attrs["requested_minutes"]`` the request.
    start_h
        Time of the scan start on the occupancy series' clock, h. Default: the series'
        ``attrs["scan_start_h"]`` (set by :func:`occupancy_window`), else 0. The scan window must
        lie inside the series' times (no extrapolation).
    sessions
        Independent scans per condition, averaged in Fisher z (default :data:`SCAN`).
    gain_scale
        Gain per unit occupancy ``s`` (default ``DMF.gain_scale``, derived from Deco et al.
        2018); other values are for sensitivity analyses (docs/network.md#gain-sensitivity).

    Returns
    -------
    xarray.Dataset
        ``bold`` (condition, session, region, time), ``rate`` (condition, session, region;
        mean excitatory rate over the scan, Hz), ``session_fc`` (condition, session, region_i,
        region_j) and ``fc`` (condition, region_i, region_j), the Fisher-z average. ``time`` is
        s since the scan started, i.e. since ``start_h`` on the occupancy clock (the warm-up
        before it runs at the occupancy of ``start_h``), the m-th sample at ``m · TR``
        (docs/network.md#time-axis), so the sample at time t is at ``start_h + t/3600`` h on
        that clock.

    Raises
    ------
    InputError
        ``minutes`` too short (:func:`scan_samples`), ``sessions`` < 1, ``coupling`` negative or
        not finite, ``gain_scale`` negative or not finite; ``start_h``: a scan window the
        occupancy series does not cover (:func:`require_covered`).
    DataError
        A region's BOLD is flat or not finite in some scan (:func:`_require_fluctuating`).
    """
    requested = SCAN.minutes.to("min") if minutes is None else float(minutes)
    n_samples = scan_samples(requested)
    start_h = scan_start(occupancy, start_h)
    require_covered(occupancy, start_h, start_h + n_samples * SCAN.tr.to("s") / SECONDS_PER_HOUR)
    scale = effective_gain_scale(gain_scale)
    sessions = int(SCAN.sessions.value) if sessions is None else int(sessions)
    coupling = coupling_for(parcellation) if coupling is None else checked_coupling(coupling)
    model = DMFModel(parcellation.sc)
    conds = conditions(parcellation, seed, maps=maps, n_shuffles=n_shuffles, sessions=sessions)
    members = [(c, s) for c in conds for s in c.seeds]
    j_fic = refined_fic(model, parcellation.name, coupling)
    tr_s = SCAN.tr.to("s")
    run = model.start(coupling=[coupling] * len(members), seed=[s for _, s in members], tr_s=tr_s,
                      j_fic=j_fic)
    _set_gains(run, members, occupancy_at(occupancy, start_h), scale)
    run.warm_up(SCAN.warmup.to("s"))
    bold, rate, times = _record(run, members, occupancy, start_h, n_samples, scale, progress)
    n = parcellation.n_regions
    bold = bold.reshape(len(conds), sessions, n, -1)
    rate = rate.reshape(len(conds), sessions, n)
    _require_fluctuating(bold, conds, parcellation.labels)
    session_fc = np.stack([[np.corrcoef(bold[c, k]) for k in range(sessions)] for c in range(len(conds))])
    fcs = np.stack([group_fc(session_fc[c]) for c in range(len(conds))])
    labels = parcellation.labels
    minutes = n_samples * tr_s / SECONDS_PER_MINUTE
    return xr.Dataset(
        {"bold": (("condition", "session", "region", "time"), bold,
                  {"units": "1", "long_name": "BOLD signal change, fraction of the resting signal"}),
         "rate": (("condition", "session", "region"), rate,
                  {"units": "Hz", "long_name": "mean excitatory firing rate over the scan"}),
         "session_fc": (("condition", "session", "region_i", "region_j"), session_fc,
                        {"units": "1", "long_name": SESSION_FC_NAME}),
         "fc": (("condition", "region_i", "region_j"), fcs, {"units": "1", "long_name": SCAN_FC_NAME})},
        coords={"condition": [c.name for c in conds], "session": np.arange(sessions),
                "region": labels, "region_i": labels, "region_j": labels,
                "time": ("time", times, {"units": "s", "long_name": TIME_LONG_NAME})},
        attrs={"coupling": coupling, "seed": seed, "minutes": minutes, "requested_minutes": requested,
               "tr_s": tr_s, "sessions": sessions, "gain_scale": scale,
               "mean_occupancy": window_mean_occupancy(occupancy, start_h, minutes),
               "dataset": parcellation.name},
    )


def scan_start(occupancy: float | xr.DataArray, start_h: float | None) -> float:
    """``start_h`` when given; else the series' ``attrs["scan_start_h"]`` (:func:`occupancy_window`), else 0."""
    if start_h is not None:
        return float(start_h)
    if isinstance(occupancy, xr.DataArray):
        return float(occupancy.attrs.get("scan_start_h", 0.0))
    return 0.0


def effective_gain_scale(gain_scale: float | None, *, field: str = "gain_scale") -> float:
    """The gain per unit occupancy a session uses: ``DMF.gain_scale`` unless one is given.

    Raises
    ------
    InputError
        A given value that is not finite or is negative (checked even for sessions without a
        drug condition, so that a bad value is never recorded in the results); the error names
        ``field`` (the CLI passes its option name).
    """
    scale = float(DMF.gain_scale.value if gain_scale is None else gain_scale)
    if not (np.isfinite(scale) and scale >= 0.0):
        raise InputError(field, f"must be a finite gain per unit occupancy >= 0, got {gain_scale}")
    return scale


def _record(run, members: list[tuple[Condition, int]], occupancy: float | xr.DataArray, start_h: float,
            n_samples: int, scale: float, progress) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Advance a started run by ``n_samples`` TRs in chunks, updating the drug's gain each chunk.

    Returns BOLD (member × region × time), the mean excitatory rate over the scan
    (member × region, Hz; chunk means weighted by chunk length) and the samples' times (s since
    the scan started, :meth:`~psilosim.network.dmf.DMFRun.advance`).
    """
    tr_s = run.tr_s
    chunk_samples = max(1, round(SCAN.chunk.to("s") / tr_s))
    bolds, times, rate_sum, done = [], [], 0.0, 0
    while done < n_samples:
        step = min(chunk_samples, n_samples - done)
        now_h = start_h + (done + step / 2) * tr_s / SECONDS_PER_HOUR
        _set_gains(run, members, occupancy_at(occupancy, now_h), scale)
        part = run.advance(step * tr_s)
        bolds.append(part["bold"].values)
        times.append(part["time"].values)
        rate_sum = rate_sum + part["rate"].values * step
        done += step
        if progress:
            progress(done / n_samples)
    return np.concatenate(bolds, axis=-1), rate_sum / n_samples, np.concatenate(times)


def _require_fluctuating(bold: np.ndarray, conds: list[Condition], labels: Sequence[str]) -> None:
    """Raise a clear error where a region's BOLD is flat or not finite (its FC would be undefined).

    Either means that the simulation left its valid range: a region stuck at a fixed point, or
    haemodynamics driven out of their domain (a burst followed by silence can push the
    Balloon–Windkessel flow below zero, which makes the BOLD signal NaN). Both have been seen only
    at gains far beyond the derived one (docs/network.md#gain-sensitivity).
    """
    bad = nonfluctuating(bold)  # condition × session × region
    problems = []
    for c, cond in enumerate(conds):
        regions = sorted({str(labels[r]) for r in np.flatnonzero(bad[c].any(axis=0))})
        if regions:
            shown = ", ".join(regions[:5]) + (", ..." if len(regions) > 5 else "")
            problems.append(f"condition {cond.name!r}: {len(regions)} region(s) ({shown})")
    if problems:
        drug = any(cond.density is not None and bad[c].any() for c, cond in enumerate(conds))
        hint = " (a drug condition: a smaller gain_scale keeps the simulation in range)" if drug else ""
        raise DataError("BOLD is flat or not finite, so FC is undefined, in " + "; ".join(problems) + hint)


def linear_session(parcellation: Parcellation, occupancy: float, *, seed: int = 0,
                   maps: Sequence[str] = ("receptor",), n_shuffles: int | None = None,
                   coupling: float | None = None,
                   density_transform: Callable[[np.ndarray], np.ndarray] | None = None,
                   gain_scale: float | None = None) -> xr.Dataset:
    """The same conditions as :func:`scan_session`, FC from the linear-noise approximation.

    Deterministic and fast (no BOLD, no noise floor: ``baseline_repeat`` equals ``baseline``).
    When the noise-free fixed point at the requested G is unstable, the largest stable G below
    it (× 0.95) is used and recorded in ``attrs["coupling"]``. ``density_transform`` maps each
    condition's max-normalised density before it enters the gain (e.g. the min–max
    normalisation of :mod:`psilosim.network.acute`); ``None`` keeps it. ``gain_scale`` as in
    :func:`scan_session`. A ``coupling`` that is negative or not finite is an
    :class:`~psilosim.errors.InputError` (the back-off only ever lowers a valid G).
    """
    requested = coupling_for(parcellation) if coupling is None else checked_coupling(coupling)
    scale = effective_gain_scale(gain_scale)
    model = DMFModel(parcellation.sc)
    conds = conditions(parcellation, seed, maps=maps, n_shuffles=n_shuffles)
    remap = density_transform or (lambda d: d)
    gains = [None] + [gain_from(remap(c.density), float(occupancy), scale=scale)
                      for c in conds if c.density is not None]
    # Dozens of small (2N × 2N) dense solves: threaded BLAS gains nothing at this size and, on a
    # shared machine, its spinning threads slowed the session from 4 s to minutes.
    with threadpool_limits(limits=1, user_api="blas"):
        coupling = stable_coupling(model, requested, gains=[np.ones(model.n_regions)] + gains[1:3])
        for _ in range(MAX_BACKOFFS):  # stability is not monotonic in the gains: back off until every map is stable
            lin = LinearDMF(model, coupling)
            try:
                by_gain = [lin.fc(gain=g).values for g in gains]
                break
            except DataError:
                coupling *= STABILITY_BACKOFF
        else:
            raise DataError(f"{parcellation.name}: no coupling gives every gain map a stable DMF fixed point "
                            f"(backed off to G = {coupling:.3g}); check the receptor map and --gain-scale")
    maps = iter(by_gain[1:])
    fcs = [by_gain[0] if c.density is None else next(maps) for c in conds]
    session = expected_fc_session(parcellation, conds, fcs, coupling=coupling, requested_coupling=requested,
                                  method="linear", occupancy=occupancy)
    session.attrs["gain_scale"] = scale
    return session


def expected_fc_session(parcellation: Parcellation, conds: list[Condition], fcs: list[np.ndarray], *,
                        coupling: float, requested_coupling: float, method: str,
                        occupancy: float) -> xr.Dataset:
    """The expected FC of each condition as one labelled Dataset (``condition × region × region``),
    the layout every linear session returns.

    Raises
    ------
    InputError
        ``coupling`` or ``requested_coupling`` negative or not finite.
    """
    coupling = checked_coupling(coupling)
    requested_coupling = checked_coupling(requested_coupling, field="requested_coupling")
    labels = parcellation.labels
    return xr.Dataset(
        {"fc": (("condition", "region_i", "region_j"), np.stack(fcs),
                {"units": "1", "long_name": EXPECTED_FC_NAMES.get(method, "expected FC (correlation)")})},
        coords={"condition": [c.name for c in conds], "region_i": labels, "region_j": labels},
        attrs={"coupling": coupling, "requested_coupling": requested_coupling, "method": method,
               "mean_occupancy": float(occupancy), "dataset": parcellation.name},
    )


def _set_gains(run, members: list[tuple[Condition, int]], occupancy: float, scale: float | None) -> None:
    for k, (cond, _) in enumerate(members):
        if cond.density is not None:
            gain = gain_from(cond.density, occupancy, scale=scale)
            if not valid_gains(gain):  # as DMFModel.start requires; a run's gains are set directly
                raise DataError(f"condition {cond.name}: the gain map is not finite and positive "
                                "(check the receptor densities)")
            run.drive.gain[k, :] = gain




# ---------------------------------------------------------------------- FC change
def fc_change(fc_a: np.ndarray, fc_b: np.ndarray, parcellation: Parcellation) -> tuple[dict[str, float], float]:
    """Mean absolute FC change, per network and globally.

    A network's value averages |ΔFC_ij| over its regions' rows of the matrix (each region's
    change with the whole brain), so a connection inside the network counts twice and one
    leaving it once; the global value averages over all connections (upper triangle).
    """
    delta = np.abs(np.asarray(fc_a) - np.asarray(fc_b))
    n = delta.shape[0]
    off = ~np.eye(n, dtype=bool)
    networks = parcellation.regions["network"].to_numpy()
    by_network = {}
    for net in parcellation.networks:
        rows = networks == net
        by_network[net] = float(delta[rows][off[rows]].mean())
    return by_network, mean_abs_fc_difference(fc_a, fc_b)


def summarise(session: xr.Dataset, parcellation: Parcellation, *,
              condition: str = "receptor") -> dict:
    """FC change of one condition against baseline, with the test–retest noise floor.

    ``fc_change_*`` is the mean absolute FC change (:func:`fc_change`), ``fc_distance_*`` the
    Fisher-z seed-map distance of Siegel et al. 2024 (:mod:`.measures`),
    ``within_network_change`` the change of within-network FC. For simulated sessions the
    same numbers between the two baselines are the noise floor, and the ratios say how many
    times the drug change exceeds it; ``mean_rate_hz`` and ``baseline_mean_rate_hz`` are the
    mean excitatory rates (Hz) of the condition and of the baseline over the scan.
    """
    fc = session["fc"]
    drug, base = fc.sel(condition=condition).values, fc.sel(condition="baseline").values
    by_net, glob = fc_change(drug, base, parcellation)
    out = {"fc_change_by_network": by_net, "fc_change_global": glob,
           "fc_distance_by_network": network_fc_distance(drug, base, parcellation),
           "fc_distance_global": float(region_fc_distance(drug, base).mean()),
           "within_network_change": within_network_change(drug, base, parcellation)}
    if "bold" in session:
        repeat = fc.sel(condition="baseline_repeat").values
        _, floor = fc_change(repeat, base, parcellation)
        floor_distance = float(region_fc_distance(repeat, base).mean())
        out.update(noise_floor_global=floor, noise_floor_distance=floor_distance,
                   drug_to_noise_ratio=glob / floor if floor > 0 else float("inf"),
                   drug_to_noise_ratio_distance=out["fc_distance_global"] / floor_distance
                   if floor_distance > 0 else float("inf"))
    if "rate" in session:  # simulated scans: is the network still at a plausible working point?
        rate = session["rate"]
        out.update(mean_rate_hz=float(rate.sel(condition=condition).mean()),
                   baseline_mean_rate_hz=float(rate.sel(condition="baseline").mean()))
    return out


__all__ = ["CENTROID_COLUMNS", "FITTED_SC", "NULL_KINDS", "OCCUPANCY_TARGET", "Condition",
           "conditions", "coupling_for", "covered_range", "density_map", "effective_gain_scale",
           "expected_fc_session", "fc_change", "gain_from", "has_centroids", "linear_session",
           "occupancy_at", "occupancy_window", "refined_fic", "require_covered", "sc_fingerprint",
           "scan_samples", "scan_session", "scan_start", "stored_coupling", "summarise", "variogram_maps",
           "window_mean_occupancy"]
