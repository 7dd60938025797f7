"""Depression rating scales: ranges, response and remission, and conversions between them.

Scales
------
``QIDS-SR-16``  Quick Inventory of Depressive Symptomatology, self-report, 16 items, 0–27
                (Rush et al. 2003 Biol Psychiatry 54:573). Remission ≤ 5: the cut-off of Rush 2003
                and the one Carhart-Harris et al. 2021 (NEJM 384:1402) used.
``MADRS``       Montgomery–Åsberg Depression Rating Scale, 0–60 (Montgomery & Åsberg 1979).
                Remission ≤ 10 (Hawley et al. 2002), used by Goodwin et al. 2022 (NEJM 387:1637,
                stated in the abstract) and taken here for Raison et al. 2023 as well (assumed:
                not verified in the primary text). ≤ 12 is the alternative used by the esketamine
                programme (Popova et al. 2019 Am J Psychiatry; from memory, unverified).
``BDI-II``      Beck Depression Inventory II, 0–63 (Beck, Steer & Brown 1996 manual): 0–13
                minimal, 14–19 mild, 20–28 moderate, 29–63 severe. Remission ≤ 13 (upper edge of
                the manual's "minimal" band; a convention, trials vary).
``HRSD-17``     Hamilton Rating Scale for Depression, 17 items, 0–52; remission ≤ 7 (Frank et al.
                1991 consensus). Carried as the pivot of the conversions and for inclusion
                criteria written on it (goodwin2022: HAM-D-17 ≥ 18). Carhart-Harris 2021's
                HAM-D-17 ≥ 17 is *not* applied that way: the preset uses QIDS-SR-16 ≥ 11, because
                the two scales disagree patient by patient and the converted floor (QIDS 13)
                would push the enrolled QIDS mean well above the published 15.5.

Response is a reduction of at least 50 % from baseline on every scale (the convention of all the
trials above; Carhart-Harris 2021 wrote "> 50 %", which differs only on exact ties).

Conversions
-----------
All conversions go through HRSD-17 and are piecewise-linear interpolations of published tables:

* QIDS-SR-16 ↔ HRSD-17: the IRT conversion table of Rush et al. 2003 (reproduced at
  ids-qids.org "interpretation"); where the table gives a range the midpoint is used.
* BDI-II ↔ HRSD-17: equipercentile linking of Furukawa et al. 2019 (Epidemiol Psychiatr Sci
  28:e24): HRSD 10/20/30 ↔ BDI-II 13/32/50; the end points 0 ↔ 0 and 52 ↔ 63 are assumed.
* MADRS ↔ QIDS-SR-16: linear (mean–sigma) equating on the one-year moments of Carmody et al.
  2006 (J Affect Disord 95:115; MADRS 21.9 ± 11.0, QIDS-SR-16 12.5 ± 5.8, n=233 TRD). It
  reproduces their IRT anchor QIDS 5 ↔ MADRS 7.5 within 0.2 points. MADRS ↔ HRSD-17 chains
  through QIDS (Carmody 2006 Eur Neuropsychopharmacol: HRSD 7 ↔ MADRS 8–9; the chain gives 7.7).

Every conversion is an **approximation** of population-level correspondence: an individual's
score on one scale does not determine their score on another. Use them for inclusion criteria and
for reading results side by side, not for pooling individual data.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from ..errors import InputError

ScaleName = Literal["QIDS-SR-16", "MADRS", "BDI-II", "HRSD-17"]

#: Fraction of the baseline score that must be removed for a response (all scales).
RESPONSE_REDUCTION = 0.5


class Scale(BaseModel):
    """One rating scale: integer range, remission cut-off and where they come from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    minimum: int
    maximum: int
    remission_max: int
    remission_source: str
    range_source: str
    alternative_remission: dict[str, int] = {}

    def clip(self, scores):
        """Scores clipped to the scale's range (array-friendly)."""
        return np.clip(scores, self.minimum, self.maximum)

    def check_score(self, value: float, *, field: str) -> float:
        """Return ``value`` if it is a possible score on this scale, else raise InputError."""
        if not np.isfinite(value) or value < self.minimum or value > self.maximum:
            raise InputError(field, f"{value} is outside the {self.name} range "
                                    f"{self.minimum}–{self.maximum}")
        return float(value)


