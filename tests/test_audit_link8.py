"""Audit fixes of the clinical / rewiring / report layer (link 8): each test fails on the audited bug."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_helpers import run_cli
from psilosim.clinical.design import design_from_dict
from psilosim.clinical.presets import carhart2021, get_preset
from psilosim.clinical.trial import MANIFEST_FILE, ModelSet, run_trial
from psilosim.errors import InputError


# ----------------------------------------------------------------- 1. per-visit window deviation
def test_a_visit_does_not_depend_on_later_imaging_visits():
    from psilosim.clinical.biology import chain_inputs, patient_biology
    from psilosim.clinical.trial import draw
    from psilosim.rewiring import model_for, patient_network

    design = get_preset("daws2022_trd")
    spec = design.arms[0]
    patient = draw(design, 0, 7)
    grid = np.arange(0.0, 36.0, 0.25)
    bio = patient_biology(spec.arm_treatments(), patient, grid, environment=spec.environment)
    kw = chain_inputs(spec.arm_treatments(), patient, spec.environment)
    model = model_for("aal2")

    def measures(days):
        return patient_network(model, bio, spec.environment, days, background_stress=kw["background_stress"],
                               stress=kw["stress"], spine_params=kw["spine_params"]).measures

    short, long = measures([0.0, 8.0]), measures([0.0, 8.0, 35.0])
    change = short["modularity"][1] - short["modularity"][0]
    assert change < 0  # the visit measures a real change, so equality below is not trivial
    for name in short:
        np.testing.assert_allclose(long[name][1], short[name][1], rtol=1e-9, atol=1e-12, err_msg=name)


# ----------------------------------------------------------------- 2. one rule for report and validate
def _summary(psi_q, esc_q, r, dmn):
    """A summary with the keys the NW3/NW4 rules read: (mean, lo, hi) per arm."""
    def entry(mean_lo_hi):
        return {"change_mean": mean_lo_hi[0], "change_ci": [mean_lo_hi[1], mean_lo_hi[2]], "baseline_mean": 0.05,
                "n": 8}

    return {"patients": 16, "correlations": {"modularity_change_vs_improvement": r},
            "network": {"arms": {"psilocybin": {"modularity": entry(psi_q), "dmn_within": entry(dmn)},
                                 "escitalopram": {"modularity": entry(esc_q), "dmn_within": entry(dmn)}}}}


@pytest.mark.parametrize(("summary", "nw3", "nw4"), [
    # escitalopram's CI excludes 0 but its change is < a tenth of psilocybin's: NW3 passes; NW4 passes
    (_summary((-0.002, -0.003, -0.001), (-1e-6, -2e-6, -5e-7), -0.3, (0.001, 0.0005, 0.002)), True, True),
    # escitalopram's CI holds 0 but the change is half of psilocybin's: NW3 fails
    (_summary((-0.002, -0.003, -0.001), (-0.001, -0.003, 0.001), -0.3, (0.001, 0.0005, 0.002)), False, True),
    # NW4: mean > 0 but CI low < 0 fails
    (_summary((-0.002, -0.003, -0.001), (0.0, 0.0, 0.0), -0.3, (0.001, -0.0005, 0.002)), True, False),
])
def test_report_scores_nw3_nw4_as_validate_does(summary, nw3, nw4):
    from psilosim.report.trial import _scorecard
    from psilosim.validation.checks_metrics import nw3_verdict, nw4_verdict

    assert nw3_verdict(summary)[0] is nw3 and nw4_verdict(summary)[0] is nw4   # the checks' rules
    rows = {r["id"]: r["passed"] for r in _scorecard(get_preset("daws2022"), summary)}
    assert rows["NW3"] is nw3                                                   # the report applies them
    rows = {r["id"]: r["passed"] for r in _scorecard(get_preset("daws2022_trd"), summary)}
    assert rows["NW4"] is nw4


def test_nw3_verdict_without_a_correlation_fails_without_crashing():
    from psilosim.validation.checks_metrics import nw3_verdict

    passed, detail = nw3_verdict(_summary((-0.002, -0.003, -0.001), (0.0, 0.0, 0.0), None, (0.001, 0.0005, 0.002)))
    assert passed is False and "r(ΔQ, improvement) = n/a" in detail


# ----------------------------------------------------------------- 3. run without a seed
def test_variable_population_without_seed_differs_and_records_its_seed(tmp_path: Path):
    from psilosim.io import PROVENANCE_FILE, provenance_record, write_run
    from psilosim.scenario import parse_scenario, simulate_scenario

    text = ("treatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n"
            "population: {size: 3, variability: true}\nsimulation: {duration: 12 h}\n")
    sc = parse_scenario(text)
    ds = simulate_scenario(sc)
    cmax = ds.concentration.max("time_h").values.reshape(3, -1)[:, 0]
    assert np.unique(np.round(cmax, 6)).size == 3
    seed = int(ds.attrs["seed"])
    assert seed >= 0
    again = simulate_scenario(sc.model_copy(update={"seed": seed}))
    np.testing.assert_array_equal(again.concentration.values, ds.concentration.values)  # the recorded seed reproduces
    out = write_run(tmp_path / "run", dataset=ds, provenance=provenance_record(scenario={}, seed=sc.seed,
                                                                                parameter_sets={}))
    assert json.loads((out / PROVENANCE_FILE).read_text())["seed"] == seed


# ----------------------------------------------------------------- 4. resume fingerprint
def test_fingerprint_covers_compounds_network_rewiring_and_version(monkeypatch, tmp_path: Path):
    import psilosim.compounds as compounds
    import psilosim.network.hopf.params as hopf_params
    import psilosim.rewiring.params as rewiring_params

    design = get_preset("daws2022")
    models = ModelSet()
    base = models.fingerprint(design)
    psilocybin = compounds.get_compound("psilocybin")
    original = compounds.get_compound

    def changed(name):
        return psilocybin.derive("psilocybin", hallucinogenic_efficacy=0.5) if str(name).lower() == "psilocybin" \
            else original(name)

    with monkeypatch.context() as m:
        m.setattr(compounds, "get_compound", changed)
        assert models.fingerprint(design) != base
    with monkeypatch.context() as m:
        m.setattr(hopf_params, "HOPF", hopf_params.HOPF.model_copy(update={
            "noise": hopf_params.HOPF.noise.model_copy(update={"value": 0.03})}))
        assert models.fingerprint(design) != base
    with monkeypatch.context() as m:
        r = rewiring_params.REWIRING
        m.setattr(rewiring_params, "REWIRING", r.model_copy(update={
            "consolidation_gain": r.consolidation_gain.model_copy(update={"value": 2 * r.consolidation_gain.value})}))
        assert models.fingerprint(design) != base
    assert models.fingerprint(design) == base

    run_trial(carhart2021(), n_patients=4, seed=1, out=tmp_path, backend="sync", chunk_size=2, max_new_chunks=0)
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    manifest["version"] = "0.0.0-older"
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="^--out: .*different run"):
        run_trial(carhart2021(), n_patients=4, seed=1, out=tmp_path, backend="sync", chunk_size=2)


# ----------------------------------------------------------------- 5, 6, 9. input validation
def test_negative_scenario_seed_is_an_input_error():
    from psilosim.scenario import parse_scenario

    with pytest.raises(InputError) as info:
        parse_scenario("seed: -1\ntreatments:\n  - compound: psilocybin\n    regimen: {phases: [{dose: 25 mg}]}\n")
    assert info.value.field == "seed"


@pytest.mark.parametrize("size", [0, -2])
def test_block_size_must_be_positive(size):
    data = carhart2021().model_dump(mode="json")
    data["block_size"] = size
    with pytest.raises(InputError) as info:
        design_from_dict(data)
    assert info.value.field == "block_size"


def test_bad_baseline_mean_names_the_field_once():
    data = carhart2021().model_dump(mode="json")
    data["baseline"]["mean"] = 500
    with pytest.raises(InputError) as info:
        design_from_dict(data)
    assert info.value.field == "baseline.mean"


def test_unknown_imaging_dataset_fails_at_load_time():
    data = get_preset("daws2022").model_dump(mode="json")
    data["imaging"]["dataset"] = "no-such-brain"
    with pytest.raises(InputError) as info:
        design_from_dict(data)
    assert info.value.field == "imaging.dataset"


# ----------------------------------------------------------------- 7, 8. CLI errors before work
def test_unreachable_scheduler_is_one_line(monkeypatch, capsys, tmp_path: Path):
    monkeypatch.setattr("psilosim.clinical.trial.SCHEDULER_TIMEOUT", "2s")  # a refused port fails at once or by then
    code, _, err = run_cli(monkeypatch, capsys, "trial", "carhart2021", "--patients", "4", "--scheduler",
                        "tcp://127.0.0.1:1", "--out", str(tmp_path / "o"), "--no-report")
    assert code == 2 and "--scheduler" in err and "Traceback" not in err


def test_out_pointing_at_a_file_is_one_line(monkeypatch, capsys, tmp_path: Path):
    target = tmp_path / "a_file"
    target.write_text("x")
    code, _, err = run_cli(monkeypatch, capsys, "trial", "carhart2021", "--patients", "4", "--out", str(target))
    assert code == 2 and "--out" in err and "Traceback" not in err


def test_too_few_patients_for_the_difference_fail_before_running(monkeypatch, capsys, tmp_path: Path):
    out = tmp_path / "o"
    code, _, err = run_cli(monkeypatch, capsys, "trial", "raison2023", "--patients", "3", "--out", str(out))
    assert code == 2 and "--patients" in err
    assert not (out / "chunks").exists()  # nothing was simulated


# ----------------------------------------------------------------- 10. parameter note
def test_rigid_state_note_quotes_the_measured_baselines():
    from psilosim.rewiring import REWIRING, model_for

    model = model_for("aal2")
    healthy, rigid = model.baseline_measures(depressed=False), model.baseline_measures()
    note = REWIRING.dmn_structural_excess.note
    assert f"{healthy['modularity']:.3f} → {rigid['modularity']:.3f}" in note
    assert f"{healthy['dmn_within']:.3f} → {rigid['dmn_within']:.3f}" in note


# ----------------------------------------------------------------- 11. provenance of a trial folder
def test_trial_folder_has_a_provenance_record(tmp_path: Path):
    from psilosim.io import PROVENANCE_FILE

    run_trial(carhart2021(), n_patients=2, seed=3, out=tmp_path, backend="sync", chunk_size=2)
    record = json.loads((tmp_path / PROVENANCE_FILE).read_text())
    assert record["seed"] == 3 and record["created_utc"].endswith("+00:00")
    assert {"population", "biology", "symptoms"} <= set(record["parameter_sets"])
    assert record["scenario"]["name"] == "carhart2021"


def test_rewired_rejects_a_deviation_of_the_wrong_shape():
    from psilosim.clinical.biology import patient_biology
    from psilosim.clinical.trial import draw
    from psilosim.rewiring import model_for
    from psilosim.rewiring.model import plasticity_from_biology

    model = model_for("aal2")
    design = get_preset("daws2022_trd")
    bio = patient_biology(design.arms[0].arm_treatments(), draw(design, 0, 7), np.arange(0.0, 9.0, 0.25))
    spines = model.spine_course(plasticity_from_biology(bio))
    n = len(model.labels)
    with pytest.raises(InputError) as info:
        model.rewired(spines, [0.0, 8.0], np.zeros((3, n, n)))
    assert info.value.field == "deviation"
    per_day = model.window_deviations(bio, "supportive", [0.0, 8.0])
    assert per_day.shape == (2, n, n) and np.all(per_day[0] == 0) and np.abs(per_day[1]).max() > 0


@settings(max_examples=30, deadline=None)
@given(preset=st.sampled_from(["carhart2021", "goodwin2022", "raison2023", "daws2022_trd"]),
       n=st.integers(1, 120), seed=st.integers(0, 2**31))
def test_arm_counts_match_the_randomisation(preset, n, seed):
    from psilosim.clinical.trial import arm_counts

    design = get_preset(preset)
    brute = np.bincount([design.arm_of(i, seed) for i in range(n)], minlength=len(design.arms))
    counts = arm_counts(design, n, seed)
    assert list(counts.values()) == brute.tolist() and sum(counts.values()) == n
