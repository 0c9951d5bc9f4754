"""The budget an auditor signs: eligibility, the four amounts, the monitoring table, the ledger.

Hand-made frames (CLUSNET rules, cap 1,550 EUR, periods S3/S4/S5, partner cities LYO, BCN, MUC):

=====  ===========  ======  =========  ========  =========================  ======================
id     home > host  period  status     claimed   findings                   expected
=====  ===========  ======  =========  ========  =========================  ======================
A1     LYO > BCN    S3      validated  1,000     -                          reimbursable 1,000
A2     LYO > MUC    S3      validated  1,700     over_cap                   reimbursable 1,550, cut 150
A3     BCN > MUC    S4      submitted    800     visit_length               pending 800
A4     BCN > BCN    S4      validated    900     home_is_host               ineligible 900
A5     MUC > LYO    S4      validated    600     missing_fx_rate (1 line)   pending 600 (not converted)
A6     MUC > STO    S5      submitted  2,000     not_partner_city, over_cap ineligible 2,000 (no cut)
A7     LYO > STO    -       validated    500     outside_window, not_partner ineligible 500 (two reasons)
A8     LYO > MUC    S5      draft        300     draft_excluded             not counted
A9     BCN > LYO    S5      validated  1,200     ineligible_employer (O9)   ineligible 1,200
A10    MUC > BCN    S5      validated  1,600     over_cap, 1 line no rate   pending 1,550, cut 50
A11    OSL > LYO    S5      submitted    100     not_partner_city           ineligible 100
=====  ===========  ======  =========  ========  =========================  ======================

Totals: claimed 10,400 = ineligible 4,700 + eligible 5,700; eligible 5,700 = reimbursable 2,550
+ pending 2,950 + cut 200.
"""
from __future__ import annotations

import dataclasses
import types

import numpy as np
import pandas as pd
import pytest

from clusnet_analysis.analysis import audit, eligibility
from clusnet_analysis.rules.checks import FINDING_COLUMNS
from clusnet_analysis.rules.programme import load_programme

CITIES = ("LYO", "BCN", "MUC")
AMOUNTS = ["claimed_eur", "ineligible_eur", "eligible_eur", "cap_cut_eur", "reimbursable_eur", "pending_eur"]

EXCHANGES = [
    # id, officer, home, host, start, period, status, validated_on
    ("A1", "O1", "LYO", "BCN", "2009-09-07", "S3", "validated", "2009-12-15"),
    ("A2", "O2", "LYO", "MUC", "2009-10-05", "S3", "validated", "2010-01-10"),
    ("A3", "O3", "BCN", "MUC", "2010-02-01", "S4", "submitted", None),
    ("A4", "O4", "BCN", "BCN", "2010-03-01", "S4", "validated", "2010-04-01"),
    ("A5", "O5", "MUC", "LYO", "2010-04-05", "S4", "validated", "2010-06-30"),   # last day of S4
    ("A6", "O6", "MUC", "STO", "2010-09-06", "S5", "submitted", None),
    ("A7", "O1", "LYO", "STO", "2011-01-10", None, "validated", "2011-02-01"),
    ("A8", "O2", "LYO", "MUC", "2010-10-04", "S5", "draft", None),
    ("A9", "O9", "BCN", "LYO", "2010-10-11", "S5", "validated", "2010-11-30"),
    ("A10", "O7", "MUC", "BCN", "2010-11-08", "S5", "validated", "2011-01-20"),
    ("A11", "O8", "OSL", "LYO", "2010-12-06", "S5", "submitted", None),
]
# expense lines: exchange, category, EUR (None = no exchange rate)
LINES = [
    ("A1", "travel", 400.0), ("A1", "accommodation", 600.0),
    ("A2", "travel", 700.0), ("A2", "accommodation", 1000.0),
    ("A3", "travel", 800.0),
    ("A4", "travel", 900.0),
    ("A5", "travel", 600.0), ("A5", "meals", None),
    ("A6", "travel", 2000.0),
    ("A7", "accommodation", 500.0),
    ("A8", "travel", 300.0),
    ("A9", "travel", 1200.0),
    ("A10", "travel", 1000.0), ("A10", "accommodation", 600.0), ("A10", "local_transport", None),
    ("A11", "travel", 100.0),
]
FINDINGS = [
    # rule, subject, exchange
    ("over_cap", "A2", "A2"), ("outside_window", "A7", "A7"), ("ineligible_employer", "O9", "A9"),
    ("home_is_host", "A4", "A4"), ("not_partner_city", "A6", "A6"), ("not_partner_city", "A7", "A7"),
    ("not_partner_city", "A11", "A11"), ("visit_length", "A3", "A3"), ("missing_fx_rate", "L8", "A5"),
    ("missing_fx_rate", "L15", "A10"), ("over_cap", "A6", "A6"), ("over_cap", "A10", "A10"),
    ("draft_excluded", "A8", "A8"), ("officer_quota", "LYO", None),
]


