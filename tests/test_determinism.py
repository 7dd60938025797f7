"""Determinism under a seed, as properties over seeds (the standard's invariant): every random
part of the chain repeats exactly for the same seed, whatever the seed, and differs for another.

Each other test file checks one fixed seed; these draw the seed with hypothesis.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from _metrics_data import bold, region_table
from psilosim.binding import simulate_acute
from psilosim.clinical.presets import carhart2021
from psilosim.clinical.trial import draw
from psilosim.connectome import Parcellation, labelled_matrix, load_dataset
from psilosim.metrics import detect_communities, multilayer_flexibility
from psilosim.network import scan as sc
from psilosim.network.dmf import DMFModel
from psilosim.network.hopf import HopfModel
from psilosim.pharmacokinetics import simulate_pk
from psilosim.plasticity import Drive
from psilosim.regimen import Regimen
from psilosim.rewiring import RewiringModel
from psilosim.synapses import simulate_slow_chain

# These tests exercise the kernel at couplings where the closed-form FIC does not hold 3 Hz; the
# WorkingPointWarning that says so is tested in test_network_model_inputs.py, not repeated here.
pytestmark = pytest.mark.filterwarnings("ignore::psilosim.errors.WorkingPointWarning")

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
FEW = settings(max_examples=5, deadline=None)


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


def _differs(a: np.ndarray, b: np.ndarray) -> bool:
    return not np.array_equal(a, b)


def _repeats_and_depends_on(run, seed: int) -> None:
    """``run(seed)`` gives identical numbers twice and other numbers for the next seed."""
    first = run(seed)
    np.testing.assert_array_equal(first, run(seed))
    assert _differs(first, run(seed + 1))


@FEW
@given(seed=SEEDS)
def test_pk_random_effects_repeat_under_a_seed(seed):
    regimen = Regimen.single("25 mg")

    _repeats_and_depends_on(lambda s: simulate_pk("psilocybin", regimen, seed=s, t_end_h=12.0)["concentration"].values,
                            seed)


@FEW
@given(seed=SEEDS, index=st.integers(min_value=0, max_value=10_000))
def test_a_trial_patient_repeats_under_a_seed(seed, index):
    design = carhart2021()
    assert draw(design, index, seed) == draw(design, index, seed)
    assert draw(design, index, seed) != draw(design, index, seed + 1)


@FEW
@given(seed=SEEDS)
def test_dmf_noise_repeats_under_a_seed(aal2, seed):
    model = DMFModel(aal2.sc)
    _repeats_and_depends_on(lambda s: model.simulate(10.0, coupling=0.5, seed=s, warmup_s=1.0)["bold"].values, seed)


@FEW
@given(seed=SEEDS)
def test_hopf_noise_repeats_under_a_seed(aal2, seed):
    model = HopfModel(aal2.sc)
    _repeats_and_depends_on(lambda s: model.simulate(20.0, coupling=0.01, seed=s, warmup_s=2.0).values, seed)


@FEW
@given(seed=SEEDS)
def test_null_receptor_maps_repeat_under_a_seed(aal2, seed):
    _repeats_and_depends_on(lambda s: sc.density_map(aal2, "shuffled", seed=s), seed)
    np.testing.assert_array_equal(np.sort(sc.density_map(aal2, "shuffled", seed=seed)),
                                  np.sort(sc.density_map(aal2, "receptor")))  # the real map's values, permuted


@FEW
@given(seed=SEEDS)
def test_stochastic_spines_repeat_under_a_seed(seed):
    drive = Drive.pulse(hours=1.5, HT2A_intracellular=0.7, TrkB=0.4, effect=0.8)

    _repeats_and_depends_on(
        lambda s: simulate_slow_chain(drive, days=3, stochastic=True, replicates=3, seed=s)["spine_count"].values, seed)


@FEW
@given(seed=SEEDS)
def test_binding_subject_repeats_under_a_seed(seed):
    regimen = Regimen.single("25 mg")
    _repeats_and_depends_on(
        lambda s: simulate_acute(("psilocybin", regimen), t_end_h=8.0, seed=s)["occupancy"].values, seed)


def _small_network():
    regions = region_table(8, ["Default", "SomMot"])
    pos = np.arange(8, dtype=float)
    weights = np.exp(-np.abs(pos[:, None] - pos[None, :]) / 2.0)
    np.fill_diagonal(weights, 0.0)
    return Parcellation(name="small", regions=regions, sc=labelled_matrix(weights, list(regions.index), name="sc"))


@FEW
@given(seed=SEEDS)
def test_rewiring_scan_and_flexibility_repeat_under_a_seed(seed):
    model = RewiringModel(_small_network())
    _repeats_and_depends_on(lambda s: model.scan(seed=s).values, seed)
    scan = model.scan(seed=seed)
    assert model.flexibility(scan, seed=seed) == model.flexibility(scan, seed=seed)


def _ring_fc(regions):
    """A ring lattice: every rotation of the best partition into arcs is equally good, so only the
    optimiser's random order (the seed) picks one."""
    n = len(regions)
    i = np.arange(n)
    hops = np.abs(i[:, None] - i[None, :])
    fc = np.where(np.minimum(hops, n - hops) <= 2, 0.8, 0.0)
    np.fill_diagonal(fc, 1.0)
    labels = list(regions.index)
    return xr.DataArray(fc, dims=("region_i", "region_j"), coords={"region_i": labels, "region_j": labels})


def _co_assignment(labels: np.ndarray) -> np.ndarray:
    return np.equal.outer(labels, labels)


@FEW
@given(seed=SEEDS)
def test_community_detection_repeats_under_a_seed(seed):
    regions = region_table(30)
    fc = _ring_fc(regions)
    first = detect_communities(fc, regions, seed=seed).labels.values
    np.testing.assert_array_equal(first, detect_communities(fc, regions, seed=seed).labels.values)
    # one run per seed (no consensus): other seeds place the arcs elsewhere
    single = [_co_assignment(detect_communities(fc, regions, n_runs=1, seed=seed + k).labels.values)
              for k in range(6)]
    assert any(_differs(single[0], other) for other in single[1:])


@FEW
@given(seed=SEEDS)
def test_multilayer_flexibility_repeats_under_a_seed(seed):
    regions = region_table(20)
    ts = bold(np.random.default_rng(seed).standard_normal((20, 200)), regions, 2.0)
    _repeats_and_depends_on(lambda s: multilayer_flexibility(ts, regions, seed=s)["communities"].values, seed)
