"""Fit a whole-brain model's global coupling to a dataset's empirical FC.

Two model families (``psilosim fit --model dmf|hopf|both``):

``dmf``   the dynamic mean field, simulated (below);
``hopf``  the Stuart–Landau network in its linear regime, scored on its *expected* FC
          (Ponce-Alvarez et al. 2015; Deco et al. 2017). With symmetric diffusive coupling the
          Lyapunov solution is block-diagonal, ``P_xx = (β²/2)(|a| I + G L)⁻¹`` with L the SC
          Laplacian: the intrinsic frequency and the noise drop out and the FC pattern depends
          on one number, the ratio of coupling to local damping G/|a|. The sweep runs over that
          ratio at the published a = −0.02 s⁻¹. The empirical FC of a dataset is a group average
          over many hours of scanning, so its noise-free model counterpart is the expected FC.

For each G of a grid, all in one batch: FIC is refined so every region sits at the target rate
(:meth:`~psilosim.network.dmf.DMFModel.fic_refined`), BOLD is simulated, and the fit is scored
as in Deco et al. 2018 (Curr Biol 28:3065): the Pearson correlation of simulated and empirical
FC over the upper triangle, and the Kolmogorov–Smirnov distance between the distributions of
FCD values (sliding-window FC correlation), the latter only when the dataset has BOLD.
The best G maximises the FC correlation among the values at which FIC still holds every region's
rate near its target (beyond them the model has left the working point it is defined at).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.stats import ks_2samp

from ..connectome import Parcellation
from ..errors import DataError, InputError
from ._checks import checked_coupling
from .dmf import DMF, DMFModel
from .hopf import HopfModel
from .settings import FIT, FitParams


@dataclass(frozen=True)
class FitResult:
    """Best coupling and its scores, with the whole sweep as a Dataset.

    ``a`` is the Hopf local bifurcation parameter (1/s) of the best fit (``None`` for the DMF);
    ``j_fic`` the DMF's refined FIC weights, labelled by region (``None`` for Hopf).
    ``fcd_ks_missing_reason`` says why ``fcd_ks`` is ``None`` (``None`` when it was computed).
    ``mean_fc`` is the model's mean FC (upper triangle) at ``G``, ``empirical_mean_fc`` the
    dataset's: fc_corr scores the pattern only, these say whether the level matches too.
    ``fcd_windows`` is the number of sliding windows of the simulated BOLD behind ``fcd_ks``
    (``None`` when it was not computed): fcd_ks depends strongly on it, i.e. on the simulated length.
    """

    G: float
    fc_corr: float
    fcd_ks: float | None
    sc_fc_corr: float
    sweep: xr.Dataset
    j_fic: xr.DataArray | None
    model: str = "dmf"
    a: float | None = None
    fcd_ks_missing_reason: str | None = None
    mean_fc: float | None = None
    empirical_mean_fc: float | None = None
    fcd_windows: int | None = None

    def as_dict(self) -> dict[str, float | str | None]:
        return {"G": self.G, "fc_corr": self.fc_corr, "fcd_ks": self.fcd_ks, "sc_fc_corr": self.sc_fc_corr,
                "model": self.model, "a": self.a, "mean_fc": self.mean_fc,
                "empirical_mean_fc": self.empirical_mean_fc, "fcd_windows": self.fcd_windows}


# ---------------------------------------------------------------------- scores
def upper(matrix: np.ndarray) -> np.ndarray:
    """Upper-triangle values (diagonal excluded)."""
    return matrix[np.triu_indices(matrix.shape[0], 1)]


def fc_matrix(bold: np.ndarray) -> np.ndarray:
    """Pearson FC of a regions × time array; a flat region gives a :class:`DataError`."""
    bold = np.asarray(bold, dtype=float)
    if not np.isfinite(bold).all():
        raise DataError("BOLD contains NaN or non-finite values")
    if (bold.std(axis=1) == 0).any():
        raise DataError("BOLD has a constant region: FC is undefined")
    return np.corrcoef(bold)


def mean_fc(matrix: np.ndarray) -> float:
    """Mean of an FC matrix over its connections (upper triangle, diagonal excluded)."""
    return float(upper(np.asarray(matrix)).mean())


def fc_correlation(fc_a: np.ndarray, fc_b: np.ndarray) -> float:
    """Pearson correlation of two FC (or SC) matrices over the upper triangle."""
    return float(np.corrcoef(upper(np.asarray(fc_a)), upper(np.asarray(fc_b)))[0, 1])


def fcd_values(bold: np.ndarray, tr_s: float, window_s: float, step_s: float) -> np.ndarray:
    """Upper-triangle values of the FCD matrix (correlation between windowed FC vectors)."""
    width = int(round(window_s / tr_s))
    starts = fcd_starts(bold.shape[1], tr_s, window_s, step_s)
    vectors = np.array([upper(np.corrcoef(bold[:, s:s + width])) for s in starts])
    if len(vectors) < 2:
        raise InputError("duration", f"need at least two {window_s:g} s windows for FCD")
    return upper(np.corrcoef(vectors))


def fcd_starts(n_samples: int, tr_s: float, window_s: float, step_s: float) -> range:
    """First sample of each sliding FCD window over ``n_samples`` BOLD samples."""
    width = int(round(window_s / tr_s))
    step = max(1, int(round(step_s / tr_s)))
    return range(0, n_samples - width + 1, step)


def fcd_window_count(n_samples: int, tr_s: float, *, p: FitParams = FIT) -> int:
    """Number of sliding FCD windows (``p.fcd_window`` every ``p.fcd_step``) in ``n_samples`` samples."""
    return len(fcd_starts(n_samples, tr_s, p.fcd_window.to("s"), p.fcd_step.to("s")))


#: Why the FCD KS distance of a best fit is missing when its dataset and duration allowed it: the
#: simulated BOLD had non-finite values or a constant region.
UNUSABLE_BOLD = "the simulated BOLD was not usable"


def fcd_ks_unavailable(parcellation: Parcellation, simulated_s: float, *,
                       p: FitParams = FIT) -> str | None:
    """Why the FCD KS distance cannot be scored for ``simulated_s`` seconds of BOLD on ``parcellation``
    (``None``: it can): the dataset has no empirical BOLD, or the run is shorter than two FCD windows."""
    window_s = p.fcd_window.to("s")
    if not parcellation.bold:
        return "no BOLD in the dataset"
    if simulated_s < 2 * window_s:
        return f"the simulated BOLD ({simulated_s:g} s) is shorter than two FCD windows of {window_s:g} s"
    return None


def fcd_ks(sim_bold: np.ndarray, emp_bolds: list[np.ndarray], tr_s: float,
           *, p: FitParams = FIT) -> float:
    """KS distance between simulated and pooled empirical FCD distributions."""
    window, step = p.fcd_window.to("s"), p.fcd_step.to("s")
    emp = np.concatenate([fcd_values(b, tr_s, window, step) for b in emp_bolds])
    return float(ks_2samp(fcd_values(sim_bold, tr_s, window, step), emp).statistic)


# ---------------------------------------------------------------------- sweep
def g_grid(parcellation: Parcellation, *, p: FitParams = FIT,
           points: int | None = None) -> np.ndarray:
    """Values of G whose effective coupling G·⟨Σ_j C_ij⟩ spans ``[g_low, g_high]``."""
    strength = float(parcellation.sc.values.sum(axis=1).mean())
    if strength <= 0:
        raise DataError(f"{parcellation.name}: structural connectivity is empty")
    n = int(p.g_points.value) if points is None else int(points)
    if n < 1:
        raise InputError("points", f"need at least one G value, got {n}")
    return np.linspace(p.g_low.value, p.g_high.value, n) / strength


def sweep(parcellation: Parcellation, *, g_values: np.ndarray | None = None, seed: int = 0,
          p: FitParams = FIT, duration_s: float | None = None,
          progress: Callable[[float], None] | None = None) -> tuple[xr.Dataset, np.ndarray]:
    """Score every G of ``g_values`` (one batch); returns the scores and the refined FIC weights.

    ``progress`` is called with the fraction done after each chunk of simulation.
    """
    if parcellation.fc is None:
        raise DataError(f"{parcellation.name}: no empirical FC to fit against")
    g_values = g_grid(parcellation, p=p) if g_values is None else np.asarray(g_values, dtype=float)
    model = DMFModel(parcellation.sc)
    j_fic = model.fic_refined(g_values, seed=seed)
    if progress:
        progress(0.2)
    tr_s = dataset_tr(parcellation, p=p)
    duration = p.duration.to("s") if duration_s is None else float(duration_s)
    run = model.start(coupling=g_values, seed=seed, tr_s=tr_s, j_fic=j_fic)
    run.warm_up(p.warmup.to("s"))
    chunks = _chunk_lengths(duration, tr_s)
    parts = []
    for k, length in enumerate(chunks):
        parts.append(run.advance(length))
        if progress:
            progress(0.2 + 0.8 * (k + 1) / len(chunks))
    sim = xr.concat(parts, dim="time", data_vars="all")
    emp_fc = parcellation.fc.values
    emp_bolds = [ts.values for ts in parcellation.bold]
    corr, ks, rates, low, high, means = [], [], [], [], [], []
    simulated_s = sim.sizes["time"] * tr_s
    scores_ks = fcd_ks_unavailable(parcellation, simulated_s, p=p) is None
    for m in range(len(g_values)):
        bold = sim["bold"].values[m]
        ok = np.isfinite(bold).all() and (bold.std(axis=1) > 0).all()
        model_fc = fc_matrix(bold) if ok else None
        corr.append(fc_correlation(model_fc, emp_fc) if ok else np.nan)
        means.append(mean_fc(model_fc) if ok else np.nan)
        ks.append(fcd_ks(bold, emp_bolds, tr_s, p=p) if ok and scores_ks else np.nan)
        region_rates = sim["rate"].isel(member=m).values
        rates.append(float(region_rates.mean()))
        low.append(float(region_rates.min()))
        high.append(float(region_rates.max()))
    scores = xr.Dataset(
        {"fc_corr": ("G", corr), "fcd_ks": ("G", ks), "mean_rate": ("G", rates, {"units": "Hz"}),
         "min_rate": ("G", low, {"units": "Hz"}), "max_rate": ("G", high, {"units": "Hz"}),
         "mean_fc": ("G", means, {"units": "1", "long_name": "mean FC of the simulated BOLD (upper triangle)"})},
        coords={"G": g_values}, attrs={"dataset": parcellation.name, "duration_s": duration, "seed": seed,
                                       "simulated_s": simulated_s, "n_samples": sim.sizes["time"], "tr_s": tr_s},
    )
    return scores, j_fic


def fic_rule(*, p: FitParams = FIT) -> tuple[float, float]:
    """The working-point rule a coupling must keep to be eligible: target rate and tolerance (Hz)."""
    return DMF.target_rate.to("Hz"), p.rate_tolerance.to("Hz")


def holds_fic_rule(min_rate, max_rate, *, p: FitParams = FIT):
    """Whether every region's mean rate stayed within target ± tolerance (elementwise for arrays)."""
    target, tol = fic_rule(p=p)
    return (np.asarray(min_rate) >= target - tol) & (np.asarray(max_rate) <= target + tol)


