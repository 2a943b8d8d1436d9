"""The sharded study's page (fastbip.report.sharded) and the truth computed on the workers
(fastbip.distributed.sharded_truth): the purchases oracle shard by shard equals the local
oracle exactly; the page answers the three questions with the numbers of results.json,
which equal the local computation on the gathered dataset; ``fastbip report DIR`` works
end to end."""

import itertools
import json
from html.parser import HTMLParser

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
pytest.importorskip("jinja2")
pytest.importorskip("matplotlib")

from fastbip import _small  # noqa: E402
from fastbip.blocks import block_counts, block_stats  # noqa: E402
from fastbip.distributed import generate_dask  # noqa: E402
from fastbip.distributed.sharded_study import (  # noqa: E402
    run_sharded_study,
    write_sharded_page,
)
from fastbip.distributed.sharded_truth import sharded_oracle_labels  # noqa: E402
from fastbip.io import sharded as fsh  # noqa: E402
from fastbip.metrics import adjusted_rand  # noqa: E402
from fastbip.report.sharded import build_sharded_page  # noqa: E402
from fastbip.spec import planted_spec  # noqa: E402
from fastbip.truth import oracle_labels, snr  # noqa: E402


@pytest.fixture(scope="module")
def client(threads_client):
    """Two in-process workers, one thread each (cheap to start)."""
    return threads_client


class _Page(HTMLParser):
    """The page's section ids, figure keys and the text of each table cell with a
    data-* attribute (e.g. the scores' data-ari), keyed by the row's data-algorithm."""

    def __init__(self):
        super().__init__()
        self.ids, self.figures, self.ari, self.sizes = [], [], {}, {}
        self._row, self._cell, self._table, self._text = None, None, None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a and tag == "h2":
            self.ids.append(a["id"])
        if tag == "figure":
            self.figures.append(a.get("data-figure"))
        if tag == "table" and "data-sizes" in a:
            self._table = a["data-sizes"]
            self.sizes[self._table] = []
        if tag == "tr":
            self._row = a.get("data-algorithm")
            if self._table:
                self.sizes[self._table].append([])
        if tag == "td":
            self._cell, self._text = a.get("data-ari"), []

    def handle_data(self, data):
        self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "td":
            text = "".join(self._text).strip()
            if self._row and self._cell:
                self.ari[(self._row, self._cell)] = text
            if self._table and self.sizes[self._table]:
                self.sizes[self._table][-1].append(text)
        if tag == "table":
            self._table = None


@pytest.mark.parametrize(
    ("n", "m", "mean", "bps"),
    [(3000, 200, 8.0, 1), (3000, 200, 8.0, 2), (24000, 1500, 12.0, 2)],
)
def test_the_sharded_oracle_equals_the_local_one_exactly(client, n, m, mean, bps):
    spec = planted_spec(n, m, 3, 4, mean_purchases=mean, seed=8)
    sds = generate_dask(spec, client=client, blocks_per_shard=bps)
    ds = sds.to_dataset()
    assert sds.n_shards > 1
    # the first two take numpy's path, the third the kernels' (more entries than SMALL)
    assert (ds.purchases.nnz < _small.SMALL) == (n == 3000)
    people = sharded_oracle_labels(sds, "people", client=client)
    try:
        np.testing.assert_array_equal(people.row_labels(), oracle_labels(ds, "people"))
        np.testing.assert_array_equal(people.column_labels(), ds.truth.item_labels)
    finally:
        people.release()
    items = sharded_oracle_labels(sds, "items", client=client)
    np.testing.assert_array_equal(items, oracle_labels(ds, "items"))
    assert items.dtype == np.int64


def test_the_sharded_oracle_rejects_what_it_cannot_read(client):
    sds = generate_dask(planted_spec(300, 40, 2, 2, seed=1), client=client)
    with pytest.raises(ValueError, match="side must be one of"):
        sharded_oracle_labels(sds, "shops", client=client)
    with pytest.raises(TypeError, match="sharded must be a ShardedDataset; got Dataset"):
        sharded_oracle_labels(sds.to_dataset(), client=client)


