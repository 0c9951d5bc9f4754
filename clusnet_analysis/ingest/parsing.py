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
_GROUPED_DOT_DECIMAL = r"^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d*)?$"  # 1,234.56 (UK); "0,887" is never grouped
_COMMA_NO_DOT = r"^[+-]?\d*,\d*$"



from clusnet_analysis.ingest._arrow import as_arrow as _arrow  # noqa: E402


def _fast_cast(text, to: pa.DataType):
    """Whole-column cast when every cell is already in canonical form (the common case), else None."""
    try:
        return pc.cast(text, to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def parse_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Decimal comma or point, thousands separators, spaces (also non-breaking) allowed."""
    text = _arrow(s)
    fast = _fast_cast(text, pa.float64())
    # "nan" and "inf" cast too, but are not amounts; empty cells (nulls) are skipped by all().
    if fast is not None and pc.all(pc.is_finite(fast)).as_py() is not False:
        values = fast.to_numpy(zero_copy_only=False)
        return pd.Series(values, index=s.index, dtype="float64"), pd.Series(False, index=s.index)
    text = pc.replace_substring_regex(text, "[\\s\u00a0\u202f']", "")
    has_comma = pc.any(pc.match_substring(text, ",")).as_py()
    if has_comma:
        comma_grouped = pc.match_substring_regex(text, _GROUPED_COMMA_DECIMAL)
        dot_grouped = pc.match_substring_regex(text, _GROUPED_DOT_DECIMAL)
        # A cell like "10,99" or "0,887" shows the column uses decimal commas; then
        # "10,620" there is 10.62 (an fx rate with 3 decimals), not 10,620.
        decimal_comma = pc.and_(pc.match_substring_regex(text, _COMMA_NO_DOT), pc.invert(dot_grouped))
        if pc.any(decimal_comma).as_py():
            dot_grouped = pc.and_(dot_grouped, pc.match_substring(text, "."))
        text = pc.if_else(comma_grouped, pc.replace_substring(text, ".", ""), text)
        text = pc.if_else(dot_grouped, pc.replace_substring(text, ",", ""), text)
        text = pc.replace_substring(text, ",", ".")
    ok = pc.match_substring_regex(text, _NUMBER)
    has_comma_left = pc.match_substring(text, ",")
    good = pc.and_(ok, pc.invert(has_comma_left))
    cleaned = pc.if_else(good, text, pa.scalar(None, text.type))
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


# Accepted date shapes (day-first European forms, ISO first). Checked strictly:
# 31.02.2010 is an error, not 3 March.
DATE_PATTERNS = (
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$",
    r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$",
    r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$",
    r"^(?P<d>\d{1,2})-(?P<m>\d{1,2})-(?P<y>\d{4})$",
    r"^(?P<y>\d{4})[./](?P<m>\d{1,2})[./](?P<d>\d{1,2})$",
)


def _components(text, pattern: str, todo: np.ndarray):
    parts = pc.extract_regex(text, pattern)
    ok = pc.is_valid(parts).to_numpy(zero_copy_only=False) & todo
    if not ok.any():
        return ok, None, None, None
    field = lambda name: pc.fill_null(pc.cast(pc.struct_field(parts, name), pa.int64()), 0).to_numpy(zero_copy_only=False)  # noqa: E731
    return ok, field("y"), field("m"), field("d")


def parse_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    fast = _fast_cast(_arrow(s), pa.date32())   # strict ISO: rejects 2010-02-30
    if fast is not None:
        values = fast.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
        return pd.Series(values, index=s.index), pd.Series(False, index=s.index)
    text = _strip_time(_arrow(s))
    present = pc.is_valid(text).to_numpy(zero_copy_only=False)
    values = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[D]")
    unmatched = present.copy()          # non-empty cells no pattern has recognised yet
    impossible = np.zeros(len(s), bool)  # right shape, impossible date (31.02.2010)
    for pattern in DATE_PATTERNS:
        if not unmatched.any():
            break
        ok, y, m, d = _components(text, pattern, unmatched)
        if y is None:
            continue
        months = ((y - 1970) * 12 + np.clip(m, 1, 12) - 1).astype("datetime64[M]")
        first = months.astype("datetime64[D]")
        days_in_month = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
        valid = ok & (m >= 1) & (m <= 12) & (d >= 1) & (d <= days_in_month)
        values[valid] = first[valid] + (d[valid] - 1).astype("timedelta64[D]")
        impossible |= ok & ~valid
        unmatched &= ~ok
    bad = unmatched | impossible
    return pd.Series(values.astype("datetime64[ns]"), index=s.index), pd.Series(bad, index=s.index)


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
