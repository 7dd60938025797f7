"""Checks of the whole-brain network link (REFERENCES NW1, NW6).

Both checks share one session (computed once per process): psilocybin 25 mg, 5-HT2A occupancy
from the pharmacology chain averaged over a scan starting 2 h after the dose, the fitted
coupling G of the dataset (a stored :data:`~psilosim.network.dmf.FITTED_G` value; nothing is
refitted here), and the conditions baseline, receptor map, uniform map and shuffled maps.

FC comes from the linear-noise approximation of the DMF (:mod:`psilosim.network.dmf.linear`):
the *expected* FC of each condition, without sampling noise. A simulated scan of the length a
check can afford (minutes) has a test–retest noise floor several times larger than the drug's
FC change, so per-network rankings from it would be noise; the approximation is what makes a
seconds-long, deterministic check meaningful. Where the noise-free fixed point is unstable at
the fitted G, the largest stable G below it is used and the detail says so.

The dataset is the Schaefer-100 folder with real PET 5-HT2A densities when
``../shared/data/schaefer100`` is present, else the built-in AAL2 with its approximate map.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import xarray as xr

from ..connectome import DMN, Parcellation, load_dataset
from ..connectome.builtin import HT2A
from ..parameters import Param, ParameterSet
from .registry import check


class NetworkCheckParams(ParameterSet):
    """Settings of the network checks (short scans so that ``validate`` stays fast)."""

    dose_mg: Param
    at_hours: Param
    minutes: Param
    n_shuffles: Param
    beat_fraction: Param
    seed: Param


CHECKS = NetworkCheckParams(
    dose_mg=Param(value=25.0, unit="mg", source="Siegel et al. 2024 Nature 632:131", kind="published",
                  note="psilocybin dose of the NW1 study"),
    at_hours=Param(value=2.0, unit="h", source="Siegel et al. 2024 (scan during the acute effect)",
                   kind="assumed", note="near peak psilocin (REFERENCES PK2)"),
    minutes=Param(value=10.0, unit="min", source="psilosim", kind="assumed",
                  note="scan window over which occupancy is averaged"),
    n_shuffles=Param(value=40, unit="", source="psilosim", kind="assumed",
                     note="shuffled receptor maps compared with the real one"),
    beat_fraction=Param(value=0.95, unit="", source="psilosim", kind="assumed",
                        note="the real map must beat this fraction of shuffled maps (a one-sided "
                             "permutation test at 5 %)"),
    seed=Param(value=0, unit="", source="psilosim", kind="assumed", note="noise seed"),
)


def shared_schaefer100() -> Path | None:
    """The Schaefer-100 reference folder if this checkout has ``../shared`` beside it."""
    candidates = [os.environ.get("PSILOSIM_SHARED_DATA", "")]
    candidates += [str(Path(__file__).resolve().parents[3].parent / "shared" / "data"),
                   str(Path.cwd().parent / "shared" / "data")]
    for base in filter(None, candidates):
        folder = Path(base) / "schaefer100"
        if (folder / "regions.csv").exists():
            return folder
    return None


def check_dataset() -> Parcellation:
    folder = shared_schaefer100()
    return load_dataset(folder) if folder is not None else load_dataset("aal2")


@functools.lru_cache(maxsize=1)
def _session() -> tuple[Parcellation, xr.Dataset]:
    from ..network.scan import linear_session, occupancy_window

    parcellation = check_dataset()
    minutes = CHECKS.minutes.to("min")
    start_h = CHECKS.at_hours.to("h")
    occupancy = occupancy_window("psilocybin", f"{CHECKS.dose_mg.to('mg')} mg", start_h, minutes,
                                 seed=int(CHECKS.seed.value))
    mean_occ = float(occupancy.sel(time_h=slice(start_h, start_h + minutes / 60.0)).mean())
    session = linear_session(parcellation, mean_occ, seed=int(CHECKS.seed.value),
                             maps=("receptor", "uniform", "shuffled"),
                             n_shuffles=int(CHECKS.n_shuffles.value))
    return parcellation, session


def _where(parcellation: Parcellation, session: xr.Dataset) -> str:
    g, wanted = session.attrs["coupling"], session.attrs["requested_coupling"]
    at = f"G {g:.4g}" if g == wanted else f"G {g:.4g} (fitted {wanted:.4g} is beyond the linear regime)"
    return f"{parcellation.name}, {at}, occupancy {session.attrs['mean_occupancy']:.2f}"


def _regional_change(session: xr.Dataset, condition: str) -> np.ndarray:
    """Each region's mean |ΔFC| with all others, condition against baseline."""
    delta = np.abs(session["fc"].sel(condition=condition).values - session["fc"].sel(condition="baseline").values)
    np.fill_diagonal(delta, np.nan)
    return np.nanmean(delta, axis=1)


@check("NW1.dmn")
def dmn_most_changed() -> tuple[bool, str]:
    """The default mode network has the largest mean |ΔFC| under the receptor map."""
    from ..network.scan import summarise

    parcellation, session = _session()
    by_net = summarise(session, parcellation, "receptor")["fc_change_by_network"]
    ranking = sorted(by_net, key=by_net.get, reverse=True)
    rank = ranking.index(DMN) + 1
    detail = (f"{_where(parcellation, session)}: DMN rank {rank}/{len(ranking)}; order "
              + ", ".join(f"{n} {by_net[n]:.4f}" for n in ranking))
    return rank == 1, detail


@check("NW6")
def receptor_map_topography() -> tuple[bool, str]:
    """Receptor map vs uniform and shuffled maps (the closest analogue of Deco et al. 2018).

    Without drug imaging data to fit, "beats shuffled maps" is tested as: the real map moves
    whole-brain FC more than the uniform map and than 95 % of maps with the same density values
    in shuffled regions (its alignment with the connectome matters), and "differs from uniform"
    as: the regional pattern of FC change follows the receptor density more closely than under
    the uniform map.
    """
    parcellation, session = _session()
    names = [str(c) for c in session["condition"].values]
    density = parcellation.receptor_map(HT2A).values
    change = {n: _regional_change(session, n) for n in names if n not in ("baseline", "baseline_repeat")}
    shuffled = [float(change[n].mean()) for n in change if n.startswith("shuffled_")]
    real = float(change["receptor"].mean())
    r_real = float(np.corrcoef(change["receptor"], density)[0, 1])
    r_uniform = float(np.corrcoef(change["uniform"], density)[0, 1])
    uniform = float(change["uniform"].mean())
    beaten = float(np.mean(np.asarray(shuffled) < real))
    beats = beaten >= CHECKS.beat_fraction.value and real > uniform
    differs = r_real > r_uniform
    detail = (f"{_where(parcellation, session)}: global |ΔFC| receptor {real:.5f} > {beaten:.0%} of "
              f"{len(shuffled)} shuffled maps (need {CHECKS.beat_fraction.value:.0%}), uniform {uniform:.5f}; "
              f"r(regional change, density) receptor {r_real:.2f} vs uniform {r_uniform:.2f}")
    return beats and differs, detail
