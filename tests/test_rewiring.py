"""Structural rewiring, the depressed baseline and the imaging endpoints (psilosim.rewiring)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.linalg import solve_continuous_lyapunov

from psilosim.clinical.presets import get_preset
from psilosim.connectome import Parcellation, labelled_matrix
from psilosim.errors import InputError
from psilosim.network.hopf import HopfModel
from psilosim.network.scan import gain_from
from psilosim.rewiring import RewiringModel, model_for, patient_network
from psilosim.rewiring.kernel import hopf_covariance, input_covariance, scale_inputs

N_SMALL = 8


def small_brain(hippocampus: bool = False, dmn: bool = True) -> Parcellation:
    """Eight regions in two networks (four DMN), distance-decaying symmetric connectivity."""
    labels = [f"R{i}" for i in range(N_SMALL)]
    if hippocampus:
        labels[0] = "Hippocampus_L"
    networks = (["Default"] * 4 if dmn else ["Vis"] * 4) + ["SomMot"] * 4
    regions = pd.DataFrame({"hemisphere": ["L"] * N_SMALL, "network": networks}, index=pd.Index(labels, name="label"))
    pos = np.arange(N_SMALL, dtype=float)
    sc = np.exp(-np.abs(pos[:, None] - pos[None, :]) / 2.0)
    np.fill_diagonal(sc, 0.0)
    return Parcellation(name="small", regions=regions, sc=labelled_matrix(sc, labels, name="sc"))


def plasticity(window: float, days: float = 42.0, pulse: float = 1.0) -> xr.Dataset:
    """A TrkB pulse on day 0–1 and a constant window (the synapse link's inputs)."""
    t = np.arange(0.0, days + 0.25, 0.25)
    trkb = np.where(t <= 1.0, pulse, 0.0)
    return xr.Dataset({"trkb_signal": ("time_d", trkb), "window": ("time_d", np.full(t.size, window))},
                      coords={"time_d": t}, attrs={"species": "human"})


# ------------------------------------------------------------------------------------ kernel
@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (6, 6), elements=st.floats(0.0, 5.0, allow_subnormal=False)), arrays(np.float64, 6, elements=st.floats(0.1, 3.0)))
@example(weights=np.diag([np.finfo(float).tiny, 0, 0, 0, 0, 0]), target=np.ones(6))  # the smallest normal input
def test_scaling_restores_input_strength_and_keeps_weights_non_negative(weights, target):
    out = scale_inputs(weights, target)
    assert (out >= 0).all()
    has_input = weights.sum(axis=1) > 0
    np.testing.assert_allclose(out.sum(axis=1)[has_input], target[has_input], rtol=1e-10)
    assert (out[~has_input] == 0).all()


def test_closed_form_covariance_matches_the_hopf_lyapunov_solution():
    brain = small_brain()
    model = HopfModel(brain.sc)
    jac = model.jacobian(0.3)
    n = N_SMALL
    fc_public = model.linear_fc(0.3).values
    q = input_covariance(n, model.params.noise.value ** 2, [])
    cov = hopf_covariance(jac[:n, :n], q, 2 * np.pi * model.params.frequency.to("Hz"))
    sd = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(cov / np.outer(sd, sd), fc_public, atol=1e-10)
    # asymmetric coupling takes the Lyapunov route on the full Jacobian
    block = jac[:n, :n].copy()
    block[0, 1] += 0.01
    big = np.block([[block, -jac[n:, :n]], [jac[n:, :n], block]])
    q2 = input_covariance(n, 1.0, [(np.arange(n) < 3, 0.5)])
    ref = solve_continuous_lyapunov(big, -np.block([[q2, 0 * q2], [0 * q2, q2]]))[:n, :n]
    np.testing.assert_allclose(hopf_covariance(block, q2, jac[n, 0]), ref, rtol=1e-8)


def test_environment_inputs_drive_only_their_networks():
    model = model_for("aal2")
    q = model.input_cov(environment="stressful", depressed=False)
    target = model.network_mask(("SalVentAttn", "Limbic"))
    off = q - np.diag(np.diag(q))
    assert (off[np.ix_(target, target)] > 0).sum() == target.sum() * (target.sum() - 1)
    assert (off[~target] == 0).all()
    none = model.input_cov(environment="none", depressed=False)
    assert np.count_nonzero(none - np.diag(np.diag(none))) == 0
    with pytest.raises(InputError, match="environment"):
        model.input_cov(environment="party")


