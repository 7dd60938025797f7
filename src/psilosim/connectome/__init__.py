"""Parcellated human brains: region tables, connectivity, receptor maps and BOLD.

:func:`load_dataset` is the one entry point: a built-in name (``"aal2"``) or a folder path.
"""

from .parcellation import (
    DMN,
    Parcellation,
    labelled_matrix,
    labelled_timeseries,
    load_parcellation_folder,
)

__all__ = [
    "DMN",
    "Parcellation",
    "labelled_matrix",
    "labelled_timeseries",
    "load_parcellation_folder",
]
