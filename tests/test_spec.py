import copy
import json
import warnings

import numpy as np
import pytest

from fastbip.generate.events import intensity
from fastbip.spec import (
    MODELS,
    Peak,
    RelationSpec,
    Seasonal,
    Spec,
    SpecError,
    TimeProfile,
    default_spec,
    load_spec,
    planted_spec,
)
from fastbip.spec import model as spec_model

_BASE = default_spec(n_people=300, n_items=100, seed=3).to_dict()


@pytest.fixture
def base():
    return copy.deepcopy(_BASE)


def test_default_spec_is_the_built_in_study():
    s = default_spec()
    assert 3 <= s.people.k <= 5 and 3 <= s.items.k <= 4
    assert [f.name for f in s.people.features] == ["age", "postcode", "income", "something"]
    assert {"price", "category"} <= {f.name for f in s.items.features}
    w = np.array(s.relation.rates)
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
    assert Spec.from_dict(s.to_dict()).to_dict() == s.to_dict()


def test_planted_spec_family():
    s = planted_spec(1000, 200, 5, 3, mean_purchases=7, mixing=0.25, seed=1, ratio=4.0)
    w = np.array(s.relation.rates)
    assert w.shape == (5, 3)
    assert w[0, 0] == 4.0 and w[3, 0] == 4.0 and w[0, 1] == 1.0
    assert s.relation.mixing == 0.25 and s.relation.mean_purchases == 7
    assert s.people.features == () and s.seed == 1
    f = planted_spec(100, 50, 2, 2, features=True)
    assert [x.name for x in f.people.features] == ["x", "tag"]


def test_with_changes_and_revalidates():
    s = default_spec().with_(n_people=50, seed=4, mixing=0.5)
    assert s.people.n == 50 and s.seed == 4 and s.relation.mixing == 0.5


def test_one_list_of_models():
    assert MODELS == ("poisson", "bernoulli", "exact")
    import fastbip.generate.purchases

    assert fastbip.generate.purchases.MODELS is spec_model.MODELS


# --------------------------------------------------------------------------- typed time profile


def test_profiles_are_typed():
    t = default_spec().time
    assert all(isinstance(p, TimeProfile) for p in t.profiles)
    assert t.profiles[1].peaks == (Peak(330.0, 12.0, 3.0),)
    assert t.profiles[2].seasonal == (Seasonal(182.5, 0.8, 90.0),)
    assert t.profiles[0] == TimeProfile(base=1.0, trend=0.1)


def test_profile_to_dict_keeps_the_file_shape():
    p = default_spec().time.profiles[1]
    assert p.to_dict() == {
        "base": 0.6,
        "trend": 0.0,
        "peaks": [{"center": 330.0, "width": 12.0, "height": 3.0}],
        "seasonal": [],
    }
    q = default_spec().time.profiles[2].to_dict()
    assert q["seasonal"] == [{"period": 182.5, "amplitude": 0.8, "phase": 90.0}]


def test_profile_built_in_python_converts_tables_and_numbers():
    p = TimeProfile(
        base=2,
        peaks=[{"center": 1, "width": 2, "height": 3}],
        seasonal=[{"period": 7, "amplitude": 1}],
    )
    assert p.base == 2.0 and isinstance(p.base, float)
    assert p.peaks == (Peak(1.0, 2.0, 3.0),) and isinstance(p.peaks, tuple)
    assert p.seasonal == (Seasonal(7.0, 1.0, 0.0),)
    assert TimeProfile.from_dict(p.to_dict(), "p") == p


def test_intensity_takes_a_profile_or_its_dict():
    t = np.linspace(0.0, 365.0, 101)
    for p in default_spec().time.profiles:
        np.testing.assert_array_equal(
            intensity(t, p, 0.0, 365.0), intensity(t, p.to_dict(), 0.0, 365.0)
        )


def test_profile_item_access_is_deprecated():
    p = default_spec().time.profiles[1]
    with pytest.warns(DeprecationWarning, match=r"profile\['peaks'\] is deprecated"):
        assert p["peaks"] == [{"center": 330.0, "width": 12.0, "height": 3.0}]


# --------------------------------------------------------------------------- rates / omega


