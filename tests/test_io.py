"""Reading what city administrations send: encodings, separators, Excel quirks, unusable input.

Row numbers are the user's spreadsheet rows: header = row 1, first data row = row 2,
blank lines count, a cell spanning several lines is still one row.
"""
from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from clusnet_analysis.ingest import dataset
from clusnet_analysis.ingest.io import InputError, find_inputs, read_csv_table, read_inputs
from clusnet_analysis.ingest.parsing import parse_number

from clusnet_testdata import BASE, COLUMNS, exchange, expense, write_data

NAMES_DE_SV_FR_ES = ["Jürgen Weiß", "Dörte Schäfer", "Åsa Lindström", "Margaux Lefèvre", "Álvaro Ibáñez"]
NAMES_HU = ["Erdős Zsófia", "Szűcs Réka", "Kovács Bálint"]


def write_lines(path, lines, *, encoding="utf-8", newline="\n", bom=False):
    data = (newline.join(lines) + newline).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def officers_lines(names, sep=";"):
    return [sep.join(["officer_id", "home_city", "employer_type", "name", "role"])] + [
        sep.join([f"O{i}", "LYO", "city", n, ""]) for i, n in enumerate(names, start=1)]


# ------------------------------------------------------------------ encodings
def test_utf8_without_bom(tmp_path):
    t = read_csv_table(write_lines(tmp_path / "officers.csv", officers_lines(NAMES_DE_SV_FR_ES + NAMES_HU)))
    assert (t.encoding, t.separator) == ("utf-8", ";")
    assert t.frame["name"].tolist() == NAMES_DE_SV_FR_ES + NAMES_HU
    assert t.frame.index.tolist() == [2, 3, 4, 5, 6, 7, 8, 9]


def test_utf8_with_bom_keeps_the_first_column_name(tmp_path):
    t = read_csv_table(write_lines(tmp_path / "officers.csv", officers_lines(NAMES_DE_SV_FR_ES), bom=True))
    assert t.encoding == "utf-8-sig"
    assert list(t.frame.columns) == ["officer_id", "home_city", "employer_type", "name", "role"]
    assert t.frame["officer_id"].tolist() == ["O1", "O2", "O3", "O4", "O5"]
    assert t.frame["name"].tolist() == NAMES_DE_SV_FR_ES


def test_cp1252_western_export(tmp_path):
    t = read_csv_table(write_lines(tmp_path / "officers.csv", officers_lines(NAMES_DE_SV_FR_ES), encoding="cp1252"))
    assert t.encoding == "cp1252"
    assert t.frame["name"].tolist() == NAMES_DE_SV_FR_ES


@pytest.mark.parametrize("name", ["Åsa", "Umeå", "Lefèvre", "Ibáñez", "Solà"])
def test_cp1252_letters_that_cp1250_reads_differently(tmp_path, name):
    # 0xE5 is "å" in cp1252 but "ĺ" in cp1250; 0xE8 "è"/"č"; 0xF1 "ñ"/"ń"; 0xE0 "à"/"ŕ".
    t = read_csv_table(write_lines(tmp_path / "officers.csv", officers_lines([name]), encoding="cp1252"))
    assert t.frame["name"].tolist() == [name]


def test_cp1250_hungarian_export(tmp_path):
    t = read_csv_table(write_lines(tmp_path / "officers.csv", officers_lines(NAMES_HU), encoding="cp1250"))
    assert t.encoding == "cp1250"
    assert t.frame["name"].tolist() == NAMES_HU


def test_legacy_bytes_only_after_the_first_megabyte(tmp_path):
    # The head looks like UTF-8; the reader notices further down and switches.
    names = [f"Plain Name {i}" for i in range(60000)] + ["Åsa Lindström", "Jürgen Weiß"]
    path = write_lines(tmp_path / "officers.csv", officers_lines(names), encoding="cp1252")
    assert path.stat().st_size > (1 << 20)
    t = read_csv_table(path)
    assert t.encoding == "cp1252"
    assert t.frame.loc[[60002, 60003], "name"].tolist() == ["Åsa Lindström", "Jürgen Weiß"]


# ------------------------------------------------------------------ separators and numbers
EXPENSE_HEADER = ["expense_id", "exchange_id", "category", "amount", "currency", "quantity", "description"]


