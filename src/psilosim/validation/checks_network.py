"""Checks of the whole-brain network link (REFERENCES NW1, NW5, NW6).

All checks share one session (computed once per process): psilocybin 25 mg, 5-HT2A occupancy
from the pharmacology chain averaged over a scan starting 2 h after the dose, the fitted
coupling G of the dataset (a stored :data:`~psilosim.network.dmf.FITTED_G` value; nothing is
refitted here), and the conditions baseline, receptor map, uniform map and shuffled maps.

NW1.dmn ranks networks by the FC-change measure of Siegel et al. 2024 (the Fisher-z seed-map
distance of each region, averaged over the network's regions: :mod:`psilosim.network.measures`).
NW6 compares the receptor map with the uniform map and with spatially autocorrelated null maps
(variogram-matched surrogates, Burt et al. 2020: :mod:`psilosim.network.nulls`); on a dataset
without centroids (the built-in AAL2) it falls back to permutations and says so.

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
from ..units import MINUTES_PER_HOUR
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
    minutes=Param(value=10.0, unit="min", source="psilosim validation setting", kind="assumed",
                  note="scan window over which occupancy is averaged"),
    n_shuffles=Param(value=40, unit="", source="psilosim validation setting", kind="assumed",
                     note="null receptor maps (variogram-matched, else shuffled) compared with the real one"),
    beat_fraction=Param(value=0.95, unit="", source="psilosim validation setting", kind="assumed",
                        note="the real map must beat this fraction of null maps (a one-sided "
                             "test at 5 %, as for a spin test)"),
    seed=Param(value=0, unit="", source="psilosim validation setting", kind="assumed", note="noise seed"),
)


#: Environment variable naming the folder that holds ``schaefer100/`` (the shared reference data);
#: when set, it is the only place looked at, and an empty value means "use the built-in AAL2".
SHARED_DATA_VARIABLE = "PSILOSIM_SHARED_DATA"


def shared_schaefer100() -> Path | None:
    """The Schaefer-100 reference folder, if there is one: ``$PSILOSIM_SHARED_DATA/schaefer100``
    when the variable is set (empty: none), else ``../shared/data/schaefer100`` beside this
    checkout or beside the working directory. It is not shipped with the package."""
    given = os.environ.get(SHARED_DATA_VARIABLE)
    if given is not None:
        candidates = [given]
    else:
        candidates = [str(Path(__file__).resolve().parents[3].parent / "shared" / "data"),
                      str(Path.cwd().parent / "shared" / "data")]
    for base in filter(None, candidates):
        folder = Path(base) / "schaefer100"
        if (folder / "regions.csv").exists():
            return folder
    return None


#: The targets whose checks run on the connectome session (:func:`_session`, on
#: :func:`check_dataset`'s parcellation): the scorecard rows :func:`network_dataset_note` is about.
CONNECTOME_TARGETS = ("NW1.dmn", "NW5.coupling", "NW6")


def network_dataset_note() -> str:
    """Which parcellation the :data:`CONNECTOME_TARGETS` rows run on, and why (printed with the scorecard)."""
    folder = shared_schaefer100()
    if folder is not None:
        return f"Schaefer-100 reference folder {folder} (real PET 5-HT2A map)"
    given = os.environ.get(SHARED_DATA_VARIABLE)
    if given == "":
        why = f"{SHARED_DATA_VARIABLE} is empty"
    elif given is not None:
        why = f"{SHARED_DATA_VARIABLE}={given} holds no schaefer100/regions.csv"
    else:
        why = (f"no Schaefer-100 reference folder found; set {SHARED_DATA_VARIABLE} to the folder holding "
               "schaefer100/ to run them on it")
    return f"built-in AAL2 (approximate 5-HT2A map): {why}"


def check_dataset() -> Parcellation:
    folder = shared_schaefer100()
    return load_dataset(folder) if folder is not None else load_dataset("aal2")


def null_kind(parcellation: Parcellation) -> str:
    """``variogram`` when the region table has centroids, else ``shuffled``."""
    from ..network.scan import has_centroids

    return "variogram" if has_centroids(parcellation) else "shuffled"


@functools.lru_cache(maxsize=1)
def _session() -> tuple[Parcellation, xr.Dataset]:
    from ..network.scan import linear_session, occupancy_window

    parcellation = check_dataset()
    minutes = CHECKS.minutes.to("min")
    start_h = CHECKS.at_hours.to("h")
    occupancy = occupancy_window("psilocybin", f"{CHECKS.dose_mg.to('mg')} mg", start_h, minutes,
                                 seed=int(CHECKS.seed.value))
    mean_occ = float(occupancy.sel(time_h=slice(start_h, start_h + minutes / MINUTES_PER_HOUR)).mean())
    session = linear_session(parcellation, mean_occ, seed=int(CHECKS.seed.value),
                             maps=("receptor", "uniform", null_kind(parcellation)),
                             n_shuffles=int(CHECKS.n_shuffles.value))
    return parcellation, session


def _where(parcellation: Parcellation, session: xr.Dataset) -> str:
    g, wanted = session.attrs["coupling"], session.attrs["requested_coupling"]
    at = f"G {g:.4g}" if g == wanted else f"G {g:.4g} (fitted {wanted:.4g} is beyond the linear regime)"
    return f"{parcellation.name}, {at}, occupancy {session.attrs['mean_occupancy']:.2f}"


def _fc(session: xr.Dataset, condition: str) -> np.ndarray:
    return session["fc"].sel(condition=condition).values


def _regional_distance(session: xr.Dataset, condition: str) -> xr.DataArray:
    """Each region's Fisher-z seed-map distance, condition against baseline (labelled by region)."""
    from ..network.measures import region_fc_distance

    fc = session["fc"]
    return region_fc_distance(fc.sel(condition=condition), fc.sel(condition="baseline"))