@pytest.fixture
def programme():
    return dataclasses.replace(load_programme(), partner_cities=CITIES)


@pytest.fixture
def view():
    df = pd.DataFrame(EXCHANGES, columns=["exchange_id", "officer_id", "home_city", "host_city", "start_date",
                                          "period", "status", "validated_on"])
    df["officer_pseudonym"] = df["home_city"] + "-" + df["officer_id"]
    df["start_date"] = pd.to_datetime(df["start_date"])
    df["validated_on"] = pd.to_datetime(df["validated_on"])
    df["period"] = df["period"].astype("str")
    df["counted"] = df["status"] != "draft"
    return df


@pytest.fixture
def expenses(view):
    lines = pd.DataFrame(LINES, columns=["exchange_id", "category", "amount_eur"])
    lines.insert(0, "expense_id", [f"L{i}" for i in range(1, len(lines) + 1)])
    lines["amount_eur"] = lines["amount_eur"].astype("float64")
    return lines.merge(view[["exchange_id", "home_city", "host_city", "period", "status", "counted"]],
                       on="exchange_id", how="left")


@pytest.fixture
def costs(view, expenses):
    eur = expenses["amount_eur"]
    total = eur.fillna(0).groupby(expenses["exchange_id"]).sum()
    unconverted = eur.isna().groupby(expenses["exchange_id"]).sum()
    out = view[["exchange_id", "home_city", "host_city", "period", "status", "counted"]].copy()
    out["total_eur"] = out["exchange_id"].map(total).fillna(0.0)
    out["unconverted_lines"] = out["exchange_id"].map(unconverted).fillna(0).astype("Int64")
    return out


@pytest.fixture
def findings():
    rows = [dict(zip(FINDING_COLUMNS, (r, "", "", s, x, None, None, "", None, None))) for r, s, x in FINDINGS]
    return pd.DataFrame(rows, columns=FINDING_COLUMNS).astype("str")


@pytest.fixture
def classified(view, costs, findings, programme):
    return eligibility.classify_exchanges(view, costs, findings, programme)


def by_id(frame, column):
    return frame.set_index("exchange_id")[column].to_dict()


# ---------------------------------------------------------------- per exchange
def test_classify_one_row_per_counted_exchange(classified):
    assert classified["exchange_id"].tolist() == ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A9", "A10", "A11"]


def test_classify_eligibility_and_reasons(classified):
    assert by_id(classified, "eligible") == {
        "A1": True, "A2": True, "A3": True, "A4": False, "A5": True, "A6": False, "A7": False, "A9": False,
        "A10": True, "A11": False}
    reasons = by_id(classified, "ineligibility_reason")
    assert reasons["A4"] == "officer visited their own city"
    assert reasons["A6"] == "home or host city is not a partner city"
    # two rules, in rule order
    assert reasons["A7"] == "visit outside the programme window; home or host city is not a partner city"
    assert reasons["A9"] == "officer's employer is not eligible"
    assert reasons["A1"] == reasons["A2"] == reasons["A10"] == ""     # over the cap is not a reason


