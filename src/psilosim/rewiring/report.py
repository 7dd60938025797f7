"""The imaging section of a trial report: FC before/after and the network changes per arm.

:func:`network_section` returns what :func:`psilosim.report.trial.render_trial_report` expects as
``network=``: FC figures (expected FC at baseline and at the last imaging visit, and their
difference, for the patient with the median modularity change of each arm, recomputed from the
run's seed) and a table of mean changes with 95 % CIs per arm and measure.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from ..clinical.design import TrialDesign
from ..clinical.stats import network_day, network_summary


def _median_patient(ds: xr.Dataset, arm: str, day_visit: int) -> int | None:
    q = ds["network"].sel(network_measure="modularity").where(ds["arm"] == arm, drop=True)
    change = (q.isel(visit=day_visit) - q.isel(visit=0)).dropna("patient")
    if change.sizes["patient"] == 0:
        return None
    order = np.argsort(change.values)
    return int(change["patient"].values[order[order.size // 2]])


def _fc_pair(design: TrialDesign, index: int, seed: int, day: float, models=None):
    """Expected FC at day 0 and ``day`` of patient ``index``, simulated as the run did (its ``models``)."""
    from ..clinical.biology import patient_biology
    from ..clinical.trial import DEFAULT_MODELS, draw, imaging_hook
    from .model import ImagingHook

    models = DEFAULT_MODELS if models is None else models
    patient = draw(design, index, seed, models)
    arm = design.arm_of(index, seed)
    spec = design.arms[arm]
    bio = patient_biology(spec.arm_treatments(), patient, design.grid(), environment=spec.environment,
                          mechanisms=spec.mechanisms, params=models.biology)
    hook = imaging_hook(design, models)
    hook = hook if isinstance(hook, ImagingHook) else ImagingHook()  # a custom hook: the default network
    return hook.rewired(design, patient, arm, bio, [0.0, day], keep_fc=True).fc


def network_order(regions) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Region labels ordered by network (first appearance in the table), then hemisphere, and the
    network blocks as ``(network, first row, last row + 1)``: AAL2's own order alternates
    hemispheres, which draws a checkerboard instead of network blocks."""
    networks = list(dict.fromkeys(regions["network"]))
    table = regions.assign(_net=regions["network"].map(networks.index), _row=np.arange(len(regions)))
    ordered = table.sort_values(["_net", "hemisphere", "_row"], kind="stable")
    blocks, start = [], 0
    for name, group in ordered.groupby("_net", sort=True):
        blocks.append((networks[name], start, start + len(group)))
        start += len(group)
    return list(ordered.index), blocks


def fc_figure(arm: str, index: int, day: float, fc0: xr.DataArray, fc1: xr.DataArray, regions):
    """Expected FC at day 0 and ``day`` and their difference, regions grouped by network (``regions``:
    the dataset's region table indexed by label, with ``network`` and ``hemisphere`` columns)."""
    import matplotlib.pyplot as plt

    labels, blocks = network_order(regions.loc[list(fc0["region_i"].values)])
    before = fc0.sel(region_i=labels, region_j=labels).values
    after = fc1.sel(region_i=labels, region_j=labels).values
    diff = after - before
    lim = float(np.abs(diff).max()) or 1.0
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.6), layout="constrained")
    centres = [(a + b - 1) / 2 for _, a, b in blocks]
    for ax, values, title, cmap, (lo, hi), unit in (
            (axes[0], before, "baseline (day 0)", "viridis", (0.0, 1.0), "Pearson r"),
            (axes[1], after, f"day {day:g}", "viridis", (0.0, 1.0), "Pearson r"),
            (axes[2], diff, f"day {day:g} − baseline", "RdBu_r", (-lim, lim), "Δr")):
        image = ax.imshow(values, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_title(title, fontsize=10)
        for _, _, end in blocks[:-1]:
            ax.axhline(end - 0.5, color="white" if cmap == "viridis" else "grey", lw=0.6)
            ax.axvline(end - 0.5, color="white" if cmap == "viridis" else "grey", lw=0.6)
        ax.set_xticks(centres, [name for name, _, _ in blocks], rotation=90, fontsize=7)
        ax.set_yticks(centres, [name for name, _, _ in blocks] if ax is axes[0] else [], fontsize=7)
        fig.colorbar(image, ax=ax, fraction=0.046).set_label(unit)
    fig.suptitle(f"Expected FC of {arm}, patient {index} (median modularity change of the arm); "
                 "regions by network, left then right hemisphere", fontsize=10)
    return fig


def _figure(arm: str, index: int, day: float, fc0: xr.DataArray, fc1: xr.DataArray, regions) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from ..report.trial import _png

    return _png(fc_figure(arm, index, day, fc0, fc1, regions))


def network_section(ds: xr.Dataset, models=None) -> dict | None:
    """``{"fc_figures": [...], "changes": {row: text}}`` for a run with imaging, else ``None``.

    ``models`` is the run's :class:`~psilosim.clinical.trial.ModelSet` (default: the default
    models); the figures' patients are recomputed with it, so pass the one the run used.
    """
    if "network" not in ds:
        return None
    design = TrialDesign.model_validate_json(ds.attrs["design"])
    day = network_day(ds, float(ds.attrs["primary_day"]))
    visit = int(np.flatnonzero(np.isclose(ds["study_day"].values, day))[0])
    from ..connectome import load_dataset

    regions = load_dataset(design.imaging.dataset).regions
    figures = []
    for arm in json.loads(ds.attrs["arms"]):
        index = _median_patient(ds, arm, visit)
        if index is None:
            continue
        fc0, fc1 = _fc_pair(design, index, int(ds.attrs["seed"]), day, models)
        figures.append(_figure(arm, index, day, fc0, fc1, regions))
    changes = {}
    for arm, measures in network_summary(ds).items():
        for name, est in measures.items():
            lo, hi = est["change_ci"]
            changes[f"{arm}: {name} (day {day:g} − baseline, n={est['n']})"] = (
                f"{est['change_mean']:+.5f} (95% CI {lo:+.5f} to {hi:+.5f}); baseline {est['baseline_mean']:.4f}")
    return {"fc_figures": figures, "changes": changes}