def fit(parcellation: Parcellation, *, g_values: np.ndarray | None = None, seed: int = 0,
        p: FitParams = FIT, duration_s: float | None = None,
        progress: Callable[[float], None] | None = None) -> FitResult:
    """Sweep G and return the best one (maximal FC correlation) with its scores."""
    scores, j_fic = sweep(parcellation, g_values=g_values, seed=seed, p=p, duration_s=duration_s, progress=progress)
    corr = scores["fc_corr"].values.copy()
    held = holds_fic_rule(scores["min_rate"].values, scores["max_rate"].values, p=p)
    corr[~held] = np.nan
    if not np.isfinite(corr).any():
        raise DataError(f"{parcellation.name}: no coupling kept the working point (all runs left 3 Hz)")
    best = int(np.nanargmax(corr))
    ks = float(scores["fcd_ks"].values[best])
    missing = None if np.isfinite(ks) else \
        fcd_ks_unavailable(parcellation, scores.attrs["simulated_s"], p=p) or UNUSABLE_BOLD
    return FitResult(
        G=float(scores["G"].values[best]), fc_corr=float(corr[best]),
        fcd_ks=ks if np.isfinite(ks) else None, fcd_ks_missing_reason=missing,
        fcd_windows=fcd_window_count(scores.attrs["n_samples"], scores.attrs["tr_s"], p=p) if np.isfinite(ks) else None,
        mean_fc=float(scores["mean_fc"].values[best]), empirical_mean_fc=mean_fc(parcellation.fc.values),
        sc_fc_corr=fc_correlation(parcellation.sc.values, parcellation.fc.values),
        sweep=scores, j_fic=xr.DataArray(j_fic[best], dims="region", coords={"region": parcellation.labels},
                                         name="j_fic", attrs={"units": "nA", "long_name": "refined FIC weight"}),
    )


