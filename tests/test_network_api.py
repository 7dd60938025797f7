"""The network link's Python API: coupling checks, units on results, field names, exports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from psilosim.connectome import load_dataset
from psilosim.errors import InputError
from psilosim.network.dmf import DMFModel
from psilosim.network.dmf.linear import LinearDMF
from psilosim.network.fit import hopf_expected_fc
from psilosim.network.hopf import HopfModel
from psilosim.network.scan import expected_fc_session, linear_session, scan_session

BAD_COUPLINGS = [-1.0, -1e-9, float("nan"), float("inf")]


@pytest.fixture(scope="module")
def aal2():
    return load_dataset("aal2")


@pytest.fixture(scope="module")
def short_scan(aal2):
    """The shortest scan a session allows: one session of 3 TRs per condition."""
    return scan_session(aal2, 0.5, minutes=0.1, sessions=1)


# ---------------------------------------------------------------------- 1: coupling
@pytest.mark.parametrize("coupling", BAD_COUPLINGS)
def test_linear_session_refuses_a_negative_or_non_finite_coupling(aal2, coupling):
    # it used to back off from G = -1 to G = -0.27 and return an FC of an anti-coupled brain
    with pytest.raises(InputError) as err:
        linear_session(aal2, 0.7, coupling=coupling)
    assert err.value.field == "coupling"


@pytest.mark.parametrize("coupling", BAD_COUPLINGS)
def test_scan_session_refuses_a_negative_or_non_finite_coupling(aal2, coupling):
    with pytest.raises(InputError) as err:
        scan_session(aal2, 0.5, minutes=0.1, sessions=1, coupling=coupling)
    assert err.value.field == "coupling"


@pytest.mark.parametrize("coupling", BAD_COUPLINGS)
def test_expected_fc_session_refuses_a_negative_or_non_finite_coupling(aal2, coupling):
    fc = np.eye(aal2.n_regions)
    from psilosim.network.scan import conditions

    conds = conditions(aal2, 0, maps=())
    with pytest.raises(InputError) as err:
        expected_fc_session(aal2, conds, [fc] * len(conds), coupling=coupling, requested_coupling=0.5,
                            method="linear", occupancy=0.5)
    assert err.value.field == "coupling"
    with pytest.raises(InputError) as err:
        expected_fc_session(aal2, conds, [fc] * len(conds), coupling=0.5, requested_coupling=coupling,
                            method="linear", occupancy=0.5)
    assert err.value.field == "requested_coupling"


@pytest.mark.parametrize("coupling", BAD_COUPLINGS)
def test_model_entry_points_taking_a_coupling_refuse_a_bad_one(aal2, coupling):
    dmf = DMFModel(aal2.sc)
    hopf = HopfModel(aal2.sc)
    entry_points = [lambda: dmf.fic(coupling), lambda: dmf.fic_refined([0.5, coupling]),
                    lambda: LinearDMF(dmf, coupling), lambda: hopf.jacobian(coupling),
                    lambda: hopf.linear_fc(coupling), lambda: hopf_expected_fc(hopf, coupling, -0.02)]
    for call in entry_points:
        with pytest.raises(InputError) as err:
            call()
        assert err.value.field == "coupling"


def test_zero_coupling_is_still_accepted(aal2):
    fc = linear_session(aal2, 0.5, coupling=0.0)["fc"]
    assert np.isfinite(fc.values).all()


# ---------------------------------------------------------------------- 3: units on results
def _round_trip(ds: xr.Dataset, tmp_path) -> xr.Dataset:
    path = tmp_path / "session.nc"
    ds.to_netcdf(path, engine="h5netcdf")
    return xr.load_dataset(path, engine="h5netcdf")


def test_linear_session_fc_has_units_and_a_name_that_survive_netcdf(aal2, tmp_path):
    session = linear_session(aal2, 0.5)
    back = _round_trip(session, tmp_path)
    for ds in (session, back):
        assert ds["fc"].attrs["units"] == "1"
        assert "S_E" in ds["fc"].attrs["long_name"]  # the linear-noise FC is of the synaptic gating, not BOLD


def test_scan_session_fc_and_time_carry_units_that_survive_netcdf(short_scan, tmp_path):
    back = _round_trip(short_scan, tmp_path)
    for ds in (short_scan, back):
        for name in ("fc", "session_fc"):
            assert ds[name].attrs["units"] == "1"
            assert "BOLD" in ds[name].attrs["long_name"]
        assert ds["time"].attrs["units"] == "s"
    # the time axis really is in seconds: one TR apart (TR 2 s), first sample one TR in
    step = np.diff(short_scan["time"].values)
    assert np.allclose(step, short_scan.attrs["tr_s"]) and short_scan.attrs["tr_s"] == pytest.approx(2.0)


def test_builtin_dataset_bold_time_is_in_seconds(aal2):
    ts = aal2.bold[0]
    assert ts["time"].attrs["units"] == "s"
    assert float(ts["time"][1] - ts["time"][0]) == pytest.approx(ts.attrs["tr_s"])


# ---------------------------------------------------------------------- 4: field names
def test_load_dataset_names_its_parameter_not_a_cli_flag():
    with pytest.raises(InputError) as err:
        load_dataset("no-such-brain")
    assert err.value.field == "dataset"


@pytest.mark.parametrize("kwargs,field", [
    (dict(minutes=-1.0), "minutes"),
    (dict(minutes=0.01), "minutes"),  # fewer than the minimum number of TRs
    (dict(minutes=0.1, sessions=0), "sessions"),
])
def test_scan_session_names_its_parameters_not_cli_flags(aal2, kwargs, field):
    with pytest.raises(InputError) as err:
        scan_session(aal2, 0.5, **kwargs)
    assert err.value.field == field


# ---------------------------------------------------------------------- 5: exports
# the DMF fit is ``fit_dmf``: the package attribute ``fit`` is the submodule psilosim.network.fit
PUBLIC = ["scan_session", "linear_session", "expected_fc_session", "fit_dmf", "fit_hopf", "FITTED_G",
          "DMFModel", "HopfModel", "acute_session", "ACUTE_STATES"]


def test_network_package_exports_the_public_api():
    import psilosim.network as network
    from psilosim.network import acute, dmf, fit, hopf, scan

    assert set(PUBLIC) <= set(network.__all__)
    expected = {"scan_session": scan.scan_session, "linear_session": scan.linear_session,
                "expected_fc_session": scan.expected_fc_session, "fit_dmf": fit.fit, "fit_hopf": fit.fit_hopf,
                "FITTED_G": dmf.FITTED_G, "DMFModel": dmf.DMFModel, "HopfModel": hopf.HopfModel,
                "acute_session": acute.acute_session, "ACUTE_STATES": acute.ACUTE_STATES}
    for name, obj in expected.items():
        assert getattr(network, name) is obj
    with pytest.raises(AttributeError):
        network.no_such_name  # noqa: B018


@pytest.mark.parametrize("module", ["scan", "fit", "measures"])
def test_network_modules_declare_all_and_it_resolves(module):
    import importlib

    mod = importlib.import_module(f"psilosim.network.{module}")
    assert mod.__all__ and all(hasattr(mod, name) for name in mod.__all__)


def test_importing_the_network_package_loads_no_model_or_numba():
    code = ("import sys, psilosim.network; "
            "print(any(m == 'numba' or m.startswith('psilosim.network.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
