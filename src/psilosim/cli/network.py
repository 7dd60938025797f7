"""Commands for the network link: ``psilosim fit`` and ``psilosim scan``."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .. import DISCLAIMER
from ..errors import InputError
from ._app import JSON_OPTION_HELP, app, console, emit_json, err_console

DATASET_HELP = "Built-in dataset name (aal2) or a folder with regions.csv, sc.csv, fc.csv, receptors.csv."


@contextmanager
def _progress(label: str, quiet: bool):
    """A transient progress bar on stderr; yields a callback taking the fraction done."""
    with Progress(TextColumn(label), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err_console, transient=True, disable=quiet) as bar:
        task = bar.add_task("", total=1.0)
        yield lambda fraction: bar.update(task, completed=fraction)


@app.command()
def fit(
    dataset: str = typer.Option("aal2", "--dataset", help=DATASET_HELP),
    points: int = typer.Option(9, "--points", help="Number of G values in the sweep."),
    minutes: float = typer.Option(10.0, "--minutes", help="Simulated BOLD per G value, minutes."),
    seed: int = typer.Option(0, "--seed", help="Noise seed (the fit is deterministic for a seed)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Fit the DMF's global coupling G (with FIC) to a dataset's empirical FC.

    Sweeps G, refines feedback inhibition control at each value so every region fires at
    about 3 Hz, simulates BOLD and scores it: Pearson correlation of simulated and empirical FC
    (upper triangle) and, when the dataset has BOLD, the FCD Kolmogorov–Smirnov distance.
    sc_fc_corr is the plain SC–FC correlation for reference.
    """
    from ..connectome import load_dataset
    from ..network.fit import fit as run_fit
    from ..network.fit import g_grid

    if not np.isfinite(minutes) or minutes <= 0:
        raise InputError("--minutes", f"must be positive, got {minutes}")
    parcellation = load_dataset(dataset)
    grid = g_grid(parcellation, points=points)
    with _progress(f"fitting G on {parcellation.name}", json_out) as progress:
        result = run_fit(parcellation, grid, seed=seed, duration_s=minutes * 60.0, progress=progress)
    payload = {**result.as_dict(), "dataset": parcellation.name, "seed": seed,
               "sweep": {"G": result.sweep["G"].values, "fc_corr": result.sweep["fc_corr"].values,
                         "fcd_ks": result.sweep["fcd_ks"].values}}
    if json_out:
        emit_json(payload)
        return
    table = Table(title=f"G sweep on {parcellation.name}")
    for col in ("G", "FC corr", "FCD KS", "rates min–max (Hz)"):
        table.add_column(col, justify="right")
    for row in result.sweep.to_dataframe().itertuples():
        table.add_row(f"{row.Index:.4g}", f"{row.fc_corr:.3f}", f"{row.fcd_ks:.3f}",
                      f"{row.min_rate:.2f}–{row.max_rate:.2f}")
    console.print(table)
    ks = "n/a (no BOLD)" if result.fcd_ks is None else f"{result.fcd_ks:.3f}"
    console.print(f"best G = {result.G:.4g}: FC corr {result.fc_corr:.3f} (SC–FC {result.sc_fc_corr:.3f}), FCD KS {ks}")


