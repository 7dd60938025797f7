"""Dosing regimens as data: doses with units, schedules, routes, infusions.

A :class:`Regimen` is a route plus a list of :class:`Phase` objects. Each phase repeats one dose
(``"25 mg"`` or ``"0.3 mg/kg"``) ``count`` times (or for a ``duration``) ``every`` interval,
optionally following an on/off pattern (microdosing "four days on, three off") or given as a
zero-order infusion over a duration. Phases run one after the other unless a phase has its own
``start`` (a phase after a single dose without ``every`` needs one: that dose has no length).
``every`` needs ``count`` or ``duration``: alone it would mean one dose.
:meth:`Regimen.events` expands a regimen into :class:`DosingEvents` (times in hours, amounts in
mg), the form the pharmacokinetic solvers consume.

Examples
--------
>>> Regimen.single("25 mg")                                  # one oral dose at t = 0
>>> Regimen.repeated("25 mg", every="3 weeks", count=2)      # Carhart-Harris et al. 2021
>>> Regimen.from_phases([{"dose": "10 mg", "every": "1 day", "duration": "3 weeks"},
...                      {"dose": "20 mg", "every": "1 day", "duration": "3 weeks"}])
>>> Regimen.on_off("2.5 mg", on_days=4, off_days=3, duration="4 weeks")
>>> Regimen.infusion("0.5 mg/kg", over="40 min")             # ketamine, IV
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np
import pint
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputError
from .units import parse_quantity

#: Base units of the pharmacology modules.
TIME_UNIT = "hour"
MASS_UNIT = "mg"


class Route(StrEnum):
    """Routes of administration."""

    ORAL = "oral"
    IV = "iv"
    INTRANASAL = "intranasal"
    IM = "im"
    SUBLINGUAL = "sublingual"
    IP = "ip"


def _positive_time(text: str, field: str, *, allow_zero: bool = False) -> pint.Quantity:
    q = parse_quantity(text, field=field, expect="time")
    if q.magnitude < 0 or (q.magnitude == 0 and not allow_zero):
        raise InputError(field, f"{text!r} must be {'non-negative' if allow_zero else 'greater than zero'}")
    return q


def _hours(text: str | None) -> float | None:
    """A validated time text of a :class:`Phase` in hours (``None`` stays ``None``)."""
    return None if text is None else float(parse_quantity(text, field="time", expect="time").to(TIME_UNIT).magnitude)


def parse_dose(text: str | pint.Quantity, *, field: str = "dose") -> pint.Quantity:
    """Parse a dose: a positive mass (``"25 mg"``) or mass per body weight (``"0.3 mg/kg"``).

    Raises
    ------
    InputError
        If the text is not a mass or mass/mass quantity, or is not positive.
    """
    q = parse_quantity(text, field=field, expect="mass or mass_per_mass")
    if not q.magnitude > 0:
        raise InputError(field, f"{text!r}: a dose must be greater than zero")
    return q


def dose_in_mg(dose: pint.Quantity, weight_kg: float | None, *, field: str = "dose") -> float:
    """A parsed dose in mg, multiplying a per-weight dose by ``weight_kg``."""
    if dose.check("[mass]"):
        return float(dose.to(MASS_UNIT).magnitude)
    if weight_kg is None:
        raise InputError(
            field,
            f"'{dose:~}' is a dose per body weight; give a body weight (--weight or subject.weight)",
        )
    if not weight_kg > 0:
        raise InputError("weight", f"{weight_kg} kg: a body weight must be greater than zero")
    return float(dose.to("mg/kg").magnitude * weight_kg)


class Phase(BaseModel):
    """One phase of a regimen: the same dose repeated on a schedule.

    Parameters
    ----------
    dose
        ``"25 mg"`` or ``"0.3 mg/kg"``.
    count
        Number of doses. With ``duration`` the count follows from the schedule instead.
    every
        Interval between dosing slots (required for more than one dose); needs ``count`` or
        ``duration`` (``count: 1`` for a single dose whose phase lasts ``every``).
    duration
        Length of the phase (``"6 weeks"``); doses are given at every slot before its end.
    on_off
        ``[on, off]``: dose on ``on`` consecutive slots, skip ``off`` slots, repeat (microdosing
        "four days on, three off" is ``every: 1 day, on_off: [4, 3]``).
    start
        Start of the phase from the start of the regimen; default: when the previous phase ends.
    infusion
        Duration of a zero-order infusion per dose; default ``None`` = bolus.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    dose: str
    count: int | None = Field(default=None, ge=1)
    every: str | None = None
    duration: str | None = None
    on_off: tuple[int, int] | None = None
    start: str | None = None
    infusion: str | None = None

    @field_validator("dose", mode="before")
    @classmethod
    def _dose_is_mass(cls, value: Any) -> str:
        return f"{parse_dose(_as_text(value), field='dose'):~}"

    @field_validator("every")
    @classmethod
    def _every_positive(cls, value: str | None) -> str | None:
        return None if value is None else f"{_positive_time(value, 'every'):~}"

    @field_validator("duration", "infusion")
    @classmethod
    def _duration_positive(cls, value: str | None, info) -> str | None:
        return None if value is None else f"{_positive_time(value, info.field_name):~}"

    @field_validator("start")
    @classmethod
    def _start_non_negative(cls, value: str | None) -> str | None:
        return None if value is None else f"{_positive_time(value, 'start', allow_zero=True):~}"

    @field_validator("on_off")
    @classmethod
    def _pattern_sane(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and (value[0] < 1 or value[1] < 0):
            raise InputError("on_off", f"{list(value)}: need at least 1 'on' slot and >= 0 'off' slots")
        return value

    @model_validator(mode="after")
    def _schedule_complete(self) -> Phase:
        repeated = (self.count or 1) > 1 or self.duration is not None or self.on_off is not None
        if repeated and self.every is None:
            raise InputError("every", "a repeated phase (count > 1, duration or on_off) needs an interval")
        if self.count is not None and self.duration is not None:
            raise InputError("count", "give either count or duration, not both")
        if self.every is not None and self.count is None and self.duration is None:
            # without either, the interval would silently mean one dose: say how many instead
            raise InputError("every", f"every needs count or duration: with neither, 'every: {self.every}' would give "
                                      "one dose (e.g. count: 2, or duration: 6 weeks)")
        return self

    # ------------------------------------------------------------------ expansion
    @property
    def dose_quantity(self) -> pint.Quantity:
        return parse_dose(self.dose)

    @property
    def start_h(self) -> float | None:
        """``start`` in hours from the regimen start (``None``: when the previous phase ends)."""
        return _hours(self.start)

    @property
    def every_h(self) -> float | None:
        """``every`` in hours (``None``: a single dose)."""
        return _hours(self.every)

    @property
    def duration_h(self) -> float | None:
        """``duration`` in hours (``None``: the phase lasts ``count`` intervals)."""
        return _hours(self.duration)

    @property
    def infusion_h(self) -> float | None:
        """``infusion`` in hours (``None``: a bolus)."""
        return _hours(self.infusion)

    def slot_offsets_h(self) -> tuple[np.ndarray, float]:
        """Dose times relative to the phase start and the phase length, both in hours."""
        every = self.every_h or 0.0
        on, off = self.on_off or (1, 0)
        if self.duration is not None:
            length = self.duration_h
            # a slot exactly at the end of the phase belongs to the next phase
            n_slots = max(1, math.ceil(length / every - 1e-9)) if every else 1
            slots = np.arange(n_slots)
            offsets = slots[(slots % (on + off)) < on] * every
        else:
            n_doses = self.count or 1
            n_cycles = -(-n_doses // on)
            slots = np.arange(n_cycles * (on + off))
            dosed = slots[(slots % (on + off)) < on][:n_doses]
            offsets = dosed * every
            length = (dosed[-1] + 1) * every
        return offsets.astype(float), float(length)


def _as_text(value: Any) -> Any:
    return f"{value:~}" if isinstance(value, pint.Quantity) else value


@dataclass(frozen=True)
class DosingEvents:
    """Expanded doses: one entry per administration.

    Attributes
    ----------
    time_h
        Start of each administration (hours from the regimen start).
    amount_mg
        Amount administered (mg of the compound as dosed, e.g. psilocybin).
    duration_h
        Infusion duration (0 for a bolus).
    route
        Route of all events.
    """

    time_h: np.ndarray
    amount_mg: np.ndarray
    duration_h: np.ndarray
    route: Route

    @property
    def end_h(self) -> float:
        """Time at which the last administration ends."""
        return float(np.max(self.time_h + self.duration_h)) if len(self.time_h) else 0.0

    def shifted(self, offset_h: float) -> DosingEvents:
        """The same events ``offset_h`` hours later (e.g. an absorption lag)."""
        return DosingEvents(self.time_h + offset_h, self.amount_mg, self.duration_h, self.route)

    def scaled(self, factor: float) -> DosingEvents:
        """The same events with amounts multiplied by ``factor`` (bioavailability, molar ratio)."""
        return DosingEvents(self.time_h, self.amount_mg * factor, self.duration_h, self.route)


class Regimen(BaseModel):
    """A route and a sequence of phases; see the module docstring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    route: Route = Route.ORAL
    phases: list[Phase] = Field(min_length=1)

    @field_validator("route", mode="before")
    @classmethod
    def _route_known(cls, value: Any) -> Any:
        if isinstance(value, str) and value.lower() not in {r.value for r in Route}:
            raise InputError("route", f"{value!r} is not a route; known: {', '.join(r.value for r in Route)}")
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _phases_follow_each_other(self) -> Regimen:
        # a phase without `every` has no length, so the next phase would start at the same time
        for i in range(1, len(self.phases)):
            if self.phases[i].start is None and self.phases[i - 1].every is None:
                raise InputError(f"phases.{i}.start", "the previous phase is a single dose without 'every', so "
                                 "this phase would start at the same time; give it a 'start' (or the previous "
                                 "phase an 'every' and a 'count')")
        return self

    # ------------------------------------------------------------------ constructors
    @classmethod
    def build(cls, **data: Any) -> Regimen:
        """Validate ``data`` and raise :class:`InputError` (not a pydantic error) when it is bad."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise input_error_from(exc, prefix="regimen") from None

    @classmethod
    def from_phases(cls, phases: list[dict[str, Any]], *, route: str = "oral") -> Regimen:
        """A regimen from phase dictionaries (``dose``, ``every``, ``count`` ...)."""
        return cls.build(route=route, phases=phases)

    @classmethod
    def single(cls, dose: str, *, route: str = "oral", at: str = "0 h") -> Regimen:
        """One dose at time ``at``."""
        return cls.build(route=route, phases=[{"dose": dose, "start": at}])

    @classmethod
    def repeated(cls, dose: str, *, every: str, count: int, route: str = "oral",
                 infusion: str | None = None) -> Regimen:
        """``count`` doses ``every`` interval (two doses 3 weeks apart; daily for 42 days)."""
        return cls.build(route=route, phases=[{"dose": dose, "every": every, "count": count,
                                                "infusion": infusion}])

    @classmethod
    def daily(cls, dose: str, *, duration: str, route: str = "oral") -> Regimen:
        """One dose a day for ``duration``."""
        return cls.build(route=route, phases=[{"dose": dose, "every": "1 day", "duration": duration}])

    @classmethod
    def on_off(cls, dose: str, *, on_days: int, off_days: int, duration: str,
               route: str = "oral") -> Regimen:
        """Microdosing: daily doses on ``on_days`` days, then ``off_days`` days off, repeated."""
        return cls.build(route=route, phases=[{"dose": dose, "every": "1 day", "duration": duration,
                                                "on_off": (on_days, off_days)}])

    @classmethod
    def infusion(cls, dose: str, *, over: str, route: str = "iv") -> Regimen:
        """One zero-order infusion of ``dose`` over ``over``."""
        return cls.build(route=route, phases=[{"dose": dose, "infusion": over}])

    # ------------------------------------------------------------------ expansion
    def _phase_times(self):
        """Each phase with the start times of its administrations (h from the regimen start)."""
        phase_start = 0.0
        for phase in self.phases:
            if phase.start is not None:
                phase_start = phase.start_h
            offsets, length = phase.slot_offsets_h()
            yield phase, phase_start + offsets
            phase_start += length

    def first_dose_h(self) -> float:
        """Start of the first administration (h from the regimen start); needs no body weight."""
        return float(min(times.min() for _, times in self._phase_times()))

    def largest_phase(self, *, weight_kg: float | None = None) -> int:
        """Index of the phase whose single administration is the largest (in mg; per-weight doses
        at ``weight_kg``): where an error about "the" dose of this regimen points."""
        amounts = [dose_in_mg(phase.dose_quantity, weight_kg, field=f"regimen.phases.{i}.dose")
                   for i, phase in enumerate(self.phases)]
        return int(np.argmax(amounts))

    def events(self, *, weight_kg: float | None = None) -> DosingEvents:
        """Expand to dosing events; ``weight_kg`` is needed for per-weight doses."""
        times, amounts, durations = [], [], []
        for i, (phase, starts) in enumerate(self._phase_times()):
            amount = dose_in_mg(phase.dose_quantity, weight_kg, field=f"regimen.phases.{i}.dose")
            infusion_h = phase.infusion_h or 0.0
            times.append(starts)
            amounts.append(np.full(starts.shape, amount))
            durations.append(np.full(starts.shape, infusion_h))
        order = np.argsort(np.concatenate(times), kind="stable")
        return DosingEvents(
            time_h=np.concatenate(times)[order],
            amount_mg=np.concatenate(amounts)[order],
            duration_h=np.concatenate(durations)[order],
            route=Route(self.route),
        )

    def describe(self, *, with_dose: bool = True) -> str:
        """A one-line human description (``"oral: 25 mg ×2 every 3 wk"``); ``with_dose=False``
        leaves out the amounts (an inert comparator's dose is a placeholder, not a dose)."""
        parts = []
        for p in self.phases:
            text = p.dose if with_dose else "dosed"
            if p.count and p.count > 1:
                text += f" ×{p.count}"
            if p.every and (p.count or 1) > 1 or p.duration:
                text += f" every {p.every}"
            if p.duration:
                text += f" for {p.duration}"
            if p.on_off:
                text += f" ({p.on_off[0]} on/{p.on_off[1]} off)"
            if p.infusion:
                text += f" infused over {p.infusion}"
            parts.append(text)
        return f"{self.route.value if isinstance(self.route, Route) else self.route}: " + "; then ".join(parts)


#: Comparators whose regimen dose is a placeholder (the schedule of the dummy pills is real, the
#: amount is not). An active placebo such as niacin keeps its real dose in descriptions.
PLACEBO_NAMES = ("placebo",)


def describe_treatment(compound: str, regimen: Regimen) -> str:
    """``"psilocybin — oral: 25 mg"``; a placebo shows its schedule without the placeholder dose
    its regimen carries: ``"placebo (no active drug) — oral: dosed every 1 d"``."""
    if str(compound).strip().lower() in PLACEBO_NAMES:
        return f"{compound} (no active drug) — {regimen.describe(with_dose=False)}"
    return f"{compound} — {regimen.describe()}"


def input_error_from(exc: ValidationError, *, prefix: str = "",
                     model: type[BaseModel] | None = None) -> InputError:
    """Turn the first error of a pydantic ``ValidationError`` into an :class:`InputError`.

    The field is the dotted location (``regimen.phases.0.dose``); when the failing validator
    itself raised an :class:`InputError`, its problem text is kept verbatim. An unknown key
    comes first: a misspelt required key (``primary_dya``) also makes the real one "missing", and
    the typo is what the user has to fix. Its problem names the closest allowed keys of ``model``
    (the validated class; found by the error's title when not given): "did you mean primary_day?".
    """
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")  # stable: keeps pydantic's order
    err = errors[0]
    loc = ".".join(str(p) for p in err["loc"])
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, InputError):
        problem = cause.problem
        if not loc.endswith(cause.field):
            loc = f"{loc}.{cause.field}" if loc else cause.field
    else:
        problem = err["msg"]
        if err["type"] == "extra_forbidden":
            problem = "unknown field (check its spelling)" + did_you_mean(
                str(err["loc"][-1]), _allowed_keys(model or _model_named(exc.title), err["loc"][:-1]))
    field = ".".join(p for p in (prefix, loc) if p)
    more = len(errors) - 1
    return InputError(field, problem + (f" (and {more} more error{'s' * (more > 1)})" if more else ""))


def input_error_of(exc: ValidationError, *, prefix: str = "") -> InputError:
    """The :class:`InputError` a validator raised inside ``exc``, as it is (it names its field),
    else :func:`input_error_from` on ``exc`` (under ``prefix``)."""
    cause = (exc.errors()[0].get("ctx") or {}).get("error")
    return cause if isinstance(cause, InputError) else input_error_from(exc, prefix=prefix)


class RaisesInputError(BaseModel):
    """Base of a user-input model whose constructor and ``model_validate`` raise an
    :class:`InputError` naming the bad field (under :attr:`input_error_prefix`), as the rest of
    psilosim does, instead of pydantic's ``ValidationError`` (both are ``ValueError``)."""

    #: Dotted path the field names are given under (``"stress"``: ``stress.duration_d``).
    input_error_prefix: ClassVar[str] = ""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise input_error_of(exc, prefix=self.input_error_prefix) from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any):
        """As pydantic's, with a bad field reported as the constructor reports it (an InputError)."""
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise input_error_of(exc, prefix=cls.input_error_prefix) from None


