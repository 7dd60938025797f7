"""Results on disk: NetCDF data, a provenance record and figures, written atomically.

:func:`write_run` fills a hidden temporary folder next to the destination and renames it into
place only when every file has been written, so a failed run never leaves a partial folder that
looks complete. A destination that exists is replaced only if it is a previous psilosim output
(it holds ``provenance.json``) or empty.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import shlex
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import xarray as xr

from . import DISCLAIMER, __version__
from .errors import InputError

RESULTS_FILE = "results.nc"
PROVENANCE_FILE = "provenance.json"
#: A virtual trial's manifest (:mod:`psilosim.clinical.trial`): its folder is a trial, which a
#: single run must not replace (the report, the chunks and the resume record would be lost).
TRIAL_MANIFEST_FILE = "run.json"
#: Names tried for the hidden folder a run is written into before it replaces the destination
#: (a random suffix each; a clash is astronomically unlikely, the loop only avoids an endless retry).
PARTIAL_NAME_ATTEMPTS = 16
FIGURE_DPI = 150
#: File types a --plot option writes (by suffix).
FIGURE_FORMATS = ("png", "svg", "pdf")


def prepare_out_dir(path: str | Path, *, option: str = "--out") -> Path:
    """Create the output folder ``path`` if missing (like ``mkdir -p``) and check it is writable.

    Every command with an output-folder option calls this before any work, so a folder that
    cannot be created fails at once with one clear line instead of a traceback after the run.

    Parameters
    ----------
    path
        The folder the user asked for; missing parent folders are created too.
    option
        Name of the option or field the path came from (``"--out"``, ``"outputs.folder"``),
        used as the ``field`` of the error.

    Returns
    -------
    pathlib.Path
        The folder, resolved to an absolute path; it exists and is a writable directory.

    Raises
    ------
    InputError
        When the folder cannot be created (a parent is a file, no permission, read-only file
        system), when ``path`` is an existing file, or when the folder is not writable.
    """
    folder = Path(path).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(option, f"{folder} cannot be created: it exists as a file, not a folder") from None
    except NotADirectoryError:
        raise InputError(option, f"{folder} cannot be created: a parent in the path is a file, "
                                 "not a folder") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(option, f"{folder} cannot be created: {reason}") from None
    if not folder.is_dir():
        raise InputError(option, f"{folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(option, f"{folder} is not writable (permission denied)")
    return folder.resolve()


#: What a provenance record's ``kind`` says, with the command that re-runs it.
PROVENANCE_KINDS = {"run": "psilosim run", "trial": "psilosim trial"}


def provenance_record(*, scenario: dict[str, Any], seed: int | None, parameter_sets: dict[str, Any],
                      extra: dict[str, Any] | None = None, kind: str | None = None) -> dict[str, Any]:
    """What is needed to reproduce a run: version, scenario, seed, time (UTC), parameter sets.

    ``kind`` (``"run"`` or ``"trial"``, :data:`PROVENANCE_KINDS`) says which command re-runs the
    record (:func:`read_provenance`); the ``command`` is the command line that made it.
    """
    return {
        "psilosim_version": __version__,
        "created_utc": _now_utc(),
        "python": platform.python_version(),
        **({} if kind is None else {"kind": kind}),
        "command": command_line(),
        "seed": seed,
        "parameter_sets": parameter_sets,
        "scenario": scenario,
        "disclaimer": DISCLAIMER,
        **(extra or {}),
    }


def _now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def command_line() -> str:
    """The command line of this process (``psilosim trial carhart2021 --patients 40``), shell-quoted."""
    argv = list(sys.argv)
    if argv and Path(argv[0]).name in ("psilosim", "__main__.py"):
        argv[0] = "psilosim"
    return shlex.join(argv)


def stamp(dataset: xr.Dataset) -> xr.Dataset:
    """``dataset`` with the global attributes that say what made it: ``psilosim_version``,
    ``created_utc`` and ``command`` (the command line); every results file psilosim writes
    (``run``, ``trial``, ``calibrate --out``) goes through it."""
    return dataset.assign_attrs(psilosim_version=__version__, created_utc=_now_utc(), command=command_line())


def write_results(dataset: xr.Dataset, path: str | Path) -> Path:
    """Write ``dataset`` to NetCDF-4 with h5netcdf, stamped (:func:`stamp`)."""
    path = Path(path)
    stamp(dataset).to_netcdf(path, engine="h5netcdf")
    return path


def provenance_kind(record: dict[str, Any]) -> str | None:
    """``"run"`` or ``"trial"`` for a psilosim provenance record (older records, without ``kind``,
    by their scenario block: a trial design has ``arms``, a scenario ``treatments``); ``None``
    for anything else."""
    if not isinstance(record, dict) or "psilosim_version" not in record or not isinstance(record.get("scenario"),
                                                                                            dict):
        return None
    if record.get("kind") in PROVENANCE_KINDS:
        return record["kind"]
    scenario = record["scenario"]
    return "trial" if "arms" in scenario else "run" if "treatments" in scenario else None


def check_provenance(record: Any, expect: str, source: str) -> dict[str, Any]:
    """``record`` (a parsed ``provenance.json``) once it is known to be a record that ``expect``
    (``"run"`` or ``"trial"``) re-runs.

    Raises
    ------
    InputError
        On ``source`` for a mapping that is not a psilosim provenance record, or a record of the
        other kind (naming the command that re-runs it).
    """
    kind = provenance_kind(record)
    if kind is None:
        raise InputError(source, "not a psilosim provenance record (a provenance.json written by psilosim run or "
                                 "psilosim trial, with psilosim_version and a scenario block)")
    if kind != expect:
        what = "a virtual trial" if kind == "trial" else "a scenario run"
        raise InputError(source, f"is the provenance of {what}; re-run it with `{PROVENANCE_KINDS[kind]} {source}`")
    return record


def read_provenance(path: str | Path, expect: str) -> dict[str, Any]:
    """Read ``provenance.json`` at ``path`` for a re-run by ``expect`` (:func:`check_provenance`).

    Raises
    ------
    InputError
        On the path: no such file, not JSON, or not a record ``expect`` re-runs.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such provenance file")
    try:
        record = json_record(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"not a provenance record ({exc})") from None
    return check_provenance(record, expect, str(path))