def test_classify_amounts(classified):
    assert by_id(classified, "claimed_eur") == {
        "A1": 1000, "A2": 1700, "A3": 800, "A4": 900, "A5": 600, "A6": 2000, "A7": 500, "A9": 1200,
        "A10": 1600, "A11": 100}
    assert by_id(classified, "reimbursable_eur") == {
        "A1": 1000, "A2": 1550, "A3": 0, "A4": 0, "A5": 0, "A6": 0, "A7": 0, "A9": 0, "A10": 0, "A11": 0}
    assert by_id(classified, "pending_eur") == {
        "A1": 0, "A2": 0, "A3": 800, "A4": 0, "A5": 600, "A6": 0, "A7": 0, "A9": 0, "A10": 1550, "A11": 0}
    # the cut is the part of an *eligible* claim above the cap: A6 is over the cap but ineligible
    assert by_id(classified, "cap_cut_eur") == {
        "A1": 0, "A2": 150, "A3": 0, "A4": 0, "A5": 0, "A6": 0, "A7": 0, "A9": 0, "A10": 50, "A11": 0}
    assert by_id(classified, "ineligible_eur") == {
        "A1": 0, "A2": 0, "A3": 0, "A4": 900, "A5": 0, "A6": 2000, "A7": 500, "A9": 1200, "A10": 0, "A11": 100}


def test_classify_states_and_pending_reasons(classified):
    assert by_id(classified, "state") == {
        "A1": "reimbursable", "A2": "reimbursable", "A3": "pending", "A4": "ineligible", "A5": "pending",
        "A6": "ineligible", "A7": "ineligible", "A9": "ineligible", "A10": "pending", "A11": "ineligible"}
    assert by_id(classified, "validated")["A3"] is np.False_ or not by_id(classified, "validated")["A3"]
    assert by_id(classified, "fully_converted") == {
        "A1": True, "A2": True, "A3": True, "A4": True, "A5": False, "A6": True, "A7": True, "A9": True,
        "A10": False, "A11": True}
    reasons = by_id(classified, "pending_reason")
    assert reasons["A3"] == "not validated (status submitted)"
    assert reasons["A5"] == "1 expense line not converted to EUR"
    assert reasons["A1"] == reasons["A4"] == ""


def test_a_programme_can_make_another_rule_ineligible(view, costs, findings, programme):
    strict = dataclasses.replace(programme, extra_ineligible_rules=("visit_length",))
    c = eligibility.classify_exchanges(view, costs, findings, strict)
    assert by_id(c, "state")["A3"] == "ineligible"
    assert by_id(c, "ineligibility_reason")["A3"] == "visit not of the programme's length"


def test_without_a_cap_nothing_is_cut(view, costs, findings, programme):
    c = eligibility.classify_exchanges(view, costs, findings, dataclasses.replace(programme, cap_eur=None))
    assert c["cap_cut_eur"].sum() == 0
    assert by_id(c, "reimbursable_eur")["A2"] == 1700 and by_id(c, "pending_eur")["A10"] == 1600


# ---------------------------------------------------------------- the four amounts
def test_totals(classified):
    assert classified[AMOUNTS].sum().to_dict() == pytest.approx({
        "claimed_eur": 10400, "ineligible_eur": 4700, "eligible_eur": 5700, "cap_cut_eur": 200,
        "reimbursable_eur": 2550, "pending_eur": 2950})


def test_amounts_by_period(classified, programme):
    table = eligibility.budget_amounts(classified, programme, by="period")
    assert table["period"].fillna("outside").tolist() == ["S3", "S4", "S5", "outside"]
    assert table["exchanges"].tolist() == [2, 3, 4, 1]
    assert table["claimed_eur"].tolist() == [2700, 2300, 4900, 500]
    assert table["ineligible_eur"].tolist() == [0, 900, 3300, 500]
    assert table["eligible_eur"].tolist() == [2700, 1400, 1600, 0]
    assert table["cap_cut_eur"].tolist() == [150, 0, 50, 0]
    assert table["reimbursable_eur"].tolist() == [2550, 0, 0, 0]
    assert table["pending_eur"].tolist() == [0, 1400, 1550, 0]
    assert table["unconverted_lines"].tolist() == [0, 1, 1, 0]


