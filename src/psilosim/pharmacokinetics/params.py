"""Pharmacokinetic parameter sets (one per compound, species and published source).

Units (the pharmacology base units): hours, litres, milligrams, ng/mL (= µg/L).

``clearance`` and ``central_volume`` are *systemic* values of the analyte (psilocin for
psilocybin): the dose that reaches them is ``dose × bioavailability × molar ratio`` (see
:class:`psilosim.compounds.Prodrug`), so the apparent oral values are ``CL/F`` and ``V/F`` with
``F = bioavailability × molar ratio``; :meth:`PKParameters.apparent` computes them.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, NamedTuple

from pydantic import model_validator

from ..errors import InputError
from ..parameters import Param, ParameterSet
from ..units import Q_


class Bound(NamedTuple):
    """The values a parameter can physically take: ``[low, high]`` (``None``: open), in the
    parameter's dimensionless value for fractions and its own unit otherwise; ``positive`` also
    excludes ``low`` itself (a clearance, volume or rate of zero is no compartment)."""

    low: float | None
    high: float | None = None
    positive: bool = False


#: A fraction of something (of a dose, a clearance, an enzyme, a receptor population).
FRACTION = Bound(0.0, 1.0)
#: A clearance, volume, rate constant, time constant or body weight.
POSITIVE = Bound(0.0, None, positive=True)
#: A standard deviation, a lag, a ratio of concentrations.
NON_NEGATIVE = Bound(0.0)


class PhysicallyBounded:
    """Mixin for a :class:`~psilosim.parameters.ParameterSet` whose fields carry the bounds physics
    imposes (:attr:`physical_bounds`), listed first: ``class RouteParams(PhysicallyBounded, ParameterSet)``.

    The bounds are written onto each :class:`Param` (``low``/``high``) when the set is validated,
    so :meth:`~psilosim.parameters.ParameterSet.replace` refuses a value outside them, and a set
    loaded from a file or built in code with a value outside them is an :class:`InputError`
    naming the parameter. They are physical necessities (a fraction lies in [0, 1], a standard
    deviation is not negative), not a "plausible range": no bound here needs a source.
    """

    physical_bounds: ClassVar[dict[str, Bound]] = {}

    @model_validator(mode="before")
    @classmethod
    def _declare_bounds(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        # in the declared units first (this validator runs before ParameterSet's), so a bound is
        # written in the unit the value ends up in and a unit of another dimension is named
        data = dict(cls.in_declared_units(data))
        for name, bound in cls.physical_bounds.items():
            item = data.get(name)
            if isinstance(item, Param):
                data[name] = item.model_copy(update=_tightest(item.low, item.high, bound, item.unit))
            elif isinstance(item, dict):
                data[name] = {**item, **_tightest(item.get("low"), item.get("high"), bound, item.get("unit", ""))}
        return data

    @model_validator(mode="after")
    def _inside_bounds(self) -> PhysicallyBounded:
        for name in self.physical_bounds:
            p = getattr(self, name)
            if p is None:
                continue
            if p.outside(p.value):
                raise InputError(name, p.out_of_range(p.value))
        return self


def _tightest(low: float | None, high: float | None, bound: Bound, unit: str) -> dict[str, float | None]:
    """The declared bounds narrowed to the physical ones (a file may declare tighter ones)."""
    phys_high = None if bound.high is None else float(Q_(bound.high, "").to(unit or "").magnitude)
    narrowed = _narrow(low, bound.low, max)
    # a positive quantity excludes its physical low end (0), not a tighter low a file declares
    exclusive = bound.positive and narrowed == bound.low
    return {"low": narrowed, "high": _narrow(high, phys_high, min), "low_inclusive": not exclusive}


def _narrow(declared: float | None, physical: float | None, pick) -> float | None:
    if declared is None or physical is None:
        return physical if declared is None else declared
    return pick(float(declared), physical)


class RouteParams(PhysicallyBounded, ParameterSet):
    """Absorption for one route.

    ``absorption_rate`` is ``None`` for intravenous dosing (the dose enters the central
    compartment directly); ``lag_time`` delays the whole input (absorption lag). Kept in the
    units of :attr:`canonical_units` (bioavailability a fraction: ``100 %`` becomes 1).
    """

    physical_bounds: ClassVar[dict[str, Bound]] = {
        "bioavailability": Bound(0.0, 1.0, positive=True), "absorption_rate": POSITIVE, "lag_time": NON_NEGATIVE}
    canonical_units: ClassVar[dict[str, str]] = {"bioavailability": "", "absorption_rate": "1/h", "lag_time": "h"}

    bioavailability: Param
    absorption_rate: Param | None = None
    lag_time: Param | None = None


class PKParameters(PhysicallyBounded, ParameterSet):
    """Disposition, absorption per route, variability and covariates of one analyte.

    Parameters
    ----------
    label
        Name of the parameter set (``"holze2023"``).
    clearance, central_volume
        Systemic clearance (L/h) and central volume (L).
    intercompartmental_clearance, peripheral_volume
        Optional second compartment (L/h, L); both or neither.
    renal_fraction
        Fraction of clearance that is renal excretion of the unchanged analyte.
    fraction_metabolised_by_mao
        Fraction of clearance through monoamine oxidase (``None``: not an MAO substrate).
    omega_clearance, omega_volume, omega_absorption
        Standard deviations of log-normal random effects (η ~ N(0, ω²); P = P_typ · exp(η)).
    reference_weight, clearance_weight_exponent, volume_weight_exponent
        Power covariate model ``P = P_typ · (W / W_ref)^θ``; exponent 0 = no weight effect.
    routes
        Absorption parameters by route name.

    Each parameter is kept in the unit named above (:attr:`canonical_units`; fractions, standard
    deviations and exponents dimensionless): one given in another unit of the same dimension
    (``L/min``, ``mL``, ``%``) is converted to it when the set is validated, one of another dimension
    is an :class:`InputError` naming it. Every parameter but the weight exponents has physical bounds (:attr:`physical_bounds`):
    fractions in [0, 1], standard deviations >= 0, clearances, volumes and the reference weight
    > 0; a value outside them is an :class:`InputError` naming the parameter.
    """

    physical_bounds: ClassVar[dict[str, Bound]] = {
        "clearance": POSITIVE, "central_volume": POSITIVE, "intercompartmental_clearance": POSITIVE,
        "peripheral_volume": POSITIVE, "renal_fraction": FRACTION, "fraction_metabolised_by_mao": FRACTION,
        "omega_clearance": NON_NEGATIVE, "omega_volume": NON_NEGATIVE, "omega_absorption": NON_NEGATIVE,
        "reference_weight": POSITIVE,
    }
    canonical_units: ClassVar[dict[str, str]] = {
        "clearance": "L/h", "central_volume": "L", "intercompartmental_clearance": "L/h", "peripheral_volume": "L",
        "renal_fraction": "", "fraction_metabolised_by_mao": "", "omega_clearance": "", "omega_volume": "",
        "omega_absorption": "", "reference_weight": "kg", "clearance_weight_exponent": "",
        "volume_weight_exponent": "",
    }

    label: str
    description: str = ""
    clearance: Param
    central_volume: Param
    intercompartmental_clearance: Param | None = None
    peripheral_volume: Param | None = None
    renal_fraction: Param
    fraction_metabolised_by_mao: Param | None = None
    omega_clearance: Param
    omega_volume: Param
    omega_absorption: Param
    reference_weight: Param
    clearance_weight_exponent: Param
    volume_weight_exponent: Param
    routes: dict[str, RouteParams]

    @model_validator(mode="after")
    def _consistent(self) -> PKParameters:
        if (self.intercompartmental_clearance is None) != (self.peripheral_volume is None):
            raise InputError("peripheral_volume", "give both intercompartmental_clearance and peripheral_volume, or neither")
        if not self.routes:
            raise InputError("routes", "at least one route is needed")
        return self

    @property
    def n_compartments(self) -> int:
        return 1 if self.peripheral_volume is None else 2

    def params(self, prefix: str = "") -> dict[str, Param]:
        out = super().params(prefix)
        for route, rp in self.routes.items():
            out.update(rp.params(prefix=f"{prefix}routes.{route}."))
        return out

    def route(self, name: str) -> RouteParams:
        """Absorption parameters of route ``name`` (InputError listing the known routes)."""
        key = str(name).lower()
        if key not in self.routes:
            raise InputError("route", f"{name!r} is not available for this compound; known: {', '.join(sorted(self.routes))}")
        return self.routes[key]

    def elimination_half_life_h(self) -> float:
        """Terminal half-life (h) of the typical subject (slowest disposition eigenvalue)."""
        from .kernel import disposition_rates

        rates = disposition_rates(self.clearance.to("L/h"), self.central_volume.to("L"),
                                  q=_value(self.intercompartmental_clearance, "L/h"),
                                  v2=_value(self.peripheral_volume, "L"))
        return float(math.log(2.0) / min(rates))

    def provenance_label(self) -> str:
        """The set's name, with the parameters a user changed (``kind="override"``, as
        :meth:`~psilosim.parameters.ParameterSet.replace` marks them): ``"holze2023 (modified:
        clearance)"``. Results record it, so a modified set is never reported as the published one."""
        return self.labelled(self.label)

    def apparent(self, fraction_available: float) -> dict[str, float]:
        """Apparent oral values ``CL/F`` (L/h) and ``V/F`` (L) for ``F = fraction_available``."""
        return {"CL/F": self.clearance.to("L/h") / fraction_available,
                "V/F": self.central_volume.to("L") / fraction_available}


def _value(p: Param | None, unit: str) -> float:
    return 0.0 if p is None else p.to(unit)
