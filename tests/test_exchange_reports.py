"""Exchange reports: the structure as data, the pre-filled templates, and ``clusnet check-reports``.

Templates are generated, filled through python-docx as an officer would (tests/exchange_report_filling.py)
and checked. LibreOffice is used where it is installed (page counts of Word files, PDFs it makes);
most tests switch it off so they run the same everywhere and say "estimated".
"""
from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from clusnet_testdata import EXCHANGES, exchange, write_data
from exchange_report_filling import ENGLISH, FRENCH, PRACTICES, fill_report

from clusnet_analysis import config
from clusnet_analysis.cli import app as cli
from clusnet_analysis.exchange_reports import (
    exchange_report_findings_fingerprint,
    load_exchange_report_findings,
    pages,
)
from clusnet_analysis.exchange_reports.check import check_reports
from clusnet_analysis.exchange_reports.template import (
    FIXED_TIME,
    ZIP_TIME,
    template_name,
)
from clusnet_analysis.ingest.dataset import load
from clusnet_analysis.privacy import pseudonym_codes
from clusnet_analysis.rules.programme import ProgrammeError, load_programme
from clusnet_analysis.rules.report_structure import parse_report_structure

REQUIRED = ["The host city and its clusters", "Agenda and people met", "Cluster policy observed", "Best practices",
            "What my city can transfer", "Recommendations"]
HEADINGS = REQUIRED[:5] + ["Links made and follow-up", "Recommendations"]
LIBREOFFICE = pytest.mark.skipif(shutil.which("soffice") is None and shutil.which("libreoffice") is None,
                                 reason="LibreOffice (soffice) is not installed")


@pytest.fixture
def no_libreoffice(monkeypatch):
    monkeypatch.setattr(pages, "soffice_path", lambda: None)


@pytest.fixture
def data(tmp_path):
    """BASE (X1: officer O1 of LYO visits BCN 2009-09-07..11, agenda 2009-08-20) plus X2 (O3 of BCN visits MUC)."""
    return write_data(tmp_path / "data", exchanges=EXCHANGES + [
        exchange("X2", officer_id="O3", host_city="MUC", start_date="2010-03-01", end_date="2010-03-05",
                 agenda_sent_date="", report_received_date="", report_pages="", report_language="")])


def templates(data, out, *ids, show_names=False):
    args = ["report-template", "--out", str(out), "--data", str(data)]
    args += [a for i in ids for a in ("--exchange", i)] if ids else ["--all"]
    assert cli.main(args + (["--show-names"] if show_names else [])) == 0
    return out


def check(folder, data):
    return check_reports(Path(folder), load(data))


def rules(result):
    return sorted(zip(result.findings["rule_id"], result.findings["exchange_id"].fillna("")))


def read_docx(path):
    from docx import Document

    doc = Document(str(path))
    return doc, "\n".join(p.text for p in doc.paragraphs), [[c.text for c in r.cells] for t in doc.tables
                                                          for r in t.rows]


# ------------------------------------------------------------------ the structure as data
def test_bundled_structure_takes_limits_from_the_report_rules(programme):
    s = programme.report_structure
    assert s.headings == tuple(HEADINGS)
    assert [h for h, sec in zip(s.headings, s.sections) if sec.required] == REQUIRED
    assert (s.max_pages, s.language) == (programme.report_max_pages, programme.report_language) == (8, "en")
    assert s.practice_section.heading == "Best practices" and s.practice_tables == 3
    assert [(f.column, f.values) for f in s.practice_fields] == [
        ("title", None), ("description", None), ("theme", "themes"), ("phase", "phases"),
        ("transferability", ("1", "2", "3", "4", "5"))]


