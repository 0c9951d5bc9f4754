"""``clusnet report-template``: one pre-filled Word template (.docx) per exchange.

Each template holds the exchange's facts (officer pseudonym, home and host city, dates, reporting
period, agenda-sent date), the report rules in one short box, the structure's headings with their
guidance in grey italics, and one table per best practice listing the allowed values. The files
are deterministic: fixed document properties and fixed zip timestamps, so two builds from the same
data are byte-identical.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from clusnet_analysis.exchange_reports.common import (ALLOWED_HEADER, ENTRY_HEADER, FACTS_CAPTION,
                                                      OPTIONAL_NOTE, PRACTICE_CAPTION, REQUIRED_FIELD_NOTE,
                                                      RULES_CAPTION, Vocabulary, structure_of, vocabularies)
from clusnet_analysis.rules.report_structure import ReportStructure

# Document properties carry this fixed time (python-docx would write the current time).
FIXED_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)   # the earliest time a zip entry can carry
GUIDANCE_STYLE = "Guidance"
GREY = (0x59, 0x59, 0x59)
BOX_FILL = "E8EEF4"

# Names of the usual report languages, for the rules box (any other code is shown as it is).
LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
                  "nl": "Dutch", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "nb": "Norwegian",
                  "fi": "Finnish", "hu": "Hungarian", "pl": "Polish", "pt": "Portuguese", "cs": "Czech"}


def language_name(code: str | None) -> str:
    return LANGUAGE_NAMES.get(code or "", code or "any language")


def template_name(exchange_id: str) -> str:
    """File name of an exchange's template; the id in it lets ``check-reports`` match the report."""
    return f"exchange_report_{re.sub(r'[^A-Za-z0-9._-]', '_', exchange_id)}.docx"


def _date(value) -> str:
    return "not recorded" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def exchange_facts(row: dict, city_names: dict[str, str], programme) -> list[tuple[str, str]]:
    """The facts a template is pre-filled with, as (label, value) rows."""
    def city(code):
        if code is None or pd.isna(code):
            return "not recorded"
        return f"{city_names[code]} ({code})" if code in city_names else str(code)

    officer = row.get("officer_pseudonym")

    period = row.get("period")
    period_text = "none (outside the reporting periods)"
    if period is not None and not pd.isna(period):
        try:
            period_text = programme.period(period).label
        except KeyError:
            period_text = str(period)
    days = row.get("duration_days")
    visit = f"{_date(row['start_date'])} to {_date(row['end_date'])}"
    if days is not None and not pd.isna(days):
        visit += f" ({int(days)} day{'s' if int(days) != 1 else ''})"
    return [
        ("Exchange", str(row["exchange_id"])),
        ("Officer", "not recorded" if officer is None or pd.isna(officer) else str(officer)),
        ("Home city", city(row["home_city"])),
        ("Host city", city(row["host_city"])),
        ("Visit", visit),
        ("Reporting period", period_text),
        ("Final agenda sent to the coordinator", _date(row.get("agenda_sent_date"))),
    ]


def rules_lines(structure: ReportStructure, exchange_id: str) -> list[str]:
    lines = []
    if structure.max_pages:
        lines.append(f"At most {structure.max_pages} pages.")
    if structure.language:
        lines.append(f"Written in {language_name(structure.language)}.")
    lines.append(f"One report per exchange: keep the exchange id {exchange_id} in the file name.")
    lines.append("Keep the headings below, in this order; write under each one. "
                 "The grey guidance may stay or go.")
    if structure.practice_section is not None and structure.practice_fields:
        lines.append("One table per best practice, with the allowed values.")
    return lines


def _element(tag: str):
    from docx.oxml import OxmlElement

    return OxmlElement(tag)


def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _styles(doc) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt, RGBColor

    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    guidance = doc.styles.add_style(GUIDANCE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    guidance.base_style = normal
    guidance.font.italic = True
    guidance.font.color.rgb = RGBColor(*GREY)
    guidance.font.size = Pt(9.5)


def _widths(table, centimetres: tuple[float, ...]) -> None:
    """Fixed column widths (Word reads the cells' widths, LibreOffice the grid's)."""
    from docx.shared import Cm

    table.autofit = False
    for column, width in zip(table.columns, centimetres):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)


def _two_column_table(doc, rows: list[tuple[str, str]]):
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value
        cells[0].paragraphs[0].runs[0].bold = True
    _widths(table, (5.2, 10.0))
    return table


