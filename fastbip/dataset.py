"""Dataset: people, items, purchases, the planted truth; generation from a spec; save and load.

:func:`generate` turns a :class:`~fastbip.spec.Spec` into a :class:`Dataset`:

1. people and items with their true labels and features (:mod:`fastbip.population`);
2. activity ``theta`` and popularity ``phi`` drawn from the relation's degree distributions
   and normalised to sum to 1 inside each cluster (Karrer–Newman);
3. the expected block totals ``truth.omega`` (:func:`planted_omega`);
4. the purchases ``M[i, j] ~ Poisson(theta[i] phi[j] omega[a[i], b[j]])`` written straight
   into CSR by the numba kernels of :mod:`fastbip.purchases`;
5. optionally, a timestamp for every purchase from its item-cluster's time profile.

Randomness: one ``np.random.SeedSequence`` for the whole dataset, spawned into independent
children for the people, the items, the degrees, the purchases and the events. The same
seed gives bit-identical arrays whatever the number of threads.

On disk (:func:`save`, :func:`load`) a dataset is one uncompressed zip file holding
``manifest.json`` (format name and version, the spec, the names, shapes, dtypes and SHA-256
of every array) and one ``.npy`` member per array. It is written to a temporary file and
renamed into place, so a crash never leaves a half-written dataset; a truncated or altered
file is rejected on load.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from . import __version__
from .population import Population, cluster_sizes, generate_population
from .spec import DegreeSpec, RelationSpec, Spec

__all__ = [
    "Truth",
    "Dataset",
    "DatasetFormatError",
    "generate",
    "planted_omega",
    "draw_degrees",
    "save",
    "load",
    "FORMAT_NAME",
    "FORMAT_VERSION",
]

FORMAT_NAME = "fastbip-dataset"
FORMAT_VERSION = 1


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

    @property
    def shape(self) -> tuple[int, int]:
        return self.omega.shape


class DatasetFormatError(ValueError):
    """A dataset file is not a complete, unaltered fastbip dataset of a known version."""


@dataclass(eq=False)
class Dataset:
    """People, items, their purchases and (for generated data) the planted truth.

    Attributes
    ----------
    people, items : :class:`~fastbip.population.Population`
    purchases : scipy.sparse.csr_matrix (n_people, n_items), canonical, integer counts
    truth : :class:`Truth` or None (real purchase logs)
    spec : :class:`~fastbip.spec.Spec` or None
    events : :class:`fastbip.purchases.Events` or None: one timestamp per purchase,
        aligned with the CSR entries
    """

    people: Population
    items: Population
    purchases: sp.csr_matrix
    truth: Truth | None = None
    spec: Spec | None = None
    events: Any = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.purchases.shape

    @property
    def n_purchases(self) -> int:
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


# --------------------------------------------------------------------------- generation


def planted_omega(
    relation: RelationSpec, people_sizes: np.ndarray, item_sizes: np.ndarray
) -> np.ndarray:
    """Expected block totals of a dataset with the given cluster sizes.

    With ``W`` the spec's affinity per person-item pair, ``s`` and ``t`` the cluster shares
    and ``m`` the mixing, the blended affinity is ``W' = (1 - m) W + m (s^T W t)`` (at
    ``m = 1`` every pair has the same rate: no structure), and
    ``omega[k, l] = c * W'[k, l] * n_k * m_l`` with ``c`` chosen so that
    ``omega.sum() = n_people * mean_purchases``.
    """
    w = np.asarray(relation.rates, dtype=np.float64)
    ns = np.asarray(people_sizes, dtype=np.float64)
    ms = np.asarray(item_sizes, dtype=np.float64)
    s, t = ns / ns.sum(), ms / ms.sum()
    wbar = s @ w @ t
    w = (1.0 - relation.mixing) * w + relation.mixing * wbar
    raw = w * np.outer(ns, ms)
    total = raw.sum()
    if total <= 0:
        raise ValueError("relation.rates puts no weight on any pair of non-empty clusters")
    return raw * (ns.sum() * relation.mean_purchases / total)


def draw_degrees(
    spec: DegreeSpec, labels: np.ndarray, k: int, rng: np.random.Generator | int | None = None
) -> np.ndarray:
    """Activity or popularity: raw draws from ``spec`` normalised to sum to 1 per cluster."""
    rng = np.random.default_rng(rng)
    n = labels.shape[0]
    if spec.dist == "lognormal":
        raw = rng.lognormal(-0.5 * spec.sigma**2, spec.sigma, n)
    elif spec.dist == "pareto":
        raw = rng.pareto(spec.alpha, n) + 1.0
    else:
        raw = np.ones(n)
    totals = np.bincount(labels, weights=raw, minlength=k)
    return raw / totals[labels]


def _root_seed(spec: Spec, rng: Any) -> np.random.SeedSequence:
    if rng is None:
        return np.random.SeedSequence(spec.seed)
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(rng.integers(0, 2**63, size=4).tolist())
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.SeedSequence(int(rng))
    raise TypeError(
        "rng must be None (use spec.seed), a non-negative int, a SeedSequence or "
        f"a numpy Generator; got {type(rng).__name__}"
    )


def generate(spec: Spec, rng: Any = None) -> Dataset:
    """Generate people, items, purchases (and events) from ``spec``.

    ``rng``: None uses ``spec.seed`` (fresh entropy when that is None too); an int or a
    ``SeedSequence`` seeds everything; a ``Generator`` is drawn from once.
    """
    from .purchases import sample_purchases

    p = _plant(spec, rng)
    purchases = sample_purchases(
        p.people.labels,
        p.items.labels,
        p.theta,
        p.phi,
        p.omega,
        seed=p.seed_purchases,
        model=spec.relation.model,
        affinity=p.affinity,
    )
    return _assemble(spec, p, purchases)


@dataclass(eq=False)
class _Planted:
    """Everything :func:`generate` draws before the purchases, and the purchases' seeds."""

    people: Population
    items: Population
    theta: np.ndarray
    phi: np.ndarray
    omega: np.ndarray
    affinity: list | None
    seed_purchases: np.random.SeedSequence
    seed_events: np.random.SeedSequence


