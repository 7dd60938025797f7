"""The dynamic mean field on a connectome: feedback inhibition control, batched runs, BOLD.

Equations (Deco et al. 2014 J Neurosci 34:7886; gain modulation Deco et al. 2018 Curr Biol
28:3065), for region i, with H(I; a, b, d, g) = g(aI − b) / (1 − exp(−d g(aI − b)))::

    I_E,i = W_E I0 + w+ J_NMDA S_E,i + G J_NMDA Σ_j C_ij S_E,j − J_i S_I,i
    I_I,i = W_I I0 + J_NMDA S_E,i − S_I,i
    r_E,i = H(I_E,i; a_E, b_E, d_E, g_i),   g_i = 1 + s R_i occupancy
    r_I,i = H(I_I,i; a_I, b_I, d_I, 1)
    dS_E,i/dt = −S_E,i/τ_E + (1 − S_E,i) γ r_E,i + σ ν_i
    dS_I,i/dt = −S_I,i/τ_I + r_I,i + σ ν_i

Feedback inhibition control (FIC), the Deco et al. 2014 variant: each J_i is adjusted until
region i fires at ≈ 3 Hz. psilosim starts from the closed-form solution at the noise-free fixed
point (with every region at target, S_E,j = S* for all j, so J_i follows from one inversion of H
per population, :meth:`DMFModel.fic`) and then, as Deco et al. 2014 do, corrects J_i from the
mean rates of short noisy simulations (:meth:`DMFModel.fic_refined`), because noise shifts the
mean rates near the critical coupling. FIC is set once for the baseline (g = 1) and kept fixed
under the drug, as in Deco et al. 2018.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
import xarray as xr
from scipy.optimize import brentq

from ..._frozen import Frozen
from ..._labels import SHOWN_LABELS
from ...errors import InputError, WorkingPointWarning
from .._checks import checked_coupling, checked_couplings, checked_sc
from .._rng import seed_streams
from ..bold import BALLOON, TIME_LONG_NAME, BalloonParams, balloon_constants, resting_state
from .kernel import Drive, Record, State, block_edges, run_parallel, run_serial, transfer
from .params import DMF, DMFParams, kernel_constants

#: Batches at least this large run blocks of members in parallel; a single member runs on one
#: thread.
PARALLEL_MIN_BATCH = 2


@dataclass(frozen=True)
class WorkingPoint:
    """The noise-free fixed point that FIC targets (same for every region)."""

    s_e: float
    s_i: float
    i_e: float


def valid_gains(gains: np.ndarray) -> bool:
    """Whether excitatory gains are usable: finite and positive everywhere."""
    return bool(np.isfinite(gains).all() and (gains > 0).all())


class DMFModel(Frozen):
    """The DMF on one connectome.

    Parameters
    ----------
    sc
        Structural connectivity, a labelled DataArray with dims ``("region_i", "region_j")``
        listing the same regions in the same order; ``sc[i, j]`` is the weight of the input
        that region i receives from region j. A bare array is refused
        (:func:`~psilosim.network._checks.checked_sc`).
    params, balloon
        Parameter sets (defaults: :data:`~.params.DMF`, :data:`~psilosim.network.bold.BALLOON`).
    """

    def __init__(self, sc: xr.DataArray, *, params: DMFParams = DMF,
                 balloon: BalloonParams = BALLOON):
        self.sc, self.labels = checked_sc(sc)
        self.params = params
        self.consts = kernel_constants(p=params)
        self.balloon = balloon_constants(p=balloon)
        self.working_point = self._working_point()

    @property
    def n_regions(self) -> int:
        return len(self.labels)

    # ------------------------------------------------------------------ FIC
    def _working_point(self) -> WorkingPoint:
        c = self.consts
        rate = c.r_ref
        tau_e_s = 1.0 / c.inv_tau_e / 1000.0
        gamma = c.gamma_per_ms * 1000.0
        s_e = gamma * rate * tau_e_s / (1.0 + gamma * rate * tau_e_s)
        i_e = brentq(lambda i: transfer(i, c.a_e, c.b_e, c.d_e, 1.0) - rate, -1.0, 2.0, xtol=1e-14)
        tau_i_ms = 1.0 / c.inv_tau_i
        drive_i = c.ext_i + c.j_nmda * s_e
        s_i = brentq(lambda s: s - tau_i_ms * 1e-3 * transfer(drive_i - s, c.a_i, c.b_i, c.d_i, 1.0),
                     0.0, 1.0, xtol=1e-14)
        return WorkingPoint(s_e=s_e, s_i=s_i, i_e=i_e)

    def fic(self, coupling: float) -> np.ndarray:
        """FIC weights J_i (nA) that put every region at the target rate for global coupling G."""
        coupling = checked_coupling(coupling)
        c = self.consts
        wp = self.working_point
        in_strength = self.sc.sum(axis=1)
        excitation = c.ext_e + c.w_plus_j * wp.s_e + coupling * c.j_nmda * wp.s_e * in_strength
        return (excitation - wp.i_e) / wp.s_i

    def fic_refined(self, coupling: float | Sequence[float], *, seed: int | None = 0,
                    iterations: int | None = None) -> xr.DataArray:
        """FIC weights corrected on noisy simulations so mean rates sit at the target.

        Starts from :meth:`fic` and applies ``iterations`` proportional corrections
        ``J_i += fic_rate · (r_i − target)`` (error clipped to ± the target, so a run that
        starts in the high-activity state cannot overshoot), each from the mean rates of the next ``fic_window``
        seconds of one continuing simulation (all couplings in one batch). Deterministic for a
        given ``seed``. This is the working point scan sessions and fits run at; pass it as
        ``j_fic`` to :meth:`simulate` or :meth:`start` (matched by region label).

        Returns
        -------
        xarray.DataArray
            J (nA), dims ``(member, region)``: one row per coupling (coordinate ``coupling``),
            the connectome's region labels.
        """
        g_values = checked_couplings(coupling)
        j_fic = np.stack([self.fic(g) for g in g_values])
        n_iter = int(self.params.fic_iterations.value) if iterations is None else int(iterations)
        step = self.params.fic_rate.to("nA/Hz")
        window = self.params.fic_window.to("s")
        target = self.consts.r_ref
        run = self.start(coupling=g_values, seed=seed, tr_s=window, j_fic=j_fic)
        for _ in range(n_iter):  # one continuing run: no restart transient in the estimates
            rates = run.advance(window)["rate"].values
            error = np.clip(rates - target, -target, target)  # a runaway burst must not overshoot J
            run.drive.j_fic[:] = np.maximum(run.drive.j_fic + step * error, 0.0)
        return xr.DataArray(run.drive.j_fic.copy(), dims=("member", "region"),
                            coords={"member": np.arange(len(g_values)), "coupling": ("member", g_values),
                                    "region": self.labels},
                            name="j_fic", attrs={"units": "nA", "long_name": "refined FIC weight J"})

    # ------------------------------------------------------------------ runs
    def start(self, *, coupling: float | Sequence[float], gain: np.ndarray | None = None,
              seed: int | None | Sequence[int] = None, tr_s: float = 2.0,
              j_fic: np.ndarray | None = None) -> DMFRun:
        """A batched run at the working point, ready to :meth:`DMFRun.advance`.

        Parameters
        ----------
        coupling
            Global coupling G, one value or one per member (the batch size follows from it and
            from ``gain``).
        gain
            Excitatory gain per region, shape ``(N,)`` or ``(B, N)``; 1 = baseline.
        seed
            One integer (members get spawned streams) or one entry per member: an integer or a
            tuple ``(seed, *spawn_key)`` (:func:`psilosim.network._rng.seed_streams`).
        tr_s
            BOLD sampling interval, s.
        j_fic
            FIC weights (B, N) or (N,), e.g. from :meth:`fic_refined`; default :meth:`fic`.
        """
        g_values = checked_couplings(coupling)
        self._require_own_regions("gain", gain)
        gains = np.ones((1, self.n_regions)) if gain is None else np.atleast_2d(np.asarray(gain, dtype=float))
        if gains.shape[1] != self.n_regions:
            raise InputError("gain", f"needs {self.n_regions} regions, got {gains.shape[1]}")
        if not valid_gains(gains):
            raise InputError("gain", "must be finite and positive")
        batch = max(len(g_values), gains.shape[0])
        if len(g_values) not in (1, batch) or gains.shape[0] not in (1, batch):
            raise InputError("coupling/gain", f"batch sizes {len(g_values)} and {gains.shape[0]} differ")
        g_values = np.broadcast_to(g_values, (batch,)).copy()
        gains = np.array(np.broadcast_to(gains, (batch, self.n_regions)), order="C")
        wp = self.working_point
        state = State(
            se=np.full((batch, self.n_regions), wp.s_e), si=np.full((batch, self.n_regions), wp.s_i),
            hemo=resting_state(self.n_regions, batch=batch), rng=seed_streams(seed, batch),
            step=np.zeros(1, dtype=np.int64),
        )
        drive = Drive(
            conn_t=np.ascontiguousarray(self.sc.T), coupling=g_values, gain=gains,
            j_fic=self._fic_for_batch(g_values, j_fic),
        )
        return DMFRun(self, state, drive, tr_s)

    def _fic_for_batch(self, g_values: np.ndarray, j_fic: np.ndarray | None) -> np.ndarray:
        if j_fic is None:
            return np.ascontiguousarray(np.stack([self.fic(g) for g in g_values]))
        self._require_own_regions("j_fic", j_fic)
        j_fic = np.atleast_2d(np.asarray(j_fic, dtype=float))
        if j_fic.shape[1] != self.n_regions or j_fic.shape[0] not in (1, len(g_values)):
            raise InputError("j_fic", f"shape {j_fic.shape} does not fit {len(g_values)} × {self.n_regions}")
        return np.array(np.broadcast_to(j_fic, (len(g_values), self.n_regions)), order="C")

    def _require_own_regions(self, field: str, values) -> None:
        """A labelled per-region input must carry this connectome's regions in its order."""
        if isinstance(values, xr.DataArray) and "region" in values.dims:
            labels = [str(v) for v in values["region"].values]
            if labels != self.labels:
                raise InputError(field, "is labelled with other regions (or another order) than the connectome")

    def simulate(self, duration_s: float, *, coupling: float | Sequence[float],
                 gain: np.ndarray | None = None, seed: int | None | Sequence[int] = None,
                 tr_s: float = 2.0, warmup_s: float = 20.0,
                 j_fic: np.ndarray | None = None) -> xr.Dataset:
        """Simulate ``duration_s`` of BOLD after ``warmup_s`` of discarded transient.

        ``warmup_s`` is 0 or a positive multiple of the network step; anything else is an
        :class:`InputError` on ``"warmup"``. Arguments as :meth:`start`; output as
        :meth:`DMFRun.advance`, whose ``time`` is counted from the end of the warm-up
        (:meth:`DMFRun.warm_up`): with ``warmup_s`` a multiple of ``tr_s`` (every default) the
        samples are at ``tr_s, 2 tr_s, …`` as in :meth:`HopfModel.simulate
        <psilosim.network.hopf.HopfModel.simulate>` and recorded BOLD
        (docs/network.md#time-axis).

        The default ``j_fic`` is the closed-form :meth:`fic`, exact only without noise: near the
        fitted coupling the noisy network then fires well above the 3 Hz target (≈ 15 Hz on AAL2
        at ``FITTED_G.aal2``). Scan sessions and fits use ``j_fic=model.fic_refined(G)``
        instead; use it too for results comparable with theirs.

        Warns
        -----
        WorkingPointWarning
            A member at baseline gain (1 everywhere) whose mean excitatory rate is more than
            ``fic_rate_tolerance`` from ``target_rate``.
        """
        if not (np.isfinite(warmup_s) and warmup_s >= 0):
            raise InputError("warmup", f"must be a finite number of seconds >= 0, got {warmup_s}")
        run = self.start(coupling=coupling, gain=gain, seed=seed, tr_s=tr_s, j_fic=j_fic)
        if warmup_s > 0:
            run.warm_up(warmup_s)
        out = run.advance(duration_s)
        self._warn_off_working_point(out["rate"].values, run.drive)
        return out

    def _warn_off_working_point(self, rates: np.ndarray, drive: Drive) -> None:
        """Warn if a baseline member's mean rate is far from the FIC target (a drug's gain moves
        rates on purpose: FIC is the baseline's, kept under the drug)."""
        baseline = (drive.gain == 1.0).all(axis=1)
        off = baseline & (np.abs(rates.mean(axis=1) - self.consts.r_ref) > self.params.fic_rate_tolerance.to("Hz"))
        if off.any():
            means = rates[off].mean(axis=1)
            shown = ", ".join(f"G {g:g}: {r:.1f} Hz" for g, r in zip(drive.coupling[off][:SHOWN_LABELS],
                                                                    means[:SHOWN_LABELS], strict=True))
            if off.sum() > SHOWN_LABELS:
                shown += f", … ({off.sum()} members in all)"
            warnings.warn(
                f"mean excitatory rate off the {self.consts.r_ref:g} Hz FIC target ({shown}): the FIC weights "
                "do not hold the working point at this coupling with noise; pass "
                "j_fic=model.fic_refined(coupling), the working point scan sessions and fits use",
                WorkingPointWarning, stacklevel=3)


