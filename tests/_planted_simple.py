"""Planted purchases as ``(M, truth)`` and Gaussian blobs: the one sampler lives in
``_reference.py``."""

try:
    from _reference import blobs
    from _reference import planted_pair as planted
except ModuleNotFoundError:  # imported as ``tests._planted_simple`` with only the root on sys.path
    from tests._reference import blobs
    from tests._reference import planted_pair as planted

__all__ = ["blobs", "planted"]
