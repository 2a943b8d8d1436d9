"""Column conversions of purchase logs (Arrow arrays in, numpy arrays out): ids, quantities,
weights, times and the features of people and item tables. Every defect raises an error
naming the column; :mod:`fastbip.io.logs` documents the rules.
"""

from __future__ import annotations

import numpy as np

TIME_UNITS = {"s": 86_400.0, "ms": 86_400e3, "us": 86_400e6, "ns": 86_400e9, "D": 1.0}
_CANONICAL_INT = r"^(0|-?[1-9][0-9]{0,17})$"  # not "-0": it would be 0
_MISSING = "<missing>"


def _arrow():
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("reading logs needs pyarrow and pandas: pip install 'fastbip[io]'") from e
    return pa, pc


def _rows(mask: np.ndarray, offset: int) -> str:
    where = np.flatnonzero(mask)[:5] + offset
    more = ", ..." if int(mask.sum()) > 5 else ""
    return ", ".join(str(int(r)) for r in where) + more


# ------------------------------------------------------------------------ column conversions


def _decode(a):
    pa, pc = _arrow()
    if pa.types.is_dictionary(a.type):
        a = a.dictionary_decode()
    return a


def _is_text(t) -> bool:
    pa, _ = _arrow()
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _ids(a, role: str, name: str, offset: int, what: str = "the log's", blanks: bool = True):
    """Ids as int64 or strings; refuse missing, blank (when ``blanks``), non-integer numbers
    and other types."""
    pa, pc = _arrow()
    a = _decode(a)
    t = a.type
    blank = np.asarray(a.is_null()) if a.null_count else np.zeros(len(a), bool)
    if blanks and _is_text(t):
        blank = blank | np.asarray(pc.fill_null(pc.equal(pc.utf8_trim_whitespace(a), ""), False))
    if blank.any():
        raise ValueError(
            f"{what} {role} column {name!r} has blank or missing ids (None, NaN, NA or "
            f"empty) at rows {_rows(blank, offset)} (counting data rows from 0)"
        )
    if pa.types.is_integer(t):
        return pc.cast(a, pa.int64())
    if _is_text(t):
        return a
    if pa.types.is_floating(t):
        x = a.to_numpy(zero_copy_only=False)
        bad = ~np.isfinite(x) | (x != np.round(x))
        if bad.any():
            raise ValueError(
                f"{what} {role} column {name!r} holds numbers that are not integers (such as "
                f"{float(x[bad][0])!r} at row {_rows(bad, offset).split(',')[0]}); ids must be "
                "integers or strings"
            )
        return pa.array(x.astype(np.int64))
    raise TypeError(f"{what} {role} column {name!r} must hold integer or string ids; got {t}")


def _unique_ids(a, role: str, name: str, offset: int):
    """Checked ids of one batch: (distinct ids, the code of each line in them)."""
    pa, pc = _arrow()
    a = _ids(a, role, name, offset, blanks=False)
    enc = pc.dictionary_encode(a)
    uniq = enc.dictionary
    if _is_text(uniq.type):
        blank = pc.equal(pc.utf8_trim_whitespace(uniq), "")
        if pc.any(blank).as_py():  # find the rows only when there are some
            _ids(a, role, name, offset)
    return uniq, enc.indices.to_numpy()


def _kind(a) -> str:
    pa, _ = _arrow()
    return "int" if pa.types.is_integer(a.type) else "str"


def _canonical_ints(ids):
    """String ids that are all plain decimal integers, as int64; else unchanged."""
    pa, pc = _arrow()
    if (
        _kind(ids) == "str"
        and len(ids)
        and pc.all(pc.match_substring_regex(ids, _CANONICAL_INT)).as_py()
    ):
        return pc.cast(ids, pa.int64())
    return ids


def _quantity(a, name: str, offset: int) -> np.ndarray:
    pa, _ = _arrow()
    a = _decode(a)
    if not (pa.types.is_integer(a.type) or pa.types.is_floating(a.type)):
        raise TypeError(f"the log's quantity column {name!r} must be numeric; got {a.type}")
    x = a.to_numpy(zero_copy_only=False)
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x) | (x < 0) | (x != np.round(x))
    else:
        bad = x < 0
    if bad.any():
        raise ValueError(
            f"the log's quantity column {name!r} must hold non-negative integers; rows "
            f"{_rows(bad, offset)} do not (counting data rows from 0)"
        )
    return x.astype(np.int64)


