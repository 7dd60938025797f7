"""BDNF/TrkB signalling and the plasticity window, driven by a receptor :class:`Drive`.

:func:`simulate_plasticity` is what a user (or the synapse link) calls. It does not care where
the drive came from: the binding link, a synthetic pulse, or a user's own occupancy series.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import InputError
from ..units import HOURS_PER_DAY
from .drive import Drive
from .kernel import PlasticityConstants, hill, integrate_plasticity
from .params import PlasticityParams, plasticity_params, resolve_mechanisms

#: Step of the day grid away from a drive (numerical setting; the kernel is exact for constant
#: inputs, so a coarse step only smooths inputs that are zero there anyway).
COARSE_STEP_D = 0.25
#: Finest step kept from a drive's own time axis (numerical setting).
FINE_STEP_D = 0.25 / HOURS_PER_DAY
#: Gap between a drive that starts after t = 0 (or ends before the simulation does) and the grid
#: node just before (after) it, where the drive is zero (numerical setting: inputs are linear
#: between nodes, so without these nodes the drive would ramp up from t = 0 to its first sample,
#: or down from its last sample over the next coarse step).
EDGE_STEP_D = 1e-6


#: Which drive target feeds which fast route.
ROUTE_TARGETS = {
    "intracellular_5ht2a": "5-HT2A_intracellular",
    "trkb_direct": "TrkB",
    "nmda_blockade": "NMDA",
}


def time_grid(drive: Drive, *, days: float, start_d: float = 0.0) -> np.ndarray:
    """Day grid: the drive's own samples (≥ ``FINE_STEP_D`` apart) where it has data, coarse elsewhere.

    Parameters
    ----------
    drive
        The receptor drive (time 0 = first dose).
    days
        End of the simulation in days after the first dose.
    start_d
        Start of the simulation (≤ 0; negative when e.g. stress precedes the dose).
    """
    if not np.isfinite(days) or days <= 0:
        raise InputError("days", f"must be a positive number of days, got {days!r}")
    if start_d > 0:
        raise InputError("start_d", "the simulation must start at or before the first dose (t = 0)")
    drive_d = drive.time_h / HOURS_PER_DAY
    drive_d = drive_d[(drive_d >= 0) & (drive_d <= days)]
    drive_d = _thin(drive_d, FINE_STEP_D)
    drive_end = drive_d[-1] if drive_d.size else 0.0
    before = np.arange(start_d, 0.0, COARSE_STEP_D)
    after = np.arange(drive_end, days, COARSE_STEP_D)
    tail = [drive_end + EDGE_STEP_D] if drive_d.size and drive_end + EDGE_STEP_D < days else []
    grid = np.unique(np.concatenate([before, [0.0], _lead_in(drive, days), drive_d, tail, after, [days]]))
    return grid


def _lead_in(drive: Drive, days: float) -> np.ndarray:
    """Coarse nodes from 0 up to a drive that starts later, and one node just before it."""
    first_d = drive.time_h[0] / HOURS_PER_DAY
    if not 0.0 < first_d <= days:
        return np.empty(0)
    edge = max(first_d - EDGE_STEP_D, 0.0)
    return np.append(np.arange(0.0, edge, COARSE_STEP_D), edge)


def _thin(t: np.ndarray, min_step: float) -> np.ndarray:
    """Nodes ``min_step`` apart over the span of ``t`` (plus its last sample) when ``t`` is finer.

    The drive's values on these nodes are cell means (:func:`sample_drive`), not the samples that
    happen to fall on a node, so a finer drive integrates to the same engagement.
    """
    if t.size == 0 or not _finer_than(t, min_step):
        return t
    nodes = np.arange(t[0], t[-1], min_step)
    return nodes if t[-1] - nodes[-1] < 1e-12 else np.append(nodes, t[-1])


def _finer_than(t: np.ndarray, min_step: float) -> bool:
    return bool(np.any(np.diff(t) < min_step - 1e-12))


def sample_drive(drive: Drive, t_d: np.ndarray, values: np.ndarray) -> np.ndarray:
    """An input given on the drive's time axis, on the day grid ``t_d``.

    A drive that is no finer than ``FINE_STEP_D`` is sampled at the nodes (linear
    interpolation; zero outside the drive). A finer drive is averaged instead: each node inside the
    drive's span takes the mean of the piecewise-linear input over its cell (half-way to each
    neighbour, clipped to the span), so the kernel's trapezoid over the nodes keeps the drive's
    integral whatever its step (dropping samples would not).
    """
    t_h = t_d * HOURS_PER_DAY
    point = np.interp(t_h, drive.time_h, values, left=0.0, right=0.0)
    if t_h.size < 2 or not _finer_than(drive.time_h, FINE_STEP_D * HOURS_PER_DAY):
        return point
    mid = 0.5 * (t_h[1:] + t_h[:-1])
    first, last = drive.time_h[0], drive.time_h[-1]
    lo = np.clip(np.concatenate([[t_h[0]], mid]), first, last)
    hi = np.clip(np.concatenate([mid, [t_h[-1]]]), first, last)
    inside = (t_h >= first) & (t_h <= last) & (hi > lo)
    width = np.where(inside, hi - lo, 1.0)
    mean = (_integral_to(hi, drive.time_h, values) - _integral_to(lo, drive.time_h, values)) / width
    return np.where(inside, mean, point)


def _integral_to(x: np.ndarray, t: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Exact integral of the piecewise-linear ``v(t)`` from ``t[0]`` to each ``x`` (inside the span)."""
    cumulative = np.concatenate([[0.0], np.cumsum(np.diff(t) * 0.5 * (v[1:] + v[:-1]))])
    j = np.clip(np.searchsorted(t, x, side="right") - 1, 0, t.size - 2)
    dx = x - t[j]
    slope = (v[j + 1] - v[j]) / (t[j + 1] - t[j])
    return cumulative[j] + v[j] * dx + 0.5 * slope * dx**2


