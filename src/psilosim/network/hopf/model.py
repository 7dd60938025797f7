"""The Hopf (Stuart–Landau) network: fast exploration, and FC in closed form.

For region i, with z_i = x_i + i y_i (Deco et al. 2017 Sci Rep 7:3095)::

    dz_i/dt = (a_i + iω_i − |z_i|²) z_i + G Σ_j C_ij (z_j − z_i) + β η_i

x_i stands for the band-passed BOLD signal. Below the bifurcation (a_i < 0) the linearised
system ``dX = A X dt + β dW`` has a stationary covariance from the Lyapunov equation
``A P + P Aᵀ + β² I = 0`` (Ponce-Alvarez et al. 2015 PLoS Comput Biol 11:e1004100), which gives FC
for hundreds of virtual patients in milliseconds each: the cheap co-activation path for trials.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from scipy.linalg import solve_continuous_lyapunov

from ..._frozen import Frozen
from ...connectome.parcellation import labelled_matrix
from ...errors import DataError, InputError
from .._checks import checked_coupling, checked_couplings, checked_sc
from .._rng import seed_streams
from ..bold import TIME_LONG_NAME
from .kernel import Drive, State, Step, run
from .params import HOPF, HopfParams

#: Slack (s) within which a sampling interval counts as a whole number of integration steps
#: (float rounding of a TR such as 0.1 · 20; a numerical guard, not a model constant).
STEP_GRID_SLACK_S = 1e-9


class HopfModel(Frozen):
    """Stuart–Landau oscillators on a connectome (``sc[i, j]``: input to i from j).

    ``sc`` is a labelled DataArray with dims ``("region_i", "region_j")`` listing the same regions
    in the same order; a bare array is refused (:func:`~psilosim.network._checks.checked_sc`).
    """

    def __init__(self, sc: xr.DataArray, *, params: HopfParams = HOPF):
        self.sc, self.labels = checked_sc(sc)
        self.params = params

    @property
    def n_regions(self) -> int:
        return len(self.labels)

    def bifurcation(self, *, density: np.ndarray | None = None,
                    occupancy: float = 0.0) -> np.ndarray:
        """Per-region a_i = a + shift · R_i · occupancy."""
        a = np.full(self.n_regions, self.params.bifurcation.to("1/s"))
        if density is not None:
            a = a + self.params.drug_shift.to("1/s") * np.asarray(density) * occupancy
        return a

    def simulate(self, duration_s: float, *, coupling: float | Sequence[float],
                 a: np.ndarray | None = None, seed: int | None | Sequence[int] = None,
                 tr_s: float = 2.0, warmup_s: float = 60.0) -> xr.DataArray:
        """Batched simulation; returns x sampled every ``tr_s`` (member, region, time).

        ``time`` (s) counts from the end of the warm-up, each sample at the simulated instant it
        was read: ``tr_s, 2 tr_s, …`` (``round(duration_s / tr_s)`` samples), the axis of
        :meth:`DMFModel.simulate <psilosim.network.dmf.DMFModel.simulate>` and of recorded BOLD
        (docs/network.md#time-axis).

        Parameters
        ----------
        duration_s, warmup_s
            Recorded and discarded simulated time, s (finite, >= 0).
        coupling
            Global coupling G (finite, >= 0), one value or one per member.
        a
            Bifurcation parameter a_i (1/s, finite), shape ``(N,)`` or ``(B, N)``; default
            :meth:`bifurcation`.
        seed
            One integer (members get spawned streams) or one entry per member.
        tr_s
            Sampling interval, a multiple of the step ``dt``.

        Raises
        ------
        InputError
            Naming the argument that is out of range or whose size does not fit the batch.
        """
        g, a = self._batch_inputs(coupling, a)
        batch = len(g)
        dt = self.params.dt.to("s")
        if not self.on_step_grid(tr_s):
            raise InputError("tr", f"{tr_s} s is not a multiple of dt = {dt} s")
        every = int(round(tr_s / dt))
        for field, seconds in (("duration", duration_s), ("warmup", warmup_s)):
            if not (np.isfinite(seconds) and seconds >= 0):
                raise InputError(field, f"must be a finite number of seconds >= 0, got {seconds}")
        omega = np.full((batch, self.n_regions), 2 * np.pi * self.params.frequency.to("Hz"))
        state = State(x=np.zeros((batch, self.n_regions)), y=np.zeros((batch, self.n_regions)),
                      rng=seed_streams(seed, batch))
        drive = Drive(conn_t=np.ascontiguousarray(self.sc.T), strength=self.sc.sum(axis=1), a=a, omega=omega,
                      coupling=g)
        step = Step(dt=float(dt), kick=float(self.params.noise.value * np.sqrt(dt)))
        n_warm = int(round(warmup_s / dt))
        if n_warm:
            run(state, drive, step, n_warm, n_warm, np.empty((batch, self.n_regions, 1)))
        n_samples = int(round(duration_s / tr_s))
        out = np.empty((batch, self.n_regions, n_samples))
        run(state, drive, step, n_samples * every, every, out)
        return xr.DataArray(out, dims=("member", "region", "time"),
                            coords={"region": self.labels,
                                    "time": ("time", np.arange(1, n_samples + 1) * tr_s,
                                             {"units": "s", "long_name": TIME_LONG_NAME})},
                            name="x", attrs={"tr_s": tr_s, "model": "hopf", "units": "1",
                                                  "long_name": "real part of the Stuart–Landau amplitude"})

    def on_step_grid(self, tr_s: float) -> bool:
        """Whether ``tr_s`` is a whole number (≥ 1) of integration steps ``dt`` (to float rounding)."""
        dt = self.params.dt.to("s")
        every = round(tr_s / dt) if np.isfinite(tr_s) else 0
        return every >= 1 and abs(every * dt - tr_s) <= STEP_GRID_SLACK_S

    def _batch_inputs(self, coupling: float | Sequence[float], a: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Couplings (B,) and bifurcation parameters (B, N), checked and broadcast to one batch."""
        g = checked_couplings(coupling)
        a = np.atleast_2d(self.bifurcation() if a is None else np.asarray(a, dtype=float))
        if a.ndim != 2 or a.shape[1] != self.n_regions:
            raise InputError("a", f"needs {self.n_regions} regions (shape (N,) or (B, N)), got shape {a.shape}")
        if not np.isfinite(a).all():
            raise InputError("a", "must be finite")
        batch = max(len(g), a.shape[0])
        if len(g) not in (1, batch) or a.shape[0] not in (1, batch):
            raise InputError("coupling/a", f"batch sizes {len(g)} and {a.shape[0]} differ")
        return (np.broadcast_to(g, (batch,)).copy(),
                np.ascontiguousarray(np.broadcast_to(a, (batch, self.n_regions))))

    def jacobian(self, coupling: float, *, a: np.ndarray | None = None) -> np.ndarray:
        """Jacobian of the linearised system around z = 0, state order (x, y)."""
        coupling = checked_coupling(coupling)
        a = self.bifurcation() if a is None else np.asarray(a, dtype=float)
        omega = 2 * np.pi * self.params.frequency.to("Hz")
        n = self.n_regions
        diag = np.diag(a - coupling * self.sc.sum(axis=1))
        block = diag + coupling * self.sc
        jac = np.zeros((2 * n, 2 * n))
        jac[:n, :n] = block
        jac[n:, n:] = block
        jac[:n, n:] = -omega * np.eye(n)
        jac[n:, :n] = omega * np.eye(n)
        return jac

    def linear_fc(self, coupling: float, *, a: np.ndarray | None = None) -> xr.DataArray:
        """FC of x from the Lyapunov equation of the linearised model (no simulation)."""
        jac = self.jacobian(coupling, a=a)
        if np.linalg.eigvals(jac).real.max() >= 0:
            raise DataError("the Hopf network is above its bifurcation: no stationary FC")
        beta = self.params.noise.value
        cov = solve_continuous_lyapunov(jac, -beta**2 * np.eye(2 * self.n_regions))
        n = self.n_regions
        cx = cov[:n, :n]
        sd = np.sqrt(np.diag(cx))
        fc = labelled_matrix(cx / np.outer(sd, sd), self.labels, name="fc")
        return fc.assign_attrs(units="1", long_name="expected FC of x (Pearson r, linearised Hopf)")

