"""Linear-noise approximation of the DMF: FC without simulation, in milliseconds.

Around a stable fixed point x* = (S_E*, S_I*), small fluctuations obey dx = A x dt + σ dW, with A
the Jacobian of the DMF (see :mod:`.model` for the equations). Their stationary covariance P
solves the Lyapunov equation ``A P + P Aᵀ + σ² I = 0``; the correlation of the S_E block is the
model's functional connectivity of the slow (NMDA) gating, which the BOLD signal low-pass
filters. This is the approach of the linearised DMF used for fast exploration by Deco et al.
2014 (J Neurosci 34:7886, "linear noise approximation"); it is exact to second order in σ.

Under the drug the gains change and the fixed point moves (rates rise); the fixed point is found
again by Newton iteration from the baseline one, with FIC kept at its baseline values.

Every method that takes a ``gain`` also takes optional per-region extra currents ``current_e`` and
``current_i`` (nA) added to the excitatory and inhibitory inputs, the receptor-weighted drug
currents of Kringelbach et al. 2020 (PNAS 117:9566; :mod:`psilosim.network.acute`, acute state
``"current"``). They are constant inputs, so they enter the Jacobian only through the fixed point
they move. Without them the arithmetic is the gain path's, unchanged.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import xarray as xr
from scipy.linalg import solve_continuous_lyapunov
from scipy.optimize import root

from ..._frozen import Frozen
from ...connectome.parcellation import labelled_matrix
from ...errors import DataError, InputError
from .._checks import checked_coupling
from .model import DMFModel

#: Largest exponent −d·x evaluated in the transfer function (exp(300) ≈ 1e130: far from overflow
#: once squared; a numerical guard, not a model constant).
EXP_LIMIT = 300.0


def _phi(x: np.ndarray, d: float) -> tuple[np.ndarray, np.ndarray]:
    """``x / (1 − exp(−d x))`` and its derivative, safe at x = 0."""
    small = np.abs(x) < 1e-7
    silent = -d * x > EXP_LIMIT  # far below threshold: the rate and its slope are 0 to double precision
    xs = np.where(small | silent, 1e-7, x)
    e = np.exp(-d * xs)
    denom = 1.0 - e
    value = np.where(small, 1.0 / d + x / 2.0, xs / denom)
    slope = np.where(small, 0.5, (denom - d * xs * e) / denom**2)
    return np.where(silent, 0.0, value), np.where(silent, 0.0, slope)


class LinearDMF(Frozen):
    """Fixed points, Jacobians and stationary covariance of a :class:`DMFModel`."""

    def __init__(self, model: DMFModel, coupling: float, *, j_fic: np.ndarray | None = None):
        self.model = model
        self.coupling = checked_coupling(coupling)
        self.j_fic = model.fic(self.coupling) if j_fic is None else np.asarray(j_fic, dtype=float)
        wp = model.working_point
        n = model.n_regions
        start = np.concatenate([np.full(n, wp.s_e), np.full(n, wp.s_i)])
        if j_fic is not None:  # refined FIC moves the noise-free fixed point a little
            start = root(self.flow, start, args=(np.ones(n),), jac=self.jacobian, method="hybr",
                         tol=1e-12).x
        self.baseline = start

    def _rates(self, x: np.ndarray, gain: np.ndarray, current_e: np.ndarray | None = None,
               current_i: np.ndarray | None = None):
        c = self.model.consts
        n = self.model.n_regions
        s_e, s_i = x[:n], x[n:]
        i_e = (c.ext_e + c.w_plus_j * s_e + self.coupling * c.j_nmda * (self.model.sc @ s_e)
               - self.j_fic * s_i)
        i_i = c.ext_i + c.j_nmda * s_e - s_i
        if current_e is not None:  # skipped, not added as zeros, so the gain path stays bit-identical
            i_e = i_e + current_e
        if current_i is not None:
            i_i = i_i + current_i
        r_e, dr_e = _phi(gain * (c.a_e * i_e - c.b_e), c.d_e)
        r_i, dr_i = _phi(c.a_i * i_i - c.b_i, c.d_i)
        return s_e, s_i, r_e, dr_e * gain * c.a_e, r_i, dr_i * c.a_i

    def flow(self, x: np.ndarray, gain: np.ndarray, *, current_e: np.ndarray | None = None,
             current_i: np.ndarray | None = None) -> np.ndarray:
        """Right-hand side of the noise-free DMF (per ms); extra currents in nA (module docstring)."""
        c = self.model.consts
        s_e, s_i, r_e, _, r_i, _ = self._rates(x, gain, current_e, current_i)
        return np.concatenate([
            -s_e * c.inv_tau_e + (1.0 - s_e) * c.gamma_per_ms * r_e,
            -s_i * c.inv_tau_i + r_i * 1e-3,
        ])

    def jacobian(self, x: np.ndarray, gain: np.ndarray, *, current_e: np.ndarray | None = None,
                 current_i: np.ndarray | None = None) -> np.ndarray:
        """Jacobian of :meth:`flow` (2N × 2N, per ms)."""
        c = self.model.consts
        n = self.model.n_regions
        s_e, _, r_e, slope_e, _, slope_i = self._rates(x, gain, current_e, current_i)
        drive_e = (1.0 - s_e) * c.gamma_per_ms * slope_e  # d(dS_E/dt)/dI_E
        a = np.zeros((2 * n, 2 * n))
        a[:n, :n] = drive_e[:, None] * (self.coupling * c.j_nmda * self.model.sc)
        a[:n, :n] += np.diag(-c.inv_tau_e - c.gamma_per_ms * r_e + drive_e * c.w_plus_j)
        a[:n, n:] = np.diag(-drive_e * self.j_fic)
        a[n:, :n] = np.diag(slope_i * 1e-3 * c.j_nmda)
        a[n:, n:] = np.diag(-c.inv_tau_i - slope_i * 1e-3)
        return a

    def fixed_point(self, gain: np.ndarray, *, current_e: np.ndarray | None = None,
                    current_i: np.ndarray | None = None) -> np.ndarray:
        """The fixed point for per-region gains (and extra currents), continued from the baseline one."""
        currents = self._checked_currents(current_e, current_i)
        if currents[0] is None and currents[1] is None:
            sol = root(self.flow, self.baseline, args=(gain,), jac=self.jacobian, method="hybr", tol=1e-12)
        else:
            flow = partial(self.flow, gain=gain, current_e=currents[0], current_i=currents[1])
            jac = partial(self.jacobian, gain=gain, current_e=currents[0], current_i=currents[1])
            sol = root(flow, self.baseline, jac=jac, method="hybr", tol=1e-12)
        if not sol.success:
            raise DataError(f"no DMF fixed point for this gain map ({sol.message})")
        return sol.x

    def _checked_currents(self, current_e, current_i) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Extra currents as float arrays of one value per region (``None`` stays ``None``)."""
        n = self.model.n_regions
        out = []
        for field, current in (("current_e", current_e), ("current_i", current_i)):
            if current is None:
                out.append(None)
                continue
            current = np.asarray(current, dtype=float)
            if current.shape != (n,) or not np.isfinite(current).all():
                raise InputError(field, f"must be {n} finite currents (nA), one per region, got shape {current.shape}")
            out.append(current)
        return out[0], out[1]

    def covariance(self, *, gain: np.ndarray | None = None, input_cov: np.ndarray | None = None,
                   current_e: np.ndarray | None = None, current_i: np.ndarray | None = None) -> np.ndarray:
        """Stationary covariance of (S_E, S_I) for per-region gains (default baseline).

        ``input_cov`` (N × N, in units of the private noise variance; default identity) is the
        covariance of the noise entering the excitatory pools, e.g. a common input shared by a
        group of regions; the inhibitory pools keep private noise. ``current_e``, ``current_i``:
        extra per-region currents (nA, module docstring).
        """
        n = self.model.n_regions
        gain = np.ones(n) if gain is None else np.asarray(gain, dtype=float)
        if input_cov is not None:
            input_cov = np.asarray(input_cov, dtype=float)
            if input_cov.shape != (n, n) or not np.allclose(input_cov, input_cov.T):
                raise InputError("input_cov", f"must be a symmetric {n} × {n} matrix, got shape {input_cov.shape}")
        current_e, current_i = self._checked_currents(current_e, current_i)
        x = self.fixed_point(gain, current_e=current_e, current_i=current_i)
        a = self.jacobian(x, gain, current_e=current_e, current_i=current_i)
        if np.linalg.eigvals(a).real.max() >= 0:
            raise DataError("the DMF fixed point is unstable at this coupling/gain: no stationary FC")
        noise = self.model.consts.noise_step**2 / (self.model.consts.dt_network_s * 1e3)
        q = np.eye(2 * n)
        if input_cov is not None:
            q[:n, :n] = np.asarray(input_cov, dtype=float)
        return solve_continuous_lyapunov(a, -noise * q)

    def fc(self, *, gain: np.ndarray | None = None, current_e: np.ndarray | None = None,
           current_i: np.ndarray | None = None) -> xr.DataArray:
        """FC (correlation) of the S_E fluctuations, labelled."""
        n = self.model.n_regions
        cov = self.covariance(gain=gain, current_e=current_e, current_i=current_i)[:n, :n]
        sd = np.sqrt(np.diag(cov))
        corr = np.clip(cov / np.outer(sd, sd), -1.0, 1.0)  # round-off put the diagonal at 1 + 2e-16
        np.fill_diagonal(corr, 1.0)
        return labelled_matrix(corr, self.model.labels, name="fc",
                               attrs={"units": "1", "long_name": "correlation of the S_E fluctuations"})

    def rates(self, *, gain: np.ndarray | None = None, current_e: np.ndarray | None = None,
              current_i: np.ndarray | None = None) -> xr.DataArray:
        """Excitatory rates (Hz) at the fixed point, labelled by region."""
        gain = np.ones(self.model.n_regions) if gain is None else np.asarray(gain, dtype=float)
        current_e, current_i = self._checked_currents(current_e, current_i)
        x = self.fixed_point(gain, current_e=current_e, current_i=current_i)
        return xr.DataArray(self._rates(x, gain, current_e, current_i)[2], dims="region",
                            coords={"region": self.model.labels}, name="rate",
                            attrs={"units": "Hz", "long_name": "excitatory rate at the fixed point"})


