"""Commands for the plasticity and synapse links: ``psilosim spines`` and ``psilosim window``."""

from __future__ import annotations

import functools

import numpy as np
import typer
from rich.table import Table

from .. import DISCLAIMER
from ..errors import InputError, PsilosimError
from ._app import (
    JSON_OPTION_HELP,
    PLOT_HELP,
    app,
    check_plot_path,
    console,
    emit_json,
    fail,
    named_as_options,
    print_assumptions,
    save_plot,
)
from .pharmacology import TABLE_TITLE_PADDING, warn_if_unstudied_dose

SPECIES_HELP = "Species parameter set: mouse or human."
COMPOUND_HELP = ("Compound name (case-insensitive), the path of a compound YAML file (docs/pharmacology.md), "
                 "or 'none' for the untreated baseline.")
DOSE_HELP = "Dose with a unit ('1 mg/kg', '25 mg'); default: the published experimental dose."
ROUTE_HELP = "Route (ip, oral, iv, ...); default: the route of the experimental dose."
STRESS_HELP = ("Chronic stress before the dose: chronic (21 days, ending at the dose) or none. It is the "
               "stress history the dose meets, not the setting during the plasticity window after it "
               "(that is a trial arm's environment option: psilosim trial).")

#: Longest horizon ``psilosim spines`` accepts (days): ten years, far beyond the slowest spine
#: constant of the model (consolidated spines, half-life ≈ 140 days in mouse). A guard against
#: a time grid too large for memory, not a model parameter.
MAX_SIMULATED_DAYS = 3650.0

def _treatment(species: str, compound: str, dose: str | None, route: str | None):
    """The (compound, Regimen) list and a description of where the dose came from."""
    from ..compounds import get_compound
    from ..regimen import Regimen
    from ..species import experimental_dose, species_defaults
    from ..synapses.chain import experimental_regimen
    from ._app import compound_option

    species_defaults(species)
    if compound.strip().lower() == "none":
        return [], {"compound": "none", "dose": None, "route": None, "dose_per_kg_mg": None,
                    "body_weight_kg": species_defaults(species).body_weight.to("kg"), "dose_source": "untreated"}
    named = compound_option(compound)  # a library name, or a compound file's definition
    comp = get_compound(named)
    comp.species_pk(species)  # clear error when the species has no PK for this compound
    published = _published_or_none(species, comp.name)
    if dose is None:
        if published is None:
            experimental_dose(species, comp.name)  # raises the InputError that asks for --dose
        regimen = experimental_regimen(published if route is None else _with_route(published, route))
        source = f"published experimental dose: {published.describe()}"
        dose_text, route_text = published.dose, route or published.route
    else:
        route_text = route or (published.route if published else _default_route(species))
        if published is not None and published.every:
            regimen = Regimen.build(route=route_text, phases=[{"dose": dose, "every": published.every,
                                                               "duration": published.duration}])
            source = f"user dose on the published schedule (every {published.every} for {published.duration})"
        else:
            regimen = Regimen.single(dose, route=route_text)
            source = "user dose, single administration"
        dose_text = dose
    # checked once, here, under --dose, for the species' typical subject (the one the chain simulates:
    # warn_if_unstudied_dose's rule without a weight); the simulations below skip their own check
    warn_if_unstudied_dose(comp, regimen, None, species)
    weight_kg = species_defaults(species).body_weight.to("kg")
    given = comp.name if isinstance(named, str) else comp  # a file's compound is in no registry
    return [(given, regimen)], {"compound": comp.name, "dose": dose_text, "route": route_text,
                                "dose_per_kg_mg": float(np.max(regimen.events(weight_kg=weight_kg).amount_mg)) / weight_kg,
                                "body_weight_kg": weight_kg, "dose_source": source}


def _published_or_none(species: str, compound: str):
    from ..species import EXPERIMENTAL_DOSES

    return EXPERIMENTAL_DOSES.get((species.strip().lower(), compound.lower()))


def _with_route(dose, route: str):
    from dataclasses import replace

    return replace(dose, route=route)


def _default_route(species: str) -> str:
    return "ip" if species.strip().lower() == "mouse" else "oral"


def _dose_text(payload: dict) -> str:
    """``dose: 25 mg ip in mouse = 1000 mg/kg for the typical 0.025 kg mouse (user dose, ...)``: the
    species, route and per-kg dose said where a mg dose meant for a person would show as absurd."""
    if payload["dose"] is None:
        return f"dose: none (untreated {payload['species']})"
    return (f"dose: {payload['dose']} {payload['route']} in {payload['species']} = "
            f"{payload['dose_per_kg_mg']:.3g} mg/kg of the largest administration for the typical "
            f"{payload['body_weight_kg']:g} kg {payload['species']} ({payload['dose_source']})")


