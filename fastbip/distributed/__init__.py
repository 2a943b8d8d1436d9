"""Scale-out on Dask: shards stay where they are made, and the study runs on them.

* Generation (:mod:`~fastbip.distributed.generate`): :func:`generate_dask` draws a
  dataset's row shards (purchases and events) on the workers, bit for bit like
  :func:`fastbip.generate` whatever the number of workers, and leaves them there (futures)
  or has the workers write a sharded directory (:mod:`fastbip.io.sharded`);
  :func:`generate_purchases_dask` gathers the purchase matrix on the client.
* The study on shards (:mod:`~fastbip.distributed.study`): :func:`block_counts_dask`,
  :func:`block_counts_windows_dask`, :func:`block_stats_dask`: one task per shard, only
  K x K tables come back; :func:`estimate_omega_dask` (:mod:`~fastbip.distributed.omega`),
  equal to ``estimate_omega`` bit for bit, whose ``theta`` stays on the workers
  (:class:`ShardedOmegaEstimate`, :class:`ShardedVector`) under labels kept there.
* The block-model sweeps on shards (:mod:`~fastbip.distributed.dcsbm`):
  :func:`dcsbm_sweeps_dask`, the hard sweeps of :class:`fastbip.algorithms.DCSBM` from a
  given start, equal to the local fit; :func:`dcsbm_fit_dask`
  (:mod:`~fastbip.distributed.spectral`), the whole fit from its spectral start, computed
  on the shards by a randomized eigensolver.
* Labels that stay on the workers (:mod:`~fastbip.distributed.labels`):
  :class:`ShardedLabels`, :func:`sharded_truth_labels`, and ``"truth"`` as labels.

``dask[distributed]`` is an optional dependency: ``pip install 'fastbip[dask]'``.
"""

from fastbip.io.sharded import ShardedDataset, load_sharded

from .dcsbm import DaskDCSBMResult, dcsbm_sweeps_dask
from .generate import generate_dask, generate_purchases_dask
from .labels import ShardedLabels, sharded_truth_labels
from .omega import ShardedOmegaEstimate, estimate_omega_dask
from .spectral import dcsbm_fit_dask
from .study import (
    block_counts_dask,
    block_counts_windows_dask,
    block_stats_dask,
)
from .vectors import ShardedVector

__all__ = [
    "DaskDCSBMResult",
    "ShardedDataset",
    "ShardedLabels",
    "ShardedOmegaEstimate",
    "ShardedVector",
    "block_counts_dask",
    "block_counts_windows_dask",
    "block_stats_dask",
    "dcsbm_fit_dask",
    "dcsbm_sweeps_dask",
    "estimate_omega_dask",
    "generate_dask",
    "generate_purchases_dask",
    "load_sharded",
    "sharded_truth_labels",
]