@pytest.fixture(scope="module")
def study(client, tmp_path_factory):
    """A planted study on the workers, its facts, the page and the gathered dataset."""
    out = tmp_path_factory.mktemp("study")
    spec = planted_spec(4000, 300, 3, 2, mean_purchases=10.0, seed=5)
    sds = generate_dask(spec, client=client, out=out / "d", blocks_per_shard=1)
    facts = run_sharded_study(sds, out / "s", client=client, progress=None)
    page = write_sharded_page(facts, out / "page.html")
    return facts, page, sds, sds.to_dataset(), out


def test_results_json_holds_the_new_facts_equal_to_the_local_computation(study):
    facts, _, sds, ds, out = study
    assert json.loads((out / "s" / "results.json").read_text()) == facts
    rows = np.concatenate([np.load(p) for p in sorted((out / "s" / "row_labels").glob("*.npy"))])
    cols = np.load(out / "s" / "column_labels.npy")
    t_a, t_b = ds.truth.people_labels, ds.truth.item_labels
    assert facts["ari_people"] == pytest.approx(adjusted_rand(t_a, rows), abs=1e-12)
    assert facts["ari_items"] == pytest.approx(adjusted_rand(t_b, cols), abs=1e-12)
    orc_a, orc_b = oracle_labels(ds, "people"), oracle_labels(ds, "items")
    assert facts["oracle_ari_people"] == pytest.approx(adjusted_rand(t_a, orc_a), abs=1e-12)
    assert facts["oracle_ari_items"] == pytest.approx(adjusted_rand(t_b, orc_b), abs=1e-12)
    assert facts["people_sizes"] == np.bincount(rows[rows >= 0], minlength=3).tolist()
    assert facts["people_unassigned"] == int(np.sum(rows < 0))
    assert facts["item_sizes"] == np.bincount(cols[cols >= 0], minlength=2).tolist()
    assert facts["planted_people_sizes"] == np.bincount(t_a).tolist()
    assert facts["planted_item_sizes"] == np.bincount(t_b).tolist()
    np.testing.assert_array_equal(facts["planted_omega"], ds.truth.omega)
    assert facts["snr"] == snr(sds.spec)
    assert facts["snr"] == pytest.approx(snr(ds), rel=1e-12)
    C = block_counts(ds.purchases, t_a, t_b)
    assert facts["truth_cramers_v"] == pytest.approx(block_stats(C).cramers_v, rel=1e-12)
    found = np.asarray(facts["contingency_people"])
    want = np.zeros((3, 3), np.int64)
    keep = rows >= 0
    np.add.at(want, (rows[keep], t_a[keep]), 1)
    np.testing.assert_array_equal(found, want)
    for side, t, o in (("people", t_a, orc_a), ("items", t_b, orc_b)):
        k = len(np.unique(t))  # found (the oracle's: planted) by planted cluster
        want = np.zeros((k, k), np.int64)
        np.add.at(want, (o, t), 1)
        np.testing.assert_array_equal(facts[f"oracle_contingency_{side}"], want)
    assert set(facts["seconds"]) >= {"fit", "cluster sizes", "block counts", "oracle"}


def test_the_page_answers_the_three_questions_with_the_studys_numbers(study):
    facts, page, _, ds, _ = study
    text = page.read_text(encoding="utf-8")
    p = _Page()
    p.feed(text)
    assert p.ids == ["q1", "q2", "q3", "run"]
    assert p.figures == ["sizes", "blocks", "lift", "contingency"]
    for algo, key in (("dcsbm", "ari_"), ("oracle", "oracle_ari_")):
        for side in ("people", "items"):
            assert float(p.ari[(algo, side)]) == pytest.approx(facts[key + side], abs=5e-5)
    # the sizes tables: the fitted ones aligned to the planted ones, beside them
    people = [r for r in p.sizes["people"] if r]
    assert [int(r[2].replace(",", "")) for r in people] == facts["planted_people_sizes"]
    fitted = sorted(int(r[1].replace(",", "")) for r in people)
    assert fitted == sorted(facts["people_sizes"])
    assert f"{facts['cramers_v']:.3f}" in text and f"{facts['truth_cramers_v']:.3f}" in text
    assert f"expected SNR {facts['snr']:.3g}" in text
    assert "buy" in text and "at " in text and "x chance" in text  # relations named
    assert 'src="http' not in text and "<link" not in text  # self-contained


