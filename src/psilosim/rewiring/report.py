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


def _figure(arm: str, index: int, day: float, fc0: xr.DataArray, fc1: xr.DataArray) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..report.trial import _png

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    diff = fc1.values - fc0.values
    lim = float(np.abs(diff).max()) or 1.0
    for ax, values, title, cmap, vlim in ((axes[0], fc0.values, "baseline (day 0)", "viridis", None),
                                          (axes[1], fc1.values, f"day {day:g}", "viridis", None),
                                          (axes[2], diff, "after − before", "RdBu_r", lim)):
        kwargs = {"vmin": -vlim, "vmax": vlim} if vlim else {"vmin": 0.0, "vmax": 1.0}
        image = ax.imshow(values, cmap=cmap, **kwargs)
        ax.set_title(f"{arm}, patient {index}: {title}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(image, ax=ax, fraction=0.046)
    return _png(fig)


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
    figures = []
    for arm in json.loads(ds.attrs["arms"]):
        index = _median_patient(ds, arm, visit)
        if index is None:
            continue
        fc0, fc1 = _fc_pair(design, index, int(ds.attrs["seed"]), day, models)
        figures.append(_figure(arm, index, day, fc0, fc1))
    changes = {}
    for arm, measures in network_summary(ds).items():
        for name, est in measures.items():
            lo, hi = est["change_ci"]
            changes[f"{arm}: {name} (day {day:g} − baseline, n={est['n']})"] = (
                f"{est['change_mean']:+.5f} (95% CI {lo:+.5f} to {hi:+.5f}); baseline {est['baseline_mean']:.4f}")
    return {"fc_figures": figures, "changes": changes}
