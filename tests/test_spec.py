import copy
import json

import numpy as np
import pytest

from fastbip.spec import Spec, SpecError, default_spec, load_spec, planted_spec


@pytest.fixture
def base():
    return default_spec(n_people=300, n_items=100, seed=3).to_dict()


def test_default_spec_is_the_built_in_study():
    s = default_spec()
    assert 3 <= s.people.k <= 5 and 3 <= s.items.k <= 4
    assert [f.name for f in s.people.features] == ["age", "postcode", "income", "something"]
    assert {"price", "category"} <= {f.name for f in s.items.features}
    w = np.array(s.relation.omega)
    # not just a diagonal: every row's favourite is not simply its own index
    assert not np.allclose(w - np.diag(np.diag(w)), 0)
    assert np.isclose(s.people.shares.sum(), 1.0)
    assert s.time is not None and len(s.time.profiles) == s.items.k


def test_json_and_toml_round_trip(tmp_path):
    s = default_spec(n_people=1234, seed=9)
    (tmp_path / "s.json").write_text(s.to_json())
    (tmp_path / "s.toml").write_text(s.to_toml())
    assert load_spec(tmp_path / "s.json") == s
    assert load_spec(tmp_path / "s.toml") == s


def test_planted_spec_family():
    s = planted_spec(1000, 200, 5, 3, mean_purchases=7, mixing=0.25, seed=1, ratio=4.0)
    w = np.array(s.relation.omega)
    assert w.shape == (5, 3)
    assert w[0, 0] == 4.0 and w[3, 0] == 4.0 and w[0, 1] == 1.0
    assert s.relation.mixing == 0.25 and s.relation.mean_purchases == 7
    assert s.people.features == () and s.seed == 1
    f = planted_spec(100, 50, 2, 2, features=True)
    assert [x.name for x in f.people.features] == ["x", "tag"]


def test_with_changes_and_revalidates():
    s = default_spec().with_(n_people=50, seed=4, mixing=0.5)
    assert s.people.n == 50 and s.seed == 4 and s.relation.mixing == 0.5
    with pytest.raises(SpecError, match=r"relation.mixing must be in \[0, 1\]; got 2.0"):
        default_spec().with_(mixing=2.0)


def _set(d, path, value):
    cur = d
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value


BAD = [
    (("people", "clusters", 2, "share"), -0.1, r"people.clusters\[2\].share must be > 0; got -0.1"),
    (("people", "n"), 0, r"people.n must be >= 1; got 0"),
    (("people", "n"), "many", r"people.n must be an integer; got 'many'"),
    (
        ("items", "clusters", 0, "features", "price", "dist"),
        "gamma",
        r"items.clusters\[0\].features.price.dist must be one of",
    ),
    (
        ("people", "clusters", 0, "features", "age", "sd"),
        -1,
        r"people.clusters\[0\].features.age.sd must be >= 0; got -1",
    ),
    (
        ("people", "clusters", 1, "features", "postcode", "probs"),
        [0.5, 0.5],
        r"people.clusters\[1\].features.postcode.probs must have one entry per category \(8\)",
    ),
    (
        ("people", "clusters", 1, "features", "postcode", "probs"),
        [0.5] * 8,
        r"people.clusters\[1\].features.postcode.probs must sum to 1; got 4.0",
    ),
    (
        ("people", "clusters", 0, "correlation"),
        [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]],
        r"people.clusters\[0\].correlation must be positive semi-definite",
    ),
    (
        ("people", "clusters", 0, "correlation"),
        [[1, 0.5], [0.5, 1]],
        r"people.clusters\[0\].correlation must have shape \(3, 3\); got \(2, 2\)",
    ),
    (
        ("people", "clusters", 0, "correlation"),
        [[1, 0.5, 0], [0.1, 1, 0], [0, 0, 1]],
        r"people.clusters\[0\].correlation must be symmetric",
    ),
    (("relation", "omega"), [[1, 2], [3, 4]], r"relation.omega must have shape \(4, 4\)"),
    (("relation", "omega", 1, 2), -3.0, r"relation.omega\[1\]\[2\] must be >= 0; got -3.0"),
    (("relation", "mean_purchases"), 0, r"relation.mean_purchases must be > 0; got 0"),
    (("relation", "model"), "gauss", r"relation.model must be one of \['poisson', 'bernoulli'"),
    (
        ("relation", "activity"),
        {"dist": "pareto", "alpha": -2},
        r"relation.activity.alpha must be > 0; got -2",
    ),
    (
        ("relation", "affinity"),
        [{"people_feature": "postcode", "item_feature": "price", "scale": 1}],
        r"relation.affinity\[0\].people_feature must name a numeric people feature",
    ),
    (("time", "end"), -5.0, r"time.end must be > time.start = 0.0; got -5.0"),
    (
        ("time", "profiles"),
        [{"base": 1}],
        r"time.profiles must have one profile per "
        r"item-cluster \(4\); got 1",
    ),
    (
        ("time", "profiles", 1, "peaks", 0, "width"),
        0,
        r"time.profiles\[1\].peaks\[0\].width must be > 0; got 0",
    ),
    (("seed",), -1, r"seed must be >= 0; got -1"),
]


@pytest.mark.parametrize(
    ("path", "value", "match"), BAD, ids=[".".join(map(str, b[0])) for b in BAD]
)
def test_each_bad_field_names_its_path(base, path, value, match):
    d = copy.deepcopy(base)
    _set(d, path, value)
    with pytest.raises(SpecError, match=match):
        Spec.from_dict(d)


def test_missing_and_unknown_fields(base):
    d = copy.deepcopy(base)
    del d["relation"]["omega"]
    with pytest.raises(SpecError, match=r"relation.omega is required"):
        Spec.from_dict(d)
    d = copy.deepcopy(base)
    d["people"]["clusters"][0]["colour"] = "red"
    with pytest.raises(
        SpecError, match=r"people.clusters\[0\] has unknown field\(s\) \['colour'\]"
    ):
        Spec.from_dict(d)
    d = copy.deepcopy(base)
    del d["people"]["clusters"][3]["features"]["income"]
    with pytest.raises(
        SpecError,
        match=r"people.clusters\[3\].features is missing a "
        r"distribution for \['income'\]",
    ):
        Spec.from_dict(d)


def test_load_spec_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_spec(tmp_path / "nope.toml")
    p = tmp_path / "s.yaml"
    p.write_text("x")
    with pytest.raises(SpecError, match=r"must end in .toml or .json; got '.yaml'"):
        load_spec(p)
    p = tmp_path / "s.json"
    p.write_text("{not json")
    with pytest.raises(SpecError, match="is not valid JSON"):
        load_spec(p)
    p.write_text(json.dumps({"people": {}}))
    with pytest.raises(SpecError, match=r"people.n is required"):
        load_spec(p)


def test_planted_spec_rejects_bad_arguments():
    with pytest.raises(SpecError, match=r"k_people must be a positive integer; got 0"):
        planted_spec(100, 100, 0, 2)
    with pytest.raises(SpecError, match=r"ratio must be > 0; got -1"):
        planted_spec(100, 100, 2, 2, ratio=-1)
