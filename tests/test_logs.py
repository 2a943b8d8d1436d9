import numpy as np
import pytest

from fastbip.io import from_log, load, read_log, save

pd = pytest.importorskip("pandas")


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


def test_times_are_aligned_with_entries(log):
    ds = from_log(log, time="when", quantity="qty")
    M = ds.purchases
    assert ds.events.times.shape[0] == M.data.sum()
    day = np.datetime64("2024-01-01", "D").astype(np.int64)
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


def test_bad_logs(log, tmp_path):
    with pytest.raises(ValueError, match=r"no person column 'user'; its columns are"):
        from_log(log, person="user")
    bad = log.assign(qty=[1, -1, 1, 1, 1, 1])
    with pytest.raises(ValueError, match="quantity column 'qty' must hold non-negative integers"):
        from_log(bad, quantity="qty")
    with pytest.raises(TypeError, match="log must be a pandas DataFrame"):
        from_log([1, 2, 3])
    with pytest.raises(ValueError, match="the log is empty"):
        from_log(log.iloc[:0])
    with pytest.raises(ValueError, match=r"must end in .csv, .csv.gz or .parquet"):
        (tmp_path / "x.txt").write_text("a")
        read_log(tmp_path / "x.txt")
