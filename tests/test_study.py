"""The one runner (fastbip.study._fit) and the one results type (fastbip.study.Results)."""

import json
import math
import sys

import numpy as np
import pytest

import fastbip
from fastbip.generate import generate
from fastbip.spec import planted_spec
from fastbip.study import COLUMNS, Entry, Results, recovery_sweep, run_study
from fastbip.study._fit import fit_algorithm


@pytest.fixture(scope="module")
def ds():
    return generate(planted_spec(300, 150, 2, 3, mean_purchases=15, ratio=10.0, seed=1))


class Broken:
    """A co-clusterer that fails, without scikit-learn's BaseEstimator."""

    def __init__(self, n_row_clusters=2, n_col_clusters=2, random_state=None):
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters
        self.random_state = random_state

    def fit(self, M):
        raise RuntimeError("cannot fit")


class HalfUnassigned:
    """A co-clusterer that labels every third person -1 and the items by a fixed rule."""

    def __init__(self, n_row_clusters=2, n_col_clusters=2, random_state=None):
        self.n_row_clusters = n_row_clusters
        self.n_col_clusters = n_col_clusters
        self.random_state = random_state

    def fit(self, M):
        n, m = M.shape
        rows = np.arange(n) % self.n_row_clusters
        rows[::3] = -1
        self.row_labels_ = rows
        self.column_labels_ = np.arange(m) % self.n_col_clusters
        return self


def test_the_columns(ds):
    res = run_study(ds, algorithms=["svd-kmeans"])
    assert isinstance(res, Results)
    assert all(tuple(r) == COLUMNS for r in res.rows)
    assert res.to_frame().columns.tolist() == list(COLUMNS)
    e = res.entry("svd-kmeans", "items")
    assert (e.k_asked, e.k_found, e.n_unassigned, e.error) == (3, 3, 0, None)
    assert e.labels.shape == (150,) and e.estimator.n_col_clusters == 3
    assert e.mixing is None and e.seed is None and e.snr == res.snr
    assert e.oracle_ari == res.entry("oracle", "items").ari


def test_k_found_excludes_unassigned_and_n_unassigned_counts_them(ds):
    res = run_study(ds, algorithms=[HalfUnassigned], oracle=False)
    people = res.entry("HalfUnassigned", "people")
    assert people.k_found == 2  # -1 is not a cluster
    assert people.n_unassigned == 100
    assert res.entry("HalfUnassigned", "items").n_unassigned == 0
    assert math.isnan(people.oracle_ari)


def test_a_failing_algorithm_is_a_row_with_its_error(ds):
    res = run_study(ds, algorithms=[Broken(), "svd-kmeans"])
    broken = [r for r in res if r["algorithm"] == "Broken"]
    assert [r["side"] for r in broken] == ["people", "items"]
    for r in broken:
        assert r["error"] == "RuntimeError: cannot fit"
        assert all(math.isnan(r[c]) for c in ("ari", "ami", "nmi", "relation", "seconds"))
        assert r["k_found"] == 0 and r["k_asked"] in (2, 3)
    assert res.failures == {"Broken": "RuntimeError: cannot fit"}
    assert "Broken failed: RuntimeError: cannot fit" in res.table()
    assert all(r["error"] is None for r in res if r["algorithm"] != "Broken")


def test_fit_never_raises_and_a_features_algorithm_without_features_says_so(ds):
    fits = fit_algorithm("kmeans", "kmeans", "features", ds, 2, 3, 0)
    assert [f.side for f in fits] == ["people", "items"]
    assert all(f.labels is None and "no features on either side" in f.error for f in fits)


def test_json_round_trip_with_nan(ds):
    res = run_study(ds, algorithms=[Broken, "svd-kmeans"])
    text = res.to_json()
    d = json.loads(text)  # strict JSON: NaN written as null
    assert "NaN" not in text and d["rows"][2]["ari"] is None
    assert d["columns"] == list(COLUMNS) and d["failures"] == {"Broken": "RuntimeError: cannot fit"}
    back = Results.from_json(text)
    assert back.snr == res.snr and back.summary == res.summary
    for a, b in zip(back.rows, res.rows, strict=True):
        assert a.keys() == b.keys()
        for k in COLUMNS:
            if isinstance(b[k], float) and math.isnan(b[k]):
                assert math.isnan(a[k]), k
            else:
                assert a[k] == b[k], k
    assert back.entries[0].labels is None
    inf = Results([Entry("a", "people", ari=float("inf"), snr=float("-inf"))], snr=float("nan"))
    assert json.loads(inf.to_json())["snr"] is None
    assert json.loads(inf.to_json())["rows"][0]["ari"] is None


