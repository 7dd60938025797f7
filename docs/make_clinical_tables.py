"""Generated tables and the durability figure of docs/clinical.md (run through make_figures.py).

Every number here is simulated by the package at fixed seeds; the published numbers are the ones
docs/clinical.md cites (Raison et al. 2023 JAMA 330:843, Table 2; Goodwin et al. 2022 NEJM
387:1637; Carhart-Harris et al. 2021 NEJM 384:1402).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

#: Patients per arm (all presets allocate equally) and seed of the "simulated vs published" runs.
PER_ARM, TRIAL_SEED = 200, 1
#: Virtual twins and seed of the what-if table.
TWINS, TWIN_SEED = 200, 3
#: Virtual twins per variant of the assumption-sensitivity table (17 recalibrations).
SENSITIVITY_TWINS = 100
#: Processes the calibration tables fan out over (the results do not depend on it).
DOCS_WORKERS = 2
#: Trials of the simulated-vs-published table, in order.
TRIALS = ("carhart2021", "goodwin2022", "raison2023", "szigeti2021", "ketamine_iv")
#: Horizontal shift (days) of the published Raison means off the simulated ones, per arm (the arms'
#: published day-2 values are equal), so every error bar shows.
PUBLISHED_DAY_SHIFT = 0.6
#: What-if scenario files (src/psilosim/scenarios/trials/) in table order.
WHATIFS = ("whatif_environment", "whatif_integration_therapy", "whatif_microdosing_schedules",
           "whatif_non_hallucinogenic_analogue", "whatif_ssri_not_washed_out")


def _fmt(x: float, digits: int = 1) -> str:
    return f"{x:.{digits}f}"


def _percent(x: float) -> str:
    return f"{100.0 * x:.0f} %"


def run_presets() -> dict:
    """Each preset of :data:`TRIALS` with :data:`PER_ARM` patients per arm (in memory)."""
    from psilosim.clinical.presets import get_preset
    from psilosim.clinical.trial import run_trial

    out = {}
    for name in TRIALS:
        design = get_preset(name)
        out[name] = run_trial(design, n_patients=PER_ARM * len(design.arms), seed=TRIAL_SEED)
    return out


def trials_table(results: dict) -> str:
    """Markdown: every arm's change at the primary day, response, remission and by-visit means."""
    from psilosim.clinical.presets import get_preset
    from psilosim.clinical.stats import arm_summary, summarize

    rows = ["| preset | arm | n | baseline | change at primary day (95% CI) | response | remission | by visit |",
            "|---|---|---|---|---|---|---|---|"]
    for name, ds in results.items():
        design = get_preset(name)
        for arm in design.arm_names:
            s = arm_summary(ds, arm)
            visits = ", ".join(f"{d}: {_fmt(v)}" for d, v in s["by_visit"].items())
            lo, hi = s["change_ci"]
            rows.append(f"| {name} | {arm} | {s['n']} | {_fmt(s['baseline_mean'])} | {_fmt(s['change_mean'], 2)} "
                        f"({_fmt(lo, 2)}, {_fmt(hi, 2)}) | {_percent(s['response_rate'])} "
                        f"| {_percent(s['remission_rate'])} | {visits} |")
        d = summarize(ds)["difference"]   # the design's own comparison
        visits = ", ".join(f"{k}: {_fmt(v)}" for k, v in d["by_visit"].items())
        rows.append(f"| {name} | **{d['arm']} − {d['reference']}** | | | {_fmt(d['estimate'], 2)} "
                    f"({_fmt(d['ci'][0], 2)}, {_fmt(d['ci'][1], 2)}), p={d['p']:.2g} | | | {visits} |")
    return "\n".join(rows)


def whatif_table() -> str:
    """Markdown: latent change and biology of every arm of the what-if scenarios (virtual twins)."""
    from psilosim.clinical.calibration import TwinCohort
    from psilosim.clinical.design import load_design

    trials_dir = resources.files("psilosim") / "scenarios" / "trials"
    rows = ["| scenario | arm | change (QIDS) | peak trip (0–1) | peak BDNF/TrkB | spine density gain day 1 "
            "| persistent-spine gain at end | peak window |", "|---|---|---|---|---|---|---|---|"]
    for stem in WHATIFS:
        design = load_design(str(trials_dir / f"{stem}.yaml"))
        cohort = TwinCohort(design, TWINS, TWIN_SEED)
        change = cohort.change(design.primary_day)
        for k, arm in enumerate(design.arm_names):
            bios = [cohort.biology[i, k] for i in range(cohort.n)]
            day1 = [float(np.interp(1.0, b.time_d, b.density_rel) - b.density_rel[0]) for b in bios]
            cells = [stem.removeprefix("whatif_"), arm, _fmt(float(change[arm].mean()), 2),
                     _fmt(np.mean([b.acute_effect_peak for b in bios]), 2),
                     _fmt(np.mean([b.bdnf_rel.max() for b in bios]), 2), f"{np.mean(day1):+.3f}",
                     f"{np.mean([b.stable_rel[-1] - b.stable_rel[0] for b in bios]):+.3f}",
                     _fmt(np.mean([b.window.max() for b in bios]), 2)]
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def persistence_table() -> str:
    """Markdown: repaired share R of the persistent-spine deficit after one dose (virtual twins).

    What the circuit term keeps once a window has closed (docs/clinical.md, known discrepancies).
    """
    from psilosim.clinical.calibration import TwinCohort
    from psilosim.clinical.presets import ketamine_iv, raison2023
    from psilosim.clinical.symptoms import repaired_share

    rows = ["| trial, arm | day | repaired share R (mean) | window W (mean) |", "|---|---|---|---|"]
    for design, arm, days in ((raison2023(), "psilocybin", (7.0, 15.0, 29.0, 43.0)),
                              (ketamine_iv(), "ketamine", (1.0, 7.0, 14.0))):
        cohort = TwinCohort(design, TWINS, TWIN_SEED)
        k = design.arm_names.index(arm)
        bios = [cohort.biology[i, k] for i in range(cohort.n)]
        for day in days:
            r = np.mean([np.interp(day, b.time_d, repaired_share(b.stable_rel)) for b in bios])
            w = np.mean([np.interp(day, b.time_d, b.window) for b in bios])
            rows.append(f"| {design.name}, {arm} | {day:g} | {r:.2f} | {w:.2f} |")
    return "\n".join(rows)


