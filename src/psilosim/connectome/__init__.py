"""Parcellated human brains: region tables, connectivity, receptor maps and BOLD.

:func:`load_dataset` is the one entry point: a built-in name (``"aal2"``) or a folder path.
"""

from .builtin import BUILTIN, load_dataset
from .parcellation import (
    DMN,
    Parcellation,
    labelled_matrix,
    labelled_timeseries,
    load_parcellation_folder,
)

__all__ = [
    "BUILTIN",
    "DMN",
    "Parcellation",
    "labelled_matrix",
    "labelled_timeseries",
    "load_dataset",
    "load_parcellation_folder",
]