def _plant(spec: Spec, rng: Any) -> _Planted:
    """The part of :func:`generate` before the purchases (shared with the Dask backend)."""
    if not isinstance(spec, Spec):
        raise TypeError(
            f"spec must be a fastbip Spec (see load_spec, default_spec); got {type(spec).__name__}"
        )
    ss_people, ss_items, ss_deg, ss_buy, ss_events = _root_seed(spec, rng).spawn(5)
    people = generate_population(spec.people, "people", np.random.default_rng(ss_people))
    items = generate_population(spec.items, "items", np.random.default_rng(ss_items))
    rel = spec.relation
    g = np.random.default_rng(ss_deg)
    theta = draw_degrees(rel.activity, people.labels, spec.people.k, g)
    phi = draw_degrees(rel.popularity, items.labels, spec.items.k, g)
    omega = planted_omega(
        rel,
        cluster_sizes(spec.people.n, spec.people.shares),
        cluster_sizes(spec.items.n, spec.items.shares),
    )
    affinity = [
        (people.columns[a.people_feature], items.columns[a.item_feature], a.scale)
        for a in rel.affinity
    ] or None
    return _Planted(people, items, theta, phi, omega, affinity, ss_buy, ss_events)


def _assemble(spec: Spec, p: _Planted, purchases: sp.csr_matrix) -> Dataset:
    """The part of :func:`generate` after the purchases: events (if timed) and the Dataset."""
    from .purchases import sample_events

    events = None
    if spec.time is not None:
        events = sample_events(
            purchases,
            p.items.labels,
            list(spec.time.profiles),
            seed=p.seed_events,
            start=spec.time.start,
            end=spec.time.end,
        )
    truth = Truth(
        omega=p.omega,
        theta=p.theta,
        phi=p.phi,
        people_labels=p.people.labels,
        item_labels=p.items.labels,
        model=spec.relation.model,
    )
    return Dataset(p.people, p.items, purchases, truth, spec, events)


# --------------------------------------------------------------------------- save / load


def _population_meta(p: Population, prefix: str, arrays: dict[str, np.ndarray]) -> dict:
    if p.labels is not None:
        arrays[f"{prefix}.labels"] = p.labels
    for i, col in enumerate(p.columns.values()):
        arrays[f"{prefix}.col{i}"] = col
    if p.ids is not None:
        ids = p.ids
        if ids.dtype.kind not in "iuU":
            ids = ids.astype(str)  # object ids (strings) are stored as unicode
        arrays[f"{prefix}.ids"] = ids
    return {
        "name": p.name,
        "n": p.n,
        "has_labels": p.labels is not None,
        "has_ids": p.ids is not None,
        "columns": list(p.columns),
        "kinds": p.kinds,
        "categories": {k: list(v) for k, v in p.categories.items()},
        "cluster_names": list(p.cluster_names),
    }


def _population_from(meta: dict, prefix: str, arrays: dict[str, np.ndarray]) -> Population:
    return Population(
        name=meta["name"],
        n=meta["n"],
        labels=arrays[f"{prefix}.labels"] if meta["has_labels"] else None,
        columns={name: arrays[f"{prefix}.col{i}"] for i, name in enumerate(meta["columns"])},
        kinds=dict(meta["kinds"]),
        categories={k: tuple(v) for k, v in meta["categories"].items()},
        cluster_names=tuple(meta["cluster_names"]),
        ids=arrays[f"{prefix}.ids"] if meta["has_ids"] else None,
    )


def _digest(a: np.ndarray) -> str:
    a = np.ascontiguousarray(a)
    return hashlib.sha256(memoryview(a).cast("B")).hexdigest()


