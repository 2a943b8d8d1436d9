"""One colour per cluster, the same in every figure of a page (no plotting import here).

The first eight are Okabe and Ito's colour-blind-safe palette (black last, as the eighth);
clusters beyond them take Paul Tol's "muted" colours, then repeat. Unassigned members (-1)
are light grey.
"""

from __future__ import annotations

__all__ = ["UNASSIGNED", "cluster_colour", "text_colour"]

_OKABE_ITO = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#000000",
)
_TOL_MUTED = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677")
_COLOURS = _OKABE_ITO + _TOL_MUTED
UNASSIGNED = "#DDDDDD"


def cluster_colour(k: int) -> str:
    """The colour (``#RRGGBB``) of cluster ``k`` (0-based; -1 = unassigned)."""
    k = int(k)
    return UNASSIGNED if k < 0 else _COLOURS[k % len(_COLOURS)]


def text_colour(background: str) -> str:
    """Black or white, whichever reads better on ``background`` (``#RRGGBB``)."""
    r, g, b = (int(background[i : i + 2], 16) / 255 for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if luminance > 0.45 else "#FFFFFF"