def _caveats(trkb_caveat: str | None, treatments) -> list[dict]:
    """``--json`` key ``caveats``: the list form of the table of assumption caveats
    (:data:`psilosim.report.caveats.CAVEATS`; ``[{"id", "text"}]``), here the TrkB caveat when it
    applies and the caveats of the compound itself (:func:`psilosim.report.caveats.compound_caveats`:
    a non-hallucinogenic analogue's, as ``pk`` gives it)."""
    from ..compounds import get_compound
    from ..report.caveats import caveat_json, compound_caveats

    trkb = [] if trkb_caveat is None else [caveat_json("trkb_subpsychedelic")]
    return trkb + compound_caveats([get_compound(given) for given, _ in treatments])


def _trkb_caveat(treatments, drive) -> str | None:
    """:data:`psilosim.report.trial.TRKB_CAVEAT` (``--json`` key ``caveat``; printed after
    ``caveat:``) when a dose of a psychedelic binding TrkB stays sub-psychedelic, else ``None``.

    ``drive`` is the run's :class:`~psilosim.plasticity.Drive` (its acute effect), or a function
    that computes it (called only for such a compound); "sub-psychedelic" is its peak effect by
    :func:`psilosim.binding.is_sub_psychedelic` (the rule the trial report applies to an arm).
    """
    from ..binding import is_sub_psychedelic
    from ..report.trial import TRKB_CAVEAT, binds_trkb_as_psychedelic

    if not any(binds_trkb_as_psychedelic(name) for name, _ in treatments):
        return None
    effect = drive().effect if callable(drive) else drive.effect
    peak = 0.0 if effect is None else float(np.max(effect))
    return TRKB_CAVEAT if is_sub_psychedelic(peak) else None


#: Days reported by default (SP1 at day 1, SP2 at day 34), those within the simulated span.
DEFAULT_REPORT_DAYS = (1.0, 7.0, 34.0)


def _report_days(text: str | None, days: float) -> list[float]:
    if text is None:  # the defaults that fit in the simulated span, else its last day
        return [d for d in DEFAULT_REPORT_DAYS if d <= days] or [days]
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError("--report-days", f"{text!r} is not a comma-separated list of days") from None
    if not values or any(not 0 <= v <= days for v in values):
        raise InputError("--report-days", f"give days between 0 and --days ({days:g}), e.g. '1,7,34'")
    return values


def _stress(option: str):
    from ..synapses import chronic_stress

    key = option.strip().lower()
    if key == "none":
        return None
    if key == "chronic":
        return chronic_stress()
    raise InputError("--stress", f"{option!r} is not one of: chronic, none")


def _exits_on_error(command):
    """Print a deliberate error as one line and exit 2 inside the command (:func:`fail`), so an
    in-process caller of the app sees the exit code the console gives."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except PsilosimError as exc:
            fail(str(exc))
    return wrapper


def _day_key(day: float) -> str:
    return f"{day:g}"


@app.command()
@_exits_on_error
@named_as_options
def spines(
    species: str = typer.Option("mouse", "--species", help=SPECIES_HELP),
    compound: str = typer.Option("psilocybin", "--compound", help=COMPOUND_HELP),
    dose: str = typer.Option(None, "--dose", help=DOSE_HELP),
    route: str = typer.Option(None, "--route", help=ROUTE_HELP),
    stress: str = typer.Option("none", "--stress", help=STRESS_HELP),
    days: float = typer.Option(34.0, "--days", help=f"Days simulated after the first dose (at most {MAX_SIMULATED_DAYS:g})."),
    report_days: str = typer.Option(None, "--report-days", help="Comma-separated days for density_change_pct "
                                    "(default 1,7,34, those within --days)."),
    seed: int = typer.Option(None, "--seed", help="Seed (used with --stochastic)."),
    stochastic: bool = typer.Option(False, "--stochastic", help="Also simulate individual spines on 100 segments."),
    plot: str = typer.Option(None, "--plot", help=PLOT_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Spine density in prefrontal cortex after a dose: change from the day of dosing (imaging
    convention), formation and elimination over the first day, and the time courses."""
    check_plot_path(plot)
    payload, ds = _spines_payload(species, compound, dose, route, stress, days, report_days, seed, stochastic)
    if plot is not None:
        payload["plot"] = _save_plot(ds, plot, _plot_title(payload),
                                     report_days=[float(d) for d in payload["density_change_pct"]])
    if json_out:
        emit_json(payload)
        return
    title = _plot_title(payload)
    # as wide as its title: rich would otherwise wrap the title to the two narrow columns
    table = Table(title=title, min_width=len(title) + TABLE_TITLE_PADDING)
    table.add_column("day")
    table.add_column("density change (%)")
    compare = payload["dose"] is not None
    if compare:  # an untreated subject under the same stress recovers on its own: not the drug's
        table.add_column(f"untreated, {_stress_words(payload['stress'])} (%)")
        table.add_column("drug − untreated (%)")
    for day, pct in payload["density_change_pct"].items():
        extra = ([f"{payload['untreated_density_change_pct'][day]:+.1f}",
                  f"{payload['drug_minus_untreated_pct'][day]:+.1f}"] if compare else [])
        table.add_row(day, f"{pct:+.1f}", *extra)
    console.print(table)
    console.print("density change: from the day of dosing (imaging convention)"
                  + ("; untreated: the same subject and stress without the drug" if compare else ""))
    console.print(_dose_text(payload), soft_wrap=True, highlight=False, markup=False)
    console.print(f"spine formation rate over day 1: {payload['formation_rate_change_pct']:+.0f} % vs untreated, "
                  f"elimination rate: {payload['elimination_rate_change_pct']:+.0f} % vs untreated, "
                  f"{_window_text(payload['window_days'], days)}")
    print_assumptions(payload)  # its caveats (the TrkB one is `caveat`'s text)
    if plot is not None:
        console.print(f"figure: {payload['plot']}")
    console.print(f"[dim]{DISCLAIMER}[/]")