class DMFRun:
    """A batched simulation in progress; :meth:`advance` continues it exactly where it stopped.

    Time axis (docs/network.md#time-axis): BOLD is read every ``tr_s`` of simulated time since
    the run started, and each sample's ``time`` is the simulated instant at which it was read,
    counted from the start of the recorded part: the end of :meth:`warm_up`, or the run's start
    without one. Cutting a run into chunks changes neither the samples nor their times.
    """

    def __init__(self, model: DMFModel, state: State, drive: Drive, tr_s: float):
        network_step_s = model.consts.dt_network_s
        every = int(round(tr_s / network_step_s))
        if every < 1 or abs(every * network_step_s - tr_s) > 1e-9:
            raise InputError("tr", f"{tr_s} s is not a multiple of the {network_step_s * 1e3:g} ms network step")
        self.model = model
        self.state = state
        self.drive = drive
        self.tr_s = tr_s
        self.sample_every = every
        #: Simulated time (s since the run started) at which the recorded part began.
        self.recording_start_s = 0.0
        #: Whether :meth:`advance` has returned samples of the recording (a later warm-up would
        #: restart its clock and stamp two samples with one time).
        self.recording_started = False

    @property
    def batch(self) -> int:
        return self.state.se.shape[0]

    @property
    def elapsed_s(self) -> float:
        return float(self.state.step[0]) * self.model.consts.dt_network_s

    def warm_up(self, duration_s: float) -> None:
        """Simulate ``duration_s`` seconds of transient, discard them, and start the recording.

        Call it before the first :meth:`advance` whose output you keep: later samples are timed
        from the end of the warm-up. The BOLD grid stays the run's own (every ``tr_s`` since the
        run started), so a warm-up that is not a multiple of ``tr_s`` puts the first sample less
        than one TR into the recording, at its true time. ``0`` is no warm-up (as
        ``DMFModel.simulate(warmup_s=0)``).

        Raises
        ------
        InputError
            On ``"warmup"``: negative, not finite or not a multiple of the network step, or called
            after :meth:`advance` has returned samples of the recording.
        """
        if self.recording_started:
            raise InputError("warmup", "the recording has started: warm up before the first advance whose output "
                                       "you keep (a warm-up now would restart the clock and repeat sample times)")
        if duration_s == 0:
            return
        try:
            self.advance(duration_s)
        except InputError as exc:  # advance names its own argument "duration"
            raise InputError("warmup", exc.problem) from None
        self.recording_start_s = self.elapsed_s
        self.recording_started = False  # what the warm-up returned is discarded

    def advance(self, duration_s: float) -> xr.Dataset:
        """Simulate ``duration_s`` more seconds.

        Returns
        -------
        xarray.Dataset
            ``bold`` (member, region, time) with the samples that fall in this stretch and
            ``rate`` (member, region), the mean excitatory rate (Hz). ``time`` (s) is each
            sample's simulated time since the recording started (the end of :meth:`warm_up`,
            else the run's start): the m-th sample of a run without warm-up is at ``m · tr_s``.
        """
        dt_net = self.model.consts.dt_network_s
        if isinstance(duration_s, bool) or not isinstance(duration_s, (int, float, np.integer, np.floating)) \
                or not np.isfinite(duration_s):
            raise InputError("duration", f"{duration_s!r} s must be a positive multiple of {dt_net * 1e3:g} ms")
        n_steps = int(round(duration_s / dt_net))
        if n_steps < 1 or abs(n_steps * dt_net - duration_s) > 1e-6:
            raise InputError("duration", f"{duration_s} s must be a positive multiple of {dt_net * 1e3:g} ms")
        start = int(self.state.step[0])
        first = start // self.sample_every
        n_samples = (start + n_steps) // self.sample_every - first
        bold = np.zeros((self.batch, self.model.n_regions, n_samples))
        rate_sum = np.zeros((self.batch, self.model.n_regions))
        kernel = run_parallel if self.batch >= PARALLEL_MIN_BATCH else run_serial
        kernel(self.state, self.drive, self.model.consts, self.model.balloon, n_steps,
               self.sample_every, Record(bold, rate_sum), block_edges(self.batch, numba.get_num_threads()))
        times = (np.arange(first, first + n_samples) + 1) * self.tr_s - self.recording_start_s
        self.recording_started = self.recording_started or n_samples > 0
        labels = self.model.labels
        return xr.Dataset(
            {
                "bold": (("member", "region", "time"), bold,
                         {"units": "1", "long_name": "BOLD signal change, fraction of the resting signal"}),
                "rate": (("member", "region"), rate_sum / n_steps, {"units": "Hz"}),
            },
            coords={"member": np.arange(self.batch), "region": labels,
                    "time": ("time", times, {"units": "s", "long_name": TIME_LONG_NAME})},
            attrs={"tr_s": self.tr_s, "model": "dmf", "time_units": "s"},
        )
