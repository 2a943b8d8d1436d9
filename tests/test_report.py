"""The study's page: each figure's data, the bigraphs' DOT, the colour table, the bounds on
the page's size, its self-containment, the command line and the lazy imports."""

import html
import math
import re
import subprocess
import sys

import numpy as np
import pytest

import fastbip

pytest.importorskip("matplotlib")
pytest.importorskip("jinja2")
pytest.importorskip("graphviz")

from fastbip.cli import main  # noqa: E402
from fastbip.report import dot as dotmod  # noqa: E402
from fastbip.report import dot_paths, write_report  # noqa: E402
from fastbip.report.html import GRAPH_ITEMS, GRAPH_PEOPLE, TABLE_ROWS, build_page  # noqa: E402
from fastbip.report.palette import cluster_colour  # noqa: E402
from fastbip.report.summary import answer_lines, detectable_clusters, study_facts  # noqa: E402
from fastbip.study.results import ORACLES  # noqa: E402

ALGOS = ["kmeans", "svd-kmeans", "spectral-cocluster"]
ORACLE_ROWS = ["oracle", "oracle-features", "oracle-joint"]  # purchases, features, both


def _dataset(n_people=600, n_items=200, seed=3):
    return fastbip.generate(fastbip.default_spec(n_people=n_people, n_items=n_items, seed=seed))


@pytest.fixture(scope="module")
def study():
    ds = _dataset()
    return ds, fastbip.run_study(ds, algorithms=ALGOS)


@pytest.fixture(scope="module")
def page(study):
    ds, res = study
    return build_page(res, ds, sample=150)


def _aligned(true, found):
    m = np.asarray(fastbip.align(true, found))
    return np.where(found >= 0, m[np.maximum(found, 0)], -1)


# --- figures' data ------------------------------------------------------------------------


def test_block_heatmap_is_the_block_counts_beside_omega(study, page):
    ds, res = study
    facts = page.facts
    best = facts.labels_from
    assert best in ALGOS
    la = _aligned(ds.truth.people_labels, res.entry(best, "people").labels)
    lb = _aligned(ds.truth.item_labels, res.entry(best, "items").labels)
    np.testing.assert_array_equal(facts.labels["people"], la)
    C = fastbip.block_counts(ds.purchases, la, lb, *facts.counts.shape)
    np.testing.assert_array_equal(np.asarray(page.figures["blocks"].data["counts"]), C)
    np.testing.assert_allclose(page.figures["blocks"].data["omega"], ds.truth.omega)
    # the lift panel shows the null-model statistics of the same table
    st = fastbip.block_stats(C)
    np.testing.assert_allclose(page.figures["lift"].data["lift"], st.lift)
    np.testing.assert_array_equal(page.figures["lift"].data["significant"], st.significant)


def _dot_edges(source):
    return {tuple(m) for m in re.findall(r"^\s*(\w+) -- (\w+)", source, flags=re.M)}


def test_cluster_dot_edges_are_the_pairs_with_purchases(page):
    C = page.facts.counts
    want = {(f"A{i}", f"B{j}") for i, j in zip(*np.nonzero(C > 0), strict=True)}
    assert _dot_edges(page.dots["cluster"]) == want
    # node sizes are the members of each aligned cluster
    nodes = {n["id"]: n["size"] for n in page.figures["cluster-graph"].data["nodes"]}
    sizes = np.bincount(page.facts.labels["people"], minlength=C.shape[0])
    assert [nodes[f"A{k}"] for k in range(C.shape[0])] == sizes.tolist()


def test_member_dot_edges_are_the_sampled_purchases(study, page):
    ds, _ = study
    source = page.dots["members"]
    people = sorted(int(x) for x in re.findall(r"^\s*p(\d+) \[", source, flags=re.M))
    items = sorted(int(x) for x in re.findall(r"^\s*i(\d+) \[", source, flags=re.M))
    assert 0 < len(people) <= GRAPH_PEOPLE and 0 < len(items) <= GRAPH_ITEMS
    sub = ds.purchases[people][:, items].toarray()
    want = {(f"p{people[a]}", f"i{items[b]}") for a, b in zip(*np.nonzero(sub), strict=True)}
    assert _dot_edges(source) == want