@pytest.mark.parametrize("part, message", [
    ({"sections": [{"heading": "A", "guidance": "", "requried": True}]}, "`report_structure.sections[1].requried`: "
                                                                          "unknown key (did you mean `required`?)"),
    ({"sections": []}, "at least one"),
    ({"sections": [{"heading": "A"}, {"heading": " a "}]}, "used twice"),
    ({"sections": [{"heading": "A", "required": "yes"}]}, "is not true or false"),
    ({"sections": [{"heading": "A"}], "practices": {"fields": [{"column": "colour", "label": "C"}]}},
     "not a practices column"),
    ({"sections": [{"heading": "A"}], "practices": {"fields": [{"column": "theme", "label": "T",
                                                                "values": "colours"}]}}, "use \"themes\""),
    ({"sections": [{"heading": "A"}], "practices": {"tables": -1}}, "0 or more"),
])
def test_a_wrong_structure_names_the_key(part, message):
    with pytest.raises(ProgrammeError) as err:
        parse_report_structure({"report_structure": part}, Path("p.toml"))
    assert str(err.value).startswith("p.toml: `report_structure") and message in str(err.value)


def test_a_programme_without_structure_is_refused_with_one_line(tmp_path, data, capsys):
    text = (config.DEFAULT_PROGRAMME_FILE.read_text(encoding="utf-8").split("[report_structure]")[0])
    (data / "programme.toml").write_text(text, encoding="utf-8")
    assert load_programme(data / "programme.toml").report_structure is None
    assert cli.main(["report-template", "--all", "--out", str(tmp_path / "t"), "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("clusnet: error: ") and "no report structure" in err and "\n" not in err


# ------------------------------------------------------------------ templates
def test_template_is_prefilled_with_the_exchange_and_the_structure(tmp_path, data):
    out = templates(data, tmp_path / "t", "X1")
    assert sorted(p.name for p in out.iterdir()) == ["exchange_report_X1.docx"]
    doc, text, cells = read_docx(out / "exchange_report_X1.docx")
    assert "CLUSNET exchange report: exchange X1" in text
    facts = {r[0]: r[1] for r in cells if len(r) == 2}
    # officer O1 of Lyon under the keyed-hash pseudonym (privacy.pseudonym_codes), never the name
    assert facts["Officer"] == "LYO-" + pseudonym_codes(pd.Series(["LYO"]), pd.Series(["O1"])).iloc[0] == "LYO-4B90"
    assert facts["Home city"] == "Lyon (LYO)" and facts["Host city"] == "Barcelona (BCN)"
    assert facts["Visit"] == "2009-09-07 to 2009-09-11 (5 days)"
    assert facts["Final agenda sent to the coordinator"] == "2009-08-20"
    assert facts["Reporting period"] == "Semester 3 (Jul-Dec 2009)"
    assert "Émilie Roux" not in text + str(cells)
    box = next(r[0] for r in cells if r[0].startswith("Rules for this report"))
    assert "At most 8 pages." in box and "Written in English." in box
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"] == HEADINGS
    practice_rows = [r for r in cells if r[0].startswith("Theme")]
    assert len(practice_rows) == 3
    assert practice_rows[0][2].startswith("research (Research gap); education (Education gap)")
    assert [r[2] for r in cells if r[0].startswith("Cluster-model phase")][0] == \
        "initiation; pilot; establishment; sustainability"
    assert [r[2] for r in cells if r[0].startswith("Transferability")][0] == "1; 2; 3; 4; 5"


def test_officer_names_only_with_show_names(tmp_path, data):
    out = templates(data, tmp_path / "t", "X1", show_names=True)
    _, _, cells = read_docx(out / "exchange_report_X1.docx")
    assert ["Officer", "LYO-4B90 (Émilie Roux)"] in cells


def test_templates_are_byte_identical_with_fixed_properties_and_zip_times(tmp_path, data):
    a, b = templates(data, tmp_path / "a"), templates(data, tmp_path / "b")
    for name in ("exchange_report_X1.docx", "exchange_report_X2.docx"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
        with zipfile.ZipFile(a / name) as z:
            assert {i.date_time for i in z.infolist()} == {ZIP_TIME}
        props = read_docx(a / name)[0].core_properties
        times = {t.replace(tzinfo=None) for t in (props.created, props.modified, props.last_printed)}
        assert times == {FIXED_TIME.replace(tzinfo=None)}
        assert props.revision == 1 and props.author == "CLUSNET staff exchange programme"


def test_unknown_exchange_and_output_in_the_data_are_refused(tmp_path, data, capsys):
    assert cli.main(["report-template", "--exchange", "X9", "--out", str(tmp_path / "t"), "--data", str(data)]) == 2
    assert "no exchange X9" in capsys.readouterr().err
    assert cli.main(["report-template", "--all", "--out", str(data / "t"), "--data", str(data)]) == 2
    assert not (data / "t").exists()


# ------------------------------------------------------------------ checking filled reports
def test_drafted_practices_equal_what_was_filled_in(tmp_path, data, no_libreoffice):
    t = templates(data, tmp_path / "t", "X1")
    fill_report(t / template_name("X1"), tmp_path / "in" / template_name("X1"))
    result = check(tmp_path / "in", data)
    assert result.findings.empty
    drafted = result.practices.drop(columns="source").to_dict("records")
    assert drafted == [
        {"practice_id": "X1-BP1", "exchange_id": "X1", "title": PRACTICES[0]["title"],
         "description": PRACTICES[0]["description"], "theme": "firm_to_firm", "phase": "initiation",
         "transferability": "4", "cluster_id": ""},
        # written as labels ("Policy gap", "Establishment"): drafted as the programme's values
        {"practice_id": "X1-BP2", "exchange_id": "X1", "title": PRACTICES[1]["title"],
         "description": PRACTICES[1]["description"], "theme": "policy", "phase": "establishment",
         "transferability": "3", "cluster_id": ""}]
    assert list(result.practices["source"]) == ["exchange_report_X1.docx, table 1", "exchange_report_X1.docx, table 2"]


def test_a_practice_value_outside_the_programme_is_a_finding(tmp_path, data, no_libreoffice):
    t = templates(data, tmp_path / "t", "X1")
    bad = [dict(PRACTICES[0], theme="tourism", transferability="7"), dict(PRACTICES[1], title="")]
    fill_report(t / template_name("X1"), tmp_path / "in" / "X1.docx", practices=bad)
    result = check(tmp_path / "in", data)
    assert rules(result) == [("practice_value", "X1")] * 3
    assert list(result.findings["value"].fillna("")) == ["tourism", "7", ""]
    assert "'Theme' is 'tourism', not an allowed value" in result.findings["message"].iat[0]
    assert "best practice 2: 'Title' is empty" in result.findings["message"].iat[2]


def test_a_french_report_gives_a_language_finding(tmp_path, data, no_libreoffice):
    t = templates(data, tmp_path / "t", "X1")
    fill_report(t / template_name("X1"), tmp_path / "in" / "X1.docx", sections=FRENCH)
    result = check(tmp_path / "in", data)
    assert rules(result) == [("report_language", "X1")]
    f = result.findings.iloc[0]
    assert (f["value"], f["limit"], f["home_city"], f["period"]) == ("fr", "en", "LYO", "S3")
    assert result.updates[["report_language_recorded", "report_language_suggested", "update_needed"]].values.tolist() \
        == [["en", "fr", "yes"]]


def test_a_ten_page_report_gives_a_length_finding(tmp_path, data, no_libreoffice):
    t = templates(data, tmp_path / "t", "X1")
    fill_report(t / template_name("X1"), tmp_path / "in" / "X1.docx", extra_paragraphs=120)
    result = check(tmp_path / "in", data)
    assert rules(result) == [("report_too_long", "X1")]
    f = result.findings.iloc[0]
    assert int(f["value"]) >= 10 and f["limit"] == "8"
    assert "estimated from" in f["message"] and "words" in f["message"]
    assert result.updates["pages_counted_by"].iat[0].startswith("estimated from")


@pytest.mark.parametrize("words, expected", [(4000, []), (4001, [("report_too_long", "X1")])])
def test_eight_pages_are_allowed_and_nine_are_not(tmp_path, data, no_libreoffice, words, expected):
    import re

    md = tmp_path / "in" / "X1.md"
    md.parent.mkdir()
    text = "\n\n".join(f"# {h}\n\n{ENGLISH[h]}" for h in HEADINGS)
    text += "\n\n" + "word " * (words - len(re.findall(r"\w+", text)))   # 500 words a page: 4,000 = 8 pages
    md.write_text(text, encoding="utf-8")
    result = check(md.parent, data)
    assert rules(result) == expected
    assert result.files["pages"].iat[0] == (8 if words == 4000 else 9)


def test_page_estimate_limits():
    assert [pages.estimated_pages(w) for w in (0, 1, 500, 501, 4000, 4001)] == [1, 1, 1, 2, 8, 9]
    assert pages.estimated_pages(100, page_breaks=9) == 10


@pytest.mark.parametrize("drop, expected", [
    (("Cluster policy observed",), [("section_missing", "X1")]),
    (("Links made and follow-up",), []),   # optional
])
def test_a_missing_required_section_is_a_finding(tmp_path, data, no_libreoffice, drop, expected):
    t = templates(data, tmp_path / "t", "X1")
    fill_report(t / template_name("X1"), tmp_path / "in" / "X1.docx", drop=drop)
    result = check(tmp_path / "in", data)
    assert rules(result) == expected
    if expected:
        assert result.findings["message"].iat[0] == "required section 'Cluster policy observed' is missing"


def test_extra_and_out_of_order_headings(tmp_path, data, no_libreoffice):
    md = tmp_path / "in" / "report X1.md"
    md.parent.mkdir()
    order = [HEADINGS[0], HEADINGS[2], HEADINGS[1]] + HEADINGS[3:]
    body = "\n\n".join(f"## {i + 1}. {h}\n\n{ENGLISH[h]}" for i, h in enumerate(order))
    md.write_text(f"# Exchange X1\n\n{body}\n\n## Annex: photos\n\nPictures of the visit to the science park.\n",
                  encoding="utf-8")
    result = check(md.parent, data)
    assert rules(result) == [("section_extra", "X1"), ("section_order", "X1")]
    assert set(result.findings["value"]) == {"Annex: photos", "3. Agenda and people met"}
    assert "out of order; it is section 2 of the structure" in result.findings["message"].iat[1]


def test_a_report_without_the_structure_is_still_checked_for_language(tmp_path, data, no_libreoffice):
    md = tmp_path / "in" / "X1.md"
    md.parent.mkdir()
    md.write_text("Rapport de visite\n\n" + FRENCH[HEADINGS[0]] + "\n", encoding="utf-8")
    result = check(md.parent, data)
    assert rules(result) == [("report_language", "X1")] + [("section_missing", "X1")] * len(REQUIRED)


def test_markdown_practice_tables_are_drafted(tmp_path, data, no_libreoffice):
    md = tmp_path / "in" / "X2.md"
    md.parent.mkdir()
    body = "\n\n".join(f"# {h}\n\n{ENGLISH[h]}" for h in HEADINGS)
    table = ("| Best practice 1 | Your entry |\n|---|---|\n| Title | Cluster vouchers |\n| Theme | capital |\n"
             "| Transferability | 5 |\n")
    md.write_text(body.replace(ENGLISH["Best practices"], ENGLISH["Best practices"] + "\n\n" + table), encoding="utf-8")
    result = check(md.parent, data)
    assert result.findings.empty
    assert result.practices[["exchange_id", "title", "theme", "phase", "transferability"]].values.tolist() == \
        [["X2", "Cluster vouchers", "capital", "", "5"]]


# ------------------------------------------------------------------ matching, bad files
def test_reports_are_matched_by_file_name_or_first_page(tmp_path, data, no_libreoffice):
    t = templates(data, tmp_path / "t")
    folder = tmp_path / "in"
    fill_report(t / template_name("X1"), folder / "visit of lyon.docx")           # id on the first page only
    fill_report(t / template_name("X2"), folder / "X2_final.docx")
    fill_report(t / template_name("X2"), folder / "X2_second.docx")               # one report per exchange
    fill_report(t / template_name("X1"), folder / "X1 and X2.docx")               # two ids in the name
    (folder / "notes.md").write_text("# Notes\n\nNothing about any exchange.\n", encoding="utf-8")
    result = check(folder, data)
    got = sorted(zip(result.findings["rule_id"], result.findings["subject_id"]))
    assert [g for g in got if g[0].startswith("report_")] == [
        ("report_ambiguous", "X1 and X2.docx"), ("report_duplicate", "X2_second.docx"),
        ("report_unmatched", "notes.md")]
    assert dict(zip(result.files["report_file"], result.files["exchange_id"]))["visit of lyon.docx"] == "X1"
    # one suggestion per exchange (from its first report); practice ids stay unique across a duplicate
    assert sorted(zip(result.updates["exchange_id"], result.updates["report_file"])) == [
        ("X1", "visit of lyon.docx"), ("X2", "X2_final.docx")]
    assert sorted(zip(result.practices["practice_id"], result.practices["source"])) == [
        ("X1-BP1", "visit of lyon.docx, table 1"), ("X1-BP2", "visit of lyon.docx, table 2"),
        ("X2-BP1", "X2_final.docx, table 1"), ("X2-BP2", "X2_final.docx, table 2"),
        ("X2-BP3", "X2_second.docx, table 1"), ("X2-BP4", "X2_second.docx, table 2")]
    assert dict(zip(result.files["report_file"], result.files["findings"]))["notes.md"] == \
        2 + len(REQUIRED)   # unmatched, its heading "Notes" is extra, every required section is missing


def test_corrupt_and_password_protected_files_get_one_clear_line(tmp_path, data, no_libreoffice, capsys):
    from pypdf import PdfWriter

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "X1_report.docx").write_bytes(b"this is not a word file")
    (folder / "X2_report.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<\n%%broken")
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    with open(folder / "X2_locked.pdf", "wb") as fh:
        writer.write(fh)
    (folder / "X1_old.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
                                         + "EncryptedPackage".encode("utf-16-le"))
    (folder / "X1_scan.jpg").write_bytes(b"\xff\xd8\xff")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert cli.main(["check-reports", str(folder), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    findings = load_exchange_report_findings(config.REPORTS_DIR)
    bad = dict(zip(findings["subject_id"], findings["message"]))
    assert bad["X1_report.docx"] == "not a Word document (.docx): the file is damaged or of another kind"
    assert bad["X2_report.pdf"].startswith("not a valid PDF: the file is damaged")
    assert bad["X2_locked.pdf"] == "password-protected (encrypted PDF): ask for a copy without a password"
    assert bad["X1_old.docx"] == "password-protected: ask for a copy saved without a password"
    assert findings.set_index("subject_id").loc["X1_scan.jpg", "rule_id"] == "report_not_read"
    for name in ("X1_report.docx", "X2_report.pdf", "X2_locked.pdf", "X1_old.docx"):
        assert sum(line.startswith(f"  cannot read {name}: ") for line in out.splitlines()) == 1
    assert "Traceback" not in out
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


# ------------------------------------------------------------------ outputs, never writing into DIR
def test_check_reports_writes_apart_and_never_into_the_folder(tmp_path, data, no_libreoffice, capsys):
    t = templates(data, tmp_path / "t")
    assert load_exchange_report_findings(config.REPORTS_DIR) is None
    assert exchange_report_findings_fingerprint(config.REPORTS_DIR) is None
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in t.iterdir()}
    assert cli.main(["check-reports", str(t), "--data", str(data)]) == 0
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in t.iterdir()} == digest
    out = config.REPORTS_DIR / "exchange_reports"
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", "findings_by_rule.csv", "practices_draft.csv",
                                                     "report_updates.csv", "reports.csv", "summary.json"]
    findings = load_exchange_report_findings(config.REPORTS_DIR)
    assert list(findings.columns) == ["rule_id", "severity", "subject_type", "subject_id", "exchange_id",
                                      "home_city", "period", "message", "value", "limit"]
    assert len(findings) == 2 * len(REQUIRED) and set(findings["rule_id"]) == {"section_empty"}
    assert exchange_report_findings_fingerprint(config.REPORTS_DIR) == \
        hashlib.sha256((out / "findings.csv").read_bytes()).hexdigest()[:16]
    # an unfilled template has no content of its own: nothing is suggested
    updates = pd.read_csv(out / "report_updates.csv", dtype="str", keep_default_na=False, encoding="utf-8-sig")
    assert (out / "findings.csv").read_bytes().startswith(b"\xef\xbb\xbfrule_id,")  # Excel reads UTF-8
    assert list(updates["update_needed"]) == ["no", "no"] and set(updates["report_pages_suggested"]) == {""}
    # a folder that would receive the outputs is refused
    capsys.readouterr()
    assert cli.main(["check-reports", str(config.REPORTS_DIR), "--data", str(data)]) == 2
    assert "reports are only read" in capsys.readouterr().err
    assert cli.main(["check-reports", str(tmp_path / "nothing"), "--data", str(data)]) == 2


def test_done_when_unfilled_templates_flag_only_empty_sections_and_filled_ones_nothing(tmp_path, no_libreoffice):
    """The issue's closing check on the bundled sample: every required section empty, and nothing else;
    after filling through the helper, no findings."""
    t = templates(config.SAMPLE_DATA_DIR, tmp_path / "templates")
    n = len(list(t.glob("*.docx")))
    assert n == len(load(config.SAMPLE_DATA_DIR).exchanges) > 20
    assert cli.main(["check-reports", str(t)]) == 0
    findings = load_exchange_report_findings(config.REPORTS_DIR)
    assert set(findings["rule_id"]) == {"section_empty"}
    assert sorted(zip(findings["subject_id"], findings["value"])) == sorted(
        (p.name, h) for p in t.glob("*.docx") for h in REQUIRED)
    filled = tmp_path / "filled"
    for p in sorted(t.glob("*.docx")):
        fill_report(p, filled / p.name)
    assert cli.main(["check-reports", str(filled)]) == 0
    assert load_exchange_report_findings(config.REPORTS_DIR).empty
    drafted = pd.read_csv(config.REPORTS_DIR / "exchange_reports" / "practices_draft.csv", dtype="str",
                          encoding="utf-8-sig")
    assert list(drafted.columns) == ["practice_id", "exchange_id", "title", "description", "theme", "phase",
                                     "transferability", "cluster_id", "source"]
    assert len(drafted) == 2 * n


# ------------------------------------------------------------------ LibreOffice
@LIBREOFFICE
def test_a_pdf_made_by_libreoffice_is_read_and_word_pages_are_laid_out(tmp_path, data):
    t = templates(data, tmp_path / "t", "X1")
    filled = fill_report(t / template_name("X1"), tmp_path / "filled" / template_name("X1"))
    pdf = pages.convert_to_pdf([filled], tmp_path / "pdf")[filled]
    assert pdf is not None
    real = pages.pdf_pages(pdf)
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(pdf, folder / "X1_report.pdf")
    result = check(folder, data)
    assert result.findings.empty, result.findings.to_dict("records")
    row = result.files.iloc[0]
    assert (row["format"], row["exchange_id"], row["pages"], row["pages_counted_by"], row["language"]) == \
        ("pdf", "X1", real, "PDF", "en")
    assert row["sections_found"] == len(HEADINGS)
    # the Word file itself: its pages are LibreOffice's layout, the same as the PDF's
    word = check(filled.parent, data)
    assert (word.files["pages"].iat[0], word.files["pages_counted_by"].iat[0]) == (real, "LibreOffice layout")


@LIBREOFFICE
def test_an_unfilled_template_as_pdf_has_only_empty_sections(tmp_path, data):
    t = templates(data, tmp_path / "t", "X1")
    pdf = pages.convert_to_pdf([t / template_name("X1")], tmp_path / "pdf")[t / template_name("X1")]
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(pdf, folder / "X1.pdf")
    result = check(folder, data)
    assert rules(result) == [("section_empty", "X1")] * len(REQUIRED)
    assert result.files["words_of_content"].iat[0] == 0


@LIBREOFFICE
def test_a_long_word_report_laid_out_by_libreoffice_is_too_long(tmp_path, data):
    t = templates(data, tmp_path / "t", "X1")
    fill_report(t / template_name("X1"), tmp_path / "in" / "X1.docx", extra_paragraphs=120)
    result = check(tmp_path / "in", data)
    assert rules(result) == [("report_too_long", "X1")]
    assert int(result.findings["value"].iat[0]) >= 10
    assert "(LibreOffice layout)" in result.findings["message"].iat[0]


def test_practice_fields_can_fill_exactly_the_practices_columns():
    from clusnet_analysis.ingest.schemas import Practices
    from clusnet_analysis.rules.report_structure import PRACTICE_COLUMNS

    assert ["practice_id", "exchange_id", *PRACTICE_COLUMNS] == list(Practices.to_schema().columns)


# ------------------------------------------------------------------ shown by clusnet run
def test_the_data_quality_report_shows_the_last_check_by_period(tmp_path):
    from clusnet_analysis import sections
    from clusnet_analysis.rules.catalogue import FINDING_COLUMNS

    reports = tmp_path / "reports"
    (reports / "exchange_reports").mkdir(parents=True)
    rows = [dict.fromkeys(FINDING_COLUMNS, "") for _ in range(3)]
    rows[0].update(rule_id="report_language", severity="warning", subject_id="exchange_report_X001.docx",
                   exchange_id="X001", home_city="LYO", period="S3", message="written in French")
    rows[1].update(rule_id="section_missing", severity="warning", subject_id="exchange_report_X022.docx",
                   exchange_id="X022", home_city="HEL", period="S5", message="Recommendations is missing")
    rows[2].update(rule_id="report_unmatched", severity="error", subject_id="notes.docx",
                   message="names no known exchange")
    pd.DataFrame(rows).to_csv(reports / "exchange_reports" / "findings.csv", index=False)

    def shown(period):
        view = sections.start(period, headline_path=str(reports / period / "01_data_quality.headline.json"))
        section = sections.build(view, "data_quality")
        return section, section.table("exchange_report_findings").frame

    s3, table = shown("S3")            # a semester shows its own records only, never a later visit
    assert table["exchange_id"].tolist() == ["X001"] and table["rule_id"].tolist() == ["Report language"]
    assert {k.id: k.value for k in s3.key_numbers}["exchange_report_findings"] == 1
    final, table = shown("final")      # the final report also lists the report that matched nothing
    assert table["exchange_id"].fillna("").tolist() == ["X001", "X022", ""]
    assert "gave 3 findings for this report's records" in " ".join(final.readings)

    # never checked: no table, and the page says so
    empty = sections.build(sections.start("S3", headline_path=str(tmp_path / "other" / "S3" / "h.json")),
                           "data_quality")
    assert "exchange_report_findings" not in [t.id for t in empty.tables]
    assert "have not been checked yet" in " ".join(empty.readings)
