"""Which block-model kernel a fit runs: the numpy twin below ``_small.SMALL`` stored entries,
the serial twin on one numba thread, the parallel kernel otherwise (the same results)."""

from __future__ import annotations

import functools

import numba

from fastbip import _small
from fastbip._kernels import dcsbm as _kd


def _kernel(name):
    """The kernel ``name`` of :mod:`fastbip._kernels.dcsbm`, or its serial twin when numba
    runs on one thread (``limit_threads``: below ``_PARALLEL_MIN_NNZ`` entries or with
    ``n_jobs=None``): the same results, and the twin compiles several times faster. The CSR
    kernels with a numpy twin (:mod:`fastbip._small`, the same results) run it below
    ``_small.SMALL`` stored entries: then a small fit compiles nothing."""
    kernel = getattr(_kd, name + "_serial" if numba.get_num_threads() == 1 else name)
    twin = _NUMPY_TWINS.get(name)
    return kernel if twin is None else functools.partial(_small_or_kernel, twin, kernel)


_NUMPY_TWINS = {
    "_row_profile_csr": _small.row_profile,
    "_hard_assign_rows_csr": functools.partial(_small.hard_assign_rows, n_chunks=_kd.N_CHUNKS),
}


def _small_or_kernel(twin, kernel, indptr, indices, *args):
    return (twin if indices.shape[0] < _small.SMALL else kernel)(indptr, indices, *args)
