"""Virtual-trial designs as data: arms, randomisation, visits, scale, population.

A :class:`TrialDesign` is what a trial protocol says: who is included (baseline severity on a
scale, exclusion of a psychosis/bipolar history, SSRI washout), which arms (treatments given on
regimens, psychotherapy on/off, the setting during the window, the expectancy a blinding creates),
how patients are randomised (allocation ratios in permuted blocks) and when they are rated.

Designs load from YAML (:func:`load_design`) or come from :mod:`psilosim.clinical.presets`.

Errors: :func:`load_design` and :func:`design_from_dict` raise one
:class:`~psilosim.errors.InputError` naming the field (``arms.0.treatments.0.compound``), which
the command line prints as one line. Building the models in Python (``TrialDesign(...)``,
``TrialDesign.model_validate``, and ``model_copy(update=...)``, which validates too) raises
pydantic's ``ValidationError`` instead, whose message names the same field.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationError, field_validator, model_serializer, model_validator

from ..compounds import Compound, compound_from_dict, portable_compound
from ..errors import InputError
from ..plasticity.params import resolve_mechanisms
from ..regimen import Regimen, input_error_from
from ..scenario import CustomCompound, custom_compound_first, read_yaml
from ._models import SpecModel
from .biology import INERT_COMPOUNDS, ArmTreatment
from .patients import BaselineSeverity
from .scales import get_scale

__all__ = [
    "ArmSpec",
    "ImagingSpec",
    "TreatmentSpec",
    "TrialDesign",
    "check_imaging_dataset",
    "design_from_dict",
    "load_design",
]

@lru_cache(maxsize=64)
def _custom_compound(spec_json: str):
    """A custom compound built once per definition (deriving one validates a whole compound)."""
    return CustomCompound.model_validate_json(spec_json).build()


class TreatmentSpec(SpecModel):
    """A compound given on a regimen (``psilosim.regimen.Regimen`` fields) from ``start_day``.

    This is what a trial design holds (YAML ``arms[].treatments[]``, :class:`ArmSpec`): a
    validated, serialisable description. ``compound`` is a library name (any compound of
    :func:`psilosim.compounds.known_compounds`), an inert comparator (``placebo``, ``niacin``), a
    custom compound ``{name, based_on, overrides}`` (e.g. a non-hallucinogenic analogue), or a full
    compound definition (the mapping of a compound file, as in a scenario, or a
    :class:`~psilosim.compounds.Compound`). A compound registered at run time
    (:func:`~psilosim.compounds.register_compound`) is held as its definition
    (:func:`~psilosim.compounds.portable_compound`), so it reaches worker processes, which do not
    share this process's registry. :meth:`to_arm_treatment` resolves it into the runtime
    :class:`~psilosim.clinical.biology.ArmTreatment` that the patient biology reads.
    """

    compound: str | CustomCompound | Compound
    regimen: Regimen
    start_day: float = Field(default=0.0, ge=0.0)

    @field_validator("compound", mode="before")
    @classmethod
    def _definition_first(cls, value: Any) -> Any:
        # a mapping with based_on (or a misspelling of it, or overrides) is a custom compound,
        # any other mapping a full definition: each validated on its own, naming its own fields
        custom = isinstance(value, dict) and "overrides" in value
        value = custom_compound_first(value, any_mapping=custom)
        return compound_from_dict(value) if isinstance(value, dict) else value

    @field_validator("compound")
    @classmethod
    def _known(cls, value: str | CustomCompound | Compound) -> str | CustomCompound | Compound:
        if isinstance(value, CustomCompound):
            _custom_compound(value.model_dump_json())  # fails early, naming the bad field
            return value
        if isinstance(value, Compound):
            return value
        name = value.strip().lower()
        if name in INERT_COMPOUNDS:
            return name
        from ..compounds import known_compounds

        known = [c.lower() for c in known_compounds()]
        if name not in known:
            raise InputError("compound", f"unknown compound {value!r}; known: {known + list(INERT_COMPOUNDS)}, "
                                         "a custom {name, based_on, overrides} or a full compound definition")
        return portable_compound(name)

    def to_arm_treatment(self) -> ArmTreatment:
        """The runtime form (a custom compound built into a :class:`~psilosim.compounds.Compound`)."""
        compound = self.compound
        if isinstance(compound, CustomCompound):
            compound = _custom_compound(compound.model_dump_json())
        return ArmTreatment(compound, self.regimen, self.start_day)


class ArmSpec(SpecModel):
    """One arm of a trial.

    ``therapy`` (psychological support and integration), ``environment`` (the setting during the
    window: supportive, none or stressful), ``mechanisms`` (plasticity routes switched on/off,
    e.g. ``{trkb_direct: false}``) and ``interactions`` (drug interactions switched off by name,
    as a scenario's ``subject.interactions``: ``{ssri_5ht2a_downregulation: false}``; unset, all
    on) are the what-if options of an arm; ``expectancy`` is the expectancy its blinding creates.
    """

    name: str = Field(min_length=1)
    treatments: list[TreatmentSpec] = Field(default_factory=list)
    therapy: bool = True
    environment: Literal["supportive", "none", "stressful"] = "supportive"
    expectancy: float = Field(default=1.0, ge=0.0, le=3.0)
    allocation: int = Field(default=1, ge=1)
    mechanisms: dict[str, bool] | None = None
    interactions: dict[str, bool] | None = None
    description: str = ""

    @field_validator("treatments", mode="before")
    @classmethod
    def _specs_not_runtime_treatments(cls, value: Any) -> Any:
        for item in value if isinstance(value, (list, tuple)) else ():
            if isinstance(item, ArmTreatment):
                raise InputError("treatments", "got an ArmTreatment (the runtime form patient_biology reads); "
                                               "an arm takes TreatmentSpec: use TreatmentSpec(compound=..., "
                                               "regimen=..., start_day=...)")
        return value

    @field_validator("mechanisms")
    @classmethod
    def _mechanisms_known(cls, value: dict[str, bool] | None) -> dict[str, bool] | None:
        if value is not None:
            resolve_mechanisms(value)  # InputError naming the unknown route
        return value

    @field_validator("interactions")
    @classmethod
    def _interactions_known(cls, value: dict[str, bool] | None) -> dict[str, bool] | None:
        if value is not None:
            from ..pharmacokinetics.interactions import enabled_interactions

            enabled_interactions(value)  # InputError naming the unknown interaction
        return value

    @model_serializer(mode="wrap")
    def _unset_interactions_left_out(self, handler):
        """An arm that switches no interaction dumps as arms did before the option existed (so its
        design's fingerprint, and the runs saved with it, are unchanged)."""
        data = handler(self)
        if isinstance(data, dict) and data.get("interactions") is None:
            data.pop("interactions", None)
        return data

    def arm_treatments(self) -> list[ArmTreatment]:
        """The arm's treatments in their runtime form (:meth:`TreatmentSpec.to_arm_treatment`)."""
        return [t.to_arm_treatment() for t in self.treatments]


class ImagingSpec(SpecModel):
    """Which visits are resting-state fMRI visits, for whom, and what is measured (rewiring layer).

    ``visits`` are study days among the design's visits (day 0, the baseline scan, first);
    ``fraction`` of patients is imaged (drawn per patient from its own random stream);
    ``flexibility`` adds a short simulated scan per visit for network flexibility (costly);
    ``dataset`` is the parcellation (``"aal2"`` or a folder path, e.g. one with a hippocampus; in a
    design file a relative folder is read from the file's own folder and saved absolute).
    """

    visits: list[float] = Field(min_length=2)
    fraction: float = Field(default=1.0, gt=0.0, le=1.0)
    flexibility: bool = False
    dataset: str = "aal2"

    @field_validator("visits")
    @classmethod
    def _sorted(cls, value: list[float]) -> list[float]:
        arr = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(arr)) or arr[0] != 0 or np.any(np.diff(arr) <= 0):
            raise InputError("imaging.visits", f"must start at day 0 and increase strictly, got {value}")
        return [float(v) for v in arr]

