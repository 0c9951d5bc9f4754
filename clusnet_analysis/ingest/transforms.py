"""Derived tables every analysis needs, built from validated tables.

Joins use integer positions (pyarrow ``index_in``) and sums use ``np.bincount``
so a million exchanges with five million expense lines convert in about a second.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

import pyarrow as pa
import pyarrow.compute as pc

from clusnet_analysis.ingest._arrow import TEXT, as_arrow, positions, str_series
from clusnet_analysis.privacy import officer_labels
from clusnet_analysis.rules.programme import Programme


def _take(values: pd.Series, pos: np.ndarray) -> pd.Series:
    """values[pos] as a new Series (RangeIndex); positions of -1 give missing values."""
    missing = pos < 0
    if values.dtype == "str" or values.dtype == object:
        idx = pa.array(np.maximum(pos, 0), mask=missing) if missing.any() else pa.array(pos)
        taken = pc.take(as_arrow(values), idx) if len(values) else pa.nulls(len(pos), pa.string())
        return str_series(taken)
    arr = values.to_numpy()
    out = arr[np.maximum(pos, 0)] if len(arr) else np.zeros(len(pos), dtype=arr.dtype)
    out = pd.Series(out)
    return out.where(~missing) if missing.any() else out


def assign_periods(dates: pd.Series, programme: Programme) -> pd.Series:
    """Reporting period of each date (NaN outside every period)."""
    code = np.full(len(dates), -1, dtype=np.int32)
    values = dates.to_numpy(dtype="datetime64[ns]")
    for i, p in enumerate(programme.periods):
        hit = (values >= np.datetime64(p.start, "ns")) & (values <= np.datetime64(p.end, "ns"))
        code[hit] = i   # a later period wins an overlap, as before
    # Codes into the period ids, made text by Arrow (no Python string per row).
    labels = pa.array([p.id for p in programme.periods], TEXT)
    text = pa.DictionaryArray.from_arrays(pa.array(code, mask=code < 0), labels).cast(TEXT)
    return str_series(text, index=dates.index)


def exchanges_view(tables: dict[str, pd.DataFrame], programme: Programme,
                   show_names: bool = False, officer_pos: np.ndarray | None = None) -> pd.DataFrame:
    """One row per exchange (row order of the exchanges table) with the officer's pseudonym and
    home city and the reporting period. ``officer_pos``: each exchange's row in the officers
    table, when validation already found it."""
    ex = tables["exchanges"].reset_index(drop=True)
    officers = tables["officers"]
    pos = positions(officers["officer_id"], ex["officer_id"]) if officer_pos is None else officer_pos
    labels = officer_labels(officers, show_names)   # row order of the officers table
    view = pd.DataFrame({
        "exchange_id": ex["exchange_id"],
        "officer_id": ex["officer_id"],
        "officer_pseudonym": _take(labels, pos),
        "home_city": _take(officers["home_city"], pos),
        "host_city": ex["host_city"],
        "start_date": ex["start_date"],
        "end_date": ex["end_date"],
        "status": ex["status"],
        "counted": (ex["status"] != "draft").to_numpy(),
        "group_visit_id": ex["group_visit_id"],
        "period": assign_periods(ex["start_date"], programme),
        "duration_days": ((ex["end_date"] - ex["start_date"]).dt.days + 1).astype("Int64"),
        "agenda_sent_date": ex["agenda_sent_date"],
        "report_received_date": ex["report_received_date"],
        "report_pages": ex["report_pages"],
        "report_language": ex["report_language"],
        "validated_on": _dates(ex, "validated_on"),
    })
    return view


def _dates(ex: pd.DataFrame, column: str) -> pd.Series:
    """A date column of the exchanges table as datetime64 (RangeIndex); NaT where empty or not a date.

    A column the schema types (start_date, validated_on…) is already a date; an extra column
    named by the programme (e.g. claimed_on) is still text and is parsed here like any date.
    """
    if column not in ex.columns:
        return pd.Series(np.full(len(ex), np.datetime64("NaT"), dtype="datetime64[ns]"))
    values = ex[column].reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    from clusnet_analysis.ingest.parsing import parse_date

    parsed, bad = parse_date(values.astype("str"))
    return parsed.where(~bad).reset_index(drop=True)


def conversion_dates(tables: dict[str, pd.DataFrame], programme: Programme,
                     view: pd.DataFrame | None = None) -> pd.Series:
    """The date whose month's exchange rate converts each exchange's expenses (one per exchange row).

    ``programme.conversion_month`` is "start_date" (the month the visit started) or the
    name of a date column of the exchanges table, such as ``validated_on``. An exchange
    without that date (NaT) has nothing to convert at yet: its foreign-currency lines stay
    unconverted and the exchange stays pending. A column the exchanges table does not
    have is an InputError naming the programme setting.
    """
    column = programme.conversion_month
    if view is not None and column in view.columns:
        return view[column].reset_index(drop=True)
    ex = tables["exchanges"]
    if column not in ex.columns:
        from clusnet_analysis.ingest.io import InputError

        raise InputError(f"{programme.source_file}: budget.conversion_month: the exchanges table has no "
                         f"column {column!r} to take the conversion month from")
    return _dates(ex.reset_index(drop=True), column)


def _fx_lookup(currency: pd.Series, month_key: np.ndarray, fx: pd.DataFrame) -> np.ndarray:
    """units_per_eur for each (month, currency); 1 for EUR; NaN when no rate.

    The lines' currencies are looked up among the few of the rates table (Arrow), not
    factorised together with them: that hashed and copied every line's text.
    """
    fx_key = fx["month"].str.slice(0, 4).astype("int64") * 100 + fx["month"].str.slice(5, 7).astype("int64")
    fx_codes, fx_currencies = pd.factorize(fx["currency"])
    line_codes = positions(pd.Series(np.asarray(fx_currencies, dtype=object), dtype="str"), currency)
    n = max(len(fx_currencies), 1)
    index = pd.Index(fx_key.to_numpy() * n + fx_codes)
    found = index.get_indexer(month_key * n + line_codes) if len(index) else np.full(len(currency), -1)
    found[line_codes < 0] = -1   # a currency without any rate
    rates = np.where(found >= 0, fx["units_per_eur"].to_numpy()[np.maximum(found, 0)]
                     if len(fx) else np.nan, np.nan)
    is_eur = pc.fill_null(pc.equal(as_arrow(currency), "EUR"), False).to_numpy(zero_copy_only=False)
    return np.where(is_eur, 1.0, rates)


def expenses_eur(tables: dict[str, pd.DataFrame], programme: Programme,
                 view: pd.DataFrame | None = None, exchange_pos: np.ndarray | None = None) -> pd.DataFrame:
    """Every expense line in EUR at the rate of its exchange's conversion month.

    The conversion month is the month the visit started, or the month of the date
    column named by ``budget.conversion_month`` (:func:`conversion_dates`).
    amount_eur is rounded to the cent per line. A line without a rate keeps
    amount_eur = NaN: it is reported by the rules (missing_fx_rate) and counted
    in exchange_costs, never dropped. A line whose exchange has no conversion date
    has ``month`` empty and, unless it is in EUR, no rate either.
    """
    view = exchanges_view(tables, programme) if view is None else view
    exp = tables["expenses"].reset_index(drop=True)
    pos = positions(view["exchange_id"], exp["exchange_id"]) if exchange_pos is None else exchange_pos
    start = conversion_dates(tables, programme, view)
    has_date = start.notna().to_numpy()
    ym_ex = np.where(has_date, (start.dt.year.fillna(0) * 100 + start.dt.month.fillna(0)).to_numpy(), 0)
    ym_ex = ym_ex.astype(np.int64)
    month_key = ym_ex[np.maximum(pos, 0)] if len(view) else np.zeros(len(exp), dtype=np.int64)
    rates = _fx_lookup(exp["currency"], month_key, tables["fx_rates"])
    # The month as text: codes into the distinct months of the exchanges (a million rows,
    # not the lines' five million), then one Arrow cast.
    uniq = np.unique(ym_ex) if len(view) else np.zeros(1, dtype=np.int64)
    ex_code = np.searchsorted(uniq, ym_ex).astype(np.int32)
    line_code = ex_code[np.maximum(pos, 0)] if len(view) else np.zeros(len(exp), dtype=np.int32)
    labels = [f"{k // 100:04d}-{k % 100:02d}" if k > 0 else None for k in uniq]
    out = pd.DataFrame({
        "expense_id": exp["expense_id"],
        "exchange_id": exp["exchange_id"],
        "category": exp["category"],
        "amount": exp["amount"],
        "currency": exp["currency"],
        "month": str_series(pa.DictionaryArray.from_arrays(pa.array(line_code), pa.array(labels, TEXT))
                            .cast(TEXT)) if len(exp) else pd.Series([], dtype="str"),
        "units_per_eur": rates,
        # Each converted line is rounded to the cent, as on a claim form, so category
        # columns, totals and per-line sums all add up to the cent.
        "amount_eur": np.round(exp["amount"].to_numpy() / rates, 2),
    })
    for col in ("home_city", "host_city", "period", "status"):
        out[col] = _take(view[col], pos)
    out["counted"] = view["counted"].to_numpy()[np.maximum(pos, 0)] & (pos >= 0)
    return out


def exchange_costs(tables: dict[str, pd.DataFrame], programme: Programme,
                   view: pd.DataFrame | None = None, expenses: pd.DataFrame | None = None,
                   exchange_pos: np.ndarray | None = None) -> pd.DataFrame:
    """One row per exchange: EUR per category, total, and lines that could not be converted."""
    view = exchanges_view(tables, programme) if view is None else view
    expenses = expenses_eur(tables, programme, view) if expenses is None else expenses
    n = len(view)
    cats = list(programme.expense_categories)
    pos = positions(view["exchange_id"], expenses["exchange_id"]) if exchange_pos is None else exchange_pos
    cat = positions(pd.Series(cats, dtype="str"), expenses["category"])
    ok = (pos >= 0) & (cat >= 0)
    eur = expenses["amount_eur"].to_numpy()
    converted = ok & ~np.isnan(eur)
    sums = np.bincount(pos[converted] * len(cats) + cat[converted], weights=eur[converted],
                       minlength=n * len(cats)).reshape(n, len(cats)) if n else np.zeros((0, len(cats)))
    unconverted = np.bincount(pos[ok & np.isnan(eur)], minlength=n) if n else np.zeros(0, dtype=int)
    out = view[["exchange_id", "home_city", "host_city", "period", "status", "counted", "duration_days"]].copy()
    for i, c in enumerate(cats):
        out[c] = np.round(sums[:, i], 2)
    out["total_eur"] = np.round(sums.sum(axis=1), 2)
    out["unconverted_lines"] = pd.array(unconverted, dtype="Int64")
    return out
