"""``clusnet workbook``: the data-collection workbook as openpyxl and LibreOffice read it back."""
from __future__ import annotations

import shutil
import subprocess

import openpyxl
import pytest

from clusnet_analysis.cli import app as cli
from clusnet_analysis.collect import spec, template
from clusnet_analysis.ingest.io import TABLES, read_workbook
from clusnet_analysis.rules.programme import load_cluster_model, load_programme


@pytest.fixture
def built(tmp_path):
    path = tmp_path / "workbook.xlsx"
    assert cli.main(["workbook", "--out", str(path)]) == 0
    return path


def validations(ws) -> dict[str, tuple]:
    """{header: (type, error style, formula1, formula2)} of a sheet's data validations."""
    headers = {c.column_letter: c.value for c in ws[1]}
    out = {}
    for dv in ws.data_validations.dataValidation:
        letter = str(dv.sqref).split(":")[0].rstrip("0123456789")
        assert str(dv.sqref) == f"{letter}2:{letter}1048576"
        out[headers[letter]] = (dv.type, dv.errorStyle, dv.formula1, dv.formula2)
    return out


def list_values(wb, formula: str) -> list:
    sheet, cells = formula.split("!")
    ws = wb[sheet.strip("'")]
    return [c.value for row in ws[cells.replace("$", "")] for c in row]


def test_rebuild_is_byte_identical(tmp_path, built):
    again = tmp_path / "again.xlsx"
    assert cli.main(["workbook", "--out", str(again)]) == 0
    assert again.read_bytes() == built.read_bytes()
    city = tmp_path / "lyo.xlsx"
    assert cli.main(["workbook", "--out", str(city), "--city", "LYO"]) == 0
    assert city.read_bytes() != built.read_bytes()
    assert openpyxl.load_workbook(built).properties.modified.year == 2000


def test_sheets_headers_notes_and_stamp(built):
    programme = load_programme()
    wb = openpyxl.load_workbook(built)
    assert wb.sheetnames == ["Read me", *TABLES, "Partner cities", "Cluster criteria", "Lists"]
    assert wb["Lists"].sheet_state == "hidden"
    ws = wb["exchanges"]
    assert [c.value for c in ws[1]] == ["exchange_id", "officer_id", "host_city", "start_date", "end_date", "status",
                                        "group_visit_id", "agenda_sent_date", "report_received_date", "report_pages",
                                        "report_language", "validated_on"]
    assert ws.freeze_panes == "A2"
    note = ws["F1"].comment.text
    assert note == ("Status: draft (left out of totals), submitted or validated.\nFormat: text.\nRequired.\n"
                    "Allowed: draft, submitted, validated.")
    assert "Optional: may stay empty." in ws["G1"].comment.text
    assert "Officer name" in wb["officers"]["D1"].comment.text
    stamp = {wb["Read me"].cell(r, 1).value: wb["Read me"].cell(r, 2).value for r in range(1, 80)}
    assert stamp["Template format"] == spec.TEMPLATE_FORMAT
    assert (stamp["Programme"], stamp["Programme version"]) == (programme.id, spec.programme_hash(programme))
    # the reader of data directories sees nine empty tables, no errors
    assert sorted(read_workbook(built)) == sorted(TABLES)


def test_dropdowns_and_checks_read_back(built):
    programme, model = load_programme(), load_cluster_model()
    wb = openpyxl.load_workbook(built)
    ex = validations(wb["exchanges"])
    assert ex["status"][:2] == ("list", "stop")
    assert list_values(wb, ex["status"][2]) == ["draft", "submitted", "validated"]
    assert ex["host_city"][:2] == ("list", "warning")
    assert list_values(wb, ex["host_city"][2]) == list(programme.partner_cities)
    assert ex["start_date"] == ("date", "warning", "39995", "40543")    # 2009-07-01 .. 2010-12-31
    assert ex["end_date"] == ("date", "warning", "39995", "40543")
    assert ex["officer_id"] == ("list", "warning", "'officers'!$A$2:$A$5000", None)
    assert ex["agenda_sent_date"][:2] == ("date", "stop")
    assert ex["report_pages"] == ("whole", "stop", "1", "1000")
    assert list_values(wb, ex["report_language"][2]) == ["en"] and ex["report_language"][1] == "warning"
    ep = validations(wb["expenses"])
    assert ep["amount"] == ("decimal", "stop", "0", None)
    assert list_values(wb, ep["category"][2]) == list(programme.expense_categories) and ep["category"][1] == "stop"
    assert list_values(wb, ep["currency"][2]) == ["EUR", "GBP", "HUF", "SEK"]
    assert ep["exchange_id"][2] == "'exchanges'!$A$2:$A$5000"
    assert list_values(wb, validations(wb["officers"])["employer_type"][2]) == list(programme.known_employer_types)
    assert validations(wb["officers"])["home_city"][1] == "warning"
    assert validations(wb["cities"])["country"] == ("textLength", "stop", "2", None)
    fx = validations(wb["fx_rates"])
    assert list_values(wb, fx["currency"][2]) == ["GBP", "HUF", "SEK"]
    assert list_values(wb, fx["month"][2])[:2] == ["2009-07", "2009-08"] and fx["units_per_eur"][:2] == ("decimal", "stop")
    assessments = validations(wb["assessments"])
    assert list_values(wb, assessments["criterion_id"][2]) == list(model.criterion_ids)
    assert list_values(wb, assessments["score"][2]) == [0, 1, 2]
    practices = validations(wb["practices"])
    assert list_values(wb, practices["theme"][2]) == list(programme.themes)
    assert list_values(wb, practices["phase"][2]) == list(model.phase_ids)
    assert list_values(wb, practices["transferability"][2]) == [1, 2, 3, 4, 5]
    assert list_values(wb, validations(wb["links"])["kind"][2]) == ["contact", "follow_up_visit", "joint_project",
                                                                     "other"]


