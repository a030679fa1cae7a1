"""Synthetic metric frames in the documented shape (docs/metric-frames.md), built from simulated orders."""

import itertools

import numpy as np
import pandas as pd

CATEGORIES = ["beauty", "phones", "toys", "books", "kitchen", "pets", "shoes", "bags"]
CHANNELS = ["live", "short_video", "mall", "search"]
CARRIERS = ["carrier_a", "carrier_b", "carrier_c", "carrier_d"]


def order_cube(rng: np.random.Generator, period: str, orders: int, rate, channel_share=None) -> pd.DataFrame:
    """One period of an order-level proportion by category × channel × carrier (each order is its own unit).

    `rate(category, channel, carrier)` gives each cell's defect probability; volumes are multinomial.
    """
    cells = list(itertools.product(CATEGORIES, CHANNELS, CARRIERS))
    channel_share = channel_share or dict.fromkeys(CHANNELS, 1 / len(CHANNELS))
    weights = np.array([channel_share[channel] for _, channel, _ in cells])
    volumes = rng.multinomial(orders, weights / weights.sum())
    defects = rng.binomial(volumes, [rate(*cell) for cell in cells])
    frame = pd.DataFrame(cells, columns=["category", "channel", "carrier"])
    frame["period"] = period
    frame["numerator"] = defects.astype(float)
    frame["denominator"] = volumes.astype(float)
    frame["units"] = frame["denominator"]
    frame["sum_x2"] = frame["sum_xy"] = frame["numerator"]
    frame["sum_y2"] = frame["denominator"]
    frame["value"] = frame["numerator"] / frame["denominator"]
    return frame
