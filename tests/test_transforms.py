"""Derived tables: EUR conversion, periods, durations, pseudonyms; and properties of the sums.

Hand-worked numbers: GBP at 0.9 units per EUR, so 90 GBP = 100 EUR; HUF at 270, so
27,000 HUF = 100 EUR; EUR converts at 1.
"""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusnet_analysis.ingest import schemas
from clusnet_analysis.rules.programme import load_programme
from clusnet_analysis.rules.checks import _concurrent
from clusnet_analysis.ingest.transforms import assign_periods, exchange_costs, exchanges_view, expenses_eur

from clusnet_testdata import BASE, COLUMNS, OFFICERS, examples, exchange, expense

CLUSNET = load_programme()
CATEGORIES = list(CLUSNET.expense_categories)


def frame(name: str, rows: list[dict]) -> pd.DataFrame:
    """A typed table as validation returns it (dtypes from the schema), from text cells."""
    kinds = schemas.column_kinds(name)
    df = pd.DataFrame([[r.get(c, "") for c in COLUMNS[name]] for r in rows], columns=COLUMNS[name], dtype="str")
    df = df.where(df != "")
    out = {}
    for col, (kind, _) in kinds.items():
        if kind == "date":
            out[col] = pd.to_datetime(df[col], format="%Y-%m-%d").astype("datetime64[ns]")
        elif kind == "number":
            out[col] = df[col].astype("float64")
        elif kind == "integer":
            out[col] = df[col].astype("float64").astype("Int64")
        else:
            out[col] = df[col].astype("str")
    typed = pd.DataFrame(out)
    typed.index = pd.RangeIndex(2, 2 + len(df), name="row")
    return typed


_STATIC: dict[str, pd.DataFrame] = {}


def tables(**overrides) -> dict[str, pd.DataFrame]:
    defaults = dict(BASE, exchanges=[exchange()], expenses=[])
    out = {}
    for name in COLUMNS:
        if name in overrides:
            out[name] = frame(name, overrides[name])
        else:   # the unchanged tables are built once (keeps the property tests quick)
            if name not in _STATIC:
                _STATIC[name] = frame(name, defaults[name])
            out[name] = _STATIC[name]
    return out


def fx(month, currency, rate):
    return dict(month=month, currency=currency, units_per_eur=rate)


# ------------------------------------------------------------------ conversion
def test_conversion_gbp_huf_eur():
    officers = OFFICERS   # O4 is from MAN (GBP), O5 from BUD (HUF)
    t = tables(officers=officers,
               exchanges=[exchange("X1", "O4"), exchange("X2", "O5", host_city="LYO"),
                          exchange("X3", "O1")],
               expenses=[expense("E1", "X1", "travel", "90", "GBP"),
                         expense("E2", "X2", "travel", "27000", "HUF"),
                         expense("E3", "X3", "travel", "100", "EUR")])
    out = expenses_eur(t, CLUSNET).set_index("expense_id")
    assert out["units_per_eur"].to_dict() == {"E1": 0.9, "E2": 270.0, "E3": 1.0}
    assert out["amount_eur"].round(10).to_dict() == {"E1": 100.0, "E2": 100.0, "E3": 100.0}
    assert out["month"].tolist() == ["2009-09"] * 3
    assert out[["home_city", "host_city", "period", "status"]].values.tolist() == [
        ["MAN", "BCN", "S3", "validated"], ["BUD", "LYO", "S3", "validated"], ["LYO", "BCN", "S3", "validated"]]
    assert out["counted"].tolist() == [True, True, True]


def test_the_month_of_the_exchange_start_decides_the_rate():
    # The visit runs from September into October; the September rate applies to every line.
    t = tables(exchanges=[exchange("X1", "O4", start_date="2009-09-28", end_date="2009-10-02")],
               expenses=[expense("E1", "X1", "travel", "90", "GBP"), expense("E2", "X1", "meals", "45", "GBP")],
               fx_rates=[fx("2009-09", "GBP", "0.9"), fx("2009-10", "GBP", "0.8")])
    out = expenses_eur(t, CLUSNET)
    assert out["month"].tolist() == ["2009-09", "2009-09"]
    assert out["amount_eur"].round(10).tolist() == [100.0, 50.0]
    costs = exchange_costs(t, CLUSNET)
    assert costs[["travel", "meals", "total_eur"]].values.tolist() == [[100.0, 50.0, 150.0]]


