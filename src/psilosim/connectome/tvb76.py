"""The Virtual Brain's default 76-region connectome as a built-in psilosim dataset (``"tvb76"``).

Provenance
    ``tvb_data/connectivity/connectivity_76.zip`` of the ``tvb-data`` package on PyPI (The
    Virtual Brain's data, GPL-3.0): ``weights.txt``, ``tract_lengths.txt``, ``centres.txt`` (labels
    such as ``rHC``), ``cortical.txt``. The tract data are CoCoMac-derived (macaque tracer
    literature, Kötter 2004 Neuroinformatics 2:127) mapped onto a human template with the regional
    map of Kötter & Wanke 2005 (Phil Trans R Soc B 360:881), as TVB documents it (Sanz Leon et al.
    2013 Front Neuroinform 7:10). It is a **demonstration set**: 38 regions per hemisphere, a
    hippocampus (``HC``), amygdala and parahippocampal cortex, no empirical FC or BOLD.
    The numbers are read from the installed package at run time; none are copied into psilosim.

What psilosim adds (``connectome/data/tvb76_regions.csv``, ``tvb76_5ht2a_classes.csv``)
    * a Yeo-7-style ``network`` per region, by region name (:data:`TVB76_NETWORK_RULE`), with a
      default mode network;
    * an *approximate* 5-HT2A density by region class (:data:`TVB76_HT2A_RULE`).

Coordinates are omitted: TVB's ``centres.txt`` is not in MNI orientation (its first axis runs
front to back). Labels are TVB's stems with the hemisphere as a suffix (``PFCM_R``), except the hippocampus,
written out (``Hippocampus_R``) so that :func:`psilosim.metrics.hippocampus_dmn_fc` finds it by
name. Weights are symmetrised (mean of both directions, zero diagonal) like the AAL2 set: the
rewiring and Hopf layers treat connections as undirected.
"""

from __future__ import annotations

import functools
import io
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DataError
from .parcellation import Parcellation, labelled_matrix

#: Receptor column name (same spelling as the AAL2 map and the Schaefer-100 folder).
HT2A = "5HT2A"
#: The archive inside the tvb-data package.
ARCHIVE = ("connectivity", "connectivity_76.zip")
#: TVB's hemisphere prefix → psilosim's suffix.
HEMISPHERES = {"r": "R", "l": "L"}

TVB76_NETWORK_RULE = (
    "Yeo-7 network names (Yeo et al. 2011 J Neurophysiol 106:1125) assigned by region name, as for "
    "AAL2: each region gets the network that covers most of the cortex its name denotes. The default "
    "mode network follows Buckner, Andrews-Hanna & Schacter 2008 (Ann N Y Acad Sci 1124:1) and its "
    "medial temporal subsystem (Andrews-Hanna et al. 2010 Neuron 65:550): medial prefrontal (PFCM, "
    "PFCDM), anterior, posterior and retrosplenial cingulate, medial parietal (precuneus), inferior "
    "parietal and middle temporal cortex, plus the hippocampus and parahippocampal cortex. The "
    "amygdala is Limbic. 'CC' (not identified in the package's files) is 'Unassigned'."
)

TVB76_HT2A_RULE = (
    "Approximate 5-HT2A density (relative, max 1) by region class, with the cortical levels of the "
    "AAL2 map (Beliveau et al. 2017 J Neurosci 37:120; Pazos et al. 1987 Neuroscience 21:123) and "
    "hippocampus and amygdala at half the lowest cortical level (far lower binding than neocortex "
    "in both). An ordinal approximation, not a measurement."
)

TVB76_PROVENANCE = (
    "TVB default connectivity_76 from the tvb-data package on PyPI (GPL-3.0; read at run time): "
    "CoCoMac-derived tract weights and lengths on a human template (Kötter & Wanke 2005 regional "
    "map; Sanz Leon et al. 2013). Demonstration set; weights symmetrised. Networks: "
    + TVB76_NETWORK_RULE + " 5-HT2A: " + TVB76_HT2A_RULE
)


