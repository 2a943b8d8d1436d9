"""Dataset and Truth: the container of people, items, purchases and the planted truth.

Nothing else lives here: a dataset is made by :func:`fastbip.generate.generate` (from a
spec) or :func:`fastbip.io.from_log` (from a real log), and stored by
:func:`fastbip.io.save` and :func:`fastbip.io.load`. This module imports no other stage, so
every stage can import it.

The names that lived here before (``generate``, ``planted_omega``, ``draw_degrees``,
``save``, ``load``, ``FORMAT_NAME``, ``FORMAT_VERSION``, ``DatasetFormatError``) still
resolve, lazily, from their new modules; all but ``DatasetFormatError`` warn that they moved.
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from fastbip.generate.events import Events
    from fastbip.generate.population import Population
    from fastbip.spec import Spec

__all__ = ["Dataset", "Truth"]

# moved names -> (module, deprecated?): resolved on first use (PEP 562), since those
# modules import this one
_MOVED = {
    "generate": ("fastbip.generate", True),
    "planted_omega": ("fastbip.generate.relation", True),
    "draw_degrees": ("fastbip.generate.relation", True),
    "save": ("fastbip.io.fbp", True),
    "load": ("fastbip.io.fbp", True),
    "FORMAT_NAME": ("fastbip.io.fbp", True),
    "FORMAT_VERSION": ("fastbip.io.fbp", True),
    "DatasetFormatError": ("fastbip.io.fbp", False),
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        module, deprecated = _MOVED[name]
        if deprecated:
            warnings.warn(
                f"fastbip.dataset.{name} moved to {module}.{name}; the old name will be "
                "removed in the next release",
                DeprecationWarning,
                stacklevel=2,
            )
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'fastbip.dataset' has no attribute {name!r}")


@dataclass(eq=False)
class Truth:
    """The planted parameters of a generated dataset.

    ``E[M[i, j]] = theta[i] * phi[j] * omega[a[i], b[j]]`` with ``theta`` summing to 1 inside
    each people-cluster and ``phi`` inside each item-cluster, so ``omega[k, l]`` is the
    expected number of purchases between people-cluster ``k`` and item-cluster ``l`` in this
    dataset (for the Poisson and exact models; the Bernoulli model caps each entry at 1 and
    feature affinities thin the purchases, so there the totals fall below ``omega``).
    """

    omega: np.ndarray
    theta: np.ndarray
    phi: np.ndarray
    people_labels: np.ndarray
    item_labels: np.ndarray
    model: str = "poisson"
    #: The planted degree moments ``E[w^2] / E[w]^2`` of the activity and of the popularity
    #: distribution (:func:`fastbip.generate.degree_moment`), which :func:`fastbip.snr`
    #: uses; None when theta and phi were given, not drawn.
    degree_m2: tuple[float, float] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(K_A, K_B)."""
        return self.omega.shape


@dataclass(eq=False)
class Dataset:
    """People, items, their purchases and (for generated data) the planted truth.

    Attributes
    ----------
    people, items : :class:`~fastbip.generate.Population`
    purchases : scipy.sparse.csr_matrix (n_people, n_items), canonical, integer counts
    truth : :class:`Truth` or None (real purchase logs)
    spec : :class:`~fastbip.spec.Spec` or None
    events : :class:`fastbip.generate.Events` or None: one timestamp per purchase,
        aligned with the CSR entries
    weights : scipy.sparse.csr_matrix or None: for real logs read with a weight column
        (ratings, spend), the sum of the weights of each (person, item), with exactly the
        pattern (indptr, indices) of ``purchases``; None otherwise
    """

    people: Population
    items: Population
    purchases: sp.csr_matrix
    truth: Truth | None = None
    spec: Spec | None = None
    events: Events | None = None
    weights: sp.csr_matrix | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(n_people, n_items)."""
        return self.purchases.shape

    @property
    def n_purchases(self) -> int:
        """Total purchases (the sum of the counts)."""
        return int(self.purchases.data.sum())

    def window(self, start: float, end: float) -> sp.csr_matrix:
        """The purchase matrix of the time window ``[start, end)``."""
        if self.events is None:
            raise ValueError(
                "this dataset has no purchase times (its spec has no [time] "
                "section), so it has no time windows"
            )
        return self.events.window(self.purchases, start, end)

    def summary(self) -> str:
        """A few lines: sizes, purchases, the planted structure, events."""
        n, m = self.shape
        lines = [
            f"{n:,} people x {m:,} items, {self.n_purchases:,} purchases in "
            f"{self.purchases.nnz:,} (person, item) pairs"
        ]
        if self.truth is not None:
            ka, kb = self.truth.shape
            lines.append(
                f"planted: {ka} people-clusters x {kb} item-clusters, model {self.truth.model}"
            )
        if self.events is not None:
            lines.append("with a timestamp for every purchase")
        return "\n".join(lines)
