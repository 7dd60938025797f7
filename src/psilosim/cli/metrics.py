"""``psilosim analyze`` and ``psilosim compare``: network metrics of parcellated BOLD files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import typer
import xarray as xr
from rich.table import Table

from ..connectome import Parcellation
from ..errors import DataError, InputError
from ..metrics.params import DEFAULT_METRICS
from ._app import (
    JSON_OPTION_HELP,
    PLOT_HELP,
    app,
    check_plot_path,
    console,
    emit_json,
    err_console,
    named_as_options,
    save_plot,
)

#: What a region table given to ``--regions`` must have (a dataset folder needs ``hemisphere`` too).
METRICS_REGION_COLUMNS = ("label", "network")
REGIONS_HELP = ("Region table CSV (columns label, network[, hemisphere]), a dataset folder (its regions.csv) or a "
                "built-in dataset name (aal2); defaults to the dataset's own table when every BOLD is a built-in "
                "recording.")
#: The region table of a dataset folder (``psilosim.connectome.parcellation``).
REGION_TABLE_FILE = "regions.csv"
TR_HELP = ("Repetition time in seconds (optional for a psilosim NetCDF file with a time axis; a built-in "
           "recording has its own).")
#: How a built-in recording is given instead of a file.
BUILTIN_BOLD_HELP = "or a built-in recording as dataset:subject or dataset:index (aal2:NAP_001, aal2:0)"
NO_SUCH_FILE = ("no such file (a built-in recording is named dataset:subject or dataset:index, e.g. "
                "aal2:NAP_001 or aal2:0)")


def load_regions(spec: str) -> pd.DataFrame:
    """A region table from a CSV path, a dataset folder (its ``regions.csv``) or a built-in dataset name.

    A CSV is read as a dataset folder's ``regions.csv`` is (the same reader), needing only the
    columns ``label`` and ``network``.
    """
    from ..connectome.parcellation import read_region_table

    path = Path(spec)
    if path.is_dir():  # a dataset folder: its region table
        if not (path / REGION_TABLE_FILE).is_file():
            raise InputError("--regions", f"{spec}: a folder without {REGION_TABLE_FILE}; give a region table CSV "
                                          f"or a dataset folder that has one")
        path = path / REGION_TABLE_FILE
    if path.suffix.lower() == ".csv" or path.exists():
        if not path.is_file():
            raise InputError("--regions", f"{spec}: no such file")
        try:
            return read_region_table(path, required=METRICS_REGION_COLUMNS)[0]
        except DataError as exc:
            raise InputError("--regions", str(exc)) from None
    from ..connectome import BUILTIN, load_dataset

    if spec.lower() not in BUILTIN:
        raise InputError("--regions", f"{spec!r} is neither a CSV file nor a built-in dataset {sorted(BUILTIN)}")
    return load_dataset(spec.lower()).regions


def _read_matrix(path: Path) -> tuple[np.ndarray, list[str] | None]:
    if path.suffix.lower() == ".npy":
        try:
            return np.asarray(np.load(path, allow_pickle=False), dtype=float), None
        except (ValueError, OSError) as exc:
            raise InputError(str(path), f"not a numeric .npy array ({exc})") from None
    if path.suffix.lower() == ".txt":  # plain text: whitespace- or comma-separated
        text = path.read_text().replace(",", " ")
        frame = pd.read_csv(io.StringIO(text), header=None, sep=r"\s+")
    else:
        frame = pd.read_csv(path, header=None)
    header = None
    first = pd.to_numeric(frame.iloc[0], errors="coerce")
    if first.isna().all():  # a header row of region labels
        header = [str(x) for x in frame.iloc[0]]
        frame = frame.iloc[1:]
    values = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if frame.size and np.isnan(values).all():
        raise InputError(str(path), "not a numeric matrix (comma- or, for .txt, whitespace-separated)")
    return values, header


#: Axes of a scan results file's ``bold`` (``psilosim.network.scan.scan_session``) that pick one
#: recording, with the option that picks along each.
PICK_OPTIONS = {"condition": "--condition", "session": "--session"}
CONDITION_HELP = ("Condition to analyse in a scan results file whose 'bold' is condition × session × region "
                  "× time (e.g. baseline, receptor); needed when the file has several.")
SESSION_HELP = "Session (scan) to analyse in such a file, by its number; needed when the file has several."


def pick_recording(bold: xr.DataArray, spec: str, picks: dict[str, str | int | None]) -> xr.DataArray:
    """One recording of a results file's ``bold``: the ``condition`` and ``session`` in ``picks``.

    An axis of length one needs no pick; a pick for an axis the file does not have is refused,
    and so is a missing or unknown one (the message lists what the file holds).
    """
    for dim, option in PICK_OPTIONS.items():
        value = picks.get(dim)
        if dim not in bold.dims:
            if value is not None:
                raise InputError(option, f"{spec} has no {dim} axis ('bold' has dims {bold.dims})")
            continue
        available = [str(v) for v in bold[dim].values]
        if value is None and len(available) > 1:
            raise InputError(option, f"{spec} holds {len(available)} {dim}s; pick one with {option} "
                                     f"({', '.join(available)})")
        index = 0 if value is None else (available.index(str(value)) if str(value) in available else None)
        if index is None:
            raise InputError(option, f"{value!r} is not a {dim} of {spec}; it has {', '.join(available)}")
        bold = bold.isel({dim: index}, drop=True)
    return bold


def load_bold(spec: str, regions: pd.DataFrame, tr_s: float | None,
              picks: dict[str, str | int | None] | None = None) -> xr.DataArray:
    """BOLD from a CSV/TXT/NPY matrix (either orientation) or a psilosim NetCDF results file.

    ``picks`` (``condition``, ``session``) select one recording of a scan results file
    (:func:`pick_recording`); other files take none.

    The result has no time axis when ``tr_s`` is given (a NetCDF file's own is dropped): the
    analysis builds it from ``tr_s``, after checking that ``tr_s`` is a positive number of seconds
    (:func:`psilosim.metrics.analyze`), so a bad ``--tr`` is reported as such and not as a time
    axis that does not increase.
    """
    path = Path(spec)
    if not path.is_file():
        raise InputError(spec, NO_SUCH_FILE)
    labels = [str(x) for x in regions.index]
    if path.suffix.lower() in (".nc", ".netcdf", ".h5"):
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            if "bold" not in ds:
                raise InputError(spec, f"has no 'bold' variable (variables: {list(ds.data_vars)})")
            bold = pick_recording(ds["bold"].load(), spec, picks or {})
        if set(bold.dims) != {"region", "time"}:
            raise InputError(spec, f"'bold' has dims {bold.dims}, expected (region, time)")
        return bold if tr_s is None else bold.drop_vars("time", errors="ignore")
    if path.suffix.lower() not in (".csv", ".npy", ".txt"):
        raise InputError(spec, "unsupported file type; use .csv, .npy or a psilosim .nc results file")
    _refuse_picks(spec, picks)
    if tr_s is None:
        raise InputError("--tr", "the repetition time is required for CSV/NPY BOLD")
    values, header = _read_matrix(path)
    if values.ndim != 2:
        raise InputError(spec, f"expected a 2-D matrix, got shape {values.shape}")
    n = len(labels)
    if header is not None:  # columns are labelled regions: time × regions
        return xr.DataArray(values.T, dims=("region", "time"), coords={"region": header})
    if values.shape[0] == n:
        pass
    elif values.shape[1] == n:
        values = values.T
    else:
        raise InputError(spec, f"shape {values.shape} matches neither regions × time nor time × regions "
                               f"for the {n} regions of the region table")
    return xr.DataArray(values, dims=("region", "time"), coords={"region": labels})


def _refuse_picks(spec: str, picks: dict[str, str | int | None] | None) -> None:
    """A --condition/--session for a recording that holds one recording only is an error, not ignored."""
    for dim, value in (picks or {}).items():
        if value is not None:
            raise InputError(PICK_OPTIONS[dim], f"{spec} is a single recording (no {dim} axis); "
                                                f"{PICK_OPTIONS[dim]} is for psilosim scan results files")


#: A --condition/--session value for a file that takes no pick (a CSV or built-in recording compared
#: with a scan results file): ``--condition receptor --condition -``.
NO_PICK = "-"


def per_file_picks(conditions: list[str] | None, sessions: list[str] | None) -> list[dict]:
    """The picks of compare's two files: one --condition/--session value serves both, two are
    BEFORE's and AFTER's (``-``: none for that file)."""
    out = [{}, {}]
    for dim, values in (("condition", conditions), ("session", sessions)):
        values = list(values or [])
        if len(values) > 2:
            raise InputError(PICK_OPTIONS[dim], f"give it once (both files) or twice (BEFORE, then AFTER; "
                                                f"'{NO_PICK}' for a file without that axis), got {len(values)} values")
        for k in range(2):
            value = values[min(k, len(values) - 1)] if values else None
            out[k][dim] = None if value == NO_PICK else _pick_value(dim, value)
    return out


def _pick_value(dim: str, value: str | None) -> str | int | None:
    """A --session value as the integer it names (--condition values stay names)."""
    if value is None or dim != "session":
        return value
    try:
        return int(value)
    except ValueError:
        raise InputError(PICK_OPTIONS[dim], f"{value!r}: give a session number, or '{NO_PICK}' for a file "
                                            "without sessions") from None


class Recording(NamedTuple):
    """A BOLD argument resolved: a file (``parcellation`` None) or a built-in recording."""

    spec: str
    name: str
    parcellation: Parcellation | None = None
    bold: xr.DataArray | None = None


def resolve_recording(spec: str) -> Recording:
    """A BOLD argument as a file (when one exists at that path) or a built-in recording spec.

    Raises
    ------
    InputError
        Neither a file nor a built-in spec, or a built-in spec whose dataset has no such recording
        (the message lists them).
    """
    from ..connectome.builtin import builtin_recording, is_recording_spec, recording_name

    if Path(spec).is_file():  # a real file wins over a built-in spec of the same name (a folder does not)
        return Recording(spec, Path(spec).name)
    if not is_recording_spec(spec):
        raise InputError(spec, NO_SUCH_FILE)
    parcellation, bold = builtin_recording(spec)
    return Recording(spec, recording_name(parcellation, bold), parcellation, bold)


def region_table_for(regions: str | None, recordings: list[Recording]) -> pd.DataFrame:
    """``--regions`` when given; else the table of the dataset every recording is built into."""
    if regions is not None:
        return load_regions(regions)
    datasets = {r.parcellation.name for r in recordings if r.parcellation is not None}
    if len(datasets) == 1 and all(r.parcellation is not None for r in recordings):
        return recordings[0].parcellation.regions
    raise InputError("--regions", "required for BOLD files (optional only when every BOLD is a built-in "
                                  "recording of one dataset, e.g. aal2:NAP_001)")


def recording_bold(recording: Recording, regions: pd.DataFrame, tr_s: float | None,
                   picks: dict[str, str | int | None] | None = None) -> tuple[xr.DataArray, float | None]:
    """The BOLD of a resolved argument and the TR to analyse it with.

    A built-in recording keeps its time axis and TR (``None`` is returned: the analysis reads
    them); a ``--tr`` that contradicts its TR is refused rather than silently preferred.
    ``picks`` select one recording of a scan results file (:func:`pick_recording`).
    """
    if recording.bold is None:
        return load_bold(recording.spec, regions, tr_s, picks), tr_s
    _refuse_picks(recording.spec, picks)
    own = float(recording.bold.attrs["tr_s"])
    if tr_s is not None and not np.isclose(tr_s, own):
        raise InputError("--tr", f"{recording.spec} was recorded at TR {own:g} s, not {tr_s:g} s "
                                 "(omit --tr for a built-in recording)")
    return recording.bold, None


def _options(window_s, step_s, omega, gamma, seed, policy, engine) -> dict:
    return {"window_s": window_s, "step_s": step_s, "omega": omega, "gamma": gamma, "seed": seed,
            "policy": policy, "engine": engine}


WINDOW = typer.Option(DEFAULT_METRICS.window_s.value, "--window-s", help="Sliding-window length in seconds.")
STEP = typer.Option(DEFAULT_METRICS.step_s.value, "--step-s", help="Sliding-window step in seconds.")
OMEGA = typer.Option(DEFAULT_METRICS.omega.value, "--omega",
                     help="Interslice coupling of the multilayer partition (Bassett 2011: 1).")
GAMMA = typer.Option(DEFAULT_METRICS.gamma.value, "--gamma",
                     help="Resolution of the multilayer partition (Bassett 2011: 1).")
SEED = typer.Option(0, "--seed", help="Seed of all randomness (community detection).")
POLICY = typer.Option("positive", "--policy", help="Negative FC weights: 'positive' (dropped) or 'signed' (Rubinov & Sporns 2011).")
PER_FILE = " Once for both files, or twice: BEFORE's, then AFTER's ('-' for a file without that axis)."
COMPARE_CONDITION = typer.Option(None, "--condition", metavar="NAME", help=CONDITION_HELP + PER_FILE)
COMPARE_SESSION = typer.Option(None, "--session", metavar="K", help=SESSION_HELP + PER_FILE)
ENGINE = typer.Option("louvain", "--engine", help="Multilayer optimiser: 'louvain' (fast) or 'leidenalg' (reference).")


@app.command()
@named_as_options
def analyze(
    bold: str = typer.Argument(..., help="BOLD file: regions×time or time×regions CSV/TXT (whitespace or commas)/NPY, "
                                         "or a psilosim .nc results file; " + BUILTIN_BOLD_HELP + "."),
    regions: str = typer.Option(None, "--regions", help=REGIONS_HELP),
    tr: float = typer.Option(None, "--tr", help=TR_HELP),
    condition: str = typer.Option(None, "--condition", help=CONDITION_HELP),
    session: int = typer.Option(None, "--session", help=SESSION_HELP),
    window_s: float = WINDOW, step_s: float = STEP, omega: float = OMEGA, gamma: float = GAMMA,
    seed: int = SEED, policy: str = POLICY, engine: str = ENGINE,
    plot: str = typer.Option(None, "--plot", help=PLOT_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Network metrics of one recording: FC, DMN, modularity, participation, flexibility.

    A psilosim scan results file holds a recording per condition and session: pick one with
    --condition and --session.
    """
    from ..metrics import analyze as run
    from ..metrics import summary

    check_plot_path(plot)
    recording = resolve_recording(bold)
    table = region_table_for(regions, [recording])
    with console.status("analysing", spinner="dots") if not json_out else _null():
        data, tr_s = recording_bold(recording, table, tr, {"condition": condition, "session": session})
        analysed = run(data, table, tr_s=tr_s, **_options(window_s, step_s, omega, gamma, seed, policy, engine))
        result = summary(analysed)
    if plot is not None:
        from ..metrics.figures import analysis_figure

        result["plot"] = save_plot(analysis_figure(analysed, table, source=recording.name), plot)
    if json_out:
        emit_json(result)
        return
    console.print(_scalar_table(f"psilosim analyze: {recording.name}", result))
    console.print(_network_table(result["fc_by_network"], result["flexibility_by_network"]))
    _figure_line(result)
    _disclaimer()


@app.command()
@named_as_options
def compare(
    before: str = typer.Argument(..., help="BOLD file of the first condition (baseline), " + BUILTIN_BOLD_HELP + "."),
    after: str = typer.Argument(..., help="BOLD file of the second condition (as BEFORE)."),
    regions: str = typer.Option(None, "--regions", help=REGIONS_HELP),
    tr: float = typer.Option(None, "--tr", help=TR_HELP),
    condition: list[str] = COMPARE_CONDITION, session: list[str] = COMPARE_SESSION,
    window_s: float = WINDOW, step_s: float = STEP, omega: float = OMEGA, gamma: float = GAMMA,
    seed: int = SEED, policy: str = POLICY, engine: str = ENGINE,
    plot: str = typer.Option(None, "--plot", help=PLOT_HELP),
    json_out: bool = typer.Option(False, "--json", help=JSON_OPTION_HELP),
) -> None:
    """Change of every metric between two recordings (after − before) and desynchronisation.

    Two recordings of one psilosim scan results file: give the file twice and pick with
    --condition baseline --condition receptor (and --session).
    """
    from ..metrics import compare as run
    from ..metrics import compare_summary
    from ..metrics.analysis import as_analysis

    check_plot_path(plot)
    recordings = [resolve_recording(before), resolve_recording(after)]
    picks = per_file_picks(condition, session)
    table = region_table_for(regions, recordings)
    options = _options(window_s, step_s, omega, gamma, seed, policy, engine)
    with console.status("comparing", spinner="dots") if not json_out else _null():
        # each recording analysed as compare() analyses it (errors named before.* / after.*), kept
        # for the figure; compare() then takes the two results as they are
        (bold_a, tr_a), (bold_b, tr_b) = (recording_bold(r, table, tr, p) for r, p in zip(recordings, picks,
                                                                                         strict=True))
        first = as_analysis(bold_a, table, tr_a, field="before", options=options)
        second = as_analysis(bold_b, table, tr_b, field="after", options=options)
        change = run(first, second, table)
        result = compare_summary(change)
    if plot is not None:
        from ..metrics.figures import comparison_figure

        result["plot"] = save_plot(comparison_figure(first, second, change, table,
                                                     names=(recordings[0].name, recordings[1].name)), plot)
    if json_out:
        emit_json(result)
        return
    console.print(_scalar_table(f"psilosim compare: after − before ({recordings[1].name} − {recordings[0].name})",
                                result["delta"]))
    desync = Table(title="desynchronisation (FC change)")
    for col in ("network", "mean |ΔFC|", "correlation distance"):
        desync.add_column(col)
    desync.add_row("global", _fmt(result["desync"]["mean_abs_diff"]), _fmt(result["desync"]["corr_distance"]))
    by_net = result["desync"]["by_network"]
    for name, value in by_net["mean_abs_diff"].items():
        desync.add_row(name, _fmt(value), _fmt(by_net["corr_distance"][name]))
    console.print(desync)
    console.print(f"FCD KS distance: {_fmt(result['fcd_ks'])}")
    _figure_line(result)
    _disclaimer()


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.4g}"


def _scalar_table(title: str, result: dict) -> Table:
    from ..metrics import SCALARS

    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name in SCALARS:
        table.add_row(name, _fmt(result.get(name)))
    return table


def _network_table(fc_within: dict, flexibility: dict) -> Table:
    table = Table(title="by network")
    for col in ("network", "within-network FC", "flexibility"):
        table.add_column(col)
    for name in fc_within:
        table.add_row(name, _fmt(fc_within[name]), _fmt(flexibility.get(name)))
    return table


def _figure_line(result: dict) -> None:
    if "plot" in result:
        console.print(f"figure: {result['plot']}")


def _disclaimer() -> None:
    from .. import DISCLAIMER

    err_console.print(f"[dim]{DISCLAIMER}[/]")
