"""``psilosim trial``: run a virtual randomised trial (a preset or a scenario YAML)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from ..errors import InputError
from ..io import check_rerun_target, prepare_out_dir, provenance_record_at
from ._app import (
    JSON_OPTION_HELP,
    PLOT_HELP,
    app,
    check_plot_path,
    command_warnings,
    console,
    emit_json,
    fail,
    print_assumptions,
    save_plot,
)

OUT_HELP = ("Output folder (created if missing): chunks (resumable), results.nc (or results.zarr), report.html. "
            "An existing folder must be empty or a trial's own (run.json: resumed). Default: trial-<name>-seed<S>.")


def _load(target: str):
    from ..clinical.design import load_design
    from ..clinical.presets import PRESETS, get_preset

    if target.lower() in PRESETS:
        return get_preset(target)
    if provenance_record_at(target) is not None:  # OUT/provenance.json of an earlier run: re-run it
        from ..clinical.store import design_from_provenance

        return design_from_provenance(target)
    if target.endswith((".yaml", ".yml", ".json")) or Path(target).exists():
        return load_design(target)  # a design (JSON is YAML); a missing file is named as such
    try:
        return get_preset(target)  # a clear "unknown preset" error, under the argument's name
    except InputError as exc:
        raise InputError("TARGET", exc.problem) from None


@app.command()
def trial(
    target: str = typer.Argument(..., help="A built-in preset (carhart2021, goodwin2022, raison2023, szigeti2021, "
                                           "ketamine_iv, daws2022, daws2022_trd), a trial scenario .yaml file (what-if examples: "
                                           "list them with `psilosim examples`, copy them with "
                                           "`psilosim examples --copy DIR`), or the provenance.json of "
                                           "an earlier trial to re-run it (its patients and seed)."),
    patients: int = typer.Option(None, "--patients", "-n", help="Number of virtual patients (default: the design's)."),
    seed: int = typer.Option(None, "--seed", help="Random seed (default: the design's)."),
    workers: int = typer.Option(None, "--workers", help="Run on a local Dask cluster of K worker processes."),
    scheduler: str = typer.Option(None, "--scheduler", help="Address of a running Dask scheduler (tcp://host:port)."),
    out: str = typer.Option(None, "--out", help=OUT_HELP),
    chunk_size: int = typer.Option(50, "--chunk-size", help="Patients per task and saved chunk."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write the HTML report."),
    results_format: str = typer.Option("netcdf", "--format", help="File format of the gathered results: "
                                       "netcdf (OUT/results.nc) or zarr (OUT/results.zarr, a folder store "
                                       "read lazily chunk by chunk; needs pip install 'psilosim\\[zarr]')."),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Run a virtual trial and print its statistics (research simulation, not medical advice).

    Patients fan out over Dask (threads by default), every finished chunk is saved so an
    interrupted run resumes where it stopped, and results gather into OUT/results.nc
    (or OUT/results.zarr with --format zarr; patient × visit × measure). Changes are later − baseline; improvement is baseline − later.
    """
    from .. import DISCLAIMER
    from ..clinical.stats import summarize
    from ..clinical.store import RESULTS_FILES, check_results_format
    from ..clinical.trial import check_arm_doses, check_difference_possible, run_trial

    if workers is not None and scheduler is not None:
        fail("--workers and --scheduler are exclusive: give one")
    if patients is not None and patients < 1:
        fail(f"--patients: must be ≥ 1, got {patients}")
    if seed is not None and seed < 0:
        fail(f"--seed: must be ≥ 0, got {seed}")
    if chunk_size < 1:
        fail(f"--chunk-size: must be ≥ 1, got {chunk_size}")
    check_results_format(results_format)
    design = _load(target)
    seed_used = design.seed if seed is None else seed
    check_difference_possible(design, design.patients if patients is None else patients, seed_used)
    check_arm_doses(design)  # once per arm, before the folder is made and any patient simulated
    hypotheses = _hypotheses(design)  # before the folder too: a failure here leaves no half-written folder
    out_given = bool(out)
    out = out if out else f"trial-{design.name}-seed{seed_used}"
    check_rerun_target(target, Path(out), out_given=out_given)  # a re-run would resume, not simulate, there
    out = prepare_out_dir(out, option="--out")
    ds = run_trial(design, n_patients=patients, seed=seed_used, out=out, chunk_size=chunk_size,
                   workers=workers, scheduler=scheduler, progress=not json_out, results_format=results_format,
                   check_doses=False)
    summary = summarize(ds)
    summary.update(_assumptions(design, summary, hypotheses))  # caveats and named hypotheses, shown with the numbers
    if report:
        from ..report.trial import write_trial_report

        write_trial_report(ds, out / "report.html", summary=summary)
    summary["output"] = {"folder": str(out), "results": str(out / RESULTS_FILES[results_format]),
                         "report": str(out / "report.html") if report else None}
    if json_out:
        emit_json({**summary, "warnings": command_warnings()})
        return
    for table in _tables(summary):
        console.print(table)
    for line in _difference_lines(summary):
        console.print(line)
    print_assumptions(summary)
    console.print(f"results: {summary['output']['results']}" + (f"; report: {summary['output']['report']}" if report else ""))
    console.print(f"[dim]{DISCLAIMER}[/]")


