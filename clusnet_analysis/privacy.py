"""Officer names are personal data: reports show stable pseudonyms instead.

A pseudonym is the home city code and a short code derived from the officer's id
alone (``ABC-7F3A``): a keyed 64-bit hash of the officer id, shown as its first four
hexadecimal digits. It depends on nothing else in the officers table, so a new
officer in a later data delivery, a removed one or a reordered file leaves every
other pseudonym as it was (numbering by rank within a city did not: one new
officer turned ``ABC-2`` into ``ABC-3``). Within a city, codes are checked for
collisions: when two officers' first four digits agree, the one with the smaller
full hash keeps them and the other gets as many more digits as it takes to differ.
The same id always gives the same pseudonym, in every run and on every machine;
without the officers file (ids and names) a pseudonym cannot be traced to a name.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

PERSONAL_COLUMNS = ("name",)
PSEUDONYM_DIGITS = 4
# Fixed on purpose: a pseudonym must not change between runs, machines or versions.
_KEY = np.uint64(0x636C75736E657431)   # "clusnet1"
_PRIME = np.uint64(0x100000001B3)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit (uint64, wrapping)."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def id_hashes(ids: pd.Series) -> np.ndarray:
    """A keyed 64-bit hash of each id's UTF-8 bytes (uint64), vectorised over the bytes.

    A million officer ids take a fraction of a second: the ids are read from their Arrow
    buffers as a byte matrix and hashed a byte column at a time, never one Python string
    at a time. Missing ids hash like the empty id.
    """
    import pyarrow as pa

    from clusnet_analysis.ingest._arrow import as_arrow, contiguous

    arr = contiguous(as_arrow(ids)).cast(pa.large_binary())   # one array: its buffers are read below
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset: arr.offset + n + 1]
    data = arr.buffers()[2]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    lengths = np.diff(offsets)
    if arr.null_count:
        lengths = np.where(arr.is_null().to_numpy(zero_copy_only=False), 0, lengths)
    h = np.full(n, _KEY, dtype=np.uint64) ^ lengths.astype(np.uint64)
    starts = offsets[:-1]
    shortest = int(lengths.min(initial=0))
    with np.errstate(over="ignore"):
        for column in range(int(lengths.max(initial=0))):
            if column < shortest:   # every id is this long: whole-array steps, in place
                h ^= data[column:][starts]
                h *= _PRIME
                _mix_in_place(h)
                continue
            has = np.flatnonzero(lengths > column)   # only ids this long: a hash never depends on others
            byte = data[offsets[:-1][has] + column].astype(np.uint64)
            h[has] = _mix((h[has] ^ byte) * _PRIME)
    return h


def _mix_in_place(h: np.ndarray) -> None:
    """:func:`_mix` without temporaries (same result)."""
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)


def _hex(h: np.ndarray, digits: int) -> np.ndarray:
    """The first ``digits`` upper-case hex digits of each uint64, as Python strings (vectorised)."""
    shifts = np.arange(60, 60 - 4 * digits, -4, dtype=np.int64).astype(np.uint64)
    nibbles = ((h[:, None] >> shifts[None, :]) & np.uint64(0xF)).astype(np.uint8)
    chars = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)[nibbles]
    return np.ascontiguousarray(chars).view(f"S{digits}").ravel().astype(f"U{digits}").astype(object)


def pseudonym_codes(cities: pd.Series, ids: pd.Series, digits: int = PSEUDONYM_DIGITS) -> pd.Series:
    """The code after the city (``7F3A``) for each (home city, officer id), collision-checked per city.

    Two officers of one city whose first ``digits`` hex digits agree: the one with the
    smaller full hash keeps them, the other gets more digits until it differs from every
    code in its city. Depending on the two ids only, this too survives new deliveries.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from clusnet_analysis.ingest._arrow import as_arrow, contiguous, str_series

    n = len(ids)
    hashes = id_hashes(ids)
    city = pc.dictionary_encode(contiguous(as_arrow(cities.astype("str")))).indices.to_numpy(zero_copy_only=False)
    city = np.nan_to_num(city.astype(np.float64), nan=-1).astype(np.int64) if city.dtype.kind == "f" else city
    order = np.lexsort((hashes, city))           # by city, then hash: every prefix is sorted too
    sorted_city, sorted_hash = city[order], hashes[order]
    width = np.zeros(n, dtype=np.int64)
    open_ = np.ones(n, dtype=bool)               # positions in `order` still without a code
    for digits_now in range(digits, 17):
        at = np.flatnonzero(open_)
        if not len(at):
            break
        c, h = sorted_city[at], sorted_hash[at]
        prefix = h >> np.uint64(64 - 4 * digits_now)
        new_group = np.r_[True, (c[1:] != c[:-1]) | (prefix[1:] != prefix[:-1])]
        # The smallest hash of each group keeps the short code; an officer listed twice shares it.
        first_hash = h[np.maximum.accumulate(np.where(new_group, np.arange(len(at)), 0))]
        keeps = at[new_group | (h == first_hash)]
        width[order[keeps]] = digits_now
        open_[keeps] = False
    if open_.any():  # 64 identical bits for two ids: astronomically unlikely, never silent
        raise ValueError("two officer ids in one city share a 64-bit pseudonym hash: "
                         + ", ".join(ids.iloc[order[np.flatnonzero(open_)][:3]].astype("str")))
    text = np.empty(n, dtype=object)
    for w in np.unique(width):
        at = width == w
        text[at] = _hex(hashes[at], int(w))
    return str_series(pa.array(text, type=pa.string()))


def pseudonyms_in_row_order(officers: pd.DataFrame) -> pd.Series:
    """The pseudonym of each officers row, in the table's own row order (RangeIndex)."""
    from clusnet_analysis.ingest._arrow import concat

    if len(officers) == 0:
        return pd.Series([], dtype="str")
    cities = officers["home_city"].reset_index(drop=True)
    codes = pseudonym_codes(cities, officers["officer_id"].reset_index(drop=True))
    return concat(cities, "-", codes)


def officer_labels(officers: pd.DataFrame, show_names: bool = False) -> pd.Series:
    """What reports print for each officers row (row order): the pseudonym, or "pseudonym (name)"."""
    from clusnet_analysis.ingest._arrow import concat

    labels = pseudonyms_in_row_order(officers)
    if show_names and not officers.empty:
        names = officers["name"].reset_index(drop=True).fillna("?").astype("str")
        labels = concat(labels, " (", names, ")")
    return labels


def without_personal_data(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=[c for c in PERSONAL_COLUMNS if c in df.columns])


def hide_personal_values(errors: pd.DataFrame, column: str = "column", value: str = "value") -> pd.DataFrame:
    """An error table with the value of every personal-data cell blanked."""
    if not len(errors) or value not in errors:
        return errors
    out = errors.copy()
    out.loc[out[column].isin(PERSONAL_COLUMNS), value] = "(personal data hidden)"
    return out