def test_colour_table_cells_have_the_aligned_clusters_colours(study, page):
    ds, res = study
    for side, true in (("people", ds.truth.people_labels), ("items", ds.truth.item_labels)):
        table = page.colour_table[side]
        assert table["header"] == ["true", *ORACLE_ROWS, *ALGOS]
        assert 0 < len(table["rows"]) <= TABLE_ROWS
        found = {a: _aligned(true, res.entry(a, side).labels) for a in table["header"][1:]}
        for row in table["rows"]:
            i = row["member"]
            want = [cluster_colour(true[i])] + [cluster_colour(found[a][i]) for a in found]
            assert [c["colour"] for c in row["cells"]] == want
        # every planted cluster appears in the sample
        assert {row["cells"][0]["cluster"] for row in table["rows"]} == set(np.unique(true))
    # and the page carries those colours on the cells
    cells = re.findall(r'<td class="c" data-cluster="(-?\d+)" data-colour="(#\w+)" '
                       r'style="background-color:(#\w+)', page.html)  # fmt: skip
    assert cells and all(cluster_colour(int(k)) == c == bg for k, c, bg in cells)


def test_contingency_heatmaps_are_the_contingency_tables(study, page):
    ds, res = study
    data = page.figures["contingency"].data
    assert set(data) == {f"{a}/{s}" for a in [*ORACLE_ROWS, *ALGOS] for s in ("people", "items")}
    true = ds.truth.item_labels
    found = _aligned(true, res.entry("svd-kmeans", "items").labels)
    T = fastbip.contingency(true, found).toarray()
    np.testing.assert_array_equal(data["svd-kmeans/items"], T)


def test_windows_split_the_purchases(study, page):
    ds, _ = study
    d = page.figures["windows"].data
    totals = np.asarray(d["totals"])
    edges = d["edges"]
    for t in range(totals.shape[0]):
        assert totals[t].sum() == ds.window(edges[t], edges[t + 1]).sum()
    assert totals.sum() == ds.n_purchases
    assert len(d["changes"]) == 4


def test_icl_curve_and_feature_curves(page):
    icl = page.figures["icl"].data
    chosen = page.facts.chosen
    for i, side in enumerate(("people", "items")):
        ks, vals = icl[side]["k"], icl[side]["icl"]
        assert ks[int(np.argmax(vals))] == chosen["k"][i]
        feats = page.figures["features"].data[side]
        assert feats["bic_best"] == feats["k"][int(np.argmin(feats["bic"]))]
        heights = feats["merge_heights"]
        assert heights == sorted(heights, reverse=True)


# --- the answer ---------------------------------------------------------------------------


def test_detectable_clusters_counts_eigenvalues_above_threshold(study):
    ds, _ = study
    truth = ds.truth
    ka, kb = truth.shape
    strong = type(truth)(
        omega=np.eye(ka, kb) * 1e5 + 1.0,
        theta=truth.theta,
        phi=truth.phi,
        people_labels=truth.people_labels,
        item_labels=truth.item_labels,
    )
    flat = type(truth)(
        omega=np.full((ka, kb), 1e4),
        theta=truth.theta,
        phi=truth.phi,
        people_labels=truth.people_labels,
        item_labels=truth.item_labels,
    )
    assert detectable_clusters(strong) == min(ka, kb)
    assert detectable_clusters(flat) == 1  # rank one: only the leading eigenvalue


def test_answer_names_planted_chosen_and_best(study, page):
    lines = answer_lines(page.facts)
    ds, res = study
    ka, kb = ds.truth.shape
    assert lines[0].startswith(f"People: {ka} clusters planted")
    assert lines[1].startswith(f"Items: {kb} clusters planted")
    assert f"{page.facts.chosen['k'][0]} chosen by ICL" in lines[0]
    assert any(line.startswith(f"Best algorithm: {page.facts.best}") for line in lines)
    # the best algorithm stands beside the oracle that reads what it reads
    ceiling = res.entry(page.facts.best, "people").oracle
    assert ceiling == ORACLES[fastbip.algorithms.info(page.facts.best).kind]
    oracle = res.entry(ceiling, "people").ari
    assert f"{oracle:.2f}" in lines[-1]
    text = html.unescape(page.html)
    for line in lines:
        assert line in text