def test_amounts_by_home_city_marks_non_partners(classified, programme):
    table = eligibility.budget_amounts(classified, programme, by="home_city")
    assert table["home_city"].tolist() == ["LYO", "BCN", "MUC", "OSL"]
    assert table["partner"].tolist() == [True, True, True, False]
    assert table["claimed_eur"].tolist() == [3200, 2900, 4200, 100]
    assert table["eligible_eur"].tolist() == [2700, 800, 2200, 0]
    assert table["reimbursable_eur"].tolist() == [2550, 0, 0, 0]
    assert table["pending_eur"].tolist() == [0, 800, 2150, 0]


def test_amounts_by_category_share_the_cap_to_the_cent(classified, expenses, programme):
    table = eligibility.budget_amounts(classified, programme, by="category", expenses=expenses)
    assert table["category"].tolist() == list(programme.expense_categories)
    t = table.set_index("category")
    # A2: 1,550 of 1,700 shared 700 : 1,000 -> 638.235… and 911.764… -> 638.24 + 911.76 (largest remainder)
    # A10: 1,550 of 1,600 shared 1,000 : 600 -> 968.75 + 581.25
    assert t.loc["travel", ["claimed_eur", "ineligible_eur", "eligible_eur", "cap_cut_eur", "reimbursable_eur",
                            "pending_eur"]].tolist() == pytest.approx([7700, 4200, 3500, 93.01, 1038.24, 2368.75])
    assert t.loc["accommodation", ["claimed_eur", "ineligible_eur", "eligible_eur", "cap_cut_eur",
                                   "reimbursable_eur", "pending_eur"]].tolist() == pytest.approx(
        [2700, 500, 2200, 106.99, 1511.76, 581.25])
    assert t["exchanges"].to_dict() == {"travel": 9, "accommodation": 4, "meals": 1, "local_transport": 1,
                                        "insurance": 0, "other": 0}
    assert t["unconverted_lines"].to_dict() == {"travel": 0, "accommodation": 0, "meals": 1, "local_transport": 1,
                                                "insurance": 0, "other": 0}
    # the category rows of each exchange add up to its row
    split = eligibility.category_split(classified, expenses, programme).groupby("exchange_id")[AMOUNTS].sum()
    whole = classified.set_index("exchange_id")[AMOUNTS].loc[split.index]
    pd.testing.assert_frame_equal(split.round(2), whole.round(2))


def test_category_split_keeps_every_cent(programme):
    # 1,650 EUR in three equal lines, capped at 1,550: 516.666… each. Rounding each would give
    # 1,550.01; the largest remainder gives 516.67 + 516.67 + 516.66 = 1,550.00.
    view = pd.DataFrame({"exchange_id": ["B1"], "home_city": ["LYO"], "host_city": ["BCN"], "period": ["S3"],
                         "status": ["validated"], "counted": [True]})
    costs = view.assign(total_eur=1650.0, unconverted_lines=0)
    lines = pd.DataFrame({"expense_id": ["L1", "L2", "L3"], "exchange_id": ["B1"] * 3,
                          "category": ["travel", "accommodation", "meals"], "amount_eur": [550.0] * 3})
    c = eligibility.classify_exchanges(view, costs, pd.DataFrame(columns=FINDING_COLUMNS, dtype="str"), programme)
    split = eligibility.category_split(c, lines, programme)
    assert split["reimbursable_eur"].tolist() == [516.67, 516.67, 516.66]
    assert split["cap_cut_eur"].tolist() == [33.33, 33.33, 33.34]
    assert round(split["reimbursable_eur"].sum(), 2) == 1550.0


@pytest.mark.parametrize("by", ["period", "home_city", "host_city", "category", ("period", "category"),
                                ("period", "home_city"), ("home_city", "host_city")])
def test_invariants(by, classified, expenses, programme):
    table = eligibility.budget_amounts(classified, programme, by=by, expenses=expenses)
    # eligible + ineligible = claimed; reimbursable + pending + cap cut = eligible; reimbursable <= eligible
    assert np.allclose(table["eligible_eur"] + table["ineligible_eur"], table["claimed_eur"], atol=0.005)
    assert np.allclose(table["reimbursable_eur"] + table["pending_eur"] + table["cap_cut_eur"],
                       table["eligible_eur"], atol=0.005)
    assert (table["reimbursable_eur"] <= table["eligible_eur"] + 0.005).all()
    assert table[AMOUNTS].sum().to_dict() == pytest.approx(classified[AMOUNTS].sum().to_dict())


