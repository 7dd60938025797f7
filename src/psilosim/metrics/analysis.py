"""One call per recording (:func:`analyze`) and per pair of recordings (:func:`compare`).

These are the functions the virtual-trial layer calls per patient and the CLI calls per file.
Results are ``xarray.Dataset`` objects with every array labelled by region or network;
:func:`summary` and :func:`compare_summary` flatten them to the JSON contract of the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .._seeds import checked_seed
from ..errors import InputError
from ._inputs import as_timeseries, check_region_table
from .desync import fc_change
from .fc import fcd_ks_distance, fcd_matrix, sliding_window_fc, static_fc
from .flexibility import Engine, multilayer_flexibility
from .modularity import Policy, detect_communities, integration_summary, participation
from .networks import dmn_fc, hippocampus_dmn_fc, network_fc, network_names
from .params import DEFAULT_METRICS, MetricsParameters

#: Scalar measures of :func:`analyze`, in the order the CLI prints them.
SCALARS = (
    "modularity", "modularity_best", "n_communities", "participation_mean", "participation_sd",
    "system_segregation", "mean_fc", "flexibility_mean", "q_multilayer", "dmn_within",
    "dmn_between", "hippocampus_dmn",
)

#: ``long_name`` of every measure of :func:`analyze`; all are dimensionless (``units`` "1"): FC is a
#: Pearson correlation of BOLD, the others are fractions, modularities or counts of it.
LONG_NAMES = {
    "modularity": "modularity Q of the consensus partition of static FC",
    "modularity_best": "best modularity Q over the Leiden runs",
    "n_communities": "number of communities of the consensus partition",
    "participation_mean": "mean participation coefficient over regions",
    "participation_sd": "standard deviation of the participation coefficient over regions",
    "system_segregation": "system segregation of the region table's networks (Chan et al. 2014)",
    "mean_fc": "mean static FC (Pearson correlation of BOLD) over region pairs",
    "flexibility_mean": "mean multilayer network flexibility over regions",
    "q_multilayer": "multilayer modularity Q of the sliding-window FC",
    "dmn_within": "mean FC within the default mode network",
    "dmn_between": "mean FC between the default mode network and the other networks",
    "hippocampus_dmn": "mean FC between hippocampus and default mode network",
    "participation": "participation coefficient (positive FC, consensus communities)",
    "flexibility": "multilayer network flexibility: fraction of window changes of community",
    "fc_within": "mean FC within the network",
    "fc_between": "mean FC between the network and the other networks",
    "flexibility_network": "mean multilayer network flexibility of the network's regions",
}
#: ``long_name`` of the desynchronisation measures of :func:`compare` (all dimensionless).
DESYNC_LONG_NAMES = {
    "desync_mean_abs_diff": "mean absolute FC change over region pairs",
    "desync_corr_distance": "1 - correlation of the FC before and after over region pairs",
    "desync_network_mean_abs_diff": "mean absolute FC change over the network's region pairs",
    "desync_network_corr_distance": "1 - correlation of the FC before and after over the network's pairs",
    "desync_region_mean_abs_diff": "mean absolute FC change of the region's connections",
    "fcd_ks": "Kolmogorov-Smirnov distance between the FCD distributions before and after",
}


def _described(array: xr.DataArray, long_name: str) -> xr.DataArray:
    """``array`` with dimensionless ``units`` and ``long_name`` attrs (str, so NetCDF keeps them)."""
    return array.assign_attrs(units="1", long_name=long_name)


def analyze(bold: xr.DataArray | np.ndarray, regions: pd.DataFrame, *, tr_s: float | None = None,
            params: MetricsParameters = DEFAULT_METRICS, window_s: float | None = None,
            step_s: float | None = None, omega: float | None = None, gamma: float | None = None,
            policy: Policy = "positive", seed: int | None = 0,
            engine: Engine = "louvain") -> xr.Dataset:
    """Every network measure of one recording.

    Parameters
    ----------
    bold
        BOLD, dims ``("region", "time")``, ``time`` in s (a bare array is read as regions × time
        in region-table order).
    regions
        Region table indexed by label with a ``network`` column (the DMN is ``"Default"``).
    tr_s
        Repetition time in s; from the time coordinate when ``None``.
    params
        Defaults (:data:`~psilosim.metrics.params.DEFAULT_METRICS`); the keyword arguments below
        override single values.
    window_s, step_s
        Sliding windows in s.
    omega, gamma
        Interslice coupling and resolution of the multilayer partition.
    policy
        Negative-weight policy of the static modularity (``"positive"`` or ``"signed"``).
    seed
        Seed of all randomness (``None``: fresh entropy).
    engine
        Multilayer optimiser, ``"louvain"`` (default) or ``"leidenalg"``.

    Returns
    -------
    xarray.Dataset
        Scalars (:data:`SCALARS`), ``fc`` (region_i, region_j), ``community``,
        ``participation`` and ``flexibility`` (region), ``fc_within``, ``fc_between`` and
        ``flexibility_network`` (network), ``fcd`` (window_a, window_b); settings in ``attrs``.
    """
    window_s = params.window_s.value if window_s is None else float(window_s)
    step_s = params.step_s.value if step_s is None else float(step_s)
    omega = params.omega.value if omega is None else float(omega)
    gamma = params.gamma.value if gamma is None else float(gamma)
    regions = check_region_table(regions)  # labels as strings, as the time series carries them
    ts = as_timeseries(bold, regions, tr_s=tr_s)
    regions = regions.loc[list(ts["region"].values)]
    fc = static_fc(ts, regions)
    seeds = np.random.SeedSequence(checked_seed(seed)).generate_state(2)
    communities = detect_communities(
        fc, regions, policy=policy, gamma=params.resolution.value,
        n_runs=int(params.n_runs_static.value),
        consensus_threshold=params.consensus_threshold.value, seed=int(seeds[0]),
    )
    window_fc = sliding_window_fc(ts, regions, window_s=window_s, step_s=step_s)
    flex = multilayer_flexibility(
        ts, regions, omega=omega, gamma=gamma, n_runs=int(params.n_runs_multilayer.value),
        seed=int(seeds[1]), engine=engine, window_fc=window_fc,
    )
    return _assemble(ts, regions, fc, communities, window_fc, flex, policy=policy, seed=seed)


def _assemble(ts, regions, fc, communities, window_fc, flex, *, policy, seed) -> xr.Dataset:
    networks = network_names(regions)
    member = regions["network"].astype(str).to_numpy()
    flexibility = flex["flexibility"].values
    by_network = [float(flexibility[member == name].mean()) for name in networks]
    per_network = network_fc(fc, regions)
    dmn = dmn_fc(fc, regions)
    integration = integration_summary(fc, regions, communities)
    fcd = fcd_matrix(window_fc)
    scalars = {
        "modularity": communities.q,
        "modularity_best": communities.q_best,
        "n_communities": communities.n_communities,
        "participation_mean": integration["participation_mean"],
        "participation_sd": integration["participation_sd"],
        "system_segregation": integration["system_segregation"],
        "mean_fc": integration["mean_fc"],
        "flexibility_mean": float(flexibility.mean()),
        "q_multilayer": float(flex["q_multilayer"].mean()),
        "dmn_within": dmn["within"],
        "dmn_between": dmn["between"],
        "hippocampus_dmn": hippocampus_dmn_fc(fc, regions),
    }
    data = {name: xr.DataArray(value) for name, value in scalars.items()}
    data.update(
        fc=fc,
        community=communities.labels.assign_attrs(  # labels are category ids, a count of nothing
            units="1", long_name="consensus community of the region (an arbitrary label, not an order)"),
        participation=xr.DataArray(participation(fc, communities.labels.values), dims="region"),
        flexibility=flex["flexibility"],
        fc_within=per_network["within"],
        fc_between=per_network["between"],
        flexibility_network=xr.DataArray(by_network, dims="network", coords={"network": networks}),
        fcd=fcd,
    )
    for name, long_name in LONG_NAMES.items():
        data[name] = _described(data[name], long_name)
    attrs = {
        "tr_s": ts.attrs["tr_s"], "n_time": ts.sizes["time"], "window_s": window_fc.attrs["window_s"],
        "step_s": window_fc.attrs["step_s"], "n_windows": window_fc.sizes["window"],
        "omega": flex.attrs["omega"], "gamma": flex.attrs["gamma"], "engine": flex.attrs["engine"],
        "policy": policy,
    }
    if seed is not None:  # an unseeded run has no seed to record (NetCDF attrs cannot be None)
        attrs["seed"] = int(seed)
    return xr.Dataset(data, attrs=attrs)


def as_analysis(item: xr.Dataset | xr.DataArray | np.ndarray, regions: pd.DataFrame, tr_s: float | None, *,
                field: str, options: Mapping[str, Any] | None = None) -> xr.Dataset:
    """``item`` as an :func:`analyze` result: a result is checked and returned, a recording analysed.

    Parameters
    ----------
    item
        A BOLD recording (as for :func:`analyze`) or a result of :func:`analyze`.
    regions, tr_s
        As for :func:`analyze`.
    field
        Name of ``item`` in errors (``"before"``): an error of :func:`analyze` about its field
        ``x`` is raised as ``field.x``.
    options
        Keyword arguments of :func:`analyze` (windows, omega, gamma, policy, seed, engine).

    Raises
    ------
    InputError
        If ``item`` is a Dataset without the measures of a result, or :func:`analyze` refuses it.
    """
    if isinstance(item, xr.Dataset):
        missing = [name for name in (*SCALARS, "fc", "fcd") if name not in item]
        if missing:
            raise InputError(field, f"is a Dataset without {missing[:3]} (pass BOLD or an analyze() result)")
        return item
    try:
        return analyze(item, regions, tr_s=tr_s, **(options or {}))
    except InputError as exc:
        raise InputError(f"{field}.{exc.field}", exc.problem) from None


def compare(before: xr.Dataset | xr.DataArray, after: xr.Dataset | xr.DataArray,
            regions: pd.DataFrame, *, tr_s: float | None = None, **kwargs: Any) -> xr.Dataset:
    """Change of every measure between two recordings, plus desynchronisation.

    Parameters
    ----------
    before, after
        BOLD recordings (as for :func:`analyze`) or results of :func:`analyze`.
    regions
        Region table shared by both.
    tr_s
        Repetition time in s for both (``None``: each from its time coordinate).
    **kwargs
        Passed to :func:`analyze` (windows, omega, gamma, policy, seed, engine).

    Returns
    -------
    xarray.Dataset
        ``delta_<measure>`` = after − before for every scalar, region and network measure;
        desynchronisation ``desync_mean_abs_diff``, ``desync_corr_distance`` (scalars),
        ``desync_network_mean_abs_diff``, ``desync_network_corr_distance`` (network),
        ``desync_region_mean_abs_diff`` (region); ``fcd_ks`` (KS distance of the FCDs).
    """
    regions = check_region_table(regions)
    first = as_analysis(before, regions, tr_s, field="before", options=kwargs)
    second = as_analysis(after, regions, tr_s, field="after", options=kwargs)
    labels = list(first["fc"]["region_i"].values)
    regions = regions.loc[labels]
    out: dict[str, xr.DataArray] = {}
    for name in (*SCALARS, "participation", "flexibility", "fc_within", "fc_between",
                 "flexibility_network"):
        out[f"delta_{name}"] = _described(second[name] - first[name],
                                          f"change (after - before) of the {LONG_NAMES[name]}")
    change = fc_change(first["fc"], second["fc"], regions)
    for name, value in change.data_vars.items():
        out[f"desync_{name}"] = _described(value, DESYNC_LONG_NAMES[f"desync_{name}"])
    out["fcd_ks"] = _described(xr.DataArray(fcd_ks_distance(first["fcd"], second["fcd"])), DESYNC_LONG_NAMES["fcd_ks"])
    return xr.Dataset(out, attrs={k: v for k, v in first.attrs.items() if k != "n_time"})


def _finite(value: Any) -> Any:
    value = float(value)
    return value if np.isfinite(value) else None


def _by(array: xr.DataArray, dim: str) -> dict[str, Any]:
    return {str(k): _finite(v) for k, v in zip(array[dim].values, array.values, strict=True)}


def summary(result: xr.Dataset) -> dict[str, Any]:
    """The JSON object of ``psilosim analyze`` (see docs/metrics.md)."""
    out: dict[str, Any] = {name: _finite(result[name]) for name in SCALARS}
    out["n_communities"] = int(result["n_communities"])
    out.update(
        flexibility_by_region=_by(result["flexibility"], "region"),
        flexibility_by_network=_by(result["flexibility_network"], "network"),
        participation_by_region=_by(result["participation"], "region"),
        community_by_region={str(k): int(v) for k, v in zip(result["region"].values,
                                                             result["community"].values, strict=True)},
        fc_by_network=_by(result["fc_within"], "network"),
        fc_between_by_network=_by(result["fc_between"], "network"),
        settings=dict(result.attrs),
    )
    return out


def compare_summary(result: xr.Dataset) -> dict[str, Any]:
    """The JSON object of ``psilosim compare`` (see docs/metrics.md)."""
    delta = {name: _finite(result[f"delta_{name}"]) for name in SCALARS}
    delta.update(
        flexibility_by_region=_by(result["delta_flexibility"], "region"),
        flexibility_by_network=_by(result["delta_flexibility_network"], "network"),
        participation_by_region=_by(result["delta_participation"], "region"),
        fc_by_network=_by(result["delta_fc_within"], "network"),
        fc_between_by_network=_by(result["delta_fc_between"], "network"),
    )
    desync = {
        "mean_abs_diff": _finite(result["desync_mean_abs_diff"]),
        "corr_distance": _finite(result["desync_corr_distance"]),
        "by_network": {
            "mean_abs_diff": _by(result["desync_network_mean_abs_diff"], "network"),
            "corr_distance": _by(result["desync_network_corr_distance"], "network"),
        },
        "by_region_mean_abs_diff": _by(result["desync_region_mean_abs_diff"], "region"),
    }
    return {"delta": delta, "desync": desync, "fcd_ks": _finite(result["fcd_ks"]),
            "settings": dict(result.attrs)}