def constants(p: PlasticityParams) -> PlasticityConstants:
    """Kernel constants (days) from a parameter set."""
    return PlasticityConstants(
        tau_trkb_d=p.tau_trkb.to("day"),
        tau_ssri_d=p.tau_ssri.to("day"),
        tau_window_d=p.window_decay.to("day"),
        window_threshold_h=p.window_threshold.to("h"),
        window_hill=p.window_hill.value,
        trkb_to_window_h_per_d=p.trkb_to_window.to("h/day"),
        hours_per_day=HOURS_PER_DAY,
    )


def engagement(drive: Drive, p: PlasticityParams) -> np.ndarray:
    """Acute engagement ``E`` (0–1): psychedelic effect or dissociative NMDA block above threshold."""
    n = p.engagement_hill.value
    e_effect = hill(drive.effect_or_zero(), p.effect_threshold.value, n)
    e_nmda = hill(drive.target("NMDA"), p.nmda_threshold.value, n)
    return 1.0 - (1.0 - e_effect) * (1.0 - e_nmda)


def route_inputs(drive: Drive, p: PlasticityParams, on: dict[str, bool]) -> dict[str, np.ndarray]:
    """Each route's contribution to TrkB signalling, on the drive's time axis (zero when off)."""
    gains = {
        "intracellular_5ht2a": p.gain_intracellular_5ht2a.value,
        "trkb_direct": p.gain_trkb_direct.value,
        "nmda_blockade": p.gain_nmda_blockade.value,
        "ssri_transcription": p.gain_ssri_transcription.value,
    }
    out = {name: gains[name] * drive.target(target) * on[name] for name, target in ROUTE_TARGETS.items()}
    out["ssri_transcription"] = gains["ssri_transcription"] * drive.target("SERT") * on["ssri_transcription"]
    return out