def _hypotheses(design) -> list[dict]:
    """The design's named hypotheses (:func:`psilosim.report.caveats.trial_hypotheses`): they need
    no patient, so they are computed before the output folder is made."""
    from ..report import caveats

    return caveats.trial_hypotheses(design)


def _assumptions(design, summary: dict, hypotheses: list[dict]) -> dict[str, list[dict]]:
    """``caveats`` and ``hypotheses`` of the run (as :func:`psilosim.report.caveats.trial_assumptions`
    gives them; the caveats judge the arms by the run's ``summary``)."""
    from ..report.caveats import trial_caveats

    return {"caveats": trial_caveats(design, summary=summary), "hypotheses": hypotheses}


def _difference_lines(summary: dict) -> list[str]:
    """The Welch difference of each arm against the reference arm (``differences``; the design's
    ``difference`` alone in a summary without it), and with several, that none is adjusted."""
    diffs = summary.get("differences") or ({"": summary["difference"]} if summary.get("difference") else {})
    reference = summary.get("reference") if summary.get("differences") else None
    why = f"reference arm: {reference['arm']} ({reference['reason']})" if reference and reference["arm"] else None
    lines = []
    for d in diffs.values():
        head = f"difference {d['arm']} − {d['reference']} at day {d['day']:g} (Welch)"
        lines.append(f"{head}: not computed: {d['reason']}" if d.get("estimate") is None else
                     f"{head}: {d['estimate']:.2f} (95% CI {d['ci'][0]:.2f} to {d['ci'][1]:.2f}), "
                     f"two-sided p = {d['p']:.3g}")
    if len(diffs) > 1:
        lines.append(f"{len(diffs)} comparisons with the reference arm, each at its own 95% level: "
                     "no adjustment for multiplicity" + (f"; {why}" if why else ""))
    elif why and lines:
        lines[-1] += f"; {why}"
    return lines


def _rate_cell(rate: float, ci: list[float] | None) -> str:
    """``42%`` over ``(30–55)``: a rate and, on the next line, its Wilson 95 % CI in % (the rate
    alone without a CI)."""
    return f"{100 * rate:.0f}%" + ("" if ci is None else f"\n({100 * ci[0]:.0f}–{100 * ci[1]:.0f})")


def _tables(summary: dict) -> list[Table]:
    """The outcome table, the biology table, and the change by SSRI status when some patients
    stayed on an SSRI."""
    tables = [_table(summary), _biology_table(summary)]
    if any("by_ssri_status" in a for a in summary["arms"].values()):
        tables.append(_ssri_table(summary))
    return tables


def _table(summary: dict) -> Table:
    """Each arm's outcome on the trial's scale at the primary day."""
    scale = summary["scale"]
    header = ["arm", "n", f"baseline ({scale})", f"change ({scale} points, 95% CI)", "response (95% CI)",
              "remission (95% CI)"]
    rows = [[name, str(a["n"]), f"{a['baseline_mean']:.1f}",  # a CI on its own line: fits 80 columns
             f"{a['change_mean']:.2f}\n({a['change_ci'][0]:.2f}, {a['change_ci'][1]:.2f})",
             _rate_cell(a["response_rate"], a.get("response_ci")),
             _rate_cell(a["remission_rate"], a.get("remission_ci"))] for name, a in summary["arms"].items()]
    return _uncut_table(header, rows,
                        title=f"virtual trial {summary['trial']} ({summary['scale']}, day {summary['primary_day']:g})")


def _biology_table(summary: dict) -> Table:
    """Each arm's biology (means over its patients), a table of its own as in the report."""
    day = f"{summary['primary_day']:g}"
    header = ["arm", "trip peak (0–1)", "window peak (0–1)", "window open (days)",
              f"window open on day {day} (patients)", f"spine density change to day {day} (healthy = 1)"]
    rows = [[name, *_biology_cells(a.get("biology", {}))] for name, a in summary["arms"].items()]
    return _uncut_table(header, rows, title=f"biology per arm ({summary['trial']}, means)")


