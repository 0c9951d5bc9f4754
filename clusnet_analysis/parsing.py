"""Turning spreadsheet text into typed columns, cell by cell, without losing a bad cell.

Every parser takes a text Series (NaN = empty) and returns ``(typed, bad)``
where ``bad`` marks non-empty cells that could not be read. Work happens in
pyarrow compute so millions of rows take a fraction of a second.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Accepted number shapes after removing spaces: 1234.5  1234,5  1.234,5  1,234.5  -12  1e3
_NUMBER = r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$"
_GROUPED_COMMA_DECIMAL = r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$"    # 1.234,56 (German, Swedish…)
_GROUPED_DOT_DECIMAL = r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$"      # 1,234.56 (UK)

# Day-first European forms, ISO first. Hungarian exports write 2010.03.15. (trailing dot).
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%Y.%m.%d", "%Y/%m/%d", "%d-%m-%Y")


def _arrow(s: pd.Series) -> pa.ChunkedArray | pa.Array:
    arr = s.array
    if hasattr(arr, "_pa_array"):
        return arr._pa_array
    return pa.array(s.astype("str").where(s.notna()), type=pa.string())


def parse_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Decimal comma or point, thousands separators, spaces (also non-breaking) allowed."""
    text = _arrow(s)
    text = pc.replace_substring_regex(text, "[\\s\u00a0\u202f']", "")
    has_comma = pc.any(pc.match_substring(text, ",")).as_py()
    if has_comma:
        comma_grouped = pc.match_substring_regex(text, _GROUPED_COMMA_DECIMAL)
        dot_grouped = pc.match_substring_regex(text, _GROUPED_DOT_DECIMAL)
        text = pc.if_else(comma_grouped, pc.replace_substring(text, ".", ""), text)
        text = pc.if_else(dot_grouped, pc.replace_substring(text, ",", ""), text)
        text = pc.replace_substring(text, ",", ".")
    ok = pc.match_substring_regex(text, _NUMBER)
    has_comma_left = pc.match_substring(text, ",")
    good = pc.and_(ok, pc.invert(has_comma_left))
    cleaned = pc.if_else(good, text, pa.scalar(None, pa.string()))
    values = pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False)
    present = pc.is_valid(text).to_numpy(zero_copy_only=False)
    bad = present & ~pc.fill_null(good, False).to_numpy(zero_copy_only=False)
    return pd.Series(values, index=s.index, dtype="float64"), pd.Series(bad, index=s.index)


def parse_integer(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    values, bad = parse_number(s)
    fractional = values.notna() & (values != np.floor(values.fillna(0)))
    values = values.where(~fractional)
    return values.astype("Int64"), bad | fractional


def _strip_time(text):
    # "2009-09-14 00:00:00" from Excel, "2010.03.15." from Hungarian exports.
    text = pc.replace_substring_regex(text, r"[ T]00:00(:00(\.0+)?)?$", "")
    return pc.replace_substring_regex(text, r"\.$", "")


def parse_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = _strip_time(_arrow(s))
    present = pc.is_valid(text).to_numpy(zero_copy_only=False)
    result = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]")
    todo = present.copy()
    text_pd = pd.Series(text.to_pandas().to_numpy(), index=s.index, dtype="str")
    for fmt in DATE_FORMATS:
        if not todo.any():
            break
        candidates = text_pd[todo]
        parsed = pd.to_datetime(candidates, format=fmt, errors="coerce")
        hit = parsed.notna().to_numpy()
        idx = np.flatnonzero(todo)[hit]
        result[idx] = parsed[hit].to_numpy(dtype="datetime64[ns]")
        todo[idx] = False
    return pd.Series(result, index=s.index), pd.Series(todo, index=s.index)


def parse_month(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """YYYY-MM (also YYYY-MM-DD, MM/YYYY, MM.YYYY, YYYY.MM) -> "YYYY-MM"."""
    text = _strip_time(_arrow(s))
    text = pc.replace_substring_regex(text, r"^(\d{1,2})[./-](\d{4})$", r"\2-\1")
    text = pc.replace_substring_regex(text, r"^(\d{4})[./-](\d{1,2})([./-]\d{1,2})?$", r"\1-\2")
    text = pc.replace_substring_regex(text, r"^(\d{4})-(\d)$", r"\1-0\2")
    ok = pc.match_substring_regex(text, r"^\d{4}-(0[1-9]|1[0-2])$")
    good = pc.fill_null(ok, False).to_numpy(zero_copy_only=False)
    present = pc.is_valid(text).to_numpy(zero_copy_only=False)
    out = pd.Series(text.to_pandas().to_numpy(), index=s.index, dtype="str")
    out = out.where(good)
    return out, pd.Series(present & ~good, index=s.index)


PARSERS = {"number": parse_number, "integer": parse_integer, "date": parse_date, "month": parse_month}
WHAT = {"number": "a number", "integer": "a whole number", "date": "a date (YYYY-MM-DD or DD.MM.YYYY)",
        "month": "a month (YYYY-MM)"}