# ------------------------------------------------------------------------------- rewiring
def biology(window: float, days: float = 42.0, occupancy: float = 0.0, effect: float = 0.0, hours: float = 6.0,
            step: float = 0.25):
    """A TrkB pulse on day 0–1 under a constant window; a drug state of ``hours`` with the given occupancy.

    ``step`` is the biology grid (days); the drive is sampled every 15 min.
    """
    from psilosim.clinical.biology import BiologyTrajectory
    from psilosim.plasticity import Drive

    t = np.arange(0.0, days + step / 2, step)
    trkb = np.where(t <= 1.0, 1.0, 0.0)
    drive = None
    if occupancy > 0 or effect > 0:
        th = np.arange(0.0, 48.25, 0.25)
        on = th <= hours
        drive = Drive(th, {"5-HT2A_surface": np.where(on, occupancy, 0.0)}, effect=np.where(on, effect, 0.0))
    return BiologyTrajectory(t, np.full(t.size, window), np.ones(t.size), 1.0 + trkb, drive=drive)


def test_no_window_no_rewiring():
    model = RewiringModel(small_brain())
    bio = biology(window=0.0, occupancy=0.7, effect=0.5)
    deviation = model.window_deviation(bio, "supportive", 42.0)
    np.testing.assert_array_equal(deviation.values, 0.0)
    spines = model.spine_course(plasticity(window=0.0))
    weights = model.rewired(spines, [0.0, 10.0, 42.0], deviation=deviation)
    for k in range(3):
        np.testing.assert_allclose(weights.isel(day=k).values, model.rigid, atol=1e-12)


def test_window_under_habitual_correlations_leaves_structure_unchanged():
    """SSRI-like: the window opens without an acute 5-HT2A state; consolidation follows the habitual pattern."""
    model = model_for("aal2")
    bio = biology(window=1.0)
    deviation = model.window_deviation(bio, "supportive", 42.0)
    np.testing.assert_array_equal(deviation.values, 0.0)
    spines = model.spine_course(plasticity(window=1.0))
    after = model.rewired(spines, [42.0], deviation=deviation).isel(day=0).values
    np.testing.assert_allclose(after, model.rigid, rtol=1e-10, atol=1e-14)
    assert float(spines["consolidated"].isel(time_d=-1).mean()) > 0.001   # spines did grow


def test_acute_psychedelic_state_in_the_window_lowers_modularity():
    """Psilocybin-like: the window opens during an acute 5-HT2A state; consolidation lowers modularity."""
    model = model_for("aal2")
    bio = biology(window=1.0, occupancy=0.7, effect=0.5)
    deviation = model.window_deviation(bio, "supportive", 42.0)
    upper = deviation.values[np.triu_indices(len(model.labels), 1)]
    assert upper.mean() > 0                       # the gain map raises correlations in the acute state
    spines = model.spine_course(plasticity(window=1.0))
    after = model.rewired(spines, [42.0], deviation=deviation).isel(day=0).values
    measures = model.measures(model.expected_fc(weights=after), weights=after)
    assert measures["modularity"] < model.baseline_measures()["modularity"]
    np.testing.assert_allclose(after.sum(axis=1), model.strength, rtol=1e-10)


def test_acute_state_rejects_an_unknown_environment():
    with pytest.raises(InputError, match="environment"):
        RewiringModel(small_brain()).state_correlation(0.5, 0.2, "party")


def test_covariance_rule_orders_weight_gain_by_correlation_deviation():
    model = RewiringModel(small_brain())
    rng = np.random.default_rng(0)
    dev = rng.uniform(-0.2, 0.4, (N_SMALL, N_SMALL))
    dev = 0.5 * (dev + dev.T)
    spines = model.spine_course(plasticity(window=1.0))
    after = model.rewired(spines, [42.0], deviation=dev).isel(day=0).values
    ratio = after / np.where(model.rigid > 0, model.rigid, 1.0)
    for i in range(N_SMALL):
        others = [j for j in range(N_SMALL) if j != i]
        assert list(np.argsort(dev[i, others])) == list(np.argsort(ratio[i, others])), f"region {i}"
    assert (after >= 0).all()


