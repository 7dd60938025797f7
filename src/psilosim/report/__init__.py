"""Reports that a person reads (HTML with embedded figures); each carries ``psilosim.DISCLAIMER``."""
