"""Discovery of parameter sets and a table of cheap component runs for ``test_conformance.py``.

Each :class:`Component` runs one link of the chain twice over: at rest (no drug, no dose, no drive)
and with a drug, on tiny inputs (an eight-region brain, a few days, a few seconds of network time)
so the whole conformance suite stays fast.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

import psilosim
from psilosim.binding import ACUTE_RESOLUTION
from psilosim.parameters import ParameterSet

# ----------------------------------------------------------------------------- parameter sets


def _candidates(value) -> list[tuple[str, object]]:
    """``value`` itself, or the items of a module-level dict / tuple / list (with their key)."""
    if isinstance(value, dict):
        return [(f"[{key!r}]", item) for key, item in value.items()]
    if isinstance(value, (list, tuple)):
        return [(f"[{i}]", item) for i, item in enumerate(value)]
    return [("", value)]


def _import_all() -> list:
    """Every psilosim module, imported."""
    return [importlib.import_module(info.name)
            for info in pkgutil.walk_packages(psilosim.__path__, "psilosim.")]


def _module_sets() -> dict[int, tuple[str, ParameterSet]]:
    """Module-level ParameterSets of every psilosim module, by identity.

    A set re-exported by several modules is named after the module that defines its class when
    that module holds it, else after the deepest module that does (``binding.params.EFFECT_PARAMS``
    rather than ``binding.EFFECT_PARAMS``).
    """
    found: dict[int, list[str]] = {}
    objects: dict[int, ParameterSet] = {}
    for module in _import_all():
        info_name = module.__name__
        for name, value in vars(module).items():
            for suffix, item in _candidates(value):
                if isinstance(item, ParameterSet):
                    found.setdefault(id(item), []).append(f"{info_name}.{name}{suffix}")
                    objects[id(item)] = item
    out = {}
    for key, names in found.items():
        home = type(objects[key]).__module__
        names.sort(key=lambda n: (not n.startswith(home + "."), -n.count("."), n))
        out[key] = (names[0].removeprefix("psilosim."), objects[key])
    return out


def _compound_sets() -> dict[int, tuple[str, ParameterSet]]:
    """Every compound of the built-in library (its params() include PK per species and binding)."""
    from psilosim.compounds import get_compound, known_compounds

    return {id(c): (f"compound:{c.name}", c) for c in map(get_compound, known_compounds())}


def _species_builder_sets() -> dict[int, tuple[str, ParameterSet]]:
    """Cellular sets built per species by a function rather than held at module level."""
    from psilosim.plasticity import plasticity_params
    from psilosim.species import SPECIES
    from psilosim.synapses import spine_params

    out = {}
    for species in SPECIES:
        for link, build in (("plasticity", plasticity_params), ("spines", spine_params)):
            s = build(species)
            out[id(s)] = (f"{link}:{species}", s)
    return out


def discover_parameter_sets() -> dict[str, ParameterSet]:
    """All parameter sets the package defines, by readable id, deduplicated by identity.

    Compounds come first so that the compound registry's own dict (a module-level dict too)
    does not name them.
    """
    merged: dict[int, tuple[str, ParameterSet]] = {}
    for source in (_compound_sets(), _species_builder_sets(), _module_sets()):
        for key, entry in source.items():
            merged.setdefault(key, entry)
    return {name: s for name, s in sorted(merged.values(), key=lambda e: e[0])}


def nested_sets(sets: dict[str, ParameterSet]) -> dict[str, ParameterSet]:
    """Every ParameterSet held inside a discovered one (a compound's PK sets, routes, bindings...).

    Walks pydantic fields, dicts, lists and tuples recursively, so a set nested at any depth goes
    through the set-level checks too (its Params are already in the outer set's ``params()``).
    """
    out: dict[str, ParameterSet] = {}
    seen = {id(s) for s in sets.values()}

    def walk(value, path: str) -> None:
        if isinstance(value, ParameterSet) and path not in sets:
            if id(value) in seen:
                return
            seen.add(id(value))
            out[path] = value
        if isinstance(value, dict):
            items = [(f"{path}.{key}", item) for key, item in value.items()]
        elif isinstance(value, (list, tuple)):
            items = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
        else:  # a pydantic model (a ParameterSet, a Compound...) or a leaf without fields
            items = [(f"{path}.{field}", getattr(value, field)) for field in getattr(type(value), "model_fields", {})]
        for item_path, item in items:
            walk(item, item_path)

    for name, s in sets.items():
        walk(s, name)
    return out


def parameter_set_classes() -> set[type]:
    """Every ParameterSet subclass defined in a psilosim module (all modules imported first)."""
    _import_all()
    found, todo = set(), [ParameterSet]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return {c for c in found if c.__module__.startswith("psilosim.")}


# ----------------------------------------------------------------------------- components
SMALL_REGIONS = [f"R{i}" for i in range(8)]
#: Hours / days of the tiny runs; the rest run's dose falls after the end of the run.
ACUTE_HOURS = 24.0
#: Output step of the acute components: the acute chain's internal step, so peaks read from the
#: output are not sampled (a coarser step warns: CoarseOutputStepWarning).
ACUTE_STEP_H = ACUTE_RESOLUTION.max_internal_step.to("h")
SLOW_DAYS = 14.0
NETWORK_SECONDS = 4.0
DRUG = ("psilocybin", "25 mg")
SPECIES = "human"
#: Occupancy used by the network runs with a drug (a fraction in the range of 5-HT2A PET, RB1).
NETWORK_OCCUPANCY = 0.5
#: Global coupling of the tiny network runs (weak: the FIC fixed point is stable).
COUPLING = 0.3


def small_brain():
    """Eight regions (four in the DMN), distance-decaying symmetric connectivity."""
    from psilosim.connectome import Parcellation, labelled_matrix

    n = len(SMALL_REGIONS)
    regions = pd.DataFrame({"hemisphere": ["L"] * n, "network": ["Default"] * 4 + ["SomMot"] * 4},
                           index=pd.Index(SMALL_REGIONS, name="label"))
    pos = np.arange(n, dtype=float)
    sc = np.exp(-np.abs(pos[:, None] - pos[None, :]) / 2.0)
    np.fill_diagonal(sc, 0.0)
    sc /= sc.sum(axis=1).max()   # in-strength ≤ 1, far from the DMF's high-activity branch
    return Parcellation(name="conformance8", regions=regions, sc=labelled_matrix(sc, SMALL_REGIONS, "sc"))


def _regimen(drug: bool):
    from psilosim.regimen import Regimen

    # At rest the only dose comes after the simulated period: the input is the same object type,
    # only its timing keeps the drug out of the run.
    at = "0 h" if drug else f"{2 * SLOW_DAYS * 24:g} h"
    return Regimen.single(DRUG[1], at=at)


def run_pk(drug: bool, seed: int = 1) -> xr.Dataset:
    from psilosim.pharmacokinetics import simulate_pk

    return simulate_pk(DRUG[0], _regimen(drug), t_end_h=ACUTE_HOURS, dt_h=ACUTE_STEP_H, seed=seed)


def run_acute(drug: bool, seed: int = 1) -> xr.Dataset:
    from psilosim.binding import simulate_acute

    return simulate_acute([(DRUG[0], _regimen(drug))], t_end_h=ACUTE_HOURS, dt_h=ACUTE_STEP_H, seed=seed)


def _drive(drug: bool):
    from psilosim.plasticity import Drive

    return Drive.from_acute(run_acute(True), label="psilocybin") if drug else Drive.none()


def run_plasticity(drug: bool, seed: int | None = None) -> xr.Dataset:
    from psilosim.plasticity import simulate_plasticity

    return simulate_plasticity(_drive(drug), species=SPECIES, days=SLOW_DAYS)


def run_spines(drug: bool, seed: int = 1) -> xr.Dataset:
    from psilosim.synapses import simulate_slow_chain

    treatments = [(DRUG[0], _regimen(True))] if drug else []
    return simulate_slow_chain(treatments, species=SPECIES, days=SLOW_DAYS, regions=SMALL_REGIONS[:3],
                               stochastic=True, replicates=2, seed=seed)


def _density() -> np.ndarray:
    """A receptor map over the small brain, 0–1 (the shape of a normalised PET map)."""
    return np.linspace(0.2, 1.0, len(SMALL_REGIONS))


def run_dmf(drug: bool, seed: int = 1, *, occupancy: float = NETWORK_OCCUPANCY) -> xr.Dataset:
    """With the drug: noisy run at ``occupancy`` (0 gives the same noise without a gain change).
    At rest: the noise-free working point (noise is not a drug; it would blur the steady state)."""
    from psilosim.network.dmf import DMF, DMFModel
    from psilosim.network.scan import gain_from

    brain = small_brain()
    if drug:
        return DMFModel(brain.sc).simulate(NETWORK_SECONDS, coupling=COUPLING, seed=seed, warmup_s=0.0,
                                           gain=gain_from(_density(), occupancy))
    return DMFModel(brain.sc, params=DMF.replace(sigma=0.0)).simulate(
        NETWORK_SECONDS, coupling=COUPLING, seed=seed, warmup_s=0.0)


def run_hopf(drug: bool, seed: int = 1, *, occupancy: float = NETWORK_OCCUPANCY) -> xr.DataArray:
    """Noisy run with the drug's bifurcation shift at ``occupancy`` (0: none). No rest run: the
    model starts at z = 0, so a noise-free run stays there whatever its parameters (untestable)."""
    from psilosim.network.hopf import HopfModel

    brain = small_brain()
    model = HopfModel(brain.sc)
    a = model.bifurcation(_density(), occupancy) if drug else None
    return model.simulate(NETWORK_SECONDS * 5, coupling=COUPLING, seed=seed, warmup_s=2.0, a=a)


def run_bold(drug: bool, seed: int | None = None) -> xr.DataArray:
    """The balloon driven by a brief neural pulse (the "drug" run: its labelled impulse response)
    or by no drive at all (rest), through the same integrator. Noise-free: ``seed`` is unused."""
    from psilosim.network.bold import bold_from_drive, impulse_response

    response = impulse_response(duration_s=20.0, dt_s=1e-3)
    if drug:
        return response
    return response.copy(data=bold_from_drive(np.zeros((1, response.size)), 1e-3)[0])


def bold_rest(out: xr.DataArray) -> dict:
    """No neural drive: the balloon stays at its resting state, BOLD 0."""
    return {"bold": (out.values, 0.0)}


def run_rewiring(drug: bool, seed: int | None = None) -> xr.DataArray:
    from psilosim.clinical.biology import from_dataset
    from psilosim.rewiring import RewiringModel, patient_network
    from psilosim.synapses import simulate_slow_chain
    from psilosim.synapses.chain import acute_drive

    treatments = [(DRUG[0], _regimen(True))] if drug else []
    chain = simulate_slow_chain(treatments, species=SPECIES, days=SLOW_DAYS)
    bio = from_dataset(chain)
    if drug:
        bio = dataclasses.replace(bio, drive=acute_drive(treatments, species=SPECIES, days=SLOW_DAYS))
    model = RewiringModel(small_brain())
    return patient_network(model, bio, "supportive", [0.0, SLOW_DAYS / 2, SLOW_DAYS]).weights


# ----------------------------------------------------------------------------- rest values
# Each function maps a rest run's output to {what: (actual values, expected rest value)}; every
# expected value is a definition of the model (a relative level of 1, no drug = no occupancy) or
# is read from the package's own parameter sets, never from a printed output.

def _named(out, names, value) -> dict:
    return {name: (out[name], value) for name in names}


def pk_rest(out) -> dict:
    return _named(out, ("concentration", "effect_site_concentration"), 0.0)


def acute_rest(out) -> dict:
    return {
        **pk_rest(out),
        **_named(out, ("occupancy", "serotonin_occupancy", "activation", "effect"), 0.0),
        # 5-HT2A availability: 1 = no down-regulation (psilosim.binding.model._availability)
        "receptor_availability": (out["receptor_availability"], 1.0),
    }


def plasticity_rest(out) -> dict:
    # bdnf_rel is relative to baseline (1); the other signals are excursions above rest (0)
    return {
        "bdnf_rel": (out["bdnf_rel"], 1.0),
        **_named(out, ("trkb_signal", "ssri_route", "engagement", "window_memory_h", "window",
                       "route_input"), 0.0),
    }


def spines_rest(out) -> dict:
    from psilosim.synapses import spine_params

    p = spine_params(SPECIES)
    phi = p.labile_fraction.value
    after_start = {"time_d": slice(1, None)}  # fluxes are over the step ending at each point
    return {
        **plasticity_rest(out),
        **_named(out, ("density_rel", "density_by_connection", "head_width_rel"), 1.0),
        **_named(out, ("born", "consolidated", "consolidated_by_connection", "stress"), 0.0),
        "labile": (out["labile"], phi),
        "persistent": (out["persistent"], 1.0 - phi),
        "formation_rate": (out["formation_rate"].isel(after_start), p.baseline_formation_rate),
        "elimination_rate": (out["elimination_rate"].isel(after_start), p.baseline_formation_rate),
    }


def dmf_rest(out) -> dict:
    from psilosim.network.dmf import DMF

    # FIC puts every region at the target rate; BOLD is driven by the rate's excursion from it
    return {"rate": (out["rate"], DMF.target_rate.to("Hz")), "bold": (out["bold"], 0.0)}


def rewiring_rest(out) -> dict:
    from psilosim.rewiring import RewiringModel

    untreated = RewiringModel(small_brain()).untreated
    return {"sc": (out, np.broadcast_to(untreated, out.shape))}


# ----------------------------------------------------------------------------- bounds
NON_NEGATIVE = (0.0, None)
FRACTION = (0.0, 1.0)
PK_BOUNDS = {"concentration": NON_NEGATIVE, "effect_site_concentration": NON_NEGATIVE}
ACUTE_BOUNDS = {**PK_BOUNDS, "occupancy": FRACTION, "serotonin_occupancy": FRACTION, "activation": FRACTION,
                "receptor_availability": FRACTION, "effect": FRACTION}
PLASTICITY_BOUNDS = {"bdnf_rel": NON_NEGATIVE, "engagement": FRACTION, "window": FRACTION,
                     "window_memory_h": NON_NEGATIVE, "route_input": NON_NEGATIVE}
SPINE_BOUNDS = {**PLASTICITY_BOUNDS, **{name: NON_NEGATIVE for name in (
    "density_rel", "density_by_connection", "pools", "labile", "born", "persistent", "consolidated",
    "formation_rate", "elimination_rate", "head_width_rel", "spine_count")}}


@dataclass(frozen=True)
class Component:
    """One link's conformance entry.

    Attributes
    ----------
    name
        Test id.
    run
        ``run(drug, seed)`` → the link's xarray output.
    rest
        ``rest(output)`` → ``{what: (values, expected)}`` at rest; ``None`` when the link has no
        "no input" run of its own.
    bounds
        ``{variable: (low, high)}`` that must hold with the drug (``None``: unbounded side).
    seeded
        The output depends on a seed (random effects, noise, stochastic spines).
    regions
        Region labels any region dimension must carry (empty: the link has no regions).
    """

    name: str
    run: Callable
    rest: Callable | None
    bounds: dict = field(default_factory=dict)
    seeded: bool = False
    regions: tuple[str, ...] = ()


COMPONENTS = (
    Component("pk", run_pk, pk_rest, PK_BOUNDS, seeded=True),
    Component("binding", run_acute, acute_rest, ACUTE_BOUNDS, seeded=True),
    Component("plasticity", run_plasticity, plasticity_rest, PLASTICITY_BOUNDS),
    Component("spines", run_spines, spines_rest, SPINE_BOUNDS, seeded=True, regions=tuple(SMALL_REGIONS[:3])),
    Component("dmf", run_dmf, dmf_rest, {"rate": NON_NEGATIVE}, seeded=True, regions=tuple(SMALL_REGIONS)),
    Component("hopf", run_hopf, None, seeded=True, regions=tuple(SMALL_REGIONS)),
    Component("bold", run_bold, bold_rest),
    Component("rewiring", run_rewiring, rewiring_rest, {"sc": NON_NEGATIVE}, regions=tuple(SMALL_REGIONS)),
)