def test_drug_induced_rewiring_fades_with_the_consolidated_spines():
    """NW2 time course: the structural change after one window shrinks between week 3 and month 6."""
    model = RewiringModel(small_brain())
    dev = np.full((N_SMALL, N_SMALL), 0.1)
    dev[:4, :4] = -0.1
    course = plasticity(window=1.0, days=180.0)
    course["window"] = ("time_d", np.where(course["time_d"].values <= 14.0, 1.0, 0.0))
    spines = model.spine_course(course)
    w = model.rewired(spines, [21.0, 180.0], deviation=dev)
    change = [float(np.abs(w.isel(day=k).values - model.rigid).sum()) for k in range(2)]
    assert 0 < change[1] < 0.75 * change[0]
    cons = spines["consolidated"].mean("region").values
    t = spines["time_d"].values
    assert cons[np.searchsorted(t, 180.0)] < 0.75 * cons[np.searchsorted(t, 21.0)]


# ------------------------------------------------------------------------------- tvb76
def test_tvb76_has_labelled_regions_a_dmn_and_a_hippocampus():
    from psilosim.connectome import load_dataset
    from psilosim.metrics.networks import hippocampus_mask

    brain = load_dataset("TVB76")
    assert brain.n_regions == 76 and len(set(brain.labels)) == 76
    assert {"Hippocampus_L", "Hippocampus_R", "AMYG_L", "PFCM_R", "CCP_L"} <= set(brain.labels)
    assert hippocampus_mask(brain.regions).sum() == 2
    assert (brain.regions["network"] == "Default").sum() >= 10
    sc = brain.sc.values
    np.testing.assert_allclose(sc, sc.T)
    assert (sc >= 0).all() and np.all(np.diag(sc) == 0)
    ht2a = brain.receptors.sel(receptor="5HT2A")
    assert float(ht2a.max()) == 1.0
    assert float(ht2a.sel(region="Hippocampus_R")) < float(ht2a.sel(region="V1_R"))
    assert "tvb-data" in brain.provenance and "demonstration" in brain.provenance.lower()
    assert "hippocampus_dmn" in RewiringModel(brain).measure_names()
    assert load_dataset("aal2").n_regions == 80                  # AAL2 unchanged


def test_tvb76_region_table_rejects_unknown_labels():
    from psilosim.connectome.tvb76 import tvb76_region_table
    from psilosim.errors import DataError

    with pytest.raises(DataError, match="rXYZ"):
        tvb76_region_table(["rHC", "rXYZ"])


def test_rigid_baseline_has_a_hyperconnected_dmn():
    model = model_for("aal2")
    rigid, healthy = model.baseline_measures(), model.baseline_measures(depressed=False)
    assert rigid["dmn_within"] > healthy["dmn_within"]
    np.testing.assert_allclose(model.rigid.sum(axis=1), model.healthy.sum(axis=1), rtol=1e-10)


def test_hippocampus_dmn_fc_is_measured_when_the_parcellation_has_one():
    with_h = RewiringModel(small_brain(hippocampus=True))
    assert "hippocampus_dmn" in with_h.measure_names()
    assert np.isfinite(with_h.baseline_measures()["hippocampus_dmn"])
    assert "hippocampus_dmn" not in model_for("aal2").measure_names()


def test_a_brain_without_dmn_is_refused():
    with pytest.raises(InputError, match="Default"):
        RewiringModel(small_brain(dmn=False))


# ------------------------------------------------------------------------------- trials
def _patient_course(arm: int, index: int = 3, days=(0.0, 21.0, 42.0)):
    from psilosim.clinical.biology import chain_inputs, patient_biology
    from psilosim.clinical.presets import get_preset
    from psilosim.clinical.trial import draw

    design = get_preset("daws2022")
    patient = draw(design, index, 1)
    spec = design.arms[arm]
    bio = patient_biology(spec.arm_treatments(), patient, design.grid(), environment=spec.environment)
    kw = chain_inputs(spec.arm_treatments(), patient, environment=spec.environment)
    return patient_network(model_for("aal2"), bio, spec.environment, list(days),
                           background_stress=kw["background_stress"], stress=kw["stress"],
                           spine_params=kw["spine_params"])


def test_patient_network_is_deterministic():
    a, b = _patient_course(0), _patient_course(0)
    for name in a.measures:
        np.testing.assert_array_equal(a.measures[name], b.measures[name])