#: How alike a misspelt key and an allowed one must be to suggest it (``difflib`` ratio, 0–1;
#: ``primary_dya``/``primary_day`` is 0.91, ``compund``/``compound`` 0.93). Not a physical quantity.
SUGGESTION_CUTOFF = 0.75


def did_you_mean(key: str, allowed: list[str]) -> str:
    """``"; did you mean primary_day?"`` for the allowed names close to a misspelt ``key`` (else ``""``)."""
    import difflib

    close = difflib.get_close_matches(key, allowed, n=3, cutoff=SUGGESTION_CUTOFF)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def _model_named(title: str) -> type[BaseModel] | None:
    """The pydantic model class called ``title`` when exactly one is defined (else ``None``)."""
    found, stack = [], [BaseModel]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__name__ == title:
            found.append(cls)
    return found[0] if len(found) == 1 else None


def _allowed_keys(model: type[BaseModel] | None, loc: tuple) -> list[str]:
    """Field names of the model(s) at ``loc`` inside ``model`` (list items, dict values and union
    members followed by their annotations); empty when the location cannot be followed."""
    import typing

    candidates: list[Any] = [] if model is None else [model]
    for part in loc:
        following = []
        for tp in _members(candidates):
            origin, args = typing.get_origin(tp), typing.get_args(tp)
            if isinstance(part, int) and origin in (list, tuple) and args:
                following.append(args[0])
            elif isinstance(tp, type) and issubclass(tp, BaseModel) and part in tp.model_fields:
                following.append(tp.model_fields[part].annotation)
            elif isinstance(tp, type) and part == tp.__name__:  # a union member's tag
                following.append(tp)
            elif origin is dict and len(args) == 2:
                following.append(args[1])
        candidates = following
    return sorted({name for tp in _members(candidates) if isinstance(tp, type) and issubclass(tp, BaseModel)
                   for name in tp.model_fields})


def _members(types: list[Any]) -> list[Any]:
    """``types`` with every union (``X | None``) split into its members."""
    import types as pytypes
    import typing

    out = []
    for tp in types:
        if typing.get_origin(tp) in (typing.Union, pytypes.UnionType):
            out.extend(_members(list(typing.get_args(tp))))
        else:
            out.append(tp)
    return out
