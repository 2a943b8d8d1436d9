"""fastbip.analyze on planted data written as a log (CSV and Parquet, with times and a people
and an item table), the command ``fastbip analyze`` end to end, and a small real log.

The planted data: 600 people x 300 items, 3 x 3 clusters with ratio 10 (clear structure),
features ``x`` (mean = cluster index) and ``tag``; item-cluster 1 buys only around day 25
(a narrow peak, nothing later), item-cluster 2 rises over the period.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
import pathlib

import numpy as np
import pytest

import fastbip
from fastbip.spec import Peak, TimeProfile, TimeSpec

analyze_mod = importlib.import_module("fastbip.study.analyze")

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

FAST = {"n_seeds": 2, "n_bootstrap": 2, "algorithms": ["svd-kmeans"], "progress": False}


def _planted():
    spec = fastbip.planted_spec(600, 300, 3, 3, mean_purchases=15, seed=1, features=True)
    time = TimeSpec(
        0.0,
        100.0,
        (TimeProfile(), TimeProfile(base=0.0, peaks=(Peak(25, 4, 1),)), TimeProfile(trend=1.0)),
    )
    return fastbip.generate(dataclasses.replace(spec, time=time))


def _write_log(ds, path: pathlib.Path):
    """The dataset as a purchase log (one line per purchase) with people and item tables."""
    M = ds.purchases
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    cnt = np.diff(ds.events.offsets)
    pid = np.array([f"u{i:04d}" for i in range(M.shape[0])])
    iid = np.array([f"sku{j:03d}" for j in range(M.shape[1])])
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(ds.events.times, unit="D")
    log = pd.DataFrame({"user": pid[np.repeat(rows, cnt)], "sku": iid[np.repeat(M.indices, cnt)]})
    log["ts"] = when
    log = log.sample(frac=1.0, random_state=0)  # a log is in no particular order
    log.to_csv(path / "log.csv", index=False)
    log.to_parquet(path / "log.parquet", index=False)
    people = ds.people.to_frame().drop(columns="labels")
    people.insert(0, "id", pid)
    people.to_csv(path / "people.csv", index=False)
    items = ds.items.to_frame().drop(columns="labels")
    items.insert(0, "id", iid)
    items.to_csv(path / "items.csv", index=False)
    return pid, iid


def _read(path, name):
    return fastbip.read_log(
        path / name,
        person="user",
        item="sku",
        time="ts",
        people=path / "people.csv",
        items=path / "items.csv",
    )


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    path = tmp_path_factory.mktemp("log")
    ds = _planted()
    pid, iid = _write_log(ds, path)
    real = _read(path, "log.csv")
    # the truth, in the order of the log's members
    pos_p = {v: i for i, v in enumerate(pid)}
    pos_i = {v: j for j, v in enumerate(iid)}
    a = ds.truth.people_labels[[pos_p[str(x)] for x in real.people.ids]]
    b = ds.truth.item_labels[[pos_i[str(x)] for x in real.items.ids]]
    res = analyze_mod.analyze(real, k_range=range(2, 5), random_state=0, **FAST)
    return {"path": path, "ds": ds, "real": real, "a": a, "b": b, "res": res}


def _match(true, found):
    """found cluster of each true cluster (the majority)."""
    return {t: int(np.bincount(found[true == t]).argmax()) for t in np.unique(true)}


def test_k_chosen_on_clear_structure(planted):
    k = planted["res"].analysis["k"]
    assert (k["k_people"], k["k_items"]) == (3, 3)
    assert k["at_edge"] == {"people": False, "items": False}
    icl = np.array(k["icl"], dtype=float)
    assert icl.shape == (3, 3) and np.argmax(icl) == np.ravel_multi_index((1, 1), (3, 3))


def test_labels_as_good_as_fitting_the_dataset_directly(planted):
    res, ds = planted["res"], planted["ds"]
    direct = fastbip.DCSBM(3, 3, random_state=0).fit(ds.purchases)
    for side, true, direct_true, direct_lab in (
        ("people", planted["a"], ds.truth.people_labels, direct.row_labels_),
        ("items", planted["b"], ds.truth.item_labels, direct.column_labels_),
    ):
        ari = fastbip.adjusted_rand(true, res.entry("dcsbm", side).labels)
        ari_direct = fastbip.adjusted_rand(direct_true, direct_lab)
        assert ari >= ari_direct - 0.05, (side, ari, ari_direct)
        assert ari > 0.7


def test_parquet_log_gives_the_same_analysis(planted):
    real2 = _read(planted["path"], "log.parquet")
    res2 = analyze_mod.analyze(real2, k_range=range(2, 5), random_state=0, **FAST)
    for side in ("people", "items"):
        np.testing.assert_array_equal(
            res2.entry("dcsbm", side).labels, planted["res"].entry("dcsbm", side).labels
        )
    assert res2.analysis["stability"] == planted["res"].analysis["stability"]


def test_stability_high_on_structure_low_without(planted):
    st = planted["res"].analysis["stability"]
    for side in ("people", "items"):
        assert st[side]["ari_mean"] > 0.75
        assert len(st[side]["ari_seeds"]) == 2 and len(st[side]["ari_bootstrap"]) == 2
        cs = np.array(st[side]["cluster_stability"])
        assert cs.shape == (3,) and np.all((cs > 0.7) & (cs <= 1.0))
    # no structure: the same K, but fits that do not agree with one another
    null = fastbip.generate(fastbip.planted_spec(300, 150, 3, 3, mean_purchases=15, mixing=1.0))
    res = analyze_mod.analyze(null, k_people=3, k_items=3, **{**FAST, "algorithms": []})
    for side in ("people", "items"):
        null_ari = res.analysis["stability"][side]["ari_mean"]
        assert null_ari < 0.5 and st[side]["ari_mean"] > null_ari + 0.4


def test_agreement_between_algorithms(planted):
    res = planted["res"]
    agree = res.analysis["agreement"]["algorithms"]["svd-kmeans"]
    for side in ("people", "items"):
        lab = res.entry("svd-kmeans", side).labels
        expect = fastbip.adjusted_rand(res.entry("dcsbm", side).labels, lab)
        assert agree[side] == pytest.approx(expect)
        assert agree[side] > 0.7


def test_names_say_what_sets_clusters_apart(planted):
    res = planted["res"]
    names = res.analysis["names"]
    mp = _match(planted["a"], res.entry("dcsbm", "people").labels)
    # people-cluster t has feature x ~ N(t, 1): the lowest and the highest stand apart by x
    assert names["people"][mp[0]]["name"].startswith("x -")
    assert names["people"][mp[2]]["name"].startswith("x +")
    mi = _match(planted["b"], res.entry("dcsbm", "items").labels)
    for t in range(3):
        d = names["items"][mi[t]]
        assert d["basis"].startswith("most distinctive categories of tag")
        assert d["name"].startswith(f"B{t} ")  # item-cluster t has tag B{t} with prob 0.6
        ids = set(planted["real"].items.ids[res.entry("dcsbm", "items").labels == mi[t]])
        assert set(d["top_members"]) <= {str(x) for x in ids}


def test_profiles_are_the_clusters_feature_summaries(planted):
    res, real = planted["res"], planted["real"]
    lab = res.entry("dcsbm", "people").labels
    for prof in res.analysis["profiles"]["people"]:
        x = real.people.columns["x"][lab == prof["cluster"]]
        assert prof["size"] == x.size
        assert prof["features"]["x"]["mean"] == pytest.approx(x.mean())
        shares = prof["features"]["tag"]["shares"]
        assert sum(shares.values()) == pytest.approx(1.0)


def test_relations_find_the_planted_pairs(planted):
    res = planted["res"]
    mp = _match(planted["a"], res.entry("dcsbm", "people").labels)
    mi = _match(planted["b"], res.entry("dcsbm", "items").labels)
    over = {
        (c["people_cluster"], c["item_cluster"])
        for c in res.analysis["relations"]["significant_cells"]
        if c["direction"] == "over"
    }
    assert over == {(mp[t], mi[t]) for t in range(3)}


def test_over_time(planted):
    res, real = planted["res"], planted["real"]
    tm = res.analysis["time"]
    W = np.array(tm["counts"])
    assert W.shape == (8, 3, 3) and W.sum() == real.n_purchases
    mi = _match(planted["b"], res.entry("dcsbm", "items").labels)
    partial = {p["cluster"] for p in tm["partial_clusters"]}
    assert f"I{mi[1]}" in partial  # the item-cluster of the day-25 peak
    assert not partial & {f"I{mi[0]}", f"I{mi[2]}"}
    changed = {c["item_cluster"] for c in tm["changes"]}
    assert mi[1] in changed
    assert any(c["item_cluster"] == mi[2] and c["trend"] == "rises" for c in tm["changes"])


def test_results_json_round_trip(planted):
    res = planted["res"]
    text = res.to_json()
    back = fastbip.Results.from_json(text)
    assert back.analysis == json.loads(text)["analysis"]
    assert back.analysis["k"]["k_people"] == 3
    assert [r["algorithm"] for r in back.rows] == [r["algorithm"] for r in res.rows]


def test_range_grows_while_best_k_at_edge(planted, monkeypatch):
    real = planted["real"]
    res = analyze_mod.analyze(
        real, k_range=range(1, 3), n_seeds=0, n_bootstrap=0, algorithms=[], progress=False
    )
    k = res.analysis["k"]
    assert (k["k_people"], k["k_items"]) == (3, 3)
    assert k["grew"]["people"] >= 1 and k["k_people_range"][-1] > 2 and k["notes"]
    assert k["cap"] == {"people": 24, "items": 17}  # floor(sqrt(n)): 600 people, 300 items
    monkeypatch.setattr(analyze_mod, "_k_cap", lambda n: 2)
    with pytest.warns(UserWarning, match=r"largest K of people tried \(2\): the range stopped"):
        res = analyze_mod.analyze(
            real, k_range=[1, 2], k_items=3, n_seeds=0, n_bootstrap=0, algorithms=[], progress=False
        )
    assert res.analysis["k"]["at_edge"]["people"] is True
    assert res.analysis["k"]["k_people_range"] == [1, 2]


@pytest.mark.parametrize(
    "kw, exc, match",
    [
        ({"dataset": "x"}, TypeError, "dataset must be a fastbip Dataset"),
        ({"n_seeds": -1}, ValueError, "n_seeds must be >= 0"),
        ({"k_people": 0}, ValueError, "k_people must be between 1"),
        ({"windows": [3.0, 1.0]}, ValueError, "windows must be"),
        ({"algorithms": ["nope"]}, ValueError, "nope"),
    ],
)
def test_errors(planted, kw, exc, match):
    args = {"dataset": planted["real"], "k_people": 2, "k_items": 2, **FAST, **kw}
    with pytest.raises(exc, match=match):
        analyze_mod.analyze(args.pop("dataset"), **args)


# --------------------------------------------------------------------------- the command


def test_cli_end_to_end(planted, tmp_path, capsys):
    from fastbip.cli import main

    path = planted["path"]
    out = tmp_path / "out"
    argv = ["analyze", str(path / "log.csv"), "--person", "user", "--item", "sku"]
    argv += ["--time", "ts", "--people", str(path / "people.csv"), "--out", str(out)]
    argv += ["--items", str(path / "items.csv")]
    argv += ["--k-people", "3", "--k-items", "3", "--n-seeds", "1", "--n-bootstrap", "1"]
    argv += ["--algorithms", "svd-kmeans", "--twin"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "clusters chosen by ICL: 3 people-clusters x 3 item-clusters" in text
    assert "relations that stand out" in text and "over time" in text
    assert "the planted twin" in text and "best at recovering the people: " in text
    people = pd.read_csv(path / "people.csv")
    for suffix in ("csv", "parquet"):
        lab = getattr(pd, f"read_{suffix}")(out / f"labels_people.{suffix}")
        assert lab["id"].astype(str).tolist() == people["id"].tolist()
        assert set(lab["cluster"]) == {0, 1, 2}
        ari = fastbip.adjusted_rand(planted["a"], lab["cluster"].to_numpy())
        assert ari > 0.7
    items = pd.read_csv(out / "labels_items.csv")
    assert set(items["id"].astype(str)) == {str(x) for x in planted["real"].items.ids}
    saved = json.loads((out / "results.json").read_text())
    fit = saved["analysis"]["twin"]["fit"]
    assert fit["block_counts_max_z"] < 5  # |C_twin - C| / sqrt(C) over 9 cells
    assert fit["window_totals_max_z"] < 4  # the log's histograms redrawn: sampling error only


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--out", "FILE"], "is an existing file; expected a directory"),
        (["--out", "OUT", "--quantity", "q", "--weight", "w"], "--quantity or --weight"),
        (["--out", "OUT", "--people", "MISSING"], "--people 'MISSING' does not exist"),
    ],
)
def test_cli_user_errors(planted, tmp_path, capsys, extra, match):
    from fastbip.cli import main

    (tmp_path / "FILE").write_text("x")
    extra = [str(tmp_path / e) if e in ("FILE", "OUT", "MISSING") else e for e in extra]
    argv = ["analyze", str(planted["path"] / "log.csv"), "--person", "user", "--item", "sku"]
    assert main(argv + extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fastbip: error: ")
    assert match.replace("MISSING", str(tmp_path / "MISSING")) in err[0]
    assert not (tmp_path / "OUT").exists()


def test_cli_report_unavailable_is_a_clear_error(planted, tmp_path, capsys):
    from fastbip.cli import main

    if importlib.util.find_spec("fastbip.report") is not None:
        import fastbip.report

        if hasattr(fastbip.report, "write_report"):
            pytest.skip("fastbip.report.write_report is importable: --report is available")
    argv = ["analyze", str(planted["path"] / "log.csv"), "--person", "user", "--item", "sku"]
    argv += ["--out", str(tmp_path / "o"), "--report", str(tmp_path / "r.html")]
    assert main(argv) == 2
    assert "--report is not available" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- a real log


def _movielens():
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the example log needs recbole (pip install 'fastbip[examples]')")
    root = pathlib.Path(next(iter(spec.submodule_search_locations)))
    return root / "dataset_example" / "ml-100k"


def test_real_log_movielens_100k():
    """MovieLens 100k as shipped in the recbole wheel: 943 users, 1682 films, 100,000
    ratings with times (seconds) and a user table (age, gender, occupation)."""
    d = _movielens()
    log = pd.read_csv(d / "ml-100k.inter", sep="\t")
    log.columns = ["user", "movie", "rating", "timestamp"]
    users = pd.read_csv(d / "ml-100k.user", sep="\t")
    users.columns = [c.split(":")[0] for c in users.columns]
    users = users.rename(columns={"user_id": "id"})[["id", "age", "gender", "occupation"]]
    ds = fastbip.from_log(
        log,
        person="user",
        item="movie",
        time="timestamp",
        time_unit="s",
        weight="rating",
        people=users,
    )
    assert ds.shape == (943, 1682) and ds.n_purchases == 100_000
    # K fixed to keep the test short (ICL asks for about 20 x 8 here: see the README)
    res = analyze_mod.analyze(
        ds, k_people=4, k_items=4, n_seeds=1, n_bootstrap=1, algorithms=[], progress=False
    )
    k = res.analysis["k"]
    assert k["given"] == {"people": True, "items": True}
    # the films' clusters are stable; the relation between the sides is far from independence
    assert res.analysis["stability"]["items"]["ari_mean"] > 0.5
    assert res.analysis["relations"]["chi2_pvalue"] < 1e-6
    assert len(res.analysis["names"]["people"]) == k["k_people"]
    assert res.analysis["time"]["counts"] and sum(res.analysis["time"]["window_totals"]) == 1e5
    # its twin: window totals within sampling error (|z| < 4 per window; before the twin's
    # profiles were the log's histograms they were off by up to a third)
    from fastbip.study.twin import twin_fit_stats

    a, b = (res.entry("dcsbm", s).labels for s in ("people", "items"))
    twin = fastbip.generate(fastbip.fit_spec(ds, a, b, seed=0))
    stats = twin_fit_stats(ds, twin, a, b)
    assert stats["window_totals_max_z"] < 4
    assert stats["block_counts_max_z"] < 4.5  # 16 cells


def test_report_of_an_analysis_uses_the_fit_and_says_there_is_no_truth(planted, tmp_path):
    pytest.importorskip("matplotlib")
    from fastbip.report import write_report

    page = write_report(planted["res"], planted["real"], tmp_path / "log.html")
    html = page.read_text()
    assert "no planted truth: the block-model fit" in html
    assert "<strong>dcsbm</strong>" in html
    assert "aligned to the planted clusters" not in html


def test_report_of_an_analysis_has_stability_agreement_and_the_twin(planted):
    """The page of an analysis: K and the ICL curve from the analysis (not refitted), the
    analysis' names, stability (per side and per cluster), the ARI between algorithms and,
    with a twin, its recovery table."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("jinja2")
    from fastbip.report.html import build_page
    from fastbip.study.twin import twin_study

    res, real = planted["res"], planted["real"]
    an = res.analysis
    a, b = (res.entry("dcsbm", s).labels for s in ("people", "items"))
    _, tres, stats = twin_study(real, a, b, algorithms=["svd-kmeans"], random_state=0)
    an["twin"] = {"fit": stats, "study": tres.to_dict()}
    try:
        page = build_page(res, real, sample=200)
    finally:
        del an["twin"]
    html = page.html
    assert "3. How far to trust the fit" in html and "How well each algorithm finds" not in html
    icl = page.figures["icl"].data
    assert icl["people"]["k"] == an["k"]["k_people_range"]
    assert icl["items"]["k"] == an["k"]["k_items_range"]
    for s in ("people", "items"):
        st = page.figures["stability"].data[s]
        assert st["cluster_stability"] == pytest.approx(an["stability"][s]["cluster_stability"])
        ag = page.figures["agreement"].data[s]
        assert ag["algorithms"][0] == "dcsbm" and "svd-kmeans" in ag["algorithms"]
        Z = np.array(ag["ari"])
        np.testing.assert_allclose(np.diag(Z), 1.0)
        np.testing.assert_allclose(Z, Z.T)
        j = ag["algorithms"].index("svd-kmeans")
        assert Z[0, j] == pytest.approx(an["agreement"]["algorithms"]["svd-kmeans"][s])
        for d in an["names"][s]:
            assert d["label"] in html  # the names table
    assert "found people" not in html
    assert "Which algorithm to trust here: the planted twin" in html
    best = max(
        (e for e in tres.entries if e.algorithm != "oracle"),
        key=lambda e: e.ari if e.side == "people" else -1,
    )
    assert f"{best.ari:.3f}" in html
    assert f"{stats['ks_people_degrees']:.3f}" in html
