"""Evaluation of the detection engine on injected incidents: `inject` overlays random incidents on a copy of a
demo warehouse (raw rows changed, so the whole pipeline sees them); `bench/detection_power.py` scans the copies
and scores recall, segment naming, verdicts and false alarms against the manifest."""

from gnelib.evaluation.cells import Cell, CellFrames, robust_sd
from gnelib.evaluation.inject import KINDS, SIZE_BINS, Incident, Planner, draw_incidents, inject, manifest

__all__ = [
    "KINDS",
    "SIZE_BINS",
    "Cell",
    "CellFrames",
    "Incident",
    "Planner",
    "draw_incidents",
    "inject",
    "manifest",
    "robust_sd",
]