def calibration_uncertainty_blocks() -> dict[str, str]:
    """Markdown: the five calibrations the targets' 95 % intervals allow, and every prediction's
    range over them (psilosim.clinical.uncertainty, the published fit's twins and seed; ≈ 3 min)."""
    from psilosim.clinical.calibration import FIT_N, FIT_SEED
    from psilosim.clinical.uncertainty import calibration_envelope, fits_table, markdown_table

    ds = calibration_envelope(n=FIT_N, seed=FIT_SEED, workers=DOCS_WORKERS)
    return {"clinical-calibration-fits": fits_table(ds), "clinical-calibration-envelope": markdown_table(ds),
            "clinical-assumption-sensitivity": assumption_sensitivity_table()}


def assumption_sensitivity_table() -> str:
    """Markdown: every prediction under one assumed symptom parameter halved or doubled, each
    variant recalibrated (psilosim.clinical.uncertainty; :data:`SENSITIVITY_TWINS` twins, ≈ 4 min)."""
    from psilosim.clinical.calibration import FIT_SEED
    from psilosim.clinical.uncertainty import assumption_sensitivity, sensitivity_table

    return sensitivity_table(assumption_sensitivity(n=SENSITIVITY_TWINS, seed=FIT_SEED, workers=DOCS_WORKERS))


def raison_figure(results: dict, path: Path) -> Path:
    """Draw :func:`raison_plot` of ``results["raison2023"]`` to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = raison_plot(results)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def raison_plot(results: dict):
    """Simulated (mean, 95 % CI) vs published (mean, 95 % CI) MADRS change in Raison et al. 2023.

    The published means and CIs are the preset's (``get_preset("raison2023").published``,
    Table 2 of Raison et al. 2023), not a copy of them.
    """
    import matplotlib.pyplot as plt

    from psilosim.clinical.presets import get_preset
    from psilosim.clinical.stats import arm_summary

    ds = results["raison2023"]
    published = get_preset("raison2023").published
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for k, (arm, colour) in enumerate((("psilocybin", "tab:purple"), ("niacin", "tab:grey"))):
        s = arm_summary(ds, arm)
        days = np.array([float(d) for d in s["by_visit"]])
        mean = np.array(list(s["by_visit"].values()))
        ci = np.array(list(s["by_visit_ci"].values()))
        ax.plot(days, mean, "-o", color=colour, label=f"{arm}, simulated (n={s['n']}; mean, 95 % CI)")
        ax.fill_between(days, ci[:, 0], ci[:, 1], color=colour, alpha=0.2)
        pub_days = list(published["change_by_day"][arm])
        pub_mean = np.array([published["change_by_day"][arm][d] for d in pub_days])
        pub_ci = np.array([published["change_by_day_ci"][arm][d] for d in pub_days])
        ax.errorbar(np.array(pub_days, dtype=float) + (k + 1) * PUBLISHED_DAY_SHIFT, pub_mean,
                    yerr=[pub_mean - pub_ci[:, 0], pub_ci[:, 1] - pub_mean], fmt="s--", color=colour,
                    mfc="white", capsize=3, label=f"{arm}, published (n={published['n'][arm]}; mean, 95 % CI)")
    ax.set_xlabel("study day (single dose on day 0)")
    ax.set_ylabel("MADRS change from baseline (points)")
    ax.axhline(0.0, color="black", lw=0.5)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    ax.set_title("Raison et al. 2023: MADRS change after one 25 mg dose vs niacin", fontsize=10)
    fig.tight_layout()
    return fig


def parameter_blocks() -> dict[str, str]:
    """The parameter tables of docs/clinical.md (no simulation: cheap to regenerate)."""
    from psilosim.clinical.biology import DEFAULT_BIOLOGY
    from psilosim.clinical.patients import DEFAULT_POPULATION
    from psilosim.clinical.symptoms import DEFAULT_SYMPTOMS
    from psilosim.plasticity import plasticity_params
    from psilosim.species import SPECIES
    from psilosim.synapses import spine_params

    return {"parameters-symptoms": DEFAULT_SYMPTOMS.markdown_table(),
            "parameters-plasticity-human": plasticity_params("human").markdown_table(),
            "parameters-population": DEFAULT_POPULATION.markdown_table(),
            "parameters-setting": DEFAULT_BIOLOGY.markdown_table(),
            "parameters-species-human": SPECIES["human"].markdown_table(),
            "parameters-spines-human": spine_params("human").markdown_table()}


def clinical_blocks(figure_path: Path) -> dict[str, str]:
    """The generated blocks of docs/clinical.md (and the durability figure as a side effect)."""
    results = run_presets()
    raison_figure(results, figure_path)
    return {"clinical-trials": trials_table(results), "clinical-whatif": whatif_table(), **parameter_blocks(),
            "clinical-persistence": persistence_table(), **calibration_uncertainty_blocks()}