def _weights(a, name: str, offset: int) -> np.ndarray:
    pa, _ = _arrow()
    a = _decode(a)
    if not (pa.types.is_integer(a.type) or pa.types.is_floating(a.type)):
        raise TypeError(f"the log's weight column {name!r} must be numeric; got {a.type}")
    x = a.to_numpy(zero_copy_only=False).astype(np.float64)
    bad = ~np.isfinite(x)
    if bad.any():
        raise ValueError(
            f"the log's weight column {name!r} has missing or infinite values at rows "
            f"{_rows(bad, offset)} (counting data rows from 0)"
        )
    return x


def _days(a, name: str, unit: str | None, offset: int) -> np.ndarray:
    """Times as float64 days since 1970-01-01 UTC (see the module docstring)."""
    pa, pc = _arrow()
    a = _decode(a)
    t = a.type
    if a.null_count:
        raise ValueError(
            f"the log's time column {name!r} has missing times (null, NaN or NaT) at rows "
            f"{_rows(np.asarray(a.is_null()), offset)} (counting data rows from 0)"
        )
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        a, t = _parse_times(a, name), None
        t = a.type
    temporal = pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_duration(t)
    if temporal and unit is not None:
        raise ValueError(
            f"time_unit={unit!r} applies to numeric times, but the log's time column {name!r} "
            f"holds {t}; leave time_unit out"
        )
    if pa.types.is_timestamp(t) or pa.types.is_duration(t):
        ticks = pc.cast(a, pa.int64()).to_numpy()
        return ticks / TIME_UNITS[t.unit]
    if pa.types.is_date32(t):
        return pc.cast(a, pa.int32()).to_numpy().astype(np.float64)
    if pa.types.is_date64(t):
        return pc.cast(a, pa.int64()).to_numpy() / TIME_UNITS["ms"]
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        if unit is None:
            raise ValueError(
                f"the log's time column {name!r} is numeric ({t}): pass time_unit='s', 'ms', "
                "'us', 'ns' or 'D' to say what one unit is (unix seconds: time_unit='s')"
            )
        x = a.to_numpy(zero_copy_only=False).astype(np.float64)
        bad = ~np.isfinite(x)
        if bad.any():
            raise ValueError(
                f"the log's time column {name!r} has infinite times at rows {_rows(bad, offset)}"
            )
        return x / TIME_UNITS[unit]
    raise TypeError(
        f"the log's time column {name!r} must hold datetimes, dates, timedeltas or numbers; got {t}"
    )


def _parse_times(a, name: str):
    pa, pc = _arrow()
    for target in (pa.timestamp("ns"), pa.timestamp("ns", tz="UTC")):
        try:
            return pc.cast(a, target)
        except pa.ArrowInvalid:
            pass
    import pandas as pd

    try:
        s = pd.to_datetime(a.to_pandas(), utc=True, format="ISO8601")
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"the log's time column {name!r} holds text that is not a date or time: {e}"
        ) from None
    return pa.array(s)


def _features(cols: dict, what: str):
    pa, pc = _arrow()
    columns, kinds, categories = {}, {}, {}
    for name, a in cols.items():
        a = _decode(a)
        t = a.type
        if (
            pa.types.is_integer(t)
            or pa.types.is_floating(t)
            or pa.types.is_timestamp(t)
            or pa.types.is_date(t)
        ):
            x = (
                _days(a.fill_null(0), name, None, 0)
                if not (pa.types.is_integer(t) or pa.types.is_floating(t))
                else a.to_numpy(zero_copy_only=False).astype(np.float64)
            )
            bad = ~np.isfinite(x) | np.asarray(a.is_null())
            if bad.any():
                raise ValueError(
                    f"{what}'s column {name!r} has missing or infinite values at rows "
                    f"{_rows(bad, 0)}; fill or drop them"
                )
            columns[name], kinds[name] = x, "numeric"
        elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t):
            s = pc.fill_null(pc.cast(a, pa.large_string()), _MISSING).to_numpy(zero_copy_only=False)
            cats, codes = np.unique(s.astype(str), return_inverse=True)
            columns[name], kinds[name] = codes.astype(np.int32), "categorical"
            categories[name] = tuple(str(c) for c in cats)
        else:
            raise TypeError(
                f"{what}'s column {name!r} must be numeric, datetime, string, boolean or "
                f"categorical to be a feature; got {t}"
            )
    return columns, kinds, categories


def _like(a, key):
    """Ids ``a`` in the type of ``key`` (int64 or a string type)."""
    pa, pc = _arrow()
    if a.type == key.type:
        return a
    return pc.cast(a, key.type)


# ------------------------------------------------------------------- ids of one batch, fast


