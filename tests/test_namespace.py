"""The public namespace: ``fastbip.__all__`` is sorted and frozen here, and every name in it
resolves. A name added to or removed from the package's surface is a deliberate change of
this list in the same commit."""

import pytest

import fastbip

EXPECTED_ALL = [
    "BlockStats",
    "DCSBM",
    "Dataset",
    "DatasetFormatError",
    "EncodedLabels",
    "Events",
    "OmegaEstimate",
    "Population",
    "Results",
    "Spec",
    "SpecError",
    "StudyResult",
    "Truth",
    "__version__",
    "adjusted_mutual_info",
    "adjusted_rand",
    "algorithms",
    "align",
    "analyze",
    "block_counts",
    "block_counts_windows",
    "block_stats",
    "consensus_score",
    "contingency",
    "default_spec",
    "detectable_clusters",
    "encode_labels",
    "estimate_omega",
    "expected_block_totals",
    "fit_spec",
    "from_log",
    "generate",
    "intensity",
    "load",
    "load_spec",
    "normalized_mutual_info",
    "oracle_labels",
    "planted_spec",
    "read_log",
    "recovery_sweep",
    "relation_recovery",
    "run_study",
    "sample_events",
    "sample_purchases",
    "save",
    "score_labels",
    "select_k",
    "snr",
    "snr_matrix",
    "soft_block_counts",
]


def test_expected_list_is_sorted_and_unique():
    assert EXPECTED_ALL == sorted(set(EXPECTED_ALL))


def test_all_is_sorted():
    assert list(fastbip.__all__) == sorted(fastbip.__all__)


def test_all_is_the_frozen_list():
    assert list(fastbip.__all__) == EXPECTED_ALL


@pytest.mark.parametrize("name", sorted({*EXPECTED_ALL, *fastbip.__all__}))
def test_every_name_resolves(name):
    assert getattr(fastbip, name) is not None


def test_dir_lists_every_name():
    assert set(fastbip.__all__) <= set(dir(fastbip))


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="module 'fastbip' has no attribute 'no_such_name'"):
        fastbip.no_such_name  # noqa: B018