@check("NW1.dmn", known_conflict="the DMF's drug effect is a near-global desynchronisation whose "
       "regional size follows structural in-strength, not 5-HT2A density (Schaefer-100: r 0.94 vs "
       "0.15), so the most strongly connected networks change most, not the DMN; see docs/network.md#nw1-dmn")
def dmn_most_changed() -> tuple[bool, str]:
    """The DMN has the largest FC change (Siegel et al. 2024 seed-map distance) under the drug."""
    from ..network.measures import network_fc_distance, within_network_change

    parcellation, session = _session()
    by_net = network_fc_distance(_fc(session, "receptor"), _fc(session, "baseline"), parcellation)
    ranking = sorted(by_net, key=by_net.get, reverse=True)
    rank = ranking.index(DMN) + 1
    within = within_network_change(_fc(session, "receptor"), _fc(session, "baseline"), parcellation)
    by_within = sorted(within, key=within.get)
    detail = (f"{_where(parcellation, session)}: DMN rank {rank}/{len(ranking)} by seed-map distance; "
              + ", ".join(f"{n} {by_net[n]:.4f}" for n in ranking)
              + " | within-network FC change (most negative first): "
              + ", ".join(f"{n} {within[n]:+.4f}" for n in by_within))
    return rank == 1, detail


def map_statistics(parcellation: Parcellation, session: xr.Dataset) -> dict[str, float]:
    """The numbers behind NW6 (see :func:`receptor_map_topography`)."""
    names = [str(c) for c in session["condition"].values]
    nulls = [n for n in names if n.startswith(("variogram_", "shuffled_"))]
    null_maps = _null_densities(parcellation, session, nulls)
    density = parcellation.receptor_map(HT2A).values
    real = _regional_distance(session, "receptor")
    uniform = _regional_distance(session, "uniform")
    topo = real - uniform  # what the map's topography adds to the regional change
    r_real = float(np.corrcoef(topo, density)[0, 1])
    r_null = np.array([np.corrcoef(topo, m)[0, 1] for m in null_maps])
    null_global = np.array([float(_regional_distance(session, n).mean()) for n in nulls])
    return {
        "global_receptor": float(real.mean()), "global_uniform": float(uniform.mean()),
        "beaten_fraction": float(np.mean(null_global < float(real.mean()))),
        "r_topography_density": r_real,
        "topography_p": float((1 + np.sum(np.abs(r_null) >= abs(r_real))) / (1 + len(r_null))),
        "r_pattern_receptor_uniform": float(np.corrcoef(real, uniform)[0, 1]),
        "n_nulls": float(len(nulls)),
    }