def test_run_study_and_recovery_sweep_give_the_same_columns(ds):
    study = run_study(ds, algorithms=["svd-kmeans"])
    sweep = recovery_sweep(300, 150, 2, 3, 15.0, [0.0], [1], ["svd-kmeans"], ratio=10.0)
    assert [tuple(r) for r in study] == [tuple(r) for r in sweep]
    assert study.to_frame().columns.tolist() == sweep.to_frame().columns.tolist()
    # the same planted dataset, the same fit: the same scores
    assert sweep.entry("svd-kmeans", "people").ari == pytest.approx(
        run_study(ds, algorithms=["svd-kmeans"], random_state=1).entry("svd-kmeans", "people").ari
    )


def test_to_frame_names_the_extra_when_pandas_is_missing(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas here")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(
        ImportError, match=r"needs pandas; install it with pip install 'fastbip\[io\]'"
    ):
        Results().to_frame()


def test_deprecated_names(ds):
    import fastbip.study as study

    with pytest.warns(DeprecationWarning, match="fastbip.study.StudyResult is deprecated"):
        assert study.StudyResult is Results
    assert fastbip.Results is Results and fastbip.recovery_sweep is recovery_sweep
    res = run_study(ds, algorithms=["svd-kmeans"], oracle=False)
    with pytest.warns(DeprecationWarning, match="the row key 'k' is deprecated; use 'k_found'"):
        assert res.rows[0]["k"] == 2
    with pytest.warns(DeprecationWarning, match="use Results.table"):
        assert study.format_table(res.rows).splitlines()[0].split()[:3] == [
            "algorithm",
            "side",
            "K",
        ]


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda r: r.entry("nope", "people"), KeyError, "0 entries match algorithm='nope'"),
        (lambda r: r.rows[0]["nope"], KeyError, "nope"),
    ],
)
def test_results_errors(ds, call, exc, match):
    res = run_study(ds, algorithms=["svd-kmeans"], oracle=False)
    with pytest.raises(exc, match=match):
        call(res)


def test_kind_of_a_users_estimator_is_read_from_its_parameters(ds):
    from fastbip.algorithms.features import KMeans
    from fastbip.algorithms.joint import JointSVDKMeans
    from fastbip.study._fit import resolve_algorithms

    kinds = [k for _, _, k in resolve_algorithms([KMeans, KMeans(), JointSVDKMeans, Broken], [])]
    assert kinds == ["features", "features", "joint", "purchases"]
    res = run_study(ds, algorithms=[KMeans], oracle=False)  # no features: rows with the error
    assert len(res) == 2 and res[:1][0]["side"] == "people"
    assert all("no features on either side" in r["error"] for r in res)


# --- users' algorithms: dicts, "module:Class" strings, what an estimator must have --------


def test_a_dict_names_the_rows_and_none_means_the_registry_entry(ds):
    from tests._fake import Est

    res = run_study(
        ds,
        algorithms={"mine": Est(), "dcsbm": None, "cls": Est, "str": "tests._fake:Est"},
        oracle=False,
    )
    assert [e.algorithm for e in res.entries] == [
        n for n in ("mine", "dcsbm", "cls", "str") for _ in range(2)
    ]
    assert res.failures == {}
    # the same estimator given three ways is configured alike (K from the truth) and agrees
    for side, k in (("people", 2), ("items", 3)):
        e = res.entry("mine", side)
        assert e.k_asked == k and e.k_found == k
        assert np.array_equal(e.labels, res.entry("cls", side).labels)
        assert np.array_equal(e.labels, res.entry("str", side).labels)
    assert res.entry("dcsbm", "people").estimator.__class__.__name__ == "DCSBM"


