"""Drug interactions as named, documented, switchable mechanisms.

Each :class:`Interaction` has a name, what triggers it, what it changes and a source. A
simulation enables all of them by default; a subject or scenario switches any off by name
(``interactions: {mao_inhibition: false}``), so a user can ask which result depends on which
mechanism.

``mao_inhibition``             an MAO inhibitor (co-medication ``"maoi"``) slows the clearance of
                               MAO substrates (psilocin): ``CL · (1 − fm_MAO · inhibition)``.
``ssri_5ht2a_downregulation``  sustained SERT occupancy down-regulates 5-HT2A (RB8): receptor
                               availability ``R`` relaxes towards ``1 − d_max · occ_SERT`` with a
                               time constant of days; co-medication ``"ssri"`` starts a subject at
                               the chronic steady state.
``ssri_surface_serotonin``     SERT blockade raises extracellular serotonin, which competes at
                               surface 5-HT2A only (serotonin does not cross membranes, RB7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import InputError
from ..parameters import Param, ParameterSet
from .params import FRACTION, NON_NEGATIVE, POSITIVE, Bound, PhysicallyBounded

#: Co-medication flags a subject may carry.
COMEDICATIONS = ("maoi", "ssri")


@dataclass(frozen=True)
class Interaction:
    """A named mechanism: what triggers it, what it changes, its evidence."""

    name: str
    trigger: str
    changes: str
    source: str


INTERACTIONS: dict[str, Interaction] = {
    i.name: i
    for i in (
        Interaction("mao_inhibition", "co-medication 'maoi'",
                    "clearance of compounds with fraction_metabolised_by_mao (psilocin)",
                    "Thomann et al. 2024 Front Pharmacol (MAO-A metabolises psilocin); magnitude assumed"),
        Interaction("ssri_5ht2a_downregulation", "SERT occupancy over days, or co-medication 'ssri'",
                    "5-HT2A availability (both pools), hence activation and subjective effect",
                    "REFERENCES RB8 (named hypothesis); magnitude and time constant assumed"),
        Interaction("ssri_surface_serotonin", "SERT occupancy",
                    "serotonin competes with drugs at surface 5-HT2A only",
                    "REFERENCES RB7 (Vargas et al. 2023 Science); magnitude assumed"),
    )
}


class InteractionParams(PhysicallyBounded, ParameterSet):
    """Magnitudes of the interaction mechanisms (all assumptions, stated as such).

    Physical bounds: the inhibited enzyme share, the down-regulated receptor share and the SERT
    occupancy are fractions in [0, 1] (so availability ``1 − d_max · occ`` and the MAO factor
    ``1 − fm · inhibition`` stay in [0, 1]); the time constant is > 0, the serotonin ratio >= 0.
    """

    physical_bounds: ClassVar[dict[str, Bound]] = {
        "mao_inhibition_fraction": FRACTION, "downregulation_max": FRACTION, "downregulation_time": POSITIVE,
        "chronic_ssri_sert_occupancy": FRACTION, "serotonin_ratio_at_full_sert_block": NON_NEGATIVE,
    }
    canonical_units: ClassVar[dict[str, str]] = {
        "mao_inhibition_fraction": "", "downregulation_max": "", "downregulation_time": "day",
        "chronic_ssri_sert_occupancy": "", "serotonin_ratio_at_full_sert_block": "",
    }

    mao_inhibition_fraction: Param
    downregulation_max: Param
    downregulation_time: Param
    chronic_ssri_sert_occupancy: Param
    serotonin_ratio_at_full_sert_block: Param


INTERACTION_PARAMS = InteractionParams(
    mao_inhibition_fraction=Param(
        value=0.9, unit="", kind="assumed", source="irreversible MAO-A inhibitor at clinical doses",
        note="fraction of MAO activity removed; enzyme inhibition > 80 % is typical of clinical MAOIs"),
    downregulation_max=Param(
        value=0.2, unit="", kind="assumed", source="REFERENCES RB8 (named hypothesis)",
        note="fractional loss of 5-HT2A per unit SERT occupancy at steady state; chosen so chronic "
             "escitalopram (occupancy ~0.8) removes ~16 % of receptors and blunts the 25 mg effect by more than half"),
    downregulation_time=Param(
        value=7.0, unit="day", kind="assumed", source="weeks-scale receptor adaptation under SSRIs",
        note="time constant of the relaxation of 5-HT2A availability"),
    chronic_ssri_sert_occupancy=Param(
        value=0.80, unit="", kind="published", source="Meyer et al. 2004 Am J Psychiatry 161:826 (REFERENCES RB5)",
        note="SERT occupancy at minimum therapeutic SSRI doses; used for co-medication 'ssri'"),
    serotonin_ratio_at_full_sert_block=Param(
        value=0.5, unit="", kind="assumed", source="REFERENCES RB7 (mechanism); magnitude assumed",
        note="extra extracellular serotonin at full SERT block, in units of its surface 5-HT2A affinity"),
)


def enabled_interactions(overrides: dict[str, bool] | None) -> dict[str, bool]:
    """All interactions on, except those switched off in ``overrides`` (names checked)."""
    overrides = overrides or {}
    unknown = set(overrides) - set(INTERACTIONS)
    if unknown:
        raise InputError("interactions", f"unknown interaction(s) {sorted(unknown)}; known: {', '.join(INTERACTIONS)}")
    return {name: bool(overrides.get(name, True)) for name in INTERACTIONS}


def clearance_factor(pk, comedication: frozenset[str] | tuple[str, ...], enabled: dict[str, bool],
                     *, params: InteractionParams = INTERACTION_PARAMS) -> float:
    """Multiplier on clearance from PK interactions (1.0 when none applies)."""
    factor = 1.0
    fm = pk.fraction_metabolised_by_mao
    if enabled.get("mao_inhibition") and "maoi" in comedication and fm is not None:
        factor *= 1.0 - fm.value * params.mao_inhibition_fraction.value
    return factor
