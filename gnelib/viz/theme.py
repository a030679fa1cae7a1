"""One seaborn theme for every report, so charts look the same across templates."""

import matplotlib
import matplotlib.pyplot as plt
import seaborn as sns

# Okabe–Ito colours (safe for the common colour-vision deficiencies): bad is vermillion, good is blue; charts
# also mark bad points by shape, never by colour alone.
PALETTE = {
    "primary": "#1f4e79",
    "muted": "#9aa5b1",
    "bad": "#d55e00",
    "good": "#0072b2",
    "highlight": "#cc79a7",
}
FIGSIZE = (9.0, 3.4)


def use_theme() -> None:
    """Apply the report theme: a quiet white grid, readable fonts and PNG output at a size that keeps HTML small."""
    sns.set_theme(
        style="whitegrid",
        context="notebook",
        palette=[PALETTE["primary"], PALETTE["highlight"], PALETTE["muted"], PALETTE["good"], PALETTE["bad"]],
        rc={
            "figure.figsize": FIGSIZE,
            "figure.dpi": 96,
            "savefig.dpi": 96,
            "savefig.bbox": "tight",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titleweight": "bold",
            "axes.titlesize": 12,
            "axes.labelsize": 10,
            "font.family": ["DejaVu Sans"],
            "text.usetex": False,
            "text.parse_math": False,  # labels from data are plain text: `$x$` is not a formula (matplotlib ≥ 3.5)
        },
    )
    matplotlib.rcParams["figure.max_open_warning"] = 0
    plt.close("all")
