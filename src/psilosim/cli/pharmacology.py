"""Commands of the pharmacology link: ``psilosim pk`` and ``psilosim run``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import typer
from pydantic import ValidationError
from rich.table import Table
from rich.text import Text

from ._app import (
    JSON_OPTION_HELP,
    PLOT_HELP,
    app,
    check_plot_path,
    command_warnings,
    console,
    emit_json,
    named_as_options,
    print_assumptions,
    save_plot,
    warn,
)

#: Coarsest series step of ``pk --json`` (the contract: at least every 15 minutes), in hours.
SERIES_MAX_STEP_H = 0.25
#: Step used when the simulated time is short, so Tmax is not quantised coarsely (h).
SERIES_FINE_STEP_H = 0.05
#: Above this many simulated hours the series uses the coarse step.
FINE_STEP_LIMIT_H = 72.0
#: Two dose and peak times closer than this (h) are the same time (floating-point guard).
TIME_TOLERANCE_H = 1e-9
#: Relative slack when rounding the end time up to whole steps (floating-point guard).
ROUNDING_SLACK = 1e-9
#: Characters a rich table adds around its title's width (borders and cell padding).
TABLE_TITLE_PADDING = 4
PEAK_TARGETS = {"5-HT2A": "5-HT2A_surface", "5-HT2A_intracellular": "5-HT2A_intracellular",
                "SERT": "SERT", "TrkB": "TrkB", "NMDA": "NMDA"}


#: Smallest percentage the tables print as a number; smaller non-zero values print as "< 0.01"
#: (a 1e-18 % effect is numerically zero and three significant figures of it mean nothing).
SMALLEST_SHOWN_PERCENT = 0.01
#: Units whose values are percentages.
PERCENT_UNITS = ("%", "% of scale")
#: Widest the pk table's value column grows (characters): a long value (a per-dose list) wraps rather than
#: widening the table.
VALUE_COLUMN_MAX_WIDTH = 48
#: With more doses than this, the pk table gives the least and most effect duration per dose, not each.
MAX_LISTED_DOSES = 6
#: Below this magnitude any other table value prints as 0 (floating-point residue).
NUMERICAL_ZERO = 1e-9



def __getattr__(name: str):
    """``BODY_WEIGHT_LIMITS``: plausible adult human body weight, the library's limits (one source
    of truth; checked by :class:`~psilosim.pharmacokinetics.Subject` for its species), read on
    first use so that ``psilosim --help`` does not import the PK link and scipy.integrate."""
    if name == "BODY_WEIGHT_LIMITS":
        from ..pharmacokinetics.subject import SUBJECT_WEIGHT_LIMITS

        return SUBJECT_WEIGHT_LIMITS["human"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def simulated_weight(subject, pk_sets, *, given: bool) -> tuple[float | None, str]:
    """The body weight ``subject`` is simulated at, and where it comes from (``weight_source``).

    The weight given (``--weight``, a scenario's ``subject.weight``); else the species' standard
    weight (a laboratory animal's, which its per-kg doses use); else, for a human without one,
    the reference weight of the PK sets ``pk_sets``, at which their clearance and volume apply
    (:func:`~psilosim.pharmacokinetics.model.individual_pk`): that is whom a fixed-mg dose is
    simulated for, while a per-kg dose has been refused without a weight. ``None`` as the weight
    when the sets' reference weights differ.

    Parameters
    ----------
    subject
        The simulated :class:`~psilosim.pharmacokinetics.Subject` (a standard weight filled in).
    pk_sets
        The PK parameter sets of its compounds.
    given
        Whether the user gave the weight.
    """
    if given:
        return subject.weight_kg, "given"
    if subject.weight_kg is not None:
        return subject.weight_kg, f"standard {subject.species} weight"
    references = {pk.reference_weight.to("kg") for pk in pk_sets}
    return (references.pop() if len(references) == 1 else None), "reference weight of the PK set"


def weight_row_label(source: str) -> str:
    """The table row of the simulated body weight: where it comes from unless the user gave it."""
    return "body weight" if source == "given" else f"body weight ({source})"


def format_value(value: float | None, unit: str) -> str:
    """A table cell: three significant figures, "—" for a missing value, "< 0.01" for a tiny
    percentage and "0" for zero."""
    if value is None or not np.isfinite(value):
        return "—"
    if unit in PERCENT_UNITS:
        if value == 0:
            return "0"
        if abs(value) < SMALLEST_SHOWN_PERCENT:
            return f"< {SMALLEST_SHOWN_PERCENT:g}"
    return f"{value:.3g}" if abs(value) > NUMERICAL_ZERO else "0"


def _regimen(dose: str, route: str, interval: str | None, doses: int):
    from ..errors import InputError
    from ..regimen import Regimen

    if doses < 1:
        raise InputError("--doses", f"{doses}: need at least one dose")
    if doses > 1 and interval is None:
        raise InputError("--interval", "give an interval (e.g. 24h) with --doses > 1")
    if doses == 1 and interval is not None:  # else the interval would be silently unused
        raise InputError("--doses", f"--interval {interval} needs --doses > 1 (how many doses it separates)")
    if doses == 1:
        return Regimen.single(dose, route=route)
    return Regimen.repeated(dose, every=interval, count=doses, route=route)


def warn_if_unstudied_dose(compound, regimen, weight_kg: float | None, species: str = "human",
                           field: str = "--dose") -> None:
    """Refuse a dose 100x above the compound's largest studied dose in ``species`` (a human dose,
    or the animal studies' per-kg dose: a unit slip) and warn on stderr, one line, when it is
    above that dose (so ``--json`` stdout stays one object).

    This is the library's check (:func:`~psilosim.pharmacokinetics.dose_guard.check_studied_dose`),
    made once by a command before it touches anything (an output folder, a simulation), so the
    message names the command's option (or, for a scenario file, the input: ``{p}`` in ``field``
    is the phase with the largest administration). The command then simulates with
    ``check_doses=False``.

    Without a weight, a per-kg dose is compared for the species' typical subject, the subject the
    chain itself simulates (a command that needs a weight asks for it when it simulates).
    """
    from ..pharmacokinetics.dose_guard import check_studied_dose, regimen_dose_field
    from ..species import SPECIES, species_defaults

    if weight_kg is None and species.strip().lower() in SPECIES:
        weight_kg = species_defaults(species).body_weight.to("kg")
    events = regimen.events(weight_kg=weight_kg)
    warning = check_studied_dose(compound, events.amount_mg, weight_kg, species=species,
                                 field=regimen_dose_field(field, regimen, weight_kg))
    if warning is not None:
        warn(warning)


@app.command()
@named_as_options
def pk(
    compound: str = typer.Option(..., "--compound", help="Compound name (psilocybin, escitalopram, ketamine; case-insensitive), "
                                                         "or the path of a compound YAML file (docs/pharmacology.md)."),
    dose: str = typer.Option(..., "--dose", help="Dose with unit: '25 mg' or '0.3 mg/kg' (needs --weight). A psilocybin "
                                                 "dose is of pure psilocybin; mushroom material is not modelled."),
    weight: str = typer.Option(None, "--weight", help="Body weight, e.g. '70 kg'."),
    interval: str = typer.Option(None, "--interval", help="Dosing interval for repeated doses, e.g. 24h."),
    doses: int = typer.Option(1, "--doses", help="Number of doses (with --interval)."),
    hours: str = typer.Option(None, "--hours", help="Simulated time: a number of hours or a time with unit ('36', '2 d'; default: last dose + "
                                                              "max(24 h, 5 half-lives), and at least to the end of the last dosing interval; "
                                                              "a shorter time reports no accumulation metrics)."),
    seed: int = typer.Option(None, "--seed", help="Draw individual random effects with this seed (default: typical subject)."),
    route: str = typer.Option("oral", "--route", help="oral, iv, intranasal, im, sublingual, ip (as the compound allows)."),
    parameter_set: str = typer.Option(None, "--parameter-set", help="PK parameter set, e.g. holze2023 | brown2017 for psilocybin."),
    method: str = typer.Option("analytic", "--method", help="Numerical method: analytic | ode."),
    plot: str = typer.Option(None, "--plot", help=PLOT_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Simulate one compound's plasma concentration, occupancy and subjective effect.

    For psilocybin the concentration is that of its active metabolite psilocin.
    """
    from ..regimen import input_error_from

    check_plot_path(plot)
    try:
        payload, ds = _pk_payload(compound, dose, weight, interval, doses, hours, seed, route, parameter_set, method)
    except ValidationError as exc:  # named as its option by @named_as_options, like an InputError
        raise input_error_from(exc) from None
    if plot is not None:
        from ..binding.figures import plot_acute

        payload["plot"] = save_plot(plot_acute(ds, title=_pk_plot_title(payload)), plot)
    if json_out:
        emit_json({**payload, "warnings": command_warnings()})
        return
    _print_pk_table(payload)
    if plot is not None:
        console.print(f"figure: {payload['plot']}")


def _pk_plot_title(payload: dict) -> str:
    """``psilocybin 25 mg oral — plasma psilocin, holze2023``."""
    return f"{payload['compound']} {_dose_then_route(payload['regimen'])} — plasma {payload['analyte']}, " \
           f"{payload['parameter_set']}"


def _dose_then_route(described: str) -> str:
    """``"oral: 25 mg"`` (:meth:`Regimen.describe`) as ``"25 mg oral"``."""
    route, _, doses = described.partition(": ")
    return f"{doses} {route}" if doses else described


def _run_plot_title(sc, parameter_sets: dict[str, str]) -> str:
    """The treatments of a scenario (``psilocybin 25 mg oral``) and the parameter sets used."""
    treatments = "; ".join(f"{t.resolve_compound().name} {_dose_then_route(t.regimen.describe())}"
                           for t in sc.treatments)
    sets = ", ".join(f"{name}: {label}" if len(parameter_sets) > 1 else label
                     for name, label in parameter_sets.items())
    return f"{treatments} — {sets}" if sets else treatments


def _pk_payload(compound, dose, weight, interval, doses, hours, seed, route, parameter_set, method):
    """The ``pk`` summary (JSON-ready) and the simulated Dataset it was computed from."""
    from .. import DISCLAIMER
    from .._seeds import checked_seed
    from ..binding import effect_duration_h, simulate_acute
    from ..compounds import get_compound
    from ..errors import InputError
    from ..pharmacokinetics import Subject, nca
    from ..pharmacokinetics.model import default_t_end_h
    from ._app import compound_option

    checked_seed(seed, field="--seed")
    hours = _simulated_hours(hours)
    comp = get_compound(compound_option(compound))  # a name, or a compound file's definition
    regimen = _regimen(dose, route, interval, doses)
    subject = Subject(weight=weight, parameter_sets={comp.name.lower(): parameter_set} if parameter_set else {})
    events = regimen.events(weight_kg=subject.weight_kg)
    warn_if_unstudied_dose(comp, regimen, subject.weight_kg, subject.species)
    if parameter_set is not None:
        comp.pk(subject.species, parameter_set=parameter_set)
    pk_params = comp.pk(subject.species, parameter_set=subject.parameter_set(comp.name))
    pk_params.route(route)
    if hours is not None and not (np.isfinite(hours) and hours > 0):
        raise InputError("--hours", f"{hours:g} h: must be a finite time greater than zero")
    # with repeated doses the last interval closes one interval after the last dose
    dose_times = np.append(events.time_h, events.time_h[-1] + (events.time_h[-1] - events.time_h[-2])) \
        if events.time_h.size >= 2 else None
    if hours is not None:
        t_end = hours  # intervals past it get no accumulation metrics (null)
    else:
        t_end = default_t_end_h(comp, events, subject)
        t_end = t_end if dose_times is None else max(t_end, float(dose_times[-1]))
    step = SERIES_FINE_STEP_H if t_end <= FINE_STEP_LIMIT_H else SERIES_MAX_STEP_H
    if hours is not None and not hours > step:
        raise InputError("--hours", f"{hours:g} h: must be longer than the series step ({step:g} h)")
    if hours is None:
        # whole steps, rounded up: the time grid stops at the last whole step, and the last
        # interval must be sampled to its end for the accumulation metrics
        t_end = math.ceil(t_end / step - ROUNDING_SLACK) * step
    ds = simulate_acute((comp, regimen), subject=subject, t_end_h=t_end, dt_h=step, seed=seed, method=method,
                        check_doses=False)  # checked above, under --dose
    t = ds.time_h.values
    c = ds.concentration.sel(compound=comp.name).values
    metrics = nca(t, c, dose_times=dose_times, last_dose_h=float(events.time_h[-1]))
    weight_kg, weight_source = simulated_weight(subject, [pk_params], given=subject.weight_kg is not None)
    peak = {key: float(ds.occupancy.sel(target=target).max()) for key, target in PEAK_TARGETS.items()}
    payload = {
        "compound": comp.name, "analyte": comp.analyte, "route": route, "parameter_set": pk_params.label,
        "regimen": regimen.describe(), "seed": seed, "method": method,
        "weight_kg": weight_kg, "weight_source": weight_source,
        "weight_note": _weight_note(comp.name, pk_params, regimen, subject.weight_kg),
        "cmax_ng_ml": metrics.cmax, "tmax_h": metrics.tmax, "half_life_h": metrics.half_life,
        "tmax_after_dose_h": metrics.tmax_after_dose,
        "tmax_note": _tmax_note(t, c, metrics.tmax),
        "doses": int(events.time_h.size),
        "tmax_dose": int(np.searchsorted(events.time_h, metrics.tmax + TIME_TOLERANCE_H, side="right")),
        "auc_ng_h_ml": metrics.auc, "auc_inf_ng_h_ml": metrics.auc_inf,
        "accumulation_ratio": metrics.accumulation_ratio, "time_to_90pct_ss_h": metrics.time_to_90pct_ss,
        "peak_occupancy": peak, "peak_effect": float(ds.effect.max()),
        "effect_duration_h": effect_duration_h(ds),
        "effect_duration_per_dose_h": effect_duration_per_dose_h(ds, events.time_h),
        "effect_note": _effect_note(comp),
        "series": {
            "time_h": t, "concentration_ng_ml": c, "effect": ds.effect.values,
            "occupancy": {key: ds.occupancy.sel(target=target).values for key, target in PEAK_TARGETS.items()},
        },
        **_pk_assumptions(ds, comp, subject),
        "disclaimer": DISCLAIMER,
    }
    return payload, ds


def _pk_assumptions(ds, comp, subject) -> dict[str, list[dict]]:
    """``hypotheses`` (RB8 where it acts, with the peak effect without it) and ``caveats`` of a ``pk``
    result (:mod:`psilosim.report.caveats`)."""
    from ..report.caveats import acute_caveats, acute_hypotheses

    return {"hypotheses": acute_hypotheses(ds, [comp], subject), "caveats": acute_caveats([comp], ds=ds)}


def effect_duration_per_dose_h(ds, dose_times_h) -> list[float]:
    """Hours with the subjective effect at or above its duration threshold after each dose: from
    the dose to the next one (the last: to the end of the simulated time), so the list sums to
    :func:`~psilosim.binding.effect_duration_h` (the total over all doses, the ``pk`` JSON's
    ``effect_duration_h``). Overlapping doses share no hour: one above the threshold when the next
    dose comes belongs to that next dose."""
    from ..binding.kernel import time_above

    t, effect = ds.time_h.values, ds.effect.values
    threshold = float(ds.effect.attrs["duration_threshold"])
    bounds = [*np.asarray(dose_times_h, dtype=float), float(t[-1])]
    out = []
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        # the samples inside, with the curve's values at the bounds: the pieces partition the total
        inner = t[(t > start) & (t < end)]
        times = np.concatenate([[start], inner, [end]])
        out.append(time_above(times, np.interp(times, t, effect), threshold) if end > start else 0.0)
    return out


def _cell(value, unit: str) -> str | Text:
    """A ``pk`` table cell: a number (:func:`format_value`), a list of them (one per dose) or a note's text."""
    if isinstance(value, str):  # text reads from the left, wrapped in the value column
        return Text(value, justify="left")
    if isinstance(value, list):
        return ", ".join(format_value(v, unit) for v in value)
    return format_value(value, unit)


def _effect_duration_rows(p: dict) -> list[tuple]:
    """The effect-duration rows of the ``pk`` table: one for a single dose; with several, the total
    over all doses, labelled so, and each dose's (or their range when there are many)."""
    if p["doses"] <= 1:
        return [("effect duration", p["effect_duration_h"], "h")]
    per_dose = p["effect_duration_per_dose_h"]
    rows = [("effect duration (total time ≥ threshold over all doses)", p["effect_duration_h"], "h")]
    if len(per_dose) <= MAX_LISTED_DOSES:
        return rows + [(f"effect duration per dose (doses 1–{len(per_dose)})", per_dose, "h")]
    return rows + [(f"effect duration per dose (least, most of {len(per_dose)} doses)",
                    [min(per_dose), max(per_dose)], "h")]


def _effect_note(comp) -> str | None:
    """Why the subjective-effect rows say nothing of ``comp``'s own acute effect (``None`` when
    they do): read from its data, it has no 5-HT2A effect model (no 5-HT2A binding, or a
    hallucinogenic efficacy of 0), and the effect output is the 5-HT2A-driven psychedelic one."""
    efficacy = comp.hallucinogenic_efficacy
    missing = ([] if "5-HT2A" in comp.binding else ["no 5-HT2A binding"]) + \
        ([f"hallucinogenic_efficacy {efficacy.value:g}"] if not efficacy.value > 0 else [])
    if not missing:
        return None
    why = efficacy.note or efficacy.source
    return (f"{comp.name} has no 5-HT2A effect model ({', '.join(missing)}): the subjective-effect rows are "
            f"psilosim's psychedelic 'any drug effect', not {comp.name}'s own acute effects ({why})")


def _simulated_hours(hours: str | None) -> float | None:
    """``--hours`` in hours: a bare number is hours, a string with a unit (``"2 d"``) a time."""
    from ..units import as_time

    if hours is None:
        return None
    try:
        return float(hours)
    except ValueError:
        return as_time(hours, unit="h", field="--hours")


def _tmax_note(t: np.ndarray, c: np.ndarray, tmax: float) -> str | None:
    """Why Tmax/Cmax are not a peak (``None`` when they are): the concentration was zero
    throughout, or still rising at the end of the simulated span."""
    if not np.any(c > 0):
        return (f"the plasma concentration stayed zero over the simulated {t[-1]:g} h (absorption lag): Cmax and "
                "Tmax are not a peak; give a longer --hours")
    if tmax >= t[-1] - TIME_TOLERANCE_H:
        return (f"the concentration was still rising at the end of the simulated {t[-1]:g} h: the peak was not "
                "reached (Tmax is the last sample); give a longer --hours")
    return None


def _weight_note(compound: str, pk_params, regimen, weight_kg: float | None) -> str | None:
    """Why a given body weight changes nothing (``None`` when it does, or when none was given):
    the dose is fixed in mg and the PK set has no weight covariate (exponents 0)."""
    exponents = (pk_params.clearance_weight_exponent, pk_params.volume_weight_exponent)
    fixed_mg = all(phase.dose_quantity.check("[mass]") for phase in regimen.phases)
    if weight_kg is None or not fixed_mg or any(e.value != 0 for e in exponents):
        return None
    sources = "; ".join(dict.fromkeys(part.strip() for e in exponents for part in e.source.split(";")))
    return (f"{compound} PK does not scale with body weight (weight exponents of clearance and volume 0: "
            f"{sources}), so with a fixed-mg dose the weight of {weight_kg:g} kg changes nothing")


def _print_pk_table(p: dict) -> None:
    from .. import DISCLAIMER

    table = Table(title=f"{p['compound']} ({p['analyte']}) — {p['regimen']}, parameter set {p['parameter_set']}")
    table.add_column("quantity")
    table.add_column("value", justify="right", max_width=VALUE_COLUMN_MAX_WIDTH)
    table.add_column("unit")
    # with repeated doses, say which dose's peak it is (the value counts from the first dose)
    tmax_label = "Tmax" if p["doses"] <= 1 else \
        f"Tmax from dose 1 (peak after dose {p['tmax_dose']}: +{p['tmax_after_dose_h']:.3g} h)"
    rows = [(weight_row_label(p["weight_source"]), p["weight_kg"], "kg"), ("Cmax", p["cmax_ng_ml"], "ng/mL"),
            (tmax_label, p["tmax_h"], "h"), ("terminal half-life", p["half_life_h"], "h"),
            ("AUC(0–t)", p["auc_ng_h_ml"], "ng·h/mL")]
    if p["doses"] > 1:  # a single dose accumulates nothing: no rows of dashes
        rows += [("accumulation ratio", p["accumulation_ratio"], "—"),
                 ("time to 90 % of steady state (interval AUC)", p["time_to_90pct_ss_h"], "h")]
    rows += [("peak subjective effect", 100 * p["peak_effect"], "% of scale"),
             *_effect_duration_rows(p)]
    # the JSON keys are the contract's ("5-HT2A"); the table names each pool as the library does
    rows += [(f"peak occupancy {PEAK_TARGETS[k]}", 100 * v, "%") for k, v in p["peak_occupancy"].items()]
    for name, value, unit in rows:
        table.add_row(name, _cell(value, unit), unit)
    console.print(table)
    for note in (p["tmax_note"], p["weight_note"]):
        if note is not None:
            console.print(f"note: {note}", soft_wrap=True, highlight=False, markup=False)
    if p["effect_note"] is not None:  # a sentence: under the table, not folded into its value column
        console.print(f"note (effect): {p['effect_note']}", soft_wrap=True, highlight=False, markup=False)
    print_assumptions(p)
    console.print(f"[dim]{DISCLAIMER}[/]")


@app.command()
def run(
    scenario: Path = typer.Argument(None, help="Scenario YAML file, or the provenance.json of an earlier run to "  # noqa: B008
                                               "re-run it (same seed, same numbers); omit to run the built-in "
                                               "psilocybin 25 mg scenario."),
    out: Path = typer.Option(None, "--out", help="Output folder, created if missing (default: the scenario's "  # noqa: B008
                                                 "outputs.folder)."),
    plot: str = typer.Option(None, "--plot", help=PLOT_HELP + " The acute figure: concentration, occupancy and "
                                                               "effect over time (a population: median, 5–95 % band)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Run a scenario: write results (NetCDF), provenance (JSON) and figures to an output folder."""
    from .. import DISCLAIMER
    from ..binding import acute_summary
    from ..binding.figures import plot_acute
    from ..io import (
        check_replaceable,
        check_rerun_target,
        prepare_out_dir,
        provenance_record,
        write_run,
    )
    from ..scenario import load_scenario, parameter_values, simulate_with_summary

    check_plot_path(plot)
    sc = load_scenario(scenario)
    # the doses once for the whole population (every subject has the scenario's weight and species),
    # before the output folder is touched: a refused dose leaves no folder behind
    subject = sc.subject.to_subject()
    for k, treatment in enumerate(sc.treatments):
        warn_if_unstudied_dose(treatment.resolve_compound(), treatment.regimen, subject.weight_kg, subject.species,
                               field=f"treatments.{k}.regimen.phases.{{p}}.dose")
    # before the simulation: a folder that cannot be created fails at once, with one line
    folder_field = "--out" if out is not None else "outputs.folder"
    check_rerun_target(scenario, Path(out if out is not None else sc.outputs.folder), out_given=out is not None)
    folder = prepare_out_dir(out if out is not None else sc.outputs.folder, option=folder_field)
    check_replaceable(folder, field=folder_field)
    with console.status(f"simulating {sc.name} ({sc.population.size} subject(s))", spinner="dots") if not json_out \
            else _null():
        ds, fine = simulate_with_summary(sc, check_doses=False)  # doses checked above; peaks read on `fine`
    import matplotlib.pyplot as plt

    figures = {}
    sets = dict(item.split("=", 1) for item in str(ds.attrs.get("parameter_sets", "")).split(";") if "=" in item)
    if "acute" in sc.outputs.figures or plot is not None:
        acute = plot_acute(ds, title=_run_plot_title(sc, sets))
        if "acute" in sc.outputs.figures:
            figures["acute"] = acute
    # the scenario as run: its seed (drawn when it had none) and the folder written, so that the
    # saved block alone re-runs the same numbers (`psilosim run OUT/provenance.json`)
    used = sc.model_copy(update={"seed": int(ds.attrs["seed"]) if "seed" in ds.attrs else sc.seed,
                                 "outputs": sc.outputs.model_copy(update={"folder": str(folder)})})
    record = provenance_record(scenario=used.model_dump(mode="json"), seed=sc.seed, parameter_sets=sets,
                               kind="run", extra={"source": str(scenario) if scenario else "built-in default",
                                                  "parameter_values": parameter_values(sc)})
    path = write_run(folder, dataset=ds, provenance=record, figures=figures, field=folder_field)
    drawn = {} if plot is None else {"plot": save_plot(acute, plot)}  # the same figure, also where asked
    for fig in figures.values():
        plt.close(fig)
    summary = acute_summary(fine)
    summary_step_h = float(fine.attrs.get("internal_step_h", sc.simulation.step_h))
    pk_sets = [t.resolve_compound().pk(subject.species, parameter_set=subject.parameter_set(t.resolve_compound().name))
               for t in sc.treatments]
    weight_kg, weight_source = simulated_weight(subject, pk_sets, given=sc.subject.weight is not None)
    assumptions = _run_assumptions(sc, fine)
    if json_out:
        emit_json({"scenario": sc.name, "folder": str(path), "files": sorted(p.name for p in path.iterdir()),
                   "parameter_sets": sets, "weight_kg": weight_kg, "weight_source": weight_source,
                   "summary": summary, "summary_step_h": summary_step_h, "output_step_h": sc.simulation.step_h,
                   **assumptions, **drawn, "subjects": run_subjects(sc, ds), "warnings": command_warnings(),
                   "disclaimer": DISCLAIMER})
        return
    title = f"psilosim run: {sc.name} ({run_subjects(sc, ds)['text']})"
    table = Table(title=title, min_width=len(title) + TABLE_TITLE_PADDING)  # a title on one line
    for col in ("quantity", "value", "unit"):
        table.add_column(col, justify="right" if col == "value" else "left")
    table.add_row(weight_row_label(weight_source), format_value(weight_kg, "kg"), "kg")
    for name, (value, unit) in summary.items():
        table.add_row(name, format_value(value, unit), unit)
    console.print(table)
    if fine is not ds:
        console.print(f"peaks and duration read on a {summary_step_h:g}-h grid; results.nc and the figures are "
                      f"sampled every {sc.simulation.step_h:g} h (simulation.step)")
    print_assumptions(assumptions)
    console.print(f"results, provenance and figures written to [bold]{path}[/]")
    if plot is not None:
        console.print(f"figure: {drawn['plot']}")
    console.print(f"[dim]{DISCLAIMER}[/]")


def _run_assumptions(sc, fine) -> dict[str, list[dict]]:
    """``hypotheses`` (RB8 with the alternative computed, where it acts) and ``caveats`` of a run
    (:mod:`psilosim.report.caveats`)."""
    from ..report.caveats import acute_caveats, scenario_hypotheses

    return {"hypotheses": scenario_hypotheses(sc, fine),
            "caveats": acute_caveats([t.resolve_compound() for t in sc.treatments], ds=fine)}


def run_subjects(sc, ds) -> dict:
    """Who a run simulated (``run --json``'s ``subjects``, the table's title): how many subjects,
    ``kind`` ``"random"`` (drawn with ``seed``, ``seed_drawn`` when the scenario gave none) or
    ``"typical"`` (``population.variability: false``), and ``text`` saying so."""
    count = int(ds.sizes["subject"])
    if not sc.population.variability:
        text = "the typical subject" if count == 1 else f"{count} typical subjects, all alike"
        return {"count": count, "kind": "typical", "seed": None, "seed_drawn": False,
                "text": f"{text} (population.variability: false)"}
    seed, drawn = int(ds.attrs["seed"]), bool(int(ds.attrs.get("seed_drawn", 0)))
    median = "; median shown" if count > 1 else ""
    return {"count": count, "kind": "random", "seed": seed, "seed_drawn": drawn,
            "text": f"{count} random subject{'s' if count > 1 else ''}, seed {seed} ({'drawn' if drawn else 'given'})"
                    f"{median}; population.variability: false gives the typical subject"}


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