def save(ds: Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to ``path`` (one file; conventionally ``.fbp``), atomically."""
    if not isinstance(ds, Dataset):
        raise TypeError(f"save expects a Dataset; got {type(ds).__name__}")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot save a dataset to {str(path)!r}: it is a directory")
    arrays: dict[str, np.ndarray] = {}
    m = ds.purchases.tocsr()
    m.sort_indices()
    arrays["purchases.indptr"] = m.indptr
    arrays["purchases.indices"] = m.indices
    arrays["purchases.data"] = m.data
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "fastbip_version": __version__,
        "shape": list(m.shape),
        "spec": ds.spec.to_dict() if ds.spec is not None else None,
        "people": _population_meta(ds.people, "people", arrays),
        "items": _population_meta(ds.items, "items", arrays),
        "truth": None,
        "events": ds.events is not None,
    }
    if ds.truth is not None:
        t = ds.truth
        manifest["truth"] = {"model": t.model}
        for name in ("omega", "theta", "phi", "people_labels", "item_labels"):
            arrays[f"truth.{name}"] = getattr(t, name)
    if ds.events is not None:
        arrays["events.offsets"] = ds.events.offsets
        arrays["events.times"] = ds.events.times
    manifest["arrays"] = {
        k: {
            "dtype": np.asarray(a).dtype.str,
            "shape": list(np.shape(a)),
            "sha256": _digest(np.asarray(a)),
        }
        for k, a in arrays.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with (
            os.fdopen(fd, "wb") as fh,
            zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as zf,
        ):
            zf.writestr("manifest.json", json.dumps(manifest, indent=1))
            for k, a in arrays.items():
                with zf.open(f"arrays/{k}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(a), allow_pickle=False)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp made it private; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load(path: str | os.PathLike) -> Dataset:
    """Read a dataset written by :func:`save`, checking format, version and every array's
    SHA-256; a truncated or altered file raises :class:`DatasetFormatError`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"dataset file {str(path)!r} does not exist")
    try:
        zf = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError) as e:
        raise DatasetFormatError(
            f"{str(path)!r} is not a fastbip dataset (not a complete zip "
            f"file: {e}); it may be truncated"
        ) from e
    with zf:
        try:
            manifest = json.loads(zf.read("manifest.json"))
        except KeyError as e:
            raise DatasetFormatError(
                f"{str(path)!r} has no manifest.json: not a fastbip dataset"
            ) from e
        except (zipfile.BadZipFile, ValueError, OSError) as e:
            raise DatasetFormatError(f"{str(path)!r}: manifest.json is damaged ({e})") from e
        if manifest.get("format") != FORMAT_NAME:
            raise DatasetFormatError(
                f"{str(path)!r} has format {manifest.get('format')!r}; expected {FORMAT_NAME!r}"
            )
        version = manifest.get("version")
        if version != FORMAT_VERSION:
            raise DatasetFormatError(
                f"{str(path)!r} has format version {version!r}; this "
                f"fastbip {__version__} reads version {FORMAT_VERSION}"
            )
        arrays: dict[str, np.ndarray] = {}
        for name, meta in manifest["arrays"].items():
            member = f"arrays/{name}.npy"
            try:
                with zf.open(member) as fh:
                    a = np.lib.format.read_array(io.BufferedReader(fh), allow_pickle=False)
            except KeyError as e:
                raise DatasetFormatError(
                    f"{str(path)!r} lacks array {name!r}: the file is incomplete"
                ) from e
            except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
                raise DatasetFormatError(
                    f"{str(path)!r}: array {name!r} is damaged or truncated ({e})"
                ) from e
            if a.dtype.str != meta["dtype"] or list(a.shape) != meta["shape"]:
                raise DatasetFormatError(
                    f"{str(path)!r}: array {name!r} has dtype {a.dtype.str} shape "
                    f"{list(a.shape)}; the manifest says {meta['dtype']} {meta['shape']}"
                )
            if _digest(a) != meta["sha256"]:
                raise DatasetFormatError(
                    f"{str(path)!r}: array {name!r} does not match its "
                    "SHA-256 in the manifest: the file was altered"
                )
            arrays[name] = a
    shape = tuple(manifest["shape"])
    purchases = sp.csr_matrix(
        (arrays["purchases.data"], arrays["purchases.indices"], arrays["purchases.indptr"]),
        shape=shape,
        copy=False,
    )
    people = _population_from(manifest["people"], "people", arrays)
    items = _population_from(manifest["items"], "items", arrays)
    truth = None
    if manifest["truth"] is not None:
        truth = Truth(
            **{
                n: arrays[f"truth.{n}"]
                for n in ("omega", "theta", "phi", "people_labels", "item_labels")
            },
            model=manifest["truth"]["model"],
        )
    spec = Spec.from_dict(manifest["spec"]) if manifest["spec"] is not None else None
    events = None
    if manifest["events"]:
        from .purchases import Events

        events = Events(arrays["events.offsets"], arrays["events.times"])
    return Dataset(people, items, purchases, truth, spec, events)
