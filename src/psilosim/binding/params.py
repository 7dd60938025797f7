"""Parameters of the acute-effect model (the subjective "any drug effect" transducer).

Per-compound affinities, permeability and efficacies live with the compound
(:mod:`psilosim.compounds`); interaction magnitudes in
:data:`psilosim.pharmacokinetics.INTERACTION_PARAMS`.
"""

from __future__ import annotations

from ..parameters import Param, ParameterSet


class EffectParams(ParameterSet):
    """Sigmoid transducer from surface 5-HT2A hallucinogenic drive to "any drug effect" (0–1).

    ``E = emax · A^h / (A^h + a50^h)`` with ``A = R · Σ_i hallucinogenic_efficacy_i ·
    occupancy_surface_i`` (``R`` = receptor availability).
    """

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