def _practice_table(doc, number: int, vocabs: tuple[Vocabulary, ...]):
    from docx.shared import Pt

    table = doc.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, (f"{PRACTICE_CAPTION} {number}", ENTRY_HEADER, ALLOWED_HEADER)):
        cell.text = text
        cell.paragraphs[0].runs[0].bold = True
        _shade(cell, BOX_FILL)
    for v in vocabs:
        cells = table.add_row().cells
        cells[0].text = v.field.label + (" *" if v.field.required else "")
        cells[0].paragraphs[0].runs[0].bold = True
        if v.field.guidance:
            cells[0].add_paragraph(v.field.guidance, style=GUIDANCE_STYLE)
        cells[2].text = v.describe()
        cells[2].paragraphs[0].runs[0].font.size = Pt(9)
    _widths(table, (3.9, 6.3, 5.0))
    for i, row in enumerate(table.rows):   # a practice's table is kept on one page when it fits
        row._tr.get_or_add_trPr().append(_element("w:cantSplit"))
        if i < len(table.rows) - 1:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True
    return table


def build_template(row: dict, city_names: dict[str, str], programme, model) -> bytes:
    """The .docx bytes of one exchange's template."""
    from docx import Document

    structure = structure_of(programme)
    vocabs = vocabularies(structure, programme, model)
    exchange_id = str(row["exchange_id"])
    doc = Document()
    _styles(doc)
    doc.add_paragraph(f"{structure.title}: exchange {exchange_id}", style="Title")
    if structure.audience:
        doc.add_paragraph(f"Written for: {structure.audience}.", style=GUIDANCE_STYLE)

    doc.add_paragraph().add_run(FACTS_CAPTION).bold = True
    _two_column_table(doc, exchange_facts(row, city_names, programme))
    doc.add_paragraph()
    box = doc.add_table(rows=1, cols=1)
    box.style = "Table Grid"
    cell = box.rows[0].cells[0]
    _shade(cell, BOX_FILL)
    cell.text = RULES_CAPTION
    cell.paragraphs[0].runs[0].bold = True
    for line in rules_lines(structure, exchange_id):
        cell.add_paragraph(line, style="List Bullet")

    for section in structure.sections:
        doc.add_heading(section.heading, level=1)
        if section.guidance:
            doc.add_paragraph(section.guidance + ("" if section.required else " " + OPTIONAL_NOTE),
                              style=GUIDANCE_STYLE)
        elif not section.required:
            doc.add_paragraph(OPTIONAL_NOTE, style=GUIDANCE_STYLE)
        if section.practices and vocabs:
            for i in range(1, structure.practice_tables + 1):
                _practice_table(doc, i, vocabs)
                doc.add_paragraph()
            doc.add_paragraph(REQUIRED_FIELD_NOTE, style=GUIDANCE_STYLE)

    props = doc.core_properties
    props.title = f"{structure.title}: exchange {exchange_id}"
    props.subject = programme.name
    props.author = programme.name
    props.last_modified_by = "clusnet_analysis"
    props.keywords = exchange_id
    props.comments = "Template written by clusnet report-template"
    props.category = "exchange report"
    props.created = props.modified = props.last_printed = FIXED_TIME
    props.revision = 1
    buffer = io.BytesIO()
    doc.save(buffer)
    return deterministic_zip(buffer.getvalue())


def deterministic_zip(data: bytes) -> bytes:
    """The same zip with every entry's timestamp and attributes fixed (entry order kept)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def write_templates(ds, out_dir: Path, exchange_ids: list[str] | None = None) -> list[Path]:
    """One template per exchange (all exchanges when ``exchange_ids`` is None) into ``out_dir``.

    Unchanged files are left alone. Raises KeyError naming the unknown exchange ids.
    """
    from clusnet_analysis.publish.files import write_if_changed

    view = ds.exchanges
    if exchange_ids is not None:
        unknown = [e for e in exchange_ids if e not in set(view["exchange_id"])]
        if unknown:
            raise KeyError(", ".join(unknown))
        view = view[view["exchange_id"].isin(exchange_ids)]
    cities = ds.tables["cities"]
    city_names = dict(zip(cities["city_id"], cities["name"]))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for row in view.sort_values("exchange_id").to_dict("records"):
        path = out_dir / template_name(str(row["exchange_id"]))
        write_if_changed(path, build_template(row, city_names, ds.programme, ds.model))
        written.append(path)
    return written