def hopf_ratios(*, p: FitParams = FIT) -> np.ndarray:
    """Coupling-to-damping ratios G·⟨Σ_j C_ij⟩/|a| of the Hopf sweep (log-spaced)."""
    return np.geomspace(p.hopf_ratio_low.value, p.hopf_ratio_high.value, int(p.hopf_ratio_points.value))


def hopf_expected_fc(model: HopfModel, coupling: float, a: float) -> np.ndarray:
    """Expected FC of the linear Hopf network with one damping ``a`` for all regions.

    Equal to ``model.linear_fc(coupling, a=a)`` (tested) but from one symmetric solve: for
    symmetric SC the Lyapunov solution's x block is proportional to ``(|a| I + G L)⁻¹``.
    """
    coupling = checked_coupling(coupling)
    laplacian = np.diag(model.sc.sum(axis=1)) - model.sc
    cov = np.linalg.inv(abs(a) * np.eye(model.n_regions) + coupling * laplacian)
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def fit_hopf(parcellation: Parcellation, *, p: FitParams = FIT, seed: int = 0,
             duration_s: float | None = None, progress: Callable[[float], None] | None = None) -> FitResult:
    """Fit the Hopf coupling by the expected FC; FCD KS of the best fit from a simulation."""
    if parcellation.fc is None:
        raise DataError(f"{parcellation.name}: no empirical FC to fit against")
    sc = parcellation.sc.values
    if not np.allclose(sc, sc.T):
        raise DataError(f"{parcellation.name}: the closed-form Hopf fit needs a symmetric SC")
    strength = float(sc.sum(axis=1).mean())
    if strength <= 0:
        raise DataError(f"{parcellation.name}: structural connectivity is empty")
    model = HopfModel(parcellation.sc)
    a = model.params.bifurcation.to("1/s")
    ratios = hopf_ratios(p=p)
    g_values = ratios * abs(a) / strength
    emp = parcellation.fc.values
    expected = [hopf_expected_fc(model, g, a) for g in g_values]
    scores = np.array([fc_correlation(fc, emp) for fc in expected])
    means = np.array([mean_fc(fc) for fc in expected])
    best = int(np.argmax(scores))
    ks = windows = None
    duration = p.duration.to("s") if duration_s is None else float(duration_s)
    missing = fcd_ks_unavailable(parcellation, duration, p=p)
    if missing is None:
        if progress:
            progress(0.2)
        tr_s = dataset_tr(parcellation, p=p)
        sim = hopf_bold(model, duration, coupling=float(g_values[best]), seed=seed, tr_s=tr_s)
        ks = fcd_ks(sim.values[0], [b.values for b in parcellation.bold], tr_s, p=p)
        windows = fcd_window_count(sim.sizes["time"], tr_s, p=p)
    if progress:
        progress(1.0)
    sweep = xr.Dataset({"fc_corr": ("G", scores), "ratio": ("G", ratios),
                        "mean_fc": ("G", means, {"units": "1", "long_name": "mean expected FC (upper triangle)"})},
                       coords={"G": g_values},
                       attrs={"dataset": parcellation.name, "model": "hopf", "a": a,
                              "method": "expected FC (linear, closed form)"})
    return FitResult(G=float(g_values[best]), fc_corr=float(scores[best]), fcd_ks=ks,
                     sc_fc_corr=fc_correlation(sc, emp), sweep=sweep, j_fic=None, model="hopf", a=a,
                     fcd_ks_missing_reason=missing, fcd_windows=windows, mean_fc=float(means[best]),
                     empirical_mean_fc=mean_fc(emp))


