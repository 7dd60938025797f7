"""What a virtual trial's patients are simulated with, and the identity that tells two runs apart.

:class:`ModelSet` holds the parameter sets and hooks of a run; :meth:`ModelSet.fingerprint` hashes
every value a run depends on, so a resumed run (:mod:`.store`) refuses chunks computed with other
values. A hook (a function, a ``functools.partial``, a dataclass or pydantic object) is identified by
what it is made of rather than by its memory address, so the identity is the same in every process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ..io import numbers_only
from .biology import DEFAULT_BIOLOGY, ClinicalBiologyParams
from .design import TrialDesign
from .patients import DEFAULT_POPULATION, PopulationParams
from .symptoms import DEFAULT_SYMPTOMS, NetworkRigidityHook, SymptomParams

__all__ = ["BIOLOGY_LABEL", "DEFAULT_MODELS", "ModelSet", "UnstableIdentity", "network_label"]

#: Label of the biology every patient is simulated with (results attrs, report).
BIOLOGY_LABEL = "slow_chain (links 1–5, human parameter sets)"


@dataclass(frozen=True)
class ModelSet:
    """Everything a run's patients are simulated with.

    The biology is always the slow chain (:func:`~psilosim.clinical.biology.patient_biology`);
    ``biology`` holds how an arm's setting enters it. ``network_hook`` is the part-B rigidity
    term of the symptom model (``None`` = not used). ``imaging_hook`` measures the network at a
    design's imaging visits (``hook(design, patient, arm_index, biology, seed)`` → visit × measure
    array, with ``measure_names(design)``); ``None`` uses :class:`psilosim.clinical.imaging.ImagingHook`
    for designs that have imaging visits.
    """

    population: PopulationParams = DEFAULT_POPULATION
    biology: ClinicalBiologyParams = DEFAULT_BIOLOGY
    symptoms: SymptomParams = DEFAULT_SYMPTOMS
    network_hook: NetworkRigidityHook | None = None
    imaging_hook: object | None = None
    label: str = field(default=BIOLOGY_LABEL)

    def fingerprint(self, *, design: TrialDesign | None = None) -> str:
        """Hash of every parameter set a run depends on (the chain's human sets included).

        With ``design``, also the compounds its arms give (PK and binding parameters) and, when it
        has imaging visits, the effective imaging hook with the network constants it uses (Hopf,
        DMF and its fitted couplings): resuming a run then refuses chunks computed with other values.
        """
        import hashlib

        # the hooks are in parameter_sets too, so a refused resume can name a changed hook
        parts = [json.dumps(numbers_only(part), sort_keys=True, default=str)
                 for part in self.parameter_sets(design=design).values()]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def parameter_sets(self, *, design: TrialDesign | None = None) -> dict[str, dict]:
        """The parameter values a run depends on, by name (for the fingerprint and the provenance record)."""
        from ..plasticity import plasticity_params
        from ..scenario import acute_chain_parameter_values
        from ..synapses import spine_params
        from .trial import design_population, imaging_hook  # (trial imports this module)

        population = self.population if design is None else design_population(design, self.population)
        out = {"population": population.model_dump(mode="json"), "biology": self.biology.model_dump(mode="json"),
               "symptoms": self.symptoms.model_dump(mode="json"),
               "plasticity.human": plasticity_params("human").model_dump(mode="json"),
               "spines.human": spine_params("human").model_dump(mode="json"),
               **acute_chain_parameter_values()}  # the binding link's effect, interactions and time step
        if self.network_hook is not None:
            out["network_hook"] = {"identity": _hook_identity(self.network_hook)}
        if self.imaging_hook is not None:  # given by the caller; the default one is named below
            out["imaging_hook"] = {"identity": _hook_identity(self.imaging_hook)}
        if design is None:
            return out
        for arm in design.arms:
            for treatment in arm.arm_treatments():
                compound = treatment.resolved()
                if compound is not None:
                    out[f"compound.{treatment.name}"] = compound.model_dump(mode="json")
        hook = imaging_hook(design, self)
        if hook is not None:
            from ..network.dmf import params as dmf
            from ..network.hopf import params as hopf

            out["imaging_hook"] = {"identity": _hook_identity(hook), "dataset": design.imaging.dataset}
            out["network.hopf"] = hopf.HOPF.model_dump(mode="json")
            out["network.dmf"] = dmf.DMF.model_dump(mode="json")
            out["network.dmf_fitted_g"] = dmf.FITTED_G.model_dump(mode="json")
        return out

    def unstable_hooks(self) -> dict[str, str]:
        """Hooks whose identity cannot be made the same in every process, by role, with the reason.

        A run with one of them cannot be resumed: nothing could tell its chunks from those of another hook.
        """
        out = {}
        for role, hook in (("network_hook", self.network_hook), ("imaging_hook", self.imaging_hook)):
            try:
                _stable_identity(hook)
            except UnstableIdentity as exc:
                out[role] = f"{_hook_name(hook)}: {exc}"
        return out


class UnstableIdentity(Exception):
    """A hook whose identity cannot be made the same in every process (a run with it cannot resume)."""


def _stable_identity(hook, _seen: frozenset[int] = frozenset()) -> str:
    """A hook's identity that is the same in every process (for the resume fingerprint).

    A function's ``repr`` holds its memory address, which changes from run to run, and its name
    alone does not tell apart closures of one factory or two lambdas of one module. A function is
    therefore identified by its module, qualified name, a hash of its code, its defaults and the
    values its closure captured; a bound method by its function and its instance; a
    ``functools.partial`` by its function, arguments and keywords; a hook *instance* by its class
    and the values of its dataclass or pydantic fields.

    Raises
    ------
    UnstableIdentity
        When a part of the hook has no such identity (an object without declared fields, say).
    """
    import functools
    import types

    if id(hook) in _seen:  # a recursive closure: already described further up
        return f"<recursive {getattr(hook, '__qualname__', type(hook).__qualname__)}>"
    seen = _seen | {id(hook)}
    if isinstance(hook, functools.partial):
        return (f"partial({_stable_identity(hook.func, seen)}, {_value_identity(hook.args, seen)}, "
                f"{_value_identity(hook.keywords, seen)})")
    if isinstance(hook, types.MethodType):
        return f"{_stable_identity(hook.__func__, seen)}@{_value_identity(hook.__self__, seen)}"
    if isinstance(hook, types.FunctionType):
        cells = [] if hook.__closure__ is None else [_cell_identity(c, seen) for c in hook.__closure__]
        return (f"{hook.__module__}.{hook.__qualname__}[{_code_hash(hook.__code__)}]"
                f"(defaults={_value_identity(hook.__defaults__, seen)}, "
                f"kwdefaults={_value_identity(hook.__kwdefaults__, seen)}, closure={cells})")
    return _value_identity(hook, _seen)  # an instance: _value_identity marks it as seen itself


def _code_hash(code) -> str:
    """Hash of a code object's bytecode, constants and names (nested code objects included)."""
    import hashlib

    def describe(c) -> str:
        consts = [describe(k) if hasattr(k, "co_code")
                  else repr(sorted(k, key=repr)) if isinstance(k, frozenset)  # set order follows the hash seed
                  else repr(k) for k in c.co_consts]
        return f"{c.co_code.hex()}|{consts}|{c.co_names}"

    return hashlib.sha256(describe(code).encode()).hexdigest()[:16]


def _cell_identity(cell, seen: frozenset[int]) -> str:
    try:
        contents = cell.cell_contents
    except ValueError:  # a cell not yet filled
        return "<empty cell>"
    return _value_identity(contents, seen)


def _value_identity(value, seen: frozenset[int]) -> str:
    """A stable description of a value a hook holds (captured, default, argument or instance)."""
    import dataclasses
    import enum
    import functools
    import hashlib
    import types

    from pydantic import BaseModel

    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic, enum.Enum)):
        return repr(value)
    if id(value) in seen:  # a reference cycle (a list holding itself, two hooks naming each other)
        return f"<recursive {type(value).__qualname__}>"
    if isinstance(value, (types.FunctionType, types.MethodType, functools.partial)):
        return _stable_identity(value, seen)  # which marks it as seen itself
    seen = seen | {id(value)}
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__}({[_value_identity(v, seen) for v in value]})"
    if isinstance(value, dict):
        return f"dict({sorted((repr(k), _value_identity(v, seen)) for k, v in value.items())})"
    if isinstance(value, (set, frozenset)):
        return f"set({sorted(_value_identity(v, seen) for v in value)})"
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:  # its bytes are pointers, different in every process
            raise UnstableIdentity(f"numpy array of dtype {value.dtype}")
        digest = hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()[:16]
        return f"array({value.dtype}, {value.shape}, {digest})"
    if isinstance(value, (type, types.ModuleType)):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', value.__name__)}"
    if isinstance(value, types.BuiltinFunctionType) and isinstance(value.__self__, (types.ModuleType, type(None))):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, np.ufunc):
        return f"numpy.{value.__name__}"
    if dataclasses.is_dataclass(value):
        names = [f.name for f in dataclasses.fields(value)]
    elif isinstance(value, BaseModel):
        names = list(type(value).model_fields)
    else:
        raise UnstableIdentity(f"{type(value).__module__}.{type(value).__qualname__} object "
                               "(neither a dataclass nor a pydantic model)")
    cls = type(value)
    fields = ", ".join(f"{n}={_value_identity(getattr(value, n), seen)}" for n in names)
    return f"{cls.__module__}.{cls.__qualname__}({fields})"


def _hook_identity(hook) -> str:
    """:func:`_stable_identity`, or a marker valid in this process only when there is none."""
    try:
        return _stable_identity(hook)
    except UnstableIdentity as exc:
        return f"unstable:{_hook_name(hook)}:{exc}:{id(hook)}"


def _hook_name(hook) -> str:
    target = getattr(hook, "func", getattr(hook, "__func__", hook))
    return getattr(target, "__qualname__", type(hook).__qualname__)


DEFAULT_MODELS = ModelSet()


def network_label(design: TrialDesign, models: ModelSet) -> str:
    """What of the network a run uses: the symptom model's network term, the imaging visits' rewiring."""
    parts = []
    if models.network_hook is not None:
        parts.append(f"symptom network term {models.network_hook!r}")
    if design.imaging is not None:
        parts.append(f"rewiring + expected FC on {design.imaging.dataset} (psilosim.rewiring)")
    return "; ".join(parts) or "none (no imaging visits, no network term)"
