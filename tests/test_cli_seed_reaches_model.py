"""``--seed`` reaches the model: the same seed repeats a run and another seed changes it.

Guards against a ``--seed`` option that is accepted but ignored or replaced by a fixed value on the
way to the model (``pk``, ``scan``, ``spines --stochastic``, ``analyze``). Comparing two runs with
the same seed alone cannot show that, so every test also runs a second seed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from _metrics_data import region_table
from cli_helpers import run_cli

SEED, OTHER_SEED = "3", "4"


def _json(monkeypatch, capsys, *args: str) -> dict:
    code, out, err = run_cli(monkeypatch, capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def _runs(monkeypatch, capsys, *args: str) -> tuple[dict, dict, dict]:
    """Seed, the same seed again, and another seed."""
    return tuple(_json(monkeypatch, capsys, *args, "--seed", s) for s in (SEED, SEED, OTHER_SEED))


def test_pk_seed_draws_the_subject(monkeypatch, capsys):
    a, again, other = _runs(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg",
                            "--hours", "12")
    typical = _json(monkeypatch, capsys, "pk", "--compound", "psilocybin", "--dose", "25 mg", "--hours", "12")
    assert a["series"] == again["series"]
    assert a["series"]["concentration_ng_ml"] != other["series"]["concentration_ng_ml"]
    # a seeded subject is not the typical subject of an unseeded run
    assert a["cmax_ng_ml"] != pytest.approx(typical["cmax_ng_ml"], rel=1e-9)
    assert (a["seed"], other["seed"]) == (int(SEED), int(OTHER_SEED))


def test_scan_seed_drives_the_noise(monkeypatch, capsys):
    a, again, other = _runs(monkeypatch, capsys, "scan", "--occupancy", "0.5", "--minutes", "0.5",
                            "--sessions", "1")
    assert a["fc_change_global"] == again["fc_change_global"]
    assert a["fc_change_global"] != other["fc_change_global"]


def test_stochastic_spines_seed_draws_the_spines(monkeypatch, capsys):
    a, again, other = _runs(monkeypatch, capsys, "spines", "--stochastic", "--days", "2")
    key = "stochastic_density_mean"
    assert a["series"][key] == again["series"][key]
    assert a["series"][key] != other["series"][key]
    assert a["series"]["density_rel"] == other["series"]["density_rel"]  # the mean field has no randomness


def test_analyze_seed_drives_community_detection(monkeypatch, capsys, tmp_path):
    # unstructured noise: many near-equal partitions, so the optimiser's random order decides
    values = np.random.default_rng(0).standard_normal((30, 240))
    region_table(values.shape[0]).reset_index().to_csv(tmp_path / "regions.csv", index=False)
    np.save(tmp_path / "bold.npy", values)
    a, again, other = _runs(monkeypatch, capsys, "analyze", str(tmp_path / "bold.npy"),
                            "--regions", str(tmp_path / "regions.csv"), "--tr", "2")
    assert a["flexibility_by_region"] == again["flexibility_by_region"] and a["modularity"] == again["modularity"]
    assert (a["flexibility_by_region"], a["modularity"]) != (other["flexibility_by_region"], other["modularity"])