def hopf_bold(model: HopfModel, duration_s: float, *, coupling: float, seed: int | None, tr_s: float,
              warmup_s: float | None = None) -> xr.DataArray:
    """Hopf x sampled every ``tr_s``, also for a TR that is not a multiple of the step ``dt``.

    A TR on the step grid is sampled directly (:meth:`HopfModel.simulate`); any other TR (HCP's
    0.72 s against dt = 0.1 s) is read off one run sampled at every step, by linear
    interpolation, so that a dataset's FCD is compared at its own TR. Output as
    :meth:`HopfModel.simulate`: (member, region, time), ``time`` in s since the end of the
    warm-up, the m-th sample at ``m · tr_s`` (docs/network.md#time-axis).
    """
    warmup = {} if warmup_s is None else {"warmup_s": warmup_s}
    dt = model.params.dt.to("s")
    if not (np.isfinite(tr_s) and tr_s >= dt):
        raise InputError("tr", f"must be at least the Hopf step dt = {dt} s, got {tr_s}")
    if model.on_step_grid(tr_s):
        return model.simulate(duration_s, coupling=coupling, seed=seed, tr_s=tr_s, **warmup)
    fine = model.simulate(duration_s + tr_s, coupling=coupling, seed=seed, tr_s=dt, **warmup)
    times = np.arange(1, int(round(duration_s / tr_s)) + 1) * tr_s
    values = np.stack([[np.interp(times, fine["time"].values, series) for series in member]
                       for member in fine.values])
    return xr.DataArray(values, dims=fine.dims,
                        coords={"region": fine["region"].values, "time": ("time", times, dict(fine["time"].attrs))},
                        name=fine.name, attrs={**fine.attrs, "tr_s": tr_s})


def dataset_tr(parcellation: Parcellation, *, p: FitParams = FIT) -> float:
    """The TR (s) of the dataset's BOLD recordings, else the fit's default TR."""
    if parcellation.bold:
        return float(parcellation.bold[0].attrs["tr_s"])
    return p.tr.to("s")


def _chunk_lengths(duration_s: float, tr_s: float, n_chunks: int = 10) -> list[float]:
    """Split a duration into about ``n_chunks`` pieces of whole TRs (for progress reporting)."""
    n_tr = int(round(duration_s / tr_s))
    if n_tr < 1:
        raise InputError("duration", f"{duration_s} s is shorter than one TR ({tr_s} s)")
    edges = np.linspace(0, n_tr, min(n_chunks, n_tr) + 1).round().astype(int)
    return [float((b - a) * tr_s) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


__all__ = ["FitResult", "dataset_tr", "fc_correlation", "fc_matrix", "fcd_ks", "fcd_ks_unavailable", "fcd_starts",
           "fcd_values", "fcd_window_count", "fic_rule", "mean_fc", "fit", "fit_hopf", "g_grid", "holds_fic_rule", "hopf_bold",
           "hopf_expected_fc", "hopf_ratios", "sweep", "upper"]
