import numpy as np
import pytest
import scipy.sparse as sp

from fastbip.io import from_log, load, read_log, save
from fastbip.io import logs as logs_module

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

ORIGIN = np.datetime64("2024-01-01", "D").astype(np.int64)  # days since the epoch


@pytest.fixture
def log():
    return pd.DataFrame(
        {
            "person": ["b", "a", "b", "c", "a", "b"],
            "item": [3, 1, 3, 2, 2, 1],
            "qty": [1, 2, 1, 1, 1, 0],
            "when": pd.to_datetime(
                ["2024-01-02", "2024-01-01", "2024-01-01", "2024-02-01", "2024-03-01", "2024-03-05"]
            ),
        }
    )


def test_counts_ids_and_quantities(log):
    ds = from_log(log, quantity="qty")
    assert ds.people.ids.tolist() == ["a", "b", "c"]
    assert ds.items.ids.tolist() == [1, 2, 3]
    expected = np.array([[2, 1, 0], [0, 0, 2], [0, 1, 0]])
    assert np.array_equal(ds.purchases.toarray(), expected)
    assert ds.purchases.has_canonical_format and ds.truth is None
    assert ds.weights is None


def test_times_are_aligned_with_entries(log):
    ds = from_log(log, time="when", quantity="qty")
    M = ds.purchases
    assert ds.events.times.shape[0] == M.data.sum()
    day = ORIGIN
    # entry (b, item 3) has two purchases on Jan 1 and Jan 2, sorted
    e = M.indptr[1]
    assert np.array_equal(
        ds.events.times[ds.events.offsets[e] : ds.events.offsets[e + 1]], [day, day + 1]
    )
    jan = ds.window(day, day + 31)
    assert jan.sum() == 4  # a/1 twice, b/3 twice
    later = ds.window(day + 31, day + 400)
    assert (jan + later != M).nnz == 0


def test_round_trip_and_csv(log, tmp_path):
    ds = from_log(log, time="when")
    back = load(save(ds, tmp_path / "log.fbp"))
    assert back.people.ids.tolist() == ["a", "b", "c"]
    assert (back.purchases != ds.purchases).nnz == 0
    log.to_csv(tmp_path / "log.csv", index=False)
    ds2 = read_log(tmp_path / "log.csv", time="when")
    assert np.array_equal(ds2.events.times, ds.events.times)
    assert ds2.items.ids.tolist() == [1, 2, 3]  # CSV integer ids come back as integers


# ------------------------------------------------------------------ planted data as a log


def _as_log(ds, rng):
    """The generated dataset as a shuffled purchase log: one line per purchase, with a
    datetime, string people ids ``p<i>`` and integer item ids ``1000 + j``."""
    M = ds.purchases
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    reps = M.data.astype(np.int64)
    r = np.repeat(rows, reps)
    c = np.repeat(M.indices, reps)
    t = ds.events.times
    order = rng.permutation(r.size)
    when = pd.Timestamp("2024-01-01") + pd.to_timedelta(t[order], unit="D")
    return pd.DataFrame(
        {
            "user": np.array([f"p{i}" for i in range(M.shape[0])], dtype=object)[r[order]],
            "sku": 1000 + c[order],
            "when": when,
        }
    )


def _people_table(ds, extra):
    table = ds.people.to_frame().drop(columns="labels")
    table.insert(0, "id", [f"p{i}" for i in range(ds.people.n)])
    lonely = pd.DataFrame({"id": [f"q{i}" for i in range(extra)]})
    for col in table.columns[1:]:
        lonely[col] = table[col].iloc[:extra].to_numpy()
    return pd.concat([table, lonely], ignore_index=True)


