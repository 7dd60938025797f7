"""HTML report of a virtual-trial run (jinja2 template, figures embedded as base64 PNG).

Sections: the disclaimer, trial design, outcome table with CIs, arm trajectories, response and
remission bars, published outcomes for comparison, window / spine / BDNF time courses,
correlations with improvement, the imaging endpoints of the rewiring layer (part B; omitted when
the run has none) and the scorecard rows that apply to the design.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from .. import DISCLAIMER, __version__
from ..clinical.design import TrialDesign
from ..clinical.scales import get_scale
from ..clinical.stats import summarize
from ..errors import InputError
from ..validation.checks_metrics import nw3_verdict, nw4_verdict

#: Scorecard rows computable from a run's summary, by design name: (target id, value getter).
#: NW3 and NW4 use the validation checks' own rules (one function per criterion).
SCORECARD_ROWS: dict[str, list[tuple[str, Callable[[dict], float]]]] = {
    "carhart2021": [
        ("CL1.psilocybin", lambda s: s["arms"]["psilocybin"]["change_mean"]),
        ("CL1.escitalopram", lambda s: s["arms"]["escitalopram"]["change_mean"]),
        ("CL1.difference", lambda s: abs(s["difference"]["estimate"])),
    ],
    "szigeti2021": [("CL3", lambda s: abs(s["difference"]["estimate"]))],
    "daws2022": [("NW3", lambda s: nw3_verdict(s)[0])],
    "daws2022_trd": [("NW4", lambda s: nw4_verdict(s)[0])],
}


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figures(ds: xr.Dataset, summary: dict, design: TrialDesign) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = {}
    fig, ax = plt.subplots(figsize=(7.5, 4))
    for name, arm in summary["arms"].items():
        days = [0.0] + [float(d) for d in arm["by_visit"]]
        means = [0.0] + list(arm["by_visit"].values())
        cis = np.array([[0.0, 0.0]] + list(arm["by_visit_ci"].values()))
        ax.errorbar(days, means, yerr=[np.array(means) - cis[:, 0], cis[:, 1] - np.array(means)],
                    marker="o", capsize=3, label=f"{name} (n={arm['n']})")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("study day")
    ax.set_ylabel(f"change in {design.scale} (mean, 95% CI)")
    ax.legend()
    figs["trajectories"] = _png(fig)

    fig, ax = plt.subplots(figsize=(7.5, 3.5))
    names = list(summary["arms"])
    x = np.arange(len(names))
    for offset, key, label in ((-0.2, "response", "response"), (0.2, "remission", "remission")):
        rates = np.array([summary["arms"][n][f"{key}_rate"] for n in names])
        ci = np.array([summary["arms"][n][f"{key}_ci"] for n in names])
        ax.bar(x + offset, 100 * rates, width=0.4, label=label,
               yerr=100 * np.array([rates - ci[:, 0], ci[:, 1] - rates]), capsize=4)
    ax.set_xticks(x, names)
    ax.set_ylabel(f"% of patients at day {design.primary_day:g} (Wilson 95% CI)")
    ax.set_ylim(0, 100)
    ax.legend()
    figs["rates"] = _png(fig)

    quantities = [("window", "plasticity window (0–1)"), ("density_rel", "spine density (healthy = 1)"),
                  ("stable_rel", "persistent spines (healthy = 1)"), ("bdnf_rel", "BDNF/TrkB (untreated = 1)")]
    quantities = [(q, label) for q, label in quantities if q in ds["quantity"].values]
    fig, axes = plt.subplots(1, len(quantities), figsize=(3.7 * len(quantities), 3.3))
    for name in names:
        course = ds["course"].where(ds["arm"] == name, drop=True).mean("patient")
        for ax, (q, label) in zip(axes, quantities, strict=True):
            ax.plot(course["day"], course.sel(quantity=q), label=name)
            ax.set_title(label, fontsize=10)
            ax.set_xlabel("study day")
    axes[1].axhline(1.0, color="grey", lw=0.8)
    axes[0].legend(fontsize=8)
    figs["biology"] = _png(fig)
    return figs


def _scorecard(design: TrialDesign, summary: dict) -> list[dict]:
    from ..validation.registry import evaluate
    from ..validation.targets import TARGETS_BY_ID

    rows = []
    for target_id, getter in SCORECARD_ROWS.get(design.name, []):
        try:
            value = getter(summary)
            value = value if isinstance(value, bool) else float(value)
        except (KeyError, TypeError):
            continue
        rows.append(evaluate(TARGETS_BY_ID[target_id], lambda v=value: v).model_dump())
    return rows


def _published_text(value) -> str:
    """A published outcome as a reader would write it: ``arm: value; arm: value``, or for an
    estimate ``−2.0 (95 % CI −5.0 to 0.9), p = 0.17``."""
    if isinstance(value, dict):
        if "estimate" in value:
            text = f"{value['estimate']:g}"
            if "ci" in value:
                text += f" (95 % CI {value['ci'][0]:g} to {value['ci'][1]:g})"
            if "p" in value:
                text += f", p = {value['p']:g}"
            return text
        return "; ".join(f"{k}: {_published_text(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_published_text(v) for v in value)
    return str(value)


def _require_runs_models(ds: xr.Dataset, design: TrialDesign, models) -> None:
    """Refuse to recompute a run's patients with another model set than the one it was made with."""
    from ..clinical.trial import DEFAULT_MODELS

    made_with = ds.attrs.get("model_fingerprint")
    if made_with is not None and (models or DEFAULT_MODELS).fingerprint(design) != made_with:
        raise InputError("models", "the imaging figures recompute the run's patients, but the run was made with "
                                   "another model set; pass it as models=...")


