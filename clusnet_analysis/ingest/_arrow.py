"""Small pyarrow helpers for the hot paths (millions of rows).

pandas 3 stores text in Arrow arrays; working on those arrays directly avoids
Python-object round-trips (``isin`` on 5M strings: 6 s in pandas, 0.3 s here).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def as_arrow(s: pd.Series) -> pa.Array:
    arr = s.array
    data = getattr(arr, "_pa_array", None)
    if data is None:
        data = pa.array(s.astype("str").where(s.notna()), type=pa.string())
    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks() if data.num_chunks != 1 else data.chunk(0)
    if data.type != pa.string():
        data = data.cast(pa.string())
    return data


def positions(keys: pd.Series, values: pd.Series) -> np.ndarray:
    """Position in ``keys`` of each of ``values`` (-1 when absent); keys are assumed unique."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(keys) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    idx = pc.index_in(as_arrow(values), value_set=as_arrow(keys))
    return pc.fill_null(idx, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def isin(values: pd.Series, allowed) -> np.ndarray:
    """Boolean membership; NaN is never a member."""
    if len(values) == 0:
        return np.zeros(0, dtype=bool)
    allowed_arr = as_arrow(pd.Series(list(allowed) if not isinstance(allowed, pd.Series) else allowed,
                                     dtype="str"))
    if len(allowed_arr) == 0:
        return np.zeros(len(values), dtype=bool)
    hit = pc.is_in(as_arrow(values), value_set=allowed_arr)
    return pc.fill_null(hit, False).to_numpy(zero_copy_only=False)


def strftime(dates: pd.Series) -> pd.Series:
    """Dates as ISO text (YYYY-MM-DD; NaN for NaT), fast: date32 cast instead of strftime."""
    arr = pa.array(dates.to_numpy(dtype="datetime64[D]"), type=pa.date32(), from_pandas=True)
    return str_series(pc.cast(arr, pa.string()), index=dates.index)


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
        if isinstance(p, pd.Series):
            arrays.append(as_arrow(p.astype("str") if p.dtype != "str" else p))
        else:
            arrays.append(pa.scalar(str(p), pa.string()))
    joined = pc.binary_join_element_wise(*arrays, "", null_handling="replace", null_replacement="")
    if isinstance(joined, pa.Scalar):
        joined = pa.array([joined.as_py()] * n, pa.string())
    first = next(p for p in parts if isinstance(p, pd.Series))
    return str_series(joined, index=first.index if index is None else index)
