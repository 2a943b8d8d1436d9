"""The study's answer as one page a person reads: :func:`write_report`.

The page is one self-contained HTML file (figures inlined as SVG, no network request, a
print stylesheet), organised by the study's three questions: which clusters are visible on
each side, what the purchases say about them, how well each algorithm finds the truth.
The two bigraphs are also written beside it as Graphviz DOT. Needs the ``[report]`` extra
(matplotlib, jinja2, graphviz), imported only when a page is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["check_output_path", "dot_paths", "write_report"]


def dot_paths(path: str | os.PathLike) -> dict[str, Path]:
    """The DOT files written beside the page ``path``: ``cluster`` and ``members``."""
    p = Path(path)
    return {"cluster": p.with_suffix(".cluster.dot"), "members": p.with_suffix(".members.dot")}


def check_output_path(path: str | os.PathLike, name: str = "the report path") -> Path:
    """``path`` as a Path when a file can be written there; ``ValueError`` naming it if not
    (its folder is missing or is not a folder, or the path is a folder)."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{name} must be a file; got the folder {str(p)!r}")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"{name}'s folder {str(parent)!r} does not exist (for {str(p)!r})")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"{name}'s folder {str(parent)!r} is not writable")
    return p


def write_report(
    results: Any,
    dataset: Any,
    path: str | os.PathLike,
    *,
    sample: int = 1000,
    progress: Callable[[str], None] | None = None,
    random_state: int = 0,
    facts: Any = None,
) -> Path:
    """Write the study's page to ``path`` (HTML), and its two bigraphs beside it as DOT.

    Parameters
    ----------
    results : Results
        Of :func:`fastbip.run_study` (labels in memory: every figure), or read back with
        :meth:`fastbip.Results.from_json` (scores only: the figures that need an
        algorithm's labels say they are missing, and question 2 uses the planted clusters).
    dataset : Dataset
        The dataset the results were computed on.
    path : str or PathLike
        The page; ``path.with_suffix(".cluster.dot")`` and ``".members.dot"`` are written
        too (:func:`dot_paths`).
    sample : int
        Members per side drawn for the member-level figures (feature curves, profiles);
        the colour table and the people-items bigraph use small fixed samples. The page's
        size does not grow with the number of members.
    progress : callable, optional
        Called with a line of text after each step (e.g. ``print``).
    random_state : int
        Seed of the samples and the ICL fits.
    facts : StudyFacts, optional
        :func:`fastbip.report.summary.study_facts` of these results, when already computed
        (the command line prints them before writing the page).

    Returns
    -------
    Path
        The page written.

    Raises
    ------
    ValueError
        ``path`` cannot be written, or ``sample`` is not a positive integer.
    ImportError
        matplotlib, jinja2 or graphviz is missing (``pip install 'fastbip[report]'``).
    """
    from .._validation import check_int

    sample = check_int(sample, "sample", 1)
    p = check_output_path(path)
    dots = dot_paths(p)
    try:
        import graphviz  # noqa: F401
        import jinja2  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"writing a report needs {exc.name}: pip install 'fastbip[report]'"
        ) from exc
    from .html import build_page

    page = build_page(
        results,
        dataset,
        sample=sample,
        dot_names={k: v.name for k, v in dots.items()},
        progress=progress,
        random_state=random_state,
        facts=facts,
    )
    p.write_text(page.html, encoding="utf-8")
    for key, dp in dots.items():
        dp.write_text(page.dots[key], encoding="utf-8")
    return p