def test_the_page_aligns_fitted_clusters_to_the_planted_ones(study):
    facts, *_ = study
    _, figs = build_sharded_page(facts)
    for side in ("people", "items"):
        T = np.asarray(figs["contingency"].data[f"dcsbm (the fit)/{side}"])
        # aligned: the diagonal holds the largest matching (as fastbip.align's)
        perms = itertools.permutations(range(T.shape[1]))
        assert np.trace(T) == max(np.trace(T[:, list(p)]) for p in perms)
    assert figs["blocks"].data["omega"] == facts["planted_omega"]


def test_a_page_without_a_truth_says_there_is_nothing_to_score(study):
    facts, *_ = study
    keep = {
        k: v
        for k, v in facts.items()
        if k
        in (
            "dataset shape purchases shards k_people k_items seed log_likelihood n_iter omega "
            "chi2 cramers_v adjusted_residuals people_sizes people_unassigned item_sizes "
            "items_unassigned seconds"
        ).split()
    }
    html, figs = build_sharded_page(keep)
    assert "no planted truth" in html and "ARI people" not in html
    assert set(figs) == {"sizes", "blocks", "lift"}
    assert figs["sizes"].data["people"]["fitted"] == facts["people_sizes"]


def test_fastbip_report_of_a_sharded_directory_end_to_end(tmp_path, capsys):
    from fastbip.cli import main

    data = tmp_path / "d"
    args = ["generate", "--planted", "--n-people", "3000", "--n-items", "250", "--seed", "2"]
    args += ["--k-people", "3", "--k-items", "3", "--out", str(data), "--workers", "1"]
    assert main(args) == 0
    page = tmp_path / "p.html"
    assert main(["report", str(data), "--out", str(page), "--workers", "1"]) == 0
    assert f"wrote {page}" in capsys.readouterr().out
    facts = json.loads((tmp_path / "p" / "results.json").read_text())
    ds = fsh.load_sharded(data).to_dataset()
    orc = oracle_labels(ds, "people")
    assert facts["oracle_ari_people"] == pytest.approx(
        adjusted_rand(ds.truth.people_labels, orc), abs=1e-12
    )
    p = _Page()
    p.feed(page.read_text(encoding="utf-8"))
    assert p.ids == ["q1", "q2", "q3", "run"]
    assert float(p.ari[("dcsbm", "people")]) == pytest.approx(facts["ari_people"], abs=5e-5)


def test_fewer_fitted_than_planted_clusters_are_drawn_at_their_planted_positions():
    """Fitted 0 matches planted 2 and fitted 1 planted 0: they are drawn (names, colours,
    bars) at positions 2 and 0, and planted cluster 1's position stays empty."""
    from fastbip.report.sharded import _order, _place

    table = [[0, 0, 50], [70, 3, 0]]  # fitted x planted
    facts = {"k_people": 2, "k_items": 2, "contingency_people": table}
    facts["contingency_items"] = [[9, 0], [0, 8]]
    order, pos = _order(facts)
    assert order["people"].tolist() == [1, 0] and pos["people"].tolist() == [0, 2]
    assert order["items"].tolist() == [0, 1] and pos["items"].tolist() == [0, 1]
    sizes = np.array([50, 73])[order["people"]]
    assert _place(sizes, pos["people"], 3).tolist() == [73, 0, 50]