def render_trial_report(ds: xr.Dataset, *, summary: dict | None = None, network: dict | None = None,
                        models=None) -> str:
    """The HTML report of a trial run as a string.

    Parameters
    ----------
    ds
        A Dataset from :func:`psilosim.clinical.trial.run_trial`.
    summary
        Its :func:`psilosim.clinical.stats.summarize` output (computed when omitted).
    network
        Part B's imaging section: ``{"fc_figures": [base64 PNG, ...], "changes": {name: value}}``;
        ``None`` builds it from the run's ``network`` variable when it has one
        (:func:`psilosim.rewiring.report.network_section`), else omits it.
    models
        The :class:`~psilosim.clinical.trial.ModelSet` the run used (default: the default models);
        the imaging figures recompute their patients with it, so a run with custom models must
        pass its own.

    Raises
    ------
    InputError
        On ``models`` when the imaging figures are to be recomputed and ``models`` is not the set
        the run was made with (its ``model_fingerprint``).
    """
    import jinja2

    design = TrialDesign.model_validate_json(ds.attrs["design"])
    summary = summary or summarize(ds)
    if network is None and "network" in ds:
        from ..rewiring.report import network_section

        _require_runs_models(ds, design, models)
        network = network_section(ds, models)
    scale = get_scale(design.scale)
    arms = []
    for arm in design.arms:
        arms.append({"name": arm.name, "therapy": arm.therapy, "environment": arm.environment,
                     "expectancy": arm.expectancy, "n": summary["arms"].get(arm.name, {}).get("n", 0),
                     "treatments": [f"{t.compound} — {t.regimen.describe()}" for t in arm.treatments] or ["none"]})
    lo, hi = design.baseline.bounds()
    env = jinja2.Environment(loader=jinja2.PackageLoader("psilosim.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    env.filters["join"] = lambda items, sep: jinja2.utils.markupsafe.Markup(sep).join(items)
    published = {key.replace("_", " "): _published_text(value) for key, value in design.published.items()}
    return env.get_template("trial.html.j2").render(
        design=design, summary=summary, arms=arms, figures=_figures(ds, summary, design),
        disclaimer=DISCLAIMER, version=__version__, seed=ds.attrs.get("seed"), n_patients=ds.sizes["patient"],
        biology_model=ds.attrs.get("biology_model", ""), network_model=ds.attrs.get("network_model", ""),
        inclusion=f"{lo:.1f}–{hi:.1f} on {design.scale}, applied to the true (latent) severity: a rated "
                  "baseline can fall outside by the rating error"
                  + (f" (criterion written on {design.baseline.criterion_scale})" if design.baseline.criterion_scale else ""),
        block_size=design.effective_block_size, allocation=":".join(str(a.allocation) for a in design.arms),
        remission_max=scale.remission_max, remission_source=scale.remission_source,
        published=published, network=network, scorecard=_scorecard(design, summary),
    )


def write_trial_report(ds: xr.Dataset, path: str | Path, **kwargs) -> Path:
    """Write :func:`render_trial_report` to ``path`` and return it."""
    path = Path(path)
    path.write_text(render_trial_report(ds, **kwargs), encoding="utf-8")
    return path
