"""HTML report of a virtual-trial run (jinja2 template, figures embedded as base64 PNG).

Sections: the disclaimer, trial design, outcome table with CIs and every arm's difference from
the reference arm, the statistical methods, arm trajectories, response and remission bars,
published outcomes for comparison, window / spine / BDNF time courses, correlations with
improvement (pooled and within each arm), the imaging endpoints of the rewiring layer (part B;
omitted when the run has none), the calibrated parameters and what they were fitted to, and the
scorecard rows that apply to the design (those used for fitting marked as such).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from .. import DISCLAIMER, __version__
from ..clinical.design import TrialDesign
from ..clinical.scales import get_scale
from ..clinical.stats import correlation_summary, reference_arm, summarize
from ..compounds.model import Compound
from ..errors import InputError
from ..validation.checks_metrics import nw3_verdict, nw4_verdict
from .caveats import CAVEATS, LOW_DOSE_DOCS, binds_trkb_as_psychedelic, trial_assumptions
from .panels import png_base64

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


#: Readable labels of the published outcomes a design quotes (``design.published`` keys);
#: ``{scale}`` and ``{day}`` are the design's scale and primary day. Other keys are shown with
#: their underscores replaced by spaces.
PUBLISHED_LABELS = {
    "n": "patients per arm (n)",
    "n_total": "patients in total (n)",
    "n_imaged": "patients imaged (n)",
    "baseline_mean": "baseline mean ({scale})",
    "change_primary": "change at day {day} ({scale} points)",
    "change_primary_se": "standard error of the change at day {day} ({scale} points)",
    "difference_primary": "between-arm difference at day {day} ({scale} points)",
    "change_by_day": "change by study day ({scale} points)",
    "change_by_day_ci": "95 % CI of the change by study day ({scale} points)",
    "difference_by_day": "between-arm difference by study day ({scale} points)",
    "response_rate": "response rate (≥ 50 % reduction)",
    "response_24h": "response at 24 h (≥ 50 % reduction)",
    "remission_rate": "remission rate",
    "source_table": "source table",
    "modularity": "modularity",
    "dmn": "within-DMN FC",
    "correlation": "correlation with improvement",
    "notes": "notes",
}
#: Published outcomes that are fractions of patients: shown in % as the simulated rates are.
RATE_KEYS = frozenset({"response_rate", "response_24h", "remission_rate"})
#: Readable labels of the biology measures correlated with improvement (``<name>_change_vs_improvement``).
CORRELATION_LABELS = {"density": "spine density change (healthy = 1)",
                      "bdnf": "BDNF/TrkB change (untreated = 1)",
                      "modularity": "modularity change (Q)",
                      "dmn_within": "within-DMN FC change (Pearson r)",
                      "dmn_between": "DMN–other regions FC change (Pearson r)",
                      "mean_fc": "mean FC change (Pearson r)",
                      "rewired_fraction": "rewired fraction of the SC change (0–1)",
                      "flexibility": "network flexibility change (0–1)"}
CORRELATION_SUFFIX = "_change_vs_improvement"


#: Horizontal step between the arms' (and their published values') markers at one visit, in days:
#: keeps the error bars of arms at the same visit apart. Shrunk when visits are closer than the
#: markers would spread (a layout choice, not a physical quantity).
ARM_DAY_OFFSET = 0.3
#: Multiplier of a published standard error giving the half-width of a 95 % normal interval.
Z_95 = 1.959964
#: Relative biology quantities (1 = healthy or untreated), drawn with a reference line at 1.
BIOLOGY_PANELS = (("window", "plasticity window", "window (0–1, dimensionless)"),
                  ("density_rel", "spine density", "relative to healthy (healthy = 1)"),
                  ("stable_rel", "persistent spines", "relative to healthy (healthy = 1)"),
                  ("bdnf_rel", "BDNF/TrkB", "relative to untreated (untreated = 1)"))
RELATIVE_QUANTITIES = frozenset({"density_rel", "stable_rel", "bdnf_rel"})
BIOLOGY_CAPTION = ("Arm means of the daily-sampled course (one value per study day): acute peaks "
                   "lasting hours after a dose are not resolved. Grey line: 1 (healthy / untreated).")
#: Published rate keys drawn on the response/remission bars: (published key, simulated key).
PUBLISHED_RATE_BARS = (("response_rate", "response"), ("response_24h", "response"),
                       ("remission_rate", "remission"))
#: Study day of a published rate that is not at the design's primary day (by its key).
PUBLISHED_RATES_AT = {"response_24h": 1.0}


#: What a lower dose of a compound does in the model, for the note on an arm that receives one
#: (:func:`low_dose_notes`); other compounds get :data:`LOW_DOSE_GENERIC`.
LOW_DOSE_MECHANISMS = {
    "psilocybin": ("psilocin's TrkB affinity is set 1000× above the antidepressants' (assumed, Moliner et al. "
                   "2023), so a low dose occupies TrkB almost fully even where its 5-HT2A occupancy, and so "
                   "the trip, stays low: each dose gives a short BDNF/TrkB pulse and a jump in spine formation "
                   "(the spikes on its dosing days in the biology figure)"),
}
LOW_DOSE_GENERIC = ("it passes through the same links as the higher dose (receptor binding, BDNF/TrkB signalling, "
                    "spines), scaled by its concentration")


def _largest_doses(design: TrialDesign) -> dict[tuple[int, str], object]:
    """The largest dose (pint quantity) of each active library compound per arm, by (arm index, compound)."""
    from ..clinical.biology import INERT_COMPOUNDS

    out = {}
    for a, arm in enumerate(design.arms):
        for treatment in arm.treatments:
            if not isinstance(treatment.compound, str) or treatment.compound in INERT_COMPOUNDS:
                continue
            doses = [phase.dose_quantity for phase in treatment.regimen.phases]
            key = (a, treatment.compound)
            out[key] = max([*doses, *([out[key]] if key in out else [])], key=lambda q: q.to_base_units().magnitude)
    return out


def low_dose_notes(design: TrialDesign, *, summary: dict | None = None) -> list[str]:
    """One sentence per arm that receives a lower dose of an active compound another arm gets at a
    higher dose (carhart2021's escitalopram arm: 1 mg psilocybin twice): what that dose does in the
    model, with the arm's mean trip peak in this run when ``summary`` has it, and where the docs say so.

    The note is for a control dose, one that stays sub-psychedelic: an arm whose mean trip peak in
    ``summary`` is not (:func:`psilosim.binding.is_sub_psychedelic`; goodwin2022's 10 mg) is a dose
    arm in its own right and gets none. Doses in different units (mg against mg/kg) are not compared.
    """
    from ..binding import is_sub_psychedelic

    largest = _largest_doses(design)
    notes = []
    for (a, compound), dose in largest.items():
        higher = [(b, other) for (b, c), other in largest.items()
                  if c == compound and b != a and other.dimensionality == dose.dimensionality and other > dose]
        if not higher:
            continue
        b, other = max(higher, key=lambda item: item[1])
        arm, other_arm = design.arms[a].name, design.arms[b].name
        trip = arm_trip_peak(summary, arm)
        if trip is not None and not is_sub_psychedelic(trip):
            continue
        trip_text = f" (mean trip peak in this run {trip:.2f} on 0–1)" if trip is not None else ""
        notes.append(f"The {arm} arm receives {compound} at {dose:~P}, a lower dose than the {other_arm} arm's "
                     f"{other:~P}. In the model this dose is active, not inert: {LOW_DOSE_MECHANISMS.get(compound, LOW_DOSE_GENERIC)}"
                     f"{trip_text}. See {LOW_DOSE_DOCS}.")
    return notes


#: The caveat on sub-psychedelic doses of a psychedelic that binds TrkB directly (the biology
#: section of the report and ``psilosim spines`` / ``window``). Measured in the model (human,
#: psilocybin 6 mg once): the spine gain at day 28 falls from +1.6 % to +0.6 % with ``trkb_direct``
#: off, while its 2.0-day window is unchanged (it opens on acute engagement, not on TrkB); 1 mg
#: every 3 days: +10.0 % → +1.6 %, and the window never opens.
#: One entry of the table of assumption caveats (:data:`psilosim.report.caveats.CAVEATS`).
TRKB_CAVEAT = CAVEATS["trkb_subpsychedelic"].text


def arm_trip_peak(summary: dict | None, arm: str) -> float | None:
    """An arm's typical acute (trip) peak in a trial summary, the value "sub-psychedelic" is judged on.

    Parameters
    ----------
    summary
        :func:`psilosim.clinical.stats.summarize` output, or ``None``.
    arm
        The arm's name.

    Returns
    -------
    float or None
        The median over the arm's patients of each one's peak subjective effect (0-1,
        ``biology.acute_effect_peak_median``: peaks are skewed, and at 6 mg psilocybin about half
        the patients stay below the threshold while a few trip, so the mean would hide them); the
        mean (``acute_effect_peak``) for a summary without the median; ``None`` without either.
    """
    bio = (summary or {}).get("arms", {}).get(arm, {}).get("biology", {})
    return bio.get("acute_effect_peak_median", bio.get("acute_effect_peak"))


def biology_notes(design: TrialDesign, summary: dict) -> list[str]:
    """The biology section's caveat naming the arms given a sub-psychedelic dose of a psychedelic
    that binds TrkB directly (psilocybin, LSD).

    Sub-psychedelic is decided by :func:`psilosim.binding.is_sub_psychedelic` on the arm's mean
    trip peak (:func:`arm_trip_peak`), the rule ``psilosim spines`` / ``window`` apply to one
    subject's peak; an arm whose summary has no trip peak is not named.

    Parameters
    ----------
    design
        The trial design (its arms and treatments).
    summary
        Its run's :func:`psilosim.clinical.stats.summarize` output.

    Returns
    -------
    list of str
        One line (:data:`TRKB_CAVEAT` after the arm names), or an empty list when no arm qualifies.
    """
    given = sub_psychedelic_trkb_doses(design, summary)
    if not given:
        return []
    named = "; ".join(f"{arm} ({what})" for arm, what in given.items())
    return [f"Arm{'s' if len(given) > 1 else ''} {named}: {TRKB_CAVEAT}."]


def sub_psychedelic_trkb_doses(design: TrialDesign, summary: dict) -> dict[str, str]:
    """The arms given a psychedelic that binds TrkB directly whose trip peak in ``summary``
    (:func:`arm_trip_peak`) stays sub-psychedelic (:func:`psilosim.binding.is_sub_psychedelic`), with
    what each of them is given (``{"escitalopram": "psilocybin 1 mg"}``): an arm may be named after
    another drug than the one the caveat is about."""
    from ..binding import is_sub_psychedelic

    given: dict[str, list[str]] = {}
    for (a, compound), dose in _largest_doses(design).items():
        if not binds_trkb_as_psychedelic(compound):
            continue
        name = design.arms[a].name
        trip = arm_trip_peak(summary, name)
        if trip is not None and is_sub_psychedelic(trip):
            given.setdefault(name, []).append(f"{compound} {dose:~g}".replace(" / ", "/"))
    return {name: ", ".join(doses) for name, doses in given.items()}


def arm_colours(names) -> dict[str, str]:
    """One matplotlib cycle colour per arm, in design order: the same in every report figure."""
    return {name: f"C{k}" for k, name in enumerate(names)}


def published_changes(design: TrialDesign) -> dict[str, list[tuple[float, float, float, float]]]:
    """The published mean change per arm as ``(day, mean, ci_low, ci_high)`` (NaN bounds when unknown).

    Read from ``design.published``: ``change_by_day`` with ``change_by_day_ci`` (95 % CI), else
    ``change_primary`` at the primary day with ``change_primary_se`` (±1.96 SE)."""
    pub = design.published
    out: dict[str, list[tuple[float, float, float, float]]] = {}
    if isinstance(pub.get("change_by_day"), dict):
        cis = pub.get("change_by_day_ci", {})
        for arm, by_day in pub["change_by_day"].items():
            out[arm] = [(float(day), float(mean), *map(float, cis.get(arm, {}).get(day, (np.nan, np.nan))))
                        for day, mean in by_day.items()]
    elif isinstance(pub.get("change_primary"), dict):
        ses = pub.get("change_primary_se", {})
        for arm, mean in pub["change_primary"].items():
            half = Z_95 * float(ses.get(arm, np.nan))
            out[arm] = [(float(design.primary_day), float(mean), mean - half, mean + half)]
    return out


def _arm_steps(visits, n_series: int) -> float:
    """The day step between series at one visit: :data:`ARM_DAY_OFFSET`, or less when visits are close."""
    gaps = np.diff(np.unique(np.asarray(visits, dtype=float)))
    smallest = float(gaps.min()) if gaps.size else np.inf
    return min(ARM_DAY_OFFSET, smallest / (n_series + 1))


def trajectory_figure(summary: dict, design: TrialDesign):
    """Mean change by visit per arm (95 % CI), arms side by side, published values as open squares."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4))
    names = list(summary["arms"])
    colours = arm_colours(design.arm_names)
    published = published_changes(design)
    slots = len(names) * (2 if published else 1)
    step = _arm_steps(design.visits, slots)
    for k, name in enumerate(names):
        arm = summary["arms"][name]
        slot = k * (2 if published else 1)
        shift = (slot - (slots - 1) / 2) * step
        days = np.array([0.0] + [float(d) for d in arm["by_visit"]]) + shift
        means = np.array([0.0] + list(arm["by_visit"].values()))
        cis = np.array([[0.0, 0.0]] + list(arm["by_visit_ci"].values()))
        ax.errorbar(days, means, yerr=[means - cis[:, 0], cis[:, 1] - means], color=colours.get(name),
                    marker="o", capsize=3, label=f"{name}, simulated (n={arm['n']})")
        if name in published:
            rows = np.array(published[name], dtype=float)
            err = np.abs(np.array([rows[:, 1] - rows[:, 2], rows[:, 3] - rows[:, 1]]))
            n_pub = design.published.get("n", {})
            n_text = f", n={n_pub[name]}" if isinstance(n_pub, dict) and name in n_pub else ""
            ax.errorbar(rows[:, 0] + shift + step, rows[:, 1], yerr=np.nan_to_num(err), color=colours.get(name),
                        marker="s", mfc="white", ls="none", capsize=3, label=f"{name}, published{n_text}")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("study day (arms drawn side by side)")
    ax.set_ylabel(f"change in {design.scale} (mean, 95% CI)")
    ax.legend(fontsize=8)
    return fig


def rates_figure(summary: dict, design: TrialDesign):
    """Response (plain) and remission (hatched) per arm in the arm's colour, published rates as diamonds."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(7.5, 3.5))
    names = list(summary["arms"])
    colours = arm_colours(design.arm_names)
    x = np.arange(len(names))
    offsets = {"response": -0.2, "remission": 0.2}
    for key, hatch in (("response", ""), ("remission", "//")):
        rates = np.array([summary["arms"][n][f"{key}_rate"] for n in names])
        ci = np.array([summary["arms"][n][f"{key}_ci"] for n in names])
        ax.bar(x + offsets[key], 100 * rates, width=0.4, color=[colours.get(n) for n in names], hatch=hatch,
               edgecolor="black", yerr=100 * np.array([rates - ci[:, 0], ci[:, 1] - rates]), capsize=4,
               label=f"simulated {key}")
    handles = [Patch(facecolor="white", edgecolor="black", label="response"),
               Patch(facecolor="white", edgecolor="black", hatch="//", label="remission")]
    for pub_key, key in PUBLISHED_RATE_BARS:
        rates = design.published.get(pub_key)
        if not isinstance(rates, dict) or pub_key in PUBLISHED_RATES_AT and PUBLISHED_RATES_AT[pub_key] != design.primary_day:
            continue  # a published rate of another day than the bars' (the primary day)
        at = [(k, 100 * float(rates[n])) for k, n in enumerate(names) if n in rates]
        marks = ax.plot([x[k] + offsets[key] for k, _ in at], [v for _, v in at], "D", color="black", ms=7,
                        mfc="white", label=f"published {PUBLISHED_LABELS[pub_key]}")
        handles.append(marks[0])
    ax.set_xticks(x, names)
    for tick, name in zip(ax.get_xticklabels(), names, strict=True):
        tick.set_color(colours.get(name))
    ax.set_ylabel(f"% of patients at day {design.primary_day:g} (Wilson 95% CI)")
    ax.set_ylim(0, 100)
    ax.legend(handles=handles, fontsize=8)
    return fig


def biology_figure(ds: xr.Dataset, names, design: TrialDesign):
    """Window, spine density, persistent spines and BDNF over the study: arm means of ``course``."""
    import matplotlib.pyplot as plt

    panels = [p for p in BIOLOGY_PANELS if p[0] in ds["quantity"].values]
    colours = arm_colours(design.arm_names)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.7 * len(panels), 3.6), squeeze=False)
    axes = axes[0]
    for name in names:
        course = ds["course"].where(ds["arm"] == name, drop=True).mean("patient")
        for ax, (q, _, _) in zip(axes, panels, strict=True):
            ax.plot(course["day"], course.sel(quantity=q), color=colours.get(name), label=name)
    for ax, (q, title, ylabel) in zip(axes, panels, strict=True):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("study day")
        ax.set_ylabel(ylabel, fontsize=9)
        if q in RELATIVE_QUANTITIES:
            ax.axhline(1.0, color="grey", lw=0.8)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.legend(handles, labels, loc="lower left", ncol=len(labels), fontsize=8, frameon=False,
               bbox_to_anchor=(0.0, 0.0))
    fig.text(0.99, 0.01, BIOLOGY_CAPTION, ha="right", va="bottom", fontsize=7, wrap=True)
    return fig


def _figures(ds: xr.Dataset, summary: dict, design: TrialDesign) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    names = list(summary["arms"])
    return {"trajectories": png_base64(trajectory_figure(summary, design)),
            "rates": png_base64(rates_figure(summary, design)),
            "biology": png_base64(biology_figure(ds, names, design))}


def _scorecard(design: TrialDesign, summary: dict) -> list[dict]:
    """The design's scorecard rows; ``fitted`` marks a target a parameter was fitted to
    (:data:`psilosim.clinical.calibration.FITTED_TARGETS`): passing it is not an independent check."""
    from ..clinical.calibration import FITTED_TARGETS
    from ..validation.registry import evaluate
    from ..validation.targets import TARGETS_BY_ID

    rows = []
    for target_id, getter in SCORECARD_ROWS.get(design.name, []):
        try:
            value = getter(summary)
            value = value if isinstance(value, bool) else float(value)
        except (KeyError, TypeError):
            continue
        row = evaluate(TARGETS_BY_ID[target_id], lambda v=value: v).model_dump()
        row["fitted"] = target_id in FITTED_TARGETS.values()
        rows.append(row)
    return rows


def fitted_parameters(design: TrialDesign, *, models=None) -> list[dict]:
    """Every ``kind="fitted"`` Param of the parameter sets a run of ``design`` depends on (the
    provenance record's ``parameter_sets``), with what its own source and note say it was fitted to.

    Parameters
    ----------
    design
        The trial design whose run's parameter sets are listed.
    models
        The :class:`~psilosim.clinical.trial.ModelSet` of the run (default: the default models).

    Returns
    -------
    list of dict
        One row per fitted Param: ``name`` (dotted path in the parameter sets), ``value``, ``unit``,
        ``source``, ``fitted_to`` (the Param's note) and ``target``: the scorecard target the
        clinical calibration fits it to (:data:`psilosim.clinical.calibration.FITTED_TARGETS`),
        else ``None``; the rows with a target first.
    """
    from ..clinical.calibration import FITTED_TARGETS
    from ..clinical.trial import DEFAULT_MODELS

    rows: list[dict] = []

    def walk(node, path: str) -> None:
        if isinstance(node, dict) and node.get("kind") == "fitted" and "value" in node:
            name = path.rsplit(".", 1)[-1]
            rows.append({"name": path, "value": node["value"], "unit": node.get("unit", ""),
                         "source": node.get("source", ""), "fitted_to": node.get("note") or "",
                         "target": FITTED_TARGETS.get(name)})
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))

    walk((models or DEFAULT_MODELS).parameter_sets(design=design), "")
    return sorted(rows, key=lambda row: row["target"] is None)  # the clinical calibration first


def _published_text(value, *, rate: bool = False) -> str:
    """A published outcome as a reader would write it: ``arm: value; arm: value``, or for an
    estimate ``−2.0 (95 % CI −5.0 to 0.9), p = 0.17``; a ``rate`` (fraction of patients) in %,
    formatted as the simulated rates are."""
    if isinstance(value, dict):
        if "estimate" in value:
            text = f"{value['estimate']:g}"
            if "ci" in value:
                text += f" (95 % CI {value['ci'][0]:g} to {value['ci'][1]:g})"
            if "p" in value:
                text += f", p = {value['p']:g}"
            return text
        return "; ".join(f"{k}: {_published_text(v, rate=rate)}" for k, v in value.items())
    if isinstance(value, (int, float)) and not isinstance(value, bool) and rate:
        return f"{100 * value:.0f}%"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_published_text(v, rate=rate) for v in value)
    return str(value)


def _published_rows(design: TrialDesign) -> dict[str, str]:
    """The design's published outcomes under readable labels with the scale's units."""
    fill = {"scale": design.scale, "day": f"{design.primary_day:g}"}
    return {PUBLISHED_LABELS.get(key, key.replace("_", " ")).format(**fill): _published_text(value, rate=key in RATE_KEYS)
            for key, value in design.published.items()}


def _compound_text(compound) -> str:
    """A library name as is; a custom compound as ``name (based on X; key = value, ...)``; a full
    definition (a compound file, a registered compound) as ``name (own definition)``."""
    if isinstance(compound, Compound):
        return f"{compound.name} (own definition)"
    if not hasattr(compound, "based_on"):
        return str(compound)
    overrides = ", ".join(f"{k} = {v}" for k, v in compound.overrides.items())
    return f"{compound.name} (based on {compound.based_on}" + (f"; {overrides})" if overrides else ")")


def _assumptions(design: TrialDesign, summary: dict) -> dict[str, list[dict]]:
    """The caveats and named hypotheses of the run: the summary's (``psilosim trial`` adds them),
    else computed (:func:`psilosim.report.caveats.trial_assumptions`)."""
    if "caveats" in summary and "hypotheses" in summary:
        return {"caveats": summary["caveats"], "hypotheses": summary["hypotheses"]}
    return trial_assumptions(design, summary=summary)


def _interactions_text(interactions: dict[str, bool] | None) -> str:
    """``; interaction ssri_5ht2a_downregulation off`` for each drug interaction an arm switches off."""
    off = [name for name, on in (interactions or {}).items() if not on]
    return "".join(f"; interaction {name} off" for name in off)


def _mechanisms_text(mechanisms: dict[str, bool] | None) -> str:
    """The plasticity routes an arm switches off (``all on`` when none)."""
    from ..plasticity.params import resolve_mechanisms

    off = [name for name, on in resolve_mechanisms(mechanisms).items() if not on]
    return "all on" if not off else ", ".join(f"{name} off" for name in off) + " (others on)"


def _correlation_text(detail: dict) -> str:
    """``0.331 (95% CI 0.01 to 0.59), n = 40``, or ``not computed: why (n = 3)``."""
    if detail.get("r") is None:
        reason = detail.get("reason")
        return (f"not computed: {reason}" if reason else "not computed") + f" (n = {detail.get('n', 0)})"
    ci = detail.get("ci") or [float("nan")] * 2
    return f"{detail['r']:.3f} (95% CI {ci[0]:.2f} to {ci[1]:.2f}), n = {detail['n']}"


def _correlation_rows(ds: xr.Dataset, summary: dict) -> list[dict]:
    """Each correlation with improvement: a readable label, the pooled r and r within each arm,
    each with its CI and n or why it is missing (as
    :func:`~psilosim.clinical.stats.correlation_summary` gives them)."""
    details = summary.get("correlation_details") or correlation_summary(ds)
    rows = []
    for key in summary.get("correlations", {}):
        name = key.removesuffix(CORRELATION_SUFFIX)
        detail = details.get(key, {})
        rows.append({"label": CORRELATION_LABELS.get(name, f"{name.replace('_', ' ')} change"),
                     "value": _correlation_text(detail),
                     "by_arm": [_correlation_text(d) for d in detail.get("by_arm", {}).values()]})
    return rows


def _difference_rows(summary: dict) -> list[dict]:
    """Each arm against the reference arm (``differences``), as the report prints them."""
    rows = []
    for d in (summary.get("differences") or {}).values():
        if d.get("estimate") is None:
            rows.append({"pair": f"{d['arm']} − {d['reference']}", "estimate": "not computed",
                         "ci": d.get("reason", ""), "p": "—"})
            continue
        rows.append({"pair": f"{d['arm']} − {d['reference']}", "estimate": f"{d['estimate']:.2f}",
                     "ci": f"{d['ci'][0]:.2f} to {d['ci'][1]:.2f}", "p": f"{d['p']:.3g}"})
    return rows


#: Groups of an arm's change by SSRI status (``by_ssri_status`` keys of the summary), as the report names them.
SSRI_GROUP_LABELS = {"on_ssri": "on an SSRI (not washed out: RB8 blunting)", "off_ssri": "not on an SSRI"}


def _ssri_rows(summary: dict) -> list[dict]:
    """Rows of the change-by-SSRI-status table (empty when no patient stayed on an SSRI)."""
    rows = []
    for name, arm in summary.get("arms", {}).items():
        for key, label in SSRI_GROUP_LABELS.items():
            group = arm.get("by_ssri_status", {}).get(key)
            if group is None:
                continue
            mean, (low, high) = group["change_mean"], group["change_ci"]
            change = "no patient" if mean is None else f"{mean:.2f}" + (
                f" ({low:.2f} to {high:.2f})" if np.isfinite(low) and np.isfinite(high) else " (one patient: no CI)")
            rows.append({"arm": name, "status": label, "n": group["n"], "change": change})
    return rows


def shown(value, spec: str) -> str:
    """A number as the report and the ``trial`` table print it; "—" for one that was not computed."""
    return "—" if value is None else format(value, spec)


def biology_cells(bio: dict) -> dict[str, str]:
    """An arm's ``biology`` summary as printed (report table and ``psilosim trial`` table alike):
    trip peak, window peak, days open and patients with it open on the day, spine density and
    persistent-spine change."""
    return {"trip": shown(bio.get("acute_effect_peak"), ".2f"), "window_peak": shown(bio.get("window_peak"), ".2f"),
            "window_days": shown(bio.get("window_open_days"), ".1f"),
            "window_open_at_day": _open_at_day(bio),
            "density": shown(bio.get("density_change"), "+.3f"),
            "persistent": shown(bio.get("persistent_change"), "+.3f")}


def _open_at_day(bio: dict) -> str:
    """``2/3``: patients with the window open on the summary's day, over the arm's patients."""
    n, total = bio.get("window_open_at_day_n"), bio.get("window_patients")
    return "—" if n is None or total is None else f"{n}/{total}"


def _biology_rows(summary: dict) -> list[dict]:
    """Per arm: trip peak, window peak and days open, spine density and persistent-spine change."""
    return [{"arm": name, **biology_cells(arm.get("biology", {}))} for name, arm in summary.get("arms", {}).items()]


def _require_runs_models(ds: xr.Dataset, design: TrialDesign, models) -> None:
    """Refuse to recompute a run's patients with another model set than the one it was made with."""
    from .. import __version__
    from ..clinical.trial import DEFAULT_MODELS

    made_with = ds.attrs.get("model_fingerprint")
    if made_with is None or (models or DEFAULT_MODELS).fingerprint(design=design) == made_with:
        return
    version = ds.attrs.get("psilosim_version")
    if version is not None and str(version) != __version__:
        raise InputError("models", f"the imaging figures recompute the run's patients, but the run was made with "
                                   f"psilosim {version} (this is {__version__}), whose parameters may differ; "
                                   "rerun the trial with this version, or render the report with that one")
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
        (:func:`psilosim.clinical.imaging.network_section`), else omits it.
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

    from ..plasticity import plasticity_params

    design = TrialDesign.model_validate_json(ds.attrs["design"])
    summary = summary or summarize(ds)
    if network is None and "network" in ds:
        from ..clinical.imaging import network_section

        _require_runs_models(ds, design, models)
        network = network_section(ds, models=models)
    scale = get_scale(design.scale)
    assumptions = _assumptions(design, summary)
    arms = []
    for arm in design.arms:
        arms.append({"name": arm.name, "therapy": arm.therapy, "environment": arm.environment,
                     "expectancy": arm.expectancy, "n": summary["arms"].get(arm.name, {}).get("n", 0),
                     "mechanisms": _mechanisms_text(arm.mechanisms) + _interactions_text(arm.interactions),
                     "treatments": [f"{_compound_text(t.compound)} — {t.regimen.describe()}"
                                    for t in arm.treatments] or ["none"]})
    lo, hi = design.baseline.bounds()
    env = jinja2.Environment(loader=jinja2.PackageLoader("psilosim.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    env.filters["join"] = lambda items, sep: jinja2.utils.markupsafe.Markup(sep).join(items)
    published = _published_rows(design)
    enrolled = ds["outcome"].sel(measure="score").isel(visit=0)
    return env.get_template("trial.html.j2").render(
        design=design, summary=summary, arms=arms, figures=_figures(ds, summary, design),
        disclaimer=DISCLAIMER, version=__version__, seed=ds.attrs.get("seed"), n_patients=ds.sizes["patient"],
        biology_model=ds.attrs.get("biology_model", ""), network_model=ds.attrs.get("network_model", ""),
        inclusion=f"{lo:.1f}–{hi:.1f} on {design.scale}, applied to the latent severity (the true severity the "
                  "model tracks, before the rating error is added): a rated baseline can fall outside by the rating error"
                  + (f" (criterion written on {design.baseline.criterion_scale})" if design.baseline.criterion_scale else ""),
        block_size=design.effective_block_size, allocation=":".join(str(a.allocation) for a in design.arms),
        remission_max=scale.remission_max, remission_source=scale.remission_source,
        published=published, network=network, scorecard=_scorecard(design, summary),
        enrolled_mean=float(enrolled.mean()), enrolled_sd=float(enrolled.std(ddof=1)) if enrolled.size > 1 else float("nan"),
        correlations=_correlation_rows(ds, summary), low_dose_notes=low_dose_notes(design, summary=summary),
        biology_notes=biology_notes(design, summary),
        # the sub-psychedelic TrkB caveat is in the biology section, beside the numbers it qualifies
        assumption_caveats=[c for c in assumptions["caveats"] if c["id"] != "trkb_subpsychedelic"],
        hypotheses=assumptions["hypotheses"],
        difference_rows=_difference_rows(summary), reference=reference_arm(ds),
        correlation_arms=list(summary.get("arms", {})), fitted=fitted_parameters(design, models=models),
        ssri_rows=_ssri_rows(summary), biology_rows=_biology_rows(summary),
        window_level=plasticity_params("human").window_closed_level.value,
        show_daws=summary.get("correlations", {}).get(f"modularity{CORRELATION_SUFFIX}") is not None,
    )


def write_trial_report(ds: xr.Dataset, path: str | Path, **kwargs) -> Path:
    """Write :func:`render_trial_report` to ``path`` and return it."""
    path = Path(path)
    path.write_text(render_trial_report(ds, **kwargs), encoding="utf-8")
    return path
