"""The sections layer: one meaning of "period", numbers that add up, tables a reader can use.

The hand-made data set (answers worked out by hand, all amounts in EUR):

- X1  LYO → BCN, 7–11 Sep 2009 (S3): 600 + 600 + 250 + 100 = 1,550.00, exactly the cap
- X2  BCN → LYO, 8–12 Mar 2010 (S4): 600.01 + 600 + 250 + 100 = 1,550.01, one cent over the cap
- X5  BCN → MUC, 12–16 Apr 2010 (S4): 3,200.00, over the cap
- X3  MAN → LYO, 6–10 Sep 2010 (S5): a draft, 100.00 (never counted)
- X4  BUD → MUC, 7–11 Feb 2011: after the window (in no period), 500.00

So, counted exchanges: S3 1, S4 2, S5 0, outside 1, total 4; spend S3 1,550.00, S4 4,750.01,
S5 0, outside 500.00, total 6,800.01. BCN spends 4,750.01 of its 4,650 allocation (3 places x
1,550): over budget. LYO spends 1,550.00 of 4,650.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from clusnet_analysis import config, sections
from clusnet_analysis.ingest.dataset import load
from clusnet_analysis.sections.labels import column_label
from clusnet_analysis.sections.view import InvalidDataError
from clusnet_testdata import expense, exchange, write_data

ADDITIVE = ("exchanges", "person_days", "claimed", "reimbursable", "practices", "links", "cross_city_links", "assessment_rounds",
            "findings_dated")
IDENTIFIER = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory):
    data = write_data(
        tmp_path_factory.mktemp("sections") / "data",
        exchanges=[
            exchange("X1"),
            exchange("X2", officer_id="O3", host_city="LYO", start_date="2010-03-08", end_date="2010-03-12"),
            exchange("X5", officer_id="O3", host_city="MUC", start_date="2010-04-12", end_date="2010-04-16"),
            exchange("X3", officer_id="O4", host_city="LYO", start_date="2010-09-06", end_date="2010-09-10",
                     status="draft"),
            exchange("X4", officer_id="O5", host_city="MUC", start_date="2011-02-07", end_date="2011-02-11",
                     status="submitted"),
        ],
        expenses=[
            expense("E1", category="travel", amount="600"),
            expense("E2", category="accommodation", amount="600"),
            expense("E3", category="meals", amount="250"),
            expense("E4", category="local_transport", amount="100"),
            expense("E5", "X2", category="travel", amount="600.01"),
            expense("E6", "X2", category="accommodation", amount="600"),
            expense("E7", "X2", category="meals", amount="250"),
            expense("E8", "X2", category="local_transport", amount="100"),
            expense("E9", "X5", category="travel", amount="3200"),
            expense("E10", "X3", category="travel", amount="100"),
            expense("E11", "X4", category="travel", amount="500"),
        ])
    ds = load(data, use_cache=False)
    return {p: sections.for_dataset(ds, p) for p in ("S3", "S4", "S5", "final")}


def _numbers(view, area):
    return {k.key: k.value for k in sections.build(view, area).key_numbers}


def test_counts_per_period_worked_out_by_hand(hand_made):
    final = _numbers(hand_made["final"], "cross_city")
    assert [final[f"exchanges.{s}"] for s in ("S3", "S4", "S5", "outside", "total")] == [1, 2, 0, 1, 4]
    s4 = _numbers(hand_made["S4"], "cross_city")
    assert (s4["exchanges.this_period"], s4["exchanges.cumulative"]) == (2, 3)
    money = _numbers(hand_made["final"], "budget")
    scopes = ("S3", "S4", "S5", "outside", "total")
    assert [money[f"claimed.{s}"] for s in scopes] == pytest.approx([1550.00, 4750.01, 0.0, 500.00, 6800.01])
    # X1 at the cap, X2 and X5 capped at 1,550 each; X4 (after the window) is ineligible
    assert [money[f"reimbursable.{s}"] for s in scopes] == pytest.approx([1550.00, 3100.00, 0.0, 0.0, 4650.00])
    assert money["ineligible.total"] == pytest.approx(500.00)
    assert money["cap_cut.total"] == pytest.approx(0.01 + 1650.00)


def test_exactly_at_the_cap_is_within_it_one_cent_more_is_over(hand_made):
    s3 = sections.build(hand_made["S3"], "budget")
    assert s3.table("over_cap").frame.empty                      # X1 costs exactly 1,550.00
    assert _numbers(hand_made["S3"], "budget")["exchanges_over_cap.cumulative"] == 0
    s4 = sections.build(hand_made["S4"], "budget").table("over_cap")
    assert s4.frame["exchange_id"].tolist() == ["X2", "X5"]
    assert s4.frame["overrun_eur"].round(2).tolist() == [0.01, 1650.00]
    assert [h.word for h in s4.highlights] == ["over cap"]


def test_a_semester_knows_nothing_after_its_end(hand_made):
    s3 = hand_made["S3"]
    assert s3.exchanges["exchange_id"].tolist() == ["X1"]
    assert "X2" not in set(s3.findings["exchange_id"].dropna())            # X2's over-cap finding is later
    assert "over_cap" in set(hand_made["S4"].findings["rule_id"])
    assert sections.build(s3, "data_quality").table("drafts").frame.empty   # the draft X3 is from S5
    assert sections.build(hand_made["S5"], "data_quality").table("drafts").frame["exchange_id"].tolist() == ["X3"]
    assert "outside_window" not in set(hand_made["S5"].findings["rule_id"])  # X4 (2011) comes after S5
    assert "outside_window" in set(hand_made["final"].findings["rule_id"])


def test_cities_over_their_allocation_are_highlighted_with_a_word(hand_made):
    table = sections.build(hand_made["final"], "budget").table("by_city")
    frame = table.frame.set_index("Home city")
    assert frame.loc["BCN", "Eligible, % of allocation"] == pytest.approx(4750.01 / 4650, abs=0.001)
    marks = {h.word: [frame.index[i] for i, flag in enumerate(h.mask) if flag] for h in table.highlights}
    assert marks == {"over allocation": ["BCN"]}


def test_periods_add_up_to_the_total_and_s5_cumulative_is_the_total_within_the_window():
    ds = load(config.SAMPLE_DATA_DIR, use_cache=False)
    views = {p: sections.for_dataset(ds, p) for p in ("S3", "S4", "S5", "final")}
    checked = 0
    for area in sections.AREAS:
        final = _numbers(views["final"], area)
        s5 = _numbers(views["S5"], area)
        s4 = _numbers(views["S4"], area)
        s3 = _numbers(views["S3"], area)
        for id in ADDITIVE:
            if f"{id}.total" not in final:
                continue
            parts = [final[f"{id}.{s}"] for s in ("S3", "S4", "S5", "outside")]
            assert sum(parts) == pytest.approx(final[f"{id}.total"]), (area, id)
            assert s5[f"{id}.cumulative"] == pytest.approx(final[f"{id}.total"] - final[f"{id}.outside"]), (area, id)
            assert s4[f"{id}.cumulative"] == pytest.approx(s3[f"{id}.this_period"] + s4[f"{id}.this_period"])
            assert s4[f"{id}.this_period"] == pytest.approx(final[f"{id}.S4"]), (area, id)
            checked += 1
    assert checked >= 7


def test_every_key_number_names_its_scope(hand_made):
    for period, view in hand_made.items():
        scopes = {s.id for s in view.scopes} | {"snapshot"}
        for area, section in sections.build_all(view).items():
            for k in section.key_numbers:
                assert k.scope in scopes and k.scope_label and k.unit, (period, area, k)


def test_no_table_header_is_an_identifier(hand_made):
    ds = load(config.SAMPLE_DATA_DIR, use_cache=False)
    for view in [*hand_made.values(), sections.for_dataset(ds, "final"), sections.for_dataset(ds, "S4")]:
        for area, section in sections.build_all(view).items():
            for table in section.tables:
                reader = table.for_reader()
                names = [str(c) for c in reader.columns] + ([str(reader.index.name)] if table.index else [])
                bad = [n for n in names if IDENTIFIER.search(n)]
                assert not bad, (view.period, area, table.id, bad)
                assert not IDENTIFIER.search(table.title), table.title


@pytest.mark.parametrize("name, label", [
    ("previously_reported_eur", "Earlier periods (EUR)"), ("meals_eur", "Meals (EUR)"),
    ("pct_of_budget", "Budget used (%)"), ("coverage_share", "Themes covered (%)"),
    ("exchange_id", "Exchange"), ("local_transport", "Local transport"), ("LYO", "LYO"), ("S3", "S3"),
    ("this period (S4)", "this period (S4)"), (3, 3)])
def test_column_labels(name, label):
    assert column_label(name) == label


def test_ineligible_exchanges_count_in_the_flows_and_are_listed_with_the_reason(hand_made):
    # X4 (officer O5 of BUD -> MUC, 2011-02-07) is after the window: it happened, so it counts, but is ineligible
    final = sections.build(hand_made["final"], "cross_city")
    listed = final.table("ineligible_exchanges").frame
    assert listed["exchange_id"].tolist() == ["X4"]
    assert listed["ineligibility_reason"].tolist() == ["visit outside the programme window"]
    assert listed["period"].tolist() == ["outside the periods"]
    assert int(final.table("flows").frame.loc["BUD", "MUC"]) == 1          # X4 itself
    assert "1 of these exchanges break an eligibility rule: they count here, not in the budget" in final.readings[0]
    # S5 ends before the visit: nothing to list, and no sentence about it
    s5 = sections.build(hand_made["S5"], "cross_city")
    assert "ineligible_exchanges" not in [t.id for t in s5.tables]
    assert "eligibility rule" not in s5.readings[0]


def test_a_period_report_lists_no_later_period_in_its_money_tables(hand_made):
    by_period = {p: sections.build(hand_made[p], "budget").table("amounts_by_period").frame["period"].tolist()
                 for p in ("S3", "S4", "final")}
    assert by_period == {"S3": ["S3"], "S4": ["S3", "S4"], "final": ["S3", "S4", "S5", "outside the periods"]}
    categories = sections.build(hand_made["final"], "budget").table("by_category").frame["Cost category"].tolist()
    assert "local transport" in categories and "local_transport" not in categories


def test_practices_from_ineligible_exchanges_are_kept_and_marked():
    view = sections.start("final")
    inventory = sections.build(view, "practices").table("inventory")
    marked = inventory.frame.loc[inventory.frame["exchange_ineligible"] != ""]
    practices = pd.read_csv(config.SAMPLE_DATA_DIR / "practices.csv", dtype=str)
    from clusnet_analysis.sections.budget import ineligible_marks

    bad = ineligible_marks(view)
    expected = practices.loc[practices["exchange_id"].isin(bad.index), "practice_id"]
    assert len(expected) > 0 and sorted(marked["practice_id"]) == sorted(expected)
    assert [h.word for h in inventory.highlights] == ["ineligible exchange"]


def test_top_practices_say_how_ties_are_broken():
    import csv

    with open(config.SAMPLE_DATA_DIR / "practices.csv", encoding="utf-8") as fh:
        ratings = [int(row["transferability"]) for row in csv.DictReader(fh)]
    at_top = ratings.count(max(ratings))
    table = sections.build(sections.start("final"), "practices").table("top_practices")
    assert len(table.frame) == 3
    assert "then by how many exchanges reported the same practice" in table.note
    assert f"{at_top} practices share the top rating of {max(ratings)}" in table.note


def test_support_is_shown_once_per_phase():
    section = sections.build(sections.start("final"), "phases")
    support = section.table("support_per_phase").frame
    assert support["phase"].tolist() == ["Initiation", "Pilot", "Establishment", "Sustainability"]
    assert "recommended_support" not in section.table("latest_placement").frame.columns


def test_the_synthesis_reuses_the_other_sections():
    view = sections.start("final")
    parts = sections.build_all(view)
    synthesis = parts.pop("synthesis")
    assert synthesis.title == "Final report synthesis"
    assert sections.build(sections.start("S3"), "synthesis").title == "Period synthesis"
    assert [f for f in synthesis.figures] == [f for p in parts.values() for f in p.figures]  # the same objects
    box = {k.id: k.value for k in synthesis.key_numbers}
    assert box["cross_city.exchanges"] == parts["cross_city"].number("exchanges", "total") == 29
    assert box["budget.reimbursable"] == parts["budget"].number("reimbursable", "total") == pytest.approx(29459.23)


def test_invalid_data_is_refused_unless_allowed(tmp_path):
    data = write_data(tmp_path / "data", expenses=[expense("E1", amount="abc")])
    with pytest.raises(InvalidDataError, match="schema error"):
        sections.start("S3", str(data))
    assert sections.start("S3", str(data), allow_invalid=True).ds.error_count == 1


def test_no_module_is_over_400_lines():
    package = Path(sections.__file__).resolve().parents[1]
    long = {p.relative_to(package).as_posix(): n for p in package.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400 and p.name != "sample.py"}
    assert long == {}


def test_rules_broken_about_an_officer_or_a_city_are_highlighted_too():
    from clusnet_analysis.publish import display

    table = sections.build(sections.start("final"), "data_quality").table("findings_by_rule")
    frame = table.frame.set_index("rule_id")
    marked = {(h.column, frame.index[i]) for h in table.highlights for i, on in enumerate(h.mask) if on}
    # the sample's two cities over their allocation and one officer quota are findings about a city
    assert ("About an officer or a city", "Over allocation") in marked
    assert ("About an officer or a city", "Officer quota") in marked
    assert ("About an officer or a city", "Visit length") not in marked        # a warning, not an error
    shown = []
    display._display, saved = (lambda obj: shown.append(obj.data)), display._display
    try:
        display.show_table(table)
    finally:
        display._display = saved
    assert shown[0].count("▲ rule broken</b>: an error-level rule") == 1      # one legend line per meaning
