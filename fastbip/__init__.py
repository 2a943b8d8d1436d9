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
    # dataset.py
    "Dataset": "dataset",
    "Truth": "dataset",
    # generate/
    "generate": "generate",
    "Population": "generate",
    "sample_purchases": "generate",
    "sample_events": "generate",
    "Events": "generate",
    "expected_block_totals": "generate",
    "intensity": "generate",
    # io/
    "DatasetFormatError": "io",
    "save": "io",
    "load": "io",
    "from_log": "io",
    "read_log": "io",
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
    "detectable_clusters": "truth",
    # algorithms/dcsbm.py
    "DCSBM": "algorithms.dcsbm",
    "select_k": "algorithms.select",
    # study/
    "run_study": "study",
    "Results": "study",
    "StudyResult": "study",
    "recovery_sweep": "study",
    "analyze": "study",
    "fit_spec": "study",
}
_SUBMODULES = (
    "algorithms",
    "spec",
    "dataset",
    "io",
    "blocks",
    "metrics",
    "truth",
    "oracle",
    "study",
    "recovery",
    "cli",
    "distributed",
    # deprecated shims of the modules that moved to generate/ and io/ (one release)
    "population",
    "purchases",
    "logs",
)

__all__ = sorted(["__version__", *_NAMES, "algorithms"])


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        # "generate" is the function of the package fastbip.generate (see its __init__)
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'fastbip' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_NAMES, *_SUBMODULES})