@app.command()
def scan(
    compound: str = typer.Option("psilocybin", "--compound", help="Compound name."),
    dose: str = typer.Option("25 mg", "--dose", help="Dose with unit, e.g. '25 mg' or '0.3 mg/kg'."),
    at_hours: float = typer.Option(2.0, "--at-hours", help="Scan start, hours after the dose."),
    dataset: str = typer.Option("aal2", "--dataset", help=DATASET_HELP),
    minutes: float = typer.Option(10.0, "--minutes", help="Scan length, minutes of BOLD."),
    seed: int = typer.Option(0, "--seed", help="Noise seed."),
    occupancy: float = typer.Option(None, "--occupancy",
                                    help="Use this 5-HT2A occupancy (0-1) instead of the pharmacology chain."),
    gain_map: str = typer.Option("receptor", "--gain-map", help="receptor | uniform | shuffled."),
    compare_maps: bool = typer.Option(False, "--compare-maps", help="Also simulate uniform and shuffled maps."),
    method: str = typer.Option("simulate", "--method",
                               help="simulate (BOLD scans) | linear (expected FC, linear-noise approximation, fast)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Simulate a baseline and a drug scan session and report the FC change per network.

    The drug scan takes 5-HT2A occupancy from the pharmacology chain over the scan window and
    raises each region's excitatory gain by 1 + s * R_i * occupancy (Deco et al. 2018). Drug and
    baseline share a noise stream; a second baseline with another stream gives the noise floor.
    """
    from ..connectome import load_dataset
    from ..network import scan as sc

    if method not in ("simulate", "linear"):
        raise InputError("--method", f"{method!r}; expected simulate or linear")
    if gain_map not in sc.MAP_KINDS:
        raise InputError("--gain-map", f"{gain_map!r}; expected one of {', '.join(sc.MAP_KINDS)}")
    if not np.isfinite(minutes) or minutes <= 0:
        raise InputError("--minutes", f"must be positive, got {minutes}")
    parcellation = load_dataset(dataset)
    if occupancy is None:
        occ = sc.occupancy_window(compound, dose, at_hours, minutes, seed=seed)
        start_h = at_hours
    else:
        if not 0.0 <= occupancy <= 1.0:
            raise InputError("--occupancy", f"must be a fraction in [0, 1], got {occupancy}")
        occ, start_h = float(occupancy), 0.0
        compound = dose = "given occupancy"
    maps = [gain_map] + ([m for m in ("uniform", "shuffled") if m != gain_map] if compare_maps else [])
    if method == "linear":
        mean_occ = occ if isinstance(occ, float) else float(
            occ.sel(time_h=slice(start_h, start_h + minutes / 60.0)).mean())
        session = sc.linear_session(parcellation, mean_occ, seed=seed, maps=maps)
    else:
        with _progress(f"scanning {parcellation.name}", json_out) as progress:
            session = sc.scan_session(parcellation, occ, minutes=minutes, seed=seed, maps=maps,
                                      start_h=start_h, progress=progress)
    primary = _map_summary(session, parcellation, gain_map)
    payload = {
        "dataset": parcellation.name, "compound": compound, "dose": dose, "at_hours": at_hours,
        "minutes": minutes, "seed": seed, "method": method, "G": session.attrs["coupling"],
        "occupancy": session.attrs["mean_occupancy"], "gain_map": gain_map, **primary,
        "disclaimer": DISCLAIMER,
    }
    if compare_maps:
        payload["compare_maps"] = {m: _map_summary(session, parcellation, m) for m in maps[1:]}
    if json_out:
        emit_json(payload)
        return
    _print_scan(payload)


def _map_summary(session, parcellation, kind: str) -> dict:
    """FC change for one map kind; shuffled maps are averaged over their permutations."""
    from ..network.scan import summarise

    names = [str(c) for c in session["condition"].values]
    members = [n for n in names if n == kind or n.startswith(f"{kind}_")]
    summaries = [summarise(session, parcellation, m) for m in members]
    by_net = {net: float(np.mean([s["fc_change_by_network"][net] for s in summaries]))
              for net in summaries[0]["fc_change_by_network"]}
    out = {"gain_map": kind, "fc_change_by_network": by_net,
           "fc_change_global": float(np.mean([s["fc_change_global"] for s in summaries])),
           "most_changed_network": max(by_net, key=by_net.get)}
    if "noise_floor_global" in summaries[0]:
        out["noise_floor_global"] = summaries[0]["noise_floor_global"]
    if len(members) > 1:
        out["per_map_global"] = [s["fc_change_global"] for s in summaries]
    return out


def _print_scan(payload: dict) -> None:
    when = ("at a given occupancy" if payload["compound"] == "given occupancy"
            else f"{payload['compound']} {payload['dose']} at {payload['at_hours']} h")
    table = Table(title=f"FC change, {when} ({payload['dataset']}, 5-HT2A occupancy {payload['occupancy']:.2f})")
    table.add_column("network")
    table.add_column(payload["gain_map"], justify="right")
    others = payload.get("compare_maps", {})
    for name in others:
        table.add_column(name, justify="right")
    for net, value in payload["fc_change_by_network"].items():
        table.add_row(net, f"{value:.4f}", *[f"{others[m]['fc_change_by_network'][net]:.4f}" for m in others])
    table.add_row("global", f"{payload['fc_change_global']:.4f}",
                  *[f"{others[m]['fc_change_global']:.4f}" for m in others])
    console.print(table)
    if "noise_floor_global" in payload:
        console.print(f"test–retest noise floor (two baselines): {payload['noise_floor_global']:.4f}")
    console.print(f"[dim]{DISCLAIMER}[/]")
