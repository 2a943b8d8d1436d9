"""A per-member vector that stays on the workers: :class:`ShardedVector`.

One future per row shard, in row order, each of a 1-D array of that shard's rows (e.g.
``theta`` of :func:`~fastbip.distributed.estimate_omega_dask` under labels kept on the
workers). Nothing of it is here until :meth:`ShardedVector.gather` (O(n) memory here) or
:meth:`ShardedVector.part` (one shard) is called.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ShardedVector"]


@dataclass(eq=False, repr=False)
class ShardedVector:
    """A vector of ``len(self)`` entries kept on the workers, one future per row shard.

    Attributes
    ----------
    parts : list of dask futures, one per shard in row order; part ``i`` resolves to a 1-D
        array of ``bounds[i + 1] - bounds[i]`` entries of ``dtype``.
    bounds : int64 ndarray (n_shards + 1,), the shards' row bounds (the dataset's
        ``row_bounds``).
    dtype : numpy dtype of the entries.
    """

    parts: list
    bounds: np.ndarray
    dtype: np.dtype

    def __post_init__(self) -> None:
        self.bounds = np.asarray(self.bounds, dtype=np.int64)
        self.dtype = np.dtype(self.dtype)
        if self.bounds.ndim != 1 or self.bounds.size != len(self.parts) + 1:
            raise ValueError(
                f"bounds must have one entry more than parts ({len(self.parts) + 1}); got "
                f"shape {self.bounds.shape}"
            )

    def __len__(self) -> int:
        return int(self.bounds[-1])

    @property
    def shape(self) -> tuple[int]:
        """``(n,)``, as a numpy vector's."""
        return (len(self),)

    @property
    def n_shards(self) -> int:
        """The number of shards (futures)."""
        return len(self.parts)

    def part(self, i: int) -> np.ndarray:
        """Shard ``i``'s entries, gathered here (O(shard rows) memory)."""
        return np.asarray(self.parts[i].result(), dtype=self.dtype)

    def gather(self) -> np.ndarray:
        """All entries gathered here, shard by shard into one array (O(n) memory here: for
        vectors that fit)."""
        out = np.empty(len(self), self.dtype)
        for i, (r0, r1) in enumerate(zip(self.bounds[:-1], self.bounds[1:], strict=True)):
            x = self.part(i)
            if x.shape != (r1 - r0,):
                raise ValueError(f"shard {i} has shape {x.shape}; expected ({r1 - r0},)")
            out[r0:r1] = x
        return out

    def to_numpy(self) -> np.ndarray:
        """The same as :meth:`gather`."""
        return self.gather()

    def release(self) -> None:
        """Release the futures now (the vector can no longer be read)."""
        for f in self.parts:
            f.release()

    def __repr__(self) -> str:
        return (
            f"ShardedVector(n={len(self)}, dtype={self.dtype}, n_shards={self.n_shards}, "
            "on the workers)"
        )