def expense_data(tmp_path, lines, **kw):
    """BASE data with expenses.csv replaced by the given raw lines."""
    data = write_data(tmp_path / "data")
    write_lines(data / "expenses.csv", lines, **kw)
    return data


def test_semicolon_and_decimal_commas(tmp_path):
    data = expense_data(tmp_path, [
        ";".join(EXPENSE_HEADER),
        "E1;X1;travel;1.234,56;EUR;1;Flug München–Barcelona",
        "E2;X1;meals;600,50;EUR;10,0;",
        "E3;X1;other;12;EUR;;",
    ], encoding="cp1252")
    ds = dataset.build(data)
    assert ds.error_count == 0
    exp = ds.tables["expenses"]
    assert exp["amount"].tolist() == [1234.56, 600.5, 12.0]
    assert exp["quantity"].tolist()[:2] == [1.0, 10.0] and pd.isna(exp["quantity"].iloc[2])
    assert exp["description"].iloc[0] == "Flug München–Barcelona"
    assert ds.costs["total_eur"].tolist() == [1847.06]


def test_comma_separator_with_quoted_decimal_comma(tmp_path):
    data = expense_data(tmp_path, [
        ",".join(EXPENSE_HEADER),
        'E1,X1,travel,"600,50",EUR,1,"Train, 2nd class"',
        "E2,X1,meals,250.25,EUR,10,",
    ])
    ds = dataset.build(data)
    assert ds.error_count == 0
    assert ds.tables["expenses"]["amount"].tolist() == [600.5, 250.25]
    assert ds.tables["expenses"]["description"].iloc[0] == "Train, 2nd class"


@pytest.mark.parametrize("cells, values", [
    (["1.234,56", "600,50"], [1234.56, 600.5]),          # German / Swedish
    (["1 234,50", "27\u00a0000"], [1234.5, 27000.0]),    # spaces, also non-breaking (Hungarian, Swedish)
    (["1,234.56", "99"], [1234.56, 99.0]),               # UK
    (["0,887", "0,918"], [0.887, 0.918]),                # "0,887" is never 887
    (["10,620", "10,99"], [10.62, 10.99]),               # the column uses decimal commas: 10,620 = 10.62
    (["1,234", "2,345"], [1234.0, 2345.0]),              # no other evidence: read as thousands (UK)
    (["-12", "1e3", ",5"], [-12.0, 1000.0, 0.5]),
])
def test_number_shapes(cells, values):
    parsed, bad = parse_number(pd.Series(cells, dtype="str"))
    assert parsed.tolist() == values and not bad.any()


def test_fx_rates_with_decimal_commas_convert_correctly(tmp_path):
    data = write_data(tmp_path / "data", exchanges=[exchange(officer_id="O4")],
                      expenses=[expense("E1", "X1", "travel", "90", "GBP")])
    write_lines(data / "fx_rates.csv", ["month;currency;units_per_eur", "2009-09;GBP;0,900",
                                        "2009-09;HUF;270,35", "2009-09;SEK;10,350"], encoding="cp1252")
    ds = dataset.build(data)
    assert ds.error_count == 0
    assert ds.tables["fx_rates"]["units_per_eur"].tolist() == [0.9, 270.35, 10.35]
    assert ds.expenses["amount_eur"].tolist() == [100.0]


def test_tab_separator(tmp_path):
    t = read_csv_table(write_lines(tmp_path / "officers.csv", officers_lines(["Jürgen Weiß", "Åsa Berg"], sep="\t")))
    assert t.separator == "\t"
    assert t.frame["name"].tolist() == ["Jürgen Weiß", "Åsa Berg"]
    assert t.frame["role"].isna().all()


def test_whitespace_around_cells_and_headers(tmp_path):
    data = expense_data(tmp_path, [
        " Expense ID ; Exchange-ID ;category ;  Amount;currency ; quantity;description",
        "  E1 ;  X1;  travel  ; 600,00 ; EUR ; 1 ;  Train  ",
        "E2;X1;meals; 1 234,50 ;EUR;;",      # space as thousands separator (Swedish, Hungarian)
    ])
    ds = dataset.build(data)
    assert ds.error_count == 0
    exp = ds.tables["expenses"]
    assert exp["expense_id"].tolist() == ["E1", "E2"]
    assert exp["category"].tolist() == ["travel", "meals"]
    assert exp["amount"].tolist() == [600.0, 1234.5]
    assert exp["description"].iloc[0] == "Train"


