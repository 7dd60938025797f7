"""``--plot FILE`` of pk, spines and window: the figure is written, says what it shows, and bad
paths are one line naming --plot."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from psilosim.cli import app

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args", [
    ["pk", "--compound", "psilocybin", "--dose", "25 mg"],
    ["spines", "--species", "mouse", "--compound", "psilocybin", "--days", "7"],
    ["window", "--species", "mouse", "--compound", "psilocybin"],
])
def test_plot_writes_a_png_and_reports_its_path(tmp_path, args):
    target = tmp_path / "figs" / "out.png"   # a folder that does not exist yet
    result = CliRunner().invoke(app, [*args, "--plot", str(target), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["plot"] == str(target)
    assert target.read_bytes()[:8] == PNG_SIGNATURE


def test_plot_with_an_unknown_suffix_is_one_line_naming_plot(tmp_path):
    result = CliRunner().invoke(app, ["pk", "--compound", "psilocybin", "--dose", "25 mg",
                                      "--plot", str(tmp_path / "fig.txt")])
    assert result.exit_code == 2
    assert "--plot" in result.output and ".png" in result.output and not (tmp_path / "fig.txt").exists()


# The figure functions: panels with units, the closed level drawn, a window-only run without a
# spine panel, and the time axis cropped where asked.
def test_slow_chain_figure_panels_and_labels():
    from psilosim.plasticity import simulate_plasticity
    from psilosim.regimen import Regimen
    from psilosim.synapses import simulate_slow_chain
    from psilosim.synapses.chain import acute_drive
    from psilosim.synapses.figures import plot_slow_chain

    treatments = [("psilocybin", Regimen.single("1 mg/kg", route="ip"))]
    full = plot_slow_chain(simulate_slow_chain(treatments, species="mouse", days=10))
    labels = [ax.get_ylabel() for ax in full.axes]
    assert len(labels) == 3 and "(%)" in labels[0] and "(0–1)" in labels[2]
    assert any("closed below 0.5" in t.get_text() for t in full.axes[2].get_legend().get_texts())
    window_only = simulate_plasticity(acute_drive(treatments, species="mouse", days=10), species="mouse", days=10)
    short = plot_slow_chain(window_only, days_shown=5.0)
    assert len(short.axes) == 2 and short.axes[-1].get_xlim()[1] == pytest.approx(5.0)


def test_acute_figure_keeps_equal_occupancy_curves_apart():
    from psilosim.binding import simulate_acute
    from psilosim.binding.figures import plot_acute
    from psilosim.regimen import Regimen

    fig = plot_acute(simulate_acute([("psilocybin", Regimen.single("25 mg"))], t_end_h=12))
    styles = [line.get_linestyle() for line in fig.axes[1].get_lines()]
    assert len(styles) >= 2 and len(set(styles)) == len(styles)
