"""The HTML trial report (:mod:`psilosim.report.trial`): refusing to redraw a run with other models."""

from __future__ import annotations

import pytest
import xarray as xr

import psilosim.clinical.imaging as clinical_imaging
from psilosim.clinical.imaging import ImagingHook
from psilosim.clinical.presets import get_preset
from psilosim.clinical.trial import ModelSet
from psilosim.errors import InputError
from psilosim.report.trial import render_trial_report
from psilosim.rewiring import REWIRING


class _Reached(Exception):
    """The imaging section was asked for: the report got past its model check."""


def _run(models: ModelSet | None) -> xr.Dataset:
    design = get_preset("daws2022_trd")
    attrs = {"design": design.model_dump_json()}
    if models is not None:
        attrs["model_fingerprint"] = models.fingerprint(design=design)
    return xr.Dataset({"network": ("patient", [0.0])}, attrs=attrs)


@pytest.fixture
def section(monkeypatch):
    def stop(ds, *, models=None):
        raise _Reached

    monkeypatch.setattr(clinical_imaging, "network_section", stop)


# Guards against the imaging FC figures being recomputed with the default models for a run that
# was made with another model set (figures of a model the run never used).
def test_report_refuses_to_redraw_imaging_with_other_models_than_the_runs(section):
    frozen = ModelSet(imaging_hook=ImagingHook(REWIRING.replace(consolidation_gain=0.0)))
    ds = _run(frozen)
    with pytest.raises(InputError) as info:
        render_trial_report(ds, summary={"arms": {}})
    assert info.value.field == "models" and "models=" in str(info.value)
    with pytest.raises(_Reached):  # the run's own models pass
        render_trial_report(ds, summary={"arms": {}}, models=frozen)
    with pytest.raises(_Reached):  # the default models of a default run pass
        render_trial_report(_run(ModelSet()), summary={"arms": {}})
    with pytest.raises(_Reached):  # a run without a fingerprint (older files) is not refused
        render_trial_report(_run(None), summary={"arms": {}})


# Guards against a run made by another psilosim version being refused with advice that cannot
# help ("pass it as models=...", when the default models of this version differ from that version's).
def test_report_says_when_the_run_was_made_by_another_version(section):
    ds = _run(ModelSet(imaging_hook=ImagingHook(REWIRING.replace(consolidation_gain=0.0))))
    ds.attrs["psilosim_version"] = "0.0.1"
    with pytest.raises(InputError) as info:
        render_trial_report(ds, summary={"arms": {}})
    assert "psilosim 0.0.1" in str(info.value) and "models=" not in str(info.value)