def _typical_subject(info: dict) -> dict:
    """The species' typical subject, weighed: these commands have no --weight, and a per-kg dose
    is given to the typical subject (the one the dose check compared, ``body_weight_kg``)."""
    return {"weight": f"{info['body_weight_kg']:g} kg"}


def _stress_words(stress: str) -> str:
    return "no stress" if stress == "none" else f"after {stress} stress"


def _plot_title(payload: dict) -> str:
    """``psilocybin 1 mg/kg ip in mouse, after chronic stress`` (``untreated mouse`` without a dose)."""
    stress = payload.get("stress", "none")
    after = f", after {stress} stress" if stress != "none" else ""
    if payload["dose"] is None:
        return f"untreated {payload['species']}{after}"
    return f"{payload['compound']} {payload['dose']} {payload['route']} in {payload['species']}{after}"


def _save_plot(ds, path: str, title: str, **figure_options) -> str:
    """Draw the slow chain (``figure_options`` of :func:`plot_slow_chain`) into ``path``."""
    from ..synapses.figures import plot_slow_chain

    return save_plot(plot_slow_chain(ds, title=title, **figure_options), path)


def _window_text(window_days: float, simulated_days: float) -> str:
    """How long the window stayed open, or that it had not closed by the end of the run (JSON: null)."""
    if np.isfinite(window_days):
        return f"window open {window_days:.1f} days"
    return f"window still open at the end of the {simulated_days:g} simulated days"


def _spines_payload(species, compound, dose, route, stress, days, report_days, seed, stochastic):
    """The ``spines`` summary (JSON-ready) and the slow-chain Dataset it was computed from."""
    from .._seeds import checked_seed
    from ..plasticity import engagement_hours, window_days
    from ..synapses import imaging_turnover, simulate_slow_chain
    from ..synapses.chain import acute_drive, density_change_pct

    checked_seed(seed, field="--seed")
    if not 0 < days <= MAX_SIMULATED_DAYS:
        raise InputError("--days", f"{days:g}: give a number of days greater than zero and at most "
                                   f"{MAX_SIMULATED_DAYS:g} (ten years)")
    treatments, info = _treatment(species, compound, dose, route)
    report = _report_days(report_days, days)
    stress_input = _stress(stress)
    subject = _typical_subject(info)
    ds = simulate_slow_chain(treatments, species=species, days=days, stress=stress_input, subject=subject,
                             stochastic=stochastic, replicates=100, seed=seed, check_doses=False)
    # the untreated subject under the same stress, over the whole span: its own recovery is
    # reported beside the drug's change so that it is not credited to the drug
    base = simulate_slow_chain([], species=species, days=days, stress=stress_input)
    first_day = min(1.0, days)
    treated = imaging_turnover(ds, ds, 0.0, first_day, stress=stress_input)
    untreated = imaging_turnover(base, base, 0.0, first_day, stress=stress_input)
    series_mask = ds["time_d"].values >= 0
    region = str(ds["region"].values[0])
    payload = {
        "species": species.lower(), "region": region, **info, "stress": stress.lower(),
        "density_change_pct": {_day_key(d): density_change_pct(ds, d) for d in report},
        "untreated_density_change_pct": {_day_key(d): density_change_pct(base, d) for d in report},
        "formation_rate_change_pct": _pct_change(treated["formed"], untreated["formed"]),
        "elimination_rate_change_pct": _pct_change(treated["eliminated"], untreated["eliminated"]),
        "head_width_change_pct": 100 * (float(ds["head_width_rel"].interp(time_d=first_day)) - 1),
        "window_days": window_days(ds),
        "engagement_h": engagement_hours(ds),
        "series": {
            "time_d": ds["time_d"].values[series_mask],
            "density_rel": ds["density_rel"].sel(region=region).values[series_mask],
            "window": ds["window"].values[series_mask],
            "bdnf_rel": ds["bdnf_rel"].values[series_mask],
        },
        "disclaimer": DISCLAIMER,
    }
    payload["drug_minus_untreated_pct"] = {day: pct - payload["untreated_density_change_pct"][day]
                                           for day, pct in payload["density_change_pct"].items()}
    payload["caveat"] = _trkb_caveat(
        treatments, lambda: acute_drive(treatments, species=species, days=days, subject=subject,
                                        check_doses=False)) if treatments else None
    payload["caveats"] = _caveats(payload["caveat"], treatments)
    if stochastic:
        counts = ds["spine_count"].sum("connection").values[series_mask]
        payload["series"]["stochastic_density_mean"] = counts.mean(axis=1) / ds.attrs["spines_per_segment"]
        payload["seed"] = seed
    return payload, ds


