"""The plan of a generated dataset: every step of :func:`fastbip.generate.generate` but the
purchases, so that any backend that draws the purchases gives the same dataset.

``generate(spec, rng)`` is ``assemble(spec, plan, sample_purchases(...))`` with
``plan = make_plan(spec, rng)``:

1. **Seeds.** One root ``numpy.random.SeedSequence`` (from ``rng``, else ``spec.seed``) is
   spawned into five children, in this order: people, items, degrees, purchases, events.
   The order is part of the seed: changing it changes every dataset.
2. **Populations.** People and items with their labels and features
   (:func:`~fastbip.generate.population.generate_population`, one child seed each).
3. **Degrees.** Activity ``theta`` then popularity ``phi`` from one generator on the degrees'
   seed (:func:`~fastbip.generate.relation.draw_degrees`).
4. **The planted omega.** The expected block totals for the spec's exact cluster sizes
   (:func:`~fastbip.generate.relation.planted_omega`), and the affinity terms as arrays.

   *The purchases are drawn here*, from ``plan.seed_purchases``: by
   :func:`~fastbip.generate.purchases.sample_purchases` locally, or by row shards on Dask
   workers (:mod:`fastbip.distributed`).

5. **Assembly.** The events from ``plan.seed_events`` when the spec has a ``[time]`` section,
   the :class:`~fastbip.dataset.Truth` and the :class:`~fastbip.dataset.Dataset`
   (:func:`assemble`).

Row shards. A backend that cuts the purchases by rows calls :func:`check_purchase_args` once
on the client, ``sample_purchases(..., row_blocks=(b0, b1))`` per shard with
:func:`shard_draw_count` beside it, and :func:`stack_shards` on the results: the stacked
matrix equals ``sample_purchases`` on all rows bit for bit (values, index dtypes).

This module is internal: its names may change between releases.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from fastbip._rng import as_generator, as_seed_sequence
from fastbip.dataset import Dataset, Truth
from fastbip.spec import Spec

from . import purchases as _p
from .events import Events, sample_events
from .population import Population, cluster_sizes, generate_population
from .relation import degree_moment, draw_degrees, planted_omega

__all__ = [
    "Plan",
    "PurchaseArgs",
    "assemble",
    "check_memory",
    "check_purchase_args",
    "estimate_bytes",
    "make_plan",
    "physical_memory",
    "root_seed",
    "shard_draw_count",
    "stack_shards",
]


# --------------------------------------------------------------------------- memory


def physical_memory() -> int | None:
    """Bytes of physical memory (POSIX ``sysconf``), or None where it cannot be known."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def estimate_bytes(
    n_people: int,
    n_items: int,
    mean_purchases: float,
    n_features: int = 0,
    *,
    with_time: bool = False,
) -> int:
    """A rough peak-memory estimate of generating a dataset, in bytes.

    Purchases: at most ``n_people * mean_purchases`` stored entries of 8 bytes (int32 index
    and count) plus 8 bytes a purchase for its time; populations: labels, degrees and
    features, 8 bytes each; doubled for the working copies made while sampling.
    """
    purchases = n_people * mean_purchases * (8 + (8 if with_time else 0))
    members = (n_people + n_items) * 8 * (3 + n_features)
    return int(2 * (purchases + members + 8 * n_people))


def check_memory(spec: Spec) -> None:
    """Refuse, before anything is allocated, a spec whose dataset would not fit in memory.

    Raises
    ------
    MemoryError
        naming ``people.n`` and ``items.n``, the estimated bytes
        (:func:`estimate_bytes`) and the machine's physical memory.
    """
    have = physical_memory()
    if have is None:
        return
    n_feat = len(spec.people.features) + len(spec.items.features)
    need = estimate_bytes(
        spec.people.n,
        spec.items.n,
        spec.relation.mean_purchases,
        n_feat,
        with_time=spec.time is not None,
    )
    if need > have:
        raise MemoryError(
            f"people.n = {spec.people.n:,} and items.n = {spec.items.n:,} (with "
            f"relation.mean_purchases = {spec.relation.mean_purchases:g}) need about "
            f"{need / 2**30:,.1f} GiB of memory to generate; this machine has "
            f"{have / 2**30:,.1f} GiB"
        )


# --------------------------------------------------------------------------- before


@dataclass(eq=False)
class Plan:
    """Everything drawn before the purchases, and the seeds of the purchases and events.

    Attributes
    ----------
    people, items : Population, with labels (int32 (n_people,), (n_items,)).
    theta : float64 (n_people,), sums to 1 inside each people-cluster.
    phi : float64 (n_items,), sums to 1 inside each item-cluster.
    omega : float64 (K_A, K_B), the expected block totals.
    affinity : list of (x_people float64 (n_people,), y_items float64 (n_items,), scale),
        or None.
    model : the relation's model ("poisson", "bernoulli" or "exact").
    seed_purchases, seed_events : numpy.random.SeedSequence, children 4 and 5 of the root.
    degree_m2 : (float, float) or None, the relative second moments ``E[w^2] / E[w]^2`` of
        the activity and popularity distributions (:func:`~fastbip.generate.degree_moment`).
    """

    people: Population
    items: Population
    theta: np.ndarray
    phi: np.ndarray
    omega: np.ndarray
    affinity: list | None
    model: str
    seed_purchases: np.random.SeedSequence
    seed_events: np.random.SeedSequence
    degree_m2: tuple[float, float] | None = None

    def purchase_args(self) -> tuple[tuple, dict[str, Any]]:
        """``(args, kwargs)`` of ``sample_purchases`` for this plan (all rows)."""
        args = (self.people.labels, self.items.labels, self.theta, self.phi, self.omega)
        return args, {"seed": self.seed_purchases, "model": self.model, "affinity": self.affinity}

    def truth(self) -> Truth:
        """The planted parameters of the dataset this plan makes."""
        return Truth(
            omega=self.omega,
            theta=self.theta,
            phi=self.phi,
            people_labels=self.people.labels,
            item_labels=self.items.labels,
            model=self.model,
            degree_m2=self.degree_m2,
        )


