"""Reporting periods (analysis/periods.py) on a hand-made table.

CLUSNET periods S3, S4, S5, then "final". Rows: two in S3, one in S4, one in S5, one
outside every period (NaN), one draft in S4.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from clusnet_analysis.analysis.periods import (
    FINAL,
    check_period,
    counted,
    period_label,
    period_order,
    periods_up_to,
    select_period,
)
from clusnet_analysis.rules.programme import Period


@pytest.fixture
def rows():
    return pd.DataFrame({
        "exchange_id": ["A", "B", "C", "D", "E", "F"],
        "period": ["S3", "S4", "S3", None, "S5", "S4"],
        "counted": [True, True, True, True, True, False],
    }, index=[10, 11, 12, 13, 14, 15])


def test_period_order_and_labels(programme):
    assert period_order(programme) == ["S3", "S4", "S5", "final"]
    assert FINAL == "final"
    assert period_label(programme, "S4") == "Semester 4 (Jan-Jun 2010)"
    assert period_label(programme, "final") == "Final report (all periods)"


def test_periods_up_to(programme):
    assert periods_up_to(programme, "S3") == ["S3"]
    assert periods_up_to(programme, "S4") == ["S3", "S4"]
    assert periods_up_to(programme, "S5") == ["S3", "S4", "S5"]
    assert periods_up_to(programme, "final") == ["S3", "S4", "S5"]


@pytest.mark.parametrize("bad", ["S6", "s3", "all", "", "Final"])
def test_unknown_periods_are_refused_naming_the_choices(programme, bad):
    with pytest.raises(ValueError) as caught:
        check_period(programme, bad)
    assert str(caught.value) == f"unknown reporting period {bad!r}; choose one of: S3, S4, S5, final"
    for function in (periods_up_to, period_label):
        with pytest.raises(ValueError, match="unknown reporting period"):
            function(programme, bad)
    assert check_period(programme, "S5") == "S5"


def test_select_this_period_and_cumulative(programme, rows):
    assert select_period(rows, programme, "S3")["exchange_id"].tolist() == ["A", "C"]
    assert select_period(rows, programme, "S4")["exchange_id"].tolist() == ["B", "F"]
    s4 = select_period(rows, programme, "S4", cumulative=True)
    assert s4["exchange_id"].tolist() == ["A", "B", "C", "F"]        # file order kept
    assert s4.index.tolist() == [10, 11, 12, 15]                      # original index kept
    assert select_period(rows, programme, "S5", cumulative=True)["exchange_id"].tolist() == [
        "A", "B", "C", "E", "F"]


def test_final_is_every_row_including_those_outside_every_period(programme, rows):
    for cumulative in (False, True):
        final = select_period(rows, programme, "final", cumulative=cumulative)
        assert final["exchange_id"].tolist() == ["A", "B", "C", "D", "E", "F"]
    final["exchange_id"] = "changed"               # a copy: the caller's table is untouched
    assert rows["exchange_id"].tolist() == ["A", "B", "C", "D", "E", "F"]


def test_selection_is_a_copy(programme, rows):
    s3 = select_period(rows, programme, "S3")
    s3["exchange_id"] = "changed"
    assert rows["exchange_id"].tolist()[:3] == ["A", "B", "C"]


def test_another_column_and_another_programme(programme, rows):
    two = dataclasses.replace(programme, periods=(
        Period("P1", "First", dt.date(2020, 1, 1), dt.date(2020, 6, 30)),
        Period("P2", "Second", dt.date(2020, 7, 1), dt.date(2020, 12, 31))))
    table = pd.DataFrame({"semester": ["P2", "P1", "P2"], "x": [1, 2, 3]})
    assert select_period(table, two, "P2", column="semester")["x"].tolist() == [1, 3]
    assert select_period(table, two, "P2", cumulative=True, column="semester")["x"].tolist() == [1, 2, 3]
    assert period_order(two) == ["P1", "P2", "final"]
    with pytest.raises(ValueError, match="choose one of: P1, P2, final"):
        select_period(table, two, "S3", column="semester")


def test_a_table_without_the_column_is_refused(programme):
    table = pd.DataFrame({"exchange_id": ["A"], "counted": [True]})
    with pytest.raises(ValueError) as caught:
        select_period(table, programme, "S3")
    assert str(caught.value) == "the table has no 'period' column (columns: exchange_id, counted)"
    assert select_period(table, programme, "final")["exchange_id"].tolist() == ["A"]  # needs no column
    with pytest.raises(ValueError, match="no 'counted' column"):
        counted(pd.DataFrame({"exchange_id": ["A"]}))


def test_counted_drops_drafts_and_unknown_flags(rows):
    assert counted(rows)["exchange_id"].tolist() == ["A", "B", "C", "D", "E"]
    flags = pd.DataFrame({"id": [1, 2, 3, 4], "counted": pd.array([True, None, False, True], dtype="boolean")})
    kept = counted(flags)
    assert kept["id"].tolist() == [1, 4]
    kept["id"] = 0
    assert flags["id"].tolist() == [1, 2, 3, 4]
    objects = pd.DataFrame({"id": [1, 2, 3], "counted": np.array([True, np.nan, "yes"], dtype=object)})
    assert counted(objects)["id"].tolist() == [1]
