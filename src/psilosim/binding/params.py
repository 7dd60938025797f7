"""Parameters of the acute-effect model (the subjective "any drug effect" transducer).

Per-compound affinities, permeability and efficacies live with the compound
(:mod:`psilosim.compounds`); interaction magnitudes in
:data:`psilosim.pharmacokinetics.INTERACTION_PARAMS`.
"""

from __future__ import annotations

from typing import ClassVar

from ..parameters import Param, ParameterSet
from ..pharmacokinetics.params import FRACTION, POSITIVE, Bound, PhysicallyBounded


class EffectParams(ParameterSet):
    """Sigmoid transducer from surface 5-HT2A hallucinogenic drive to "any drug effect" (0–1).

    ``E = emax · A^h / (A^h + a50^h)`` with ``A = R · Σ_i hallucinogenic_efficacy_i ·
    occupancy_surface_i`` (``R`` = receptor availability). Every parameter is dimensionless
    (``%`` is converted to a fraction when the set is validated).
    """

    canonical_units: ClassVar[dict[str, str]] = {"emax": "", "drive_50": "", "hill": "", "duration_threshold": ""}

    emax: Param
    drive_50: Param
    hill: Param
    duration_threshold: Param


EFFECT_PARAMS = EffectParams(
    emax=Param(value=1.0, unit="", kind="assumed", source="visual analogue scale 0-100 %",
               note="the scale maximum; Holze 2023 report group means up to 80 %"),
    drive_50=Param(value=0.629, unit="", kind="fitted", source="Holze et al. 2023 Clin Pharmacol Ther 113:822",
                   note="fitted with hill and psilocin ke0 to PK11 (peak 58/73/80 %) and PK10 (5.6/5.5/6.4 h) "
                        "at 15/25/30 mg, given the RB2 occupancy curve"),
    hill=Param(value=12.0, unit="", kind="fitted", source="Holze et al. 2023 (PK10, PK11)",
               note="steep because occupancy saturates (Occmax 0.766, EC50 1.97 ng/mL) while the effect still "
                    "rises 58 -> 80 % and lasts ~5.5 h (PK10): the effect switches on above ~50 % occupancy"),
    duration_threshold=Param(value=0.10, unit="", kind="assumed", source="onset/offset convention",
                             note="duration = time with effect >= 10 % of the scale, the convention of Liechti-group "
                                  "PK-PD papers (assumed to match Holze 2023's definition)"),
)


class ResolutionParams(PhysicallyBounded, ParameterSet):
    """Numerical resolution of :func:`~psilosim.binding.simulate_acute` (not physical constants).

    The chain is solved on an internal grid whose step is the output step ``dt_h`` divided into
    the fewest equal parts no longer than ``max_internal_step``; the output times are points of
    it, so the values at them do not depend on ``dt_h``. Peaks and durations read from the output
    grid are samples of it: ``simulate_acute`` warns when one differs from the same summary on the
    internal grid by more than ``summary_rtol`` of it (and, for an occupancy or effect, by more
    than ``summary_atol`` of the 0-1 scale).
    """

    physical_bounds: ClassVar[dict[str, Bound]] = {"max_internal_step": POSITIVE, "summary_rtol": FRACTION,
                                                   "summary_atol": FRACTION}
    canonical_units: ClassVar[dict[str, str]] = {"max_internal_step": "h", "summary_rtol": "", "summary_atol": ""}

    max_internal_step: Param
    summary_rtol: Param
    summary_atol: Param


ACUTE_RESOLUTION = ResolutionParams(
    max_internal_step=Param(
        value=0.25, unit="h", kind="assumed", source="numerical resolution (measured, docs/pharmacology.md)",
        note="on a 0.25 h grid, with the dose anywhere between grid points, the sampled peaks of every library "
             "compound at its largest studied dose are within 0.6 % by mouth (Cmax; up to 2.9 % for ketamine "
             "im and intranasal, ka >= 11/h), 0.001 (occupancy) and 0.0005 (effect) of a 0.002 h reference, the psilocybin 30 mg "
             "effect duration within 0.09 h (1.3 %); SSRI-driven 5-HT2A availability (time constant 7 d) "
             "within 1e-5. It is also the default output step, so default results are unchanged by the internal grid"),
    summary_rtol=Param(
        value=0.05, unit="", kind="assumed", source="numerical resolution (measured, docs/pharmacology.md)",
        note="relative difference between a peak or duration read from the output grid and the same on the internal "
             "grid above which simulate_acute warns; above the internal grid's own sampling error (<= 2.9 %), "
             "so the warning flags the output step, not the internal one"),
    summary_atol=Param(
        value=0.01, unit="", kind="assumed", source="numerical resolution (measured, docs/pharmacology.md)",
        note="one percentage point of occupancy or of the effect scale: below the resolution of the PET occupancy "
             "(RB1) and rating-scale (PK11) data these quantities are read against, so a near-zero peak that "
             "differs by a large fraction of itself is no reason to warn; measured, the internal 0.25 h grid's own "
             "error in these peaks (every library compound at its largest studied dose, by mouth, the dose 0.1 or "
             "0.13 h off the grid, against a 0.002 h reference) is at most 0.0006 (occupancy, ketamine) and "
             "0.0004 (effect, psilocybin), over 15 times smaller, so the warning flags the output step"),
)
