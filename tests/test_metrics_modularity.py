"""Modularity Q, participation and community detection, cross-checked against bctpy."""

from __future__ import annotations

import bct
import numpy as np
import pytest
import xarray as xr

from _metrics_data import region_table
from psilosim.connectome import load_parcellation_folder
from psilosim.errors import InputError
from psilosim.metrics import detect_communities, modularity_q, participation, system_segregation


@pytest.fixture(scope="module")
def schaefer(schaefer100_dir):
    brain = load_parcellation_folder(schaefer100_dir)
    assert brain.fc is not None
    return brain


def _zero_diag(fc):
    values = np.array(fc.values, dtype=float)
    np.fill_diagonal(values, 0.0)
    return values


def _partitions(schaefer):
    rng = np.random.default_rng(3)
    networks = schaefer.regions["network"].factorize()[0]
    found = detect_communities(schaefer.fc, schaefer.regions, seed=1).labels.values
    return [networks, found, rng.integers(0, 5, schaefer.n_regions)]


def test_q_matches_bctpy_on_the_same_partition(schaefer):
    w = _zero_diag(schaefer.fc)
    for labels in _partitions(schaefer):
        _, q_pos = bct.modularity_und_sign(w, labels + 1, qtype="pos")
        _, q_signed = bct.modularity_und_sign(w, labels + 1, qtype="sta")
        assert modularity_q(schaefer.fc, labels, policy="positive") == pytest.approx(q_pos, abs=1e-10)
        assert modularity_q(schaefer.fc, labels, policy="signed") == pytest.approx(q_signed, abs=1e-10)


def test_signed_q_and_participation_match_bctpy_with_negative_weights():
    rng = np.random.default_rng(11)
    w = rng.uniform(-0.6, 1.0, (30, 30))
    w = (w + w.T) / 2
    np.fill_diagonal(w, 0)
    assert (w < 0).sum() > 100
    for labels in (rng.integers(0, 4, 30), np.arange(30) % 3):
        _, q_signed = bct.modularity_und_sign(w, labels + 1, qtype="sta")
        assert modularity_q(w, labels, policy="signed") == pytest.approx(q_signed, abs=1e-10)
        assert np.allclose(participation(w, labels), bct.participation_coef_sign(w, labels + 1)[0], atol=1e-10)


def test_participation_matches_bctpy_on_the_same_partition(schaefer):
    w = _zero_diag(schaefer.fc)
    for labels in _partitions(schaefer):
        ours = participation(schaefer.fc, labels)
        assert np.allclose(ours, bct.participation_coef(np.where(w > 0, w, 0), labels + 1), atol=1e-10)
        assert np.allclose(ours, bct.participation_coef_sign(w, labels + 1)[0], atol=1e-10)


@pytest.mark.parametrize(("policy", "bct_b"), [("positive", "modularity"), ("signed", "negative_asym")])
def test_leiden_q_on_real_fc_is_within_001_of_the_best_of_many_bctpy_louvain_runs(schaefer, policy, bct_b):
    w = _zero_diag(schaefer.fc)
    matrix = np.where(w > 0, w, 0) if policy == "positive" else w
    best_bct = max(bct.community_louvain(matrix, B=bct_b, seed=s)[1] for s in range(50))
    ours = detect_communities(schaefer.fc, schaefer.regions, policy=policy, seed=0)
    assert ours.q == pytest.approx(modularity_q(schaefer.fc, ours.labels.values, policy=policy))
    assert ours.q >= best_bct - 0.01
    assert ours.q_best >= ours.q - 1e-12


def test_planted_blocks_are_recovered_and_the_seed_fixes_the_result():
    regions = region_table(24, ["A", "B", "C"])
    truth = regions["network"].factorize()[0]
    rng = np.random.default_rng(0)
    fc = np.where(np.equal.outer(truth, truth), 0.6, 0.05) + 0.05 * rng.standard_normal((24, 24))
    fc = (fc + fc.T) / 2
    np.fill_diagonal(fc, 1)
    labelled = xr.DataArray(fc, dims=("region_i", "region_j"),
                            coords={"region_i": list(regions.index), "region_j": list(regions.index)})
    first = detect_communities(labelled, regions, seed=5)
    again = detect_communities(labelled, regions, seed=5)
    assert np.array_equal(first.labels.values, again.labels.values)
    assert first.n_communities == 3
    # Same partition as the planted one, up to label names.
    assert np.array_equal(np.equal.outer(first.labels.values, first.labels.values), np.equal.outer(truth, truth))
    assert system_segregation(labelled, regions) == pytest.approx((0.6 - 0.05) / 0.6, abs=0.05)


def test_bad_policy_and_graph_without_positive_weights_are_rejected():
    regions = region_table(4)
    fc = xr.DataArray(-np.ones((4, 4)) + 2 * np.eye(4), dims=("region_i", "region_j"),
                      coords={"region_i": list(regions.index), "region_j": list(regions.index)})
    with pytest.raises(InputError, match="policy"):
        detect_communities(fc, regions, policy="absolute")
    with pytest.raises(InputError, match="no positive"):
        detect_communities(fc, regions)