def test_no_rate_gives_nan_never_a_guess():
    t = tables(exchanges=[exchange("X1", "O4", start_date="2009-11-02", end_date="2009-11-06")],
               expenses=[expense("E1", "X1", "travel", "90", "GBP"), expense("E2", "X1", "meals", "50", "EUR")])
    out = expenses_eur(t, CLUSNET)
    assert np.isnan(out["units_per_eur"].iloc[0]) and np.isnan(out["amount_eur"].iloc[0])
    assert out["amount_eur"].iloc[1] == 50.0
    costs = exchange_costs(t, CLUSNET).iloc[0]
    assert (costs["travel"], costs["meals"], costs["total_eur"], costs["unconverted_lines"]) == (0.0, 50.0, 50.0, 1)


def test_exchange_costs_one_row_per_exchange_also_without_expenses():
    t = tables(exchanges=[exchange("X1"), exchange("X2", "O3", host_city="LYO", status="draft")],
               expenses=[expense("E1", "X1", "travel", "600"), expense("E2", "X1", "travel", "50.5"),
                         expense("E3", "X1", "insurance", "20")])
    costs = exchange_costs(t, CLUSNET)
    assert list(costs.columns) == ["exchange_id", "home_city", "host_city", "period", "status", "counted",
                                   "duration_days", *CATEGORIES, "total_eur", "unconverted_lines"]
    assert costs[["exchange_id", "counted", "travel", "insurance", "total_eur"]].values.tolist() == [
        ["X1", True, 650.5, 20.0, 670.5], ["X2", False, 0.0, 0.0, 0.0]]
    assert costs["unconverted_lines"].dtype == "Int64"


# ------------------------------------------------------------------ periods and durations
@pytest.mark.parametrize("start, period", [
    ("2009-06-30", None), ("2009-07-01", "S3"), ("2009-12-28", "S3"),   # 2009-12-28..2010-01-01: by its start
    ("2010-01-01", "S4"), ("2010-06-30", "S4"), ("2010-07-01", "S5"), ("2010-12-31", "S5"), ("2011-01-01", None),
])
def test_period_is_assigned_by_start_date(start, period):
    end = (pd.Timestamp(start) + pd.Timedelta(days=4)).strftime("%Y-%m-%d")
    view = exchanges_view(tables(exchanges=[exchange(start_date=start, end_date=end)]), CLUSNET)
    got = view["period"].iloc[0]
    assert (None if pd.isna(got) else got) == period


def test_assign_periods_directly():
    dates = pd.Series(pd.to_datetime(["2009-08-01", "2010-03-15", "2010-09-01", "2012-01-01"]))
    assert assign_periods(dates, CLUSNET).fillna("-").tolist() == ["S3", "S4", "S5", "-"]


def test_duration_days_counts_first_and_last_day():
    view = exchanges_view(tables(exchanges=[
        exchange("X1", end_date="2009-09-11"), exchange("X2", "O3", "LYO", start_date="2009-09-07",
                                                        end_date="2009-09-07"),
        exchange("X3", "O4", "LYO", start_date="2010-02-26", end_date="2010-03-02")]), CLUSNET)
    assert view["duration_days"].tolist() == [5, 1, 5]
    assert view["duration_days"].dtype == "Int64"


