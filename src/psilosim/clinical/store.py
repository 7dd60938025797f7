"""A virtual trial's output folder: chunk files, manifest, resume, gathered results and provenance.

A trial folder holds ``run.json`` (the manifest: what identifies the run, :data:`RUN_IDENTITY`, and
the parameter values behind its ``models`` hash, so a refused resume names those that differ),
``chunks/`` (one NetCDF file per chunk of patients, written atomically), the gathered results
(``results.nc`` or ``results.zarr``) and ``provenance.json``. A run resumed in its folder keeps the
complete chunk files and recomputes the rest, so no patient is lost or duplicated
(:func:`resume_bounds`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import xarray as xr

from .. import __version__
from ..errors import DataError, InputError
from ..io import TRIAL_MANIFEST_FILE
from .design import TrialDesign
from .identity import DEFAULT_MODELS, ModelSet, network_label

__all__ = [
    "CHUNK_DIR",
    "MANIFEST_FILE",
    "MODELS_DIFFER_HINT",
    "RESULTS_FILE",
    "RESULTS_FILES",
    "RUN_IDENTITY",
    "ZARR_FORMAT",
    "check_results_format",
    "check_trial_folder",
    "chunk_bounds",
    "completed_chunks",
    "cover_patients",
    "design_as_run",
    "design_from_provenance",
    "gather",
    "open_trial_folder",
    "read_manifest",
    "resume_bounds",
    "write_chunk",
    "write_provenance",
    "write_results",
]

CHUNK_DIR = "chunks"
RESULTS_FILE = "results.nc"
#: File of the gathered results per ``results_format`` (chunks are always NetCDF: they are small and
#: written atomically; Zarr is offered for the gathered results of large trials, read lazily by chunk).
RESULTS_FILES = {"netcdf": RESULTS_FILE, "zarr": "results.zarr"}
#: Zarr format written: version 2 has a stable specification for every dtype of the results
#: (text coordinates included), so other Zarr readers can open the store.
ZARR_FORMAT = 2
MANIFEST_FILE = TRIAL_MANIFEST_FILE  # io knows it too: a single run must not replace a trial


def chunk_bounds(n_patients: int, chunk_size: int) -> list[tuple[int, int]]:
    """Chunks of ``chunk_size`` patients (the last one shorter) holding patients ``0 … n_patients-1``."""
    return [(s, min(s + chunk_size, n_patients)) for s in range(0, n_patients, chunk_size)]


def _chunk_path(out: Path, start: int, stop: int) -> Path:
    return out / CHUNK_DIR / f"chunk_{start:08d}_{stop:08d}.nc"


def _write_atomically(ds: xr.Dataset, path: Path) -> None:
    tmp = path.with_suffix(".nc.partial")
    ds.to_netcdf(tmp, engine="h5netcdf")
    os.replace(tmp, path)



def write_chunk(ds: xr.Dataset, out: Path, start: int, stop: int) -> None:
    """Save the chunk of patients ``start … stop-1`` as its file under ``out`` (atomically)."""
    _write_atomically(ds, _chunk_path(out, start, stop))


def _write_zarr_atomically(ds: xr.Dataset, path: Path) -> None:
    """Write a Zarr store next to ``path`` and move it into place, so a reader never sees half a store."""
    import shutil

    tmp = path.with_name(path.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    ds.to_zarr(tmp, mode="w", zarr_format=ZARR_FORMAT)
    if path.exists():  # a folder cannot be replaced by a rename: the previous store goes first
        shutil.rmtree(path)
    os.replace(tmp, path)


def write_results(ds: xr.Dataset, out: Path, *, results_format: str = "netcdf") -> Path:
    """Write the gathered results into ``out`` as ``results.nc`` or ``results.zarr``; return the path."""
    from ..io import stamp

    path = out / RESULTS_FILES[results_format]
    ds = stamp(ds)
    if results_format == "zarr":
        _write_zarr_atomically(ds, path)
    else:
        _write_atomically(ds, path)
    return path


def check_results_format(results_format: str) -> None:
    """Refuse an unknown results format, or Zarr without the zarr package (``InputError("--format")``)."""
    if results_format not in RESULTS_FILES:
        raise InputError("--format", f"{results_format!r}: expected one of {', '.join(RESULTS_FILES)}")
    if results_format == "zarr":
        try:
            import zarr  # noqa: F401 (only checking that it is installed)
        except ImportError:
            raise InputError("--format", "zarr needs the zarr package: pip install 'psilosim[zarr]'") from None


def open_trial_folder(out: Path, design: TrialDesign, seed: int, n_patients: int, chunk_size: int,
                      models: ModelSet, fingerprint: str) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
    """Open the trial folder ``out`` for a run: check it, write or check its manifest, and return
    the run's chunks and those already complete on disk (:func:`resume_bounds`).

    Raises
    ------
    InputError
        On ``--out``: a file, a folder that is not a trial's (:func:`check_trial_folder`), or one
        holding a different run; on ``models``: resuming with a hook that has no stable identity.
    """
    if out.exists() and not out.is_dir():
        raise InputError("--out", f"{out} is a file, not a folder; choose another output folder")
    check_trial_folder(out)  # an empty folder or a trial's own, for the API as for the CLI
    out.mkdir(parents=True, exist_ok=True)
    _check_manifest(out, {"design": _design_identity(design), "seed": seed, "patients": n_patients,
                          "models": fingerprint, "version": __version__,
                          # the values behind the fingerprint, so a refused resume can name those that differ
                          MANIFEST_VALUES_KEY: models.parameter_sets(design=design)}, models.unstable_hooks())
    return resume_bounds(out, n_patients, chunk_size)


def _check_manifest(out: Path, manifest: dict, unstable: dict[str, str] | None = None) -> None:
    path = out / MANIFEST_FILE
    if path.exists() and unstable:
        role, why = next(iter(unstable.items()))
        raise InputError("models", f"cannot resume the run in {out}: its {role} ({why}) has no identity that "
                                   "stays the same between processes, so chunks made with another hook could not be "
                                   "told apart; give a function, or a dataclass or pydantic hook, or use another folder")
    if path.exists():
        old = read_manifest(out)
        differs = [k for k in RUN_IDENTITY if old.get(k) != manifest[k]]
        if differs:
            plural = len(differs) > 1 or differs == ["models"]  # "model parameters" is plural itself
            raise InputError("--out", f"{out} holds a different run: its {' and '.join(RUN_IDENTITY[k] for k in differs)} "
                                      f"{'differ' if plural else 'differs'}{_values(old, manifest, differs)}"
                                      f"{_models_detail(out, old, manifest) if 'models' in differs else ''}; "
                                      "choose another folder or delete it")
    else:
        (out / CHUNK_DIR).mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(manifest, indent=2, default=str))


#: What identifies a run in its manifest (``run.json``), with the name a message gives it. The chunk
#: size is not among them: results do not depend on it, and a resumed run reuses the chunks on disk
#: whatever their size (:func:`resume_bounds`).
RUN_IDENTITY = {"design": "design", "seed": "seed", "patients": "number of patients",
                "models": "model parameters", "version": "psilosim version"}
#: Why the model parameters of a folder can differ although the user changed nothing.
MODELS_DIFFER_HINT = ("model parameters: a hash of every parameter value the run depends on, which changes when a "
                      "parameter changes or a psilosim update records more of them; folders made before the binding "
                      "link's sets were recorded are not resumed")


#: Key of the manifest holding the parameter values behind its ``models`` fingerprint (by set, as
#: ``provenance.json``'s ``parameter_sets``); folders made before it was written lack it.
MANIFEST_VALUES_KEY = "parameter_sets"


def _models_detail(out: Path, old: dict, manifest: dict) -> str:
    """Why the model parameters of the folder ``out`` (manifest ``old``) differ from the asked
    ones: the values that differ (:func:`psilosim.io.parameter_changes`) when the folder records
    them (its manifest, else its ``provenance.json``); "another psilosim model version" when none
    of them differs; the general :data:`MODELS_DIFFER_HINT` when the folder records none."""
    from ..io import listed_changes, parameter_changes

    saved, asked = old.get(MANIFEST_VALUES_KEY), manifest.get(MANIFEST_VALUES_KEY)
    if not isinstance(saved, dict):
        saved = _provenance_values(out)
    if saved is None or asked is None:
        return f" ({MODELS_DIFFER_HINT})"
    changes = parameter_changes(saved, asked)
    if changes:
        return f" (model parameters there → asked: {listed_changes(changes)})"
    return " (no recorded parameter value differs: the folder was made by another psilosim model version)"


def _provenance_values(out: Path) -> dict | None:
    """The ``parameter_sets`` of the ``provenance.json`` in the trial folder ``out``; ``None`` when
    it has none or it cannot be read."""
    from ..io import PROVENANCE_FILE

    try:
        record = json.loads((out / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    values = record.get("parameter_sets") if isinstance(record, dict) else None
    return values if isinstance(values, dict) else None


def read_manifest(out: Path) -> dict | None:
    """The manifest (``run.json``) of the trial folder ``out``; ``None`` when it has none.

    Raises
    ------
    InputError
        On ``--out`` when ``run.json`` is not a JSON object holding every key of :data:`RUN_IDENTITY`
        (someone else's file, or a damaged one): it is not told "a different run".
    """
    path = Path(out) / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or not set(RUN_IDENTITY) <= set(manifest):
        raise InputError("--out", f"{path} is not a psilosim trial manifest; use another folder")
    return manifest


def check_trial_folder(out: Path) -> None:
    """Refuse an output folder a trial may not write into: only an empty folder or a trial's own
    folder (a real ``run.json``, resumed or rerun) is accepted, so ``--out`` never replaces nor
    mixes with other files (a ``psilosim run`` folder's ``results.nc``, ``acute.png``).

    Raises
    ------
    InputError
        On ``--out``: a ``run.json`` that is not a manifest (:func:`read_manifest`), or a non-empty
        folder without one.
    """
    out = Path(out)
    if read_manifest(out) is None and out.is_dir() and any(out.iterdir()):
        raise InputError("--out", f"{out} exists and is not a psilosim output folder of a trial (no {MANIFEST_FILE}); "
                                  "choose an empty or new folder, or a trial's folder to resume it")


def _values(old: dict, new: dict, keys: list[str]) -> str:
    """`` (seed 1 there, 2 asked)`` for the keys whose values a person can read (not the hashes)."""
    readable = [f"{RUN_IDENTITY[k]} {old.get(k)} there, {new[k]} asked" for k in keys
                if k in ("seed", "patients", "version")]
    return f" ({'; '.join(readable)})" if readable else ""


def resume_bounds(out: Path, n_patients: int, chunk_size: int) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
    """Chunks of a run resumed in ``out``, and those already complete on disk.

    The complete chunk files are kept whatever chunk size made them (non-overlapping, in order of
    their first patient); the patients no kept chunk holds are split into new chunks of
    ``chunk_size``. Every patient is in exactly one chunk, so none is lost or duplicated.

    Parameters
    ----------
    out
        The run's output folder (its chunk files under ``CHUNK_DIR``).
    n_patients
        Patients in the run.
    chunk_size
        Largest number of patients in a new chunk.

    Returns
    -------
    tuple
        ``(bounds, complete)``: every chunk as ``(first patient, one past the last)``, sorted, and
        the set of those already complete on disk (:func:`cover_patients`).
    """
    on_disk = [b for b in map(_bounds_of, (out / CHUNK_DIR).glob("chunk_*_*.nc")) if b and b[1] <= n_patients]
    return cover_patients(completed_chunks(out, on_disk), n_patients, chunk_size)


def cover_patients(complete, n_patients: int, chunk_size: int) -> tuple[list[tuple[int, int]], set[tuple[int, int]]]:
    """Chunks holding patients ``0 … n_patients-1`` exactly once: non-overlapping ``complete``
    chunks (earliest first), and new chunks of at most ``chunk_size`` patients in the gaps.

    Parameters
    ----------
    complete
        ``(start, stop)`` patient ranges already done (they may overlap, e.g. from two chunk
        sizes; of overlapping ones the earliest is kept; those reaching past ``n_patients`` are dropped).
    n_patients
        Patients in the run.
    chunk_size
        Largest number of patients in a new chunk.

    Returns
    -------
    tuple
        ``(bounds, kept)``: every chunk as ``(start, stop)``, sorted, and the set of ``complete``
        chunks kept.
    """
    kept, end = [], 0
    for start, stop in sorted(complete):
        if end <= start < stop <= n_patients:  # files of two chunkings may overlap: the first one wins
            kept.append((start, stop))
            end = stop
    bounds, cursor = list(kept), 0
    for start, stop in [*kept, (n_patients, n_patients)]:
        bounds += [(s, min(s + chunk_size, start)) for s in range(cursor, start, chunk_size)]
        cursor = stop
    return sorted(bounds), set(kept)


def _bounds_of(path: Path) -> tuple[int, int] | None:
    """``(start, stop)`` of a chunk file named by :func:`_chunk_path`, ``None`` for another name."""
    match = re.fullmatch(r"chunk_(\d+)_(\d+)", path.stem)
    return None if match is None else (int(match.group(1)), int(match.group(2)))


def completed_chunks(out: Path, bounds: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """Chunks whose file exists and holds exactly the chunk's patients."""
    done = set()
    for start, stop in bounds:
        path = _chunk_path(out, start, stop)
        if not path.exists():
            continue
        try:
            with xr.open_dataset(path, engine="h5netcdf") as ds:
                ok = np.array_equal(ds["patient"].values, np.arange(start, stop))
        except Exception:  # a truncated file from a killed run: recompute it
            ok = False
        if ok:
            done.add((start, stop))
    return done


def gather(out: Path, bounds: list[tuple[int, int]]) -> xr.Dataset:
    """Concatenate the chunk files of ``bounds`` and check every patient appears exactly once."""
    parts = [xr.load_dataset(_chunk_path(out, s, e), engine="h5netcdf") for s, e in bounds]
    ds = xr.concat(parts, dim="patient").sortby("patient")
    n = bounds[-1][1]
    if not np.array_equal(ds["patient"].values, np.arange(n)):
        raise DataError(f"chunks in {out} do not hold patients 0…{n - 1} exactly once")
    return ds


def write_provenance(out: Path, design: TrialDesign, seed: int, n_patients: int, models: ModelSet,
                     fingerprint: str) -> None:
    """``provenance.json`` of a finished run: version, design (:func:`design_as_run`), seed, UTC
    time and parameter values (``fingerprint``: the run's ``models.fingerprint(design=design)``, computed
    once per run)."""
    from ..io import PROVENANCE_FILE, provenance_record

    record = provenance_record(scenario=design.model_dump(mode="json"), seed=int(seed), kind="trial",
                               parameter_sets=models.parameter_sets(design=design),
                               extra={"patients": int(n_patients), "model_fingerprint": fingerprint,
                                      "design_fingerprint": design.fingerprint(), "biology_model": models.label,
                                      "network_model": network_label(design, models),
                                      # where this run lives: a re-run from a copy of the record
                                      # may not write (and so resume) there (io.check_rerun_target)
                                      "outputs": {"folder": str(Path(out).resolve())}})
    tmp = out / f"{PROVENANCE_FILE}.partial"
    tmp.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, out / PROVENANCE_FILE)


def _design_identity(design: TrialDesign) -> str:
    """The manifest's ``design``: the design's hash apart from its patients and seed, which the
    manifest keeps as keys of their own, so a refused resume names the one that differs, and a
    design re-read from ``provenance.json`` resumes the run it came from."""
    return design.model_copy(update={"patients": 1, "seed": 0}).fingerprint()


def design_as_run(design: TrialDesign, n_patients: int, seed: int) -> TrialDesign:
    """``design`` with the number of patients and the seed a run used in place of its defaults:
    the design a run saves (results ``attrs["design"]``, ``provenance.json``) and identifies itself
    by, so that the saved design alone re-runs the same patients (:func:`design_from_provenance`).

    The simulation, the model fingerprint and the manifest's ``design`` (:func:`_design_identity`)
    do not depend on these two fields.
    """
    if design.patients == n_patients and design.seed == seed:
        return design
    return design.model_copy(update={"patients": int(n_patients), "seed": int(seed)})


def design_from_provenance(path: str | Path, *, models: ModelSet | None = None) -> TrialDesign:
    """The design of the trial whose ``provenance.json`` is at ``path``, with the patients and seed
    it was run with: :func:`run_trial` of it (with ``models``, default
    :data:`~psilosim.clinical.identity.DEFAULT_MODELS`) gives the same numbers again, unless a
    :class:`~psilosim.errors.RerunChangedWarning` names parameter values (``parameter_sets``, whose
    numbers make the model fingerprint) that differ from the record's, or another psilosim version.

    Raises
    ------
    InputError
        On the path: not a psilosim provenance record, or one of ``psilosim run`` (a scenario, not
        a trial); the design's own errors as :func:`~psilosim.clinical.design.design_from_dict`.
    """
    from ..io import read_provenance, warn_if_rerun_differs
    from .design import design_from_dict

    record = read_provenance(path, "trial")
    data = dict(record["scenario"])
    for key in ("patients", "seed"):  # top level: older records saved the design's defaults in the block
        if record.get(key) is not None:
            data[key] = record[key]
    design = design_from_dict(data, source=str(path))
    models = DEFAULT_MODELS if models is None else models
    warn_if_rerun_differs(path, record, "parameter_sets", models.parameter_sets(design=design))
    return design