def test_a_list_mixes_names_instances_classes_and_module_class_strings(ds):
    from tests._fake import Est

    res = run_study(ds, algorithms=["svd-kmeans", Est(), "tests._fake:NoColumns"], oracle=False)
    assert [e.algorithm for e in res.entries[::2]] == ["svd-kmeans", "Est", "NoColumns"]
    assert not math.isnan(res.entry("Est", "people").ari)


@pytest.mark.parametrize(
    "algorithms, exc, match",
    [
        (["tests._fake:NoFit"], TypeError, r"algorithms\[0\] must be .* NoFit without fit"),
        ({"mine": object()}, TypeError, r"algorithms\['mine'\] .* object without fit"),
        (["tests._fake:Missing"], ImportError, r"module 'tests._fake' has no 'Missing'"),
        (["no_such_module_xyz:Est"], ImportError, r"cannot import 'no_such_module_xyz'"),
        (["tests._fake:Est:x"], ValueError, r"must look like 'module:Class'"),
        ({"mine": "nope"}, ValueError, "unknown algorithm 'nope'"),
        ({3: "dcsbm"}, TypeError, "keys must be non-empty strings"),
        ({}, ValueError, "non-empty dict"),
    ],
)
def test_what_is_missing_is_named_when_the_algorithms_are_resolved(ds, algorithms, exc, match):
    with pytest.raises(exc, match=match):
        run_study(ds, algorithms=algorithms)


def test_a_fit_that_sets_no_labels_is_a_row_naming_the_missing_attribute(ds):
    res = run_study(ds, algorithms={"half": "tests._fake:NoColumns", "svd": "svd-kmeans"})
    rows = [r for r in res if r["algorithm"] == "half"]
    assert [r["side"] for r in rows] == ["people", "items"]
    msg = "AttributeError: NoColumns.fit did not set column_labels_"
    assert all(r["error"].startswith(msg) and math.isnan(r["ari"]) for r in rows)
    table = res.table()
    assert f"half failed: {msg}" in table
    assert any(line.split()[:2] == ["half", "people"] for line in table.splitlines())


def test_set_n_clusters_is_one_rule_for_the_runner_and_testing():
    import fastbip.testing.asserts as asserts
    from fastbip.study import _fit
    from tests._fake import Est

    assert asserts.set_n_clusters is _fit.set_n_clusters
    est = Est(n_row_clusters=7)
    _fit.set_n_clusters(est, 2, 3, only_unset=True)  # a value the user chose is kept
    assert (est.n_row_clusters, est.n_col_clusters) == (7, 3)
    _fit.set_n_clusters(est, 2, 3)
    assert (est.n_row_clusters, est.n_col_clusters) == (2, 3)


# --- the entry-point group fastbip.algorithms ---------------------------------------------

_FAKE_PKG = '''
import numpy as np


class PkgEst:
    """A co-clusterer from an installed package."""

    def __init__(self, n_row_clusters=2, n_col_clusters=2):
        self.n_row_clusters, self.n_col_clusters = n_row_clusters, n_col_clusters

    def fit(self, M):
        self.row_labels_ = np.arange(M.shape[0]) % self.n_row_clusters
        self.column_labels_ = np.arange(M.shape[1]) % self.n_col_clusters
        return self


class PkgFeatures:
    _fastbip_kind = "features"

    def __init__(self, n_clusters=2):
        self.n_clusters = n_clusters

    def fit(self, X):
        self.labels_ = np.zeros(len(X), dtype=int)
        return self
'''


@pytest.fixture
def fake_distribution(tmp_path, monkeypatch):
    """An installed distribution ``fake_pkg`` with four fastbip.algorithms entry points."""
    from fastbip.algorithms import _registry

    (tmp_path / "fake_pkg").mkdir()
    (tmp_path / "fake_pkg" / "__init__.py").write_text(_FAKE_PKG)
    info = tmp_path / "fake_pkg-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake_pkg\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[fastbip.algorithms]\n"
        "pkg-est = fake_pkg:PkgEst\n"
        "pkg-features = fake_pkg:PkgFeatures\n"
        "pkg-broken = fake_pkg_missing.sub:Nothing\n"
        "dcsbm = fake_pkg:PkgEst\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    _registry._reset_entry_points()
    yield
    _registry._reset_entry_points()
    sys.modules.pop("fake_pkg", None)