def is_stable(model: DMFModel, coupling: float, *, gains: list[np.ndarray] | None = None,
              currents: list[tuple[np.ndarray, np.ndarray]] | None = None) -> bool:
    """Whether the closed-form FIC fixed point at ``coupling`` is linearly stable for each gain.

    ``currents`` (optional): pairs ``(current_e, current_i)`` of extra currents (nA), each
    checked too, at gain 1.
    """
    lin = LinearDMF(model, coupling)
    ones = np.ones(model.n_regions)
    drives = [(gain, None, None) for gain in gains or [ones]]
    drives += [(ones, *pair) for pair in currents or []]
    for gain, current_e, current_i in drives:
        try:
            x = lin.fixed_point(gain, current_e=current_e, current_i=current_i)
        except DataError:
            return False
        if np.linalg.eigvals(lin.jacobian(x, gain, current_e=current_e, current_i=current_i)).real.max() >= 0:
            return False
    return True


def stable_coupling(model: DMFModel, coupling: float, *, gains: list[np.ndarray] | None = None,
                    margin: float = 0.95, steps: int = 12,
                    currents: list[tuple[np.ndarray, np.ndarray]] | None = None) -> float:
    """``coupling`` if its fixed points are stable, else ``margin`` × the largest stable G below.

    Near the fitted G the noisy model sits close to the instability of its noise-free fixed
    point; the linear-noise approximation needs the fixed point itself to be stable, at baseline
    and under the gains given (e.g. the largest drug gain) and the extra ``currents`` given
    (:func:`is_stable`).
    """
    if is_stable(model, coupling, gains=gains, currents=currents):
        return float(coupling)
    low, high = 0.0, float(coupling)
    for _ in range(steps):  # bisection on the stability boundary
        mid = 0.5 * (low + high)
        low, high = (mid, high) if is_stable(model, mid, gains=gains, currents=currents) else (low, mid)
    return margin * low