def _text_as_ints(a):
    """String ids that are all plain decimal integers (``"7"``, not ``"007"``, ``"+7"`` or
    ``" 7"``) as int64, else None. The cast rejects what is not an integer; the first two
    bytes of each value (read from the array's buffers) reject the non-canonical forms the
    cast accepts, and the length the integers beyond 18 digits."""
    pa, pc = _arrow()
    if a.null_count or len(a) == 0:
        return None
    try:
        v = pc.cast(a, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    off_t = np.int64 if pa.types.is_large_string(a.type) else np.int32
    bufs = a.buffers()
    offs = np.frombuffer(bufs[1], dtype=off_t)[a.offset : a.offset + len(a) + 1]
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    start, length = offs[:-1], np.diff(offs)
    if length.min() < 1:
        return None
    first = data[start]
    neg = first == ord("-")
    digits = length - neg
    if digits.min() < 1 or digits.max() > 18:
        return None
    lead = np.where(neg, data[np.minimum(start + 1, data.size - 1)], first)
    bad = (lead < ord("0")) | (lead > ord("9")) | ((lead == ord("0")) & ((digits > 1) | neg))
    return None if bad.any() else v


def _batch_ids(a, role: str, name: str, offset: int, text_ints: bool):
    """Checked ids of one batch (int64 or text; blanks are looked for later, in the distinct
    ids, by :func:`_encode_ids`); with ``text_ints`` (a CSV column), text that is all plain
    decimal integers becomes int64 at once, so that integers, not text, are hashed."""
    a = _decode(a)
    if text_ints and _is_text(a.type):
        v = _text_as_ints(a)
        if v is not None:
            return v
    return _ids(a, role, name, offset, blanks=False)


def _dense_codes(xs: list):
    """Integer ids whose range is at most ``max(2**22, lines)`` wide, numbered without
    hashing: a table of the values seen over the range, its running count the codes (in
    numeric order). ``(ids, int32 codes per batch)``, or None for a wider range."""
    sizes = [x.size for x in xs if x.size]
    if not sizes:
        return None
    lo = min(int(x.min()) for x in xs if x.size)
    hi = max(int(x.max()) for x in xs if x.size)
    span = hi - lo + 1
    if span > max(1 << 22, sum(sizes)):
        return None
    pa, _ = _arrow()
    from fastbip._kernels import logs as _kl

    seen = np.zeros(span, np.bool_)
    for x in xs:
        _kl.mark_seen(x, lo, seen)
    rank = np.cumsum(seen, dtype=np.int32)
    rank -= 1
    ids = pa.array(np.flatnonzero(seen).astype(np.int64) + lo)
    codes = []
    for x in xs:
        out = np.empty(x.size, np.int32)
        _kl.rank_of(x, lo, rank, out)
        codes.append(out)
    return ids, codes


def _encode_ids(arrays: list, starts: list, role: str, name: str, text_ints: bool):
    """The distinct ids of all batches (:func:`_batch_ids`'s arrays, batch b starting at data
    row ``starts[b]``) and each batch's int32 codes in them: for integer ids in a range not
    much wider than the number of lines, a table over the range (:func:`_dense_codes`), else
    one hash table over all lines (``dictionary_encode`` of the chunked column). Ids are
    int64 when every batch's are, else text (integer batches written back as the decimal
    text they were, being canonical); with ``text_ints``, text ids that are all plain
    decimal integers become int64. Blank text ids are an error naming their rows."""
    pa, pc = _arrow()
    kinds = {_kind(a) for a in arrays}
    if kinds == {"int"}:
        dense = _dense_codes([a.to_numpy(zero_copy_only=False) for a in arrays])
        if dense is not None:
            return dense
    if kinds == {"str"} and len({a.type for a in arrays}) == 1:
        typ = arrays[0].type
    elif kinds == {"int"}:
        typ = pa.int64()
    else:
        typ = pa.large_string()
        arrays = [a if a.type == typ else pc.cast(a, typ) for a in arrays]
    enc = pc.dictionary_encode(pa.chunked_array(arrays, type=typ))
    u = enc.chunks[-1].dictionary
    if _is_text(u.type):
        if pc.any(pc.equal(pc.utf8_trim_whitespace(u), "")).as_py():
            for a, lo in zip(arrays, starts, strict=True):  # raises, naming the rows
                _ids(a, role, name, lo)
        u = pc.cast(u, pa.large_string())
        if text_ints:
            u = _canonical_ints(u)
    return u, [c.indices.to_numpy() for c in enc.chunks]
