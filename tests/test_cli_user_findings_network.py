"""User-test findings on ``psilosim scan`` / ``analyze`` / ``compare`` (task F1).

1. ``scan --method linear`` reports the expected FC of the synaptic gating S_E (linear-noise
   approximation), not BOLD: every label says so, and the table gives the mean FC level.
2. The built-in BOLD recordings are reachable from the command line (``aal2:NAP_001``, ``aal2:0``).
3. The scan table says which coupling G was used and whether (and why) it was stepped down.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from psilosim.cli import app
from psilosim.errors import InputError

runner = CliRunner()
OCCUPANCY = "0.69"
LINEAR = ["scan", "--method", "linear", "--occupancy", OCCUPANCY]


def _upper_mean(fc: np.ndarray) -> float:
    return float(np.asarray(fc)[np.triu_indices(np.asarray(fc).shape[0], 1)].mean())


def _text(result) -> str:
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


@pytest.fixture(scope="module")
def linear_runs():
    """The linear AAL2 scan as a table and as JSON (each a few seconds), and its session."""
    from psilosim.connectome import load_dataset
    from psilosim.network import scan as sc

    table = runner.invoke(app, LINEAR, env={"COLUMNS": "240"})
    payload = json.loads(runner.invoke(app, [*LINEAR, "--json"]).stdout)
    session = sc.linear_session(load_dataset("aal2"), float(OCCUPANCY))
    return _text(table), payload, session


# ---------------------------------------------------------------- 1. what linear FC is
# Guards against the linear table's footer calling the expected FC of S_E "Pearson r of BOLD".
def test_linear_scan_table_says_its_fc_is_the_expected_fc_of_s_e_not_bold(linear_runs):
    text, _, _ = linear_runs
    assert "Pearson r of BOLD" not in text
    assert "S_E" in text and "linear-noise" in text


def test_linear_scan_table_prints_the_baseline_and_drug_mean_fc(linear_runs):
    text, payload, session = linear_runs
    base = _upper_mean(session["fc"].sel(condition="baseline").values)
    drug = _upper_mean(session["fc"].sel(condition="receptor").values)
    assert drug < base  # the drug desynchronises (docs/network.md): the two numbers are not the same one
    assert payload["baseline_mean_fc"] == pytest.approx(base, abs=1e-12)
    assert payload["drug_mean_fc"] == pytest.approx(drug, abs=1e-12)
    assert f"baseline {base:.3f}" in text and f"drug {drug:.3f}" in text


def test_scan_help_says_linear_fc_is_of_s_e():
    text = _text(runner.invoke(app, ["scan", "--help"], env={"COLUMNS": "240"}))
    linear = text[text.index("linear ("):]
    assert "S_E" in linear[:200] and "not BOLD" in linear[:200]


def test_scan_json_names_the_fc_it_reports(linear_runs):
    _, payload, session = linear_runs
    assert payload["fc_measure"] == session["fc"].attrs["long_name"]
    assert "S_E" in payload["fc_measure"] and "BOLD" not in payload["fc_measure"]


def test_simulated_scan_json_and_table_still_say_bold():
    args = ["scan", "--occupancy", "0.5", "--minutes", "0.5"]
    payload = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert "BOLD" in payload["fc_measure"]
    assert payload["drug_mean_fc"] != payload["baseline_mean_fc"]
    text = _text(runner.invoke(app, args, env={"COLUMNS": "240"}))
    assert "Pearson r of BOLD" in text and "S_E" not in text
    assert f"baseline {payload['baseline_mean_fc']:.3f}" in text


def _colourbar_labels(fig) -> list[str]:
    return [ax.get_ylabel() for ax in fig.axes[5:]]  # plot_scan: five panels, then colour bars


def _fake_session(with_bold: bool):
    from psilosim.connectome import load_dataset
    from psilosim.network import scan as sc

    brain = load_dataset("aal2")
    conds = sc.conditions(brain, 0, maps=["receptor"])
    rng = np.random.default_rng(0)
    fcs = []
    for _ in conds:
        m = rng.uniform(-0.2, 0.6, (brain.n_regions, brain.n_regions))
        m = (m + m.T) / 2
        np.fill_diagonal(m, 1.0)
        fcs.append(m)
    session = sc.expected_fc_session(brain, conds, fcs, coupling=0.75, requested_coupling=0.88,
                                     method="linear", occupancy=0.69)
    if with_bold:  # what a simulated session adds: BOLD and an FC of BOLD
        session["bold"] = (("condition", "region"), np.zeros((len(conds), brain.n_regions)))
        session["fc"].attrs["long_name"] = sc.SCAN_FC_NAME
    return brain, session


@pytest.mark.parametrize(("with_bold", "wanted", "unwanted"), [(False, "S_E", "BOLD"), (True, "BOLD", "S_E")])
def test_scan_figure_colour_bars_name_what_is_correlated(with_bold, wanted, unwanted):
    import matplotlib.pyplot as plt

    from psilosim.network.figures import plot_scan
    from psilosim.network.scan import summarise

    brain, session = _fake_session(with_bold)
    fig = plot_scan(session, brain, {"gain_map": "receptor", **summarise(session, brain)})
    try:
        labels = _colourbar_labels(fig)
        titles = " ".join(ax.get_title() for ax in fig.axes)
        assert len(labels) == 3 and all(wanted in label and unwanted not in label for label in labels)
        assert wanted in titles
    finally:
        plt.close(fig)


# ---------------------------------------------------------------- 3. the coupling used
def test_linear_aal2_table_prints_the_stepped_down_coupling_and_why(linear_runs):
    from psilosim.network.dmf import FITTED_G

    text, payload, session = linear_runs
    fitted = FITTED_G.aal2.value
    assert payload["G"] == pytest.approx(session.attrs["coupling"])
    assert payload["G_requested"] == pytest.approx(fitted) and payload["G"] < fitted
    assert payload["G_stepped_down"] is True
    assert f"G = {payload['G']:.3g}" in text and f"{fitted:.3g}" in text
    assert "stepped down" in text and "unstable" in text


def test_scan_table_does_not_claim_a_step_down_when_there_was_none(monkeypatch):
    from rich.console import Console

    import psilosim.cli.network as cli_network

    recorder = Console(width=240, record=True)
    monkeypatch.setattr(cli_network, "console", recorder)
    payload = {"compound": "psilocybin", "dose": "25 mg", "at_hours": 2.0, "dataset": "aal2", "occupancy": 0.6,
               "gain_map": "receptor", "minutes": 1.0, "method": "simulate",
               "fc_measure": "FC: Pearson correlation of BOLD", "fc_change_by_network": {"Default": 0.02},
               "fc_change_global": 0.02, "baseline_mean_fc": 0.25, "drug_mean_fc": 0.2,
               "G": 0.8841, "G_requested": 0.8841, "G_stepped_down": False}
    cli_network._print_scan(payload)
    text = " ".join(recorder.export_text().split())
    assert "G = 0.884" in text and "stepped down" not in text


# ---------------------------------------------------------------- 2. built-in recordings
def _json(args):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """NAP_001 exported the way the user had to (through Python), for comparison."""
    from psilosim.connectome import load_dataset

    folder = tmp_path_factory.mktemp("builtin_bold")
    brain = load_dataset("aal2")
    np.save(folder / "nap001.npy", brain.bold[0].values)
    assert brain.bold[0].attrs["subject"] == "NAP_001"
    return folder / "nap001.npy"


def test_analyze_a_builtin_recording_by_subject_equals_the_exported_file(exported):
    by_id = _json(["analyze", "aal2:NAP_001"])                       # no --regions, no --tr
    by_file = _json(["analyze", str(exported), "--regions", "aal2", "--tr", "2"])
    assert by_id == by_file
    assert _json(["analyze", "aal2:0"]) == by_id                      # index 0 is NAP_001
    assert _json(["analyze", "AAL2:nap_001", "--regions", "aal2", "--tr", "2"]) == by_id


def test_compare_two_builtin_recordings_by_subject():
    out = _json(["compare", "aal2:NAP_001", "aal2:NAP_009"])
    again = _json(["compare", "aal2:0", "aal2:1"])
    assert out == again and out["desync"]["mean_abs_diff"] > 0


@pytest.mark.parametrize(("command", "spec"), [("analyze", "aal2:NAP_999"), ("analyze", "aal2:5"),
                                               ("compare", "aal2:nobody"), ("analyze", "aal2:²")])
def test_a_bad_recording_id_lists_the_available_ones(command, spec):
    args = [command, spec] + (["aal2:0"] if command == "compare" else [])
    result = runner.invoke(app, args)
    assert isinstance(result.exception, InputError)
    message = str(result.exception)
    assert spec in message
    for subject in ("NAP_001", "NAP_009", "NAP_002", "NAP_007", "NAP_013"):
        assert subject in message


def test_a_dataset_without_bold_says_so():
    result = runner.invoke(app, ["analyze", "tvb76:0"])
    assert isinstance(result.exception, InputError) and "no BOLD" in str(result.exception)


def test_a_bare_dataset_name_points_to_the_recording_syntax():
    result = runner.invoke(app, ["analyze", "aal2", "--regions", "aal2"])
    assert isinstance(result.exception, InputError)
    assert "no such file" in str(result.exception) and "aal2:NAP_001" in str(result.exception)


def test_a_tr_that_contradicts_the_recording_is_refused_naming_the_option():
    result = runner.invoke(app, ["analyze", "aal2:NAP_001", "--tr", "0.72"])
    assert isinstance(result.exception, InputError) and result.exception.field == "--tr"
    assert "2" in result.exception.problem


def test_a_file_still_needs_regions(exported):
    result = runner.invoke(app, ["analyze", str(exported), "--tr", "2"])
    assert isinstance(result.exception, InputError) and result.exception.field == "--regions"


def test_titles_name_the_subject_not_a_file(monkeypatch, tmp_path):
    import psilosim.metrics.figures as figures

    titles = []
    for name in ("analysis_figure", "comparison_figure"):
        original = getattr(figures, name)

        def recording(*args, _original=original, **kwargs):
            fig = _original(*args, **kwargs)
            titles.append(fig._suptitle.get_text())
            return fig

        monkeypatch.setattr(figures, name, recording)
    analysed = runner.invoke(app, ["analyze", "aal2:NAP_001", "--plot", str(tmp_path / "a.png")],
                             env={"COLUMNS": "240"})
    compared = runner.invoke(app, ["compare", "aal2:NAP_001", "aal2:NAP_009", "--plot", str(tmp_path / "c.png")],
                             env={"COLUMNS": "240"})
    assert "AAL2 NAP_001" in titles[0]
    assert "AAL2 NAP_001" in titles[1] and "AAL2 NAP_009" in titles[1]
    assert "AAL2 NAP_001" in _text(analysed)
    assert "AAL2 NAP_009" in _text(compared)


def test_docs_give_the_real_cli_route_to_the_builtin_recordings():
    from pathlib import Path

    text = (Path(__file__).parents[1] / "docs" / "metrics.md").read_text()
    assert "psilosim compare aal2:NAP_001 aal2:NAP_009 --plot FILE" in text
    assert "compare A B --regions aal2 --tr 2" not in text


def test_a_real_file_named_like_a_recording_wins_and_a_folder_does_not(tmp_path, monkeypatch):
    """docs/metrics.md: a path that is a file is read as a file; a folder of that name is not a file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aal2:0").write_text("not BOLD")
    result = runner.invoke(app, ["analyze", "aal2:0", "--regions", "aal2", "--tr", "2", "--json"])
    assert isinstance(result.exception, InputError)          # read as the file it is, not as recording 0
    assert result.exception.field == "aal2:0" and "file type" in result.exception.problem
    (tmp_path / "aal2:0").unlink()
    (tmp_path / "aal2:0").mkdir()
    assert _json(["analyze", "aal2:0"]) == _json(["analyze", "aal2:NAP_001"])  # a folder is not read