class TrialDesign(SpecModel):
    """A virtual randomised trial.

    Parameters
    ----------
    name
        Short identifier (``carhart2021``).
    scale
        Rating scale of the outcome.
    visits
        Study days of the ratings; day 0 (baseline, before the first dose) is required.
    primary_day
        The primary end point: one of ``visits`` after the baseline visit (day 0).
    arms
        At least one arm; the first two define the reported difference unless ``comparison``.
    comparison
        ``[arm, reference]`` names for the between-arm difference.
    baseline
        Enrolled baseline severity (see :class:`~psilosim.clinical.patients.BaselineSeverity`).
    exclude_psychosis_bipolar, ssri_washout
        Eligibility rules (see :mod:`psilosim.clinical.patients`).
    ssri_fraction_at_screening
        Share (0–1) of candidates taking an SSRI when screened; ``None`` keeps the population's
        ``fraction_on_ssri_at_screening`` (0.5, assumed). With ``ssri_washout: false``, 1.0 puts
        every patient of every arm on an SSRI (the SSRI what-if without a mixed arm).
    block_size
        Size of the permuted randomisation blocks, a multiple of the sum of allocations.
    patients, seed
        Defaults for a run (the command line overrides them).
    reference, published
        Citation of the design and its published outcomes (shown beside the simulation).
    imaging
        Resting-state fMRI visits (:class:`ImagingSpec`); ``None``: no imaging endpoints.
    """

    name: str = Field(min_length=1)
    description: str = ""
    reference: str = ""
    scale: str
    visits: list[float] = Field(min_length=2)
    primary_day: float
    arms: list[ArmSpec] = Field(min_length=1)
    comparison: list[str] | None = None
    baseline: BaselineSeverity
    exclude_psychosis_bipolar: bool = True
    ssri_washout: bool = True
    ssri_fraction_at_screening: float | None = Field(default=None, ge=0.0, le=1.0)
    block_size: int | None = Field(default=None, ge=1)
    patients: int = Field(default=200, ge=1)
    seed: int = Field(default=0, ge=0)
    grid_step_d: float = Field(default=0.25, gt=0.0, le=1.0)
    published: dict[str, Any] = Field(default_factory=dict)
    imaging: ImagingSpec | None = None

    @field_validator("scale")
    @classmethod
    def _scale_known(cls, value: str) -> str:
        return get_scale(value, field="scale").name

    @field_validator("visits")
    @classmethod
    def _visits_sorted(cls, value: list[float]) -> list[float]:
        arr = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise InputError("visits", "study days must be finite and ≥ 0")
        if np.any(np.diff(arr) <= 0):
            raise InputError("visits", f"study days must be strictly increasing, got {value}")
        if arr[0] != 0:
            raise InputError("visits", "the first visit must be day 0 (baseline, before the first dose)")
        return [float(v) for v in arr]

    @model_validator(mode="after")
    def _consistent(self) -> TrialDesign:
        if self.primary_day not in self.visits:
            raise InputError("primary_day", f"{self.primary_day:g} is not one of the visits {self.visits}")
        if self.primary_day <= self.visits[0]:
            raise InputError("primary_day", f"day {self.primary_day:g} is the baseline visit (before the first dose), "
                                            "where every change is 0 by definition; the primary end point must be a "
                                            f"later visit, one of {self.visits[1:]}")
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise InputError("arms", f"arm names must be unique, got {names}")
        if get_scale(self.baseline.scale).name != self.scale:
            raise InputError("baseline.scale", f"must be the trial's scale {self.scale}")
        if self.comparison is not None:
            if len(self.comparison) != 2 or any(c not in names for c in self.comparison) \
                    or self.comparison[0] == self.comparison[1]:
                raise InputError("comparison", f"must name two different arms among {names}")
        if self.imaging is not None and not set(self.imaging.visits) <= set(self.visits):
            raise InputError("imaging.visits", f"{self.imaging.visits} must be among the visits {self.visits}")
        if self.block_size is not None and self.block_size % self.allocation_total:
            raise InputError("block_size", f"must be a multiple of the total allocation {self.allocation_total}")
        self._treatments_start_before_the_end()
        self._imaging_grid_resolves_the_acute_state()
        return self

    def _imaging_grid_resolves_the_acute_state(self) -> None:
        """Imaging rewires from the window's spine formation during the acute hours, which a grid
        coarser than ``REWIRING.max_window_grid_step`` under-weights: refused here, at load, rather
        than in the middle of a run."""
        from ..rewiring.params import REWIRING

        limit = REWIRING.max_window_grid_step.to("day")
        if self.imaging is not None and self.grid_step_d > limit:
            raise InputError("grid_step_d", f"{self.grid_step_d:g} d is coarser than {limit:g} d, the finest step "
                                            "the imaging visits' rewiring needs (docs/rewiring.md)")

    def _treatments_start_before_the_end(self) -> None:
        """A treatment that starts on or after the last visit would dose no one that anyone measures."""
        for a, arm in enumerate(self.arms):
            for t, treatment in enumerate(arm.treatments):
                if treatment.start_day >= self.end_day:
                    raise InputError(f"arms.{a}.treatments.{t}.start_day",
                                     f"{treatment.start_day:g} is not before the last visit (day {self.end_day:g})")

    # ------------------------------------------------------------------ derived
    @property
    def allocation_total(self) -> int:
        return sum(a.allocation for a in self.arms)

    @property
    def effective_block_size(self) -> int:
        return self.block_size or 2 * self.allocation_total

    @property
    def arm_names(self) -> list[str]:
        return [a.name for a in self.arms]

    @property
    def compared_arms(self) -> tuple[str, str] | None:
        if self.comparison is not None:
            return self.comparison[0], self.comparison[1]
        return (self.arms[0].name, self.arms[1].name) if len(self.arms) > 1 else None

    @property
    def end_day(self) -> float:
        return self.visits[-1]

    def grid(self) -> np.ndarray:
        """Simulation grid in days: every ``grid_step_d`` and every visit."""
        steps = np.arange(0.0, self.end_day + self.grid_step_d / 2, self.grid_step_d)
        return np.unique(np.concatenate([steps, self.visits]))

    def fingerprint(self) -> str:
        """A hash of the design (resuming a run checks it).

        Options left unset that were added later (``imaging``, ``ssri_fraction_at_screening``;
        an arm's ``interactions`` is left out of its dump) are left out, so a design that does not use them hashes as before they existed.
        """
        data = self.model_dump(mode="json")
        for key in ("imaging", "ssri_fraction_at_screening"):
            if data.get(key) is None:
                data.pop(key, None)
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def arm_of(self, index: int, seed: int) -> int:
        """Arm index of patient ``index``: permuted blocks drawn from ``(seed, block)``.

        The assignment depends only on the seed and the patient's index, never on chunking.
        """
        size = self.effective_block_size
        block, pos = divmod(int(index), size)
        per_block = np.repeat(np.arange(len(self.arms)),
                              [a.allocation * size // self.allocation_total for a in self.arms])
        rng = np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=(2**31 - 1, block)))
        return int(rng.permutation(per_block)[pos])


