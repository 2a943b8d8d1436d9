"""The registry of algorithms: names, what they are for, and how to build them.

Entries name their class as a ``"module:Class"`` string and import it only when asked for, so
an optional dependency that is missing (scikit-network for ``louvain`` and ``leiden``) only
hides its entries: :func:`names` lists what can run, :func:`info` says why an entry cannot.

Installed packages add their estimators through the entry-point group ``fastbip.algorithms``
(in their ``pyproject.toml``: ``[project.entry-points."fastbip.algorithms"]`` then
``mine = "mypkg.mod:MyEstimator"``). The group is read on the first call of :func:`names`,
:func:`info` or :func:`get`; each entry is registered under its name as its
``"module:Class"`` string, not imported until its kind or its class is needed. Its kind is
the class attribute ``_fastbip_kind`` (default ``"purchases"``); an entry whose import fails
is listed as unavailable with the reason; a name that is already registered (a built-in one)
is skipped with a warning.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import warnings
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AlgorithmInfo", "KINDS", "names", "get", "info", "register", "unregister"]

KINDS = ("features", "purchases", "joint")
#: the entry-point group that installed packages register their estimators in
ENTRY_POINT_GROUP = "fastbip.algorithms"


@dataclass(frozen=True)
class AlgorithmInfo:
    """What the registry knows about one algorithm.

    ``name``, ``kind`` (``"features"``, ``"purchases"`` or ``"joint"``), ``description``,
    ``complexity`` (time and memory), ``when_to_use``; then ``target`` (the ``"module:Class"``
    string), ``defaults`` (parameters passed unless overridden), ``requires`` (importable
    modules the entry needs), ``available`` and ``unavailable_reason`` (empty when available),
    ``slow`` (the default studies and sweeps leave it out; it runs when named).
    """

    name: str
    kind: str
    description: str
    complexity: str
    when_to_use: str
    target: str = ""
    defaults: dict = field(default_factory=dict)
    requires: tuple = ()
    available: bool = True
    unavailable_reason: str = ""
    slow: bool = False


_REGISTRY: dict[str, AlgorithmInfo] = {}


def register(
    name: str,
    target: str | type,
    kind: str,
    description: str,
    complexity: str,
    when_to_use: str,
    *,
    defaults: dict | None = None,
    requires: tuple[str, ...] = (),
    replace: bool = False,
    slow: bool = False,
) -> None:
    """Register an estimator class under ``name``.

    ``target`` is a ``"module:Class"`` string (imported lazily) or a class. ``defaults`` are
    parameters passed to the class unless :func:`get` overrides them. ``requires`` lists
    modules that must be importable for the entry to be available. ``slow`` entries (many
    times the others' time) are left out of the default lists of :func:`names`
    (``include_slow=False``) that ``run_study`` and ``recovery_sweep`` use; they run when named.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string; got {name!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    if name in _REGISTRY and not replace:
        raise ValueError(f"algorithm {name!r} is already registered; pass replace=True")
    if isinstance(target, str):
        if target.count(":") != 1:
            raise ValueError(f"target must look like 'module:Class'; got {target!r}")
    elif not isinstance(target, type):
        raise TypeError(f"target must be a 'module:Class' string or a class; got {target!r}")
    _REGISTRY[name] = AlgorithmInfo(
        name=name,
        kind=kind,
        description=description,
        complexity=complexity,
        when_to_use=when_to_use,
        target=target if isinstance(target, str) else f"{target.__module__}:{target.__name__}",
        defaults=dict(defaults or {}),
        requires=tuple(requires),
        slow=bool(slow),
    )
    _TARGETS[name] = target


_TARGETS: dict[str, object] = {}


def unregister(name: str) -> None:
    """Remove ``name`` from the registry (mainly for tests)."""
    _check_known(name)
    del _REGISTRY[name]
    del _TARGETS[name]
    _FROM_ENTRY_POINT.pop(name, None)
    _ENTRY_POINT_IMPORTED.pop(name, None)


# --- entry points of installed packages ---------------------------------------------------

_ENTRY_POINTS_READ = [False]
_FROM_ENTRY_POINT: dict[str, str] = {}  # name -> "the entry point ... of <distribution>"
_ENTRY_POINT_IMPORTED: dict[str, str] = {}  # name -> "" or why it cannot be imported


def _read_entry_points() -> None:
    """Register the entry points of :data:`ENTRY_POINT_GROUP`, once, without importing them."""
    if _ENTRY_POINTS_READ[0]:
        return
    _ENTRY_POINTS_READ[0] = True
    from importlib.metadata import entry_points

    try:
        found = entry_points(group=ENTRY_POINT_GROUP)
    except Exception as exc:  # a broken installation must not break the built-in entries
        warnings.warn(
            f"cannot read the entry points of {ENTRY_POINT_GROUP!r}: {exc}",
            RuntimeWarning,
            stacklevel=3,
        )
        return
    for ep in found:
        dist = getattr(getattr(ep, "dist", None), "name", None) or "an installed package"
        where = f"the entry point {ep.name} = {ep.value!r} of {dist}"
        if ep.name in _REGISTRY:
            warnings.warn(
                f"{where} is skipped: {ep.name!r} is already a registered algorithm "
                f"({_REGISTRY[ep.name].target})",
                RuntimeWarning,
                stacklevel=3,
            )
            continue
        target = f"{ep.module}:{ep.attr}" if ep.attr else f"{ep.value}:"
        _REGISTRY[ep.name] = AlgorithmInfo(
            name=ep.name,
            kind="purchases",
            description=f"from {where}",
            complexity="(not stated)",
            when_to_use="(not stated)",
            target=target,
        )
        _TARGETS[ep.name] = target
        _FROM_ENTRY_POINT[ep.name] = where


def _reset_entry_points() -> None:
    """Forget the entry points read (their entries too); the next use reads them again."""
    for name in list(_FROM_ENTRY_POINT):
        _REGISTRY.pop(name, None)
        _TARGETS.pop(name, None)
    _FROM_ENTRY_POINT.clear()
    _ENTRY_POINT_IMPORTED.clear()
    _ENTRY_POINTS_READ[0] = False


def _import_entry_point(name: str) -> str:
    """Import an entry point's class once: "" (its kind and description now known) or why
    it cannot be used."""
    if name in _ENTRY_POINT_IMPORTED:
        return _ENTRY_POINT_IMPORTED[name]
    entry, where = _REGISTRY[name], _FROM_ENTRY_POINT[name]
    reason = ""
    try:
        cls = _resolve(name)
    except Exception as exc:  # any import failure is shown, not raised
        reason = f"{where} cannot be imported: {type(exc).__name__}: {exc}"
    else:
        kind = getattr(cls, "_fastbip_kind", "purchases")
        if kind not in KINDS:
            reason = f"{where}: its _fastbip_kind must be one of {KINDS}; got {kind!r}"
        elif not callable(getattr(cls, "fit", None)):
            reason = f"{where} names {cls!r}, which has no fit method"
        else:
            doc = (getattr(cls, "__doc__", None) or "").strip().split("\n")[0]
            description = f"{doc} ({where})" if doc else entry.description
            _REGISTRY[name] = dataclasses.replace(entry, kind=kind, description=description)
    _ENTRY_POINT_IMPORTED[name] = reason
    return reason


def _check_known(name):
    _read_entry_points()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise ValueError(f"unknown algorithm {name!r}; known algorithms: {known}")


def _module_missing(module):
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def _why_unavailable(entry):
    if entry.name in _FROM_ENTRY_POINT:
        return _import_entry_point(entry.name)
    for module in entry.requires:
        if _module_missing(module):
            return f"needs the optional package {module!r}, which is not installed"
    target = _TARGETS[entry.name]
    if isinstance(target, str):
        module = target.split(":")[0]
        if _module_missing(module):
            return f"its module {module!r} is not available"
    return ""


def info(name: str) -> AlgorithmInfo:
    """The :class:`AlgorithmInfo` of ``name``, with ``available`` and the reason if not."""
    _check_known(name)
    reason = _why_unavailable(_REGISTRY[name])
    entry = _REGISTRY[name]  # an entry point's kind is known once it is imported
    return AlgorithmInfo(
        **{**entry.__dict__, "available": not reason, "unavailable_reason": reason}
    )


def names(
    kind: str | None = None, available_only: bool = True, include_slow: bool = True
) -> list[str]:
    """Registered names in registration order, optionally of one ``kind``.

    By default only entries that can run here are listed (see :func:`info` for the others);
    ``include_slow=False`` also leaves out the entries registered as ``slow``.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS} or None; got {kind!r}")
    _read_entry_points()
    out = []
    for name in list(_REGISTRY):
        if name in _FROM_ENTRY_POINT and (kind is not None or available_only):
            if _import_entry_point(name) and available_only:  # its kind is known after this
                continue
        entry = _REGISTRY[name]
        if kind is not None and entry.kind != kind:
            continue
        if available_only and _why_unavailable(entry):
            continue
        if not include_slow and entry.slow:
            continue
        out.append(name)
    return out


def _resolve(name):
    target = _TARGETS[name]
    if not isinstance(target, str):
        return target
    module, attrs = target.split(":")
    obj = importlib.import_module(module)
    for attr in attrs.split(".") if attrs else ():
        obj = getattr(obj, attr)
    return obj


def get(name: str, **params: Any) -> Any:
    """A new, unfitted estimator for ``name`` with ``params`` (over the entry's defaults).

    Raises ``ValueError`` for an unknown name (listing the known ones) and ``ImportError``
    when the entry needs a package that is missing.
    """
    _check_known(name)
    entry = _REGISTRY[name]
    reason = _why_unavailable(entry)
    if reason:
        raise ImportError(f"algorithm {name!r} is unavailable: {reason}")
    cls = _resolve(name)
    return cls(**{**entry.defaults, **params})


# --- the built-in entries -----------------------------------------------------------------

_F = "fastbip.algorithms.features"
_S = "fastbip.algorithms.spectral"
_G = "fastbip.algorithms.graph"
_J = "fastbip.algorithms.joint"

_AGG_COMPLEXITY = (
    "exact (n <= exact_max_n, default 10,000): O(n^2) memory (about 8 n^2 bytes) and O(n^2) "
    "to O(n^2 log n) time; above it two-stage: O(n m p) for m micro-clusters (default 2,000) "
    "plus O(m^2) memory and time for the linkage"
)

for _linkage, _when in (
    (
        "ward",
        "compact, similar-sized clusters in standardised numeric features; the usual "
        "default among the linkages",
    ),
    (
        "average",
        "clusters of varied shape when ward's equal-variance bias hurts; moderate "
        "robustness to outliers",
    ),
    ("complete", "tight clusters of bounded diameter; sensitive to outliers"),
    (
        "single",
        "elongated or chained clusters that are well separated; collapses into one "
        "big cluster on noisy data",
    ),
):
    register(
        f"agglomerative-{_linkage}",
        f"{_F}:Agglomerative",
        "features",
        f"Agglomerative clustering with {_linkage} linkage on the standardised features; exact "
        "scikit-learn below exact_max_n, above it micro-clusters followed by the size-weighted "
        "linkage of their centres (method_ says which ran).",
        _AGG_COMPLEXITY,
        _when,
        defaults={"linkage": _linkage},
    )

register(
    "kmeans",
    f"{_F}:KMeans",
    "features",
    "k-means (Lloyd, k-means++ starts) on the standardised features.",
    "O(n K p) per iteration, O(n p) memory",
    "convex, similar-sized clusters; the fast default for one side by its features",
)
register(
    "minibatch-kmeans",
    f"{_F}:MiniBatchKMeans",
    "features",
    "Mini-batch k-means on the standardised features.",
    "O(b K p) per step for batches of b rows, then O(n K p) to label; O(n p) memory",
    "millions of rows where full k-means is too slow; slightly worse optimum than kmeans",
)
register(
    "gmm",
    f"{_F}:GaussianMixture",
    "features",
    "Gaussian mixture (full covariances, EM, k-means start) on the standardised features; "
    "labels are the most probable components.",
    "O(n K p^2) per EM iteration, O(n K) memory",
    "clusters with different spreads or correlated features (ellipsoids), where k-means' "
    "spherical assumption is wrong",
)
register(
    "birch",
    f"{_F}:Birch",
    "features",
    "Birch: a clustering-feature tree of sub-clusters, then agglomerative (ward) on the "
    "sub-cluster centres to n_clusters.",
    "O(n p log n) to build the tree, one pass over the data",
    "large data in one pass; result depends on the threshold relative to the cluster spread",
)

register(
    "spectral-cocluster",
    f"{_S}:SpectralCocluster",
    "purchases",
    "scikit-learn's SpectralCoclustering (Dhillon) on the people and items that have "
    "purchases; those without any get the largest cluster of their side. With "
    "n_row_clusters != n_col_clusters the same embedding is clustered per side.",
    "O(nnz * (1 + log2 K)) per SVD iteration (randomized SVD), then k-means on n + m points",
    "a quick baseline on strongly assortative (diagonal) relations with equal K per side "
    "and mild degree heterogeneity; with lognormal activity it loses clusters (ARI about "
    "0.25 where svd-kmeans reaches 0.68 on the planted family)",
)
register(
    "spectral-bicluster",
    f"{_S}:SpectralBicluster",
    "purchases",
    "scikit-learn's SpectralBiclustering (Kluger, checkerboard) with n_row_clusters and "
    "n_col_clusters; people or items without purchases get the largest cluster of their side.",
    "O(nnz * n_components) per SVD iteration, then k-means on the best singular vectors",
    "checkerboard relations (not only diagonal), K_A != K_B, with mild degree "
    "heterogeneity; with lognormal activity its singular vectors are not piecewise constant "
    "and it finds almost nothing (ARI about 0.02 where svd-kmeans reaches 0.68 on the "
    "planted family)",
)
register(
    "svd-kmeans",
    f"{_S}:SVDKMeans",
    "purchases",
    "Regularised spectral embedding: degrees regularised by their mean (tau), "
    "min(n_row_clusters, n_col_clusters) singular vectors by scipy's Lanczos svds, scaled by "
    "the singular values, rows normalised, k-means per side.",
    "O(nnz * K) per Lanczos iteration, O((n + m) K) memory, then k-means per side",
    "degree-heterogeneous purchases (lognormal or Pareto activity), K_A != K_B; the best "
    "start for a block-model fit",
)
register(
    "regularized-spectral",
    "fastbip.algorithms.regularized:RegularizedSpectral",
    "purchases",
    "Regularised-Laplacian spectral embedding (Dall'Amico et al. 2021): "
    "(D_r + tau)^-1/2 M (D_c + tau)^-1/2 with tau = sqrt(c_A c_B) - 1 (c = sum d^2 / sum d - 1 "
    "per side, about the non-backtracking spectral radius minus one), max(2, min(K_A, K_B)) "
    "singular vectors by Lanczos, rows normalised, k-means per side.",
    "O(nnz * K) per Lanczos iteration, O((n + m) K) memory, then k-means per side",
    "sparse, heavy-tailed purchases near the detection threshold (snr 1.5-3): above a "
    "mean-degree regulariser there at spectral cost; the start of dcsbm and of bp",
)
register(
    "bp",
    "fastbip.algorithms.bp:BeliefPropagation",
    "purchases",
    "Belief propagation for the degree-corrected bipartite Poisson block model (messages on "
    "purchases, a mean-field term for the rest, damped), parameters learned by EM from the "
    "regularized-spectral start; labels are the marginals' argmax (row_marginals_, "
    "column_marginals_).",
    "O(nnz * K_A * K_B) per sweep, O(nnz (K_A + K_B)) memory; tens to a few hundred sweeps "
    "(more near snr 1)",
    "the most accurate near the detection threshold (within 0.002 ARI of BP with the planted "
    "parameters at snr 1.5-2, K = 2 and 5); 10 to 50 times the time of the spectral methods",
    slow=True,
)
register(
    "louvain",
    f"{_G}:Louvain",
    "purchases",
    "Bipartite Louvain (scikit-network, modularity of the bipartite graph); chooses its own "
    "number of clusters (n_row_clusters_ / n_col_clusters_ after fit), ignores "
    "n_row_clusters / n_col_clusters.",
    "about O(nnz) per pass, a few passes; O(nnz) memory",
    "when K is unknown and the relation is assortative (each people-cluster buys mostly from "
    "its own item-cluster)",
    requires=("sknetwork",),
)
register(
    "leiden",
    f"{_G}:Leiden",
    "purchases",
    "Bipartite Leiden (scikit-network): Louvain with a refinement step that keeps clusters "
    "connected; chooses its own number of clusters.",
    "about O(nnz) per pass, a few passes; O(nnz) memory",
    "as louvain, when well-connected clusters matter",
    requires=("sknetwork",),
)
register(
    "dcsbm",
    "fastbip.algorithms.dcsbm:DCSBM",
    "purchases",
    "Degree-corrected bipartite Poisson block model fitted by likelihood sweeps from a "
    "regularised spectral start (fastbip's own); near the detection threshold (the start's "
    "(s_2 / s_{K+1})^2 below 1.2) the labels of belief propagation (bp) instead.",
    "O(nnz + (n + m) K_A K_B) per sweep, plus O(nnz) per Lanczos step for the start; near the "
    "threshold what bp costs",
    "planted or real purchases with heterogeneous activity; the most accurate co-clustering here",
)
register(
    "joint-svd-kmeans",
    f"{_J}:JointSVDKMeans",
    "joint",
    "The regularised spectral embedding of the purchases concatenated with the "
    "standardised features (weight feature_weight), k-means per side.",
    "O(nnz * K) per Lanczos iteration plus O(n (K + p) K) per k-means iteration",
    "when purchases are sparse or near the detection threshold and the features carry "
    "cluster information; people or items without purchases are then placed by features",
)

del _linkage, _when
