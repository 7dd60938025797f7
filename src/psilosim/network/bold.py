"""Balloon–Windkessel haemodynamics: neural activity in, BOLD out.

Convention (peer tools differ; this is psilosim's): the balloon model of Friston et al. 2000
(NeuroImage 12:466) with the haemodynamic priors and the *revised* BOLD output equation of
Stephan et al. 2007 (NeuroImage 38:387), i.e. the convention of SPM's DCM. For each region,
with time in seconds::

    ds/dt = z − κ s − γ (f − 1)           vasodilatory signal
    df/dt = s                              inflow
    τ dv/dt = f − v^(1/α)                  venous volume
    τ dq/dt = f (1 − (1 − E0)^(1/f)) / E0 − v^(1/α) q / v      deoxyhaemoglobin
    BOLD = V0 [k1 (1 − q) + k2 (1 − q/v) + k3 (1 − v)]
    k1 = c ν0 E0 TE,  k2 = ε r0 E0 TE,  k3 = 1 − ε     (c = 4.3 at 1.5 T, BALLOON.k1_coefficient)

(Deco et al. 2014 used Friston 2003's faster priors, κ = 0.65, γ = 0.41, τ = 0.98 s, whose
response peaks near 3 s; the Stephan 2007 priors peak at ≈ 4.5 s, like the canonical HRF.)

The drive ``z`` is the neural input: for the dynamic mean field, ``ε_nv (r_E / r_ref − 1)``, the
excitatory rate's relative deviation from the resting working point times a neurovascular
efficacy, so that a network at rest has resting flow (f = 1) and *sustained* silence (r_E = 0)
settles at a flow of 1 − ε_nv/γ > 0. The flow equation is an underdamped oscillator, though:
a strong burst followed by silence can overshoot below zero flow, and then ``v^(1/α)`` and the
extraction term are undefined (NaN). States are integrated in linear, not log, space (SPM's DCM
integrates log-transformed states to keep f, v, q positive); within the physiological
range this never happens, and a scan whose BOLD becomes non-finite stops with a ``DataError``
(``psilosim.network.scan``). It has been seen only at gains far beyond the derived one
(docs/network.md#gain-sensitivity).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from numba import njit

from ..connectome.parcellation import TIMESERIES_TIME_NAME as TIME_LONG_NAME
from ..parameters import Param, ParameterSet

S2007 = "Stephan et al. 2007 NeuroImage 38:387 (haemodynamic priors and revised BOLD equation)"


class BalloonParams(ParameterSet):
    """Balloon–Windkessel parameters (see the module docstring for the convention)."""

    kappa: Param
    gamma: Param
    tau: Param
    alpha: Param
    e0: Param
    v0: Param
    nu0: Param
    r0: Param
    echo_time: Param
    epsilon: Param
    k1_coefficient: Param
    efficacy: Param


BALLOON = BalloonParams(
    kappa=Param(value=0.64, unit="1/s", source=S2007, kind="published", note="signal decay κ"),
    gamma=Param(value=0.32, unit="1/s", source=S2007, kind="published", note="flow-dependent elimination γ"),
    tau=Param(value=2.0, unit="s", source=S2007, kind="published", note="haemodynamic transit time τ"),
    alpha=Param(value=0.32, unit="", source=S2007, kind="published", note="Grubb's exponent α"),
    e0=Param(value=0.4, unit="", source=S2007, kind="published",
             note="resting oxygen extraction E0 (Stephan 2007's BOLD output constants); used in the "
                  "balloon's state equation too, as Deco et al.'s code does, where SPM's implementation "
                  "of Stephan 2007 uses 0.32 there"),
    v0=Param(value=0.04, unit="", source=S2007, kind="published", note="resting venous volume fraction V0"),
    nu0=Param(value=40.3, unit="1/s", source=S2007, kind="published",
              note="frequency offset of fully deoxygenated blood at 1.5 T, ν0"),
    r0=Param(value=25.0, unit="1/s", source=S2007, kind="published",
             note="slope of intravascular relaxation rate vs oxygen saturation, r0"),
    echo_time=Param(value=0.04, unit="s", source=S2007, kind="published", note="echo time TE"),
    epsilon=Param(value=1.0, unit="", source=S2007, kind="published",
                  note="ratio of intra- to extravascular signal ε (prior mean)"),
    k1_coefficient=Param(
        value=4.3, unit="", kind="published",
        source="Obata et al. 2004 NeuroImage 21:144 (k1 = 4.3 ν0 E0 TE); " + S2007 + ", BOLD output equation",
        note="coefficient of the extravascular signal in the revised output equation, k1 = 4.3 ν0 E0 TE; "
             "with ν0 and r0 it is a 1.5 T value (other field strengths need other constants)"),
    efficacy=Param(
        value=0.2, unit="1/s", kind="assumed",
        source="assumed, see docs/network.md#balloonwindkessel-bold-networkboldpy (no published value transfers: Friston et al. 2000's efficacy multiplies an input scaled differently)",
        note="neurovascular efficacy ε_nv: doubling the excitatory rate raises steady flow by "
             "ε_nv/γ ≈ 60 %, the order of task-evoked CBF changes; silence lowers it by the same "
             "amount, never to zero; FC does not depend on it",
    ),
)


def balloon_constants(*, p: BalloonParams = BALLOON) -> np.ndarray:
    """Pack the parameters for the kernels: ``[κ, γ, 1/τ, 1/α, E0, V0, k1, k2, k3, efficacy]``."""
    e0 = p.e0.value
    te = p.echo_time.to("s")
    return np.array([
        p.kappa.to("1/s"), p.gamma.to("1/s"), 1.0 / p.tau.to("s"), 1.0 / p.alpha.value, e0,
        p.v0.value, p.k1_coefficient.value * p.nu0.to("1/s") * e0 * te, p.epsilon.value * p.r0.to("1/s") * e0 * te,
        1.0 - p.epsilon.value, p.efficacy.to("1/s"),
    ])


#: Indices into the packed constants (kept next to :func:`balloon_constants`).
KAPPA, GAMMA, INV_TAU, INV_ALPHA, E0, V0, K1, K2, K3, EFFICACY = range(10)
#: Haemodynamic state per region: s, f, v, q.
N_STATE = 4


def resting_state(n_regions: int, *, batch: int = 1) -> np.ndarray:
    """Resting haemodynamic state, shape ``(batch, 4, n_regions)``: s = 0, f = v = q = 1."""
    state = np.ones((batch, N_STATE, n_regions))
    state[:, 0, :] = 0.0
    return state


@njit(cache=True)
def balloon_step(state, drive, dt_s, c):
    """Advance one member's haemodynamic state (4 × N) by ``dt_s`` seconds (Euler)."""
    n = state.shape[1]
    for i in range(n):
        s = state[0, i]
        f = state[1, i]
        v = state[2, i]
        q = state[3, i]
        v_out = v ** c[INV_ALPHA]
        extraction = (1.0 - (1.0 - c[E0]) ** (1.0 / f)) / c[E0]
        state[0, i] = s + dt_s * (drive[i] - c[KAPPA] * s - c[GAMMA] * (f - 1.0))
        state[1, i] = f + dt_s * s
        state[2, i] = v + dt_s * c[INV_TAU] * (f - v_out)
        state[3, i] = q + dt_s * c[INV_TAU] * (f * extraction - v_out * q / v)