def design_from_dict(data: dict[str, Any], *, source: str = "scenario") -> TrialDesign:
    """Validate a design dictionary, turning validation errors into one :class:`InputError`."""
    if not isinstance(data, dict):
        raise InputError(source, "a trial scenario must be a mapping (YAML keys: name, scale, visits, arms, ...)")
    if "trial" in data and isinstance(data["trial"], dict):
        data = data["trial"]
    try:
        design = TrialDesign.model_validate(data)
    except ValidationError as exc:
        raise input_error_from(exc, model=TrialDesign) from None
    check_imaging_dataset(design)
    return design


def check_imaging_dataset(design: TrialDesign) -> None:
    """Refuse an imaging dataset that is neither built in nor an existing folder (user input only:
    a stored design read back from results is not re-checked, its folder may have moved)."""
    from ..connectome import BUILTIN

    if design.imaging is None:
        return
    text = design.imaging.dataset.strip()
    if text.lower() not in BUILTIN and not Path(text).expanduser().is_dir():
        raise InputError("imaging.dataset", f"{design.imaging.dataset!r} is neither a built-in dataset "
                                            f"({', '.join(BUILTIN)}) nor an existing parcellation folder")


def load_design(path: str | Path) -> TrialDesign:
    """Load a trial scenario from YAML (a mapping with the :class:`TrialDesign` fields)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "no such scenario file")
    data = read_yaml(path.read_text(encoding="utf-8"), source=str(path))
    return design_from_dict(_with_imaging_folder(_with_compound_files(data, path.parent), path.parent),
                            source=str(path))


def _with_imaging_folder(data: Any, base: Path) -> Any:
    """``data`` with a relative ``imaging.dataset`` folder read from ``base`` (the design file's
    folder, as compound files are) and saved absolute, so the saved design re-runs from anywhere;
    a built-in dataset name is left as it is."""
    from ..connectome import BUILTIN

    nested = isinstance(data, dict) and isinstance(data.get("trial"), dict)
    design = data["trial"] if nested else data
    imaging = design.get("imaging") if isinstance(design, dict) else None
    dataset = imaging.get("dataset") if isinstance(imaging, dict) else None
    dataset = dataset.strip() if isinstance(dataset, str) else None  # as load_dataset reads it
    if dataset is None or dataset.lower() in BUILTIN or Path(dataset).expanduser().is_absolute():
        return data
    design = {**design, "imaging": {**imaging, "dataset": str((base / Path(dataset).expanduser()).resolve())}}
    return {**data, "trial": design} if nested else design


def _with_compound_files(data: Any, base: Path) -> Any:
    """``data`` with each arm's compound files read, relative to ``base`` (the design file's
    folder), as if their mappings had been pasted in (:func:`psilosim.compounds.inline_compound_files`)."""
    from ..compounds import inline_compound_files

    nested = isinstance(data, dict) and isinstance(data.get("trial"), dict)
    design = data["trial"] if nested else data
    if not isinstance(design, dict) or not isinstance(design.get("arms"), list):
        return data
    arms = [{**arm, "treatments": inline_compound_files(arm.get("treatments"), base=base,
                                                        field=f"{'trial.' if nested else ''}arms.{a}.treatments")}
            if isinstance(arm, dict) and "treatments" in arm else arm for a, arm in enumerate(design["arms"])]
    return {**data, "trial": {**design, "arms": arms}} if nested else {**design, "arms": arms}