def test_unicode_spaces_around_cells_are_trimmed_and_accents_kept(tmp_path):
    """Cells are trimmed of every kind of space, also the no-break and ideographic spaces a copy from
    a web page or a word processor leaves; a cell ending in an accented letter keeps it."""
    data = expense_data(tmp_path, [
        ",".join(EXPENSE_HEADER),
        "\u00a0E1,X1\u3000,travel\t,600,EUR,1,Tr\u00e8s bien\u2009",
        "E2,\u2003X1,meals,250,EUR,10,Caf\u00e9",
        "E3,X1,other,5,EUR,1,\u00a0",
    ])
    ds = dataset.build(data)
    assert ds.error_count == 0
    exp = ds.tables["expenses"]
    assert exp["expense_id"].tolist() == ["E1", "E2", "E3"]
    assert exp["exchange_id"].tolist() == ["X1", "X1", "X1"]
    assert exp["category"].tolist() == ["travel", "meals", "other"]
    assert exp["description"].tolist()[:2] == ["Tr\u00e8s bien", "Caf\u00e9"]
    assert pd.isna(exp["description"].iloc[2])   # a cell of only a space is empty


def test_edge_space_shortcut_only_skips_chunks_trimming_would_leave_alone():
    import pyarrow as pa
    import pyarrow.compute as pc

    from clusnet_analysis.ingest.io import _may_have_edge_spaces

    cases = [["E1", None, "", "X2"], ["E1", " E2"], ["E1 ", "E2"], ["E1\t"], ["Caf\u00e9"], ["\u00e9t\u00e9"],
             ["E1\u00a0"], ["\u3000E1"], [None, None], ["", ""], ["A", "B\n"]]
    for values in cases:
        arr = pa.array(values, type=pa.large_string())
        for chunk in (arr, arr.slice(1)):   # a slice reads its own offsets
            trimmed = pc.utf8_trim_whitespace(chunk)
            if not trimmed.equals(chunk):
                assert _may_have_edge_spaces(chunk), values
    assert not _may_have_edge_spaces(pa.array(["E1", None, "", "X2"], type=pa.large_string()))
    assert _may_have_edge_spaces(pa.array(["E1", "E2 "], type=pa.large_string()).slice(1))
    assert not _may_have_edge_spaces(pa.array(["E1 ", "E2"], type=pa.large_string()).slice(1))


# ------------------------------------------------------------------ empty rows and row numbers
def test_empty_trailing_rows_are_not_data(tmp_path):
    data = expense_data(tmp_path, [
        ";".join(EXPENSE_HEADER),
        "E1;X1;travel;600;EUR;1;",
        "E2;X1;meals;250;EUR;10;",
        ";;;;;;",
        ";;;;;;",
        "",
        "",
    ])
    ds = dataset.build(data)
    assert ds.error_count == 0
    assert ds.rows_read["expenses"] == 2
    assert ds.tables["expenses"].index.tolist() == [2, 3]


def test_blank_line_in_the_middle_keeps_spreadsheet_row_numbers(tmp_path):
    data = expense_data(tmp_path, [
        ",".join(EXPENSE_HEADER),
        "E1,X1,travel,600,EUR,1,",      # row 2
        "",                              # row 3 (empty)
        "E2,X1,meals,abc,EUR,10,",       # row 4
        "E3,X1,other,5,EUR,1,",          # row 5
    ])
    ds = dataset.build(data)
    assert ds.errors[["file", "row", "column", "value", "problem"]].values.tolist() == [
        ["expenses.csv", 4, "amount", "abc", "is not a number"]]
    assert ds.tables["expenses"].index.tolist() == [2, 5]
    assert ds.quarantine["expenses"].index.tolist() == [4]


def test_line_of_spaces_and_short_row(tmp_path):
    # A line of spaces is an empty row; a short row is read with its missing cells empty.
    data = expense_data(tmp_path, [
        ";".join(EXPENSE_HEADER),
        "E1;X1;travel;600;EUR;1;",       # row 2
        "   ",                           # row 3
        "E2;X1",                         # row 4: category, amount, currency missing
    ])
    ds = dataset.build(data)
    assert ds.errors[["row", "column", "problem"]].values.tolist() == [
        [4, "amount", "is empty but required"],
        [4, "category", "is empty but required"],
        [4, "currency", "is empty but required"],
    ]