@njit(cache=True)
def balloon_signal(state, out, c):
    """Write the BOLD signal of each region of one member's state into ``out``."""
    for i in range(state.shape[1]):
        q = state[3, i]
        v = state[2, i]
        out[i] = c[V0] * (c[K1] * (1.0 - q) + c[K2] * (1.0 - q / v) + c[K3] * (1.0 - v))


@njit(cache=True)
def _integrate_drive(drive, dt_s, c):
    n_regions, n_steps = drive.shape
    state = np.ones((N_STATE, n_regions))
    state[0, :] = 0.0
    bold = np.empty((n_regions, n_steps))
    column = np.empty(n_regions)
    for k in range(n_steps):
        balloon_step(state, drive[:, k], dt_s, c)
        balloon_signal(state, column, c)
        bold[:, k] = column
    return bold


def bold_from_drive(drive: np.ndarray, dt_s: float, *, p: BalloonParams = BALLOON) -> np.ndarray:
    """BOLD (regions × steps) for a neural drive ``z`` (regions × steps) sampled every ``dt_s``.

    The drive is used as given (no efficacy scaling); start from rest.
    """
    drive = np.ascontiguousarray(np.atleast_2d(drive), dtype=float)
    return _integrate_drive(drive, float(dt_s), balloon_constants(p=p))


def impulse_response(*, duration_s: float = 30.0, dt_s: float = 1e-3, pulse_s: float = 0.1,
                     p: BalloonParams = BALLOON) -> xr.DataArray:
    """The BOLD response to a brief unit neural pulse (the haemodynamic response function).

    Parameters
    ----------
    duration_s, dt_s
        Length and step of the simulation, s.
    pulse_s
        Length of the rectangular pulse of unit drive (area ``pulse_s``), s.

    Returns
    -------
    xarray.DataArray
        BOLD over ``time`` (s since the pulse onset, from rest): the k-th value is the state after
        k steps, at ``k · dt_s``, so the first is at ``dt_s`` (the axis of every psilosim BOLD
        series, docs/network.md#time-axis).
    """
    n = int(round(duration_s / dt_s))
    drive = np.zeros((1, n))
    drive[0, : max(1, int(round(pulse_s / dt_s)))] = 1.0
    bold = bold_from_drive(drive, dt_s, p=p)[0]
    times = np.arange(1, n + 1) * dt_s
    return xr.DataArray(bold, dims=("time",),
                        coords={"time": ("time", times, {"units": "s", "long_name": "time since the pulse onset"})},
                        name="bold", attrs={"units": "1", "long_name": "BOLD signal change, fraction of the resting signal", "time_units": "s"})


def time_to_peak(response: xr.DataArray) -> float:
    """Time (s) of the maximum of a response."""
    return float(response["time"][int(np.argmax(response.values))])


__all__ = [
    "BALLOON", "TIME_LONG_NAME", "BalloonParams", "balloon_constants", "bold_from_drive", "impulse_response",
    "resting_state", "time_to_peak",
]
