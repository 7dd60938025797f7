"""Discovery of parameter sets and a table of cheap component runs for ``test_conformance.py``.

Each :class:`Component` runs one link of the chain (DESIGN.md links 1–8) or one public entry point
(scan, linear and acute sessions, LinearDMF, the variogram nulls, metrics, a patient, a trial, a
scenario) twice over: at rest (no drug, no dose, no drive) and with a drug, on tiny inputs (an
eight- or ten-region brain, a few days, a few seconds of network time, a two-week trial of three
patients) so the whole conformance suite stays fast. Where a rest check does not apply, the
component's entry in :data:`COMPONENTS` says why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from psilosim.binding import ACUTE_RESOLUTION
from psilosim.connectome.builtin import HT2A
from psilosim.parameters import ParameterSet, all_parameter_sets, import_all_modules

# ----------------------------------------------------------------------------- parameter sets


#: Discovery lives in the package (``psilosim params`` lists the same sets): the module-path names,
#: ``compound:<name>`` and ``<link>:<species>``.
discover_parameter_sets = all_parameter_sets


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
    import_all_modules()
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
    return Parcellation(name="conformance8", regions=regions, sc=labelled_matrix(sc, SMALL_REGIONS, name="sc"))


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
    """Noisy run with the drug's bifurcation shift at ``occupancy`` (0: none); at rest the same
    drug path at zero occupancy. ``attrs["seed"]`` records the seed so that :func:`hopf_rest` can
    rebuild the same noise without any drug (a noise-free run cannot serve: the model starts at
    z = 0, the fixed point, and stays there with or without a drug)."""
    from psilosim.network.hopf import HopfModel

    brain = small_brain()
    model = HopfModel(brain.sc)
    a = model.bifurcation(density=_density(), occupancy=occupancy if drug else 0.0)
    out = model.simulate(NETWORK_SECONDS * 5, coupling=COUPLING, seed=seed, warmup_s=2.0, a=a)
    return out.assign_attrs(seed=seed)


def _hopf_without_drug(seed: int) -> xr.DataArray:
    """The Hopf run with the model's own bifurcation parameter (no density, no occupancy)."""
    from psilosim.network.hopf import HopfModel

    return HopfModel(small_brain().sc).simulate(NETWORK_SECONDS * 5, coupling=COUPLING, seed=seed, warmup_s=2.0)


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


# ---- network entry points (link 6) and metrics (link 7) on a brain with a receptor map
#: Regions of the mapped brain: at least VARIOGRAM's 10 (the variogram nulls refuse fewer), one of
#: them hippocampal so that every measure of ``metrics.analyze`` is defined (``hippocampus_dmn`` is
#: NaN without a hippocampus).
MAPPED_REGIONS = [f"M{i}" for i in range(9)] + ["M9_hippocampus"]
#: Scan length of the tiny sessions: 6 TRs of 2 s (the warm-up, 20 s, dominates the run time).
SCAN_MINUTES = 0.2
#: The metrics' input: two minutes of a Hopf network's x sampled every 2 s (x is the BOLD
#: proxy of Hopf whole-brain models), so that the default 60 s sliding windows (20 s steps) give
#: several windows at a fraction of a DMF scan's cost.
METRICS_SECONDS = 120.0
METRICS_TR_S = 2.0
METRICS_WARMUP_S = 10.0
#: The conditions of the tiny sessions: the receptor map and the uniform map (no null maps: they
#: are the variogram component's).
SCAN_MAPS = ("receptor", "uniform")
#: Surrogate maps drawn by the variogram component.
N_NULL_MAPS = 3


