"""Virtual trials: determinism, resume, randomisation, screening, mechanism and bad inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from psilosim.clinical.biology import BiologyTrajectory
from psilosim.clinical.calibration import twin_latent
from psilosim.clinical.design import design_from_dict, load_design
from psilosim.clinical.patients import DEFAULT_POPULATION, draw_patient
from psilosim.clinical.presets import PRESETS, carhart2021, get_preset
from psilosim.clinical.store import chunk_bounds
from psilosim.clinical.trial import (
    CHUNK_DIR,
    DEFAULT_MODELS,
    MANIFEST_FILE,
    ModelSet,
    completed_chunks,
    run_trial,
)
from psilosim.errors import InputError

N = 24


@pytest.fixture(scope="module")
def reference():
    """An uninterrupted sequential run (chunks of 5)."""
    return run_trial(carhart2021(), n_patients=N, seed=9, backend="sync", chunk_size=5)


def _same(a, b):
    """Every variable, coordinate and attribute equal (not only the headline outcomes)."""
    xr.testing.assert_identical(a, b)


@pytest.mark.parametrize("presets", sorted(PRESETS))
def test_every_preset_validates(presets):
    d = get_preset(presets)
    assert d.primary_day in d.visits and d.visits[0] == 0


def test_deterministic_across_threads_processes_and_chunking(reference):
    d = carhart2021()
    # several chunks on the thread pool, so chunks really run at the same time (a single chunk could
    # not show shared mutable state between chunks); the grouping also differs from the reference's
    threads = run_trial(d, n_patients=N, seed=9, backend="threads", chunk_size=3)
    processes = run_trial(d, n_patients=N, seed=9, workers=2, chunk_size=7)
    _same(reference, threads)
    _same(reference, processes)


def test_seed_changes_the_patients(reference):
    other = run_trial(carhart2021(), n_patients=N, seed=10, backend="sync", chunk_size=5)
    assert not np.array_equal(other["baseline_severity"].values, reference["baseline_severity"].values)


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_trial_is_a_function_of_its_seed(seed):
    d = carhart2021()
    first = run_trial(d, n_patients=4, seed=seed, backend="sync", chunk_size=4)
    again = run_trial(d, n_patients=4, seed=seed, backend="sync", chunk_size=2)
    other = run_trial(d, n_patients=4, seed=seed + 1, backend="sync", chunk_size=4)
    _same(first, again)
    assert not np.array_equal(first["baseline_severity"].values, other["baseline_severity"].values)
    assert not np.array_equal(first["outcome"].values, other["outcome"].values)


def test_resume_after_interruption_loses_and_duplicates_nobody(tmp_path: Path, reference):
    d = carhart2021()
    stopped = run_trial(d, n_patients=N, seed=9, out=tmp_path, backend="sync", chunk_size=5, max_new_chunks=2)
    assert stopped is None
    bounds = chunk_bounds(N, 5)
    assert completed_chunks(tmp_path, bounds) == set(bounds[:2])
    # a half-written file from the "killed" process must not count as done
    (tmp_path / CHUNK_DIR / "chunk_00000010_00000015.nc").write_bytes(b"truncated")
    assert completed_chunks(tmp_path, bounds) == set(bounds[:2])
    resumed = run_trial(d, n_patients=N, seed=9, out=tmp_path, backend="sync", chunk_size=5)
    assert resumed["patient"].values.tolist() == list(range(N))
    _same(reference, resumed)
    assert (tmp_path / "results.nc").exists()


def test_resume_refuses_a_folder_of_another_run(tmp_path: Path):
    run_trial(carhart2021(), n_patients=6, seed=1, out=tmp_path, backend="sync", chunk_size=3, max_new_chunks=1)
    with pytest.raises(InputError, match="^--out: .*different run"):
        run_trial(carhart2021(), n_patients=6, seed=2, out=tmp_path, backend="sync", chunk_size=3)


def test_permuted_blocks_balance_the_arms():
    d = carhart2021()
    arms = np.array([d.arm_of(i, 4) for i in range(40)])
    blocks = arms.reshape(-1, d.effective_block_size)
    assert all(np.bincount(b, minlength=2).tolist() == [2, 2] for b in blocks)


def test_screening_excludes_psychosis_bipolar_at_the_documented_rate():
    d = carhart2021()
    screened = np.array([draw_patient(i, 3, d.baseline).n_screened for i in range(3000)])
    pop = DEFAULT_POPULATION
    p_excl = 1 - (1 - pop.prevalence_bipolar.value) * (1 - pop.prevalence_psychosis.value)
    # geometric number of candidates: mean 1/(1 − p)
    assert screened.mean() == pytest.approx(1 / (1 - p_excl), abs=0.02)
    unscreened = [draw_patient(i, 3, d.baseline, exclude_psychosis_bipolar=False).n_screened for i in range(50)]
    assert set(unscreened) == {1}


def test_baseline_respects_inclusion_criteria_written_on_another_scale():
    d = get_preset("goodwin2022")
    lo, _ = d.baseline.bounds()
    # HRSD-17 ≥ 18 → QIDS ≈ 13.7 (Rush 2003 table) → MADRS ≈ 24.7 (Carmody 2006 equating)
    assert 23.0 < lo < 26.5
    assert min(draw_patient(i, 1, d.baseline).baseline_severity for i in range(300)) >= lo


def _twin_change(design, day, n=40, seed=5, models=DEFAULT_MODELS):
    return {arm: float(c.mean()) for arm, c in twin_latent(design, models, n, seed, day).items()}


def test_fast_psilocybin_vs_gradual_ssri_comes_from_the_chain():
    d = carhart2021()
    early, late = _twin_change(d, 7.0), _twin_change(d, 42.0)
    # psilocybin reaches most of its week-6 effect in a week; escitalopram less than half of it
    assert early["psilocybin"] / late["psilocybin"] > 0.6
    assert early["escitalopram"] / late["escitalopram"] < 0.45


def _variant(**arm_changes):
    data = carhart2021().model_dump(mode="json")
    data["arms"][0].update(arm_changes)
    return design_from_dict(data)


def test_what_if_therapy_off_and_stressful_setting_reduce_benefit():
    base = _twin_change(carhart2021(), 42.0)["psilocybin"]
    no_therapy = _twin_change(_variant(therapy=False), 42.0)["psilocybin"]
    stressful = _twin_change(_variant(environment="stressful"), 42.0)["psilocybin"]
    assert base < no_therapy < 0
    assert stressful > no_therapy


def test_what_if_ssri_not_washed_out_blunts_psilocybin():
    data = carhart2021().model_dump(mode="json")
    data["ssri_washout"] = False
    blunted = design_from_dict(data)
    on = [draw_patient(i, 5, blunted.baseline, ssri_washout=False).ssri_blunted for i in range(40)]
    assert 0 < sum(on) < 40
    assert _twin_change(blunted, 42.0)["psilocybin"] > _twin_change(carhart2021(), 42.0)["psilocybin"]


def test_network_hook_is_unused_by_default_and_enters_when_given():
    def hook(patient, bio):
        return bio.window  # rigidity falls while the window is open

    d = carhart2021()
    sym = DEFAULT_MODELS.symptoms.replace(weight_network=0.5)
    with_hook = ModelSet(symptoms=sym, network_hook=hook)
    assert _twin_change(d, 7.0, n=10, models=with_hook)["psilocybin"] < _twin_change(d, 7.0, n=10)["psilocybin"]


@pytest.mark.parametrize("change,field", [
    ({"visits": [1, 7, 42]}, "visits"),
    ({"visits": [0, 14, 7]}, "visits"),
    ({"primary_day": 40}, "primary_day"),
    ({"scale": "PHQ-9"}, "scale"),
    ({"arms": []}, "arms"),
    ({"patients": 0}, "patients"),
])
def test_bad_design_fields_are_named(change, field):
    data = carhart2021().model_dump(mode="json")
    data.update(change)
    with pytest.raises(InputError, match=f"^{field}"):
        design_from_dict(data)


def test_bad_treatments_are_named():
    data = carhart2021().model_dump(mode="json")
    data["arms"][0]["treatments"][0]["compound"] = "unobtainium"
    with pytest.raises(InputError, match="compound.*unknown compound"):
        design_from_dict(data)
    data = carhart2021().model_dump(mode="json")
    data["arms"][0]["treatments"][0]["regimen"]["phases"][0]["dose"] = "-25 mg"
    with pytest.raises(InputError, match="dose"):
        design_from_dict(data)
    data = carhart2021().model_dump(mode="json")
    data["arms"][1]["name"] = data["arms"][0]["name"]
    with pytest.raises(InputError, match="^arms: arm names must be unique"):
        design_from_dict(data)


def test_yaml_errors_name_the_line(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nscale: [unclosed\n")
    with pytest.raises(InputError, match="line"):
        load_design(bad)
    with pytest.raises(InputError, match="no such scenario file"):
        load_design(tmp_path / "missing.yaml")


def test_biology_trajectory_validates():
    t = np.array([0.0, 1.0, 2.0])
    with pytest.raises(InputError, match="window"):
        BiologyTrajectory(t, np.array([0, 2.0, 0]), np.ones(3), np.ones(3))
    with pytest.raises(InputError, match="time_d"):
        BiologyTrajectory(np.array([0.0, 0.0, 1.0]), np.zeros(3), np.ones(3), np.ones(3))


def test_untreated_patient_stays_at_the_stress_deficit():
    data = carhart2021().model_dump(mode="json")
    data["arms"] = [{"name": "nothing", "therapy": False, "environment": "none", "treatments": []}]
    ds = run_trial(design_from_dict(data), n_patients=6, seed=2, backend="sync")
    density = ds["course"].sel(quantity="density_rel")
    # the ongoing stress of each patient holds the spine link at its rest state, 1 − deficit
    np.testing.assert_allclose(density.values, np.broadcast_to((1 - ds["stress_deficit"].values)[:, None],
                                                             density.shape), rtol=1e-9)


# ---------------------------------------------------------------- resume fingerprint and provenance
# Guards against resuming a folder whose run used other compounds, network or rewiring parameters,
# or another package version, and against a trial folder without a provenance record.
def test_fingerprint_covers_compounds_network_rewiring_and_version(monkeypatch, tmp_path: Path):
    import psilosim.compounds as compounds
    import psilosim.network.hopf.params as hopf_params
    import psilosim.rewiring.params as rewiring_params

    design = get_preset("daws2022")
    models = ModelSet()
    base = models.fingerprint(design=design)
    psilocybin = compounds.get_compound("psilocybin")
    original = compounds.get_compound

    def changed(name):
        return psilocybin.derive("psilocybin", hallucinogenic_efficacy=0.5) if str(name).lower() == "psilocybin" \
            else original(name)

    with monkeypatch.context() as m:
        m.setattr(compounds, "get_compound", changed)
        assert models.fingerprint(design=design) != base
    with monkeypatch.context() as m:
        m.setattr(hopf_params, "HOPF", hopf_params.HOPF.model_copy(update={
            "noise": hopf_params.HOPF.noise.model_copy(update={"value": 0.03})}))
        assert models.fingerprint(design=design) != base
    with monkeypatch.context() as m:
        r = rewiring_params.REWIRING
        m.setattr(rewiring_params, "REWIRING", r.model_copy(update={
            "consolidation_gain": r.consolidation_gain.model_copy(update={"value": 2 * r.consolidation_gain.value})}))
        assert models.fingerprint(design=design) != base
    assert models.fingerprint(design=design) == base

    run_trial(carhart2021(), n_patients=4, seed=1, out=tmp_path, backend="sync", chunk_size=2, max_new_chunks=0)
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    manifest["version"] = "0.0.0-older"
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="^--out: .*different run"):
        run_trial(carhart2021(), n_patients=4, seed=1, out=tmp_path, backend="sync", chunk_size=2)


def _hook_a(patient, biology):
    return None


def _hook_b(patient, biology):
    return None


def _make_hook(gain):
    def hook(patient, biology):
        return gain * biology.window

    return hook


@dataclass(frozen=True)
class _ScaledHook:
    gain: float

    def rigidity(self, patient, biology):
        return self.gain * biology.window


class _PlainHook:
    """A hook object without declared fields: its identity cannot be made stable."""

    def __init__(self, gain):
        self.gain = gain

    def rigidity(self, patient, biology):
        return self.gain * biology.window


def _gained(gain, patient, biology):
    return gain * biology.window


_lambda_a = lambda patient, biology: biology.window  # noqa: E731
_lambda_b = lambda patient, biology: 2 * biology.window  # noqa: E731
_HOOKS_IN_EVERY_PROCESS = {"function": "_hook_a", "closure": "_make_hook(0.3)",
                           "method": "_ScaledHook(0.3).rigidity", "partial": "partial(_gained, 0.3)"}


def _fingerprint(hook) -> str:
    return ModelSet(network_hook=hook).fingerprint()


def test_fingerprint_of_a_function_hook_is_the_same_in_every_process():
    # A function's repr holds its memory address, which differs between processes: a run with a
    # custom network hook could not be resumed. Its name, code and captured values identify it instead.
    import subprocess
    import sys

    fp = _fingerprint(_hook_a)
    assert fp != _fingerprint(_hook_b) != ModelSet().fingerprint()
    here = {name: _fingerprint(eval(expr)) for name, expr in _HOOKS_IN_EVERY_PROCESS.items()}
    code = ("import sys, json; sys.path.insert(0, sys.argv[1]); import test_trial as t; "
            "print(json.dumps({k: t._fingerprint(eval(e, vars(t))) for k, e in t._HOOKS_IN_EVERY_PROCESS.items()}))")
    other = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], capture_output=True,
                           text=True, check=True).stdout.strip()
    assert json.loads(other) == here


@pytest.mark.parametrize("first,second", [
    (lambda: _make_hook(0.3), lambda: _make_hook(0.6)),          # closures of one factory
    (lambda: _lambda_a, lambda: _lambda_b),                        # two lambdas of one module
    (lambda: _ScaledHook(0.3).rigidity, lambda: _ScaledHook(0.6).rigidity),  # methods of two instances
    (lambda: partial(_gained, 0.3), lambda: partial(_gained, 0.6)),
    (lambda: partial(_gained, gain=0.3), lambda: partial(_gained, gain=0.6)),
])
def test_fingerprint_tells_apart_hooks_that_share_a_name(first, second):
    # Resuming into a folder made with another hook would mix chunks of two models.
    assert _fingerprint(first()) != _fingerprint(second())
    assert _fingerprint(first()) == _fingerprint(first())  # a new object of the same hook: resumable


def test_resume_with_a_hook_without_a_stable_identity_is_refused(tmp_path: Path):
    hook = _PlainHook(0.3).rigidity
    models = ModelSet(network_hook=hook)
    run_trial(carhart2021(), n_patients=4, seed=1, out=tmp_path, backend="sync", chunk_size=2,
              max_new_chunks=1, models=models)
    with pytest.raises(InputError) as info:
        run_trial(carhart2021(), n_patients=4, seed=1, out=tmp_path, backend="sync", chunk_size=2, models=models)
    assert info.value.field == "models"
    assert "_PlainHook.rigidity" in str(info.value)


def test_imaging_design_on_a_grid_too_coarse_for_the_rewiring_is_refused_at_load():
    data = get_preset("daws2022").model_dump(mode="json")
    data["grid_step_d"] = 0.5  # allowed without imaging; the rewiring needs ≤ 0.25 d
    with pytest.raises(InputError) as info:
        design_from_dict(data)
    assert info.value.field == "grid_step_d"
    data["imaging"] = None
    assert design_from_dict(data).grid_step_d == 0.5


def test_treatment_starting_after_the_last_visit_is_refused():
    data = carhart2021().model_dump(mode="json")
    data["arms"][1]["treatments"][0]["start_day"] = 100  # a 42-day trial
    with pytest.raises(InputError) as info:
        design_from_dict(data)
    assert info.value.field == "arms.1.treatments.0.start_day"


def test_trial_folder_has_a_provenance_record(tmp_path: Path):
    from psilosim.io import PROVENANCE_FILE

    run_trial(carhart2021(), n_patients=2, seed=3, out=tmp_path, backend="sync", chunk_size=2)
    record = json.loads((tmp_path / PROVENANCE_FILE).read_text())
    assert record["seed"] == 3 and record["created_utc"].endswith("+00:00")
    assert {"population", "biology", "symptoms"} <= set(record["parameter_sets"])
    assert record["scenario"]["name"] == "carhart2021"


# ---------------------------------------------------------------- design fields checked at load time
# Guards against a non-positive block size, an out-of-range baseline mean (reported more than once)
# or an unknown imaging dataset getting past loading and failing later.
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


@pytest.mark.parametrize("change,field", [
    ({"criterion_scale": "XYZ"}, "baseline.criterion_scale"),
    ({"criterion_scale": "HRSD-17", "minimum": 70}, "baseline.minimum"),  # HRSD-17 ends at 52
    ({"criterion_scale": "HRSD-17", "maximum": -1}, "baseline.maximum"),
])
def test_bad_inclusion_criterion_names_its_own_field(change, field):
    # The criterion is converted to the trial's scale; an error must name the field the user wrote,
    # not the converter's arguments (it read "baseline.source" / "baseline.values").
    data = get_preset("goodwin2022").model_dump(mode="json")
    data["baseline"].update(change)
    with pytest.raises(InputError) as info:
        design_from_dict(data)
    assert info.value.field == field


def test_unknown_imaging_dataset_fails_at_load_time():
    data = get_preset("daws2022").model_dump(mode="json")
    data["imaging"]["dataset"] = "no-such-brain"
    with pytest.raises(InputError) as info:
        design_from_dict(data)
    assert info.value.field == "imaging.dataset"


# ---------------------------------------------------------------- arm counts
# Guards against arm counts computed apart from the randomisation disagreeing with it.
@settings(max_examples=30, deadline=None)
@given(preset=st.sampled_from(["carhart2021", "goodwin2022", "raison2023", "daws2022_trd"]),
       n=st.integers(1, 120), seed=st.integers(0, 2**31))
def test_arm_counts_match_the_randomisation(preset, n, seed):
    from psilosim.clinical.trial import arm_counts

    design = get_preset(preset)
    brute = np.bincount([design.arm_of(i, seed) for i in range(n)], minlength=len(design.arms))
    counts = arm_counts(design, n, seed)
    assert list(counts.values()) == brute.tolist() and sum(counts.values()) == n


# Guards against hooks whose parts refer to each other recursing without end (RecursionError
# inside run_trial), and against object arrays being hashed by their pointers (a different
# fingerprint in every process) instead of being reported as having no stable identity.
def test_hook_identity_survives_cycles_and_refuses_object_arrays():
    from dataclasses import dataclass, field

    from psilosim.clinical.identity import ModelSet, UnstableIdentity, _stable_identity

    @dataclass(eq=False)
    class Node:
        level: float
        other: list = field(default_factory=list)

        def __call__(self, patient, biology):
            return None

    a, b = Node(1.0), Node(2.0)
    a.other.append(b)
    b.other.append(a)
    first = _stable_identity(a)
    assert first == _stable_identity(a) and "level=1.0" in first and "level=2.0" in first
    assert _stable_identity(Node(3.0)) != _stable_identity(Node(4.0))  # an instance is not "recursive"
    assert ModelSet(network_hook=a).unstable_hooks() == {}
    holder = Node(1.0, other=[np.array([object()], dtype=object)])
    with pytest.raises(UnstableIdentity, match="object"):
        _stable_identity(holder)
    assert "network_hook" in ModelSet(network_hook=holder).unstable_hooks()
