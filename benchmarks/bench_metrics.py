"""Benchmark: ``psilosim.metrics.analyze`` vs the hand-assembled peer pipeline, one AAL2 subject.

Peer pipeline (what a researcher would assemble by hand, in the same process on the same data):
static FC with numpy, bctpy ``community_louvain`` + ``participation_coef``, sliding-window FC
with numpy, ``leidenalg.find_partition_temporal`` with ``RBConfigurationVertexPartition``
(Mucha null model, omega = gamma = 1), and teneto's ``flexibility``.

psilosim computes more in its time: 20 Leiden runs with a consensus, 8 multilayer runs averaged,
DMN/network FC, integration summaries and the FCD.

teneto 0.5.3 cannot be imported as a package with nilearn >= 0.11 (``nilearn.input_data`` was
removed, and teneto's ``__init__`` imports its neuroimaging tools). Its flexibility function is a
self-contained module that needs only numpy, so it is loaded from the installed file without
running the package ``__init__``.

Usage: ``python benchmarks/bench_metrics.py [--subject K] [--repeats R] [--json]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np


def teneto_flexibility():
    """teneto.communitymeasures.flexibility, loaded without teneto's package __init__."""
    spec = importlib.util.find_spec("teneto")
    if spec is None or spec.origin is None:
        raise SystemExit("teneto is not installed: pip install -e '.[bench]'")
    path = Path(spec.origin).parent / "communitymeasures" / "flexibility.py"
    module_spec = importlib.util.spec_from_file_location("teneto_flexibility", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.flexibility


def peer_pipeline(values: np.ndarray, width: int, step: int, flexibility, seed: int) -> dict:
    import bct
    import igraph as ig
    import leidenalg as la

    fc = np.corrcoef(values)
    np.fill_diagonal(fc, 0)
    positive = np.where(fc > 0, fc, 0)
    communities, q = bct.community_louvain(positive, seed=seed)
    part = bct.participation_coef(positive, communities)
    graphs = []
    for start in range(0, values.shape[1] - width + 1, step):
        window = np.corrcoef(values[:, start:start + width])
        window = np.triu(np.where(window > 0, window, 0), k=1)
        rows, cols = np.nonzero(window)
        graph = ig.Graph(n=values.shape[0], edges=np.column_stack([rows, cols]))
        graph.es["weight"] = window[rows, cols]
        graph.vs["id"] = list(range(values.shape[0]))
        graphs.append(graph)
    memberships, _ = la.find_partition_temporal(
        graphs, la.RBConfigurationVertexPartition, interslice_weight=1.0, resolution_parameter=1.0,
        seed=seed)
    flex = flexibility(np.array(memberships).T)
    return {"modularity": q, "participation_mean": part.mean(), "flexibility_mean": flex.mean()}


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subject", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from psilosim.connectome import load_dataset
    from psilosim.metrics import analyze, summary

    brain = load_dataset("aal2")
    bold = brain.bold[args.subject]
    tr = bold.attrs["tr_s"]
    width, step = int(round(60 / tr)), int(round(20 / tr))
    flexibility = teneto_flexibility()
    analyze(bold, brain.regions, seed=0)  # warm-up: numba compilation (cached on disk afterwards)
    peer_pipeline(bold.values, width, step, flexibility, 0)

    ours_s, ours = timed(lambda: summary(analyze(bold, brain.regions, seed=1)), args.repeats)
    peers_s, peers = timed(lambda: peer_pipeline(bold.values, width, step, flexibility, 1), args.repeats)
    result = {
        "psilosim_s": ours_s, "peers_s": peers_s, "ratio": peers_s / ours_s,
        "subject": args.subject, "repeats": args.repeats,
        "psilosim": {k: ours[k] for k in ("modularity", "participation_mean", "flexibility_mean")},
        "peers": {k: float(v) for k, v in peers.items()},
        "machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}",
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"psilosim analyze : {ours_s:.3f} s  {result['psilosim']}")
        print(f"peer pipeline    : {peers_s:.3f} s  {result['peers']}")
        print(f"ratio peers/psilosim: {result['ratio']:.1f}×")


if __name__ == "__main__":
    main()