def test_amounts_bad_arguments(classified, programme):
    with pytest.raises(ValueError, match="by must be one or more of period, home_city, host_city, category"):
        eligibility.budget_amounts(classified, programme, by="officer")
    with pytest.raises(ValueError, match=r"need the expense lines \(expenses=...\)"):
        eligibility.budget_amounts(classified, programme, by="category")


def test_budget_overview(classified, programme):
    table = audit.budget_overview(classified, programme)
    assert table.columns.tolist() == ["Amount", "EUR", "Exchanges", "% of programme budget"]
    assert table["Amount"].tolist() == ["Programme budget", "Claimed", "Ineligible", "Eligible",
                                        "Above the cap (not reimbursed)", "Reimbursable", "Pending"]
    # budget 3 cities x 3 officers x 1,550 = 13,950 EUR
    assert table["EUR"].tolist() == [13950, 10400, 4700, 5700, 200, 2550, 2950]
    assert table["Exchanges"].tolist() == [9, 10, 5, 5, 2, 2, 3]
    assert table["% of programme budget"].iat[5] == pytest.approx(18.3)
    written = dataclasses.replace(programme, programme_budget_eur=20000.0)
    assert audit.budget_overview(classified, written)["EUR"].iat[0] == 20000


# ---------------------------------------------------------------- monitoring table
def test_monitoring_table_final_by_home_city(classified, programme):
    programme = dataclasses.replace(programme, allocation_eur={"MUC": 2000.0})
    table = audit.monitoring_table(classified, programme, "final", amounts=("reimbursable", "pending"))
    assert table.columns.tolist() == [
        "Home city", "Partner", "Allocation (EUR)",
        "Reimbursable, S3 (EUR)", "Reimbursable, S3, validated by the end of S3 (EUR)",
        "Reimbursable, S4 (EUR)", "Reimbursable, S4, validated by the end of S4 (EUR)",
        "Reimbursable, S5 (EUR)", "Reimbursable, S5, validated by the end of S5 (EUR)",
        "Reimbursable, outside the periods (EUR)", "Reimbursable, total (EUR)",
        "Pending, S3 (EUR)", "Pending, S3, validated by the end of S3 (EUR)",
        "Pending, S4 (EUR)", "Pending, S4, validated by the end of S4 (EUR)",
        "Pending, S5 (EUR)", "Pending, S5, validated by the end of S5 (EUR)",
        "Pending, outside the periods (EUR)", "Pending, total (EUR)",
        "Exchanges claimed", "Ineligible (EUR)", "Above the cap (EUR)", "Eligible, % of allocation",
        "Reimbursable, % of allocation", "Unconverted expense lines"]
    assert table["Home city"].tolist() == ["LYO", "BCN", "MUC", "OSL", "total"]
    assert table["Partner"].tolist() == ["yes", "yes", "yes", "not a partner", ""]
    assert table["Allocation (EUR)"].tolist()[:3] == [4650, 4650, 2000] and np.isnan(table["Allocation (EUR)"].iat[3])
    assert table["Allocation (EUR)"].iat[4] == 11300
    assert table["Reimbursable, S3 (EUR)"].tolist() == [2550, 0, 0, 0, 2550]
    # A2 (1,550) was validated on 2010-01-10, after the end of S3: only A1's 1,000 by then
    assert table["Reimbursable, S3, validated by the end of S3 (EUR)"].tolist() == [1000, 0, 0, 0, 1000]
    assert table["Pending, S5 (EUR)"].tolist() == [0, 0, 1550, 0, 1550]
    # A10 is validated (on 2011-01-20, after S5): not part of the S5 snapshot
    assert table["Pending, S5, validated by the end of S5 (EUR)"].tolist() == [0, 0, 0, 0, 0]
    assert table["Pending, total (EUR)"].tolist() == [0, 800, 2150, 0, 2950]
    assert table["Exchanges claimed"].tolist() == [3, 3, 3, 1, 10]
    assert table["Ineligible (EUR)"].tolist() == [500, 2100, 2000, 100, 4700]
    assert table["Above the cap (EUR)"].tolist() == [150, 0, 50, 0, 200]
    pct = table["Eligible, % of allocation"].tolist()
    assert pct[:3] == pytest.approx([58.1, 17.2, 110.0]) and np.isnan(pct[3])
    assert pct[4] == pytest.approx(round(100 * 5700 / 11300, 1))
    assert table["Unconverted expense lines"].tolist() == [0, 0, 2, 0, 2]