def simulate_plasticity(
    drive: Drive,
    *,
    species: str = "mouse",
    days: float = 34.0,
    mechanisms=None,
    params: PlasticityParams | None = None,
    start_d: float = 0.0,
    grid: np.ndarray | None = None,
) -> xr.Dataset:
    """BDNF/TrkB signalling and the plasticity window over days.

    Parameters
    ----------
    drive
        Receptor occupancies and acute effect over hours (0 = first dose).
    species
        ``"mouse"`` or ``"human"``: selects the parameter set when ``params`` is not given.
    days
        Simulated days after the first dose.
    mechanisms
        Routes to TrkB signalling that are on: ``None``/``"all"``, a list of names from
        :data:`~psilosim.plasticity.params.MECHANISMS`, or ``{name: bool}``.
    params
        A parameter set overriding the species default.
    start_d
        Start of the simulation (≤ 0).
    grid
        A day grid to use instead of :func:`time_grid`: finite, strictly increasing, starting ≤ 0
        and ending at ``days`` (else :class:`~psilosim.errors.InputError` on ``grid``).

    Returns
    -------
    xarray.Dataset
        Over ``time_d``: ``bdnf_rel`` (1 = baseline), ``trkb_signal``, ``ssri_route``,
        ``engagement`` (0–1), ``window_memory_h`` and ``window`` (0–1); route contributions
        ``route_input`` (route, time_d). ``attrs`` hold species, mechanisms and the drive label.
    """
    p = params or plasticity_params(species)
    on = resolve_mechanisms(mechanisms)
    t_d = time_grid(drive, days=days, start_d=start_d) if grid is None else checked_grid(grid, days=days)
    routes = route_inputs(drive, p, on)
    on_grid = {k: sample_drive(drive, t_d, v) for k, v in routes.items()}
    fast = on_grid["intracellular_5ht2a"] + on_grid["trkb_direct"] + on_grid["nmda_blockade"]
    eng = sample_drive(drive, t_d, engagement(drive, p))
    trkb, slow, memory, window = integrate_plasticity(
        t_d, fast, on_grid["ssri_transcription"], eng, constants(p))
    return _dataset(t_d, trkb, slow, memory, window, eng, on_grid, p, on, species, drive.label)


def checked_grid(grid, *, days: float) -> np.ndarray:
    """A user's day grid: finite, strictly increasing, from ≤ 0 (the first dose) to ``days``.

    Raises
    ------
    InputError
        ``grid`` otherwise (a grid starting after the dose would skip it; a non-increasing one
        would integrate backwards).
    """
    try:
        t_d = np.asarray(grid, dtype=float)
    except (TypeError, ValueError):
        raise InputError("grid", "must be a 1-D array of days") from None
    if t_d.ndim != 1 or t_d.size < 2 or not np.all(np.isfinite(t_d)):
        raise InputError("grid", "must be a 1-D array of ≥ 2 finite days")
    if np.any(np.diff(t_d) <= 0):
        raise InputError("grid", "must be strictly increasing")
    if t_d[0] > 0:
        raise InputError("grid", f"must start at or before the first dose (day 0), starts at {t_d[0]:g}")
    if not np.isclose(t_d[-1], days, rtol=0.0, atol=1e-9):
        raise InputError("grid", f"must end at days = {days:g}, ends at {t_d[-1]:g}")
    return t_d


def _dataset(t_d, trkb, slow, memory, window, eng, on_grid, p, on, species, label) -> xr.Dataset:
    route_names = list(on_grid)
    ds = xr.Dataset(
        {
            "bdnf_rel": ("time_d", 1.0 + trkb, {"units": "1", "long_name": "BDNF/TrkB signalling relative to baseline"}),
            "trkb_signal": ("time_d", trkb, {"units": "1", "long_name": "TrkB signalling above baseline (T)"}),
            "ssri_route": ("time_d", slow, {"units": "1", "long_name": "slow transcriptional route (X)"}),
            "engagement": ("time_d", eng, {"units": "1", "long_name": "acute engagement E"}),
            "window_memory_h": ("time_d", memory, {"units": "h", "long_name": "engagement memory M"}),
            "window": ("time_d", window, {"units": "1", "long_name": "plasticity window (0 closed, 1 open)"}),
            "route_input": (("route", "time_d"), np.stack([on_grid[r] for r in route_names]),
                            {"units": "1", "long_name": "drive of each route to TrkB signalling"}),
        },
        coords={"time_d": ("time_d", t_d, {"units": "day"}), "route": route_names},
        attrs={
            "species": str(species).lower(),
            "mechanisms": ",".join(k for k, v in on.items() if v),
            "drive": label,
            "window_closed_level": p.window_closed_level.value,
        },
    )
    return ds


