"""Officer names are personal data: reports show stable pseudonyms instead.

A pseudonym is the home city code and the officer's rank within that city by
officer_id (``ABC-1``, ``ABC-2`` … for a city ``ABC``): stable for the same officers table, readable
in a cross-city table, and impossible to reverse without the officers file.
"""
from __future__ import annotations

import pandas as pd

PERSONAL_COLUMNS = ("name",)


def pseudonyms_in_row_order(officers: pd.DataFrame) -> pd.Series:
    """The pseudonym of each officers row, in the table's own row order (RangeIndex)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from clusnet_analysis.ingest._arrow import as_arrow, concat, contiguous, str_series

    n = len(officers)
    if n == 0:
        return pd.Series([], dtype="str")
    city = contiguous(as_arrow(officers["home_city"]))
    table = pa.table({"city": city, "id": as_arrow(officers["officer_id"])})
    order = pc.sort_indices(table, sort_keys=[("city", "ascending"), ("id", "ascending")]).to_numpy()
    codes = pc.dictionary_encode(city).indices.to_numpy(zero_copy_only=False)[order]
    position = np.arange(n)
    first = np.maximum.accumulate(np.where(np.r_[True, codes[1:] != codes[:-1]], position, 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = position - first + 1
    return concat(str_series(city), "-", pd.Series(rank))


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