@pytest.mark.parametrize("fmt", ["frame", "csv", "csv.gz", "parquet"])
def test_planted_log_round_trip(default_ds, tmp_path, fmt, monkeypatch):
    monkeypatch.setattr(logs_module, "_BATCH", 997)  # many batches
    monkeypatch.setattr(logs_module, "_CSV_BLOCK", 1 << 14)
    rng = np.random.default_rng(3)
    ds = default_ds
    log = _as_log(ds, rng)
    table = _people_table(ds, extra=7)
    if fmt == "frame":
        back = from_log(log, person="user", item="sku", time="when", people=table)
    else:
        path = tmp_path / f"log.{fmt}"
        tpath = tmp_path / ("people.parquet" if fmt == "parquet" else "people.csv")
        if fmt == "parquet":
            log.to_parquet(path)
            table.to_parquet(tpath)
        else:
            log.to_csv(path, index=False)
            table.to_csv(tpath, index=False)
        back = read_log(path, person="user", item="sku", time="when", people=str(tpath))
    n, m = ds.shape
    # people in the table's order, the 7 without purchases kept at the end
    assert back.people.ids.tolist() == table["id"].tolist()
    assert back.purchases.shape[0] == n + 7
    assert back.purchases[n:].nnz == 0
    # items sorted by id: only those bought appear, in the original order
    bought = np.flatnonzero(np.asarray(ds.purchases.sum(axis=0)).ravel())
    assert back.items.ids.tolist() == (1000 + bought).tolist()
    assert (back.purchases[:n] != ds.purchases[:, bought]).nnz == 0
    assert back.purchases.has_canonical_format
    # every entry's times, sorted, the same up to the nanosecond rounding of datetimes
    orig = ds.purchases[:, bought].tocsr()
    assert back.events.offsets[-1] == ds.n_purchases
    assert np.allclose(back.events.times, ds.events.times + ORIGIN, rtol=0, atol=1e-6)
    assert orig.nnz == back.purchases.nnz
    # features joined by id: the categorical postcode and the numeric age
    assert back.people.kinds["postcode"] == "categorical"
    assert back.people.kinds["age"] == "numeric"
    codes = back.people.columns["postcode"][:n]
    names = np.array(back.people.categories["postcode"])[codes]
    want = np.array(ds.people.categories["postcode"])[ds.people.columns["postcode"]]
    assert np.array_equal(names, want)
    assert np.allclose(back.people.columns["age"][:n], ds.people.columns["age"])


def test_duplicate_rows_are_summed_weights_kept_apart():
    log = pd.DataFrame(
        {
            "person": [1, 1, 2, 1, 2],
            "item": ["x", "x", "y", "y", "y"],
            "rating": [4.0, 5.0, 1.0, 3.0, 2.5],
        }
    )
    ds = from_log(log, weight="rating")
    assert np.array_equal(ds.purchases.toarray(), [[2, 1], [0, 2]])
    assert np.allclose(ds.weights.toarray(), [[9.0, 3.0], [0.0, 3.5]])
    assert np.array_equal(ds.weights.indices, ds.purchases.indices)
    assert np.array_equal(ds.weights.indptr, ds.purchases.indptr)


@pytest.mark.parametrize(
    "unit, values, days",
    [
        ("s", [0, 86_400, 172_800], [0.0, 1.0, 2.0]),
        ("ms", [86_400_000, 0, 0], [1.0, 0.0, 0.0]),
        ("D", [1.5, 2.0, 3.25], [1.5, 2.0, 3.25]),
        ("ns", [86_400 * 10**9, 0, 0], [1.0, 0.0, 0.0]),
    ],
)
def test_numeric_times_need_and_use_a_unit(unit, values, days):
    log = {"person": [0, 1, 2], "item": [0, 0, 0], "t": values}
    ds = from_log(log, time="t", time_unit=unit)
    assert np.allclose(ds.events.times, days)


def test_timezones_and_timedeltas_are_converted():
    utc = pd.to_datetime(["2024-01-01 00:00", "2024-01-01 12:00"]).tz_localize("UTC")
    paris = utc.tz_convert("Europe/Paris")
    a = from_log({"person": [0, 1], "item": [0, 0], "t": pd.Series(paris)}, time="t")
    assert np.allclose(a.events.times, [ORIGIN, ORIGIN + 0.5])
    td = pd.Series(pd.to_timedelta([36, 12], unit="h"))
    b = from_log({"person": [0, 1], "item": [0, 0], "t": td}, time="t")
    assert np.allclose(b.events.times, [1.5, 0.5])  # days, not nanosecond ticks


