"""Dates and numbers read cell by cell: every accepted shape to the right day and month.

A European date read the American way moves a visit into another month, and often into
another reporting period: 01/07/2010 is 1 July 2010 (S5), not 7 January (S4). Every
case below uses a day of 12 or less, so a swapped day and month is still a valid date
and only the value tells the difference.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from clusnet_analysis.ingest.dataset import load
from clusnet_analysis.ingest.parsing import parse_date, parse_integer, parse_month, parse_number

from clusnet_testdata import exchange, write_data


def _dates(cells: list) -> tuple[list, list]:
    values, bad = parse_date(pd.Series(cells, dtype="str"))
    return [None if pd.isna(v) else v.date() for v in values], bad.tolist()


# (cell, the date it means): day <= 12 in every case, so day and month could be swapped.
SHAPES = [
    ("2009-09-07", dt.date(2009, 9, 7)),        # ISO
    ("2009-9-7", dt.date(2009, 9, 7)),          # ISO without leading zeros
    ("07.09.2009", dt.date(2009, 9, 7)),        # DD.MM.YYYY (German, Hungarian, Finnish…)
    ("7.9.2009", dt.date(2009, 9, 7)),
    ("07/09/2009", dt.date(2009, 9, 7)),        # DD/MM/YYYY (French, Spanish, UK): 7 September
    ("01/07/2010", dt.date(2010, 7, 1)),        # 1 July 2010, not 7 January
    ("12/03/2010", dt.date(2010, 3, 12)),
    ("07-09-2009", dt.date(2009, 9, 7)),        # DD-MM-YYYY (Dutch)
    ("2010.03.04.", dt.date(2010, 3, 4)),       # YYYY.MM.DD. (Hungarian): 4 March
    ("2010.03.04", dt.date(2010, 3, 4)),
    ("2010/03/04", dt.date(2010, 3, 4)),        # YYYY/MM/DD (Swedish exports)
    ("2010.06.07.", dt.date(2010, 6, 7)),       # 7 June 2010 (S4), not 6 July (S5)
    ("07.09.2009 00:00:00", dt.date(2009, 9, 7)),   # a date cell exported with its midnight
    ("2010.03.04. 00:00", dt.date(2010, 3, 4)),
]


@pytest.mark.parametrize(("cell", "expected"), SHAPES, ids=[s[0] for s in SHAPES])
def test_each_date_shape_reads_day_and_month_right(cell, expected):
    # Alone in its column, and beside an ISO date (which takes the whole-column fast path
    # when every cell is ISO): the answer must not depend on the neighbours.
    assert _dates([cell]) == ([expected], [False])
    assert _dates(["2009-12-31", cell]) == ([dt.date(2009, 12, 31), expected], [False, False])


def test_a_column_mixing_every_shape():
    values, bad = _dates([cell for cell, _ in SHAPES])
    assert values == [expected for _, expected in SHAPES]
    assert not any(bad)


@pytest.mark.parametrize("cell", [
    "31.02.2010",      # right shape, no such day
    "30/02/2010",
    "2010.02.30.",
    "2010-02-30",
    "13/13/2010",
    "09/31/2009",      # American 31 September: no such day, never read as MM/DD
    "00.01.2010",
    "2010-00-10",
    "7 September 2009",
    "2009-09",
    "07/09/09",        # two-digit year: which century is a guess
    "20100304",
])
def test_impossible_or_unknown_dates_are_errors_not_guesses(cell):
    values, bad = _dates(["2009-09-07", cell, None])
    assert values == [dt.date(2009, 9, 7), None, None]
    assert bad == [False, True, False]   # an empty cell is not an error


def test_day_month_order_decides_the_reporting_period(tmp_path):
    """Through the loader: the exchange lands in the period its European date says."""
    data = write_data(tmp_path / "data", exchanges=[
        exchange("X1", start_date="01/07/2010", end_date="05/07/2010", agenda_sent_date="10/06/2010",
                 report_received_date="01/09/2010"),
        exchange("X2", officer_id="O3", host_city="LYO", start_date="2010.06.07.", end_date="2010.06.11.",
                 agenda_sent_date="2010.05.03.", report_received_date="2010.07.01."),
        exchange("X3", officer_id="O4", host_city="LYO", start_date="07.09.2009", end_date="11.09.2009",
                 agenda_sent_date="03.08.2009", report_received_date="01.10.2009"),
    ], expenses=[])
    ds = load(data)
    assert ds.error_count == 0
    view = ds.exchanges.set_index("exchange_id")
    assert view.loc["X1", "start_date"] == pd.Timestamp("2010-07-01")
    assert view.loc["X1", "period"] == "S5"
    assert view.loc["X2", "start_date"] == pd.Timestamp("2010-06-07")
    assert view.loc["X2", "period"] == "S4"
    assert view.loc["X3", "start_date"] == pd.Timestamp("2009-09-07")
    assert view.loc["X3", "agenda_sent_date"] == pd.Timestamp("2009-08-03")
    assert view["duration_days"].tolist() == [5, 5, 5]


# ------------------------------------------------------------------ months, numbers
@pytest.mark.parametrize(("cell", "expected"), [
    ("2009-09", "2009-09"), ("2009-9", "2009-09"), ("09/2009", "2009-09"), ("9.2009", "2009-09"),
    ("2009.09", "2009-09"), ("2009-09-01", "2009-09"), ("2010.03.15.", "2010-03"),
    ("2009-13", None), ("13/2009", None), ("Sept 2009", None),
])
def test_month_shapes(cell, expected):
    values, bad = parse_month(pd.Series(["2009-01", cell], dtype="str"))
    assert (None if pd.isna(values.iloc[1]) else values.iloc[1]) == expected
    assert bad.tolist() == [False, expected is None]


@pytest.mark.parametrize(("cells", "expected"), [
    (["1550", "1550.01"], [1550.0, 1550.01]),                 # fast path: canonical numbers
    (["1 550,00", "1.550,01"], [1550.0, 1550.01]),            # decimal commas, grouped
    (["1,550.01", "0,887"], [1550.01, 0.887]),
    (["-12", "+3e2"], [-12.0, 300.0]),
])
def test_number_boundary_values(cells, expected):
    values, bad = parse_number(pd.Series(cells, dtype="str"))
    assert values.tolist() == pytest.approx(expected)
    assert not bad.any()


@pytest.mark.parametrize("cells", [["1550", "nan"], ["1550", "inf"], ["1550", "1.2.3"]])
def test_numbers_that_are_not_amounts_are_errors(cells):
    values, bad = parse_number(pd.Series(cells, dtype="str"))
    assert values.iloc[0] == 1550.0 and np.isnan(values.iloc[1])
    assert bad.tolist() == [False, True]


def test_integers_refuse_fractions():
    values, bad = parse_integer(pd.Series(["8", "8.5", "9,0", None], dtype="str"))
    assert values.tolist()[:3] == [8, pd.NA, 9] and pd.isna(values.iloc[3])
    assert bad.tolist() == [False, True, False, False]