def test_psilocybin_lowers_modularity_and_acts_before_escitalopram():
    psi, esc = _patient_course(0), _patient_course(1)
    q_psi = psi.measures["modularity"]
    assert q_psi[2] < q_psi[0]                     # NW3 direction after psilocybin
    assert psi.measures["dmn_within"][2] > psi.measures["dmn_within"][0]
    # escitalopram opens the window without an acute 5-HT2A state: far less rewiring (NW3 prediction)
    assert esc.measures["rewired_fraction"][2] < 0.1 * psi.measures["rewired_fraction"][2]
    assert abs(esc.measures["modularity"][2] - esc.measures["modularity"][0]) < 0.1 * abs(q_psi[2] - q_psi[0])


def test_imaging_spec_must_use_design_visits():
    from psilosim.clinical.design import design_from_dict
    from psilosim.clinical.presets import get_preset

    data = get_preset("daws2022_trd").model_dump(mode="json")
    data["imaging"]["visits"] = [0, 9]
    with pytest.raises(InputError, match="imaging.visits"):
        design_from_dict(data)


def test_daws2022_reports_a_negative_modularity_correlation():
    from psilosim.clinical.presets import get_preset
    from psilosim.clinical.stats import summarize
    from psilosim.clinical.trial import run_trial

    design = get_preset("daws2022")
    design = design.model_copy(update={"imaging": design.imaging.model_copy(update={"flexibility": False})})
    ds = run_trial(design, n_patients=20, seed=11, backend="sync")
    summary = summarize(ds)
    r = summary["correlations"]["modularity_change_vs_improvement"]
    assert r is not None and r < 0
    assert summary["network"]["arms"]["psilocybin"]["modularity"]["change_mean"] < 0
    assert ds["network"].sizes["network_measure"] == len(ds["network_measure"])
    assert np.isnan(ds["network"].sel(visit=1).values).all()   # day 1 is not an imaging visit


