"""Programme rules: for every rule in RULES a case that passes and one that fails.

Tables are built in memory from row dicts (``clusnet_testdata``) and typed exactly as
validation types them (``validation.parse_table``); then the derived tables and
``check_rules`` run as in ``dataset.build``. CLUSNET rules unless a case says otherwise:
cap 1,550 EUR, window 2009-07-01..2010-12-31, periods S3/S4/S5, 5-day visits, 3 officers
and 1 away at a time per city, reports in English of at most 8 pages.

Officers: O1, O2 (LYO), O3 (BCN), O4 (MAN, pays in GBP), O5 (BUD). Default exchange: O1
(LYO) visits BCN Mon 2009-09-07 to Fri 2009-09-11, agenda sent 2009-08-20, report of 5
pages in English received 2009-10-01.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from clusnet_analysis import config
from clusnet_analysis.cli import app as cli
from clusnet_analysis.ingest.io import RawTable
from clusnet_analysis.rules.programme import Period, load_programme
from clusnet_analysis.rules.checks import FINDING_COLUMNS, RULES, RULES_BY_ID, check_rules, summarise
from clusnet_analysis.sample import PLANTED_FINDINGS
from clusnet_analysis.ingest.transforms import exchange_costs, exchanges_view, expenses_eur
from clusnet_analysis.ingest.validation import parse_table

from clusnet_testdata import BASE, COLUMNS, OFFICERS, exchange, expense, programme_file

CLUSNET = load_programme()


def typed_tables(**overrides) -> dict[str, pd.DataFrame]:
    """Validated-looking tables: BASE (no exchanges, expenses, practices, links) with overrides."""
    defaults = dict(BASE, exchanges=[], expenses=[], practices=[], links=[])
    tables = {}
    for name, columns in COLUMNS.items():
        rows = overrides.get(name, defaults[name])
        frame = pd.DataFrame([[r.get(c, "") for c in columns] for r in rows], columns=columns, dtype="str")
        frame = frame.where(frame != "")
        frame.index = pd.RangeIndex(2, 2 + len(frame), name="row")
        typed, errors, missing = parse_table(RawTable(name, f"{name}.csv", frame))
        assert not errors and not missing, (name, errors)
        tables[name] = typed
    return tables


@dataclasses.dataclass
class Checked:
    view: pd.DataFrame
    expenses: pd.DataFrame
    costs: pd.DataFrame
    findings: pd.DataFrame

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return list(zip(self.findings["rule_id"], self.findings["subject_id"]))

    def finding(self, rule_id: str) -> pd.Series:
        hits = self.findings[self.findings["rule_id"] == rule_id]
        assert len(hits) == 1, hits
        return hits.iloc[0]


def check(programme=CLUSNET, **overrides) -> Checked:
    tables = typed_tables(**overrides)
    view = exchanges_view(tables, programme)
    expenses = expenses_eur(tables, programme, view)
    costs = exchange_costs(tables, programme, view, expenses)
    return Checked(view, expenses, costs, check_rules(tables, programme, view, expenses, costs))


def lines(exchange_id, *amounts, currency="EUR", first=1):
    """Expense lines travel, accommodation, meals, … with the given amounts (as text)."""
    cats = ["travel", "accommodation", "meals", "local_transport", "insurance", "other"]
    return [expense(f"E{exchange_id}-{first + i}", exchange_id, cats[i], a, currency) for i, a in enumerate(amounts)]


def officer(officer_id, home_city="LYO", employer_type="city"):
    return dict(officer_id=officer_id, home_city=home_city, employer_type=employer_type, name="N.N.")


def test_the_base_case_has_no_findings():
    c = check(exchanges=[exchange()], expenses=lines("X1", "600", "600", "250", "100"))
    assert list(c.findings.columns) == FINDING_COLUMNS
    assert c.pairs == []


# ------------------------------------------------------------------ one pass + one fail per rule
# rule_id, case, passing tables, failing tables, expected (rule_id, subject_id) of the failing case
CASES = [
    ("over_cap", "exactly 1550 vs 1550.01",
     dict(exchanges=[exchange()], expenses=lines("X1", "600", "600", "250", "100")),
     dict(exchanges=[exchange()], expenses=lines("X1", "600.01", "600", "250", "100")),
     [("over_cap", "X1")]),
    ("over_cap", "in GBP: 1,395 GBP at 0.9 is exactly the cap",
     dict(exchanges=[exchange(officer_id="O4")], expenses=lines("X1", "1395", currency="GBP")),
     dict(exchanges=[exchange(officer_id="O4")], expenses=lines("X1", "1395.01", currency="GBP")),
     [("over_cap", "X1")]),
    ("outside_window", "first day of the window vs the day before",
     dict(exchanges=[exchange(start_date="2009-07-01", end_date="2009-07-05", agenda_sent_date="2009-06-20")]),
     dict(exchanges=[exchange(start_date="2009-06-30", end_date="2009-07-04", agenda_sent_date="2009-06-20")]),
     [("outside_window", "X1")]),
    ("outside_window", "last day of the window vs the day after",
     dict(exchanges=[exchange(start_date="2010-12-27", end_date="2010-12-31", agenda_sent_date="2010-12-01",
                              report_received_date="2011-01-20")]),
     dict(exchanges=[exchange(start_date="2010-12-28", end_date="2011-01-01", agenda_sent_date="2010-12-01",
                              report_received_date="2011-01-20")]),
     [("outside_window", "X1")]),
    ("officer_quota", "3 vs 4 officers in LYO",
     dict(officers=OFFICERS + [officer("O6")]),
     dict(officers=OFFICERS + [officer("O6"), officer("O7")]),
     [("officer_quota", "LYO")]),
    ("over_allocation", "LYO spends exactly its 3 x 1,550 EUR vs 0.01 EUR more",
     dict(exchanges=[exchange("X1"), exchange("X2", start_date="2009-09-14", end_date="2009-09-18"),
                     exchange("X3", start_date="2009-09-21", end_date="2009-09-25")],
          expenses=[expense(f"E{i}", f"X{i}", "travel", "1550") for i in (1, 2, 3)]),
     dict(exchanges=[exchange("X1"), exchange("X2", start_date="2009-09-14", end_date="2009-09-18"),
                     exchange("X3", start_date="2009-09-21", end_date="2009-09-25"),
                     exchange("X4", start_date="2009-09-28", end_date="2009-10-02")],
          expenses=[expense(f"E{i}", f"X{i}", "travel", "1550") for i in (1, 2, 3)]
          + [expense("E4", "X4", "travel", "0.01")]),
     [("over_allocation", "LYO")]),
    ("ineligible_employer", "city vs university",
     dict(officers=OFFICERS + [officer("O6", "MUC", "city")]),
     dict(officers=OFFICERS + [officer("O6", "MUC", "university"), officer("O7", "MUC", "external_expert"),
                               officer("O8", "MUC", "eurocities")]),
     [("ineligible_employer", "O6"), ("ineligible_employer", "O7"), ("ineligible_employer", "O8")]),
    ("concurrent_absence", "ends Friday, colleague leaves Monday vs both leave the same day",
     dict(exchanges=[exchange("X1"), exchange("X2", officer_id="O2", start_date="2009-09-14",
                                              end_date="2009-09-18")]),
     dict(exchanges=[exchange("X1"), exchange("X2", officer_id="O2", start_date="2009-09-07",
                                              end_date="2009-09-11")]),
     [("concurrent_absence", "X2")]),
    ("concurrent_absence", "another city's officer away vs a colleague leaving on the other's last day",
     dict(exchanges=[exchange("X1"), exchange("X2", officer_id="O3", host_city="LYO")]),
     dict(exchanges=[exchange("X1"), exchange("X2", officer_id="O2", start_date="2009-09-11",
                                              end_date="2009-09-15")]),
     [("concurrent_absence", "X2")]),
    ("home_is_host", "LYO visits BCN vs LYO visits LYO",
     dict(exchanges=[exchange(host_city="BCN")]),
     dict(exchanges=[exchange(host_city="LYO")]),
     [("home_is_host", "X1")]),
    ("not_partner_city", "host BCN vs host STO (in the cities table, not a partner)",
     dict(exchanges=[exchange(host_city="BCN")]),
     dict(exchanges=[exchange(host_city="STO")]),
     [("not_partner_city", "X1")]),
    ("not_partner_city", "home city STO",
     dict(officers=OFFICERS),
     dict(officers=OFFICERS + [officer("O6", "STO")], exchanges=[exchange(officer_id="O6", host_city="LYO")]),
     [("not_partner_city", "X1")]),
    ("visit_length", "5 days vs 4 and 6",
     dict(exchanges=[exchange(end_date="2009-09-11")]),
     dict(exchanges=[exchange("X1", end_date="2009-09-10"),
                     exchange("X2", officer_id="O3", host_city="LYO", end_date="2009-09-12")]),
     [("visit_length", "X1"), ("visit_length", "X2")]),
    ("agenda_not_sent", "the day before vs the same day, later, never",
     dict(exchanges=[exchange(agenda_sent_date="2009-09-06")]),
     dict(exchanges=[exchange("X1", agenda_sent_date="2009-09-07"),
                     exchange("X2", officer_id="O3", host_city="LYO", agenda_sent_date="2009-09-09"),
                     exchange("X3", officer_id="O4", host_city="LYO", agenda_sent_date="")]),
     [("agenda_not_sent", "X1"), ("agenda_not_sent", "X2"), ("agenda_not_sent", "X3")]),
    ("report_missing", "received vs not received (validated, submitted)",
     dict(exchanges=[exchange(status="submitted")]),
     dict(exchanges=[exchange("X1", report_received_date="", report_pages="", report_language=""),
                     exchange("X2", officer_id="O3", host_city="LYO", status="submitted",
                              report_received_date="", report_pages="", report_language="")]),
     [("report_missing", "X1"), ("report_missing", "X2")]),
    ("report_too_long", "8 vs 9 pages",
     dict(exchanges=[exchange(report_pages="8")]),
     dict(exchanges=[exchange(report_pages="9")]),
     [("report_too_long", "X1")]),
    ("report_language", "en vs fr, and a report without a language",
     dict(exchanges=[exchange(report_language="en")]),
     dict(exchanges=[exchange("X1", report_language="fr"),
                     exchange("X2", officer_id="O3", host_city="LYO", report_language="")]),
     [("report_language", "X1"), ("report_language", "X2")]),
    ("missing_fx_rate", "GBP in 2009-09 (rate) vs 2009-10 (no rate)",
     dict(exchanges=[exchange(officer_id="O4")], expenses=lines("X1", "90", currency="GBP")),
     dict(exchanges=[exchange(officer_id="O4", start_date="2009-10-05", end_date="2009-10-09")],
          expenses=lines("X1", "90", currency="GBP")),
     [("missing_fx_rate", "EX1-1")]),
    ("draft_excluded", "submitted vs draft",
     dict(exchanges=[exchange(status="submitted")]),
     dict(exchanges=[exchange(status="draft")]),
     [("draft_excluded", "X1")]),
]


@pytest.mark.parametrize("passing, failing, expected", [c[2:] for c in CASES], ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_rule(passing, failing, expected):
    assert check(**passing).pairs == []
    assert check(**failing).pairs == expected


def test_every_rule_has_cases():
    covered = {c[0] for c in CASES} | {"outside_periods"}   # outside_periods: needs another programme, below
    assert covered == set(RULES_BY_ID)


# ------------------------------------------------------------------ details per rule
def test_over_cap_message():
    f = check(exchanges=[exchange()], expenses=lines("X1", "600.01", "600", "250", "100")).finding("over_cap")
    assert f["message"] == "costs 1,550.01 EUR, more than the cap of 1,550 EUR per exchange (0.01 EUR over)"
    assert (f["exchange_id"], f["home_city"], f["period"], f["value"], f["limit"]) == (
        "X1", "LYO", "S3", "1550.01", "1550")


def test_outside_window_message():
    f = check(exchanges=[exchange(start_date="2009-06-30", end_date="2009-07-04",
                                  agenda_sent_date="2009-06-20")]).finding("outside_window")
    assert f["message"] == "visit 2009-06-30 to 2009-07-04 is outside the eligibility window 2009-07-01 to 2010-12-31"


def test_outside_periods_needs_a_gap_between_periods():
    # Same window, but only S3 and S5 count: spring 2010 is in the window and in no period.
    gap = dataclasses.replace(CLUSNET, periods=(
        Period("S3", "S3", dt.date(2009, 7, 1), dt.date(2009, 12, 31)),
        Period("S5", "S5", dt.date(2010, 7, 1), dt.date(2010, 12, 31))))
    spring = dict(exchanges=[exchange(start_date="2010-03-01", end_date="2010-03-05", agenda_sent_date="2010-02-01",
                                      report_received_date="2010-03-20")])
    autumn = dict(exchanges=[exchange(start_date="2010-07-05", end_date="2010-07-09", agenda_sent_date="2010-06-01",
                                      report_received_date="2010-07-20")])
    assert check(CLUSNET, **spring).pairs == []        # S4 exists in CLUSNET
    assert check(gap, **autumn).pairs == []
    c = check(gap, **spring)
    assert c.pairs == [("outside_periods", "X1")]
    assert c.finding("outside_periods")["message"] == "visit starting 2010-03-01 falls in no reporting period (S3, S5)"
    assert pd.isna(c.view["period"].iloc[0])


def test_outside_window_is_not_also_outside_periods():
    c = check(exchanges=[exchange(start_date="2011-01-17", end_date="2011-01-21", agenda_sent_date="2011-01-01",
                                  report_received_date="2011-02-01")])
    assert c.pairs == [("outside_window", "X1")]


def test_officer_quota_message():
    f = check(officers=OFFICERS + [officer("O6"), officer("O7")]).finding("officer_quota")
    assert f["message"] == "4 officers registered for LYO; the quota is 3 officers per city"
    assert (f["value"], f["limit"]) == ("4", "3")


def test_ineligible_employer_message():
    f = check(officers=OFFICERS + [officer("O6", "MUC", "university")]).finding("ineligible_employer")
    assert f["message"] == "employer type 'university' is not eligible (allowed: city)"
    assert f["home_city"] == "MUC"


def test_concurrent_absence_message_names_the_colleague():
    f = check(exchanges=[exchange("X1"), exchange("X2", officer_id="O2", start_date="2009-09-09",
                                                  end_date="2009-09-13")]).finding("concurrent_absence")
    assert f["message"] == ("officer away 2009-09-09 to 2009-09-13 while 1 colleague(s) from LYO are away "
                            "(e.g. exchange X1); the programme allows at most 1 officer of a city away at a time")
    assert f["value"] == "X1"


def test_concurrent_absence_with_two_allowed_per_city():
    two = dataclasses.replace(CLUSNET, max_concurrent_per_city=2)
    officers = OFFICERS + [officer("O6")]            # O1, O2, O6 in LYO
    pair = [exchange("X1"), exchange("X2", officer_id="O2")]
    assert check(two, officers=officers, exchanges=pair).pairs == []
    assert check(CLUSNET, officers=officers, exchanges=pair).pairs == [("concurrent_absence", "X2")]
    three = pair + [exchange("X3", officer_id="O6", start_date="2009-09-10", end_date="2009-09-14")]
    c = check(two, officers=officers, exchanges=three)
    assert c.pairs == [("concurrent_absence", "X3")]
    assert "while 2 colleague(s) from LYO are away" in c.finding("concurrent_absence")["message"]
    # The third leaves the Monday after the others come back: fine.
    later = pair + [exchange("X3", officer_id="O6", start_date="2009-09-14", end_date="2009-09-18")]
    assert check(two, officers=officers, exchanges=later).pairs == []


def test_not_partner_city_message_names_both_sides():
    c = check(officers=OFFICERS + [officer("O6", "STO")], exchanges=[exchange(officer_id="O6", host_city="STO")])
    assert c.pairs == [("home_is_host", "X1"), ("not_partner_city", "X1")]
    assert c.finding("not_partner_city")["message"] == (
        "host city STO is not a partner city; home city STO is not a partner city")


def test_visit_length_message():
    f = check(exchanges=[exchange(end_date="2009-09-10")]).finding("visit_length")
    assert f["message"] == "visit of 4 days; the programme's visits last 5 days"
    assert (f["value"], f["limit"]) == ("4", "5")


def test_limits_come_from_the_programme_file(tmp_path):
    """Another programme: cap 1,000 EUR, 3-day visits, reports of at most 4 pages.

    Each limit is met exactly by X1 (no finding) and crossed by one step by the others.
    """
    other = load_programme(programme_file(tmp_path / "programme.toml", budget__cap_eur=1000, visit__days=3,
                                          reports__max_pages=4))
    c = check(other, exchanges=[
        exchange("X1", end_date="2009-09-09", report_pages="4"),                           # 3 days, 4 pages
        exchange("X2", officer_id="O3", host_city="LYO", end_date="2009-09-09", report_pages="5"),
        exchange("X3", officer_id="O4", host_city="LYO", end_date="2009-09-10", report_pages="3"),  # 4 days
        exchange("X4", officer_id="O5", host_city="LYO", end_date="2009-09-08", report_pages="3"),  # 2 days
    ], expenses=lines("X1", "600", "400") + lines("X2", "600", "400.01", first=3))
    assert c.pairs == [("over_cap", "X2"), ("visit_length", "X3"), ("visit_length", "X4"),
                       ("report_too_long", "X2")]
    assert c.finding("over_cap")["message"] == ("costs 1,000.01 EUR, more than the cap of 1,000 EUR per exchange "
                                                "(0.01 EUR over)")
    assert c.findings.loc[c.findings["rule_id"] == "visit_length", "message"].tolist() == [
        "visit of 4 days; the programme's visits last 3 days", "visit of 2 days; the programme's visits last 3 days"]
    assert c.finding("report_too_long")["message"] == "report of 5 pages; the limit is 4 pages"
    # The same exchanges under CLUSNET's rules (1,550 EUR, 5 days, 8 pages): only the visit lengths.
    assert check(CLUSNET, exchanges=[exchange("X1", end_date="2009-09-09", report_pages="4")]).pairs == [
        ("visit_length", "X1")]


def test_agenda_messages():
    c = check(exchanges=[exchange("X1", agenda_sent_date="2009-09-07"),
                         exchange("X2", officer_id="O3", host_city="LYO", agenda_sent_date="")])
    assert c.findings["message"].tolist() == [
        "final agenda sent on 2009-09-07, not before the visit started on 2009-09-07",
        "final agenda was never sent"]


def test_report_messages():
    c = check(exchanges=[exchange("X1", report_language="fr", report_pages="9"),
                         exchange("X2", officer_id="O3", host_city="LYO", status="submitted",
                                  report_received_date="", report_pages="", report_language="")])
    assert c.findings[["rule_id", "subject_id", "message"]].values.tolist() == [
        ["report_missing", "X2", "no report received (status submitted)"],
        ["report_too_long", "X1", "report of 9 pages; the limit is 8 pages"],
        ["report_language", "X1", "report written in 'fr'; reports must be in 'en'"],
    ]


def test_missing_fx_rate_line_stays_visible():
    c = check(exchanges=[exchange(officer_id="O4", start_date="2009-10-05", end_date="2009-10-09")],
              expenses=lines("X1", "90", "450", currency="GBP") + [expense("E9", "X1", "meals", "250", "EUR")])
    assert c.pairs == [("missing_fx_rate", "EX1-1"), ("missing_fx_rate", "EX1-2")]
    f = c.findings.iloc[0]
    assert f["exchange_id"] == "X1"
    assert f["message"] == "no GBP rate for 2009-10: 90.00 GBP not converted and left out of EUR totals"
    assert (f["value"], f["limit"]) == ("90.0 GBP", "GBP 2009-10")
    eur = c.expenses.set_index("expense_id")["amount_eur"]
    assert np.isnan(eur["EX1-1"]) and np.isnan(eur["EX1-2"]) and eur["E9"] == 250.0
    costs = c.costs.iloc[0]
    assert (costs["total_eur"], costs["meals"], costs["unconverted_lines"]) == (250.0, 250.0, 2)


def test_drafts_are_out_of_totals_and_every_other_rule():
    # A draft that breaks everything: over the cap in a month without a GBP rate, after the window,
    # 7 days, at home, no agenda, no report; and it overlaps a counted colleague's exchange.
    officers = OFFICERS + [officer("O6", "MAN")]
    draft = exchange("X9", officer_id="O6", host_city="MAN", start_date="2011-02-01", end_date="2011-02-07",
                     status="draft", agenda_sent_date="", report_received_date="", report_pages="",
                     report_language="")
    counted = exchange("X1", officer_id="O4", start_date="2011-02-03", end_date="2011-02-07",
                       agenda_sent_date="2011-01-20", report_received_date="2011-03-01")
    c = check(officers=officers, exchanges=[counted, draft],
              expenses=lines("X9", "2000", currency="GBP") + [expense("E1", "X1", "travel", "300")])
    assert c.pairs == [("outside_window", "X1"), ("draft_excluded", "X9")]
    assert c.finding("draft_excluded")["message"] == "draft: listed, not counted in totals or checked against rules"
    # Listed with counted = False, so every total (which sums counted rows) leaves it out.
    costs = c.costs.set_index("exchange_id")
    assert costs["counted"].to_dict() == {"X1": True, "X9": False}
    assert costs.loc[costs["counted"], "total_eur"].sum() == 300.0
    assert c.expenses.set_index("expense_id")["counted"].to_dict() == {"EX9-1": False, "E1": True}


THREE_WEEKS = [exchange("X1"), exchange("X2", start_date="2009-09-14", end_date="2009-09-18"),
               exchange("X3", start_date="2009-09-21", end_date="2009-09-25")]


def test_over_allocation_message():
    c = check(exchanges=THREE_WEEKS + [exchange("X4", start_date="2009-09-28", end_date="2009-10-02")],
              expenses=[expense(f"E{i}", f"X{i}", "travel", "1200") for i in (1, 2, 3, 4)])
    f = c.finding("over_allocation")
    # 4 x 1,200 = 4,800 EUR against 3 x 1,550 = 4,650 EUR: 103.2 %, 150 EUR over
    assert f["message"] == ("eligible spend of LYO is 4,800.00 EUR, 103.2 % of its allocation of 4,650 EUR "
                            "(over by 150.00 EUR)")
    assert (f["subject_type"], f["home_city"], f["value"], f["limit"]) == ("city", "LYO", "4800.0", "4650")
    assert pd.isna(f["exchange_id"])


def test_over_allocation_counts_only_eligible_exchanges():
    # X4 goes to Stockholm (not a partner): ineligible, so LYO's eligible spend stays 3,600 EUR.
    four = THREE_WEEKS + [exchange("X4", host_city="STO", start_date="2009-09-28", end_date="2009-10-02")]
    c = check(exchanges=four, expenses=[expense(f"E{i}", f"X{i}", "travel", "1200") for i in (1, 2, 3, 4)])
    assert c.pairs == [("not_partner_city", "X4")]


def test_over_allocation_uses_the_written_allocation_and_is_off_without_one():
    one = [exchange("X1")]
    spend = [expense("E1", "X1", "travel", "1000.01")]
    small = dataclasses.replace(CLUSNET, allocation_eur={"LYO": 1000.0})
    assert check(small, exchanges=one, expenses=spend).pairs == [("over_allocation", "LYO")]
    assert check(dataclasses.replace(CLUSNET, allocation_eur={"LYO": 1000.01}),
                 exchanges=one, expenses=spend).pairs == []
    # No quota and no written allocation: no allocation, so nothing can be over it.
    no_quota = dataclasses.replace(CLUSNET, officers_per_city=None)
    assert check(no_quota, exchanges=THREE_WEEKS + [exchange("X4", start_date="2009-09-28", end_date="2009-10-02")],
                 expenses=[expense(f"E{i}", f"X{i}", "travel", "1500") for i in (1, 2, 3, 4)]).pairs == []


def test_ineligible_employer_is_attached_to_each_counted_exchange():
    officers = OFFICERS + [officer("O6", "MUC", "university"), officer("O7", "MUC", "eurocities")]
    exchanges = [exchange("X1", officer_id="O6"),                                               # S3
                 exchange("X2", officer_id="O6", start_date="2010-02-01", end_date="2010-02-05",
                          agenda_sent_date="2010-01-20", report_received_date="2010-02-20"),    # S4
                 exchange("X3", officer_id="O6", start_date="2010-03-01", end_date="2010-03-05",
                          status="draft", agenda_sent_date="2010-02-20")]                       # draft
    c = check(officers=officers, exchanges=exchanges)
    hits = c.findings[c.findings["rule_id"] == "ineligible_employer"]
    # O6: one row per counted exchange (not the draft); O7 has no exchange: one row without one.
    assert hits["subject_id"].tolist() == ["O6", "O6", "O7"]
    assert hits["exchange_id"].fillna("").tolist() == ["X1", "X2", ""]
    assert hits["period"].fillna("").tolist() == ["S3", "S4", ""]
    assert set(hits["message"]) == {"employer type 'university' is not eligible (allowed: city)",
                                    "employer type 'eurocities' is not eligible (allowed: city)"}


def test_lines_waiting_for_their_conversion_date_are_not_a_missing_rate():
    by_validation = dataclasses.replace(CLUSNET, conversion_month="validated_on")
    gbp = lines("X1", "90", currency="GBP")
    # Validated in September 2009 (a GBP rate exists): converted at 0.9.
    c = check(by_validation, exchanges=[exchange(officer_id="O4", validated_on="2009-09-30")], expenses=gbp)
    assert c.pairs == [] and c.expenses["amount_eur"].tolist() == [100.0]
    assert c.expenses["month"].tolist() == ["2009-09"]
    # Validated in October 2009: no rate for that month, a finding naming it.
    c = check(by_validation, exchanges=[exchange(officer_id="O4", validated_on="2009-10-02")], expenses=gbp)
    assert c.pairs == [("missing_fx_rate", "EX1-1")]
    assert "no GBP rate for 2009-10" in c.findings["message"].iat[0]
    # Not validated yet: nothing to convert at, no finding, the line stays unconverted.
    c = check(by_validation, exchanges=[exchange(officer_id="O4", status="submitted")], expenses=gbp)
    assert c.pairs == []
    assert np.isnan(c.expenses["amount_eur"].iat[0]) and pd.isna(c.expenses["month"].iat[0])
    assert c.costs["unconverted_lines"].tolist() == [1]


def test_summarise_lists_every_rule():
    c = check(exchanges=[exchange(report_pages="9")])
    s = summarise(c.findings)
    assert s["rule_id"].tolist() == [r.id for r in RULES]
    assert s.set_index("rule_id")["findings"].to_dict() == {r.id: int(r.id == "report_too_long") for r in RULES}


# ------------------------------------------------------------------ the sample
def test_sample_reports_exactly_the_planted_findings(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    out = tmp_path / "out"
    code = cli.main(["validate", "--data", str(config.SAMPLE_DATA_DIR), "--out", str(out)])
    capsys.readouterr()
    assert code == 0
    findings = pd.read_csv(out / "findings.csv", dtype=str)
    pairs = list(zip(findings["rule_id"], findings["subject_id"]))
    assert len(pairs) == len(set(pairs)) == len(PLANTED_FINDINGS)
    assert set(pairs) == set(PLANTED_FINDINGS)


# ------------------------------------------------------------------ on, off and range forms
CLUSNET_TOML = config.DEFAULT_PROGRAMME_FILE.read_text(encoding="utf-8")
SWITCH = {   # the line of clusnet.toml that sets each switchable rule
    "over_cap": ("cap_eur = 1550 ", "budget.cap_eur"),
    "officer_quota": ("officers_per_city = 3", "participants.officers_per_city"),
    "concurrent_absence": ("max_concurrent_per_city = 1", "participants.max_concurrent_per_city"),
    "visit_length": ("days = 5 ", "visit.days"),
    "agenda_not_sent": ("agenda_before_visit = true", "reports.agenda_before_visit"),
    "report_missing": ("report_required = true", "reports.report_required"),
    "report_too_long": ("max_pages = 8", "reports.max_pages"),
    "report_language": ('language = "en"', "reports.language"),
}


def programme_with(tmp_path, old: str, new: str, name: str = "rules.toml"):
    """CLUSNET's file with one setting changed, read as a user's file is."""
    assert CLUSNET_TOML.count(old) == 1, old
    path = tmp_path / name
    path.write_text(CLUSNET_TOML.replace(old, new), encoding="utf-8")
    return load_programme(path)


def test_every_rule_with_a_setting_can_be_switched_off():
    assert {r.id for r in RULES if r.setting} == set(SWITCH)
    assert {RULES_BY_ID[r].setting for r in SWITCH} == {key for _, key in SWITCH.values()}


@pytest.mark.parametrize("rule_id", list(SWITCH))
def test_a_rule_that_is_off_finds_nothing_and_says_so(tmp_path, rule_id):
    line, key = SWITCH[rule_id]
    failing = next(c[3] for c in CASES if c[0] == rule_id)
    on = check(CLUSNET, **failing)
    assert rule_id in {r for r, _ in on.pairs}
    off_programme = programme_with(tmp_path, line, line.split("=")[0] + "= false ")
    off = check(off_programme, **failing)
    assert rule_id not in {r for r, _ in off.pairs}
    # Only that rule is silenced: every other finding stays.
    assert off.pairs == [p for p in on.pairs if p[0] != rule_id]
    row = summarise(off.findings, off_programme).set_index("rule_id").loc[rule_id]
    assert (row["status"], row["findings"], row["limit"]) == ("off", 0, f"off (`{key} = false` in the programme file)")
    on_row = summarise(on.findings, CLUSNET).set_index("rule_id").loc[rule_id]
    assert (on_row["status"], on_row["findings"]) == ("on", len([p for p in on.pairs if p[0] == rule_id]))


def days(n: int, exchange_id="X1", officer_id="O1"):
    """An exchange of n days (first and last day included) from Mon 2009-09-07; O1 (LYO) visits BCN, others LYO."""
    end = dt.date(2009, 9, 7) + dt.timedelta(days=n - 1)
    return exchange(exchange_id, officer_id=officer_id, host_city="BCN" if officer_id == "O1" else "LYO",
                    end_date=end.isoformat())


def test_visit_length_exact(tmp_path):
    three = programme_with(tmp_path, "days = 5 ", "days = 3 ")
    assert check(three, exchanges=[days(3)]).pairs == []
    c = check(three, exchanges=[days(2), days(4, "X2", "O3")])
    assert c.pairs == [("visit_length", "X1"), ("visit_length", "X2")]
    assert c.findings["message"].tolist() == ["visit of 2 days; the programme's visits last 3 days",
                                              "visit of 4 days; the programme's visits last 3 days"]
    assert c.findings["limit"].tolist() == ["3", "3"]


def test_visit_length_range(tmp_path):
    one_to_four = programme_with(tmp_path, "days = 5 ", "days = { min = 1, max = 4 } ")
    # 1 and 4 days are the edges of the range and pass; 5 days is one too many.
    assert check(one_to_four, exchanges=[days(1), days(4, "X2", "O3")]).pairs == []
    c = check(one_to_four, exchanges=[days(5)])
    assert c.pairs == [("visit_length", "X1")]
    f = c.finding("visit_length")
    assert f["message"] == "visit of 5 days; the programme's visits last between 1 and 4 days"
    assert (f["value"], f["limit"]) == ("5", "1..4")
    two_to_four = programme_with(tmp_path, "days = 5 ", "days = { min = 2, max = 4 } ", "two.toml")
    assert check(two_to_four, exchanges=[days(1)]).finding("visit_length")["message"] == (
        "visit of 1 day; the programme's visits last between 2 and 4 days")
    assert summarise(c.findings, one_to_four).set_index("rule_id").loc["visit_length", "limit"] == (
        "visits of between 1 and 4 days")


def test_officer_quota_follows_its_setting(tmp_path):
    five = OFFICERS + [officer("O6"), officer("O7"), officer("O8")]   # 5 in LYO
    assert check(CLUSNET, officers=five).finding("officer_quota")["message"] == (
        "5 officers registered for LYO; the quota is 3 officers per city")
    assert check(programme_with(tmp_path, "officers_per_city = 3", "officers_per_city = 5"), officers=five).pairs == []
    one = programme_with(tmp_path, "officers_per_city = 3", "officers_per_city = 1", "one.toml")
    assert check(one, officers=OFFICERS).finding("officer_quota")["message"] == (
        "2 officers registered for LYO; the quota is 1 officer per city")


def test_cap_follows_its_setting(tmp_path):
    cap = programme_with(tmp_path, "cap_eur = 1550 ", "cap_eur = 1700.5 ")
    assert check(cap, exchanges=[exchange()], expenses=lines("X1", "1700.50")).pairs == []
    f = check(cap, exchanges=[exchange()], expenses=lines("X1", "1700", "20")).finding("over_cap")
    assert f["message"] == "costs 1,720.00 EUR, more than the cap of 1,700.50 EUR per exchange (19.50 EUR over)"


def test_report_page_limit_follows_its_setting(tmp_path):
    ten = programme_with(tmp_path, "max_pages = 8", "max_pages = 10")
    assert check(ten, exchanges=[exchange(report_pages="10")]).pairs == []
    assert check(ten, exchanges=[exchange(report_pages="11")]).finding("report_too_long")["message"] == (
        "report of 11 pages; the limit is 10 pages")


def test_summarise_states_each_limit_in_words():
    s = summarise(check(exchanges=[exchange()]).findings, CLUSNET).set_index("rule_id")
    assert s["status"].unique().tolist() == ["on"]
    assert s["limit"].to_dict() == {
        "over_cap": "at most 1,550 EUR per exchange",
        "outside_window": "visits from 2009-07-01 to 2010-12-31",
        "outside_periods": "visits starting in a reporting period (S3, S4, S5)",
        "officer_quota": "at most 3 officers per city",
        "over_allocation": "eligible spend of each home city within its allocation",
        "ineligible_employer": "employed by: city",
        "concurrent_absence": "at most 1 officer of a city away at a time",
        "home_is_host": "a host city other than the home city",
        "not_partner_city": "home and host among the 10 partner cities",
        "visit_length": "visits of 5 days",
        "agenda_not_sent": "final agenda sent before the visit starts",
        "report_missing": "a report for every submitted or validated exchange",
        "report_too_long": "reports of at most 8 pages",
        "report_language": "reports written in 'en'",
        "missing_fx_rate": "an exchange rate for every currency and month used",
        "draft_excluded": "drafts are listed but not counted",
    }
    # Without the programme, the summary keeps its old columns.
    assert list(summarise(check().findings).columns) == ["rule_id", "severity", "findings", "rule"]


def test_messages_and_descriptions_name_no_setting_or_identifier():
    """Readers see words: no `reports.max_pages`-style names (a key is only ever quoted in backticks)."""
    officers = OFFICERS + [officer("O6"), officer("O7"), officer("O8", "MUC", "university")]
    c = check(officers=officers,
              exchanges=[exchange("X1", end_date="2009-09-10", agenda_sent_date="", report_pages="9",
                                  report_language="fr"),
                         exchange("X2", officer_id="O2", host_city="LYO", report_received_date="",
                                  report_pages="", report_language=""),
                         exchange("X3", officer_id="O4", host_city="STO", start_date="2009-10-05",
                                  end_date="2009-10-09"),
                         exchange("X4", officer_id="O5", start_date="2011-01-03", end_date="2011-01-07",
                                  status="submitted"),
                         exchange("X5", officer_id="O5", start_date="2010-03-01", end_date="2010-03-05",
                                  status="draft")],
              expenses=lines("X1", "1600") + lines("X3", "90", currency="GBP", first=5))
    assert set(c.findings["rule_id"]) == set(RULES_BY_ID) - {"outside_periods", "over_allocation"}
    identifier = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[a-z]{2,}\.[a-z_]{2,}\b")   # max_pages, reports.language
    for text in list(c.findings["message"]) + [r.description for r in RULES]:
        assert not identifier.search(text.replace("'university'", "")), text


def test_absences_computed_on_the_other_core_give_the_same_findings(programme):
    """The data layer computes the overlap of absences beside the expense conversion and hands it
    to check_rules: the findings must be those check_rules finds alone, in the same order."""
    from clusnet_analysis.ingest.dataset import build
    from clusnet_analysis.rules.checks import concurrent_absences

    ds = build(config.SAMPLE_DATA_DIR)
    alone = check_rules(ds.tables, ds.programme, ds.exchanges, ds.expenses, ds.costs)
    handed = check_rules(ds.tables, ds.programme, ds.exchanges, ds.expenses, ds.costs,
                         concurrent=lambda: concurrent_absences(ds.exchanges, ds.programme))
    pd.testing.assert_frame_equal(handed, alone)
    pd.testing.assert_frame_equal(ds.findings, alone)
    assert alone.loc[alone["rule_id"] == "concurrent_absence", "subject_id"].tolist() == [
        subject for rule, subject in PLANTED_FINDINGS if rule == "concurrent_absence"]
    off = dataclasses.replace(ds.programme, switched_off=frozenset({"participants.max_concurrent_per_city"}))
    assert concurrent_absences(ds.exchanges, off) is None
