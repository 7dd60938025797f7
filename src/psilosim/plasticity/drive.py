"""Receptor drive: the inputs of the slow chain, whatever produced them.

A :class:`Drive` is a set of time series over hours after the first dose: fractional occupancy of
each target (0–1) and the subjective acute effect (0–1). The binding link produces them
(:meth:`Drive.from_acute`), tests build synthetic ones (:meth:`Drive.pulse`). Outside its time
span a drive is zero (the compound has washed out).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from ..errors import InputError

#: Targets the slow chain reads; missing ones are zero.
TARGETS: tuple[str, ...] = ("5-HT2A_surface", "5-HT2A_intracellular", "TrkB", "SERT", "NMDA")


@dataclass(frozen=True)
class Drive:
    """Occupancy and acute-effect time series on a common time axis in hours.

    Parameters
    ----------
    time_h
        Strictly increasing times in hours (0 = first dose).
    occupancy
        ``{target: array}`` of fractions in [0, 1], each the length of ``time_h``.
    effect
        Subjective acute effect in [0, 1], or ``None`` (zero).
    label
        A short description (compound and dose) for outputs.
    """

    time_h: np.ndarray
    occupancy: Mapping[str, np.ndarray] = field(default_factory=dict)
    effect: np.ndarray | None = None
    label: str = ""

    def __post_init__(self) -> None:
        t = np.asarray(self.time_h, dtype=float)
        if t.ndim != 1 or t.size < 2 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
            raise InputError("drive.time_h", "must be a strictly increasing 1-D array of ≥ 2 finite times")
        object.__setattr__(self, "time_h", t)
        occ = {}
        for name, values in self.occupancy.items():
            occ[name] = self._checked(f"drive.occupancy[{name}]", values, t.size)
        object.__setattr__(self, "occupancy", occ)
        if self.effect is not None:
            object.__setattr__(self, "effect", self._checked("drive.effect", self.effect, t.size))

    @staticmethod
    def _checked(field_name: str, values, n: int) -> np.ndarray:
        a = np.asarray(values, dtype=float)
        if a.shape != (n,):
            raise InputError(field_name, f"has shape {a.shape}, expected ({n},) like time_h")
        if not np.all(np.isfinite(a)) or np.any(a < -1e-9) or np.any(a > 1 + 1e-9):
            raise InputError(field_name, "must hold fractions between 0 and 1")
        return np.clip(a, 0.0, 1.0)

    # ------------------------------------------------------------------ access
    def target(self, name: str) -> np.ndarray:
        """Occupancy of ``name`` (zeros when absent)."""
        return self.occupancy.get(name, np.zeros_like(self.time_h))

    def effect_or_zero(self) -> np.ndarray:
        """The acute effect (zeros when absent)."""
        return self.effect if self.effect is not None else np.zeros_like(self.time_h)

    @property
    def end_h(self) -> float:
        return float(self.time_h[-1])

    # ------------------------------------------------------------------ constructors
    @classmethod
    def none(cls, *, hours: float = 1.0) -> Drive:
        """No drug: all inputs zero."""
        return cls(time_h=np.array([0.0, float(hours)]), label="none")

    @classmethod
    def pulse(cls, *, hours: float, dt_h: float = 0.25, tail_h: float = 24.0, label: str = "pulse",
              effect: float = 0.0, **levels: float) -> Drive:
        """A rectangular drive: each input at a constant level for ``hours`` from t = 0.

        Keyword names are targets with ``-``/``.`` replaced by ``_`` (``HT2A_intracellular``
        stands for ``5-HT2A_intracellular``), e.g. ``Drive.pulse(hours=2, TrkB=0.5, effect=0.8)``.
        """
        t = np.arange(0.0, hours + tail_h + dt_h / 2, dt_h)
        on = (t < hours).astype(float)
        occ = {_target_name(k): v * on for k, v in levels.items()}
        return cls(time_h=t, occupancy=occ, effect=effect * on, label=label)

    @classmethod
    def from_acute(cls, ds: xr.Dataset, *, label: str = "") -> Drive:
        """Build a drive from the binding link's result (``time_h``, ``occupancy``, ``effect``).

        When the result carries ``activation`` (pool, time_h), the intracellular 5-HT2A input is
        the intracellular *activation* (availability × agonist efficacy × occupancy) rather than
        the bare occupancy: a partial agonist, a down-regulated receptor (RB8) or a subject with
        fewer receptors signals less from the same occupancy. For a full agonist at full
        availability (psilocin in an untreated subject) the two are identical.
        """
        if "time_h" not in ds.coords or "occupancy" not in ds:
            raise InputError("drive", "acute result needs a 'time_h' coordinate and an 'occupancy' variable")
        occ = ds["occupancy"]
        target_dim = next(d for d in occ.dims if d != "time_h")
        occupancy = {str(k): occ.sel({target_dim: k}).values for k in occ[target_dim].values}
        if "activation" in ds and "intracellular" in ds["activation"].coords.get("pool", []):
            act = ds["activation"].sel(pool="intracellular").values
            occupancy["5-HT2A_intracellular"] = np.clip(act, 0.0, 1.0)
        effect = ds["effect"].values if "effect" in ds else None
        return cls(time_h=ds["time_h"].values, occupancy=occupancy, effect=effect, label=label)

    def shifted(self, offset_h: float) -> Drive:
        """The same drive starting ``offset_h`` later."""
        return Drive(self.time_h + offset_h, self.occupancy, self.effect, self.label)


def _target_name(key: str) -> str:
    aliases = {"HT2A_surface": "5-HT2A_surface", "HT2A_intracellular": "5-HT2A_intracellular"}
    name = aliases.get(key, key)
    if name not in TARGETS:
        raise InputError("drive", f"unknown target {key!r}; known: {list(TARGETS)}")
    return name


def combine(drives: list[Drive]) -> Drive:
    """Combine drives of several compounds given at once (receptor occupancies add, capped at 1).

    Occupancies are combined as independent fractions ``1 − Π(1 − o_i)``; the effect likewise.
    """
    if not drives:
        return Drive.none()
    if len(drives) == 1:
        return drives[0]
    t = np.unique(np.concatenate([d.time_h for d in drives]))
    names = sorted({n for d in drives for n in d.occupancy})

    def por(arrays):
        free = np.ones_like(t)
        for a in arrays:
            free *= 1.0 - a
        return 1.0 - free

    occ = {n: por([_resample(d, d.target(n), t) for d in drives]) for n in names}
    eff = por([_resample(d, d.effect_or_zero(), t) for d in drives])
    return Drive(t, occ, eff, " + ".join(d.label for d in drives))


def _resample(drive: Drive, values: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.interp(t, drive.time_h, values, left=0.0, right=0.0)