def test_formats_and_protection(built):
    wb = openpyxl.load_workbook(built)
    ws = wb["exchanges"]
    assert ws.column_dimensions["D"].number_format == "yyyy-mm-dd"
    assert ws.column_dimensions["J"].number_format == "0"
    assert ws.column_dimensions["A"].number_format == "@"
    assert wb["expenses"].column_dimensions["D"].number_format == "#,##0.00"
    assert wb["fx_rates"].column_dimensions["A"].number_format == "@"
    assert ws.protection.sheet and not ws.protection.insertRows and not ws.protection.sort
    assert ws["A1"].protection.locked                                  # headers locked
    assert not ws.column_dimensions["A"].protection.locked             # data cells open
    assert ws.column_dimensions["L"].number_format == "yyyy-mm-dd"        # validated on (optional date)
    right = ws.column_dimensions["M"]
    assert (right.min, right.max, right.protection.locked) == (13, 16384, False)   # users' own columns open


def test_city_workbook_is_prefilled(tmp_path):
    path = tmp_path / "bud.xlsx"
    assert cli.main(["workbook", "--out", str(path), "--city", "BUD"]) == 0
    wb = openpyxl.load_workbook(path)
    assert [c.value for c in wb["cities"][2]][:4] == ["BUD", "Budapest", "HU", "HUF"]
    officers = [[c.value for c in row] for row in wb["officers"].iter_rows(min_row=2)]
    assert officers == [["BUD-O1", "BUD", "city", None, None], ["BUD-O2", "BUD", "city", None, None],
                        ["BUD-O3", "BUD", "city", None, None]]
    assert not wb["officers"]["A2"].protection.locked


def test_bad_usage_is_one_line(tmp_path, capsys):
    assert cli.main(["workbook", "--out", str(tmp_path / "w.xlsx"), "--city", "STO"]) == 2
    assert cli.main(["workbook", "--out", str(tmp_path / "w.csv")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("clusnet: error: STO is not a partner city of CLUSNET staff exchange programme")
    assert err[1] == f"clusnet: error: --out must name an .xlsx file, got {tmp_path / 'w.csv'}"


def test_another_programme_needs_no_code(tmp_path):
    """A programme without a [collection] section still gets a full workbook from its own rules."""
    source = load_programme().source_file.read_text(encoding="utf-8")
    text = source.split("[collection]")[0].replace('id = "clusnet"', 'id = "twins"')
    text = text.replace('partner_cities = ["LYO", "BCN", "MUC", "DTM", "LEJ", "MAN", "HEL", "BUD", "GOT", "EIN"]',
                        'partner_cities = ["AAA", "BBB"]')
    rules = tmp_path / "twins.toml"
    rules.write_text(text, encoding="utf-8")
    out = tmp_path / "twins.xlsx"
    assert cli.main(["workbook", "--out", str(out), "--programme", str(rules)]) == 0
    wb = openpyxl.load_workbook(out)
    assert list_values(wb, validations(wb["exchanges"])["host_city"][2]) == ["AAA", "BBB"]
    readme = " ".join(str(c.value) for row in wb["Read me"].iter_rows() for c in row if c.value)
    assert "Partner cities: AAA, BBB." in readme and "the CLUSNET staff exchange programme coordinator" in readme


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_it(tmp_path, built):
    out = tmp_path / "pdf"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                    "--convert-to", "pdf", "--outdir", str(out), str(built)],
                   check=False, capture_output=True, timeout=240)
    pdf = out / "workbook.pdf"
    assert pdf.is_file(), "soffice exits 0 even when it fails: no PDF was written"   # the real check
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000
