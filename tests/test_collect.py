"""``clusnet collect`` and ``clusnet validate --workbooks``: workbooks filled like a city would, merged.

The round trip: templates filled through openpyxl with the sample's rows (dates as date
cells, amounts as numbers), collected and validated, give the same tables and findings as
the CSV sample itself.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest

from clusnet_analysis import config
from clusnet_analysis.cli import app as cli
from clusnet_analysis.collect import merge, spec
from clusnet_analysis.ingest import schemas
from clusnet_analysis.ingest.dataset import load
from clusnet_analysis.ingest.io import TABLES


def sample_tables() -> dict[str, pd.DataFrame]:
    return {t: pd.read_csv(config.SAMPLE_DATA_DIR / f"{t}.csv", dtype=str, keep_default_na=False) for t in TABLES}


def fill(template, out, tables: dict[str, pd.DataFrame]):
    """Type rows into a workbook as a user would: dates as dates, numbers as numbers, codes as text."""
    wb = openpyxl.load_workbook(template)
    for table, frame in tables.items():
        ws = wb[table]
        if ws.max_row > 1:
            ws.delete_rows(2, ws.max_row)
        header = [c.value for c in ws[1]]
        kinds = schemas.column_kinds(table)
        for r, record in enumerate(frame.to_dict("records"), start=2):
            for j, name in enumerate(header, start=1):
                value = record.get(name, "")
                if value == "" or value is None:
                    continue
                kind = kinds[name][0]
                value = (dt.date.fromisoformat(value) if kind == "date" else float(value) if kind == "number"
                         else int(float(value)) if kind == "integer" else value)
                ws.cell(r, j, value)
    wb.save(out)
    return out


def hashes(directory):
    return {p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def blank(tmp_path):
    path = tmp_path / "blank.xlsx"
    assert cli.main(["workbook", "--out", str(path)]) == 0
    return path


def collect(returned, out, capsys, *extra):
    code = cli.main(["collect", str(returned), "--out", str(out), *extra])
    return code, capsys.readouterr()


def same_as_sample(out):
    got, want = load(out, use_cache=False), load(config.SAMPLE_DATA_DIR, use_cache=False)
    assert got.error_count == want.error_count == 0
    for table in TABLES:
        a = got.tables[table].drop(columns=merge.SOURCE_COLUMNS).reset_index(drop=True)
        b = want.tables[table].reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=True)
    pd.testing.assert_frame_equal(got.findings, want.findings)
    return got


def test_round_trip_one_workbook_equals_the_csv_sample(tmp_path, blank, capsys):
    returned = tmp_path / "returned"
    returned.mkdir()
    fill(blank, returned / "all.xlsx", sample_tables())
    before = hashes(returned)
    code, out = collect(returned, tmp_path / "data", capsys)
    assert code == 0, out.out + out.err
    assert "collected all.xlsx: cities 11, officers 31, exchanges 31, expenses 138" in out.out
    assert "Schema errors: none" in out.out
    assert hashes(returned) == before            # nothing written into the input folder
    ds = same_as_sample(tmp_path / "data")
    assert set(ds.tables["exchanges"]["source_file"]) == {"all.xlsx"}
    assert ds.tables["exchanges"]["source_row"].iloc[0] == "2"
    assert not (tmp_path / "data" / merge.CONFLICTS_FILE).exists()


def test_two_city_workbooks_collect_into_the_sample(tmp_path, capsys):
    tables = sample_tables()
    officers = tables["officers"]
    first_cities = ["LYO", "BCN", "MUC", "DTM", "LEJ"]
    returned = tmp_path / "returned"
    returned.mkdir()
    for name, mine in (("first", officers["home_city"].isin(first_cities)),
                       ("second", ~officers["home_city"].isin(first_cities))):
        city = first_cities[0] if name == "first" else "MAN"
        template = tmp_path / f"{name}_template.xlsx"
        assert cli.main(["workbook", "--out", str(template), "--city", city]) == 0
        ids = set(officers.loc[mine, "officer_id"])
        exchanges = tables["exchanges"][tables["exchanges"]["officer_id"].isin(ids)]
        part = dict(tables, officers=officers[mine], exchanges=exchanges,
                    expenses=tables["expenses"][tables["expenses"]["exchange_id"].isin(exchanges["exchange_id"])],
                    practices=tables["practices"][tables["practices"]["exchange_id"].isin(exchanges["exchange_id"])])
        fill(template, returned / f"{name}.xlsx", part)
    code, out = collect(returned, tmp_path / "data", capsys)
    assert code == 0, out.out
    # Shared tables were sent twice: each identical row kept once, and counted.
    n = {t: len(tables[t]) for t in TABLES}
    assert (f"Identical rows kept once: cities {n['cities']}, fx_rates {n['fx_rates']}, clusters {n['clusters']}, "
            f"assessments {n['assessments']}") in out.out
    got = pd.read_csv(tmp_path / "data" / "exchanges.csv", dtype=str, encoding="utf-8-sig")
    assert len(got) == n["exchanges"] and got["source_file"].isin(["first.xlsx", "second.xlsx"]).all()
    # Row order follows the files; the analyses do not depend on it, so compare sorted by id.
    want, have = load(config.SAMPLE_DATA_DIR, use_cache=False), load(tmp_path / "data", use_cache=False)
    assert have.error_count == 0
    for table in ("exchanges", "expenses", "officers", "practices"):
        key = schemas.ID_COLUMNS[table]
        a = have.tables[table].drop(columns=merge.SOURCE_COLUMNS).sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, want.tables[table].sort_values(key).reset_index(drop=True))
    cols = ["rule_id", "subject_id", "message"]
    assert (have.findings[cols].sort_values(cols).reset_index(drop=True)
            .equals(want.findings[cols].sort_values(cols).reset_index(drop=True)))


def test_conflicting_rows_are_held_back_and_exit_1(tmp_path, blank, capsys):
    tables = sample_tables()
    returned = tmp_path / "returned"
    returned.mkdir()
    fill(blank, returned / "a.xlsx", {"cities": tables["cities"], "exchanges": tables["exchanges"].head(3)})
    changed = tables["exchanges"].head(2).copy()
    changed.loc[0, "host_city"] = "MUC"           # X001: BCN in a.xlsx, MUC in b.xlsx
    changed.loc[1, "status"] = "VALIDATED"        # X002: same code in another case: not a conflict
    fill(blank, returned / "b.xlsx", {"exchanges": changed})
    code, out = collect(returned, tmp_path / "data", capsys)
    assert code == 1
    conflicts = pd.read_csv(tmp_path / "data" / merge.CONFLICTS_FILE, dtype=str, encoding="utf-8-sig")
    assert conflicts[["table", "key", "source_file", "source_row", "differs_in", "values"]].values.tolist() == [
        ["exchanges", "exchange_id = X001", "a.xlsx", "2", "host_city", "host_city=BCN"],
        ["exchanges", "exchange_id = X001", "b.xlsx", "2", "host_city", "host_city=MUC"],
    ]
    written = pd.read_csv(tmp_path / "data" / "exchanges.csv", dtype=str, encoding="utf-8-sig")
    assert written["exchange_id"].tolist() == ["X002", "X003"]   # X001 held back, X002 kept once
    assert "Identical rows kept once: exchanges 1" in out.out
    assert "Conflicts: 2 row(s) share a key with different content" in out.out


def test_natural_key_conflict_for_tables_without_an_id(tmp_path, blank, capsys):
    rates = pd.DataFrame({"month": ["2009-09", "2009-10"], "currency": ["GBP", "GBP"], "units_per_eur": ["0.9", "0.91"]})
    returned = tmp_path / "returned"
    returned.mkdir()
    fill(blank, returned / "a.xlsx", {"fx_rates": rates})
    other = rates.assign(units_per_eur=["0.90", "0.95"], currency=["gbp", "GBP"])   # same 2009-09, other 2009-10
    fill(blank, returned / "b.xlsx", {"fx_rates": other})
    code, _ = collect(returned, tmp_path / "data", capsys)
    conflicts = pd.read_csv(tmp_path / "data" / merge.CONFLICTS_FILE, dtype=str, encoding="utf-8-sig")
    assert conflicts["key"].unique().tolist() == ["month + currency = 2009-10 + GBP"]
    assert code == 1


def test_foreign_refused_and_edited_files_are_named(tmp_path, blank, capsys):
    tables = sample_tables()
    returned = tmp_path / "returned"
    returned.mkdir()
    fill(blank, returned / "good.xlsx", tables)
    (returned / "cover letter.txt").write_text("Dear colleagues", encoding="utf-8")
    (returned / "~$good.xlsx").write_bytes(b"lock")
    openpyxl.Workbook().save(returned / "own.xlsx")
    (returned / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    for name, label, value in (("other.xlsx", "Programme", "nordic_twins"),
                               ("future.xlsx", "Template format", "clusnet_analysis data-collection workbook, format 9"),
                               ("edited.xlsx", "Programme version", "000000000000")):
        wb = openpyxl.load_workbook(blank)
        ws = wb[spec.STAMP_SHEET]
        row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)
        ws.cell(row, 2).value = value
        wb.save(returned / name)
    code, out = collect(returned, tmp_path / "data", capsys)
    text = out.out
    assert code == 1
    assert "ignored cover letter.txt: not a workbook or a folder of CSV files" in text
    assert "ignored ~$good.xlsx: a lock file left by an open spreadsheet program" in text
    assert 'REFUSED own.xlsx: not made by `clusnet workbook`: it has no version stamp on a "Read me" sheet' in text
    assert "REFUSED old.xls: a .xls file: save it as an Excel workbook (.xlsx)" in text
    assert "REFUSED other.xlsx: made for another programme (nordic_twins), not clusnet" in text
    assert "REFUSED future.xlsx: made with another template format (clusnet_analysis data-collection workbook, format 9)" in text
    assert "warning: edited.xlsx was made under an edited version of the clusnet programme (version 000000000000" in text
    assert "collected edited.xlsx" in text and "collected good.xlsx" in text
    assert "4 file(s) refused" in text
    assert "Traceback" not in text + out.err


def test_output_inside_input_is_refused(tmp_path, blank, capsys):
    returned = tmp_path / "returned"
    returned.mkdir()
    fill(blank, returned / "a.xlsx", {"cities": sample_tables()["cities"]})
    before = hashes(returned)
    code = cli.main(["collect", str(returned), "--out", str(returned / "merged")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().startswith("clusnet: error: output folder") and "inside the input folder" in err
    assert hashes(returned) == before
    assert cli.main(["collect", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2


def test_csv_folders_are_collected_too(tmp_path, capsys):
    returned = tmp_path / "returned"
    (returned / "all").mkdir(parents=True)
    for p in config.SAMPLE_DATA_DIR.glob("*.csv"):
        (returned / "all" / p.name).write_bytes(p.read_bytes())
    code, out = collect(returned, tmp_path / "data", capsys)
    assert code == 0, out.out
    same_as_sample(tmp_path / "data")
    got = pd.read_csv(tmp_path / "data" / "cities.csv", dtype=str, encoding="utf-8-sig")
    assert got["source_file"].iloc[0] == "all/cities.csv"


def test_values_are_written_exactly(tmp_path, blank, capsys):
    """The output is data: a text starting with = stays as typed (no spreadsheet-injection prefix)."""
    practices = sample_tables()["practices"].head(1).assign(title="=HYPERLINK(\"x\")", description="+1 idea")
    returned = tmp_path / "returned"
    returned.mkdir()
    wb = openpyxl.load_workbook(blank)
    ws = wb["practices"]
    for j, v in enumerate(practices.iloc[0].tolist(), start=1):
        ws.cell(2, j).value = v or None
        ws.cell(2, j).data_type = "s"
    wb.save(returned / "p.xlsx")
    collect(returned, tmp_path / "data", capsys)
    got = pd.read_csv(tmp_path / "data" / "practices.csv", dtype=str, encoding="utf-8-sig")
    assert got.loc[0, "title"] == '=HYPERLINK("x")' and got.loc[0, "description"] == "+1 idea"


def test_correction_workbooks_close_the_loop(tmp_path, blank, capsys):
    tables = sample_tables()
    bad = tables["expenses"].copy()
    bad.loc[0, "category"] = "champagne"          # E0001 of X001 (officer O01, LYO)
    returned = tmp_path / "returned"
    returned.mkdir()
    fill(blank, returned / "all.xlsx", dict(tables, expenses=bad))
    code, _ = collect(returned, tmp_path / "data", capsys)
    assert code == 1
    fixes = tmp_path / "fixes"
    code = cli.main(["validate", "--data", str(tmp_path / "data"), "--workbooks", str(fixes)])
    out = capsys.readouterr().out
    assert code == 1
    assert "Correction workbooks:" in out and "corrections_LYO.xlsx" in out
    wb = openpyxl.load_workbook(fixes / "corrections_LYO.xlsx")
    ws = wb["expenses"]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, [c.value for c in ws[2]]))
    assert (row["expense_id"], row["category"], row["source_file"], row["source_row"]) == \
           ("E0001", "champagne", "all.xlsx", "2")
    assert "category: champagne is not a known expense category" in row["problems"]
    findings = wb["Findings"]
    assert [c.value for c in findings[1]][:3] == ["rule", "severity", "rule in words"]
    assert {findings.cell(r, 1).value for r in range(2, findings.max_row + 1)} >= {"report_language"}
    # The city fixes the cell and sends the workbook back: its row replaces the bad one.
    ws.cell(2, header.index("category") + 1).value = "travel"
    wb.save(returned / "corrections_LYO.xlsx")
    code, collected = collect(returned, tmp_path / "data2", capsys)
    assert code == 0, collected.out
    assert "Rows replaced by a correction workbook: expenses 1" in collected.out
    same_as_sample_but_sources = load(tmp_path / "data2", use_cache=False)
    assert same_as_sample_but_sources.error_count == 0
    e1 = same_as_sample_but_sources.tables["expenses"].set_index("expense_id").loc["E0001"]
    assert (e1["category"], e1["source_file"]) == ("travel", "corrections_LYO.xlsx")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_workbook_saved_by_libreoffice_is_collected(tmp_path, blank, capsys):
    """A city that opens and saves the workbook in LibreOffice: stamp, dates and numbers survive."""
    tables = sample_tables()
    filled = fill(blank, tmp_path / "filled.xlsx", tables)
    returned = tmp_path / "returned"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(returned), str(filled)],
                   check=False, capture_output=True, timeout=240)
    assert (returned / "filled.xlsx").is_file(), "soffice exits 0 even when it fails: no workbook was written"
    code, out = collect(returned, tmp_path / "data", capsys)
    assert code == 0, out.out
    same_as_sample(tmp_path / "data")


def test_collect_never_overwrites_a_folder_it_did_not_write(tmp_path, blank, capsys):
    returned = tmp_path / "returned"
    returned.mkdir()
    fill(blank, returned / "a.xlsx", sample_tables())
    own = tmp_path / "own_data"
    own.mkdir()
    (own / "exchanges.csv").write_text("exchange_id\nX1\n", encoding="utf-8")
    code = cli.main(["collect", str(returned), "--out", str(own)])
    assert code == 2 and "already holds files that clusnet collect did not write" in capsys.readouterr().err
    assert (own / "exchanges.csv").read_text(encoding="utf-8") == "exchange_id\nX1\n"
    # a folder collect wrote itself may be written again (the marker says so), stale tables removed
    out = tmp_path / "data"
    assert collect(returned, out, capsys)[0] == 0
    assert "a.xlsx: cities 11" in (out / merge.MARKER).read_text(encoding="utf-8")
    (returned / "a.xlsx").unlink()
    (returned / "csv").mkdir()
    for p in config.SAMPLE_DATA_DIR.glob("*.csv"):
        if p.stem != "links":
            (returned / "csv" / p.name).write_bytes(p.read_bytes())
    assert collect(returned, out, capsys)[0] == 0
    assert not (out / "links.csv").exists()     # no file supplies links any more
    assert "csv/: cities 11" in (out / merge.MARKER).read_text(encoding="utf-8")


def test_a_correction_without_source_columns_replaces_by_key(tmp_path, blank, capsys):
    tables = sample_tables()
    returned = tmp_path / "returned"
    returned.mkdir()
    fill(blank, returned / "all.xlsx", tables)
    wb = openpyxl.load_workbook(blank)
    ws = wb[spec.STAMP_SHEET]
    row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == spec.STAMP_LABELS["kind"])
    ws.cell(row, 2).value = spec.KIND_CORRECTION
    wb.save(tmp_path / "correction_template.xlsx")
    fixed = tables["exchanges"].head(1).assign(report_language="en")   # X001 was written in fr
    fill(tmp_path / "correction_template.xlsx", returned / "fix.xlsx", {"exchanges": fixed})
    code, out = collect(returned, tmp_path / "data", capsys)
    assert code == 0, out.out
    assert "Rows replaced by a correction workbook: exchanges 1" in out.out
    ds = load(tmp_path / "data", use_cache=False)
    assert "X001" not in set(ds.findings.loc[ds.findings["rule_id"] == "report_language", "subject_id"])