SCALES: dict[str, Scale] = {
    "QIDS-SR-16": Scale(
        name="QIDS-SR-16", minimum=0, maximum=27, remission_max=5,
        remission_source="Rush et al. 2003 Biol Psychiatry 54:573; used by Carhart-Harris et al. 2021 NEJM 384:1402",
        range_source="Rush et al. 2003",
    ),
    "MADRS": Scale(
        name="MADRS", minimum=0, maximum=60, remission_max=10,
        remission_source="Hawley et al. 2002; used by Goodwin et al. 2022 NEJM 387:1637 (Raison et al. 2023 assumed the same)",
        range_source="Montgomery & Åsberg 1979 Br J Psychiatry 134:382",
        alternative_remission={"esketamine programme (Popova et al. 2019), unverified": 12},
    ),
    "BDI-II": Scale(
        name="BDI-II", minimum=0, maximum=63, remission_max=13,
        remission_source="Beck, Steer & Brown 1996 BDI-II manual: 0–13 'minimal' (convention)",
        range_source="Beck, Steer & Brown 1996",
        alternative_remission={"stricter convention": 12},
    ),
    "HRSD-17": Scale(
        name="HRSD-17", minimum=0, maximum=52, remission_max=7,
        remission_source="Frank et al. 1991 Arch Gen Psychiatry 48:851 consensus",
        range_source="Hamilton 1960",
    ),
}

_ALIASES = {
    "qids": "QIDS-SR-16", "qids-sr": "QIDS-SR-16", "qids-sr16": "QIDS-SR-16", "qids-sr-16": "QIDS-SR-16",
    "madrs": "MADRS", "bdi": "BDI-II", "bdi-ii": "BDI-II", "bdi2": "BDI-II",
    "hrsd": "HRSD-17", "hrsd-17": "HRSD-17", "hrsd17": "HRSD-17", "ham-d": "HRSD-17",
    "hamd": "HRSD-17", "ham-d-17": "HRSD-17", "hamd-17": "HRSD-17",
}


def get_scale(name: str, *, field: str = "scale") -> Scale:
    """The :class:`Scale` called ``name`` (case-insensitive, common aliases accepted)."""
    key = _ALIASES.get(str(name).strip().lower(), str(name).strip().upper())
    key = {k.upper(): k for k in SCALES}.get(key.upper(), key)
    if key not in SCALES:
        raise InputError(field, f"unknown rating scale {name!r}; expected one of {sorted(SCALES)}")
    return SCALES[key]


# --------------------------------------------------------------------------- conversion tables
#: Rush et al. 2003 QIDS-SR-16 -> HRSD-17 (midpoints of the published ranges; 27 -> 36–52 is
#: open-ended, its midpoint 44 is used).
_QIDS_TO_HRSD = (
    (0, 0.0), (1, 1.5), (2, 3.0), (3, 4.0), (4, 5.5), (5, 7.0), (6, 8.0), (7, 9.5), (8, 11.0),
    (9, 12.0), (10, 13.0), (11, 14.5), (12, 16.0), (13, 17.0), (14, 18.5), (15, 18.5),
    (16, 20.0), (17, 21.5), (18, 23.0), (19, 24.0), (20, 25.0), (21, 26.5), (22, 28.0),
    (23, 29.0), (24, 30.5), (25, 32.0), (26, 34.0), (27, 44.0),
)
#: Furukawa et al. 2019 anchors HRSD-17 -> BDI-II (end points assumed).
_HRSD_TO_BDI2 = ((0.0, 0.0), (10.0, 13.0), (20.0, 32.0), (30.0, 50.0), (52.0, 63.0))
#: Carmody et al. 2006 one-year moments (mean, SD) for mean–sigma equating.
_CARMODY_MADRS = (21.9, 11.0)
_CARMODY_QIDS = (12.5, 5.8)


