"""What each scored row stands beside: the oracle that reads what its algorithm reads, and a
warning when its labels are degenerate (helpers of :func:`fastbip.study._fit.score_fits`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .results import ORACLES, DegenerateClustersWarning

__all__ = ["reference", "warn_degenerate"]

_NAN = float("nan")


def reference(oracle_ari: dict | None, kind: str, side: str) -> tuple:
    """``(name, ari, ami)`` of the oracle that reads what an algorithm of ``kind`` reads.

    Parameters
    ----------
    oracle_ari : dict or None
        :func:`fastbip.study._fit.oracle_references` (``(name, side) -> Entry``), or a plain
        ``{side: ari}`` of the purchases oracle, as earlier releases passed.
    kind : str
        The registry kind of the row's algorithm (``"oracle"`` for an oracle's own row).
    side : {"people", "items"}

    Returns
    -------
    tuple
        ``(None, nan, nan)`` without a matching oracle. A joint algorithm on a side without
        features (no joint oracle there) stands beside the purchases oracle.
    """
    if not oracle_ari:
        return None, _NAN, _NAN
    if any(isinstance(key, str) for key in oracle_ari):  # a plain {side: ari} dict
        v = float(oracle_ari.get(side, _NAN))
        return (None if math.isnan(v) else ORACLES["purchases"]), v, _NAN
    name = ORACLES.get(kind, ORACLES["purchases"])
    ref = oracle_ari.get((name, side))
    if ref is None and kind == "joint":  # no features on this side: it reads the purchases
        name, ref = ORACLES["purchases"], oracle_ari.get((ORACLES["purchases"], side))
    if ref is None:
        return None, _NAN, _NAN
    return name, float(ref.ari), float(ref.ami)


def warn_degenerate(f: Any, k_found: int, n_singletons: int) -> None:
    """Warn when ``f``'s labels have one-member clusters or fewer clusters than asked.

    Parameters
    ----------
    f : Fit
        The fit (its ``algorithm``, ``side``, ``kind`` and ``k_asked``); an oracle's never
        warns.
    k_found, n_singletons : int
        Its distinct labels (-1 not counted) and the clusters of one member.
    """
    if f.kind == "oracle":
        return
    parts = []
    if n_singletons:
        parts.append(f"{n_singletons} cluster(s) of a single member")
    if isinstance(f.k_asked, (int, np.integer)) and k_found < f.k_asked:
        parts.append(f"{f.k_asked - k_found} of the {f.k_asked} clusters asked for empty")
    if parts:
        import os
        import sys
        import warnings

        # point at the first frame outside fastbip (run_study's caller, whatever the path)
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        frame, level = sys._getframe(0), 1
        while frame.f_back is not None and frame.f_code.co_filename.startswith(package):
            frame, level = frame.f_back, level + 1
        warnings.warn(
            f"{f.algorithm} ({f.side}): degenerate clusters: {' and '.join(parts)} "
            f"({k_found} found); see the columns k_found and n_singletons",
            DegenerateClustersWarning,
            stacklevel=level,
        )