def json_record(text: str) -> Any:
    """The JSON object ``text`` holds (a provenance record is JSON, whatever the file is called);
    ``None`` when it is not one. JSON is read as JSON, not as YAML, which would turn ``5e-05`` or
    ``NaN`` into strings and make a re-run see changed values where none changed."""
    if not text.lstrip().startswith("{"):  # a scenario, a design, a CSV: not parsed twice
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def provenance_record_at(path: str | Path | None) -> dict[str, Any] | None:
    """The psilosim provenance record in the file ``path``, whatever its name (a copy saved as
    ``rec.yaml`` is still one: the commands read records by content); ``None`` when ``path`` is not
    an existing file holding one (a scenario, a design, a preset name)."""
    if path is None or not Path(path).is_file():
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read(64).lstrip()[:1] != "{":  # a large data file is not read whole
                return None
        record = json_record(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return None
    return record if provenance_kind(record) is not None else None


def check_rerun_target(source: str | Path | None, folder: Path, *, out_given: bool) -> None:
    """Refuse to write a re-run from a provenance record where the run it re-runs lives: the
    record's own folder or the folder it names (a copied record still names the original).

    A re-run needs ``--out``: without it the output would go to the recorded run's folder, and a
    trial would even resume its chunks instead of simulating again.

    Raises
    ------
    InputError
        On ``--out``: no ``--out`` for a re-run, or one that is the recorded run's folder.
    """
    record = provenance_record_at(source)
    if record is None:
        return
    if not out_given:
        raise InputError("--out", f"re-running {source} needs --out: without it the output would go to the folder "
                                  "of the run being re-run")
    recorded = {Path(source).expanduser().resolve().parent}
    for block in (record, record.get("scenario")):  # a trial's record, a run's scenario block
        outputs = block.get("outputs") if isinstance(block, dict) else None
        named = outputs.get("folder") if isinstance(outputs, dict) else None
        if isinstance(named, str):
            recorded.add(Path(named).expanduser().resolve())
    if Path(folder).expanduser().resolve() in recorded:
        raise InputError("--out", f"{folder} holds the run being re-run, which this would replace; "
                                  "give --out another folder")


#: What of a parameter (a mapping with ``value`` and ``unit``) decides the numbers: not its source,
#: note, evidence kind or bounds. A re-run's comparison and a trial's identity
#: (:meth:`psilosim.clinical.identity.ModelSet.fingerprint`) both keep only these (:func:`numbers_only`).
PARAM_IDENTITY_KEYS = ("value", "unit")
#: Descriptive text of a parameter set or compound (not a parameter), left out in the same way.
DESCRIPTIVE_KEYS = ("description", "default_reason", "label", "aliases")
#: Changed values a re-run warning names before "and N more" (a longer list hides its first lines).
CHANGES_LISTED = 10
#: Characters of one value a re-run warning shows (a hook's identity is a long text).
VALUE_SHOWN_CHARS = 40
_MISSING = object()


def parameter_changes(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What differs between the parameter values a provenance record saved and the current ones.

    Parameters
    ----------
    saved, current
        Parameter sets by name, each dumped as JSON (``{field: {"value", "unit", ...}}``, nested
        for a compound). Only what decides the numbers is compared (:func:`numbers_only`).

    Returns
    -------
    list of str
        ``"set.field old → new"`` per changed value (``"set.field.unit ..."`` for a changed unit or
        bound), sorted; a set only one side has is one ``"set (not in the record)"`` or
        ``"set (no longer used)"`` line.
    """
    current = json.loads(json.dumps(current, default=str))  # as the record holds them (JSON numbers, text)
    changes = []
    for name in sorted(set(saved) | set(current), key=str):
        if name not in saved:
            changes.append(f"{name} (not in the record)")
        elif name not in current:
            changes.append(f"{name} (no longer used)")
        else:
            old, new = _flat_values(saved[name], str(name)), _flat_values(current[name], str(name))
            changes += [f"{key} {_shown(old.get(key, _MISSING))} → {_shown(new.get(key, _MISSING))}"
                        for key in sorted(set(old) | set(new)) if not _same(old.get(key, _MISSING),
                                                                           new.get(key, _MISSING))]
    return changes


def numbers_only(part: Any) -> Any:
    """``part`` (dumped parameter sets, a compound) with what decides the numbers only: of each
    parameter its value and unit (:data:`PARAM_IDENTITY_KEYS`), and no descriptive text
    (:data:`DESCRIPTIVE_KEYS`)."""
    if isinstance(part, dict):
        if "value" in part and "unit" in part:
            return {key: part[key] for key in PARAM_IDENTITY_KEYS}
        return {key: numbers_only(value) for key, value in part.items() if key not in DESCRIPTIVE_KEYS}
    if isinstance(part, list):
        return [numbers_only(value) for value in part]
    return part


def _flat_values(part: Any, prefix: str) -> dict[str, Any]:
    """``part`` as ``{dotted path: value}`` (:func:`numbers_only`): a parameter's value under its
    own path, its unit under ``path.unit``."""
    part = numbers_only(part)
    if isinstance(part, dict):
        is_param = set(part) == set(PARAM_IDENTITY_KEYS)
        out = {prefix: part["value"]} if is_param else {}
        for key, value in part.items():
            if not (is_param and key == "value"):
                out.update(_flat_values(value, f"{prefix}.{key}"))
        return out
    if isinstance(part, list):
        out = {}
        for k, value in enumerate(part):
            out.update(_flat_values(value, f"{prefix}.{k}"))
        return out
    return {prefix: part}


def _same(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)  # NaN is NaN


def _shown(value: Any) -> str:
    if value is _MISSING:
        return "(none)"
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= VALUE_SHOWN_CHARS else text[:VALUE_SHOWN_CHARS - 1] + "…"


def rerun_differences(record: dict[str, Any], values_key: str, current: dict[str, Any]) -> list[str]:
    """Why a re-run of the provenance ``record`` may not give its numbers again: another psilosim
    version wrote it, it saved no parameter values, or its values under ``values_key``
    (``parameter_values`` of a run, ``parameter_sets`` of a trial) differ from ``current``
    (:func:`parameter_changes`, at most :data:`CHANGES_LISTED` named). Empty when nothing differs."""
    reasons = []
    version = record.get("psilosim_version")
    if version != __version__:
        reasons.append(f"it was written by psilosim {version}, this is psilosim {__version__}")
    saved = record.get(values_key)
    if not isinstance(saved, dict):
        reasons.append(f"it holds no parameter values ({values_key}) to compare with the current ones")
        return reasons
    changes = parameter_changes(saved, current)
    if changes:
        reasons.append(f"{len(changes)} parameter value(s) differ from the record (recorded → current): "
                       f"{listed_changes(changes)}")
    return reasons


def listed_changes(changes: list[str]) -> str:
    """The first :data:`CHANGES_LISTED` of ``changes`` (:func:`parameter_changes`), then "and N more"."""
    more = len(changes) - CHANGES_LISTED
    return ", ".join(changes[:CHANGES_LISTED]) + (f", and {more} more" if more > 0 else "")


def warn_if_rerun_differs(source: str | Path, record: dict[str, Any], values_key: str,
                          current: dict[str, Any]) -> None:
    """Warn (:class:`~psilosim.errors.RerunChangedWarning`) when a re-run of ``record`` (read from
    ``source``) runs under another model than the recorded run (:func:`rerun_differences`). It goes
    ahead: the user may want the record re-run under the current model."""
    import warnings

    from .errors import RerunChangedWarning

    reasons = rerun_differences(record, values_key, current)
    if reasons:
        warnings.warn(f"re-running {source} under the current model, not the recorded one: {'; '.join(reasons)}; "
                      "its numbers need not be the recorded run's", RerunChangedWarning, stacklevel=3)


def check_figure_path(path: str | Path, *, option: str = "--plot") -> Path:
    """The figure file ``path`` (``~`` expanded) once it is known to be writable, with its folder
    created if missing, so a command can check it before any work is spent.

    Raises
    ------
    InputError
        On ``option`` for a file type that is not written, a path that is a folder, or a folder
        that cannot be created.
    """
    path = Path(path).expanduser()
    if path.suffix.lower().lstrip(".") not in FIGURE_FORMATS:
        raise InputError(option, f"{path}: give a file ending in {', '.join('.' + f for f in FIGURE_FORMATS)}")
    if path.is_dir():
        raise InputError(option, f"{path} is a folder; give a file such as {path / 'figure.png'}")
    prepare_out_dir(path.parent, option=option)
    return path


def save_figure(fig, path: str | Path, *, option: str = "--plot") -> Path:
    """Save a matplotlib figure as ``path`` (PNG, SVG or PDF by its suffix) and close it.

    Raises
    ------
    InputError
        On ``option`` for a suffix matplotlib cannot write, or a folder that cannot be created.
    """
    import matplotlib.pyplot as plt

    try:
        path = check_figure_path(path, option=option)
        fig.savefig(path, dpi=FIGURE_DPI)
    except OSError as exc:  # e.g. a file that may not be overwritten
        raise InputError(option, f"{path}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
    return path


def write_run(folder: str | Path, *, dataset: xr.Dataset, provenance: dict[str, Any],
              figures: dict[str, Any] | None = None, field: str = "outputs.folder") -> Path:
    """Write results, provenance and figures (name → matplotlib Figure) to ``folder`` atomically.

    ``field`` names the input the folder came from, for the error when it may not be replaced.

    Returns
    -------
    pathlib.Path
        The completed folder.
    """
    dest = Path(folder).resolve()
    check_replaceable(dest, field=field)
    provenance = _with_dataset_seed(provenance, dataset)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_partial_folder(dest, field)
    try:
        write_results(dataset, tmp / RESULTS_FILE)
        for name, fig in (figures or {}).items():
            fig.savefig(tmp / f"{name}.png", dpi=FIGURE_DPI)
        # provenance last: its presence marks a complete folder
        (tmp / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=2, default=str), encoding="utf-8")
        _swap_into_place(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _with_dataset_seed(provenance: dict[str, Any], dataset: xr.Dataset) -> dict[str, Any]:
    """The provenance with the seed the dataset was run with when the scenario had none (a drawn seed)."""
    seed = dataset.attrs.get("seed")
    if provenance.get("seed") is None and seed is not None and int(seed) >= 0:
        return {**provenance, "seed": int(seed), "seed_drawn": True}
    return provenance


def check_replaceable(dest: str | Path, *, field: str = "outputs.folder") -> None:
    """Refuse a folder that :func:`write_run` may not replace: a non-empty folder without a psilosim
    provenance record (someone else's files). Call it before simulating, so the error comes first."""
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or (any(dest.iterdir()) and not (dest / PROVENANCE_FILE).exists())):
        raise InputError(field, f"{dest} exists and is not a psilosim output folder; choose another")
    if (dest / TRIAL_MANIFEST_FILE).exists():
        raise InputError(field, f"{dest} holds a virtual trial ({TRIAL_MANIFEST_FILE}), which this run would replace; "
                                "choose another folder")


def _new_partial_folder(dest: Path, field: str) -> Path:
    """A new hidden folder beside ``dest`` to fill before the swap, made by ``mkdir`` so it gets a
    result folder's permissions under the user's umask (``mkdtemp`` makes a private 0700 one)."""
    for _ in range(PARTIAL_NAME_ATTEMPTS):
        tmp = dest.parent / f".{dest.name}.partial-{secrets.token_hex(4)}"
        try:
            tmp.mkdir()
            return tmp
        except FileExistsError:
            continue
    raise InputError(field, f"could not create a working folder beside {dest}")


def _swap_into_place(tmp: Path, dest: Path) -> None:
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
        old.rmdir()
        dest.rename(old)
    tmp.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