def test_rates_is_written_and_omega_is_read(base):
    assert "rates" in base["relation"] and "omega" not in base["relation"]
    old = copy.deepcopy(base)
    old["relation"] = {("omega" if k == "rates" else k): v for k, v in base["relation"].items()}
    assert Spec.from_dict(old) == Spec.from_dict(base)
    assert Spec.from_dict(old).to_dict() == base


def test_old_omega_file_loads(tmp_path, base):
    base["relation"]["omega"] = base["relation"].pop("rates")
    (tmp_path / "old.json").write_text(json.dumps(base))
    assert load_spec(tmp_path / "old.json") == default_spec(n_people=300, n_items=100, seed=3)


def test_omega_attribute_is_a_deprecated_alias():
    r = default_spec().relation
    with pytest.warns(DeprecationWarning, match=r"RelationSpec.omega is deprecated"):
        assert r.omega == r.rates


def test_omega_keyword_is_a_deprecated_alias():
    rates = ((1.0, 2.0), (3.0, 4.0))
    with pytest.warns(DeprecationWarning, match=r"RelationSpec\(omega=...\) is deprecated"):
        r = RelationSpec(omega=rates, mixing=0.5)
    assert r == RelationSpec(rates, mixing=0.5)


def test_rates_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = RelationSpec(((1.0,),))
        assert r.rates == ((1.0,),)
        default_spec().to_dict()


# --------------------------------------------------------------------------- errors


def _with(path, value):
    """Spec.from_dict of the base spec with the field at ``path`` set to ``value``."""
    d = copy.deepcopy(_BASE)
    cur = d
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value
    return Spec.from_dict(d)


def _without(path):
    """Spec.from_dict of the base spec without the field at ``path``."""
    d = copy.deepcopy(_BASE)
    cur = d
    for p in path[:-1]:
        cur = cur[p]
    del cur[path[-1]]
    return Spec.from_dict(d)


def _old_rates(value):
    """Spec.from_dict of the base spec with its rates under the old key ``omega``."""
    d = copy.deepcopy(_BASE)
    del d["relation"]["rates"]
    d["relation"]["omega"] = value
    return Spec.from_dict(d)


