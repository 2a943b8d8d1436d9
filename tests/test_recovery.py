"""The recovery sweep over the planted family (fastbip.study.sweep), and the deprecated
fastbip.recovery shim."""

import json
import math

import numpy as np
import pytest

from fastbip import algorithms
from fastbip.study import COLUMNS, Results, recovery_sweep


@pytest.fixture(scope="module")
def sweep():
    return recovery_sweep(
        800,
        400,
        3,
        3,
        12.0,
        mixings=[0.0, 0.95],
        seeds=[0, 1],
        algorithms=["svd-kmeans", "spectral-cocluster"],
    )


def _algorithm_rows(res):
    return [r for r in res if r["algorithm"] != "oracle"]


def test_one_row_per_mixing_seed_algorithm_side(sweep):
    assert isinstance(sweep, Results)
    rows = _algorithm_rows(sweep)
    assert len(rows) == 2 * 2 * 2 * 2
    assert len(sweep) == len(rows) + 2 * 2 * 2  # the oracle's rows per dataset and side
    assert all(set(r) == set(COLUMNS) for r in sweep)
    keys = {(r["mixing"], r["seed"], r["algorithm"], r["side"]) for r in sweep}
    assert len(keys) == 16 + 8
    assert all(r["error"] is None for r in sweep)
    assert all(r["k_asked"] == 3 and r["n_unassigned"] == 0 for r in sweep)


def test_difficulty_knob_lowers_snr_and_scores(sweep):
    snr = {m: np.median([r["snr"] for r in sweep if r["mixing"] == m]) for m in (0.0, 0.95)}
    assert snr[0.0] > 1.0 > snr[0.95]

    def med(m, key):
        return np.median(
            [r[key] for r in sweep if r["mixing"] == m and r["algorithm"] == "svd-kmeans"]
        )

    assert med(0.0, "ari") >= 0.5
    assert med(0.95, "ari") < 0.1  # below the detection threshold
    assert med(0.0, "relation") > med(0.95, "relation")
    # the oracle knows the parameters: it is at least as good as the algorithm (up to noise)
    assert med(0.0, "oracle_ari") >= med(0.0, "ari") - 0.05
    assert all(r["seconds"] >= 0 and r["k_found"] >= 1 for r in sweep)


def test_same_seeds_same_scores(sweep):
    again = recovery_sweep(
        800, 400, 3, 3, 12.0, mixings=[0.0], seeds=[1], algorithms=["svd-kmeans"]
    )
    first = [
        r for r in sweep if r["mixing"] == 0.0 and r["seed"] == 1 and r["algorithm"] == "svd-kmeans"
    ]
    again = _algorithm_rows(again)
    assert [r["ari"] for r in again] == [r["ari"] for r in first]
    assert [r["snr"] for r in again] == [r["snr"] for r in first]


def test_format_table_gives_medians():
    rows = []
    for seed, ari in enumerate([0.1, 0.5, 0.9]):
        rows.append(
            {
                "mixing": 0.5,
                "seed": seed,
                "snr": 2.0,
                "algorithm": "a",
                "side": "people",
                "k_found": 3,
                "ari": ari,
                "ami": 0.2,
                "nmi": 0.3,
                "relation": 0.4,
                "seconds": 1.0,
                "oracle_ari": 1.0,
                "error": None,
            }
        )
    text = Results.from_rows(rows).table()
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["mixing", "SNR", "algorithm", "side"]
    cells = lines[2].split()
    assert cells[:5] == ["0.50", "2.00", "a", "people", "3"]
    assert cells[6] == "0.500"  # median ARI
    assert cells[11] == "0.50"  # ARI / oracle


def test_format_table_of_a_real_sweep(sweep):
    text = sweep.table()
    assert len(text.splitlines()) == 2 + 3 * 2 * 2  # oracle and two algorithms
    assert "svd-kmeans" in text and "spectral-cocluster" in text


def test_a_failing_algorithm_is_recorded_not_fatal():
    class Broken:
        def __init__(self, n_row_clusters=2, n_col_clusters=2, random_state=None):
            self.n_row_clusters = n_row_clusters
            self.n_col_clusters = n_col_clusters
            self.random_state = random_state

        def get_params(self, deep=False):
            return {
                "n_row_clusters": self.n_row_clusters,
                "n_col_clusters": self.n_col_clusters,
                "random_state": self.random_state,
            }

        def set_params(self, **p):
            self.__dict__.update(p)
            return self

        def fit(self, M):
            raise RuntimeError("cannot fit")

    algorithms.register("broken-for-test", Broken, "purchases", "d", "c", "w")
    try:
        rows = recovery_sweep(
            300,
            200,
            2,
            2,
            10.0,
            mixings=[0.0],
            seeds=[0],
            algorithms=["broken-for-test", "svd-kmeans"],
            oracle=False,
        )
    finally:
        algorithms.unregister("broken-for-test")
    broken = [r for r in rows if r["algorithm"] == "broken-for-test"]
    assert len(broken) == 2
    assert all(math.isnan(r["ari"]) and "RuntimeError: cannot fit" in r["error"] for r in broken)
    assert all(math.isnan(r["oracle_ari"]) for r in rows)
    assert all(not math.isnan(r["ari"]) for r in rows if r["algorithm"] == "svd-kmeans")
    assert "error: broken-for-test" in rows.table()
    assert rows.failures == {"broken-for-test": "RuntimeError: cannot fit"}
    parsed = json.loads(rows.to_json())
    assert parsed["rows"][0]["ari"] is None