def root_seed(spec: Spec, rng: Any) -> np.random.SeedSequence:
    """The dataset's root seed: ``spec.seed`` when ``rng`` is None (fresh entropy when that
    is None too), else ``rng`` converted by ``fastbip._rng.as_seed_sequence``.

    A Generator is drawn from for four 63-bit words (not one, as ``as_seed_sequence`` draws):
    this is the generator's documented seeding and part of every dataset made from one.
    """
    if rng is None:
        return as_seed_sequence(spec.seed, "spec.seed")
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(rng.integers(0, 2**63, size=4).tolist())
    return as_seed_sequence(rng, "rng")


def make_plan(spec: Spec, rng: Any = None) -> Plan:
    """Steps 1 to 4 of the module docstring: seeds, populations, degrees, omega."""
    if not isinstance(spec, Spec):
        raise TypeError(
            f"spec must be a fastbip Spec (see load_spec, default_spec); got {type(spec).__name__}"
        )
    check_memory(spec)
    ss_people, ss_items, ss_deg, ss_buy, ss_events = root_seed(spec, rng).spawn(5)
    people = generate_population(spec.people, "people", ss_people)
    items = generate_population(spec.items, "items", ss_items)
    rel = spec.relation
    g = as_generator(ss_deg)
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
    m2 = (degree_moment(rel.activity), degree_moment(rel.popularity))
    return Plan(people, items, theta, phi, omega, affinity, rel.model, ss_buy, ss_events, m2)


# --------------------------------------------------------------------------- after


def assemble(spec: Spec, plan: Plan, purchases: sp.csr_matrix) -> Dataset:
    """Step 5: the events (when ``spec`` has a ``[time]`` section) and the Dataset."""
    events: Events | None = None
    if spec.time is not None:
        events = sample_events(
            purchases,
            plan.items.labels,
            list(spec.time.profiles),
            seed=plan.seed_events,
            start=spec.time.start,
            end=spec.time.end,
        )
    truth = plan.truth()
    return Dataset(plan.people, plan.items, purchases, truth, spec, events)


# --------------------------------------------------------------------------- row shards


@dataclass(eq=False)
class PurchaseArgs:
    """Arguments of ``sample_purchases``, checked and converted once (on the client).

    people_labels, item_labels: integer (n_people,), (n_items,); theta, phi: float64;
    omega: float64 (K_A, K_B); affinity: as given (checked); seed: a SeedSequence (so every
    worker draws the same streams, even from ``None`` or a Generator); model, block_size.
    """

    people_labels: np.ndarray
    item_labels: np.ndarray
    theta: np.ndarray
    phi: np.ndarray
    omega: np.ndarray
    affinity: Any
    seed: np.random.SeedSequence
    model: str
    block_size: int

    @property
    def n_blocks(self) -> int:
        """Row blocks of ``block_size`` rows (the unit of the random streams)."""
        return -(-self.people_labels.size // self.block_size)


def check_purchase_args(
    people_labels: Any,
    item_labels: Any,
    theta: Any,
    phi: Any,
    omega: Any,
    *,
    seed: Any,
    model: str = "poisson",
    affinity: Any = None,
    block_size: int = 1024,
) -> PurchaseArgs:
    """The checks of ``sample_purchases``, with the same messages, run once."""
    seed = as_seed_sequence(seed, "seed")
    _, model, block_size = _p._check_options(seed, model, block_size)
    a, b, theta, phi, om = _p._validate(people_labels, item_labels, theta, phi, omega)
    _p._validate_affinity(affinity, a.size, b.size)
    return PurchaseArgs(a, b, theta, phi, om, affinity, seed, model, block_size)


def shard_draw_count(
    people_labels: np.ndarray,
    item_labels: np.ndarray,
    theta: np.ndarray,
    phi: np.ndarray,
    omega: np.ndarray,
    seed: Any,
    block_size: int,
    b0: int,
    b1: int,
) -> int:
    """Draws (before merging repeats, thinning or capping at 1) of the rows of blocks
    [b0, b1): pass 1 of ``sample_purchases``, whose total sets the index dtype of the whole
    matrix. The arrays are checked ones (:func:`check_purchase_args`), of all people."""
    factor = _p._cluster_rates(people_labels, item_labels, theta, phi, omega)[3]
    r0, r1 = b0 * block_size, min(people_labels.size, b1 * block_size)
    draw_off, _ = _p._row_draws(
        theta[r0:r1],
        people_labels[r0:r1].astype(np.int32),
        factor,
        block_size,
        _p._key_from_seed(seed),
        b0,
    )
    return int(draw_off.sum())


def stack_shards(shards: list[sp.csr_matrix], n_draws: int, n_cols: int) -> sp.csr_matrix:
    """Stack row shards into the matrix ``sample_purchases`` returns for all rows: values
    unchanged, int32 data, the index dtype of the whole (int32 unless the total number of
    draws ``n_draws``, the rows or the columns exceed int32)."""
    n_rows = sum(s.shape[0] for s in shards)
    big = max(n_draws, n_rows, n_cols) > _p._INT32_MAX
    idx = np.int64 if big else np.int32
    M = shards[0] if len(shards) == 1 else sp.vstack(shards, format="csr")
    return _p._wrap_csr(
        M.data.astype(np.int32, copy=False),
        M.indices.astype(idx, copy=False),
        M.indptr.astype(idx, copy=False),
        (n_rows, n_cols),
    )
