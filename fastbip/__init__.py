"""fastbip: planted people/item clusters, their purchases, and how well algorithms find them.

The public names below are imported on first use (PEP 562), so ``import fastbip`` stays
fast and an optional dependency is only needed by the function that uses it.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_NAMES = {
    # spec.py
    "Spec": "spec",
    "SpecError": "spec",
    "load_spec": "spec",
    "default_spec": "spec",
    "planted_spec": "spec",
    # population.py
    "Population": "population",
    # dataset.py
    "Dataset": "dataset",
    "Truth": "dataset",
    "DatasetFormatError": "dataset",
    "generate": "dataset",
    "save": "dataset",
    "load": "dataset",
    # purchases.py
    "sample_purchases": "purchases",
    "sample_events": "purchases",
    "Events": "purchases",
    "expected_block_totals": "purchases",
    "intensity": "purchases",
    # blocks/
    "block_counts": "blocks",
    "block_counts_windows": "blocks",
    "block_stats": "blocks",
    "estimate_omega": "blocks",
    "soft_block_counts": "blocks",
    "encode_labels": "blocks",
    "EncodedLabels": "blocks",
    "BlockStats": "blocks",
    "OmegaEstimate": "blocks",
    # metrics.py
    "score_labels": "metrics",
    "relation_recovery": "metrics",
    "align": "metrics",
    "contingency": "metrics",
    "consensus_score": "metrics",
    "adjusted_rand": "metrics",
    "adjusted_mutual_info": "metrics",
    "normalized_mutual_info": "metrics",
    # truth.py
    "snr": "truth",
    "snr_matrix": "truth",
    "oracle_labels": "truth",
    # algorithms/dcsbm.py
    "DCSBM": "algorithms.dcsbm",
    "select_k": "algorithms.dcsbm",
    # study.py, recovery.py, logs.py
    "run_study": "study",
    "StudyResult": "study",
    "recovery_sweep": "recovery",
    "from_log": "logs",
    "read_log": "logs",
}
_SUBMODULES = (
    "algorithms",
    "spec",
    "population",
    "dataset",
    "purchases",
    "blocks",
    "metrics",
    "truth",
    "oracle",
    "study",
    "recovery",
    "logs",
    "cli",
    "distributed",
)

__all__ = ["__version__", *_NAMES, "algorithms"]


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'fastbip' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_NAMES, *_SUBMODULES})
