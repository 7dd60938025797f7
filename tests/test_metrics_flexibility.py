"""Multilayer flexibility: the Mucha objective, omega dependence on real data, planted switching."""

from __future__ import annotations

import igraph as ig
import leidenalg as la
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _metrics_data import bold, planted_switching, region_table
from psilosim.connectome import load_dataset
from psilosim.errors import InputError
from psilosim.metrics import flexibility_of, multilayer_flexibility, multilayer_partitions
from psilosim.metrics.fc import sliding_window_fc
from psilosim.metrics.flexibility import _window_layers, supra_modularity_matrix
from psilosim.metrics.kernel import partition_quality


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


def _leidenalg_multiplex_quality(window_fc, omega, gamma):
    """Quality of a (windows, regions) partition in the leidenalg multiplex formulation."""
    graphs = []
    for adjacency in _window_layers(window_fc):
        rows, cols = np.nonzero(np.triu(adjacency, 1))
        graph = ig.Graph(n=adjacency.shape[0], edges=np.column_stack([rows, cols]))
        graph.es["weight"] = adjacency[rows, cols]
        graph.vs["id"] = list(range(adjacency.shape[0]))
        graphs.append(graph)
    per_layer, interslice, full = la.time_slices_to_layers(graphs, interslice_weight=omega)
    where = (np.asarray(full.vs["slice"]), np.asarray(full.vs["id"]))

    def quality(labels):
        member = labels[where].tolist()
        total = sum(la.RBConfigurationVertexPartition(h, initial_membership=member, weights="weight",
                                                      resolution_parameter=gamma).quality() for h in per_layer)
        return total + la.CPMVertexPartition(interslice, initial_membership=member, resolution_parameter=0,
                                             node_sizes="node_size", weights="weight").quality()
    return quality


def test_supra_matrix_is_the_leidenalg_rbconfiguration_multiplex_objective():
    rng = np.random.default_rng(0)
    window_fc = np.array([np.corrcoef(rng.standard_normal((10, 15))) for _ in range(4)])
    matrix = supra_modularity_matrix(window_fc, omega=0.7, gamma=1.3)
    reference = _leidenalg_multiplex_quality(window_fc, 0.7, 1.3)
    for _ in range(5):
        a, b = rng.integers(0, 3, (2, 4, 10))
        ours = partition_quality(matrix, a.ravel()) - partition_quality(matrix, b.ravel())
        assert ours == pytest.approx(reference(a) - reference(b), abs=1e-9)


def test_default_engine_reaches_at_least_the_leidenalg_quality_on_real_bold(aal2):
    window_fc = sliding_window_fc(aal2.bold[0], aal2.regions, window_s=60, step_s=40).values
    _, q_ours = multilayer_partitions(window_fc, omega=1, gamma=1, n_runs=3, seed=0)
    _, q_ref = multilayer_partitions(window_fc, omega=1, gamma=1, n_runs=1, seed=0, engine="leidenalg")
    assert q_ours.max() >= q_ref.max() - 0.005


def test_flexibility_falls_as_omega_rises_and_is_nonzero_at_small_omega_on_real_bold(aal2):
    window_fc = sliding_window_fc(aal2.bold[0], aal2.regions)
    means = [float(multilayer_flexibility(None, aal2.regions, omega=omega, seed=1, window_fc=window_fc)
                   ["flexibility"].mean()) for omega in (0.05, 1.0, 5.0)]
    assert means[0] > 0.1
    assert means[0] > means[1] > means[2]


def test_flexibility_singles_out_the_planted_switching_regions():
    values, switching = planted_switching(seed=3)
    regions = region_table(values.shape[0])
    # Windows aligned with the 60 s blocks: a switching region changes side at every window.
    result = multilayer_flexibility(bold(values, regions, 2.0), regions, window_s=60, step_s=60,
                                    omega=1.0, seed=0)
    flex = result["flexibility"].values
    top = np.argsort(flex)[::-1][: switching.size]
    assert set(top) == set(switching)
    others = np.setdiff1d(np.arange(flex.size), switching)
    assert flex[switching].min() > 0.8
    assert flex[others].max() < 0.1


def test_same_seed_same_flexibility():
    values, _ = planted_switching(seed=1)
    regions = region_table(values.shape[0])
    ts = bold(values, regions, 2.0)
    first = multilayer_flexibility(ts, regions, seed=4)["communities"].values
    assert np.array_equal(first, multilayer_flexibility(ts, regions, seed=4)["communities"].values)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 12), st.integers(1, 8), st.integers(0, 2**31 - 1))
def test_flexibility_is_a_fraction_and_zero_for_constant_labels(n_windows, n_regions, seed):
    labels = np.random.default_rng(seed).integers(0, 3, (n_windows, n_regions))
    flex = flexibility_of(labels)
    assert np.all((flex >= 0) & (flex <= 1))
    assert np.all(flexibility_of(np.repeat(labels[:1], n_windows, axis=0)) == 0)


def test_one_window_or_bad_settings_are_rejected():
    values, _ = planted_switching(seed=1)
    regions = region_table(values.shape[0])
    ts = bold(values[:, :35], regions, 2.0)
    with pytest.raises(InputError, match="at least two"):
        multilayer_flexibility(ts, regions, window_s=60, step_s=20)
    with pytest.raises(InputError, match="engine"):
        multilayer_flexibility(ts, regions, window_s=20, step_s=10, engine="modularity")
    with pytest.raises(InputError, match="non-negative"):
        multilayer_flexibility(ts, regions, window_s=20, step_s=10, omega=-1)


# Guards against the run-count note and docs/metrics.md quoting different accuracies of 8 runs.
def test_multilayer_run_count_note_and_docs_quote_the_same_measurement():
    import re
    from pathlib import Path

    from psilosim.metrics.params import DEFAULT_METRICS

    pattern = r"within (\d\.\d+) of a 100-run average.*?any 8 of the 100 runs within (\d\.\d+)"
    note = re.search(pattern, DEFAULT_METRICS.n_runs_multilayer.note)
    docs = re.search(pattern, (Path(__file__).parents[1] / "docs" / "metrics.md").read_text(), re.S)
    assert note is not None and docs is not None
    assert note.groups() == docs.groups()
