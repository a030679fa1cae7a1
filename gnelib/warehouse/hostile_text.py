"""Seller-written text: plausible shop names and listing titles, with hostile strings mixed in at a low rate.

The hostile strings exercise escaping and layout downstream (HTML, quotes, non-Latin and right-to-left
scripts, emoji, very long strings).
"""

import numpy as np

HOSTILE_RATE = 0.01
LONG_TEXT_CHARS = 5000

HOSTILE_STRINGS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\"double\" and 'single' quotes",
    "ร้านเครื่องสำอางแท้ 100%",  # Thai
    "Cửa hàng mỹ phẩm chính hãng",  # Vietnamese
    "正品美妆旗舰店",  # Chinese
    "متجر الجمال الأصلي",  # Arabic (right-to-left)
    "🔥🔥 Flash Deal 🛍️✨ 💯",  # emoji
    ("Best price guaranteed, authentic stock, fast shipping! " * 100)[:LONG_TEXT_CHARS],
)

_SHOP_FIRST = (
    "Sunny",
    "Golden",
    "Happy",
    "Blue",
    "Lucky",
    "Urban",
    "Green",
    "Royal",
    "Daily",
    "Bright",
    "Maple",
    "Ocean",
    "Star",
    "Prime",
    "Cozy",
    "Pure",
    "Smart",
    "Little",
    "Grand",
    "True",
)
_SHOP_SECOND = (
    "Beauty",
    "Style",
    "Home",
    "Gadgets",
    "Mart",
    "Corner",
    "Trading",
    "Goods",
    "Outlet",
    "Studio",
    "Living",
    "Tech",
    "Boutique",
    "Supply",
    "Bazaar",
    "Market",
    "Select",
    "Hub",
    "Depot",
    "Co",
)
_SHOP_SUFFIX = ("Store", "Shop", "Official", "Mall", "Express", "Online", "Direct", "Plus")
_TITLE_ADJECTIVES = (
    "Premium",
    "New",
    "Original",
    "Portable",
    "Classic",
    "Mini",
    "Deluxe",
    "Soft",
    "Waterproof",
    "Lightweight",
    "Organic",
    "Wireless",
    "Vintage",
    "Large",
    "Travel",
)
_TITLE_VARIANTS = (
    "Black",
    "White",
    "Pink",
    "Set of 2",
    "Pack of 3",
    "Size M",
    "Size L",
    "500ml",
    "Blue",
    "Limited Edition",
    "2026 Model",
    "Gift Box",
)


def _with_hostile(texts: np.ndarray, rng: np.random.Generator) -> list[str]:
    hostile = rng.random(len(texts)) < HOSTILE_RATE
    picks = rng.integers(0, len(HOSTILE_STRINGS), len(texts))
    return [HOSTILE_STRINGS[p] if h else t for t, h, p in zip(texts.tolist(), hostile, picks, strict=True)]


def shop_names(n: int, rng: np.random.Generator) -> list[str]:
    """`n` shop display names, about 1% of them hostile."""
    first = np.array(_SHOP_FIRST)[rng.integers(0, len(_SHOP_FIRST), n)]
    second = np.array(_SHOP_SECOND)[rng.integers(0, len(_SHOP_SECOND), n)]
    suffix = np.array(_SHOP_SUFFIX)[rng.integers(0, len(_SHOP_SUFFIX), n)]
    names = np.char.add(np.char.add(np.char.add(first, " "), np.char.add(second, " ")), suffix)
    return _with_hostile(names, rng)


def listing_titles(categories: np.ndarray, rng: np.random.Generator) -> list[str]:
    """One title per listing from its category name, about 1% of them hostile."""
    n = len(categories)
    adjective = np.array(_TITLE_ADJECTIVES)[rng.integers(0, len(_TITLE_ADJECTIVES), n)]
    variant = np.array(_TITLE_VARIANTS)[rng.integers(0, len(_TITLE_VARIANTS), n)]
    item = np.char.title(np.char.replace(categories.astype(str), "_", " "))
    titles = np.char.add(np.char.add(np.char.add(adjective, " "), np.char.add(item, " - ")), variant)
    return _with_hostile(titles, rng)