def test_item_table_keeps_unsold_items_and_gives_features(tmp_path):
    log = pd.DataFrame({"person": ["u", "v", "u"], "item": [2, 2, 5]})
    items = pd.DataFrame(
        {"id": [5, 2, 9], "price": [1.5, 2.0, 3.0], "kind": ["food", "tech", None]}
    )
    ds = from_log(log, items=items)
    assert ds.items.ids.tolist() == [5, 2, 9]
    assert np.array_equal(ds.purchases.toarray(), [[1, 1, 0], [0, 1, 0]])
    assert ds.items.kinds == {"price": "numeric", "kind": "categorical"}
    assert ds.items.categories["kind"] == ("<missing>", "food", "tech")
    assert np.array_equal(ds.items.columns["kind"], [1, 2, 0])
    # the same table from a CSV file matches integer ids read as text
    items.to_csv(tmp_path / "items.csv", index=False)
    log.to_csv(tmp_path / "log.csv", index=False)
    ds2 = read_log(tmp_path / "log.csv", items=tmp_path / "items.csv")
    assert (ds2.purchases != ds.purchases).nnz == 0 and ds2.items.ids.tolist() == [5, 2, 9]


def test_stream_matches_scipy_on_random_log(tmp_path, monkeypatch):
    monkeypatch.setattr(logs_module, "_BATCH", 1000)
    rng = np.random.default_rng(0)
    n = 20_000
    log = pd.DataFrame(
        {
            "person": rng.integers(0, 500, n),
            "item": rng.integers(0, 300, n),
            "q": rng.integers(0, 4, n),
        }
    )
    log.to_parquet(tmp_path / "log.parquet")
    ds = read_log(tmp_path / "log.parquet", quantity="q")
    pid, r = np.unique(log.person, return_inverse=True)
    iid, c = np.unique(log.item, return_inverse=True)
    want = sp.coo_matrix((log.q, (r, c)), shape=(pid.size, iid.size)).tocsr()
    want.eliminate_zeros()
    assert np.array_equal(ds.people.ids, pid) and np.array_equal(ds.items.ids, iid)
    assert (ds.purchases != want).nnz == 0 and ds.purchases.nnz == want.nnz


@pytest.mark.parametrize(
    "person, want",
    [
        # all plain decimal integers: int ids in numeric order
        (["10", "9", "-3", "9", "0", "123456789012345678"], [-3, 0, 9, 10, 123456789012345678]),
        # "007" is not "7": text ids, in text order; the integer-looking ones kept as text
        (["7", "007", "7", "12", "8", "8"], ["007", "12", "7", "8"]),
        (["+7", "7", "1", "1", "2", "3"], ["+7", "1", "2", "3", "7"]),
        (["-0", "0", "1", "2", "3", "4"], ["-0", "0", "1", "2", "3", "4"]),
        (
            ["1234567890123456789", "1", "2", "3", "4", "5"],
            sorted(["1234567890123456789", *"12345"]),
        ),
        (["u1", "2", "2", "3", "4", "5"], ["2", "3", "4", "5", "u1"]),
    ],
)
@pytest.mark.parametrize("chunk", [1 << 26, 24])  # one chunk, or a chunk a line or two
def test_csv_ids_as_integers_only_when_all_plain_decimal(
    tmp_path, monkeypatch, person, want, chunk
):
    """The CSV reader turns text ids into integers batch by batch; a batch of text (another
    chunk of the file, a non-canonical id such as "007") makes the ids text throughout,
    and every line keeps its own id."""
    monkeypatch.setattr(logs_module, "_CSV_BLOCK", chunk)
    path = tmp_path / "log.csv"
    path.write_text("person,item\n" + "".join(f"{p},{k % 2}\n" for k, p in enumerate(person)))
    ds = read_log(path)
    assert ds.people.ids.tolist() == want
    lines = pd.DataFrame({"p": [type(want[0])(p) for p in person], "i": np.arange(6) % 2})
    pos = {v: k for k, v in enumerate(want)}
    expect = sp.coo_matrix(
        (np.ones(6), ([pos[p] for p in lines["p"]], lines["i"])), shape=(len(want), 2)
    ).tocsr()
    assert (ds.purchases != expect).nnz == 0