def test_trial_cli_json_has_the_network_keys(tmp_path):
    from typer.testing import CliRunner

    from psilosim.cli import app

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["trial", "daws2022_trd", "--patients", "4", "--seed", "3", "--out", str(out),
                                      "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert "modularity_change_vs_improvement" in summary["correlations"]
    assert "flexibility" in summary["network"]["arms"]["psilocybin"]
    html = (out / "report.html").read_text()
    assert "Functional connectivity before and after" in html and "DMN and modularity changes" in html


# ------------------------------------------------------------------ healthy start and acute-state choice
def test_healthy_model_starts_from_the_dataset_structure_without_rumination():
    brain = small_brain()
    healthy, depressed = RewiringModel(brain, depressed=False), RewiringModel(brain)
    np.testing.assert_array_equal(healthy.untreated, np.asarray(brain.sc.values))
    np.testing.assert_array_equal(healthy.relative_input_cov(), np.eye(N_SMALL))
    assert not np.allclose(depressed.untreated, healthy.untreated)
    # the depressed DMN is more coherent than the healthy one (rigid structure + rumination)
    assert depressed.baseline_measures()["dmn_within"] > healthy.baseline_measures()["dmn_within"]
    # a depressed model still gives the healthy reference on request, the same FC measures; its
    # structure differs from the depressed model's starting point, which rewired_fraction reports
    reference, own = depressed.baseline_measures(depressed=False), healthy.baseline_measures()
    assert reference.pop("rewired_fraction") > 0.0 == own.pop("rewired_fraction")
    assert reference == pytest.approx(own)


def test_unknown_acute_state_is_refused():
    with pytest.raises(InputError, match="acute_state"):
        RewiringModel(small_brain(), acute_state="ecstasy")


def test_model_for_returns_one_model_per_setting():
    assert model_for("aal2") is model_for("aal2", depressed=True, acute_state="bifurcation_shift")
    assert model_for("aal2", depressed=False) is not model_for("aal2")


@pytest.mark.parametrize(("acute_state", "sign"), [("bifurcation_shift", 1.0), ("gain", -1.0)])
def test_acute_states_move_mean_correlation_in_their_documented_direction(acute_state, sign):
    """The Hopf shift towards the bifurcation synchronises; the DMF gain map desynchronises."""
    model = model_for("aal2", acute_state=acute_state)
    upper = np.triu_indices(len(model.labels), k=1)
    drug = (model.state_correlation(0.7, 0.0, "none") - model.habitual()).values
    assert sign * drug[upper].mean() > 0.005
    # the session's setting adds its common input on top: supportive therapy drives the DMN together
    dmn = np.ix_(model.dmn, model.dmn)
    setting = (model.state_correlation(0.7, 1.0, "supportive") - model.state_correlation(0.7, 0.0, "supportive")).values
    assert setting[dmn][np.triu_indices(int(model.dmn.sum()), k=1)].mean() > 0.01


def test_gain_network_is_stable_at_every_occupancy_bin():
    model = model_for("tvb76", acute_state="gain")
    lin = model.gain_network()
    step = model.params.occupancy_step.value
    for occupancy in np.linspace(0.0, 1.0, int(round(1.0 / step)) + 1):
        cov = lin.covariance(gain=gain_from(model.density, occupancy))
        assert np.isfinite(cov).all() and (np.diag(cov) > 0).all()
    corr = model.state_correlation(1.0, 1.0, "supportive")
    assert np.isfinite(corr).all() and np.abs(corr).max() <= 1.0 + 1e-9


# ------------------------------------------------------------------ per-visit window deviation
# Guards against the window deviation of one imaging visit depending on which later visits were
# requested, and against deviations of the wrong shape being accepted.
def test_a_visit_does_not_depend_on_later_imaging_visits():
    from psilosim.clinical.biology import chain_inputs, patient_biology
    from psilosim.clinical.trial import draw
    from psilosim.rewiring import model_for, patient_network

    design = get_preset("daws2022_trd")
    spec = design.arms[0]
    patient = draw(design, 0, 7)
    grid = np.arange(0.0, 36.0, 0.25)
    bio = patient_biology(spec.arm_treatments(), patient, grid, environment=spec.environment)
    kw = chain_inputs(spec.arm_treatments(), patient, environment=spec.environment)
    model = model_for("aal2")

    def measures(days):
        return patient_network(model, bio, spec.environment, days, background_stress=kw["background_stress"],
                               stress=kw["stress"], spine_params=kw["spine_params"]).measures

    short, long = measures([0.0, 8.0]), measures([0.0, 8.0, 35.0])
    change = short["modularity"][1] - short["modularity"][0]
    assert change < 0  # the visit measures a real change, so equality below is not trivial
    for name in short:
        np.testing.assert_allclose(long[name][1], short[name][1], rtol=1e-9, atol=1e-12, err_msg=name)


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
        model.rewired(spines, [0.0, 8.0], deviation=np.zeros((3, n, n)))
    assert info.value.field == "deviation"
    per_day = model.window_deviations(bio, "supportive", [0.0, 8.0])
    assert per_day.shape == (2, n, n) and np.all(per_day[0] == 0) and np.abs(per_day[1]).max() > 0


# ------------------------------------------------------------------ one rule for report and validate
# Guards against the trial report scoring NW3/NW4 with its own rule, different from validate's.
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


# ------------------------------------------------------------------ parameter note
# Guards against the rigid-state parameter note quoting baselines the model no longer produces.
def test_rigid_state_note_quotes_the_measured_baselines():
    from psilosim.rewiring import REWIRING, model_for

    model = model_for("aal2")
    healthy, rigid = model.baseline_measures(depressed=False), model.baseline_measures()
    note = REWIRING.dmn_structural_excess.note
    assert f"{healthy['modularity']:.3f} → {rigid['modularity']:.3f}" in note
    assert f"{healthy['dmn_within']:.3f} → {rigid['dmn_within']:.3f}" in note


# ------------------------------------------------------------------ audit fixes (fix_rewiring)
# Guards against a biology grid too coarse to resolve the acute hours: Δc weights each 15-min drug
# sample by g(t) interpolated on the biology grid, and on a 1-day grid g rises linearly from g(0) = 0,
# so the acute state got ~40 % too little weight without any warning.
def test_window_deviation_refuses_a_grid_too_coarse_for_the_acute_state():
    model = RewiringModel(small_brain())
    limit = model.params.max_window_grid_step.to("day")
    fine = model.window_deviation(biology(window=1.0, occupancy=0.7, effect=0.5, step=limit), "supportive", 42.0)
    assert np.abs(fine.values).max() > 0
    with pytest.raises(InputError) as info:
        model.window_deviation(biology(window=1.0, occupancy=0.7, effect=0.5, step=4 * limit), "supportive", 42.0)
    assert info.value.field == "biology.time_d" and "acute" in info.value.problem
    # without an acute state nothing is weighted, so a coarse grid is harmless and accepted
    none = model.window_deviation(biology(window=1.0, step=4 * limit), "supportive", 42.0)
    np.testing.assert_array_equal(none.values, 0.0)


def test_nw2_cohort_grid_resolves_the_acute_hours():
    from psilosim.rewiring import REWIRING
    from psilosim.validation.checks_metrics import CHECKS, nw2_grid

    grid = nw2_grid()
    assert grid[0] == 0.0 and grid[-1] >= CHECKS.persistence_day.to("day")
    assert np.diff(grid).max() <= REWIRING.max_window_grid_step.to("day") + 1e-12
    assert CHECKS.weeks_day.to("day") in grid


def test_an_unconnected_brain_is_refused():
    brain = small_brain()
    empty = Parcellation(name="empty", regions=brain.regions, sc=brain.sc * 0.0)
    with pytest.raises(InputError) as info:
        RewiringModel(empty)
    assert info.value.field == "sc"


def test_flexibility_settings_are_the_metrics_defaults_with_their_sources():
    from psilosim.metrics.params import DEFAULT_METRICS
    from psilosim.rewiring import REWIRING

    for mine, theirs in ((REWIRING.flexibility_window, DEFAULT_METRICS.window_s),
                         (REWIRING.flexibility_step, DEFAULT_METRICS.step_s)):
        assert mine.to("s") == theirs.to("s")
        assert (mine.kind, mine.source) == (theirs.kind, theirs.source)


def test_persistence_visit_cites_the_preprint_that_states_it():
    from psilosim.validation.checks_metrics import CHECKS

    p = CHECKS.persistence_day
    assert "10.1101/2023.08.22.23294131" in p.source
    assert p.kind != "published"


def test_occupancy_step_note_does_not_claim_a_symmetric_solve_on_the_rigid_structure():
    """The rigid structure is row-rescaled (asymmetric): the default model takes the Lyapunov route."""
    from psilosim.rewiring import REWIRING

    rigid = model_for("aal2").untreated
    assert np.abs(rigid - rigid.T).max() > 1e-3
    assert "symmetric eigendecomposition per bin" not in REWIRING.occupancy_step.note
    assert "Lyapunov" in REWIRING.occupancy_step.note


# Guards against the report's FC figure being recomputed with the default models when the run
# used a custom ModelSet.
def test_report_figure_uses_the_runs_models():
    from psilosim.clinical.imaging import ImagingHook, _fc_pair
    from psilosim.clinical.trial import DEFAULT_MODELS, ModelSet
    from psilosim.rewiring import REWIRING

    design = get_preset("daws2022_trd")
    frozen = ModelSet(imaging_hook=ImagingHook(REWIRING.replace(consolidation_gain=0.0)))
    fc0, fc1 = _fc_pair(design, 0, 3, 8.0, frozen)
    # η = 0: no covariance rule, and scaling removes the uniform spine change: nothing is rewired
    np.testing.assert_allclose(fc1.values, fc0.values, atol=1e-9)
    d0, d1 = _fc_pair(design, 0, 3, 8.0, DEFAULT_MODELS)
    assert np.abs(d1.values - d0.values).max() > 1e-4     # the default model does rewire


def test_trial_report_passes_the_runs_models_to_its_imaging_section(monkeypatch):
    import xarray as xr

    import psilosim.clinical.imaging as clinical_imaging
    from psilosim.clinical.trial import ModelSet
    from psilosim.report.trial import render_trial_report

    seen = []

    def section(ds, *, models=None):
        seen.append(models)
        raise RuntimeError("stop after the call")  # only the argument matters here

    monkeypatch.setattr(clinical_imaging, "network_section", section)
    custom = ModelSet(label="custom")
    ds = xr.Dataset({"network": ("patient", [0.0])},
                    attrs={"design": get_preset("daws2022_trd").model_dump_json()})
    with pytest.raises(RuntimeError, match="stop"):
        render_trial_report(ds, summary={"arms": {}}, models=custom)
    assert seen == [custom]
