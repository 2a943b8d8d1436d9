"""estimate_omega and the block statistics on shards equal one machine's bit for bit, the
log-likelihoods included, whatever the number of workers and the shard size, for labels
held here, the planted truth read on the workers and labels kept there (ShardedLabels);
under labels on the workers theta stays there (a ShardedVector)."""

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from fastbip.blocks import block_counts, block_stats, estimate_omega  # noqa: E402
from fastbip.distributed import (  # noqa: E402
    ShardedLabels,
    ShardedOmegaEstimate,
    ShardedVector,
    block_stats_dask,
    estimate_omega_dask,
    generate_dask,
    sharded_truth_labels,
)
from fastbip.generate import generate  # noqa: E402
from fastbip.spec import planted_spec  # noqa: E402

# 5 row blocks of 1024 rows: 5 shards of 1 block or 2 shards of 3 blocks (the last short)
SPEC = planted_spec(4600, 300, 3, 2, seed=8)


@pytest.fixture(scope="module")
def local():
    return generate(SPEC)


def _labels(ds, seed=3):
    """Random labels with unassigned members on both sides (4 row, 3 column clusters)."""
    rng = np.random.default_rng(seed)
    return rng.integers(-1, 4, ds.shape[0]), rng.integers(-1, 3, ds.shape[1])


def _cut(c, sds, x):
    """x cut by the shards' row ranges, one future per shard on c's workers."""
    b = sds.row_bounds
    return [c.scatter(x[r0:r1]) for r0, r1 in zip(b[:-1], b[1:], strict=True)]


def _same(got, want):
    for attr in ("omega", "theta", "phi", "row_labels", "column_labels"):
        np.testing.assert_array_equal(getattr(got, attr), getattr(want, attr), err_msg=attr)
    assert got.log_likelihood == want.log_likelihood
    assert got.profile_log_likelihood == want.profile_log_likelihood


@pytest.mark.parametrize(
    ("which", "bps", "where"),
    [
        ("client", 1, "memory"),
        ("client", 3, "disk"),
        ("one_worker", 1, "disk"),
        ("one_worker", 3, "memory"),
    ],
)
def test_estimate_omega_on_shards_is_bit_identical(request, local, which, bps, where, tmp_path):
    c = request.getfixturevalue(which)  # 2 worker processes or 1 in-process worker
    M, t = local.purchases, local.truth
    assert M.data.max() > 1  # log M! is not all zeros: its sum's order matters
    out = tmp_path / "d" if where == "disk" else None
    sds = generate_dask(SPEC, client=c, out=out, blocks_per_shard=bps)
    assert sds.n_shards == (5 if bps == 1 else 2)
    # labels held here: an OmegaEstimate, theta gathered
    rows, cols = _labels(local)
    got = estimate_omega_dask(sds, rows, cols, 4, 3, c)
    assert type(got).__name__ == "OmegaEstimate"
    _same(got, estimate_omega(M, rows, cols, 4, 3))
    # the planted truth, read on the workers: theta and the row labels stay there
    want = estimate_omega(M, t.people_labels, t.item_labels)
    got = estimate_omega_dask(sds, "truth", "truth", client=c)
    assert isinstance(got, ShardedOmegaEstimate) and isinstance(got.theta, ShardedVector)
    assert got.theta.n_shards == sds.n_shards and len(got.theta) == M.shape[0]
    assert "on the workers" in repr(got) and "K=(3, 2)" in repr(got)
    assert sds._base is None  # nothing of the people, items or truth came here
    _same(got.to_local(), want)
    np.testing.assert_array_equal(got.theta.to_numpy(), want.theta)
    np.testing.assert_array_equal(got.theta.part(1), want.theta[sds.row_bounds[1] :][: 1024 * bps])
    # ShardedLabels: the truth's, and random ones with their own columns (or given ones)
    _same(estimate_omega_dask(sds, sharded_truth_labels(sds, c), client=c).to_local(), want)
    lab = ShardedLabels(_cut(c, sds, rows), cols, 4, 3)
    _same(estimate_omega_dask(sds, lab, client=c).to_local(), estimate_omega(M, rows, cols, 4, 3))
    cols2 = np.roll(cols, 1)
    got = estimate_omega_dask(sds, lab, cols2, client=c)
    _same(got.to_local(), estimate_omega(M, rows, cols2, 4, 3))
    got.release()


def test_block_stats_under_labels_on_the_workers(client, local):
    M, t = local.purchases, local.truth
    sds = generate_dask(SPEC, client=client, blocks_per_shard=2)
    want = block_stats(block_counts(M, t.people_labels, t.item_labels))
    for labels in ("truth", sharded_truth_labels(sds, client)):
        got = block_stats_dask(sds, labels, client=client)
        np.testing.assert_array_equal(got.counts, want.counts)
        np.testing.assert_array_equal(got.adjusted_residuals, want.adjusted_residuals)
        assert got.chi2 == want.chi2


def test_sharded_vector():
    class Done:  # stands in for a computed future
        def __init__(self, x):
            self.x, self.released = x, False

        def result(self):
            return self.x

        def release(self):
            self.released = True

    parts = [Done(np.arange(3.0)), Done(np.arange(3.0, 5.0))]
    v = ShardedVector(parts, [0, 3, 5], np.float64)
    assert len(v) == 5 and v.shape == (5,) and v.n_shards == 2
    np.testing.assert_array_equal(v.gather(), np.arange(5.0))
    np.testing.assert_array_equal(v.part(1), [3.0, 4.0])
    assert repr(v) == "ShardedVector(n=5, dtype=float64, n_shards=2, on the workers)"
    v.release()
    assert all(p.released for p in parts)
    with pytest.raises(ValueError, match=r"bounds must have one entry more than parts \(3\)"):
        ShardedVector(parts, [0, 5], np.float64)
    with pytest.raises(ValueError, match=r"shard 1 has shape \(2,\); expected \(1,\)"):
        ShardedVector(parts, [0, 3, 4], np.float64).gather()


def _short_first(c, sds, n):
    """ShardedLabels whose first shard has 10 labels, not 1024."""
    parts = _cut(c, sds, np.zeros(n, int))
    parts[0] = c.scatter(np.zeros(10, int))
    return sds, ShardedLabels(parts, np.zeros(300, int), 2, 2)


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda c, s, n: ("not sharded", "truth"), TypeError, "sharded must be a ShardedDataset"),
        (
            lambda c, s, n: (s, "truth", np.zeros(300, int)),
            ValueError,
            'row_labels="truth" reads both sides',
        ),
        (
            lambda c, s, n: (s, np.zeros(n - 1, int), np.zeros(300, int)),
            ValueError,
            f"row_labels must have {SPEC.people.n} entries",
        ),
        (
            lambda c, s, n: (s, ShardedLabels(_cut(c, s, np.zeros(n, int))[:2], None, 2, 2)),
            ValueError,
            "row_labels has 2 shards; the dataset has 5",
        ),
        (
            lambda c, s, n: (s, ShardedLabels(_cut(c, s, np.full(n, 5)), np.zeros(300, int), 2, 2)),
            ValueError,
            "row_labels must be < n_clusters=2; got a label 5",
        ),
        (_short_first, ValueError, "row_labels must have one label per row of M"),
        (lambda c, s, n: (s, np.zeros(n, int)), ValueError, "column_labels is required"),
    ],  # fmt: skip
)
def test_bad_labels_are_named(client, make, exc, match):
    sds = generate_dask(SPEC, client=client, blocks_per_shard=1)
    args = make(client, sds, SPEC.people.n)
    with pytest.raises(exc, match=match):
        estimate_omega_dask(*args, client=client)
