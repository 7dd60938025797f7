"""Figures and generated tables of docs/plasticity.md: ``python docs/make_figures_plasticity.py``
(``... tables`` regenerates the parameter tables only).

Writes ``docs/figures/spines_three_compounds.png``: prefrontal spine density, BDNF/TrkB
signalling and the plasticity window after psilocybin (25 mg once), ketamine (0.5 mg/kg i.v. over
40 min) and escitalopram (10 mg daily for 6 weeks) in the human parameter set, and psilocybin
1 mg/kg / ketamine 10 mg/kg i.p. in mouse for the calibrated reference.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from psilosim import DISCLAIMER  # noqa: E402
from psilosim.binding.figures import add_footer  # noqa: E402
from psilosim.regimen import Regimen  # noqa: E402
from psilosim.synapses import simulate_slow_chain  # noqa: E402

OUT = Path(__file__).resolve().parent / "figures" / "spines_three_compounds.png"
DOC = Path(__file__).resolve().parent / "plasticity.md"
DAYS = 42.0
#: First day on the log-time axis: an hour after the dose, so the BDNF pulses of the first day and
#: the opening of the window are as readable as the weeks after.
FIRST_DAY_SHOWN = 0.05

RUNS = {
    "human": [
        ("psilocybin 25 mg once", "psilocybin", Regimen.single("25 mg")),
        ("ketamine 0.5 mg/kg i.v. (40 min)", "ketamine", Regimen.infusion("0.5 mg/kg", over="40 min")),
        ("escitalopram 10 mg daily", "escitalopram", Regimen.daily("10 mg", duration="6 weeks")),
    ],
    "mouse": [
        ("psilocybin 1 mg/kg i.p.", "psilocybin", Regimen.single("1 mg/kg", route="ip")),
        ("ketamine 10 mg/kg i.p.", "ketamine", Regimen.single("10 mg/kg", route="ip")),
        ("escitalopram 10 mg/kg i.p. daily", "escitalopram", Regimen.daily("10 mg/kg", duration="6 weeks", route="ip")),
    ],
}
COLORS = {"psilocybin": "tab:purple", "ketamine": "tab:orange", "escitalopram": "tab:green"}


def _typical(species: str) -> dict:
    """The species' typical subject, with its body weight (per-kg doses need one)."""
    from psilosim.species import species_defaults

    return {"species": species, "weight": f"{species_defaults(species).body_weight.to('kg')} kg"}


def spines_three_compounds(out: Path = OUT) -> Path:
    """Density, BDNF/TrkB and window for the three compounds, human (top) and mouse (bottom)."""
    fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex=True, constrained_layout=True)
    for row, (species, runs) in enumerate(RUNS.items()):
        for label, compound, regimen in runs:
            ds = simulate_slow_chain([(compound, regimen)], species=species, days=DAYS, subject=_typical(species))
            t = ds["time_d"]
            kw = {"color": COLORS[compound], "label": label}
            axes[row, 0].plot(t, 100 * (ds["density_rel"].isel(region=0) - 1), **kw)
            axes[row, 1].plot(t, ds["bdnf_rel"], **kw)
            axes[row, 2].plot(t, ds["window"], **kw)
        axes[row, 0].set_ylabel(f"{species}: PFC spine density change (%)")
        axes[row, 1].set_ylabel("BDNF/TrkB signalling (rel.)")
        axes[row, 2].set_ylabel("plasticity window (0–1)")
        axes[row, 0].legend(fontsize=8)
    for ax in axes.flat:
        ax.set_xscale("log")
        ax.set_xlim(FIRST_DAY_SHOWN, DAYS)
        ax.grid(alpha=0.3, which="both")
    for ax in axes[-1]:
        ax.set_xlabel("days after first dose (log scale)")
    fig.suptitle("psilosim slow chain: three compounds side by side (model predictions)")
    add_footer(fig, DISCLAIMER)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def plasticity_tables() -> dict[str, str]:
    """Generated parameter tables of docs/plasticity.md (mouse sets and species defaults)."""
    from psilosim.plasticity import plasticity_params
    from psilosim.species import SPECIES
    from psilosim.synapses import spine_params

    return {
        "parameters-plasticity-mouse": plasticity_params("mouse").markdown_table(),
        "parameters-spines-mouse": spine_params("mouse").markdown_table(),
        "parameters-species-mouse": SPECIES["mouse"].markdown_table(),
        "parameters-species-human": SPECIES["human"].markdown_table(),
    }


def plasticity_docs() -> Path:
    """The figure and the generated tables of docs/plasticity.md."""
    from make_figures import update_generated_blocks

    update_generated_blocks(DOC, plasticity_tables())
    return spines_three_compounds()


if __name__ == "__main__":
    if sys.argv[1:] == ["tables"]:
        from make_figures import update_generated_blocks

        update_generated_blocks(DOC, plasticity_tables())
        print(DOC)
    else:
        print(plasticity_docs())
