"""Pharmacokinetic parameter sets (one per compound, species and published source).

Units (the pharmacology base units): hours, litres, milligrams, ng/mL (= µg/L).

``clearance`` and ``central_volume`` are *systemic* values of the analyte (psilocin for
psilocybin): the dose that reaches them is ``dose × bioavailability × molar ratio`` (see
:class:`psilosim.compounds.Prodrug`), so the apparent oral values are ``CL/F`` and ``V/F`` with
``F = bioavailability × molar ratio``; :meth:`PKParameters.apparent` computes them.
"""

from __future__ import annotations

import math

from pydantic import model_validator

from ..errors import InputError
from ..parameters import Param, ParameterSet


class RouteParams(ParameterSet):
    """Absorption for one route.

    ``absorption_rate`` is ``None`` for intravenous dosing (the dose enters the central
    compartment directly); ``lag_time`` delays the whole input (absorption lag).
    """

    bioavailability: Param
    absorption_rate: Param | None = None
    lag_time: Param | None = None

    @model_validator(mode="after")
    def _fraction(self) -> RouteParams:
        if not 0.0 < self.bioavailability.value <= 1.0:
            raise InputError("bioavailability", f"{self.bioavailability.value} is not in (0, 1]")
        if self.absorption_rate is not None and not self.absorption_rate.value > 0:
            raise InputError("absorption_rate", "must be greater than zero")
        return self


class PKParameters(ParameterSet):
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
    """

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
        for name in ("clearance", "central_volume"):
            if not getattr(self, name).value > 0:
                raise InputError(name, "must be greater than zero")
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
                                  _value(self.intercompartmental_clearance, "L/h"),
                                  _value(self.peripheral_volume, "L"))
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