def mapped_brain():
    """Ten regions on a line (MNI x every 10 mm), distance-decaying SC and a 5-HT2A map (0.2–1)."""
    from psilosim.connectome import Parcellation, labelled_matrix

    n = len(MAPPED_REGIONS)
    pos = np.arange(n, dtype=float)
    regions = pd.DataFrame({"hemisphere": ["L"] * n, "network": ["Default"] * (n // 2) + ["SomMot"] * (n - n // 2),
                            "x_mni": 10.0 * pos, "y_mni": np.zeros(n), "z_mni": np.zeros(n)},
                           index=pd.Index(MAPPED_REGIONS, name="label"))
    sc = np.exp(-np.abs(pos[:, None] - pos[None, :]) / 2.0)
    np.fill_diagonal(sc, 0.0)
    sc /= sc.sum(axis=1).max()
    receptors = xr.DataArray(np.linspace(0.2, 1.0, n)[:, None], dims=("region", "receptor"),
                             coords={"region": MAPPED_REGIONS, "receptor": [HT2A]})
    return Parcellation(name="conformance10", regions=regions, sc=labelled_matrix(sc, MAPPED_REGIONS, name="sc"),
                        receptors=receptors)


def _occupancy(drug: bool) -> float:
    return NETWORK_OCCUPANCY if drug else 0.0


def run_linear_dmf(drug: bool, seed: int | None = None) -> xr.Dataset:
    """``LinearDMF`` FC and fixed-point rates with the receptor gain (zero occupancy at rest).
    Noise-free by construction (linear-noise approximation): ``seed`` is unused."""
    from psilosim.network.dmf import DMFModel
    from psilosim.network.dmf.linear import LinearDMF
    from psilosim.network.scan import gain_from

    lin = LinearDMF(DMFModel(small_brain().sc), COUPLING)
    gain = gain_from(_density(), _occupancy(drug))
    return xr.Dataset({"fc": lin.fc(gain=gain), "rate": lin.rates(gain=gain)})


def run_scan_session(drug: bool, seed: int = 1) -> xr.Dataset:
    from psilosim.network.scan import scan_session

    return scan_session(mapped_brain(), _occupancy(drug), minutes=SCAN_MINUTES, seed=seed, maps=SCAN_MAPS,
                        coupling=COUPLING, sessions=1)


def run_linear_session(drug: bool, seed: int = 1) -> xr.Dataset:
    """The seed draws only null maps, and these conditions have none: not ``seeded``."""
    from psilosim.network.scan import linear_session

    return linear_session(mapped_brain(), _occupancy(drug), seed=seed, maps=SCAN_MAPS, coupling=COUPLING)


def _acute_session(state: str) -> Callable:
    def run(drug: bool, seed: int = 1) -> xr.Dataset:
        from psilosim.network.acute import acute_session

        return acute_session(mapped_brain(), _occupancy(drug), acute_state=state, seed=seed, maps=SCAN_MAPS)

    run.__name__ = f"run_acute_session_{state}"
    return run


def run_variogram_nulls(drug: bool, seed: int = 1) -> xr.DataArray:
    """Surrogates of the receptor map drawn by ``VariogramNulls``, labelled by the scan module's
    ``variogram_maps`` (``VariogramNulls.draw`` itself takes and returns bare arrays: values and a
    distance matrix in, maps × regions out). No drug enters a null map: ``drug`` is unused."""
    from psilosim.network.scan import variogram_maps

    return variogram_maps(mapped_brain(), N_NULL_MAPS, seed=seed)


def _metrics_input(occupancy: float, seed: int) -> xr.DataArray:
    """A "receptor" and a "uniform" recording: the Hopf network with the drug's bifurcation shift
    weighted by the receptor map or by its mean, both driven by the same noise (so at zero
    occupancy they are one recording twice). The input of link 7, not the component under test."""
    from psilosim.network.hopf import HopfModel

    brain = mapped_brain()
    density = brain.receptor_map(HT2A).values
    model = HopfModel(brain.sc)
    a = np.stack([model.bifurcation(density=density, occupancy=occupancy), model.bifurcation(density=np.full_like(density, density.mean()),
                                                                          occupancy=occupancy)])
    x = model.simulate(METRICS_SECONDS, coupling=COUPLING, a=a, seed=[seed, seed], tr_s=METRICS_TR_S,
                       warmup_s=METRICS_WARMUP_S)
    return x.rename(member="condition").assign_coords(condition=["receptor", "uniform"])


def run_metrics(drug: bool, seed: int = 1) -> xr.Dataset:
    """``metrics.analyze`` of the receptor recording (the seed draws the network's noise and the
    community detection's runs)."""
    from psilosim.metrics import analyze

    bold = _metrics_input(_occupancy(drug), seed).sel(condition="receptor", drop=True)
    return analyze(bold, mapped_brain().regions, seed=seed)


def run_metrics_compare(drug: bool, seed: int = 1) -> xr.Dataset:
    """``metrics.compare`` of the uniform recording (before) with the receptor recording (after):
    the two differ only by where the drug's shift falls."""
    from psilosim.metrics import compare

    bold = _metrics_input(_occupancy(drug), seed)
    return compare(bold.sel(condition="uniform", drop=True), bold.sel(condition="receptor", drop=True),
                   mapped_brain().regions, seed=seed)


# ---- clinical outcome (link 8) and the scenario runner
#: A two-week trial rated at days 0, 7 and 14 on a coarse grid (half days) to stay fast.
TRIAL_VISITS = [0.0, 7.0, 14.0]
TRIAL_GRID_STEP_D = 0.5
TRIAL_PATIENTS = 3
#: Biology measures of a trial that must stay at rest without a drug. The score and the latent
#: severity are left out on purpose: the symptom model moves them without any drug (everyday
#: experience, placebo, the patient's fluctuation, rating noise; psilosim.clinical.symptoms).
TRIAL_REST_MEASURES = ("window", "density_rel", "bdnf_rel", "stable_rel")


def trial_design(drug: bool):
    """One arm, psilocybin 25 mg on day 0 or nothing; no therapy, no setting, no expectancy, so
    that nothing but the drug acts on the biology."""
    from psilosim.clinical.design import design_from_dict

    treatments = [{"compound": DRUG[0], "regimen": {"phases": [{"dose": DRUG[1]}]}}] if drug else []
    return design_from_dict({
        "name": "conformance", "scale": "MADRS", "visits": TRIAL_VISITS, "primary_day": TRIAL_VISITS[-1],
        "arms": [{"name": "arm", "treatments": treatments, "therapy": False, "environment": "none",
                  "expectancy": 0.0}],
        "baseline": {"scale": "MADRS", "mean": 30.0, "sd": 5.0}, "grid_step_d": TRIAL_GRID_STEP_D,
    })


def run_clinical_patient(drug: bool, seed: int = 1) -> xr.Dataset:
    """One patient (``simulate_patient`` through ``simulate_chunk``, its labelled form: a bare
    ``simulate_patient`` returns a ``PatientOutcome`` of arrays)."""
    from psilosim.clinical.trial import simulate_chunk

    return simulate_chunk(trial_design(drug), seed, 0, 1)


def run_clinical_trial(drug: bool, seed: int = 1) -> xr.Dataset:
    from psilosim.clinical import run_trial

    return run_trial(trial_design(drug), n_patients=TRIAL_PATIENTS, seed=seed, backend="sync")


#: Scenario runs: 12 h at 5 min; at rest the only dose falls in the last hour (a scenario refuses
#: a dose after its end), and the rest check reads the hours before it.
SCENARIO_HOURS = 12
SCENARIO_REST_DOSE_H = 11


def run_scenario(drug: bool, seed: int = 1) -> xr.Dataset:
    """``simulate_scenario`` for two variable subjects (the seed draws their PK)."""
    from psilosim.scenario import parse_scenario, simulate_scenario

    start = 0 if drug else SCENARIO_REST_DOSE_H
    text = f"""
name: conformance
seed: {seed}
treatments:
  - compound: {DRUG[0]}
    regimen: {{route: oral, phases: [{{dose: {DRUG[1]}, start: {start} h}}]}}
population: {{size: 2, variability: true}}
simulation: {{duration: {SCENARIO_HOURS} h, step: 5 min, method: analytic}}
"""
    return simulate_scenario(parse_scenario(text, source="conformance"))


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


def hopf_rest(out) -> dict:
    # the drug path at zero occupancy is the model without a drug, noise for noise
    return {"x": (out, _hopf_without_drug(out.attrs["seed"]).values)}


def linear_dmf_rest(out) -> dict:
    from psilosim.network.dmf import DMF, DMFModel
    from psilosim.network.dmf.linear import LinearDMF

    # gain 1 everywhere is the baseline FC; the closed-form FIC puts every rate at the target
    baseline = LinearDMF(DMFModel(small_brain().sc), COUPLING).fc()
    return {"fc": (out["fc"], baseline.values), "rate": (out["rate"], DMF.target_rate.to("Hz"))}


def _same_as(out, reference: str, conditions) -> dict:
    """Every variable of each condition equals the ``reference`` condition's (a map without a
    drug is no map: gain 1 in every region)."""
    return {f"{name}[{c}]": (out[name].sel(condition=c), out[name].sel(condition=reference).values)
            for name in out.data_vars if "condition" in out[name].dims for c in conditions}


def scan_rest(out) -> dict:
    # the map conditions share their noise streams, so with no drug they are the same scan; the
    # baselines have streams of their own (their difference is the noise floor, not a drug)
    return _same_as(out, "uniform", ["receptor"])


def linear_session_rest(out) -> dict:
    # deterministic: every condition is the baseline when no drug changes a gain or a current
    return _same_as(out, "baseline", ["baseline_repeat", *SCAN_MAPS])


def metrics_compare_rest(out) -> dict:
    # the same recording before and after: every change and every desynchronisation is 0
    scalars = [name for name in out.data_vars if out[name].ndim == 0]
    return {"scalars": (np.array([out[name].item() for name in scalars]), 0.0),
            **_named(out, [name for name in out.data_vars if name not in scalars], 0.0)}


def trial_rest(out) -> dict:
    """Biology at rest, per patient: no window, baseline BDNF, the spine deficit of the patient's
    stress (density 1 − deficit) held, persistent spines held at their day-0 level."""
    deficit = out["stress_deficit"].values
    expected = {"window": lambda first: 0.0, "bdnf_rel": lambda first: 1.0,
                "density_rel": lambda first: (1.0 - deficit)[:, None], "stable_rel": lambda first: first}
    # one peak per patient: checked with the visits' window (a single patient has one value)
    rest = {"acute_effect_peak, window": (np.concatenate([out["acute_effect_peak"].values,
                                                           out["outcome"].sel(measure="window").values.ravel()]), 0.0)}
    for var, dim, along in (("outcome", "measure", "visit"), ("course", "quantity", "day")):
        for what in TRIAL_REST_MEASURES:
            values = out[var].sel({dim: what}).transpose("patient", along)
            rest[f"{var}[{what}]"] = (values, np.broadcast_to(expected[what](values.values[:, :1]), values.shape))
    return rest


def scenario_rest(out) -> dict:
    # before the only dose every subject is at the acute chain's rest state
    return acute_rest(out.isel(time_h=out["time_h"].values < SCENARIO_REST_DOSE_H))


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
CORRELATION = (-1.0, 1.0)
NETWORK_FC_BOUNDS = {"fc": CORRELATION}
SCAN_BOUNDS = {"fc": CORRELATION, "session_fc": CORRELATION, "rate": NON_NEGATIVE}
METRICS_BOUNDS = {"fc": CORRELATION, "fcd": CORRELATION, "participation": FRACTION, "flexibility": FRACTION,
                  "flexibility_mean": FRACTION, "flexibility_network": FRACTION, "mean_fc": CORRELATION}
COMPARE_BOUNDS = {"desync_mean_abs_diff": NON_NEGATIVE, "desync_corr_distance": (0.0, 2.0), "fcd_ks": FRACTION}
#: Scores are clipped to the scale, relative densities and BDNF are non-negative, the window a fraction.
TRIAL_BOUNDS = {"outcome": NON_NEGATIVE, "course": NON_NEGATIVE, "acute_effect_peak": FRACTION}
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


MAPPED = tuple(MAPPED_REGIONS)

COMPONENTS = (
    Component("pk", run_pk, pk_rest, PK_BOUNDS, seeded=True),
    Component("binding", run_acute, acute_rest, ACUTE_BOUNDS, seeded=True),
    Component("plasticity", run_plasticity, plasticity_rest, PLASTICITY_BOUNDS),
    Component("spines", run_spines, spines_rest, SPINE_BOUNDS, seeded=True, regions=tuple(SMALL_REGIONS[:3])),
    Component("dmf", run_dmf, dmf_rest, {"rate": NON_NEGATIVE}, seeded=True, regions=tuple(SMALL_REGIONS)),
    Component("hopf", run_hopf, hopf_rest, seeded=True, regions=tuple(SMALL_REGIONS)),
    Component("bold", run_bold, bold_rest),
    Component("rewiring", run_rewiring, rewiring_rest, {"sc": NON_NEGATIVE}, regions=tuple(SMALL_REGIONS)),
    Component("linear_dmf", run_linear_dmf, linear_dmf_rest, {"fc": CORRELATION, "rate": NON_NEGATIVE},
              regions=tuple(SMALL_REGIONS)),
    Component("scan_session", run_scan_session, scan_rest, SCAN_BOUNDS, seeded=True, regions=MAPPED),
    Component("linear_session", run_linear_session, linear_session_rest, NETWORK_FC_BOUNDS, regions=MAPPED),
    # the third acute state, "bifurcation_shift", needs a Hopf coupling fitted to the connectome
    # (FITTED_HOPF): a DataError for any other SC, so it has no tiny run
    Component("acute_session_gain", _acute_session("gain"), linear_session_rest, NETWORK_FC_BOUNDS,
              regions=MAPPED),
    Component("acute_session_current", _acute_session("current"), linear_session_rest, NETWORK_FC_BOUNDS,
              regions=MAPPED),
    # no rest: a null map has no drug input; values are the receptor map's, max-normalised.
    # variogram_maps returns an unnamed DataArray, hence the variable name "None"
    Component("variogram_nulls", run_variogram_nulls, None, {"None": FRACTION}, seeded=True, regions=MAPPED),
    # no rest of its own: analyze measures one recording, with or without a drug; "no drug, no
    # change" of link 7 is metrics_compare's rest check (the same recording twice: every change 0)
    Component("metrics", run_metrics, None, METRICS_BOUNDS, seeded=True, regions=MAPPED),
    Component("metrics_compare", run_metrics_compare, metrics_compare_rest, COMPARE_BOUNDS, seeded=True,
              regions=MAPPED),
    Component("clinical_patient", run_clinical_patient, trial_rest, TRIAL_BOUNDS, seeded=True),
    Component("clinical_trial", run_clinical_trial, trial_rest, TRIAL_BOUNDS, seeded=True),
    Component("scenario", run_scenario, scenario_rest, ACUTE_BOUNDS, seeded=True),
)