def _uncut_table(header: list[str], rows: list[list[str]], *, title: str) -> Table:
    """A table that cuts nothing: the first column (the arm) is as wide as its longest name and
    never wraps ("four_on_three_o…" was cut before); the others wrap between words and, on a
    terminal too narrow for a word, fold it onto the next line rather than end it with "…"."""
    table = Table(title=title)
    table.add_column(header[0], min_width=max([len(row[0]) for row in rows] + [len(header[0])]), no_wrap=True)
    for col in header[1:]:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _biology_cells(bio: dict) -> list[str]:
    """Trip peak, window peak, days open and spine density change of one arm ("—" when not stored)."""
    from ..report.trial import biology_cells

    cells = biology_cells(bio)
    return [cells[key] for key in ("trip", "window_peak", "window_days", "window_open_at_day", "density")]


def _ssri_table(summary: dict) -> Table:
    """Each arm's change split by whether its patients stayed on an SSRI (no washout: RB8 blunting)."""
    from ..report.trial import shown

    scale = summary["scale"]
    labels = {"on_ssri": "on SSRI (stayed on it)", "off_ssri": "off SSRI"}  # the keys of stats.SSRI_GROUPS
    rows = []
    for name, a in summary["arms"].items():
        for key, label in labels.items():
            group = a.get("by_ssri_status", {}).get(key)
            if group is None:
                continue
            change = "—" if group["change_mean"] is None else (
                f"{group['change_mean']:.2f} ({shown(group['change_ci'][0], '.2f')}, "
                f"{shown(group['change_ci'][1], '.2f')})")
            rows.append([name, label, str(group["n"]), change])
    return _uncut_table(["arm", "SSRI status", "n", f"change ({scale} points, 95% CI)"], rows,
                        title=f"change at day {summary['primary_day']:g} by SSRI status (SSRI not washed out)")