def test_monitoring_table_of_a_period(classified, programme):
    table = audit.monitoring_table(classified, programme, "S4", amounts=("claimed", "reimbursable"))
    assert [c for c in table.columns if c.startswith("Claimed")] == [
        "Claimed, this period (EUR)", "Claimed, this period, validated by the end of the period (EUR)",
        "Claimed, cumulative (EUR)", "Claimed, cumulative, validated by the end of the period (EUR)"]
    # S4 visits: A3 (BCN, submitted), A4 (BCN), A5 (MUC); the S5 visits and A7 (2011) are not known yet
    assert table["Claimed, this period (EUR)"].tolist() == [0, 1700, 600, 2300]
    # A5 was validated on the last day of S4: it counts
    assert table["Claimed, this period, validated by the end of the period (EUR)"].tolist() == [0, 900, 600, 1500]
    assert table["Claimed, cumulative (EUR)"].tolist() == [2700, 1700, 600, 5000]
    assert table["Reimbursable, cumulative (EUR)"].tolist() == [2550, 0, 0, 2550]
    assert table["Reimbursable, cumulative, validated by the end of the period (EUR)"].tolist() == [2550, 0, 0, 2550]
    assert table["Home city"].tolist() == ["LYO", "BCN", "MUC", "total"]   # OSL's only visit is in S5


def test_monitoring_table_without_validation_dates_has_no_snapshot_columns(classified, programme):
    table = audit.monitoring_table(classified.drop(columns="validated_on"), programme, "S3")
    assert not [c for c in table.columns if "validated by" in c]
    assert [c for c in table.columns if c.startswith("Eligible, ")][:2] == [
        "Eligible, this period (EUR)", "Eligible, cumulative (EUR)"]


def test_monitoring_table_by_category(classified, expenses, programme):
    table = audit.monitoring_table(classified, programme, "final", by="category", expenses=expenses,
                                    amounts=("reimbursable",))
    assert table["Cost category"].tolist() == [*programme.expense_categories, "total"]
    # budget: reference cost x 9 planned exchanges (3 cities x 3 officers)
    assert table["Budget (EUR)"].tolist() == [5400, 5400, 2250, 900, 0, 0, 13950]
    assert table["Reimbursable, total (EUR)"].tolist() == pytest.approx([1038.24, 1511.76, 0, 0, 0, 0, 2550])
    assert table["Exchanges claimed"].iat[-1] == 10     # each exchange once in the total row
    assert "Reimbursable, % of budget" in table.columns


def test_monitoring_table_bad_arguments(classified, programme):
    with pytest.raises(ValueError, match="unknown reporting period 'S9'"):
        audit.monitoring_table(classified, programme, "S9")
    with pytest.raises(ValueError, match="by must be 'home_city' or 'category'"):
        audit.monitoring_table(classified, programme, "S3", by="host_city")
    with pytest.raises(ValueError, match="unknown amounts"):
        audit.monitoring_table(classified, programme, "S3", amounts=("spent",))


def test_no_allocation_without_quota_or_written_amount(classified, programme):
    no_quota = dataclasses.replace(programme, officers_per_city=None, allocation_eur={"LYO": 1000.0})
    table = audit.monitoring_table(classified, no_quota, "final", amounts=("eligible",))
    alloc = table["Allocation (EUR)"].tolist()
    assert alloc[0] == 1000 and all(np.isnan(a) for a in alloc[1:4]) and alloc[4] == 1000
    overview = audit.budget_overview(classified, no_quota)
    assert overview["EUR"].iat[0] == 1000     # programme budget = the one allocation written


