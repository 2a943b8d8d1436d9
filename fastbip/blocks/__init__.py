"""What any labelling says: block counts, the null model, the degree-corrected likelihood.

For people labels ``a`` (``K_A`` clusters) and item labels ``b`` (``K_B`` clusters), the block
counts are ``C = Z_A^T M Z_B``: ``C[k, l]`` is the number (or total weight) of purchases between
people-cluster ``k`` and item-cluster ``l``. Label ``-1`` means "unassigned": its rows or
columns are left out of every count.

Modules
-------
- :mod:`~fastbip.blocks.counts` -- :func:`encode_labels` (labels converted once to the narrow
  codes the kernels read), :func:`block_counts` (hard labels, one parallel numba pass),
  :func:`soft_block_counts` (soft memberships, sparse-dense products),
  :func:`block_counts_windows` (per time window, from the purchase events, one pass).
- :mod:`~fastbip.blocks.stats` -- :func:`block_stats`: expected counts under independence,
  lift, residuals, chi-square and G tests, per-cell p-values with a multiple-testing
  correction.
- :mod:`~fastbip.blocks.likelihood` -- :func:`estimate_omega`: maximum-likelihood ``omega``,
  ``theta``, ``phi`` of the degree-corrected Poisson model under any labels, and
  :func:`profile_log_likelihood`, the one implementation of its label-dependent part.

:func:`snr` and :func:`snr_matrix` describe the planted parameters, not a labelling: they live
in :mod:`fastbip.truth` and are re-exported here for code written before the move.
"""

from fastbip.blocks.counts import (
    EncodedLabels,
    block_counts,
    block_counts_windows,
    encode_labels,
    soft_block_counts,
)
from fastbip.blocks.likelihood import OmegaEstimate, estimate_omega, profile_log_likelihood
from fastbip.blocks.stats import BlockStats, block_stats


def __getattr__(name: str):
    # snr and snr_matrix moved to fastbip.truth, which imports this package: resolved on use
    if name in ("snr", "snr_matrix"):
        from fastbip import truth

        return getattr(truth, name)
    raise AttributeError(f"module 'fastbip.blocks' has no attribute {name!r}")


__all__ = [
    "BlockStats",
    "EncodedLabels",
    "OmegaEstimate",
    "block_counts",
    "block_counts_windows",
    "block_stats",
    "encode_labels",
    "estimate_omega",
    "profile_log_likelihood",
    "snr",
    "snr_matrix",
    "soft_block_counts",
]
