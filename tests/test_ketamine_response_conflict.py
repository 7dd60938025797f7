"""CL4.response is a known conflict: the explanation the scorecard gives must stay true.

The claim (docs/clinical.md#ketamine-response): with ``weight_circuit`` fitted to CL4's effect
size, ketamine's day-1 change is a small share of baseline because the model's day-1 change hardly
varies (the rated spread is mostly rating error) and saline hardly moves; raising the weight until
half the patients respond pushes CL1.psilocybin out of its band. Each part is measured here on
small twin cohorts, so that a model change that removes the cause (and should retire the conflict)
fails this test and sends the reader to the docs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from psilosim.clinical.calibration import TwinCohort, _with_symptoms
from psilosim.clinical.presets import carhart2021, ketamine_iv
from psilosim.clinical.scales import get_scale
from psilosim.clinical.symptoms import DEFAULT_SYMPTOMS, rated_change_noise_variance
from psilosim.clinical.trial import DEFAULT_MODELS
from psilosim.validation.registry import run_scorecard
from psilosim.validation.targets import TARGETS_BY_ID

TWINS, SEED = 60, 7
#: Half the baseline: a responder's change (MADRS points per point of baseline).
RESPONSE_FRACTION = 0.5


@pytest.fixture(scope="module")
def ketamine_twins():
    return TwinCohort(ketamine_iv(), TWINS, SEED, DEFAULT_MODELS)


def test_day1_spread_is_mostly_rating_error_and_saline_barely_moves(ketamine_twins):
    change = ketamine_twins.change(1.0)
    baselines = ketamine_twins.latent(0)[:, 0]
    rating = rated_change_noise_variance(baselines, 1.0, get_scale("MADRS"), params=DEFAULT_SYMPTOMS)
    # The latent change varies far less than what two ratings add (the docs: 1.8 and 0.14 vs ≈ 5 MADRS).
    assert change["ketamine"].std(ddof=1) ** 2 < 0.25 * rating
    assert change["saline"].std(ddof=1) < 1.0
    assert -2.0 < change["saline"].mean() < 0.0


def test_fitted_weight_gives_ketamine_far_less_than_a_response(ketamine_twins):
    change = ketamine_twins.change(1.0)["ketamine"]
    baselines = ketamine_twins.latent(0)[:, 0]
    share = -change / baselines
    assert share.mean() < 0.25                     # docs: 17 % of baseline
    assert np.mean(share >= RESPONSE_FRACTION) < 0.05  # on the latent scale nobody responds


def test_a_weight_that_makes_half_respond_breaks_cl1_psilocybin(ketamine_twins):
    heavy = _with_symptoms(DEFAULT_MODELS, weight_circuit=0.65)
    share = -ketamine_twins.change(1.0, models=heavy)["ketamine"] / ketamine_twins.latent(0, models=heavy)[:, 0]
    assert 0.35 < share.mean() < 0.6               # about half the baseline: about half respond
    car = TwinCohort(carhart2021(), 40, SEED, DEFAULT_MODELS)
    psilocybin = car.change(42.0, models=heavy)["psilocybin"].mean()
    assert psilocybin < TARGETS_BY_ID["CL1.psilocybin"].low  # below −10: CL1.psilocybin fails


def test_the_scorecard_shows_the_miss_as_a_known_conflict_pointing_to_its_docs():
    (result,) = run_scorecard(ids=["CL4.response"], include_unmodelled=False)
    assert result.status == "known conflict" and result.passed is False
    assert result.simulated < TARGETS_BY_ID["CL4.response"].low
    assert "docs/clinical.md#ketamine-response" in result.known_conflict
    assert 'id="ketamine-response"' in (Path(__file__).parents[1] / "docs" / "clinical.md").read_text()