# ---------------------------------------------------------------- conversion month
def test_conversion_month_text(programme):
    assert audit.conversion_month_text(programme) == (
        "Expenses in other currencies are converted to EUR at the monthly exchange rate of the month in which "
        "the visit started.")
    text = audit.conversion_month_text(dataclasses.replace(programme, conversion_month="validated_on"))
    assert "month of the exchange\u2019s \u201cvalidated on\u201d date" in text.replace("'", "\u2019")
    assert "stays pending" in text


# ---------------------------------------------------------------- audit ledger
def test_audit_ledger_from_tables():
    from clusnet_testdata import exchange, expense
    from test_rules import CLUSNET, typed_tables

    tables = typed_tables(
        exchanges=[
            # X1: O4 (Manchester) pays in GBP at 0.9 in 2009-09: 90 + 1,395 GBP = 100 + 1,550 EUR
            exchange("X1", officer_id="O4"),
            # X2: Lyon visits Stockholm (not a partner)
            exchange("X2", host_city="STO", start_date="2009-09-14", end_date="2009-09-18"),
            # X3: Barcelona, submitted; X4: a draft (not a claim); X5: no expense lines yet
            exchange("X3", officer_id="O3", host_city="LYO", status="submitted", start_date="2009-10-05",
                     end_date="2009-10-09"),
            exchange("X4", officer_id="O2", status="draft", start_date="2009-11-02", end_date="2009-11-06"),
            exchange("X5", officer_id="O5", host_city="MUC", start_date="2009-11-02", end_date="2009-11-06"),
        ],
        expenses=[expense("E1", "X1", "travel", "90", "GBP"), expense("E2", "X1", "accommodation", "1395", "GBP"),
                  expense("E3", "X2", "travel", "200"), expense("E4", "X3", "travel", "300"),
                  expense("E5", "X4", "travel", "999")])
    ledger = audit.audit_ledger(tables, CLUSNET)
    assert ledger.columns.tolist() == audit.LEDGER_COLUMNS
    assert list(zip(ledger["Exchange"], ledger["Row"], ledger["Expense line"].fillna(""))) == [
        ("X1", "expense line", "E1"), ("X1", "expense line", "E2"), ("X1", "exchange total", ""),
        ("X2", "expense line", "E3"), ("X2", "exchange total", ""),
        ("X3", "expense line", "E4"), ("X3", "exchange total", ""),
        ("X5", "exchange total", "")]
    first = ledger.iloc[0]
    assert (first["Category"], first["Amount"], first["Currency"], first["Rate (units per EUR)"],
            first["Rate month"], first["EUR"]) == ("travel", 90.0, "GBP", 0.9, "2009-09", 100.0)
    assert (first["Home city"], first["Host city"], first["Visit start"], first["Period"]) == (
        "MAN", "BCN", "2009-09-07", "S3")
    totals = ledger[ledger["Row"] == "exchange total"].set_index("Exchange")
    assert totals["EUR"].to_dict() == {"X1": 1650, "X2": 200, "X3": 300, "X5": 0}
    assert totals["Above the cap (EUR)"].to_dict() == {"X1": 100, "X2": 0, "X3": 0, "X5": 0}
    assert totals["Reimbursable (EUR)"].to_dict() == {"X1": 1550, "X2": 0, "X3": 0, "X5": 0}
    assert totals["Pending (EUR)"].to_dict() == {"X1": 0, "X2": 0, "X3": 300, "X5": 0}
    assert totals["Eligible"].to_dict() == {"X1": "yes", "X2": "no", "X3": "yes", "X5": "yes"}
    assert totals["Ineligibility reason"].to_dict()["X2"] == "home or host city is not a partner city"
    assert totals["Status"].to_dict() == {"X1": "reimbursable", "X2": "ineligible", "X3": "pending",
                                          "X5": "reimbursable"}
    assert totals["Why pending"].to_dict()["X3"] == "not validated (status submitted)"
    # the line rows carry no outcome, the total rows no line
    assert ledger.loc[ledger["Row"] == "expense line", "Status"].isna().all()