def test_an_installed_packages_estimators_are_registered_lazily(fake_distribution, capsys):
    from fastbip.algorithms import _registry

    with pytest.warns(RuntimeWarning, match=r"dcsbm = 'fake_pkg:PkgEst' of fake_pkg is skipped"):
        all_names = fastbip.algorithms.names(available_only=False)
    assert {"pkg-est", "pkg-features", "pkg-broken"} <= set(all_names)
    assert "fake_pkg" not in sys.modules  # registered as "module:Class", not imported
    assert _registry.info("dcsbm").target == "fastbip.algorithms.dcsbm:DCSBM"  # built-in kept
    est = fastbip.algorithms.info("pkg-est")
    assert (est.kind, est.target, est.available) == ("purchases", "fake_pkg:PkgEst", True)
    assert est.description.startswith("A co-clusterer from an installed package.")
    assert fastbip.algorithms.info("pkg-features").kind == "features"  # from _fastbip_kind
    broken = fastbip.algorithms.info("pkg-broken")
    assert not broken.available
    assert "cannot be imported: ModuleNotFoundError" in broken.unavailable_reason
    assert "pkg-broken" not in fastbip.algorithms.names()
    assert "pkg-features" in fastbip.algorithms.names("features")
    assert "pkg-est" not in fastbip.algorithms.names("features")

    from fastbip.cli import main

    assert main(["algorithms"]) == 0
    out = capsys.readouterr().out
    assert "pkg-est" in out and "unavailable: the entry point pkg-broken" in out


def test_an_entry_point_runs_in_a_study_by_its_name(fake_distribution, ds):
    with pytest.warns(RuntimeWarning, match="already a registered algorithm"):
        res = run_study(ds, algorithms=["pkg-est"], oracle=False)
    e = res.entry("pkg-est", "items")
    assert e.error is None and e.k_asked == 3 and e.k_found == 3
    with pytest.raises(ValueError, match="'pkg-broken' is unavailable: the entry point"):
        run_study(ds, algorithms=["pkg-broken"])


def test_slow_algorithms_run_only_when_named():
    from fastbip import algorithms as registry

    assert registry.info("bp").slow
    assert "bp" in registry.names()
    assert "bp" not in registry.names(include_slow=False)
    ds = fastbip.generate(fastbip.planted_spec(300, 100, 2, 2, seed=0))
    default = {e.algorithm for e in fastbip.run_study(ds).entries}
    assert "bp" not in default and "dcsbm" in default
    named = {e.algorithm for e in fastbip.run_study(ds, algorithms=["bp"]).entries}
    assert "bp" in named


def test_relation_recovery_has_its_chance_level_beside_it():
    ds = fastbip.generate(fastbip.default_spec(n_people=600, n_items=200, seed=1))

    class Random:  # random labels with 4 clusters on each side
        def __init__(self, n_row_clusters=None, n_col_clusters=None):
            self.n_row_clusters, self.n_col_clusters = n_row_clusters, n_col_clusters

        def fit(self, M):
            g = np.random.default_rng(7)
            self.row_labels_ = g.integers(0, self.n_row_clusters, M.shape[0])
            self.column_labels_ = g.integers(0, self.n_col_clusters, M.shape[1])
            return self

    res = run_study(ds, algorithms={"random": Random(), "dcsbm": None}, oracle=False)
    rnd, fit = res.entry("random", "people"), res.entry("dcsbm", "people")
    assert "relation_chance" in COLUMNS and "(chance)" in res.table()
    # random labels score their chance level (three permutations, stated tolerance 0.05)
    assert abs(rnd.relation - rnd.relation_chance) < 0.05
    assert 0 < rnd.relation_chance < 1
    assert fit.relation > fit.relation_chance + 0.05
    # the adjusted score: about 0 for random labels, clearly positive for a fit, derived
    # from the two columns, and recomputed (not read back) from JSON
    assert abs(rnd.relation_adjusted) < 0.15
    expected = (fit.relation - fit.relation_chance) / (1 - fit.relation_chance)
    assert fit.relation_adjusted == pytest.approx(expected) and fit.relation_adjusted > 0.1
    assert "adjusted" in res.table() and fit.row()["relation_adjusted"] == fit.relation_adjusted
    back = Results.from_json(res.to_json()).entry("dcsbm", "people")
    assert back.relation_adjusted == pytest.approx(fit.relation_adjusted)
