"""Charts and tables for the reports, in one theme."""

from gnelib.viz.theme import PALETTE, use_theme

__all__ = ["PALETTE", "use_theme"]