def test_features_and_joint_algorithms():
    rows = recovery_sweep(
        400,
        200,
        2,
        2,
        8.0,
        mixings=[0.0],
        seeds=[0],
        algorithms=["kmeans", "joint-svd-kmeans"],
        features=True,
        oracle=False,
    )
    assert {(r["algorithm"], r["side"]) for r in rows} == {
        ("kmeans", "people"),
        ("kmeans", "items"),
        ("joint-svd-kmeans", "people"),
        ("joint-svd-kmeans", "items"),
    }
    assert all(r["error"] is None for r in rows)


def test_progress_callback_sees_every_row():
    seen = []
    rows = recovery_sweep(
        300,
        200,
        2,
        2,
        10.0,
        mixings=[0.0],
        seeds=[0],
        algorithms=["svd-kmeans"],
        oracle=False,
        progress=seen.append,
    )
    assert seen == rows.rows


def _sweep(**kw):
    args = {"mixings": [0.0], "seeds": [0], **kw}
    return recovery_sweep(100, 100, 2, 2, 5.0, **args)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda: _sweep(mixings=[0.0, 1.5]),
            ValueError,
            r"mixings\[1\] must be in \[0, 1\]; got 1.5",
        ),
        (lambda: _sweep(seeds=[]), ValueError, "seeds must be a non-empty list of integers"),
        (lambda: _sweep(seeds=[-1]), ValueError, r"seeds\[0\] must be >= 0; got -1"),
        (lambda: _sweep(seeds=[0.5]), TypeError, r"seeds\[0\] must be an integer; got 0.5"),
        (lambda: _sweep(mixings=0.5), TypeError, "mixings must be a list of numbers in"),
        (lambda: _sweep(mixings=["low"]), TypeError, r"mixings\[0\] must be a number; got 'low'"),
        (lambda: _sweep(algorithms="svd-kmeans"), TypeError, "algorithms must be a list of"),
        (
            lambda: _sweep(algorithms=["nope"]),
            ValueError,
            r"unknown algorithm 'nope'; known algorithms",
        ),
        (lambda: _sweep(algorithms=[3]), TypeError, r"algorithms\[0\] must be a registry name"),
    ],
)
def test_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_an_estimator_instance_is_fitted_like_a_name():
    from fastbip.algorithms.cocluster import SVDKMeans

    by_name = recovery_sweep(300, 200, 2, 2, 10.0, [0.0], [0], ["svd-kmeans"], oracle=False)
    by_obj = recovery_sweep(300, 200, 2, 2, 10.0, [0.0], [0], [SVDKMeans()], oracle=False)
    assert [r["algorithm"] for r in by_obj] == ["SVDKMeans", "SVDKMeans"]
    assert [r["ari"] for r in by_obj] == [r["ari"] for r in by_name]
    assert by_obj.entries[0].labels is None  # not kept without keep_fits
    kept = recovery_sweep(300, 200, 2, 2, 10.0, [0.0], [0], [SVDKMeans], keep_fits=True)
    e = kept.entry("SVDKMeans", "people", mixing=0.0, seed=0)
    assert e.labels.shape == (300,) and e.estimator.n_row_clusters == 2


def test_the_deprecated_module_still_works():
    import fastbip.recovery as old

    with pytest.warns(DeprecationWarning, match="fastbip.recovery.recovery_sweep is deprecated"):
        sweep = old.recovery_sweep
    with pytest.warns(DeprecationWarning, match="use fastbip.study.COLUMNS"):
        assert old.COLUMNS == COLUMNS
    rows = [r for r in sweep(300, 200, 2, 2, 10.0, [0.0], [0], ["svd-kmeans"], oracle=False)]
    with pytest.warns(DeprecationWarning, match="the row key 'relation_recovery' is deprecated"):
        assert rows[0]["relation_recovery"] == rows[0]["relation"]
    with pytest.warns(DeprecationWarning, match="use Results.table"):
        assert "svd-kmeans" in old.format_table(rows)
    with pytest.warns(DeprecationWarning, match="use Results.to_json"):
        listed = json.loads(old.rows_to_json(rows))
    assert [r["ari"] for r in listed] == [r["ari"] for r in rows]
    # the rows written by earlier releases (a JSON list, relation_recovery) read back
    legacy = [{**r, "relation_recovery": r["relation"]} for r in listed]
    for r in legacy:
        del r["relation"]
    back = Results.from_json(json.dumps(legacy))
    assert [r["relation"] for r in back] == [r["relation"] for r in rows]


def test_a_sweep_takes_a_dict_and_module_class_strings():
    from tests._fake import Est

    res = recovery_sweep(
        300,
        200,
        2,
        2,
        10.0,
        [0.0],
        [0],
        {"mine": Est(), "str": "tests._fake:Est", "svd-kmeans": None},
        oracle=False,
    )
    assert [e.algorithm for e in res.entries] == ["mine", "mine", "str", "str"] + ["svd-kmeans"] * 2
    assert [r["ari"] for r in res if r["algorithm"] == "mine"] == [
        r["ari"] for r in res if r["algorithm"] == "str"
    ]
    broken = recovery_sweep(300, 200, 2, 2, 10.0, [0.0], [0], ["tests._fake:NoColumns"])
    assert broken.failures == {
        "NoColumns": "AttributeError: NoColumns.fit did not set column_labels_ (a co-clusterer "
        "sets row_labels_ for the people and column_labels_ for the items)"
    }
    assert "error: NoColumns (mixing 0.0, seed 0): AttributeError" in broken.table()