def test_view_columns_and_counted():
    view = exchanges_view(tables(exchanges=[exchange("X1"), exchange("X2", "O3", "LYO", status="draft"),
                                            exchange("X3", "O4", "LYO", status="submitted")]), CLUSNET)
    assert list(view.columns) == [
        "exchange_id", "officer_id", "officer_pseudonym", "home_city", "host_city", "start_date", "end_date",
        "status", "counted", "group_visit_id", "period", "duration_days", "agenda_sent_date",
        "report_received_date", "report_pages", "report_language", "validated_on"]
    assert view["counted"].tolist() == [True, False, True]
    assert view["home_city"].tolist() == ["LYO", "BCN", "MAN"]


# ------------------------------------------------------------------ pseudonyms
def test_pseudonyms_are_city_and_a_code_from_the_officer_id_without_names():
    officers = list(reversed(OFFICERS)) + [dict(officer_id="O0", home_city="MUC", employer_type="city",
                                                name="Jürgen Weiß")]
    t = tables(officers=officers, exchanges=[exchange("X1", "O2"), exchange("X2", "O1", start_date="2009-10-05",
                                                                            end_date="2009-10-09"),
                                             exchange("X3", "O5", "LYO"), exchange("X4", "O0", "LYO")],
               expenses=[expense("E1", "X1", "travel", "10")])
    view = exchanges_view(t, CLUSNET)
    # Pinned: a pseudonym must never change between versions (reports of different
    # deliveries are read side by side). The hash itself is checked against a plain
    # re-implementation in test_pseudonym_hash_matches_a_byte_by_byte_reference.
    assert dict(zip(view["officer_id"], view["officer_pseudonym"])) == {
        "O2": "LYO-124F", "O1": "LYO-4B90", "O5": "BUD-021F", "O0": "MUC-DF70"}
    # Stable: the same officers table in another order gives the same pseudonyms.
    again = exchanges_view(dict(t, officers=t["officers"].iloc[::-1]), CLUSNET)
    assert again["officer_pseudonym"].tolist() == view["officer_pseudonym"].tolist()
    names = set(t["officers"]["name"])
    for derived in (view, expenses_eur(t, CLUSNET), exchange_costs(t, CLUSNET)):
        text = derived.to_csv()
        assert not [n for n in names if n in text]
        assert "name" not in derived.columns


def _officers(rows) -> pd.DataFrame:
    return pd.DataFrame({"officer_id": pd.Series([r[0] for r in rows], dtype="str"),
                         "home_city": pd.Series([r[1] for r in rows], dtype="str")})


def test_pseudonyms_survive_a_new_delivery_with_more_and_fewer_officers():
    """The bug this replaces: rank numbering turned LYO-2 into LYO-3 when O15 joined."""
    from clusnet_analysis.privacy import pseudonyms_in_row_order

    first = _officers([("O2", "LYO"), ("O3", "LYO"), ("O4", "BCN")])
    later = _officers([("O15", "LYO"), ("O4", "BCN"), ("O3", "LYO"), ("O1", "LYO"), ("O9", "MUC")])  # O2 left
    before = dict(zip(first["officer_id"], pseudonyms_in_row_order(first)))
    after = dict(zip(later["officer_id"], pseudonyms_in_row_order(later)))
    assert {k: after[k] for k in ("O3", "O4")} == {k: before[k] for k in ("O3", "O4")}
    assert all(re.fullmatch(r"[A-Z]{3}-[0-9A-F]{4}", v) for v in after.values()), after
    assert len(set(after.values())) == len(after)


