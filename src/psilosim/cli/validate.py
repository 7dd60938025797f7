"""``psilosim validate``: run the literature targets and print the scorecard."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ._app import (
    JSON_OPTION_HELP,
    PLOT_HELP,
    app,
    check_plot_path,
    console,
    emit_json,
    err_console,
    save_plot,
)

SCORECARD_PLOT_HELP = PLOT_HELP + (" The scorecard: each numeric target's band and simulated value, "
                                   "qualitative targets as pass/fail symbols.")


@app.command()
def validate(
    only: list[str] | None = typer.Option(  # noqa: B008 (typer declares options this way)
        None, "--only", help="Run only these target ids (repeatable); a family id such as PK1 runs "
                             "PK1.15, PK1.25 and PK1.30."
    ),
    plot: str = typer.Option(None, "--plot", help=SCORECARD_PLOT_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
    show_unmodelled: bool = typer.Option(
        True, "--show-unmodelled/--hide-unmodelled", help="List targets no check covers yet."
    ),
    accept_known_conflicts: bool = typer.Option(
        False, "--accept-known-conflicts",
        help="Exit 0 when the only failures are documented known conflicts (what CI runs); a "
             "documented conflict that passes is then an error, so its documentation is revisited.",
    ),
) -> None:
    """Run every literature target the model can compute and print a scorecard.

    Exits 1 when any target fails. Flags: 2° = value from a secondary source, unverified =
    commonly quoted but not found in a primary text, qualitative = a direction or rank order.
    A "known conflict" is a documented miss that was not tuned away (see docs/validation.md).
    """
    from ..validation import TARGETS, run_scorecard
    from ..validation.registry import resolve_target_ids

    only = resolve_target_ids(only) if only else None  # a bad id fails before the progress bar
    check_plot_path(plot)

    with Progress(
        TextColumn("validating"), BarColumn(), TextColumn("{task.completed}/{task.total} {task.description}"),
        TimeElapsedColumn(), console=err_console, transient=True, disable=json_out,
    ) as progress:
        task = progress.add_task("", total=len(only) if only else len(TARGETS))
        results = run_scorecard(
            ids=only or None,
            include_unmodelled=show_unmodelled,
            on_result=lambda r: progress.update(task, advance=1, description=r.id),
        )

    n_pass = sum(r.passed is True for r in results)
    n_fail = sum(r.passed is False for r in results)
    n_open = sum(r.passed is None for r in results)
    n_known = sum(r.status == "known conflict" for r in results)
    surprises = [r.id for r in results if r.status in ("fail", "conflict passed")]
    figure = None
    if plot is not None:
        from ..validation.figures import plot_scorecard

        figure = save_plot(plot_scorecard(results), plot)
    dataset = _network_dataset(results)
    if json_out:
        emit_json({
            "targets": [r.model_dump(exclude={"seconds"}) for r in results],
            "passed": n_pass, "failed": n_fail, "known_conflicts": n_known, "not_modelled": n_open,
            **({"network_dataset": dataset} if dataset is not None else {}),
            **({"plot": figure} if figure is not None else {}),
        })
    else:
        console.print(_scorecard_table(results))
        console.print(
            f"[green]{n_pass} passed[/], [red]{n_fail} failed[/] (of which {n_known} documented "
            f"known conflicts), {n_open} not modelled yet"
        )
        if dataset is not None:
            console.print(f"network rows ({', '.join(_connectome_rows(results))}) ran on the {dataset}",
                          highlight=False)
        for r in results:
            if r.known_conflict:
                console.print(f"[yellow]known conflict {r.id}:[/] {r.known_conflict}", highlight=False)
        if figure is not None:
            console.print(f"figure: {figure}")
    if surprises if accept_known_conflicts else n_fail:
        raise typer.Exit(1)


def _connectome_rows(results) -> list[str]:
    """The ids of the connectome rows that ran in ``results``."""
    from ..validation.checks_network import CONNECTOME_TARGETS

    return [r.id for r in results if r.id in CONNECTOME_TARGETS and r.passed is not None]


def _network_dataset(results) -> str | None:
    """Where the connectome rows ran (it depends on whether the reference folder is present)."""
    from ..validation.checks_network import network_dataset_note

    return network_dataset_note() if _connectome_rows(results) else None


def _scorecard_table(results) -> Table:
    table = Table(title="psilosim scorecard (REFERENCES.md)", show_lines=False)
    for col in ("id", "quantity", "published", "simulated", "band", "unit", "flags", "result"):
        table.add_column(col, overflow="fold")
    for r in results:
        verdict = {
            "pass": "[green]pass[/]", "fail": "[red]FAIL[/]", "not modelled": "[dim]not modelled[/]",
            "known conflict": "[yellow]FAIL (known conflict)[/]",
            "conflict passed": "[magenta]pass (documented as a conflict!)[/]",
        }[r.status]
        table.add_row(r.id, r.quantity, r.published, r.simulated_text, r.band_text, r.unit, r.flags_text, verdict)
    return table


