"""Small pyarrow helpers for the hot paths (millions of rows).

pandas 3 stores text in Arrow arrays; working on those arrays directly avoids
Python-object round-trips (``isin`` on 5M strings: 6 s in pandas, 0.3 s here).

pandas keeps text as ``large_string``, in the chunks the CSV reader produced.
:func:`as_arrow` hands that storage over as it is: casting to ``string`` or
joining the chunks would copy every column each time it is looked at, and on
a million exchanges those copies (and the fresh memory they fault in) cost
more than the work itself. Arrow's kernels take chunked arrays; only a lookup
set must be one array (:func:`contiguous`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

TEXT = pa.large_string()   # how pandas 3 stores a "str" column


def as_arrow(s: pd.Series) -> pa.Array | pa.ChunkedArray:
    """The text of a Series as Arrow ``large_string``, without copying when pandas already holds it so."""
    data = getattr(s.array, "_pa_array", None)
    if data is None:
        data = pa.array(s.astype("str").where(s.notna()), type=TEXT)
    if not pa.types.is_large_string(data.type):
        data = data.cast(TEXT)
    return data


# Masks keeping the first r bytes of a little-endian 8-byte word, r = 0..8.
_BYTE_MASKS = np.array([(1 << (8 * r)) - 1 for r in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_SEED = np.uint64(0x9E3779B97F4A7C15)


def _mix64(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place: every input bit moves every output bit (uint64, wrapping)."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


def text_hashes(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A 64-bit hash of each value's UTF-8 bytes and length (uint64); missing values hash like "".

    Vectorised over Arrow's buffers eight bytes at a time (an id of 12 bytes is two steps),
    never one Python string at a time. For finding candidates, not for telling values apart:
    equal values always hash alike, unequal ones almost never do. (Officer pseudonyms have
    their own, fixed, keyed hash in ``privacy``.)
    """
    if isinstance(arr, pa.ChunkedArray):
        parts = [text_hashes(chunk) for chunk in arr.chunks]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    arr = arr.cast(TEXT) if arr.type != TEXT else arr
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset: arr.offset + n + 1]
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    if arr.null_count:
        lengths = np.where(arr.is_valid().to_numpy(zero_copy_only=False), lengths, 0)
    h = _mix64(_SEED ^ lengths.astype(np.uint64))
    longest = int(lengths.max())
    if longest == 0:
        return h
    # Eight zero bytes after the data, so the last value's word never reads past the buffer;
    # `words[i]` is the little-endian 8-byte word starting at byte i (unaligned reads).
    data = np.concatenate([np.frombuffer(data_buf, dtype=np.uint8), np.zeros(8, dtype=np.uint8)])
    words = np.ndarray(shape=(len(data) - 7,), dtype="<u8", buffer=data, strides=(1,))
    last, shortest = len(words) - 1, int(lengths.min())
    for first_byte in range(0, longest, 8):
        at = starts + first_byte
        if first_byte + 8 <= shortest:    # a whole word of every value
            h ^= words[at]
            _mix64(h)
            continue
        remaining = lengths - first_byte
        word = words[np.minimum(at, last, out=at)] & _BYTE_MASKS[np.clip(remaining, 0, 8)]
        if first_byte < shortest:         # the last bytes of every value
            h ^= word
            _mix64(h)
        else:                             # values already done keep their hash: it must not depend
            h = np.where(remaining > 0, _mix64(h ^ word), h)   # on how long the others are
    return h


def contiguous(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One Array (a lookup set must be one); copies only when there are several chunks."""
    if isinstance(arr, pa.ChunkedArray):
        return arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def unless_unchanged(arr: pa.Array | pa.ChunkedArray, transform) -> pa.ChunkedArray:
    """``transform`` applied chunk by chunk, keeping each chunk it leaves as it was.

    For clean-up steps that usually change nothing (case folding codes that are already
    upper case): the result then shares the input's memory instead of doubling it.
    """
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    out = []
    for chunk in chunks:
        changed = transform(chunk)
        out.append(chunk if changed.equals(chunk) else changed)
    return pa.chunked_array(out, type=arr.type)


def positions(keys: pd.Series, values: pd.Series) -> np.ndarray:
    """Position in ``keys`` of each of ``values`` (-1 when absent); keys are assumed unique."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(keys) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    idx = pc.index_in(as_arrow(values), value_set=contiguous(as_arrow(keys)))
    return pc.fill_null(idx, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def isin(values: pd.Series, allowed) -> np.ndarray:
    """Boolean membership; NaN is never a member."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    allowed_arr = contiguous(as_arrow(pd.Series(list(allowed) if not isinstance(allowed, pd.Series) else allowed,
                                                dtype="str")))
    if len(allowed_arr) == 0:
        return np.zeros(len(values), dtype=bool)
    hit = pc.is_in(as_arrow(values), value_set=allowed_arr)
    return pc.fill_null(hit, False).to_numpy(zero_copy_only=False)


def strftime(dates: pd.Series) -> pd.Series:
    """Dates as ISO text (YYYY-MM-DD; NaN for NaT), fast: date32 cast instead of strftime."""
    arr = pa.array(dates.to_numpy(dtype="datetime64[D]"), type=pa.date32(), from_pandas=True)
    return str_series(pc.cast(arr, TEXT), index=dates.index)


def str_series(arr, index=None) -> pd.Series:
    """An Arrow string array as a pandas "str" Series without a round-trip through Python objects."""
    s = pd.Series(pd.array(arr, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))
    if index is not None:
        s.index = index
    return s


def concat(*parts, index=None) -> pd.Series:
    """Element-wise string concatenation of Series and plain strings (missing -> "")."""
    n = next(len(p) for p in parts if isinstance(p, pd.Series))
    arrays = []
    for p in parts:
        if isinstance(p, pd.Series) and p.dtype.kind in "iu":   # numpy integers: "12" either way, no Python loop
            arrays.append(pc.cast(pa.array(p.to_numpy()), TEXT))
        elif isinstance(p, pd.Series):
            arrays.append(as_arrow(p.astype("str") if p.dtype != "str" else p))
        else:
            arrays.append(pa.scalar(str(p), TEXT))
    joined = pc.binary_join_element_wise(*arrays, pa.scalar("", TEXT), null_handling="replace",
                                         null_replacement="")
    if isinstance(joined, pa.Scalar):
        joined = pa.array([joined.as_py()] * n, TEXT)
    first = next(p for p in parts if isinstance(p, pd.Series))
    return str_series(joined, index=first.index if index is None else index)
