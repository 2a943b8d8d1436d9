"""People and items: true labels and features drawn from a :class:`~fastbip.spec.PopulationSpec`.

Cluster sizes are exact: ``n * share`` rounded by the largest-remainder rule, so a spec's
proportions hold in every dataset; members are then placed in a random order, so that no
algorithm can read the truth from the row order.

The numeric features of a cluster are joined by a Gaussian copula: one vector of standard
normals per member, multiplied by the Cholesky factor of the cluster's correlation matrix,
then mapped to each feature's marginal (normal: ``mean + sd z``; lognormal:
``exp(meanlog + sdlog z)``; uniform: ``low + (high - low) Phi(z)``). Categorical features are
drawn independently from the cluster's ``probs``. Everything is vectorised numpy; 10^7
members with four features take a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtr

from fastbip._rng import as_generator
from fastbip.spec import PopulationSpec

__all__ = ["Population", "generate_population", "cluster_sizes"]


@dataclass(eq=False)
class Population:
    """One side of the bipartite data: labels and feature columns.

    Attributes
    ----------
    name : "people" or "items" (free text for real data).
    labels : int32 array (n,), true cluster of each member, or None when unknown.
    columns : dict name -> 1-D array (float64 for numeric, int32 codes for categorical).
    kinds : dict name -> "numeric" | "categorical".
    categories : dict name -> tuple of category names, for categorical columns.
    cluster_names : names of the true clusters, or ().
    ids : original identifiers of the members (real logs), or None.
    """

    name: str
    n: int
    labels: np.ndarray | None
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cluster_names: tuple[str, ...] = ()
    ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name, col in self.columns.items():
            if col.shape != (self.n,):
                raise ValueError(
                    f"{self.name} column {name!r} must have shape ({self.n},); got {col.shape}"
                )
            if name not in self.kinds:
                raise ValueError(f"{self.name} column {name!r} has no kind")
        if self.ids is not None and self.ids.shape != (self.n,):
            raise ValueError(f"{self.name} ids must have shape ({self.n},); got {self.ids.shape}")
        if self.labels is not None and self.labels.shape != (self.n,):
            raise ValueError(
                f"{self.name} labels must have shape ({self.n},); got {self.labels.shape}"
            )

    @property
    def k(self) -> int:
        """Number of true clusters (0 when unknown)."""
        if self.labels is None or self.n == 0:
            return 0
        return max(len(self.cluster_names), int(self.labels.max()) + 1)

    @property
    def feature_names(self) -> list[str]:
        """Names of the feature columns, in order."""
        return list(self.columns)

    def feature_matrix(self, features: list[str] | None = None, scale: bool = True) -> np.ndarray:
        """The features as one float64 matrix (n, p): numeric columns standardised to mean 0
        and standard deviation 1 (a constant column becomes 0) when ``scale``, categorical
        columns one-hot encoded (one column per category).

        Raises ValueError, naming the column, for a NaN or infinite numeric value or a
        category code out of range."""
        names = self.feature_names if features is None else list(features)
        unknown = [f for f in names if f not in self.columns]
        if unknown:
            raise ValueError(
                f"features {unknown} are not columns of {self.name}; it has {self.feature_names}"
            )
        if not names:
            raise ValueError(f"{self.name} has no features to cluster on")
        blocks = []
        for f in names:
            col = self.columns[f]
            if self.kinds[f] == "categorical":
                ncat = len(self.categories[f])
                if col.size and (int(col.min()) < 0 or int(col.max()) >= ncat):
                    bad = int(col.min()) if int(col.min()) < 0 else int(col.max())
                    raise ValueError(
                        f"X (the features of {self.name}): {self.name}.columns[{f!r}] must "
                        f"hold category codes in [0, {ncat}); got {bad}"
                    )
                onehot = np.zeros((self.n, ncat))
                onehot[np.arange(self.n), col] = 1.0
                blocks.append(onehot)
            else:
                x = col.astype(np.float64)
                if not np.all(np.isfinite(x)):
                    bad = x[~np.isfinite(x)][0]
                    raise ValueError(
                        f"X (the features of {self.name}): {self.name}.columns[{f!r}] must be "
                        f"finite; got {bad} (a numeric feature cannot be scaled or clustered "
                        "with NaN or infinite values)"
                    )
                if scale:
                    sd = x.std()
                    x = (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)
                blocks.append(x[:, None])
        return np.hstack(blocks)

    def to_frame(self) -> Any:
        """A pandas DataFrame: one column per feature (categoricals as pandas categoricals)
        and ``labels`` when known. Needs pandas (``pip install fastbip[io]``)."""
        try:
            import pandas as pd
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("to_frame needs pandas: pip install 'fastbip[io]'") from e
        data = {}
        for f, col in self.columns.items():
            if self.kinds[f] == "categorical":
                data[f] = pd.Categorical.from_codes(col, categories=list(self.categories[f]))
            else:
                data[f] = col
        if self.labels is not None:
            data["labels"] = self.labels
        return pd.DataFrame(data)

    def equals(self, other: Population) -> bool:
        """True when every array and name is identical (used by round-trip tests)."""
        same_labels = (self.labels is None and other.labels is None) or (
            self.labels is not None
            and other.labels is not None
            and np.array_equal(self.labels, other.labels)
            and self.labels.dtype == other.labels.dtype
        )
        same_ids = (self.ids is None and other.ids is None) or (
            self.ids is not None and other.ids is not None and np.array_equal(self.ids, other.ids)
        )
        return (
            self.name == other.name
            and self.n == other.n
            and same_labels
            and same_ids
            and self.kinds == other.kinds
            and self.categories == other.categories
            and self.cluster_names == other.cluster_names
            and list(self.columns) == list(other.columns)
            and all(
                np.array_equal(self.columns[c], other.columns[c])
                and self.columns[c].dtype == other.columns[c].dtype
                for c in self.columns
            )
        )


def cluster_sizes(n: int, shares: np.ndarray) -> np.ndarray:
    """Exact cluster sizes: ``n * shares`` rounded by the largest-remainder rule (sums to n)."""
    shares = np.asarray(shares, dtype=np.float64)
    shares = shares / shares.sum()
    raw = n * shares
    sizes = np.floor(raw).astype(np.int64)
    short = n - int(sizes.sum())
    if short:
        order = np.argsort(-(raw - sizes), kind="stable")
        sizes[order[:short]] += 1
    return sizes


def _marginal(z: np.ndarray, dist) -> np.ndarray:
    p = dict(dist.params)
    if dist.dist == "normal":
        x = p["mean"] + p["sd"] * z
    elif dist.dist == "lognormal":
        x = np.exp(p["meanlog"] + p["sdlog"] * z)
    else:  # uniform
        x = p["low"] + (p["high"] - p["low"]) * ndtr(z)
    if dist.clip is not None:
        np.clip(x, dist.clip[0], dist.clip[1], out=x)
    if dist.round:
        np.round(x, out=x)
    return x


def _copula_factor(corr: tuple | None, p: int) -> np.ndarray | None:
    if corr is None or p == 0:
        return None
    c = np.asarray(corr, dtype=np.float64)
    try:
        return np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        # positive semi-definite but singular: a symmetric square root works as well
        w, v = np.linalg.eigh(c)
        return v * np.sqrt(np.clip(w, 0, None))


def _warn_empty(spec: PopulationSpec, sizes: np.ndarray, name: str) -> None:
    """A planted cluster that gets no member is legitimate but meaningless: say so."""
    import warnings

    for c in np.flatnonzero(sizes == 0):
        cl = spec.clusters[int(c)]
        warnings.warn(
            f"{name}.clusters[{int(c)}] ({cl.name!r}) has share {cl.share:g} "
            f"({float(spec.shares[c]):.3g} of the total) of {name}.n = {spec.n}: it gets no "
            f"member, so only {int(np.count_nonzero(sizes))} of the {spec.k} planted "
            f"{name}-clusters exist",
            UserWarning,
            stacklevel=3,
        )


def generate_population(
    spec: PopulationSpec,
    name: str,
    rng: np.random.Generator | np.random.SeedSequence | int | None = None,
) -> Population:
    """Draw labels and features of one population.

    ``rng`` is converted once by ``fastbip._rng.as_generator``; the same seed gives the same
    arrays bit for bit.
    """
    rng = as_generator(rng)
    n, k = spec.n, spec.k
    sizes = cluster_sizes(n, spec.shares)
    _warn_empty(spec, sizes, name)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    label_dtype = np.int32
    sorted_labels = np.repeat(np.arange(k, dtype=label_dtype), sizes)
    perm = rng.permutation(n)
    labels = np.empty(n, dtype=label_dtype)
    labels[perm] = sorted_labels

    numeric = spec.numeric_features
    columns: dict[str, np.ndarray] = {
        f.name: np.empty(n, dtype=np.float64 if f.kind == "numeric" else np.int32)
        for f in spec.features
    }
    for c, cl in enumerate(spec.clusters):
        members = perm[offsets[c] : offsets[c + 1]]
        m = members.shape[0]
        if numeric:
            # one row of standard normals per numeric feature (contiguous), joined by the
            # lower-triangular factor with a few axpy's: no BLAS call, no thread fight
            z = rng.standard_normal((len(numeric), m))
            factor = _copula_factor(cl.correlation, len(numeric))
            for j, f in enumerate(numeric):
                if factor is None:
                    y = z[j]
                else:
                    y = factor[j, 0] * z[0]
                    for i in range(1, len(numeric)):
                        if factor[j, i] != 0.0:
                            y += factor[j, i] * z[i]
                columns[f][members] = _marginal(y, cl.distribution(f))
        for f in spec.features:
            if f.kind != "categorical":
                continue
            probs = np.asarray(cl.distribution(f.name).probs, dtype=np.float64)
            cdf = np.cumsum(probs / probs.sum())
            cdf[-1] = 1.0
            columns[f.name][members] = np.searchsorted(cdf, rng.random(m), side="right")
    return Population(
        name=name,
        n=n,
        labels=labels,
        columns=columns,
        kinds={f.name: f.kind for f in spec.features},
        categories={f.name: f.categories for f in spec.features if f.kind == "categorical"},
        cluster_names=tuple(c.name for c in spec.clusters),
    )
