"""Numba kernels of purchase logs: lines grouped by person (a counting sort), then each
person's lines sorted by item and time and summed into CSR entries.

Both kernels are serial (``nogil=True``, cached): the work is one pass over the lines.
Nothing here validates its input: the caller (``fastbip.io.logs``) does.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def scatter_lines(rows, cols, qty, times, weights, fill, out_cols, out_qty, out_times, out_weights):
    """Place one batch of log lines in the slots of their rows (a counting sort).

    rows: int32 or int64 (b,), each in [0, n). cols: int32 or int64 (b,). qty: int64 (b,)
    or (0,) when every line counts 1. times, weights: float64 (b,) or (0,) when absent.
    fill: int64 (n,), the next free slot of each row (advanced in place). out_cols: int32 or
    int64 (L,); out_qty: int64 (L,) or (0,); out_times, out_weights: float64 (L,) or (0,):
    the slots of all L lines, row r owning ``[line_ptr[r], line_ptr[r + 1])``.
    Precondition: every row has room for its lines of this batch.
    """
    has_q = qty.size > 0
    has_t = times.size > 0
    has_w = weights.size > 0
    for k in range(rows.size):
        r = rows[k]
        p = fill[r]
        fill[r] = p + 1
        out_cols[p] = cols[k]
        if has_q:
            out_qty[p] = qty[k]
        if has_t:
            out_times[p] = times[k]
        if has_w:
            out_weights[p] = weights[k]


@njit(cache=True, nogil=True)
def compress_lines(
    line_ptr, cols, qty, times, weights, indptr, indices, data, wsum, offsets, ev_times
):
    """Sum each row's lines into CSR entries (sorted columns) and lay out their times.

    line_ptr: int64 (n + 1,), the lines of row r at ``[line_ptr[r], line_ptr[r + 1])``.
    cols: int32 or int64 (L,). qty: int64 (L,), or (0,) when every line counts 1; lines of
    quantity 0 are dropped. times, weights: float64 (L,) or (0,) when absent. Outputs:
    indptr: int64 (n + 1,); indices: int32 or int64 (>= nnz,); data: int32 or int64
    (>= nnz,), wide enough for an entry's total;
    wsum: float64 (>= nnz,) or (0,), the sum of the weights of an entry's lines; offsets:
    int64 (>= nnz + 1,), or (1,) when there are no times (then only offsets[0] is set),
    ev_times: float64 (>= sum of qty,) or (0,): entry e's times,
    sorted, at ``ev_times[offsets[e]:offsets[e + 1]]``, one per unit of quantity.
    Returns (nnz, n_events) as int64.
    """
    n = line_ptr.size - 1
    has_q = qty.size > 0
    has_t = times.size > 0
    has_w = weights.size > 0
    # the order of a row's lines by column: an insertion sort into ``buf`` for short rows
    # (most rows; no allocation), np.argsort (stable) for long ones
    buf = np.empty(64, np.int64)
    e = 0
    ev = 0
    indptr[0] = 0
    offsets[0] = 0
    for r in range(n):
        lo = line_ptr[r]
        cnt = line_ptr[r + 1] - lo
        if cnt <= 64:
            order = buf
            for u in range(cnt):
                c = cols[lo + u]
                q = u
                while q > 0 and cols[lo + order[q - 1]] > c:
                    order[q] = order[q - 1]
                    q -= 1
                order[q] = u
        else:
            order = np.argsort(cols[lo : lo + cnt], kind="mergesort")
        s = 0
        while s < cnt:
            col = cols[lo + order[s]]
            end = s + 1
            while end < cnt and cols[lo + order[end]] == col:
                end += 1
            total = 0
            w = 0.0
            ev0 = ev
            for u in range(s, end):
                k = lo + order[u]
                q = qty[k] if has_q else 1
                if q == 0:
                    continue
                total += q
                if has_w:
                    w += weights[k]
                if has_t:
                    for _ in range(q):
                        ev_times[ev] = times[k]
                        ev += 1
            if total > 0:
                if has_t and ev - ev0 > 1:
                    ev_times[ev0:ev] = np.sort(ev_times[ev0:ev])
                indices[e] = col
                data[e] = total
                if has_w:
                    wsum[e] = w
                if has_t:
                    offsets[e + 1] = ev
                e += 1
            s = end
        indptr[r + 1] = e
    return e, ev


@njit(cache=True, nogil=True)
def parse_int_fields(buf, delim, slot, out):
    """Parse the integer fields of every line of CSV text (no header).

    buf: uint8 (L,), whole lines (the last may lack its line end); empty lines are skipped.
    delim: the delimiter byte. slot: int64 (n_fields,), the row of ``out`` that field f goes
    to, or -1 for a field not parsed; a line must have exactly n_fields fields. out: int64
    (rows, >= lines), filled. A parsed field must be a plain decimal integer:
    ``-?(0|[1-9][0-9]{0,17})``, nothing around it. Returns the number of lines, or -1 when a
    line is not of that simple form (a quote anywhere, another number of fields, a parsed
    field that is not such an integer): then the caller reads the text with a general CSV
    reader, which names the defect or reads the fields as what they are.
    """
    n_fields = slot.size
    n = 0
    i = 0
    size = buf.size
    while i < size:
        c = buf[i]
        if c == 10:
            i += 1
            continue
        if c == 13 and i + 1 < size and buf[i + 1] == 10:
            i += 2
            continue
        field = 0
        while True:
            if field >= n_fields:
                return -1
            row = slot[field]
            if row >= 0:
                neg = False
                if i < size and buf[i] == 45:
                    neg = True
                    i += 1
                start = i
                v = np.int64(0)
                while i < size and buf[i] >= 48 and buf[i] <= 57:
                    v = v * 10 + np.int64(buf[i] - 48)
                    i += 1
                nd = i - start
                if nd == 0 or nd > 18:
                    return -1
                if buf[start] == 48 and (nd > 1 or neg):
                    return -1
                if i < size and buf[i] != delim and buf[i] != 10 and buf[i] != 13:
                    return -1
                out[row, n] = -v if neg else v
            else:
                while i < size and buf[i] != delim and buf[i] != 10:
                    if buf[i] == 34:
                        return -1
                    i += 1
            if i < size and buf[i] == delim:
                field += 1
                i += 1
                continue
            if i < size and buf[i] == 13:
                i += 1
                if i < size and buf[i] != 10:
                    return -1
            if i < size:
                i += 1  # the line end
            break
        if field != n_fields - 1:
            return -1
        n += 1
    return n


@njit(cache=True, nogil=True)
def mark_seen(x, lo, seen):
    """seen[x[k] - lo] = True for every k.

    x: int64 (b,); lo: int; seen: bool (span,), set in place. Precondition:
    lo <= x[k] < lo + seen.size.
    """
    for k in range(x.size):
        seen[x[k] - lo] = True


@njit(cache=True, nogil=True)
def rank_of(x, lo, rank, out):
    """out[k] = rank[x[k] - lo].

    x: int64 (b,); lo: int; rank: int32 (span,); out: int32 (b,), filled. Precondition:
    lo <= x[k] < lo + rank.size.
    """
    for k in range(x.size):
        out[k] = rank[x[k] - lo]