def _interp_monotone(x, table, *, inverse: bool = False):
    """Piecewise-linear interpolation through ``table``; ties collapse to their mean."""
    a = np.array([p[0] for p in table], dtype=float)
    b = np.array([p[1] for p in table], dtype=float)
    if inverse:
        a, b = b, a
    keys, idx = np.unique(a, return_inverse=True)
    vals = np.bincount(idx, weights=b) / np.bincount(idx)
    return np.interp(x, keys, vals)


def _to_hrsd(values, scale: str):
    if scale == "HRSD-17":
        return np.asarray(values, dtype=float)
    if scale == "QIDS-SR-16":
        return _interp_monotone(values, _QIDS_TO_HRSD)
    if scale == "BDI-II":
        return _interp_monotone(values, _HRSD_TO_BDI2, inverse=True)
    if scale == "MADRS":
        return _to_hrsd(_madrs_to_qids(values), "QIDS-SR-16")
    raise AssertionError(scale)  # pragma: no cover - names validated by get_scale


def _from_hrsd(values, scale: str):
    if scale == "HRSD-17":
        return np.asarray(values, dtype=float)
    if scale == "QIDS-SR-16":
        return _interp_monotone(values, _QIDS_TO_HRSD, inverse=True)
    if scale == "BDI-II":
        return _interp_monotone(values, _HRSD_TO_BDI2)
    if scale == "MADRS":
        return _qids_to_madrs(_from_hrsd(values, "QIDS-SR-16"))
    raise AssertionError(scale)  # pragma: no cover


def _qids_to_madrs(qids):
    (m_mean, m_sd), (q_mean, q_sd) = _CARMODY_MADRS, _CARMODY_QIDS
    return m_mean + (m_sd / q_sd) * (np.asarray(qids, dtype=float) - q_mean)


def _madrs_to_qids(madrs):
    (m_mean, m_sd), (q_mean, q_sd) = _CARMODY_MADRS, _CARMODY_QIDS
    return q_mean + (q_sd / m_sd) * (np.asarray(madrs, dtype=float) - m_mean)


def convert(values, source: str, target: str):
    """Convert total scores from one scale to another (approximate, see module docstring).

    Parameters
    ----------
    values
        A score or an array of scores on ``source``.
    source, target
        Scale names (aliases accepted).

    Returns
    -------
    float or numpy.ndarray
        Equivalent scores on ``target``, clipped to its range (not rounded).
    """
    src, dst = get_scale(source, field="source"), get_scale(target, field="target")
    arr = np.asarray(values, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(arr < src.minimum) or np.any(arr > src.maximum):
        raise InputError("values", f"scores must lie in the {src.name} range {src.minimum}–{src.maximum}")
    if src.name == dst.name:
        out = arr
    elif {src.name, dst.name} == {"QIDS-SR-16", "MADRS"}:
        out = _qids_to_madrs(arr) if src.name == "QIDS-SR-16" else _madrs_to_qids(arr)
    else:
        out = _from_hrsd(_to_hrsd(arr, src.name), dst.name)
    out = dst.clip(out)
    return float(out) if np.ndim(out) == 0 else out


# --------------------------------------------------------------------------- outcome definitions
def is_response(baseline, later):
    """Response: the later score is at most 50 % of the baseline (≥ 50 % reduction).

    Works elementwise on arrays; a baseline of 0 cannot respond.
    """
    baseline = np.asarray(baseline, dtype=float)
    later = np.asarray(later, dtype=float)
    return (baseline > 0) & (later <= (1.0 - RESPONSE_REDUCTION) * baseline)


def is_remission(later, scale: str | Scale):
    """Remission: the score is at or below the scale's remission cut-off (elementwise)."""
    sc = scale if isinstance(scale, Scale) else get_scale(scale)
    return np.asarray(later, dtype=float) <= sc.remission_max