#: Units and normalisation of the tvb76 arrays.
TVB76_ATTRS = {
    "sc": {"units": "1", "note": "relative weight as TVB ships it (CoCoMac-derived connection strengths, 0 to 3; "
                                 "not rescaled), symmetrised (mean of both directions, zero diagonal)"},
    "lengths": {"units": "mm", "note": "tract lengths as TVB ships them, symmetrised"},
}


@functools.lru_cache(maxsize=1)
def load_tvb76() -> Parcellation:
    """The ``tvb76`` parcellation (cached: the object is shared, do not mutate its tables).

    Raises
    ------
    DataError
        If ``tvb-data`` is not installed or its archive is malformed.
    """
    raw = _read_archive()
    regions = tvb76_region_table(raw["labels"])
    labels = list(regions.index)
    n = len(labels)
    for name in ("weights", "lengths"):
        if raw[name].shape != (n, n):
            raise DataError(f"tvb76: {name} has shape {raw[name].shape}, expected ({n}, {n})")
    return Parcellation(
        name="tvb76",
        regions=regions.drop(columns=[HT2A]),
        sc=labelled_matrix(_symmetrise(raw["weights"]), labels, name="sc", attrs=TVB76_ATTRS["sc"]),
        lengths=labelled_matrix(_symmetrise(raw["lengths"]), labels, name="lengths", attrs=TVB76_ATTRS["lengths"]),
        receptors=xr.DataArray(regions[[HT2A]].to_numpy(dtype=float), dims=("region", "receptor"),
                               coords={"region": labels, "receptor": [HT2A]}, name="density",
                               attrs={"units": "1", "note": "relative density, maximum 1. " + TVB76_HT2A_RULE}),
        provenance=TVB76_PROVENANCE,
    )


def tvb76_region_table(tvb_labels: list[str]) -> pd.DataFrame:
    """Region table (``hemisphere``, ``network``, ``name``, ``tvb_label``, ``ht2a_class``, ``5HT2A``) in TVB's order."""
    by_stem = _read_csv("tvb76_regions.csv").set_index("stem")
    levels = _read_csv("tvb76_5ht2a_classes.csv").set_index("ht2a_class")["relative_density"]
    rows = []
    for tvb_label in tvb_labels:
        hemi, stem = HEMISPHERES.get(tvb_label[:1]), tvb_label[1:]
        if hemi is None or stem not in by_stem.index:
            raise DataError(f"tvb76 region {tvb_label!r} has no entry in connectome/data/tvb76_regions.csv")
        entry = by_stem.loc[stem]
        rows.append({"label": f"{entry['label_stem']}_{hemi}", "hemisphere": hemi, "network": entry["network"],
                     "name": entry["name"], "tvb_label": tvb_label, "ht2a_class": entry["ht2a_class"],
                     HT2A: float(levels[entry["ht2a_class"]])})
    return pd.DataFrame(rows).set_index("label")


def _archive_path() -> Path:
    try:
        import tvb_data
    except ImportError as exc:
        raise DataError(f"the built-in 'tvb76' dataset needs the tvb-data package ({exc})") from None
    path = Path(tvb_data.__file__).parent.joinpath(*ARCHIVE)
    if not path.is_file():
        raise DataError(f"tvb-data is installed but {path} is missing")
    return path


def _read_archive() -> dict:
    with zipfile.ZipFile(_archive_path()) as archive:
        def text(name: str) -> str:
            try:
                return archive.read(name).decode()
            except KeyError:
                raise DataError(f"tvb76: {name} missing from {ARCHIVE[-1]}") from None

        centres = [line.split() for line in text("centres.txt").splitlines() if line.strip()]
        return {"labels": [row[0] for row in centres],
                "centres": np.array([[float(v) for v in row[1:4]] for row in centres]),
                "weights": np.loadtxt(io.StringIO(text("weights.txt"))),
                "lengths": np.loadtxt(io.StringIO(text("tract_lengths.txt")))}


def _symmetrise(matrix: np.ndarray) -> np.ndarray:
    out = 0.5 * (matrix + matrix.T)
    np.fill_diagonal(out, 0.0)
    return out


def _read_csv(fname: str) -> pd.DataFrame:
    with resources.files("psilosim.connectome").joinpath("data", fname).open("r") as fh:
        return pd.read_csv(fh)