def _pct_change(treated, untreated) -> float:
    return float(100 * (np.asarray(treated)[0] / np.asarray(untreated)[0] - 1))


@app.command()
@_exits_on_error
@named_as_options
def window(
    species: str = typer.Option("mouse", "--species", help=SPECIES_HELP),
    compound: str = typer.Option(..., "--compound", help="Compound name (case-insensitive), or the path of a "
                                                         "compound YAML file (docs/pharmacology.md)."),
    dose: str = typer.Option(None, "--dose", help=DOSE_HELP),
    route: str = typer.Option(None, "--route", help=ROUTE_HELP),
    plot: str = typer.Option(None, "--plot", help=PLOT_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """How long the plasticity window stays open after a dose, and the acute engagement that set it.

    After Nardou et al. 2023: the window's length follows the acute engagement. engagement_h is
    the time integral of the engagement E (0-1), i.e. hours at full engagement; E rises steeply
    with the subjective effect, so this is close to the hours spent above its threshold.
    """
    check_plot_path(plot)
    payload, ds = _window_payload(species, compound, dose, route)
    if plot is not None:
        shown = payload["window_days"] * WINDOW_PLOT_MARGIN if np.isfinite(payload["window_days"]) else None
        payload["plot"] = _save_plot(ds, plot, _plot_title(payload),
                                     days_shown=None if shown is None else min(max(shown, 1.0), WINDOW_HORIZON_D),
                                     first_day=0.0, window_closes_d=payload["window_days"])
    if json_out:
        emit_json(payload)
        return
    console.print(f"{payload['compound']} {payload['dose']} {payload['route']} in {payload['species']}: "
                  f"{_window_text(payload['window_days'], WINDOW_HORIZON_D)} after {payload['engagement_h']:.1f} h "
                  f"of acute engagement (closed = window below {payload['window_closed_level']:g})",
                  soft_wrap=True, highlight=False, markup=False)
    console.print(_dose_text(payload), soft_wrap=True, highlight=False, markup=False)
    print_assumptions(payload)  # its caveats (the TrkB one is `caveat`'s text)
    if plot is not None:
        console.print(f"figure: {payload['plot']}")
    console.print(f"[dim]{DISCLAIMER}[/]")


#: Days simulated by ``psilosim window``: long enough for the longest published window (4 weeks)
#: to close several times over.
WINDOW_HORIZON_D = 120.0
#: ``window --plot`` shows the time axis to this multiple of the window's duration (a display choice).
WINDOW_PLOT_MARGIN = 2.0


def _window_payload(species, compound, dose, route):
    """The ``window`` summary (JSON-ready) and the plasticity Dataset it was computed from."""
    from ..plasticity import engagement_hours, plasticity_params, simulate_plasticity, window_days
    from ..synapses.chain import acute_drive

    if compound.strip().lower() == "none":
        raise InputError("--compound", "give a compound: the untreated baseline has no window")
    treatments, info = _treatment(species, compound, dose, route)
    drive = acute_drive(treatments, species=species, days=WINDOW_HORIZON_D, subject=_typical_subject(info),
                        check_doses=False)
    ds = simulate_plasticity(drive, species=species, days=WINDOW_HORIZON_D)
    level = plasticity_params(species).window_closed_level.value
    payload = {
        "species": species.lower(), **info,
        "window_days": window_days(ds, level=level),
        "window_closed_level": level,
        "engagement_h": engagement_hours(ds),
        "peak_bdnf_rel": float(ds["bdnf_rel"].max()),
        "caveat": _trkb_caveat(treatments, drive),
        "disclaimer": DISCLAIMER,
    }
    payload["caveats"] = _caveats(payload["caveat"], treatments)
    return payload, ds