def test_audit_ledger_from_a_dataset_is_the_same(tmp_path):
    from test_rules import CLUSNET, check
    from clusnet_testdata import exchange, expense

    tables_kw = dict(exchanges=[exchange("X1", officer_id="O4")],
                     expenses=[expense("E1", "X1", "travel", "90", "GBP")])
    from test_rules import typed_tables

    c = check(**tables_kw)
    ds = types.SimpleNamespace(exchanges=c.view, expenses=c.expenses, costs=c.costs, findings=c.findings)
    pd.testing.assert_frame_equal(audit.audit_ledger(ds, CLUSNET),
                                  audit.audit_ledger(typed_tables(**tables_kw), CLUSNET))


def test_sample_figures():
    """The bundled sample, recounted by hand from its CSV files (see the module of the sample)."""
    from clusnet_analysis.ingest import dataset

    ds = dataset.load()
    c = eligibility.classify_exchanges(ds.exchanges, ds.costs, ds.findings, ds.programme)
    assert c[AMOUNTS].sum().round(2).to_dict() == {
        "claimed_eur": 38486.67, "ineligible_eur": 5121.15, "eligible_eur": 33365.52, "cap_cut_eur": 170.0,
        "reimbursable_eur": 29459.23, "pending_eur": 3736.29}
    assert c.loc[~c["eligible"], "exchange_id"].tolist() == ["X013", "X017", "X027", "X031"]
    assert c.loc[c["state"] == "pending", "exchange_id"].tolist() == ["X014", "X020", "X028"]
    ledger = audit.audit_ledger(ds, ds.programme)
    totals = ledger[ledger["Row"] == "exchange total"]
    assert round(totals["EUR"].sum(), 2) == 38486.67 and round(totals["Reimbursable (EUR)"].sum(), 2) == 29459.23
    assert (ledger["Row"] == "expense line").sum() == 138 - 9    # the two drafts' 9 lines are not claims


# ---------------------------------------------------------------- figure
def test_budget_amounts_figure(classified, programme, tmp_path):
    from clusnet_analysis.plots.budget_amounts import budget_amounts_figure
    from clusnet_analysis.rules.programme import city_allocations

    fig = budget_amounts_figure(eligibility.budget_amounts(classified, programme), city_allocations(programme))
    ax = fig.axes[0]
    # top to bottom in programme order; the non-partner marked
    assert [t.get_text() for t in ax.get_yticklabels()] == ["LYO", "BCN", "MUC", "OSL (not a partner)"]
    assert [t.get_position()[1] for t in ax.get_yticklabels()] == [3, 2, 1, 0]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "Reimbursable", "Pending", "Above the cap (not reimbursed)", "Ineligible", "Allocation"]
    # LYO (top bar): 2,550 reimbursable, 0 pending, 150 above the cap, 500 ineligible = 3,200 claimed
    widths = [p.get_width() for p in ax.patches]
    assert widths[0::4] == [2550, 0, 150, 500]


def test_budget_amounts_figure_groups_many_cities(programme):
    cities = [f"C{i:02d}" for i in range(40)]
    table = pd.DataFrame({"home_city": cities, "partner": True, "reimbursable_eur": np.arange(40.0),
                          "pending_eur": 0.0, "cap_cut_eur": 0.0, "ineligible_eur": 0.0})
    from clusnet_analysis.plots.budget_amounts import MAX_HEIGHT, budget_amounts_figure

    fig = budget_amounts_figure(table, max_cities=15)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 15 and labels[0] == "C26" and labels[-1] == "26 other cities"
    assert fig.get_figheight() <= MAX_HEIGHT
    # the other cities' bar holds the sum of C00..C25
    assert max(p.get_width() for p in fig.axes[0].patches) == sum(range(26))


def test_budget_overview_without_a_programme_budget_has_no_empty_share_column(classified, programme):
    from dataclasses import replace

    no_budget = replace(programme, officers_per_city=None, programme_budget_eur=None, allocation_eur={})
    assert audit.programme_budget(no_budget) is None
    table = audit.budget_overview(classified, no_budget)
    assert table.columns.tolist() == ["Amount", "EUR", "Exchanges"]
    assert table["Amount"].tolist()[0] == "Claimed"