def test_pseudonym_collisions_within_a_city_get_longer_codes_and_stay_put():
    from clusnet_analysis.privacy import id_hashes, pseudonyms_in_row_order

    ids = [f"O{i}" for i in range(3000)]
    prefix = {}
    for officer, h in zip(ids, id_hashes(pd.Series(ids, dtype="str"))):
        prefix.setdefault(f"{int(h):016X}"[:4], []).append((int(h), officer))
    clash = next(sorted(group) for group in prefix.values() if len(group) >= 2)[:2]
    (small, keeper), (_, other) = clash
    both = pseudonyms_in_row_order(_officers([(other, "LYO"), (keeper, "LYO")])).tolist()
    assert both[1] == f"LYO-{small:016X}"[:8]                     # the smaller hash keeps 4 digits
    assert len(both[0]) > 8 and both[0][:8] == both[1] and both[0] != both[1]
    # the same two ids in different cities do not collide at all
    apart = pseudonyms_in_row_order(_officers([(other, "LYO"), (keeper, "BCN")])).tolist()
    assert [len(v) for v in apart] == [8, 8]
    # an officer added later leaves both codes as they were
    more = pseudonyms_in_row_order(_officers([(other, "LYO"), (keeper, "LYO"), ("O99999", "LYO")])).tolist()
    assert more[:2] == both
    # the same officer listed twice shares one code (duplicates are quarantined, but never renumbered)
    twice = pseudonyms_in_row_order(_officers([(keeper, "LYO"), (keeper, "LYO")])).tolist()
    assert twice[0] == twice[1] and len(twice[0]) == 8


def _reference_hash(text: str) -> int:
    """The pseudonym hash written out byte by byte in plain Python integers."""
    mask = (1 << 64) - 1

    def mix(h):
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & mask
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & mask
        return h ^ (h >> 31)

    data = text.encode("utf-8")
    h = 0x636C75736E657431 ^ len(data)
    for byte in data:
        h = mix(((h ^ byte) * 0x100000001B3) & mask)
    return h


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=20))
def test_pseudonym_hash_matches_a_byte_by_byte_reference(ids):
    from clusnet_analysis.privacy import id_hashes

    got = id_hashes(pd.Series(ids, dtype="str")[::-1].iloc[::-1])   # a sliced array too
    assert [int(v) for v in got] == [_reference_hash(i) for i in ids]


def test_show_names_is_for_internal_runs_only():
    view = exchanges_view(tables(), CLUSNET, show_names=True)
    assert view["officer_pseudonym"].tolist() == ["LYO-4B90 (Émilie Roux)"]


# ------------------------------------------------------------------ properties
CURRENCIES = ["EUR", "GBP", "HUF", "SEK", "NOK"]            # NOK never has a rate
RATES = {("2009-09", "GBP"): 0.9, ("2009-09", "HUF"): 270.0, ("2009-09", "SEK"): 10.35,
         ("2009-10", "GBP"): 0.91, ("2009-10", "HUF"): 266.9}   # no SEK rate for October
STARTS = ["2009-09-07", "2009-09-21", "2009-10-05", "2009-10-19"]

line_strategy = st.tuples(
    st.integers(0, 5),                                   # exchange number
    st.sampled_from(CATEGORIES),
    st.integers(0, 300_000_00).map(lambda c: f"{c / 100:.2f}"),   # amounts to the cent
    st.sampled_from(CURRENCIES),
)


@st.composite
def programme_data(draw):
    n_ex = draw(st.integers(1, 6))
    statuses = draw(st.lists(st.sampled_from(["draft", "submitted", "validated"]), min_size=n_ex, max_size=n_ex))
    starts = draw(st.lists(st.sampled_from(STARTS), min_size=n_ex, max_size=n_ex))
    exchanges = [exchange(f"X{i}", OFFICERS[i % 5]["officer_id"], "MUC", start_date=s,
                          end_date=(pd.Timestamp(s) + pd.Timedelta(days=4)).strftime("%Y-%m-%d"), status=st_)
                 for i, (s, st_) in enumerate(zip(starts, statuses))]
    raw_lines = draw(st.lists(line_strategy, max_size=25))
    expenses = [expense(f"E{j}", f"X{i % n_ex}", cat, amount, cur)
                for j, (i, cat, amount, cur) in enumerate(raw_lines)]
    fx_rates = [fx(m, c, str(r)) for (m, c), r in RATES.items()]
    return tables(exchanges=exchanges, expenses=expenses, fx_rates=fx_rates)