@app.command()
def calibrate(
    twins: int = typer.Option(200, "--twins", help="Virtual twins per cohort (the published fit: 200)."),
    seed: int = typer.Option(7, "--seed", help="Seed of the twin cohorts (the published fit: 7)."),
    uncertainty: bool = typer.Option(False, "--uncertainty", help="Also refit at the corners of the targets' 95 % "
                                     "intervals and show how far each prediction moves (≈ 3 min at 200 twins)."),
    out: str = typer.Option(None, "--out", help="With --uncertainty: write the calibrations × predictions "
                                                "Dataset to this NetCDF file (its folder is created if missing)."),
    assumptions: bool = typer.Option(False, "--assumptions", help="Also halve and double each assumed symptom "
                                     "parameter, recalibrate, and show how far each prediction moves "
                                     "(17 recalibrations: ≈ 5 min at --twins 100, the docs' table; ≈ 9 min at the default 200)."),
    workers: int = typer.Option(None, "--workers", help="With --uncertainty/--assumptions: fan the recalibrations "
                                                        "out over a local Dask cluster of K processes (same result)."),
    plot: str = typer.Option(None, "--plot", help=PLOT_HELP + " With --uncertainty only: a forest plot of each "
                                                  "prediction's range over the calibrations against its published "
                                                  "95 % CI."),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Refit the clinical layer's two calibrated parameters (CL4 ketamine, CL1 escitalopram).

    With --uncertainty, refit at the centre and the four corners of the two targets' published
    95 % intervals and show, for each prediction that was not fitted (Raison, Goodwin, Carhart's
    psilocybin arm, ketamine's fading), its range over those calibrations and whether that range
    overlaps the published 95 % CI (or contains the published mean where no CI was extracted).

    With --assumptions, scale one assumed symptom parameter at a time (× 0.5, × 2), recalibrate,
    and show which variant comes closest to each published value.
    """
    from .. import DISCLAIMER

    if twins < 2:
        fail(f"--twins: must be ≥ 2, got {twins}")
    if seed < 0:
        fail(f"--seed: must be ≥ 0, got {seed}")
    if out is not None and not uncertainty:
        fail("--out: only written with --uncertainty")
    if out is not None and Path(out).is_dir():  # found before the refits, not after minutes of work
        fail(f"--out: {out!r} is a folder; give the path of a NetCDF file (e.g. envelope.nc)")
    if workers is not None and (workers < 1 or not (uncertainty or assumptions)):
        fail(f"--workers: give K ≥ 1 together with --uncertainty or --assumptions, got {workers}")
    if plot is not None and not uncertainty:
        fail("--plot: only drawn with --uncertainty")
    check_plot_path(plot)
    if out is not None:
        prepare_out_dir(Path(out).expanduser().parent, option="--out")
    if uncertainty:
        result, ds = _calibration_uncertainty(twins, seed, out, workers=workers, progress=not json_out)
        if plot is not None:
            from ..clinical.figures import plot_calibration_envelope

            result["plot"] = save_plot(plot_calibration_envelope(ds), plot)
    else:
        from ..clinical.calibration import fit

        result, ds = {"fit": fit(n=twins, seed=seed)}, None
    sensitivity = None
    if assumptions:
        from ..clinical.uncertainty import assumption_sensitivity

        sensitivity = assumption_sensitivity(n=twins, seed=seed, workers=workers, progress=not json_out)
        result["assumptions"] = _sensitivity_json(sensitivity)
    if json_out:
        emit_json(result)
        return
    console.print(_fit_table(result["fit"]))
    if ds is not None:
        from ..clinical.uncertainty import envelope_rows, fit_rows

        console.print(_rich_table(*fit_rows(ds), title="the five calibrations (target → achieved)"))
        console.print(_rich_table(*envelope_rows(ds),
                                  title="predictions over the calibrations the targets' 95 % intervals allow"))
        if out is not None:
            console.print(f"written: {out}")
        if plot is not None:
            console.print(f"figure: {result['plot']}")
    if sensitivity is not None:
        from ..clinical.uncertainty import sensitivity_rows

        header, rows, note = sensitivity_rows(sensitivity)
        console.print(_rich_table(header, rows, title="predictions with one assumed symptom parameter halved or "
                                                      "doubled, each variant recalibrated"))
        if note:
            console.print(note)
    console.print(f"[dim]{DISCLAIMER}[/]")


def _sensitivity_json(ds) -> dict:
    """Per variant: recalibrated or not, the refitted parameters and every prediction's value."""
    return {str(label): {"calibrated": bool(ds["calibrated"].sel(variant=label)),
                         "weight_circuit": float(ds["weight_circuit"].sel(variant=label)),
                         "gain_ssri_transcription": float(ds["gain_ssri_transcription"].sel(variant=label)),
                         "values": {str(k): float(v) for k, v in
                                    zip(ds["prediction"].values, ds["value"].sel(variant=label).values, strict=True)}}
            for label in ds["variant"].values}


def _calibration_uncertainty(twins: int, seed: int, out: str | None, *, workers: int | None, progress: bool):
    """The envelope, its JSON form (the fit is its centre row) and the NetCDF file if asked."""
    from ..clinical.calibration import fit_record
    from ..clinical.uncertainty import CL1_PSILOCYBIN, calibration_envelope, verdict
    from ..io import write_results

    ds = calibration_envelope(n=twins, seed=seed, workers=workers, progress=progress)
    if out is not None:
        write_results(ds, out)
    centre = ds.sel(calibration="centre")
    fit = fit_record(weight_circuit=float(centre["weight_circuit"]),
                     gain_ssri_transcription=float(centre["gain_ssri_transcription"]),
                     cl4_hedges_g=float(centre["achieved_cl4_hedges_g"]),
                     cl1_psilocybin=float(centre["value"].sel(prediction=CL1_PSILOCYBIN.key)),
                     cl1_escitalopram=float(centre["achieved_cl1_escitalopram"]), n=twins, seed=seed,
                     targets_reached=bool(centre["calibrated"]))
    calibrations = [{name: (str(ds[name].values[i]) if name == "calibration" else float(ds[name].values[i]))
                     for name in ("calibration", "target_cl4_hedges_g", "achieved_cl4_hedges_g",
                                  "target_cl1_escitalopram", "achieved_cl1_escitalopram",
                                  "weight_circuit", "gain_ssri_transcription")}
                    for i in range(ds.sizes["calibration"])]
    predictions = {}
    for key in ds["prediction"].values:
        row = ds.sel(prediction=key)
        predictions[key] = {"scale": row["scale"].item(), "published": float(row["published"]),
                            "published_ci": [float(row["published_ci_low"]), float(row["published_ci_high"])],
                            "at_fit": float(row["value"].sel(calibration="centre")),
                            "range": [float(row["value"].min()), float(row["value"].max())],
                            "verdict": verdict(ds, key)}
    return {"fit": fit, "calibrations": calibrations, "uncertainty": predictions}, ds


def _fit_table(fit: dict) -> Table:
    table = Table(title=f"calibration on virtual twins (n = {fit['n']}, seed {fit['seed']})")
    for col in ("quantity", "value"):
        table.add_column(col)
    table.add_row("weight_circuit (fitted to CL4)", f"{fit['weight_circuit']:.4f}")
    table.add_row("gain_ssri_transcription (fitted to CL1.escitalopram)", f"{fit['gain_ssri_transcription']:.4f}")
    table.add_row("CL4 Hedges g at day 1 (target −1.00)", f"{fit['cl4_hedges_g']:.3f}")
    table.add_row("CL1 escitalopram, QIDS change at week 6 (target −6.0)", f"{fit['cl1_escitalopram']:.2f}")
    table.add_row("CL1 psilocybin, QIDS change at week 6 (checked, published −8.0)", f"{fit['cl1_psilocybin']:.2f}")
    return table


def _rich_table(header: list[str], rows: list[list[str]], *, title: str) -> Table:
    table = Table(title=title)
    for col in header:
        table.add_column(col.replace("`", ""))
    for row in rows:
        table.add_row(*row)
    return table
