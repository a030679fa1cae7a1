"""gnelib: the shared helper library behind the GNE analysis reports."""

__version__ = "0.1.0"