def _load(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return load_spec(p)


_CORR_NOT_PSD = [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]
_RATES = _BASE["relation"]["rates"]

ERRORS = [
    # (call(tmp_path), exception, message)
    pytest.param(
        lambda _: _with(("people", "clusters", 2, "share"), -0.1),
        SpecError,
        r"people.clusters\[2\].share must be > 0; got -0.1",
        id="share",
    ),
    pytest.param(
        lambda _: _with(("people", "n"), 0), SpecError, r"people.n must be >= 1; got 0", id="n"
    ),
    pytest.param(
        lambda _: _with(("people", "n"), "many"),
        SpecError,
        r"people.n must be an integer; got 'many'",
        id="n-type",
    ),
    pytest.param(
        lambda _: _with(("items", "clusters", 0, "features", "price", "dist"), "gamma"),
        SpecError,
        r"items.clusters\[0\].features.price.dist must be one of",
        id="dist",
    ),
    pytest.param(
        lambda _: _with(("people", "clusters", 0, "features", "age", "sd"), -1),
        SpecError,
        r"people.clusters\[0\].features.age.sd must be >= 0; got -1",
        id="sd",
    ),
    pytest.param(
        lambda _: _with(("people", "clusters", 1, "features", "postcode", "probs"), [0.5, 0.5]),
        SpecError,
        r"people.clusters\[1\].features.postcode.probs must have one entry per category \(8\)",
        id="probs-length",
    ),
    pytest.param(
        lambda _: _with(("people", "clusters", 1, "features", "postcode", "probs"), [0.5] * 8),
        SpecError,
        r"people.clusters\[1\].features.postcode.probs must sum to 1; got 4.0",
        id="probs-sum",
    ),
    pytest.param(
        lambda _: _with(("people", "clusters", 0, "correlation"), _CORR_NOT_PSD),
        SpecError,
        r"people.clusters\[0\].correlation must be positive semi-definite",
        id="correlation-psd",
    ),
    pytest.param(
        lambda _: _with(("people", "clusters", 0, "correlation"), [[1, 0.5], [0.5, 1]]),
        SpecError,
        r"people.clusters\[0\].correlation must have shape \(3, 3\); got \(2, 2\)",
        id="correlation-shape",
    ),
    pytest.param(
        lambda _: _with(
            ("people", "clusters", 0, "correlation"), [[1, 0.5, 0], [0.1, 1, 0], [0, 0, 1]]
        ),
        SpecError,
        r"people.clusters\[0\].correlation must be symmetric",
        id="correlation-symmetric",
    ),
    pytest.param(
        lambda _: _with(("relation", "rates"), [[1, 2], [3, 4]]),
        SpecError,
        r"relation.rates must have shape \(4, 4\)",
        id="rates-shape",
    ),
    pytest.param(
        lambda _: _with(("relation", "rates", 1, 2), -3.0),
        SpecError,
        r"relation.rates\[1\]\[2\] must be >= 0; got -3.0",
        id="rates-entry",
    ),
    pytest.param(
        lambda _: _with(("relation", "rates"), [[0.0] * 4] * 4),
        SpecError,
        r"relation.rates must have at least one entry > 0",
        id="rates-zero",
    ),
    pytest.param(
        lambda _: _old_rates([[1, 2], [3, 4]]),
        SpecError,
        r"relation.omega must have shape \(4, 4\)",
        id="old-omega-shape",
    ),
    pytest.param(
        lambda _: _old_rates([[1.0] * 4, [1.0] * 4, [1.0, 1.0, -3.0, 1.0], [1.0] * 4]),
        SpecError,
        r"relation.omega\[2\]\[2\] must be >= 0; got -3.0",
        id="old-omega-entry",
    ),
    pytest.param(
        lambda _: _with(("relation", "omega"), _RATES),
        SpecError,
        r"relation has both rates and omega \(the old name of rates\); give only rates",
        id="rates-and-omega",
    ),
    pytest.param(
        lambda _: _with(("relation", "mean_purchases"), 0),
        SpecError,
        r"relation.mean_purchases must be > 0; got 0",
        id="mean_purchases",
    ),
    pytest.param(
        lambda _: _with(("relation", "model"), "gauss"),
        SpecError,
        r"relation.model must be one of \['poisson', 'bernoulli'",
        id="model",
    ),
    pytest.param(
        lambda _: _with(("relation", "activity"), {"dist": "pareto", "alpha": -2}),
        SpecError,
        r"relation.activity.alpha must be > 0; got -2",
        id="activity",
    ),
    pytest.param(
        lambda _: _with(
            ("relation", "affinity"),
            [{"people_feature": "postcode", "item_feature": "price", "scale": 1}],
        ),
        SpecError,
        r"relation.affinity\[0\].people_feature must name a numeric people feature",
        id="affinity",
    ),
    pytest.param(
        lambda _: default_spec().with_(mixing=2.0),
        SpecError,
        r"relation.mixing must be in \[0, 1\]; got 2.0",
        id="with-mixing",
    ),
    pytest.param(
        lambda _: _with(("time", "end"), -5.0),
        SpecError,
        r"time.end must be > time.start = 0.0; got -5.0",
        id="time-end",
    ),
    pytest.param(
        lambda _: _with(("time", "profiles"), [{"base": 1}]),
        SpecError,
        r"time.profiles must have one profile per item-cluster \(4\); got 1",
        id="profiles-count",
    ),
    pytest.param(
        lambda _: _with(("time", "profiles", 1, "peaks", 0, "width"), 0),
        SpecError,
        r"time.profiles\[1\].peaks\[0\].width must be > 0; got 0",
        id="peak-width",
    ),
    pytest.param(
        lambda _: _with(("time", "profiles", 1, "peaks", 0, "colour"), "red"),
        SpecError,
        r"time.profiles\[1\].peaks\[0\] has unknown field\(s\) \['colour'\]",
        id="peak-unknown",
    ),
    pytest.param(
        lambda _: _with(("time", "profiles", 2, "seasonal", 0, "period"), -1),
        SpecError,
        r"time.profiles\[2\].seasonal\[0\].period must be > 0; got -1",
        id="seasonal-period",
    ),
    pytest.param(
        lambda _: _with(("time", "profiles", 0, "trend"), -2),
        SpecError,
        r"time.profiles\[0\].trend must be >= -1 \(the base rate may not become negative\)",
        id="trend",
    ),
    pytest.param(
        lambda _: _with(("time", "profiles", 0), {"base": 0}),
        SpecError,
        r"time.profiles\[0\] has zero intensity everywhere",
        id="zero-intensity",
    ),
    pytest.param(
        lambda _: _with(("seed",), -1), SpecError, r"seed must be >= 0; got -1", id="seed"
    ),
    pytest.param(
        lambda _: _without(("relation", "rates")),
        SpecError,
        r"relation.rates is required",
        id="rates-missing",
    ),
    pytest.param(
        lambda _: _with(("people", "clusters", 0, "colour"), "red"),
        SpecError,
        r"people.clusters\[0\] has unknown field\(s\) \['colour'\]",
        id="unknown-field",
    ),
    pytest.param(
        lambda _: _without(("people", "clusters", 3, "features", "income")),
        SpecError,
        r"people.clusters\[3\].features is missing a distribution for \['income'\]",
        id="missing-distribution",
    ),
    # typed profiles built in Python
    pytest.param(
        lambda _: TimeProfile(base=-1),
        SpecError,
        r"TimeProfile.base must be >= 0; got -1.0",
        id="TimeProfile-base",
    ),
    pytest.param(
        lambda _: TimeProfile(base=0.0),
        SpecError,
        r"TimeProfile has zero intensity everywhere",
        id="TimeProfile-zero",
    ),
    pytest.param(
        lambda _: TimeProfile(peaks=[{"center": 1.0, "width": 1.0}]),
        SpecError,
        r"TimeProfile.peaks\[0\].height is required",
        id="TimeProfile-peak-table",
    ),
    pytest.param(
        lambda _: Peak(0.0, 0.0, 1.0), SpecError, r"Peak.width must be > 0; got 0.0", id="Peak"
    ),
    pytest.param(
        lambda _: Seasonal(7.0, -1.0),
        SpecError,
        r"Seasonal.amplitude must be >= 0; got -1.0",
        id="Seasonal",
    ),
    pytest.param(
        lambda _: RelationSpec(((1.0,),), omega=((1.0,),)),
        TypeError,
        r"RelationSpec got both rates and its deprecated name omega",
        id="RelationSpec-both",
    ),
    pytest.param(
        lambda _: RelationSpec(),
        TypeError,
        r"RelationSpec needs rates",
        id="RelationSpec-none",
    ),
    # files
    pytest.param(
        lambda tmp: load_spec(tmp / "nope.toml"),
        FileNotFoundError,
        r"spec file '.*nope.toml' does not exist",
        id="load-missing",
    ),
    pytest.param(
        lambda tmp: _load(tmp, "s.yaml", "x"),
        SpecError,
        r"must end in .toml or .json; got '.yaml'",
        id="load-suffix",
    ),
    pytest.param(
        lambda tmp: _load(tmp, "s.json", "{not json"),
        SpecError,
        r"is not valid JSON",
        id="load-json",
    ),
    pytest.param(
        lambda tmp: _load(tmp, "s.toml", "x = = 1"),
        SpecError,
        r"is not valid TOML",
        id="load-toml",
    ),
    pytest.param(
        lambda tmp: _load(tmp, "s.json", json.dumps({"people": {}})),
        SpecError,
        r"people.n is required",
        id="load-field",
    ),
    # planted family
    pytest.param(
        lambda _: planted_spec(100, 100, 0, 2),
        SpecError,
        r"k_people must be a positive integer; got 0",
        id="planted-k",
    ),
    pytest.param(
        lambda _: planted_spec(100, 100, 2, 2, ratio=-1),
        SpecError,
        r"ratio must be > 0; got -1",
        id="planted-ratio",
    ),
]


@pytest.mark.parametrize("call, exc, match", ERRORS)
def test_errors(tmp_path, call, exc, match):
    with pytest.raises(exc, match=match):
        call(tmp_path)


def test_the_format_page_examples_are_one_valid_spec():
    import re
    import tomllib
    from pathlib import Path

    page = (Path(__file__).parent.parent / "docs" / "spec-format.md").read_text()
    toml_text = re.search(r"```toml\n(.*?)```", page, re.S).group(1)
    json_text = re.search(r"```json\n(.*?)```", page, re.S).group(1)
    s = Spec.from_dict(tomllib.loads(toml_text))
    assert Spec.from_dict(json.loads(json_text)) == s
    assert s.relation.rates == ((4.0, 1.0), (0.5, 3.0))
    assert s.time.profiles[0].peaks == (Peak(340.0, 10.0, 3.0),)