def _null_densities(parcellation: Parcellation, session: xr.Dataset, nulls: list[str]) -> list[np.ndarray]:
    """Regenerate the null maps of the session (they are deterministic for the seed)."""
    from ..network.scan import conditions

    kind = nulls[0].split("_")[0] if nulls else "shuffled"
    conds = conditions(parcellation, int(CHECKS.seed.value), maps=(kind,), n_shuffles=len(nulls))
    by_name = {c.name: c.density for c in conds}
    return [by_name[n] for n in nulls]


#: NW6 is a known conflict on the Schaefer-100 folder (real PET map, spatial nulls); on the built-in
#: AAL2 fallback (approximate map, permutation nulls only: no centroids) it passes, so the conflict
#: is declared only where it applies.
NW6_CONFLICT = ("the real 5-HT2A map moves whole-brain FC no more than spatially autocorrelated null "
                "maps of the same values (the topography test passes); see docs/network.md#nw6")


@check("NW6", known_conflict=NW6_CONFLICT if shared_schaefer100() is not None else None)
def receptor_map_topography() -> tuple[bool, str]:
    """Receptor map vs uniform and null maps (the closest analogue of Deco et al. 2018).

    Deco et al. 2018 had LSD imaging data and showed that the receptor-weighted gain *fits* it
    better than shuffled maps. psilosim has no psilocybin FC to fit, so NW6 is tested on what
    the model can say without it, with nulls that keep the map's spatial autocorrelation:

    * topography — the regional FC change that the receptor map adds to a uniform map of the
      same total gain (regional seed-map distance, receptor − uniform) follows the receptor
      density, more than it follows 95 % of variogram-matched null maps (a spatial-null test of a
      map correlation, Alexander-Bloch et al. 2018; Burt et al. 2020): the issue's minimum, "a
      different topography from the uniform map";
    * magnitude — the real map changes whole-brain FC more than 95 % of the null maps (its
      alignment with the connectome matters), the closest analogue of "beats shuffled maps".
    """
    parcellation, session = _session()
    st = map_statistics(parcellation, session)
    kind = "variogram-matched" if any(str(c).startswith("variogram_") for c in session["condition"].values) \
        else "shuffled (no centroids for spatial nulls)"
    topography = st["r_topography_density"] > 0 and st["topography_p"] < 1 - CHECKS.beat_fraction.value
    beats = st["beaten_fraction"] >= CHECKS.beat_fraction.value and st["global_receptor"] > st["global_uniform"]
    detail = (f"{_where(parcellation, session)}; {int(st['n_nulls'])} {kind} null maps. "
              f"Topography: r(receptor − uniform regional change, density) {st['r_topography_density']:.2f}, "
              f"spatial-null p {st['topography_p']:.3f} ({'ok' if topography else 'FAIL'}); "
              f"r(regional change receptor, uniform) {st['r_pattern_receptor_uniform']:.3f}. "
              f"Magnitude: global seed-map distance receptor {st['global_receptor']:.5f} > "
              f"{st['beaten_fraction']:.0%} of nulls (need {CHECKS.beat_fraction.value:.0%}), "
              f"uniform {st['global_uniform']:.5f} ({'ok' if beats else 'FAIL'})")
    return topography and beats, detail


@check("NW5.coupling")
def mpfc_pcc_decoupling() -> tuple[bool, str]:
    """mPFC–PCC FC falls in the acute drug state (Carhart-Harris et al. 2012, IV psilocybin).

    The same session as NW1.dmn/NW6 (oral 25 mg at 2 h, expected FC), so it checks the direction
    only. mPFC and PCC are the regions nearest Fox et al. 2005's seeds (by centroid, else by
    label: :func:`psilosim.metrics.networks.dmn_seed_mask`). The other half of REFERENCES NW5,
    CBF/BOLD decreases largest in hubs (``NW5.cbf``), is not modelled (no validated
    neurovascular coupling).
    """
    from ..metrics.networks import dmn_seed_mask, seed_pair_fc

    parcellation, session = _session()
    regions = parcellation.regions
    before = seed_pair_fc(session["fc"].sel(condition="baseline"), regions)
    after = seed_pair_fc(session["fc"].sel(condition="receptor"), regions)
    names = {s: ", ".join(np.asarray(parcellation.labels)[dmn_seed_mask(regions, s)]) for s in ("mPFC", "PCC")}
    detail = (f"{_where(parcellation, session)}: mPFC–PCC FC {before:.3f} → {after:.3f} "
              f"(mPFC: {names['mPFC']}; PCC: {names['PCC']})")
    return bool(after < before), detail