@settings(max_examples=examples(40), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(programme_data())
def test_property_category_totals_are_the_converted_lines(t):
    lines = expenses_eur(t, CLUSNET)
    costs = exchange_costs(t, CLUSNET).set_index("exchange_id")
    converted = lines[lines["amount_eur"].notna()]
    # Each line is in cents, within half a cent of amount / rate.
    exact = converted["amount"] / converted["units_per_eur"]
    assert ((converted["amount_eur"] - exact).abs() <= 0.005 + 1e-9).all()
    cents = converted["amount_eur"].to_numpy() * 100
    assert np.abs(cents - np.round(cents)).max(initial=0) < 1e-6
    by_cell = converted.groupby(["exchange_id", "category"])["amount_eur"].sum()
    by_exchange = converted.groupby("exchange_id")["amount_eur"].sum()
    for ex_id, row in costs.iterrows():
        for cat in CATEGORIES:
            assert abs(row[cat] - by_cell.get((ex_id, cat), 0.0)) < 1e-6, (ex_id, cat)
        assert abs(row["total_eur"] - by_exchange.get(ex_id, 0.0)) < 1e-6, ex_id
        # The row adds up to the cent, as a printed budget table must.
        assert round(sum(row[c] for c in CATEGORIES), 2) == row["total_eur"], ex_id
    assert abs(costs["total_eur"].sum() - converted["amount_eur"].sum()) < 1e-6


@settings(max_examples=examples(40), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(programme_data())
def test_property_no_expense_line_is_lost(t):
    lines = expenses_eur(t, CLUSNET)
    costs = exchange_costs(t, CLUSNET)
    assert len(lines) == len(t["expenses"])
    assert lines["expense_id"].tolist() == t["expenses"]["expense_id"].tolist()
    assert int(lines["amount_eur"].notna().sum()) + int(costs["unconverted_lines"].sum()) == len(t["expenses"])
    # A line is unconverted exactly when there is no rate for its (start month, currency).
    month = lines["month"]
    has_rate = [(cur == "EUR") or ((m, cur) in RATES) for m, cur in zip(month, lines["currency"])]
    assert lines["amount_eur"].notna().tolist() == has_rate


@settings(max_examples=examples(40), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(programme_data())
def test_property_every_exchange_once_in_exchange_costs(t):
    costs = exchange_costs(t, CLUSNET)
    assert costs["exchange_id"].tolist() == t["exchanges"]["exchange_id"].tolist()
    assert costs["exchange_id"].is_unique
    assert costs["counted"].tolist() == (t["exchanges"]["status"] != "draft").tolist()


# ------------------------------------------------------------------ concurrent absence against brute force
@settings(max_examples=examples(60), deadline=None, database=None)
@given(st.lists(st.tuples(st.sampled_from(["LYO", "BCN"]), st.integers(0, 30), st.integers(0, 6)),
                min_size=1, max_size=12),
       st.integers(1, 3))
def test_property_concurrent_absence_matches_brute_force(visits, limit):
    base = pd.Timestamp("2009-09-01")
    view = pd.DataFrame({
        "exchange_id": [f"X{i:02d}" for i in range(len(visits))],
        "home_city": pd.Series([v[0] for v in visits], dtype="str"),
        "start_date": [base + pd.Timedelta(days=v[1]) for v in visits],
        "end_date": [base + pd.Timedelta(days=v[1] + v[2]) for v in visits],
        "period": pd.Series(["S3"] * len(visits), dtype="str"),
    })
    programme = dataclasses.replace(CLUSNET, max_concurrent_per_city=limit)
    found = _concurrent(view, programme)
    flagged = set() if found is None else set(found["subject_id"])
    # Brute force: in (start, id) order, an exchange is flagged when `limit` colleagues who left
    # earlier are still away on its first day.
    order = view.sort_values(["start_date", "exchange_id"]).reset_index(drop=True)
    expected = set()
    for i, row in order.iterrows():
        earlier = order.iloc[:i]
        away = earlier[(earlier["home_city"] == row["home_city"]) & (earlier["end_date"] >= row["start_date"])]
        if len(away) >= limit:
            expected.add(row["exchange_id"])
    assert flagged == expected
