"""psilosim: from an oral dose of psilocybin to a depression score.

The package is laid out along the causal chain of ``DESIGN.md``::

    regimen -> pharmacokinetics -> binding -> plasticity -> synapses -> network -> metrics -> clinical

psilosim is a research and teaching simulator. It gives no dosing advice to any person.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("psilosim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

DISCLAIMER = (
    "psilosim is a research and teaching simulator. Its outputs are model predictions, "
    "not measurements, and are not medical or dosing advice for any person."
)

__all__ = ["DISCLAIMER", "__version__"]
