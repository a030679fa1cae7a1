"""Warehouse sizes and the seeded random streams behind them."""

import difflib
import zlib
from dataclasses import dataclass

import numpy as np

from gnelib.warehouse.errors import WarehouseError


@dataclass(frozen=True)
class Scale:
    """How big a warehouse to build."""

    name: str
    orders: int
    sellers: int
    moderation_reviews: int


SCALES = {
    "small": Scale("small", 300_000, 7_000, 180_000),
    "medium": Scale("medium", 5_000_000, 60_000, 1_500_000),
    "large": Scale("large", 50_000_000, 300_000, 6_000_000),
}


def resolve_scale(name: str) -> Scale:
    """The named scale, or a WarehouseError listing the valid names (closest first)."""
    if name in SCALES:
        return SCALES[name]
    ranked = difflib.get_close_matches(name, SCALES, n=len(SCALES), cutoff=0.0)
    raise WarehouseError(f"Unknown warehouse scale {name!r}. Choose one of: {', '.join(ranked)}.")


def rng_for(seed: int, *stream: str | int) -> np.random.Generator:
    """An independent random stream for one part of the build, fixed by the seed and the stream's name."""
    keys = [zlib.crc32(part.encode()) if isinstance(part, str) else int(part) for part in stream]
    return np.random.default_rng([int(seed), *keys])
