"""Regenerate the documentation figures and generated tables.

Run ``python docs/make_figures.py`` (all) or ``python docs/make_figures.py pharmacology_25mg``.
Each figure is one function registered in :data:`FIGURES` (name → function taking the output
folder); add yours the same way. Generated Markdown blocks live between
``<!-- BEGIN generated: NAME -->`` and ``<!-- END generated: NAME -->`` markers.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parent
FIGURE_DIR = DOCS / "figures"


# ---------------------------------------------------------------- pharmacology
def pharmacology_25mg(out_dir: Path = FIGURE_DIR) -> Path:
    """Concentration, occupancy and subjective effect after psilocybin 25 mg (typical adult)."""
    import matplotlib.pyplot as plt

    from psilosim.binding import simulate_acute
    from psilosim.binding.figures import plot_acute
    from psilosim.regimen import Regimen

    # 24 h: TrkB occupancy is still high at 12 h (psilocin's slow TrkB dissociation)
    ds = simulate_acute(("psilocybin", Regimen.single("25 mg")), t_end_h=24, dt_h=0.05)
    fig = plot_acute(ds, title="Psilocybin 25 mg oral, typical adult (holze2023)")
    path = out_dir / "pharmacology_25mg.png"
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def pharmacology_parameter_blocks() -> dict[str, str]:
    """The parameter tables of docs/pharmacology.md (no simulation: cheap to regenerate)."""
    from psilosim.binding import EFFECT_PARAMS
    from psilosim.compounds import get_compound
    from psilosim.pharmacokinetics import INTERACTION_PARAMS

    blocks = {}
    for name in ("psilocybin", "escitalopram", "ketamine"):
        blocks[f"parameters-{name}"] = get_compound(name).markdown_table()
    blocks["parameters-effect"] = EFFECT_PARAMS.markdown_table()
    blocks["parameters-interactions"] = INTERACTION_PARAMS.markdown_table()
    return blocks


def pharmacology_tables() -> dict[str, str]:
    """Markdown blocks for docs/pharmacology.md: parameter tables and the parameter-set score."""
    return {**pharmacology_parameter_blocks(), "parameter-set-score": parameter_set_score_table()}


def parameter_set_score_table() -> str:
    """Holze vs Brown: simulated PK1–PK6 (+ PK10) and a log-scale distance to each band centre."""
    from psilosim.binding import effect_duration_h, simulate_acute
    from psilosim.compounds import get_compound
    from psilosim.pharmacokinetics import nca, simulate_pk
    from psilosim.regimen import Regimen
    from psilosim.validation import TARGETS_BY_ID

    comp = get_compound("psilocybin")
    rows = ["| target | band | holze2023 | brown2017 |", "|---|---|---|---|"]
    scores = {}
    values: dict[str, dict[str, float]] = {}
    for ps in ("holze2023", "brown2017"):
        pk = comp.pk(parameter_set=ps)

        def run(dose, weight=None, ps=ps):
            ds = simulate_pk(comp, Regimen.single(dose), parameter_set=ps, t_end_h=48, dt_h=0.05,
                             subject={"weight": weight} if weight else None)
            return nca(ds.time_h.values, ds.concentration.values)

        v = {f"PK1.{d}": run(f"{d} mg").cmax for d in (15, 25, 30)}
        r25 = run("25 mg")
        v["PK2"], v["PK3"] = r25.tmax, r25.half_life
        v["PK4"] = float(np.mean([v[f"PK1.{d}"] / d for d in (15, 25, 30)]))
        v["PK5"] = pk.central_volume.value / comp.fraction_available("oral", pk)
        v["PK6"] = float(np.exp(np.mean([np.log(r25.auc_inf / run("0.3 mg/kg", f"{w} kg").auc_inf) for w in (70, 85)])))
        acute = simulate_acute(("psilocybin", Regimen.single("25 mg")), t_end_h=24, dt_h=0.05,
                               subject={"parameter_sets": {"psilocybin": ps}})
        v["PK10.25"] = effect_duration_h(acute)
        values[ps] = v
        pk_ids = [k for k in v if not k.startswith("PK10")]
        scores[ps] = float(np.mean([_log_distance(v[k], TARGETS_BY_ID[k]) ** 2 for k in pk_ids]))
    for key in values["holze2023"]:
        t = TARGETS_BY_ID[key]
        rows.append(f"| {key} | {t.low:g}–{t.high:g} {t.unit} | {values['holze2023'][key]:.3g} | {values['brown2017'][key]:.3g} |")
    rows.append(f"| **score PK1–PK6** (mean squared log-distance to band centre, in band half-widths; lower is better) | | "
                f"**{scores['holze2023']:.3f}** | **{scores['brown2017']:.3f}** |")
    return "\n".join(rows)


def _log_distance(value: float, target) -> float:
    centre = np.sqrt(target.low * target.high)
    half = np.log(target.high / centre)
    return float(np.log(value / centre) / half)


def update_generated_blocks(path: Path, blocks: dict[str, str]) -> None:
    """Replace each generated block of ``path`` by the new text."""
    text = path.read_text(encoding="utf-8")
    for name, body in blocks.items():
        pattern = re.compile(rf"(<!-- BEGIN generated: {re.escape(name)} -->\n)(?:.*?\n)?(<!-- END generated: {re.escape(name)} -->)", re.S)
        text, n = pattern.subn(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
        if n != 1:
            raise SystemExit(f"{path.name}: marker for {name!r} not found exactly once")
    path.write_text(text, encoding="utf-8")


def pharmacology_docs(out_dir: Path = FIGURE_DIR) -> Path:
    """The pharmacology figure and the generated blocks of docs/pharmacology.md."""
    update_generated_blocks(DOCS / "pharmacology.md", pharmacology_tables())
    return pharmacology_25mg(out_dir)


# ---------------------------------------------------------------- validation
def scorecard_table() -> str:
    """The current scorecard as Markdown (every target, its band, the simulated value, status)."""
    from psilosim.validation import run_scorecard

    rows = ["| id | quantity | published | simulated | band | flags | result |",
            "|---|---|---|---|---|---|---|"]
    results = run_scorecard()
    for r in results:
        band = r.band_text + (f" {r.unit}" if r.unit and r.band_text != "—" else "")
        cells = [r.id, r.quantity, r.published, r.simulated_text, band, r.flags_text, r.status]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    counts = {s: sum(r.status == s for r in results) for s in
              ("pass", "fail", "known conflict", "conflict passed", "not modelled")}
    rows.append("")
    rows.append(", ".join(f"**{n}** {s}" for s, n in counts.items()))
    return "\n".join(rows)


def validation_docs(out_dir: Path = FIGURE_DIR) -> Path:
    """The generated scorecard block of docs/validation.md (and its index of all parameters)."""
    path = DOCS / "validation.md"
    update_generated_blocks(path, {"scorecard": scorecard_table()})
    return parameter_docs(out_dir)


# ---------------------------------------------------------------- every parameter set
#: Page of the docs for the index of all parameter sets, and its generated block.
ALL_PARAMETERS_PAGE, ALL_PARAMETERS_BLOCK = "validation.md", "all-parameters"


def _generated_blocks(text: str) -> list[str]:
    """The bodies of every generated block of a page."""
    return re.findall(r"<!-- BEGIN generated: [^>]+ -->\n(.*?)<!-- END generated: [^>]+ -->", text, re.S)


def all_parameters_block() -> str:
    """Index of every parameter set the package defines (what ``psilosim params`` lists): its
    size, evidence kinds and the page whose generated table shows it; a set no page tables gets
    its table here."""
    from collections import Counter

    from psilosim.parameters import all_parameter_sets

    pages = {path.name: _generated_blocks(path.read_text(encoding="utf-8")) for path in sorted(DOCS.glob("*.md"))
             if path.name != ALL_PARAMETERS_PAGE}
    rows = ["| set | parameters | evidence kinds | table |", "|---|---|---|---|"]
    here = []
    for name, pset in all_parameter_sets().items():
        params = pset.params()
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(Counter(p.kind for p in params.values()).items()))
        table = pset.markdown_table() + "\n"
        page = next((page for page, blocks in pages.items() if table in blocks), None)
        if page is None:
            here.append(f"\n#### `{name}`\n\n{table}")
        rows.append(f"| `{name}` | {len(params)} | {kinds} | {f'[{page}]({page})' if page else 'below'} |")
    return "\n".join(rows) + "\n" + "".join(here).rstrip("\n")


def parameter_docs(out_dir: Path = FIGURE_DIR) -> Path:
    """Every generated parameter table of the docs, then the index of all parameter sets (no
    simulation: run it after changing a parameter)."""
    from make_clinical_tables import parameter_blocks as clinical_parameter_blocks
    from make_figures_plasticity import plasticity_tables
    from make_network_tables import parameter_blocks as network_parameter_blocks

    from psilosim.rewiring import REWIRING

    update_generated_blocks(DOCS / "pharmacology.md", pharmacology_parameter_blocks())
    update_generated_blocks(DOCS / "plasticity.md", plasticity_tables())
    update_generated_blocks(DOCS / "clinical.md", clinical_parameter_blocks())
    update_generated_blocks(DOCS / "network.md", network_parameter_blocks())
    update_generated_blocks(DOCS / "rewiring.md", {"parameters-rewiring": REWIRING.markdown_table()})
    path = DOCS / ALL_PARAMETERS_PAGE
    update_generated_blocks(path, {ALL_PARAMETERS_BLOCK: all_parameters_block()})
    return path


def plasticity_docs(out_dir: Path = FIGURE_DIR) -> Path:
    """The three-compound spine figure and the generated parameter tables of docs/plasticity.md."""
    from make_figures_plasticity import plasticity_tables, spines_three_compounds

    update_generated_blocks(DOCS / "plasticity.md", plasticity_tables())
    return spines_three_compounds(out_dir / "spines_three_compounds.png")


def clinical_docs(out_dir: Path = FIGURE_DIR) -> Path:
    """The generated trial and what-if tables of docs/clinical.md and the Raison durability figure."""
    from make_clinical_tables import clinical_blocks

    figure = out_dir / "raison2023_durability.png"
    update_generated_blocks(DOCS / "clinical.md", clinical_blocks(figure))
    return figure


def network_docs(out_dir: Path = FIGURE_DIR) -> Path:
    """The generated noise-floor tables of docs/network.md."""
    from make_network_tables import network_blocks

    path = DOCS / "network.md"
    update_generated_blocks(path, network_blocks())
    return path


def network_nw1(out_dir: Path = FIGURE_DIR) -> Path:
    """The NW1.dmn check's expected-FC session (Schaefer-100 when ../shared is present, else AAL2):
    seed-map distance per network, the numbers of the NW1.dmn table, written on the bars."""
    from psilosim.io import save_figure
    from psilosim.network.figures import plot_scan
    from psilosim.network.scan import summarise
    from psilosim.validation.checks_network import CHECKS, _session

    parcellation, session = _session()
    summary = {"gain_map": "receptor", **summarise(session, parcellation, condition="receptor")}
    title = (f"NW1.dmn check: psilocybin {CHECKS.dose_mg.to('mg'):g} mg, {CHECKS.minutes.to('min'):g}-min scan "
             f"from {CHECKS.at_hours.to('h'):g} h — {parcellation.name}, expected FC (linear), "
             f"G {session.attrs['coupling']:.4g}, occupancy {session.attrs['mean_occupancy']:.2f}")
    fig = plot_scan(session, parcellation, summary, measure="fc_distance", title=title)
    bars = fig.axes[0]
    bars.bar_label(bars.containers[0], fmt="{:.4g}", fontsize=8)
    return save_figure(fig, out_dir / "network_nw1.png")


# ---------------------------------------------------------------- metrics
def metrics_compare(out_dir: Path = FIGURE_DIR) -> Path:
    """``psilosim compare`` on two of the built-in AAL2 recordings (two different people at rest)."""
    from psilosim.connectome import load_dataset
    from psilosim.io import save_figure
    from psilosim.metrics import analyze, compare
    from psilosim.metrics.figures import comparison_figure

    brain = load_dataset("aal2")
    first, second = brain.bold[0], brain.bold[1]
    before, after = analyze(first, brain.regions), analyze(second, brain.regions)
    fig = comparison_figure(before, after, compare(before, after, brain.regions), brain.regions,
                            names=(f"AAL2 {first.attrs['subject']}", f"AAL2 {second.attrs['subject']}"))
    return save_figure(fig, out_dir / "metrics_compare.png")


FIGURES: dict[str, Callable[[Path], Path]] = {
    "clinical_tables": clinical_docs,
    "metrics_compare": metrics_compare,
    "network_nw1": network_nw1,
    "network_tables": network_docs,
    "parameter_tables": parameter_docs,
    "pharmacology_25mg": pharmacology_docs,
    "spines_three_compounds": plasticity_docs,
    "scorecard": validation_docs,
}


def main(names: list[str]) -> None:
    FIGURE_DIR.mkdir(exist_ok=True)
    for name in names or list(FIGURES):
        if name not in FIGURES:
            raise SystemExit(f"unknown figure {name!r}; known: {', '.join(FIGURES)}")
        print(FIGURES[name](FIGURE_DIR))


if __name__ == "__main__":
    main(sys.argv[1:])
