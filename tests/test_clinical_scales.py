"""Rating scales: ranges, response/remission definitions and the published conversions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from psilosim.clinical.scales import SCALES, convert, get_scale, is_remission, is_response
from psilosim.errors import InputError


@pytest.mark.parametrize("name,lo,hi,remission", [("QIDS-SR-16", 0, 27, 5), ("MADRS", 0, 60, 10),
                                                  ("BDI-II", 0, 63, 13), ("HRSD-17", 0, 52, 7)])
def test_ranges_and_remission_cutoffs(name, lo, hi, remission):
    sc = get_scale(name)
    assert (sc.minimum, sc.maximum, sc.remission_max) == (lo, hi, remission)
    assert sc.remission_source  # every cut-off carries its citation


def test_aliases_and_unknown_scale():
    assert get_scale("qids").name == "QIDS-SR-16"
    assert get_scale("ham-d").name == "HRSD-17"
    with pytest.raises(InputError, match="^scale: unknown rating scale"):
        get_scale("PHQ-9")


def test_response_is_at_least_half_reduction():
    base = np.array([20, 20, 20, 0])
    later = np.array([10, 11, 0, 0])
    assert is_response(base, later).tolist() == [True, False, True, False]


def test_remission_uses_scale_cutoff():
    assert is_remission([5, 6], "QIDS-SR-16").tolist() == [True, False]
    assert is_remission([10, 11], "MADRS").tolist() == [True, False]


def test_rush_2003_qids_to_hrsd_table_points():
    # Rush et al. 2003 conversion: QIDS 5 ↔ HRSD 7 (remission thresholds), QIDS 16 ↔ HRSD 20
    assert convert(5, "QIDS-SR-16", "HRSD-17") == pytest.approx(7.0)
    assert convert(16, "QIDS-SR-16", "HRSD-17") == pytest.approx(20.0)
    assert convert(7.0, "HRSD-17", "QIDS-SR-16") == pytest.approx(5.0)


def test_carmody_2006_anchor_qids5_is_madrs_7_5():
    assert convert(5, "QIDS-SR-16", "MADRS") == pytest.approx(7.5, abs=0.3)


@pytest.mark.parametrize("hrsd,bdi", [(10, 13), (20, 32), (30, 50)])
def test_furukawa_2019_anchors(hrsd, bdi):
    assert convert(hrsd, "HRSD-17", "BDI-II") == pytest.approx(bdi)


def test_conversion_rejects_out_of_range_scores():
    with pytest.raises(InputError, match="QIDS-SR-16 range"):
        convert(30, "QIDS-SR-16", "MADRS")
    with pytest.raises(InputError):
        convert(float("nan"), "MADRS", "QIDS-SR-16")


@given(st.sampled_from(sorted(SCALES)), st.sampled_from(sorted(SCALES)),
       st.floats(0, 1), st.floats(0, 1))
def test_conversions_are_monotone_and_in_range(src, dst, u, v):
    s = get_scale(src)
    a, b = sorted((s.minimum + u * (s.maximum - s.minimum), s.minimum + v * (s.maximum - s.minimum)))
    ca, cb = convert(a, src, dst), convert(b, src, dst)
    d = get_scale(dst)
    assert d.minimum <= ca <= cb + 1e-9 <= d.maximum + 1e-9


@given(st.floats(1, 27))
def test_qids_madrs_round_trip_inside_the_unclipped_range(x):
    # linear equating is exactly invertible where MADRS is not clipped at 0 (QIDS ≥ 1)
    assert convert(convert(x, "QIDS-SR-16", "MADRS"), "MADRS", "QIDS-SR-16") == pytest.approx(x, abs=1e-9)
