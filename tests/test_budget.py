"""Cost checks and the category figure on hand-made expense lines and exchange costs.

Four partner cities, 3 officers each, cap 1,550 EUR per exchange; reference per
exchange travel 600, accommodation 600, meals 250, local transport 100,
insurance 0, other 0 (the bundled programme's rules). What an auditor accepts per
city, category and period (claimed, eligible, reimbursable, pending) is tested in
test_budget_audit.py.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from clusnet_analysis.analysis import budget
from clusnet_analysis.plots.budget import budget_by_category_figure
from clusnet_analysis.plots.style import save_figure
from clusnet_analysis.rules.programme import city_allocations, load_programme, programme_budget

from clusnet_testdata import programme_file

CITIES = ["LYO", "BCN", "MUC", "GOT"]
CATEGORIES = ["travel", "accommodation", "meals", "local_transport", "insurance", "other"]

# exchange_id, home, host, period, status, duration_days
EXCHANGES = [
    ("E1", "LYO", "BCN", "S3", "validated", 5),
    ("E2", "LYO", "MUC", "S3", "validated", 5),
    ("E3", "BCN", "LYO", "S4", "submitted", 5),
    ("E4", "MUC", "GOT", "S5", "validated", 4),
    ("E5", "GOT", "LYO", "S5", "draft", 5),       # draft: never counted
    ("E6", "BCN", "MUC", None, "validated", 5),   # outside every period: only in "final"
    ("E7", "GOT", "BCN", "S4", "submitted", 5),   # no expense lines yet
]
# expense_id, exchange_id, category, amount_eur (NaN = no FX rate)
LINES = [
    ("X1", "E1", "travel", 500.0), ("X2", "E1", "accommodation", 600.0),
    ("X3", "E1", "meals", 250.0), ("X4", "E1", "local_transport", 100.0),          # E1 = 1450
    ("X5", "E2", "travel", 700.0), ("X6", "E2", "accommodation", 700.0),
    ("X7", "E2", "meals", 200.0), ("X8", "E2", "local_transport", 50.0),           # E2 = 1650 (over cap)
    ("X9", "E3", "travel", 400.0), ("X10", "E3", "accommodation", 500.0),
    ("X11", "E3", "meals", 150.0), ("X12", "E3", "other", np.nan),                 # E3 = 1050 + 1 unconverted
    ("X13", "E4", "travel", 300.0), ("X14", "E4", "accommodation", 480.0),
    ("X15", "E4", "meals", 120.0), ("X16", "E4", "local_transport", 100.0),        # E4 = 1000
    ("X17", "E5", "travel", 900.0),                                                # draft
    ("X18", "E6", "travel", 200.0), ("X19", "E6", "accommodation", 300.0),         # E6 = 500
]


@pytest.fixture
def programme():
    return dataclasses.replace(load_programme(), partner_cities=tuple(CITIES))


@pytest.fixture
def exchanges():
    df = pd.DataFrame(EXCHANGES, columns=["exchange_id", "home_city", "host_city", "period", "status",
                                          "duration_days"])
    df["duration_days"] = df["duration_days"].astype("Int64")
    df["counted"] = df["status"] != "draft"
    return df


@pytest.fixture
def expenses_eur(exchanges):
    lines = pd.DataFrame(LINES, columns=["expense_id", "exchange_id", "category", "amount_eur"])
    return lines.merge(exchanges[["exchange_id", "home_city", "host_city", "period", "status", "counted"]],
                       on="exchange_id", how="left")


@pytest.fixture
def exchange_costs(exchanges, expenses_eur):
    # Built the way the contract describes: one row per exchange, one EUR column per category.
    wide = expenses_eur.pivot_table(index="exchange_id", columns="category", values="amount_eur",
                                    aggfunc="sum").reindex(columns=CATEGORIES)
    costs = exchanges.merge(wide, left_on="exchange_id", right_index=True, how="left")
    costs[CATEGORIES] = costs[CATEGORIES].fillna(0.0)
    costs["total_eur"] = costs[CATEGORIES].sum(axis=1)
    unconverted = expenses_eur["amount_eur"].isna().groupby(expenses_eur["exchange_id"]).sum()
    costs["unconverted_lines"] = costs["exchange_id"].map(unconverted).fillna(0).astype("Int64")
    return costs


def test_fixture_totals(exchange_costs):
    assert exchange_costs.set_index("exchange_id")["total_eur"].to_dict() == {
        "E1": 1450, "E2": 1650, "E3": 1050, "E4": 1000, "E5": 900, "E6": 500, "E7": 0}


# ---------------------------------------------------------------- per exchange
def test_exchange_budget_check(exchange_costs, programme):
    check = budget.exchange_budget_check(exchange_costs, programme)
    assert check.columns.tolist() == ["exchange_id", "home_city", "host_city", "period", "duration_days",
                                      "total_eur", "unconverted_lines", "reference_eur",
                                      "difference_from_reference_eur", "cap_eur", "headroom_eur", "overrun_eur",
                                      "over_cap"]
    assert check.index.tolist() == list(range(6))
    assert check["exchange_id"].tolist() == ["E1", "E2", "E3", "E4", "E6", "E7"]  # E5 is a draft
    assert check["total_eur"].tolist() == [1450, 1650, 1050, 1000, 500, 0]
    assert check["difference_from_reference_eur"].tolist() == [-100, 100, -500, -550, -1050, -1550]
    assert check["headroom_eur"].tolist() == [100, -100, 500, 550, 1050, 1550]
    assert check["overrun_eur"].tolist() == [0, 100, 0, 0, 0, 0]
    assert check["over_cap"].tolist() == [False, True, False, False, False, False]
    assert check["unconverted_lines"].tolist() == [0, 0, 1, 0, 0, 0]
    assert set(check["cap_eur"]) == {1550.0} and set(check["reference_eur"]) == {1550.0}


# ---------------------------------------------------------------- per category
def test_category_vs_reference(expenses_eur, programme):
    table = budget.category_vs_reference(expenses_eur, programme)
    assert table["category"].tolist() == [*CATEGORIES, "total"]
    # 5 counted exchanges with lines: E1, E2, E3, E4, E6 (E7 has none, E5 is a draft)
    assert set(table["exchanges"]) == {5}
    # travel 500+700+400+300+200 = 2100; accommodation 600+700+500+480+300 = 2580;
    # meals 250+200+150+120 = 720; local 100+50+100 = 250; other: one line without rate
    assert table["total_eur"].tolist() == [2100, 2580, 720, 250, 0, 0, 5650]
    assert table["lines"].tolist() == [5, 5, 4, 3, 0, 1, 18]
    assert table["unconverted_lines"].tolist() == [0, 0, 0, 0, 0, 1, 1]
    assert table["mean_per_exchange_eur"].tolist() == pytest.approx([420, 516, 144, 50, 0, 0, 1130])
    assert table["reference_eur"].tolist() == [600, 600, 250, 100, 0, 0, 1550]
    assert table["difference_eur"].tolist() == pytest.approx([-180, -84, -106, -50, 0, 0, -420])
    pct = table["pct_of_reference"].tolist()
    assert pct[:4] == pytest.approx([70.0, 86.0, 57.6, 50.0])
    assert np.isnan(pct[4]) and np.isnan(pct[5])        # no reference amount for insurance/other
    assert pct[6] == pytest.approx(100 * 1130 / 1550)
    assert set(table["cap_eur"]) == {1550.0}


def test_category_vs_reference_without_total(expenses_eur, programme):
    table = budget.category_vs_reference(expenses_eur, programme, total=False)
    assert table["category"].tolist() == CATEGORIES


# ---------------------------------------------------------------- exactly at the cap
def _costs(rows) -> pd.DataFrame:
    """exchange_costs with just what the per-exchange checks read: (exchange_id, home_city, total_eur)."""
    df = pd.DataFrame(rows, columns=["exchange_id", "home_city", "total_eur"])
    return df.assign(host_city="MUC", period="S3", status="validated", counted=True,
                     duration_days=pd.array([5] * len(df), dtype="Int64"),
                     unconverted_lines=pd.array([0] * len(df), dtype="Int64"))


AT_THE_CAP = [("A1", "LYO", 1550.00),    # exactly the cap: allowed
              ("A2", "LYO", 1550.01),    # one cent over
              ("A3", "BCN", 1549.99),
              ("A4", "BCN", 1550.00)]


def test_an_exchange_of_exactly_the_cap_is_not_over_it(programme):
    check = budget.exchange_budget_check(_costs(AT_THE_CAP), programme)
    assert check["over_cap"].tolist() == [False, True, False, False]
    assert check["overrun_eur"].tolist() == pytest.approx([0, 0.01, 0, 0])
    assert check["headroom_eur"].tolist() == pytest.approx([0, -0.01, 0.01, 0])


def test_the_cap_comes_from_the_programme_file(tmp_path):
    # Another programme's cap: 1,000 EUR. 1,000 is allowed, 1,000.01 is over; 1,550 is over too.
    other = dataclasses.replace(load_programme(programme_file(tmp_path / "p.toml", budget__cap_eur=1000)),
                                partner_cities=tuple(CITIES))
    costs = _costs([("A1", "LYO", 1000.0), ("A2", "LYO", 1000.01), ("A3", "BCN", 1550.0)])
    check = budget.exchange_budget_check(costs, other)
    assert check["over_cap"].tolist() == [False, True, True]
    assert check["overrun_eur"].sum() == pytest.approx(550.01)
    # the allocations follow the same cap: officers_per_city (3) x cap per city, 12 x cap in all
    assert city_allocations(other)["LYO"] == 3 * 1000
    assert programme_budget(other) == 12 * 1000


# ---------------------------------------------------------------- cost level
def test_exchange_daily_costs(exchange_costs):
    daily = budget.exchange_daily_costs(exchange_costs)
    assert daily["exchange_id"].tolist() == ["E1", "E2", "E3", "E4", "E6", "E7"]
    # E1 1450/5, E2 1650/5, E3 1050/5, E4 1000/4, E6 500/5, E7 0/5
    assert daily["daily_cost_eur"].tolist() == pytest.approx([290, 330, 210, 250, 100, 0])
    assert daily["used"].tolist() == [True, True, False, True, True, False]
    assert daily["excluded_because"].fillna("").tolist() == [
        "", "", "lines without exchange rate", "", "", "no costs reported"]


def test_exchange_daily_costs_every_column_and_missing_values():
    # D1: 3 days, 300 EUR in two categories -> 100/day. D2: no duration. D3: unconverted count
    # unknown (NA) = none known. D4: 0 days. D5: only travel reported (accommodation 0).
    costs = _costs([("D1", "LYO", 300.0), ("D2", "LYO", 500.0), ("D3", "BCN", 400.0),
                    ("D4", "BCN", 100.0), ("D5", "MUC", 250.0)])
    costs["duration_days"] = pd.array([3, None, 4, 0, 5], dtype="Int64")
    costs["unconverted_lines"] = pd.array([0, 0, None, 0, 0], dtype="Int64")
    costs["travel"] = [100.0, 500.0, 400.0, 100.0, 250.0]
    costs["accommodation"] = [200.0, 0.0, 0.0, 0.0, 0.0]
    daily = budget.exchange_daily_costs(costs)
    assert daily.columns.tolist() == ["exchange_id", "home_city", "host_city", "period", "duration_days",
                                      "cost_eur", "unconverted_lines", "daily_cost_eur", "used", "excluded_because"]
    assert daily["duration_days"].tolist()[:1] == [3] and pd.isna(daily["duration_days"].iloc[1])
    assert daily["cost_eur"].tolist() == [300, 500, 400, 100, 250]
    assert daily["unconverted_lines"].tolist() == [0, 0, 0, 0, 0]
    assert daily["daily_cost_eur"].tolist()[0] == pytest.approx(100)
    assert np.isnan(daily["daily_cost_eur"].iloc[1]) and np.isnan(daily["daily_cost_eur"].iloc[3])
    assert daily["used"].tolist() == [True, False, True, False, True]
    assert daily["excluded_because"].fillna("").tolist() == ["", "no duration", "", "no duration", ""]
    stays = budget.exchange_daily_costs(costs, categories=["accommodation"])
    assert stays["cost_eur"].tolist() == [200, 0, 0, 0, 0]
    assert stays["used"].tolist() == [True, False, False, False, False]
    assert stays["excluded_because"].fillna("").tolist() == [
        "", "no duration", "no costs reported", "no duration", "no costs reported"]


def test_cost_level_by_host(exchange_costs, programme):
    table = budget.cost_level_by_host(exchange_costs, programme)
    assert table["partner"].tolist() == [True] * 4
    assert table.columns.tolist() == ["host_city", "partner", "exchanges_used", "exchanges_excluded", "median_daily_cost_eur",
                                      "programme_median_daily_cost_eur", "relative_to_programme"]
    assert table["host_city"].tolist() == CITIES
    # used: BCN 290 (E1), MUC 330 (E2) and 100 (E6), GOT 250 (E4); programme median of
    # [100, 250, 290, 330] = (250 + 290) / 2 = 270. LYO's only exchange (E3) has an unconverted line.
    assert table["exchanges_used"].tolist() == [0, 1, 2, 1]
    assert table["exchanges_excluded"].tolist() == [1, 1, 0, 0]
    assert set(table["programme_median_daily_cost_eur"]) == {270.0}
    medians = table["median_daily_cost_eur"].tolist()
    assert np.isnan(medians[0]) and medians[1:] == pytest.approx([290, 215, 250])
    relative = table["relative_to_programme"].tolist()
    assert np.isnan(relative[0]) and relative[1:] == pytest.approx([290 / 270, 215 / 270, 250 / 270])


def test_cost_level_without_travel(exchange_costs, programme):
    table = budget.cost_level_by_host(exchange_costs, programme,
                                      categories=["accommodation", "meals", "local_transport"])
    # E1 950/5 = 190, E2 950/5 = 190, E4 700/4 = 175, E6 300/5 = 60 -> median (175 + 190) / 2
    assert set(table["programme_median_daily_cost_eur"]) == {182.5}
    assert table["median_daily_cost_eur"].tolist()[1:] == pytest.approx([190, 125, 175])


def test_cost_level_unknown_category(exchange_costs, programme):
    with pytest.raises(ValueError, match=r"no column for categories \['hotel'\]"):
        budget.cost_level_by_host(exchange_costs, programme, categories=["hotel"])


# ---------------------------------------------------------------- figures
def test_budget_by_category_figure(expenses_eur, programme):
    fig = budget_by_category_figure(budget.category_vs_reference(expenses_eur, programme))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() == "Cost per exchange by category: actual mean vs reference"
    assert ax.get_ylabel() == "EUR per exchange"
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "Cap per exchange (1,550 EUR, all categories)" in labels


def test_budget_by_category_figure_is_byte_identical(expenses_eur, programme, tmp_path):
    kind = "category"

    def build():
        return budget_by_category_figure(budget.category_vs_reference(expenses_eur, programme))

    fig = build()
    save_figure(fig, tmp_path / "a", kind)
    save_figure(fig, tmp_path / "b", kind)        # same figure saved twice
    save_figure(build(), tmp_path / "c", kind)    # rebuilt from the same inputs
    for ext in ("png", "svg"):
        first = (tmp_path / "a" / f"{kind}.{ext}").read_bytes()
        assert first == (tmp_path / "b" / f"{kind}.{ext}").read_bytes()
        assert first == (tmp_path / "c" / f"{kind}.{ext}").read_bytes()