def window_days(ds: xr.Dataset, *, level: float | None = None) -> float:
    """Days the window stays open: from the dose that opened it until it falls below ``level``.

    The dose that opened it is the last dose at or before the window first reached ``level``
    (``ds.attrs["dose_times_d"]``, which :func:`~psilosim.synapses.simulate_slow_chain` records);
    without recorded dose times it is day 0, the first dose by the convention of a
    :class:`Drive`. So a single dose on day 10 gives the same duration as on day 0, and a
    psilocybin dose after six weeks of an SSRI that did not open the window counts from the
    psilocybin dose. The end is the last crossing below ``level`` (a window that re-opens counts
    to its final closing); :func:`window_close_day` gives that day on the run's own time axis.
    ``level`` defaults to the parameter ``window_closed_level`` stored in ``ds.attrs`` (else that
    parameter of the run's ``species``, :func:`plasticity_params`). Returns 0
    when the window never reached the level and ``inf`` when it had not closed by the end.

    Raises
    ------
    InputError
        On ``level`` outside (0, 1): the window lies strictly between 0 and 1, so such a level is
        never crossed and the answer would be a meaningless 0 or ``inf``.
    """
    level = _checked_level(ds, level)
    t, w = _window_after_dose(ds)
    above = np.nonzero(w >= level)[0]
    if above.size == 0:
        return 0.0
    return window_close_day(ds, level=level) - _opening_dose_day(ds, float(t[above[0]]))


def window_close_day(ds: xr.Dataset, *, level: float | None = None) -> float:
    """The day (on ``ds``'s ``time_d`` axis) the window last falls below ``level``.

    Parameters
    ----------
    ds
        A run of :func:`simulate_plasticity` or :func:`~psilosim.synapses.simulate_slow_chain`.
    level
        Fraction of the fully open window (strictly between 0 and 1); default the run's
        ``window_closed_level`` attribute, else that parameter of the run's species.

    Returns
    -------
    float
        The day, linearly interpolated between samples; ``nan`` when the window never reached
        ``level``, ``inf`` when it had not closed by the end of the run.

    Raises
    ------
    InputError
        On ``level`` outside (0, 1), or when it is omitted and the run records neither the level
        nor its species.
    """
    level = _checked_level(ds, level)
    t, w = _window_after_dose(ds)
    above = np.nonzero(w >= level)[0]
    if above.size == 0:
        return float("nan")
    last = above[-1]
    if last == t.size - 1:
        return float("inf")
    # linear interpolation of the crossing between the last sample above and the next one
    w0, w1 = w[last], w[last + 1]
    frac = (w0 - level) / (w0 - w1) if w0 != w1 else 0.0
    return float(t[last] + frac * (t[last + 1] - t[last]))


def _checked_level(ds: xr.Dataset, level) -> float:
    """``level``, or when ``None`` the run's ``window_closed_level`` attribute, else that Param of
    the run's species (:func:`plasticity_params`), checked to lie strictly between 0 and 1."""
    if level is None:
        level = ds.attrs.get("window_closed_level")
    if level is None:
        if "species" not in ds.attrs:
            raise InputError("level", "the run records neither window_closed_level nor its species; give the level")
        level = plasticity_params(ds.attrs["species"]).window_closed_level.value
    if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)) \
            or not 0.0 < float(level) < 1.0:
        raise InputError("level", f"must be a fraction of the fully open window strictly between 0 and 1, "
                                  f"got {level!r}")
    return float(level)


def _window_after_dose(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The window from day 0 on (before it, e.g. while stress precedes the dose, nothing is dosed)."""
    t = ds["time_d"].values
    mask = t >= 0
    return t[mask], ds["window"].values[mask]


def _opening_dose_day(ds: xr.Dataset, opened_d: float) -> float:
    """The last recorded dose at or before ``opened_d`` (day 0 when none is recorded)."""
    doses = np.asarray(ds.attrs.get("dose_times_d", []), dtype=float).ravel()
    before = doses[doses <= opened_d]
    return float(before.max()) if before.size else 0.0


def engagement_hours(ds: xr.Dataset) -> float:
    """Integrated acute engagement in hours (≈ hours spent above the engagement threshold)."""
    t = ds["time_d"].values
    e = ds["engagement"].values
    return float(np.trapezoid(e, t) * HOURS_PER_DAY)