# --- the page -----------------------------------------------------------------------------


def test_page_is_self_contained_and_bounded(page):
    text = page.html
    assert len(text.encode()) < 5_000_000
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", text, flags=re.I)
    assert "<script" not in text.lower() and "@import" not in text and "url(http" not in text
    for key in ("icl", "features", "blocks", "lift", "cluster-graph", "member-graph",
                "windows", "contingency"):  # fmt: skip
        assert f'data-figure="{key}"' in text, key
    assert text.count("<svg") >= 10
    assert page.renderer == ("dot" if dotmod.shutil.which("dot") else "matplotlib")
    assert f"drawn by <strong>{page.renderer}</strong>" in text


def test_member_figures_use_a_bounded_sample(page):
    assert all(len(s) == 150 for s in page.samples.values()) or all(
        len(s) <= 150 for s in page.samples.values()
    )
    assert max(len(s) for s in page.samples.values()) == 150
    assert "sample of 150 people" in page.html


def test_page_does_not_grow_with_n():
    sizes = []
    for n in (600, 2400):
        ds = _dataset(n_people=n, n_items=n // 3)
        res = fastbip.run_study(ds, algorithms=["kmeans"])
        sizes.append(len(build_page(res, ds, sample=150).html))
    assert sizes[1] < 1.25 * sizes[0], sizes


def test_without_dot_the_graphs_are_drawn_by_matplotlib(study, monkeypatch):
    ds, res = study
    monkeypatch.setattr(dotmod.shutil, "which", lambda name: None)
    p = build_page(res, ds, sample=100)
    assert p.renderer == "matplotlib"
    assert "drawn by <strong>matplotlib</strong>" in p.html
    assert "not installed" in p.html
    assert _dot_edges(p.dots["cluster"])  # the DOT is still written


def test_from_json_results_have_no_labels_and_the_page_says_so(study, tmp_path):
    ds, res = study
    back = fastbip.Results.from_json(res.to_json())
    p = build_page(back, ds, sample=100)
    assert p.facts.labels_from == "planted"
    np.testing.assert_array_equal(p.facts.labels["people"], ds.truth.people_labels)
    assert "contingency" not in p.figures
    assert "No labels for " + ", ".join(ORACLE_ROWS + ALGOS) in p.html
    assert p.colour_table["people"]["header"] == ["true"]


def test_write_report_writes_page_and_dots(study, tmp_path):
    ds, res = study
    out = write_report(res, ds, tmp_path / "s.html", sample=100)
    assert out.read_text().startswith("<!DOCTYPE html>")
    dots = dot_paths(out)
    assert dots["cluster"].name == "s.cluster.dot" and dots["cluster"].exists()
    assert dots["members"].read_text().startswith("graph")


@pytest.mark.parametrize(
    "path, match",
    [
        ("{tmp}/missing/x.html", "folder .* does not exist"),
        ("{tmp}", "must be a file"),
    ],
)
def test_write_report_rejects_bad_paths(study, tmp_path, path, match):
    ds, res = study
    with pytest.raises(ValueError, match=match):
        write_report(res, ds, path.format(tmp=tmp_path))


def test_write_report_rejects_bad_sample(study, tmp_path):
    ds, res = study
    with pytest.raises(ValueError, match="sample"):
        write_report(res, ds, tmp_path / "x.html", sample=0)


# --- the command line ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(study, tmp_path_factory):
    ds, res = study
    d = tmp_path_factory.mktemp("saved")
    fastbip.save(ds, d / "data.fbp")
    (d / "results.json").write_text(res.to_json())
    return d


@pytest.mark.parametrize(
    "argv, match",
    [
        (["report", "{d}/nope.fbp"], "'.*nope.fbp' does not exist"),
        (["report", "{d}/data.fbp", "--out", "{d}/no/dir/r.html"], "--out's folder"),
        (["report", "{d}/data.fbp", "--out", "{d}"], "--out must be a file"),
        (["report", "{d}/results.json", "{d}/data.fbp", "{d}/data.fbp"], "takes DATA.fbp"),
        (["report", "{d}/results.json", "{d}/data.fbp", "--algorithms", "kmeans"], "refitted"),
        (
            ["report", "{d}/data.fbp", "{d}/data.fbp", "--out", "{d}/x.html"],
            "is not a results JSON file",
        ),
        (["demo", "--report", "{d}/no/dir/r.html"], "--report's folder"),
    ],
)
def test_cli_errors_are_one_line(saved, capsys, argv, match):
    rc = main([a.format(d=saved) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastbip: error: "), err
    assert re.search(match, lines[0]), lines[0]
    assert "Traceback" not in err
    assert not (saved / "x.html").exists()


def test_cli_report_from_saved_results(saved, capsys):
    out = saved / "r.html"
    assert main(["report", str(saved / "results.json"), str(saved / "data.fbp"),
                 "--out", str(out)]) == 0  # fmt: skip
    text = out.read_text()
    assert "No labels for" in text and dot_paths(out)["cluster"].exists()
    assert f"wrote {out}" in capsys.readouterr().out


def test_cli_report_fits_the_named_algorithms(saved, capsys):
    out = saved / "fit.html"
    assert main(["report", str(saved / "data.fbp"), "--out", str(out),
                 "--algorithms", "kmeans"]) == 0  # fmt: skip
    text = out.read_text()
    assert "No labels" not in text and ">kmeans</td>" in text and "svd-kmeans" not in text


def test_nothing_of_the_report_is_imported_by_default():
    code = (
        "import sys, fastbip, fastbip.cli, fastbip.report, fastbip.report.summary\n"
        "bad = [m for m in ('matplotlib', 'jinja2', 'graphviz') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_study_facts_without_icl(study):
    ds, res = study
    f = study_facts(res, ds, icl=False)
    assert f.chosen is None
    assert not any("ICL" in line for line in answer_lines(f))
    assert math.isclose(f.counts.sum(), ds.n_purchases)


def test_sweep_results_get_ari_against_snr(study):
    from fastbip.report import figures as F

    rows = [
        {"algorithm": a, "side": s, "mixing": mix, "seed": seed, "snr": snr, "ari": ari}
        for a, base in (("oracle", 1.0), ("kmeans", 0.5))
        for s in ("people", "items")
        for mix, snr in ((0.0, 20.0), (0.8, 0.5))
        for seed, ari in ((0, base * (1 - mix)), (1, base * (1 - mix) + 0.1), (2, 0.0))
    ]
    res = fastbip.Results.from_rows(rows)
    assert res.is_sweep
    data = F.ari_vs_snr(res.entries).data
    assert data["kmeans/people"]["snr"] == [0.5, 20.0]
    np.testing.assert_allclose(data["kmeans/people"]["ari"], [0.5 * 0.2, 0.5])
    ds, _ = study
    p = build_page(res, ds, sample=100)
    assert "sweep" in p.figures and p.facts.labels_from == "planted"


@pytest.mark.parametrize(("k", "want"), [(3, 8), (10, 6), (24, None)])
def test_heatmap_numbers_get_the_largest_font_that_fits_a_cell(k, want):
    """Block counts of 10 x 10 clusters at 10^7 purchases overlapped at 8 points: the font
    shrinks to fit a cell, and where none fits the cells carry no number (the tables do)."""
    from fastbip.report import figures as F

    counts = np.full((k, k), 1.05e6)
    names = {"people": list(range(k)), "items": list(range(k))}
    svg = F.block_heatmaps(counts, counts, names, "x").svg  # two panels, as on the pages
    numbers = re.findall(r"font-size: ?([\d.]+)px[^>]*>1\.05M<", svg)
    if want is None:
        assert numbers == [] and "1.05M" not in svg
    else:
        assert len(numbers) == 2 * k * k and {float(x) for x in numbers} == {want}


@pytest.mark.parametrize(
    ("v", "want"),
    [(999, "999"), (999500, "1M"), (999600000, "1G"), (2862883, "2.86M"), (286000, "286k")],
)
def test_compact_counts_round_before_the_suffix(v, want):
    from fastbip.report.figures import _Compact

    assert _Compact.format(v) == want
