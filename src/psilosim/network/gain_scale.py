"""The DMF gain scale per unit 5-HT2A occupancy, derived from Deco et al. 2018's LSD fit.

Deco et al. 2018 (Curr Biol 28:3065) modulated the excitatory gain of each region as
``1 + s_D R_i`` (R normalised to a maximum of 1) and found s_D ≈ 0.2 for the LSD state. Their
model has no occupancy term, so s_D is the gain reached at the 5-HT2A occupancy that LSD had
while their data were recorded: the LSD scans of Carhart-Harris et al. 2016 (PNAS 113:4853;
75 µg LSD intravenously, resting state with and without music). psilosim writes the gain as
``1 + s R_i occ(t)`` (:func:`psilosim.network.scan.gain_from`), so the consistent scale is

    s = s_D / O_LSD,

with O_LSD the mean surface 5-HT2A occupancy of that regimen over the scan window, computed by
psilosim's own pharmacology chain (:func:`psilosim.binding.simulate_acute`). Using the same chain
for LSD here and for psilocybin in a scan makes the two drugs comparable through occupancy,
which is the quantity the gain depends on in this model.

The library's human LSD set has only an oral route; :func:`with_iv_bolus` adds the intravenous
route (bioavailability 1 by definition, the dose entering the central compartment). Everything
else (clearance, volume, effect-site rate, 5-HT2A EC50 and ceiling) is the library's LSD as is.
"""

from __future__ import annotations

import numpy as np

from ..compounds import Compound, get_compound
from ..errors import DataError, InputError
from ..parameters import Param, ParameterSet
from ..pharmacokinetics.params import RouteParams
from ..regimen import Regimen, Route

CH2016 = "Carhart-Harris et al. 2016 PNAS 113:4853"

#: The compound and route of the scans Deco et al. 2018 modelled.
COMPOUND = "LSD"
ROUTE = Route.IV


class Deco2018LSD(ParameterSet):
    """The LSD state Deco et al. 2018 fitted, as a regimen and a scan window."""

    fitted_gain: Param
    dose: Param
    scan_start: Param
    scan_end: Param
    time_step: Param


DECO2018_LSD = Deco2018LSD(
    fitted_gain=Param(
        value=0.2, unit="", source="Deco et al. 2018 Curr Biol 28:3065 (authors' code, AAL-90; REFERENCES NW6)",
        kind="secondary", low=0.0,
        note="s_D in gain = 1 + s_D·R_i (no occupancy term), the best fit of the LSD state",
    ),
    dose=Param(
        value=75.0, unit="ug", source=CH2016 + "; Lebedev et al. 2016 Hum Brain Mapp (same study)",
        kind="published", low=0.0,
        note="intravenous LSD (75 µg IV in the Lebedev 2016 abstract), taken as a bolus: the injection "
             "is short against the hour before the window; Deco 2018 modelled these scans (rest with "
             "and without music)",
    ),
    scan_start=Param(
        value=70.0, unit="min", source=CH2016 + " (Methods; not verified)",
        kind="unverified",
        note="resting-state BOLD began ~70 min after the injection; the occupancy of the chain is "
             "on a plateau from ~1 h to 3 h, so ±30 min moves O_LSD by a few per cent "
             "(docs/network.md#gain-scale-per-unit-occupancy)",
    ),
    scan_end=Param(
        value=150.0, unit="min", source=CH2016 + " (Methods; not verified)",
        kind="unverified",
        note="end of the BOLD runs (~150 min after the injection); see scan_start",
    ),
    time_step=Param(
        value=1.0, unit="min", source="psilosim numerical setting", kind="assumed",
        note="output step of the occupancy series averaged over the window (the same step as scan sessions)",
    ),
)


def with_iv_bolus(*, compound: str | Compound = COMPOUND) -> Compound:
    """``compound`` with an intravenous route in every human PK set that lacks one.

    Intravenous bioavailability is 1 by definition and an IV dose has no absorption phase
    (``absorption_rate`` ``None``); disposition and binding are left unchanged.

    Parameters
    ----------
    compound
        Library name or :class:`~psilosim.compounds.Compound` (default LSD).

    Returns
    -------
    Compound
        A copy with the ``iv`` route added (the library file is not changed).

    Raises
    ------
    InputError
        If the compound has no human PK.
    """
    comp = get_compound(compound)
    if "human" not in comp.species:
        raise InputError("compound", f"{comp.name} has no human PK to give intravenously")
    iv = RouteParams(bioavailability=Param(value=1.0, unit="", source="definition of intravenous dosing",
                                           kind="published"))
    human = comp.species["human"]
    sets = {name: pk if ROUTE.value in pk.routes else pk.model_copy(update={"routes": {**pk.routes, ROUTE.value: iv}})
            for name, pk in human.sets.items()}
    return comp.model_copy(update={"species": {**comp.species, "human": human.model_copy(update={"sets": sets})}})


def deco2018_lsd_occupancy(*, params: Deco2018LSD = DECO2018_LSD,
                           compound: str | Compound = COMPOUND) -> float:
    """Mean 5-HT2A surface occupancy (0–1) of the typical subject over the Deco 2018 scan window.

    ``compound`` is the library's LSD unless a variant is given (for sensitivity analyses).

    Raises
    ------
    InputError
        If the window is empty or starts before the dose.
    DataError
        If the chain gives an occupancy outside (0, 1) (no 5-HT2A binding, or a broken chain).
    """
    from ..binding import simulate_acute
    from .scan import OCCUPANCY_TARGET

    start_h, end_h = params.scan_start.to("h"), params.scan_end.to("h")
    if not 0.0 <= start_h < end_h:
        raise InputError("scan window", f"needs 0 <= start < end, got {start_h:.3g} h to {end_h:.3g} h")
    step_h = params.time_step.to("h")
    regimen = Regimen.single(f"{params.dose.to('mg')} mg", route=ROUTE.value)
    acute = simulate_acute([(with_iv_bolus(compound=compound), regimen)], t_end_h=end_h + step_h, dt_h=step_h)
    occ = acute["occupancy"].sel(target=OCCUPANCY_TARGET)
    mean = float(occ.sel(time_h=slice(start_h, end_h)).mean())
    if not 0.0 < mean < 1.0 or not np.isfinite(mean):
        raise DataError(f"{get_compound(compound).name} {OCCUPANCY_TARGET} occupancy over the window is {mean}, not in (0, 1)")
    return mean


def derived_gain_scale(*, params: Deco2018LSD = DECO2018_LSD) -> float:
    """Gain scale per unit occupancy, ``s = s_D / O_LSD`` (the value of ``DMF.gain_scale``).

    Parameters
    ----------
    params
        The LSD state of Deco et al. 2018 (fitted gain, dose, scan window).

    Returns
    -------
    float
        ``params.fitted_gain / deco2018_lsd_occupancy(params=params)``.

    Raises
    ------
    InputError, DataError
        As :func:`deco2018_lsd_occupancy`.
    """
    return params.fitted_gain.value / deco2018_lsd_occupancy(params=params)