def test_crlf_line_endings(tmp_path):
    data = expense_data(tmp_path, [
        ";".join(EXPENSE_HEADER),
        "E1;X1;travel;600;EUR;1;",
        "",
        "E2;X1;meals;-1;EUR;10;",
    ], newline="\r\n")
    ds = dataset.build(data)
    assert ds.errors[["row", "column", "value"]].values.tolist() == [[4, "amount", "-1"]]
    assert ds.tables["expenses"]["currency"].tolist() == ["EUR"]   # no stray "\r"


def test_old_mac_cr_line_endings(tmp_path):
    t = read_csv_table(write_lines(tmp_path / "officers.csv", officers_lines(["A", "B"]), newline="\r"))
    assert t.frame["name"].tolist() == ["A", "B"]
    assert t.frame.index.tolist() == [2, 3]


def test_quoted_cells_with_separator_and_newline(tmp_path):
    data = expense_data(tmp_path, [
        ";".join(EXPENSE_HEADER),
        'E1;X1;accommodation;600;EUR;5;"Hotel Catalonia; 5 nights\nincl. breakfast"',  # row 2
        'E2;X1;travel;"1.234,50";EUR;1;"Return flight ""LYO-BCN"""',                    # row 3
        "E3;X1;meals;abc;EUR;10;",                                                       # row 4
    ])
    ds = dataset.build(data)
    assert ds.errors[["row", "column", "value"]].values.tolist() == [[4, "amount", "abc"]]
    exp = ds.tables["expenses"]
    assert exp["description"].tolist() == ["Hotel Catalonia; 5 nights\nincl. breakfast", 'Return flight "LYO-BCN"']
    assert exp["amount"].tolist() == [600.0, 1234.5]


