"""Planted block-model data for the tests: the one sampler lives in ``_reference.py``."""

try:
    from _reference import dense_planted, diagonal_omega, planted, planted_labels
except ModuleNotFoundError:  # imported as ``tests._planted`` with only the root on sys.path
    from tests._reference import dense_planted, diagonal_omega, planted, planted_labels

_labels = planted_labels

__all__ = ["dense_planted", "diagonal_omega", "planted"]