def test_csv_blank_id_in_a_later_chunk_names_its_row(tmp_path, monkeypatch):
    monkeypatch.setattr(logs_module, "_CSV_BLOCK", 16)
    path = tmp_path / "log.csv"
    path.write_text("person,item\n1,2\n3,4\n5,6\n  ,7\n8,9\n")
    with pytest.raises(ValueError, match=r"person column 'person' has blank .* at rows 3 "):
        read_log(path)


@pytest.mark.parametrize("variant", ["plain", "crlf", "blank lines", "quoted", "no last newline"])
def test_csv_fast_integer_ids_match_the_general_reader(tmp_path, monkeypatch, variant):
    """Integer ids of simple CSV lines are parsed by fastbip's own kernel (the other columns
    by pyarrow); lines it does not take (quotes) go through pyarrow: the same dataset as
    from the frame, whatever the line ends, blank lines, chunking."""
    monkeypatch.setattr(logs_module, "_CSV_BLOCK", 700)  # many chunks
    rng = np.random.default_rng(5)
    n = 3000
    log = pd.DataFrame(
        {
            "q": rng.integers(1, 4, n),
            "person": rng.integers(-50, 400, n),
            "ts": rng.integers(1_700_000_000, 1_700_900_000, n),
            "item": rng.integers(0, 10**12, n) % 97 * 10**10,  # wide: hashed, not tabled
        }
    )
    text = "q,person,ts,item\n" + "".join(
        f"{a},{b},{c},{d}\n" for a, b, c, d in log.itertuples(index=False)
    )
    if variant == "crlf":
        text = text.replace("\n", "\r\n")
    elif variant == "blank lines":
        text = text.replace("\n", "\n\n", 40)
    elif variant == "quoted":
        text = text.replace("\n7,", '\n"7",')
    elif variant == "no last newline":
        text = text.rstrip("\n")
    path = tmp_path / "log.csv"
    path.write_bytes(text.encode())
    kw = {"time": "ts", "time_unit": "s", "quantity": "q"}
    got = read_log(path, **kw)
    want = from_log(log, **kw)
    assert got.people.ids.tolist() == want.people.ids.tolist()
    assert got.items.ids.tolist() == want.items.ids.tolist()
    assert (got.purchases != want.purchases).nnz == 0
    np.testing.assert_array_equal(got.events.times, want.events.times)


def test_csv_line_with_an_extra_field_is_an_error(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("person,item\n" + "1,2\n" * 300_000 + "3,4,5\n")  # past the first MiB
    with pytest.raises(ValueError, match=r"could not be read: .*Expected 2 columns, got 3"):
        read_log(path)


def test_csv_chunk_parsed_in_two_halves_matches_the_frame(tmp_path):
    """A chunk over 1 MiB is parsed in two threads, split at a line end: the same dataset as
    from the frame (the order of the lines kept: each entry's times, sorted, alike)."""
    rng = np.random.default_rng(8)
    n = 120_000
    log = pd.DataFrame(
        {
            "person": rng.integers(0, 5000, n),
            "item": rng.integers(0, 800, n),
            "ts": rng.integers(1_600_000_000, 1_700_000_000, n),
        }
    )
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    assert path.stat().st_size > 2 << 20
    kw = {"time": "ts", "time_unit": "s"}
    got, want = read_log(path, **kw), from_log(log, **kw)
    assert got.people.ids.tolist() == want.people.ids.tolist()
    assert (got.purchases != want.purchases).nnz == 0
    np.testing.assert_array_equal(got.events.times, want.events.times)
