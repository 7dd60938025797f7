"""``psilosim fit`` and ``psilosim scan``: JSON contracts and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from _fit_data import dmf_fit_result
from psilosim.cli import app
from psilosim.network import scan as sc

runner = CliRunner()


def _json(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def _cli(*args):
    return subprocess.run([sys.executable, "-c", "from psilosim.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120)


def test_scan_json_contract_with_compare_maps():
    out = _json(["scan", "--compound", "psilocybin", "--dose", "25 mg", "--at-hours", "2",
                 "--minutes", "0.5", "--seed", "1", "--compare-maps", "--json"])
    for key in ("fc_change_by_network", "fc_change_global", "gain_map", "occupancy", "G", "disclaimer"):
        assert key in out
    assert out["gain_map"] == "receptor"
    assert "Default" in out["fc_change_by_network"] and out["fc_change_global"] > 0
    assert set(out["compare_maps"]) == {"uniform", "shuffled"}
    for kind, block in out["compare_maps"].items():
        assert block["gain_map"] == kind and set(block["fc_change_by_network"]) == set(out["fc_change_by_network"])
    assert 0.3 < out["occupancy"] < 0.8


def test_linear_scan_is_fast_and_has_the_same_contract():
    out = _json(["scan", "--occupancy", "0.6", "--method", "linear", "--compare-maps", "--json"])
    assert out["method"] == "linear" and out["gain_map"] == "receptor"
    assert set(out["compare_maps"]) == {"uniform", "shuffled"} and out["fc_change_global"] > 0
    assert "noise_floor_global" not in out  # expected FC has no sampling noise


def test_scan_is_deterministic_under_seed():
    args = ["scan", "--occupancy", "0.5", "--minutes", "0.5", "--seed", "2", "--json"]
    assert _json(args)["fc_change_global"] == _json(args)["fc_change_global"]


def test_fit_json_contract():
    out = _json(["fit", "--dataset", "aal2", "--points", "2", "--minutes", "2", "--json"])
    assert {"G", "fc_corr", "fcd_ks", "sc_fc_corr"} <= set(out)
    assert out["G"] in out["sweep"]["G"]
    from psilosim.connectome import load_dataset

    aal2 = load_dataset("aal2")
    iu = np.triu_indices(aal2.n_regions, 1)
    plain = np.corrcoef(aal2.sc.values[iu], aal2.fc.values[iu])[0, 1]
    assert out["sc_fc_corr"] == pytest.approx(plain, rel=1e-9)  # the data's own SC–FC correlation


def test_fit_hopf_json_contract_beats_sc_on_aal2():
    out = _json(["fit", "--dataset", "aal2", "--model", "hopf", "--minutes", "2", "--json"])
    assert out["model"] == "hopf" and out["a"] < 0 and out["beats_sc_fc"] is True
    assert out["G"] in out["sweep"]["G"] and out["fc_corr"] > out["sc_fc_corr"]


def test_fit_both_reports_each_family():
    out = _json(["fit", "--dataset", "aal2", "--model", "both", "--points", "2", "--minutes", "1", "--json"])
    assert set(out["families"]) == {"dmf", "hopf"}
    assert out["fc_corr"] == max(f["fc_corr"] for f in out["families"].values())


def test_scan_sessions_reports_noise_floor_and_ratio():
    out = _json(["scan", "--occupancy", "0.6", "--minutes", "0.5", "--sessions", "2", "--json"])
    assert out["sessions"] == 2 and out["noise_floor_global"] > 0
    assert out["drug_to_noise_ratio"] == pytest.approx(out["fc_change_global"] / out["noise_floor_global"])
    assert set(out["fc_distance_by_network"]) == set(out["fc_change_by_network"])
    assert 0 < out["mean_rate_hz"] < out["baseline_mean_rate_hz"]  # higher gain below threshold: lower rate


@pytest.mark.parametrize("args,needle", [
    (["scan", "--dataset", "nope", "--json"], "aal2"),
    (["scan", "--occupancy", "1.5", "--json"], "--occupancy"),
    (["scan", "--gain-map", "random", "--json"], "--gain-map"),
    (["scan", "--method", "exact", "--json"], "--method"),
    (["fit", "--dataset", "aal2", "--minutes", "-1", "--json"], "--minutes"),
    (["fit", "--dataset", "aal2", "--model", "wilson", "--json"], "--model"),
    (["scan", "--sessions", "0", "--json"], "--sessions"),
    (["fit", "--dataset", "aal2", "--minutes", "0.05", "--json"], "--minutes"),  # fewer than 3 TRs
])
def test_bad_input_is_one_line_and_exit_2(args, needle):
    result = _cli(*args)
    assert result.returncode == 2
    assert needle in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------------- fit JSON names its family
# Guards against a top-level G in the fit JSON that did not say which model family it belongs to.
def test_fit_json_names_the_family_of_its_top_level_g():
    runner = CliRunner()
    result = runner.invoke(app, ["fit", "--dataset", "aal2", "--points", "2", "--minutes", "1", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"G", "fc_corr", "fcd_ks", "sc_fc_corr", "model"} <= set(out)
    # The default sweeps both families; the top-level G is the better family's, named by "model",
    # and the DMF's own G (the one scan/validate use) stays under families.dmf.
    assert out["model"] in ("dmf", "hopf") and out["families"][out["model"]]["G"] == out["G"]
    assert out["families"]["dmf"]["model"] == "dmf"


def test_docs_state_the_fit_default_the_code_uses():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "network.md").read_text()
    stated = re.search(r"`--model dmf\|hopf\|both` \(default `(\w+)`", text)
    assert stated is not None and stated.group(1) == _defaults("fit")["model"].default


# ---------------------------------------------------------------------- too short a scan
# Guards against a scan shorter than one TR ending in a traceback instead of a one-line error.
def test_cli_too_short_scan_exits_2_naming_minutes():
    result = subprocess.run([sys.executable, "-c", "from psilosim.cli import main; main()", "scan",
                             "--occupancy", "0.5", "--minutes", "0.02", "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--minutes" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------------- CLI defaults
# Guards against CLI defaults written as literals that drift from the parameter sets.
def _defaults(command: str) -> dict:
    import typer

    click_cmd = typer.main.get_command(app).commands[command]
    return {p.name: p for p in click_cmd.params}


def test_cli_defaults_come_from_the_parameter_sets():
    from psilosim.network.fit import FIT

    scan_opts, fit_opts = _defaults("scan"), _defaults("fit")
    assert scan_opts["minutes"].default == sc.SCAN.minutes.to("min")
    assert scan_opts["at_hours"].default == sc.SCAN.at_hours.to("h")
    assert fit_opts["points"].default == int(FIT.g_points.value)
    assert fit_opts["minutes"].default == FIT.duration.to("min")
    for kind in sc.MAP_KINDS:
        assert kind in scan_opts["gain_map"].help


# ---------------------------------------------------------------------- gain sensitivity
def test_gain_scale_zero_removes_the_drug_effect_and_the_default_is_the_derived_value():
    from psilosim.network.dmf import DMF

    base = ["scan", "--occupancy", "0.6", "--method", "linear", "--json"]
    default, off = _json(base), _json(base + ["--gain-scale", "0"])
    assert default["gain_scale"] == DMF.gain_scale.value and off["gain_scale"] == 0.0
    assert off["fc_change_global"] == 0.0  # no gain change: the drug condition is the baseline
    assert default["fc_change_global"] > 0.0


def test_larger_gain_scale_desynchronises_more_at_a_fixed_coupling():
    """At one G (0.4: stable for every gain here, so no back-off) the expected FC falls towards 0
    and the drug change grows with s, bounded by the baseline FC (docs/network.md#gain-sensitivity)."""
    import numpy as np

    from psilosim.connectome import load_dataset

    aal2 = load_dataset("aal2")
    upper = np.triu_indices(aal2.n_regions, 1)
    changes, drug_fc = [], []
    for scale in (0.0, 0.36, 0.72, 1.45):
        session = sc.linear_session(aal2, 0.6, coupling=0.4, gain_scale=scale)
        assert session.attrs["coupling"] == 0.4 and session.attrs["gain_scale"] == scale
        base, drug = (session["fc"].sel(condition=c).values for c in ("baseline", "receptor"))
        changes.append(np.abs(drug - base)[upper].mean())
        drug_fc.append(drug[upper].mean())
    assert changes[0] == 0.0 and np.all(np.diff(changes) > 0) and np.all(np.diff(drug_fc) < 0)
    assert changes[-1] < np.abs(base[upper]).mean()


def test_simulated_scan_with_the_default_gain_scale_given_explicitly_is_the_same_scan():
    from psilosim.connectome import load_dataset
    from psilosim.network.dmf import DMF

    aal2 = load_dataset("aal2")
    implicit = sc.scan_session(aal2, 0.6, minutes=0.5, seed=3)
    explicit = sc.scan_session(aal2, 0.6, minutes=0.5, seed=3, gain_scale=DMF.gain_scale.value)
    assert (implicit["bold"].values == explicit["bold"].values).all()
    larger = sc.scan_session(aal2, 0.6, minutes=0.5, seed=3, gain_scale=2 * DMF.gain_scale.value)
    drug = larger["bold"].sel(condition="receptor").values
    assert not (drug == implicit["bold"].sel(condition="receptor").values).all()
    assert (larger["bold"].sel(condition="baseline").values == implicit["bold"].sel(condition="baseline").values).all()


@pytest.mark.parametrize("value", ["-0.1", "nan", "inf"])
def test_bad_gain_scale_is_rejected_naming_the_option(value):
    result = _cli("scan", "--occupancy", "0.5", "--method", "linear", "--gain-scale", value, "--json")
    assert result.returncode == 2 and "--gain-scale" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------------- user folders at the CLI
def _folder(tmp_path, *, asymmetric=False, receptors=("5HT2A",)):
    import numpy as np
    import pandas as pd

    n = 6
    folder = tmp_path / "mine"
    folder.mkdir()
    pd.DataFrame({"index": range(n), "label": [f"r{i}" for i in range(n)], "hemisphere": ["L", "R"] * 3,
                  "network": ["Default", "Vis", "SomMot"] * 2}).to_csv(folder / "regions.csv", index=False)
    rng = np.random.default_rng(0)
    sc = rng.uniform(0.2, 1.0, (n, n))
    sc = sc if asymmetric else (sc + sc.T) / 2
    np.fill_diagonal(sc, 0.0)
    np.savetxt(folder / "sc.csv", sc, delimiter=",")
    fc = np.corrcoef(rng.normal(size=(n, 200)))
    np.savetxt(folder / "fc.csv", fc, delimiter=",")
    pd.DataFrame({"index": range(n), **{r: np.linspace(1.0, 2.0, n) for r in receptors}}).to_csv(
        folder / "receptors.csv", index=False)
    return folder


def test_a_missing_receptor_is_named_with_the_ones_available(tmp_path):
    result = _cli("scan", "--method", "linear", "--dataset", str(_folder(tmp_path, receptors=("5HT1A",))), "--json")
    assert result.returncode == 2 and "5HT2A" in result.stderr and "['5HT1A']" in result.stderr


def test_fit_both_on_an_asymmetric_sc_fits_the_dmf_and_says_why_not_the_hopf(tmp_path):
    out = _json(["fit", "--dataset", str(_folder(tmp_path, asymmetric=True)), "--points", "2",
                 "--minutes", "1", "--json"])
    assert out["model"] == "dmf" and "symmetric" in out["skipped"]["hopf"]
    assert set(out["families"]) == {"dmf"}  # 'both' reports its families, here the one fitted


def test_linear_scan_at_a_given_occupancy_has_no_dose_time():
    out = _json(["scan", "--method", "linear", "--occupancy", "0.5", "--json"])
    assert out["at_hours"] is None and out["compound"] == "given occupancy"


def test_a_dmf_fit_returns_its_fic_weights_labelled_by_region(tmp_path):
    from psilosim.connectome import load_dataset
    from psilosim.network.fit import fit, g_grid

    brain = load_dataset(_folder(tmp_path))
    result = fit(brain, g_values=g_grid(brain, points=2), duration_s=60.0)
    assert result.j_fic.dims == ("region",) and list(result.j_fic["region"].values) == brain.labels
    assert result.j_fic.attrs["units"] == "nA" and (result.j_fic.values > 0).all()


def test_cli_errors_print_bracketed_text_verbatim(capsys):
    """Rich would read ``[np.str_('x')]`` as a markup tag and drop it; fail() escapes it."""
    import typer

    from psilosim.cli._app import fail

    with pytest.raises(typer.Exit):
        fail("--dataset: available: [np.str_('5HT1A')]")
    assert "[np.str_('5HT1A')]" in capsys.readouterr().err


def test_a_hopf_only_fit_needs_no_minimum_scan_length():
    out = _json(["fit", "--dataset", "aal2", "--model", "hopf", "--minutes", "0.05", "--json"])
    assert out["model"] == "hopf" and out["fcd_ks"] is None


# ---------------------------------------------------------------------- --seed -1
# Guards against a numpy traceback (fit) or an error naming "seed" rather than the option (scan).
@pytest.mark.parametrize("args", [["fit", "--dataset", "aal2", "--points", "2", "--minutes", "1", "--json"],
                                  ["scan", "--method", "linear", "--occupancy", "0.5", "--json"]])
def test_negative_seed_is_one_line_naming_the_option(args):
    result = _cli(*args, "--seed", "-1")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == ["error: --seed: must be a non-negative integer, got -1"]


# ---------------------------------------------------------------- what the tables say
def _recorded(monkeypatch):
    from rich.console import Console

    import psilosim.cli.network as cli_network

    recorder = Console(width=240, record=True)
    monkeypatch.setattr(cli_network, "console", recorder)
    return recorder


def _scan_payload(ratio: float | None) -> dict:
    payload = {"compound": "psilocybin", "dose": "25 mg", "at_hours": 2.0, "dataset": "aal2", "occupancy": 0.6,
               "gain_map": "receptor", "minutes": 1.0, "fc_change_by_network": {"Default": 0.02, "Vis": 0.01},
               "fc_change_global": 0.015}
    if ratio is not None:
        payload.update(noise_floor_global=0.015 / ratio, drug_to_noise_ratio=ratio, drug_to_noise_ratio_distance=ratio)
    return payload


# Guards against a scan table titled "FC change" with a bare "receptor" column (no quantity, unit
# or sign), and against a short scan whose drug change is within the noise floor saying nothing.
def test_scan_table_defines_its_quantity_and_notes_a_change_within_noise(monkeypatch):
    from psilosim.cli.network import FAR_ABOVE_NOISE_RATIO, NOISE_NOTE_RATIO, _print_scan

    recorder = _recorded(monkeypatch)
    _print_scan(_scan_payload(NOISE_NOTE_RATIO * 0.8))
    text = " ".join(recorder.export_text().split())
    assert "mean |ΔFC|" in text and "Pearson r" in text and "drug − baseline" in text
    assert "gain map" in text
    assert "within sampling noise" in text and "--minutes" in text
    _print_scan(_scan_payload(NOISE_NOTE_RATIO * 1.5))
    text = " ".join(recorder.export_text().split())
    assert "within sampling noise" not in text
    assert "of its order" in text and "--sessions" in text  # above the noise, but not far above it
    _print_scan(_scan_payload(FAR_ABOVE_NOISE_RATIO * 1.2))
    text = " ".join(recorder.export_text().split())
    assert "within sampling noise" not in text and "of its order" not in text
    _print_scan(_scan_payload(None))  # linear: no noise floor, no note
    assert "within sampling noise" not in recorder.export_text()


# Guards against a fit table without rate units, without marking the G values the FIC rate rule
# excludes from the best fit, with an unexplained Hopf "ratio" column, and with missing FCD KS
# printed as "nan" in the table but "n/a" in the summary line.
def test_fit_table_has_units_marks_the_rate_rule_and_prints_missing_ks_as_n_a(monkeypatch):
    from psilosim.cli.network import _print_fit
    from psilosim.network.dmf import DMF
    from psilosim.network.settings import FIT

    target, tol = DMF.target_rate.to("Hz"), FIT.rate_tolerance.to("Hz")
    recorder = _recorded(monkeypatch)
    low = [target - 0.1, target - 0.2, target - tol - 0.5]  # the last G breaks the rule
    _print_fit("aal2", "dmf", dmf_fit_result(low, [target + 0.1, target + 0.2, target + 0.3], [np.nan] * 3))
    lines = recorder.export_text().splitlines()
    text = " ".join(" ".join(lines).split())
    assert "min rate (Hz)" in text and "max rate (Hz)" in text
    assert "nan" not in text and "n/a" in text
    rows = [line for line in lines if line.strip().startswith("│")]
    marked = [line for line in rows if "outside" in line]
    assert len(marked) == 1 and "1.5" in marked[0]
    assert f"{target:g} ± {tol:g} Hz" in text


def test_hopf_table_explains_its_ratio_column(monkeypatch):
    import xarray as xr

    from psilosim.cli.network import _print_fit
    from psilosim.network.fit import FitResult

    recorder = _recorded(monkeypatch)
    sweep = xr.Dataset({"fc_corr": ("G", [0.2, 0.3]), "ratio": ("G", [0.5, 0.9])}, coords={"G": [0.1, 0.2]})
    _print_fit("aal2", "hopf", FitResult(G=0.2, fc_corr=0.3, fcd_ks=None, sc_fc_corr=0.2, sweep=sweep, j_fic=None,
                                         model="hopf", a=-0.02))
    text = " ".join(recorder.export_text().split())
    assert "ratio = G" in text and "|a|" in text


def test_fit_summary_prints_missing_ks_as_the_table_does_with_the_true_reason():
    out = runner.invoke(app, ["fit", "--dataset", "aal2", "--model", "hopf", "--minutes", "0.5"])
    assert out.exit_code == 0, out.output
    ks_line = [line for line in out.stdout.splitlines() if line.startswith("best:")][0]
    assert "FCD KS n/a" in ks_line and "two FCD windows" in ks_line
    assert "no BOLD" not in ks_line  # aal2 has BOLD: the scan was too short for FCD


# ---------------------------------------------------------------------- library fields → CLI options
# Guards the mapping of the library's parameter names (load_dataset's "dataset", scan_session's
# "minutes"/"sessions", ...) to the options of the command line, which must still name its flags.
@pytest.mark.parametrize("args,flag", [
    (["fit", "--dataset", "no-such-brain", "--json"], "--dataset"),
    (["scan", "--dataset", "no-such-brain", "--occupancy", "0.5", "--json"], "--dataset"),
    (["fit", "--model", "dmf", "--points", "0", "--minutes", "1", "--json"], "--points"),
    (["scan", "--at-hours", "-1", "--method", "linear", "--json"], "--at-hours"),
    (["scan", "--occupancy", "0.5", "--minutes", "0.02", "--json"], "--minutes"),
    (["scan", "--occupancy", "0.5", "--sessions", "0", "--json"], "--sessions"),
])
def test_library_errors_are_reported_under_the_cli_option(monkeypatch, capsys, args, flag):
    from cli_helpers import run_cli

    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and flag in err and "Traceback" not in err


# Guards against a dose above the studied maximum in a command without its own dose check (scan)
# showing Python's warning format (file path, line, category) instead of one psilosim line.
def test_extrapolation_warning_is_one_line_in_commands_without_their_own_check(monkeypatch, capsys):
    from cli_helpers import run_cli

    code, out, err = run_cli(monkeypatch, capsys, "scan", "--dose", "40 mg", "--method", "linear", "--json")
    assert code == 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("warning:") and "30 mg" in lines[0]
    assert "ExtrapolationWarning" not in err and ".py:" not in err
    json.loads(out)