# ------------------------------------------------------------------ .xlsx workbooks
def write_workbook(path, sheet_names=None, extra_rows=None):
    """BASE as a workbook, one sheet per table; values as Excel would hold them."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, columns in COLUMNS.items():
        ws = wb.create_sheet((sheet_names or {}).get(name, name))
        ws.append(columns)
        for r in BASE[name]:
            ws.append([r.get(c) or None for c in columns])
        for row in (extra_rows or {}).get(name, []):
            ws.append(row)
    wb.save(path)
    return path


def test_xlsx_workbook(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_workbook(data / "CLUSNET 2010.xlsx", sheet_names={"exchanges": "Exchanges", "fx_rates": "FX rates"},
                   extra_rows={
                       "exchanges": [
                           # real Excel dates, and dates typed as text
                           ["X2", "O3", "LYO", dt.datetime(2009, 10, 5), dt.datetime(2009, 10, 9), "validated",
                            None, "01.10.2009", dt.datetime(2009, 11, 2), 4, "en"],     # row 3
                           [None] * 11,                                                   # row 4 (empty)
                           ["X3", "O4", "MUC", "31.02.2010", "2010-03-05", "validated",
                            None, None, None, None, None],                                # row 5
                           [None] * 11,                                                   # trailing empty row
                       ],
                       "expenses": [["E9", "X2", "travel", 612.5, "EUR", 1, "Train"]],
                       "fx_rates": [[dt.datetime(2009, 10, 1), "GBP", 0.88]],
                   })
    (data / "~$CLUSNET 2010.xlsx").write_bytes(b"Excel lock file")  # ignored
    raw = read_inputs(data)
    assert raw["exchanges"].label == "CLUSNET 2010.xlsx [Exchanges]"
    assert raw["exchanges"].frame.index.tolist() == [2, 3, 5]
    ds = dataset.build(data)
    assert ds.errors[["file", "row", "column", "value", "problem"]].values.tolist() == [
        ["CLUSNET 2010.xlsx [Exchanges]", 5, "start_date", "31.02.2010", "is not a date (YYYY-MM-DD or DD.MM.YYYY)"]]
    ex = ds.tables["exchanges"].set_index("exchange_id")
    assert ex.loc["X2", "start_date"] == pd.Timestamp("2009-10-05")
    assert ex.loc["X2", "agenda_sent_date"] == pd.Timestamp("2009-10-01")
    assert ex.loc["X2", "report_pages"] == 4
    assert ds.tables["fx_rates"]["month"].tolist() == ["2009-09", "2009-09", "2009-09", "2009-10"]
    assert ds.costs.set_index("exchange_id")["total_eur"].to_dict() == {"X1": 1550.0, "X2": 612.5}
    assert ds.rows_read["exchanges"] == 3


def test_xlsx_file_given_directly(tmp_path):
    path = write_workbook(tmp_path / "data.xlsx")
    assert find_inputs(path) == {"__workbook__": path}
    assert set(read_inputs(path)) == set(COLUMNS)


# ------------------------------------------------------------------ unusable input
def test_no_such_directory(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(InputError, match=f"{missing}: no such data directory"):
        read_inputs(missing)
    with pytest.raises(InputError, match=f"{missing}: no such data directory"):
        dataset.build(missing)


def test_empty_directory(tmp_path):
    with pytest.raises(InputError, match=f"{tmp_path}: no table files found"):
        read_inputs(tmp_path)


def test_missing_required_table(tmp_path):
    data = write_data(tmp_path / "data", fx_rates=None)
    with pytest.raises(InputError, match=f"{data}: missing required table\\(s\\): fx_rates"):
        read_inputs(data)


def test_optional_tables_may_be_left_out(tmp_path):
    data = write_data(tmp_path / "data", clusters=None, assessments=None, practices=None, links=None)
    ds = dataset.build(data)
    assert ds.error_count == 0
    assert "clusters: no file supplied; treated as empty" in ds.notes
    assert len(ds.tables["links"]) == 0 and list(ds.tables["links"].columns) == COLUMNS["links"]


def test_garbage_file(tmp_path):
    data = write_data(tmp_path / "data")
    (data / "exchanges.csv").write_bytes(bytes(range(256)) * 20)
    with pytest.raises(InputError, match=f"{data / 'exchanges.csv'}: not a readable CSV file"):
        read_inputs(data)


def test_row_with_more_cells_than_the_header(tmp_path):
    data = expense_data(tmp_path, [",".join(EXPENSE_HEADER), "E1,X1,travel,600,EUR,1,,surplus,cells"])
    with pytest.raises(InputError, match=f"{data / 'expenses.csv'}: not a readable CSV file"):
        read_inputs(data)


def test_broken_workbook(tmp_path):
    (tmp_path / "data.xlsx").write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(InputError, match=f"{tmp_path / 'data.xlsx'}: not an .xlsx workbook" + r" \(the file is not a zip container\)"):
        read_inputs(tmp_path)


def test_two_workbooks(tmp_path):
    write_workbook(tmp_path / "a.xlsx")
    write_workbook(tmp_path / "b.xlsx")
    with pytest.raises(InputError, match=f"{tmp_path}: several workbooks \\(a.xlsx, b.xlsx\\); keep one"):
        read_inputs(tmp_path)


def test_same_column_twice(tmp_path):
    data = expense_data(tmp_path, [";".join(EXPENSE_HEADER) + "; Amount", "E1;X1;travel;600;EUR;1;;700"])
    with pytest.raises(InputError, match=f"{data / 'expenses.csv'}: column\\(s\\) amount appear more than once"):
        read_inputs(data)


def test_empty_columns_without_a_header_are_dropped(tmp_path):
    # Excel exports formatted but empty columns as ";;" after the last header.
    t = read_csv_table(write_lines(tmp_path / "officers.csv", [
        "officer_id;home_city;employer_type;name;role;;", "O1;LYO;city;A;;;", "O2;LYO;city;B;;x;"]))
    assert list(t.frame.columns) == ["officer_id", "home_city", "employer_type", "name", "role", "unnamed:_5"]
    t = read_csv_table(write_lines(tmp_path / "officers.csv", [
        "officer_id;home_city;employer_type;name;role;;", "O1;LYO;city;A;;;"]))
    assert list(t.frame.columns) == ["officer_id", "home_city", "employer_type", "name", "role"]


def test_an_empty_file_is_noted(tmp_path):
    data = write_data(tmp_path / "data", practices=None)
    (data / "links.csv").write_bytes(b"")
    ds = dataset.build(data)
    assert ds.error_count == 0 and ds.rows_read["links"] == 0
    assert ds.notes == ["practices: no file supplied; treated as empty",
                        "links: links.csv is empty (not even a header row); treated as empty"]
