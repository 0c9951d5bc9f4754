"""The author's tables: every table of a report as CSV and as one sheet of ``tables.xlsx``.

Both are written for spreadsheet users: human headers, numbers as numbers,
text that could run as a formula neutralised, a provenance line and the
synthetic-data banner in the workbook. Rebuilds from the same inputs give
byte-identical files (the workbook's timestamps are fixed).
"""
from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from clusnet_analysis.publish.files import write_if_changed
from clusnet_analysis.sections.base import Section, Table

# Excel's limits: a sheet name has at most 31 characters; a sheet at most 1,048,576 rows.
SHEET_NAME_CHARS = 31
MAX_SHEET_ROWS = 1_048_576 - 10
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FIXED_TIME = dt.datetime(2000, 1, 1)


def spreadsheet_safe_text(value):
    """A text cell that a spreadsheet would run as a formula gets a leading ``'`` (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def for_people(table: Table) -> pd.DataFrame:
    """The table with human headers, index as a first column, percentages as numbers 0–100."""
    frame = table.frame.copy()
    for column in table.percent_columns:
        if column in frame.columns:
            frame[column] = (100 * frame[column].astype("float64")).round(1)
    out = Table(table.id, table.title, frame, index=table.index).for_reader()
    out = out.reset_index() if table.index else out.reset_index(drop=True)
    out.columns = [str(c) for c in out.columns]
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(2)
        elif out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(spreadsheet_safe_text)
    return out


def csv_name(table: Table, prefix: str = "") -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", f"{prefix}{table.id}").strip("_")
    return f"{stem}.csv"


def write_table_csv(table: Table, folder: str | Path, prefix: str = "") -> Path:
    """The whole table as CSV (UTF-8 with BOM, which Excel needs to show accented letters)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / csv_name(table, prefix)
    text = for_people(table).to_csv(index=False, lineterminator="\r\n", date_format="%Y-%m-%d")
    write_if_changed(path, ("\ufeff" + text).encode("utf-8"))
    return path


def _sheet_name(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:SHEET_NAME_CHARS] or "Table"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" {n}"
        name, n = base[: SHEET_NAME_CHARS - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def write_workbook(sections: Iterable[Section], path: str | Path, provenance: str,
                   banners: list[str], extra: Iterable[Table] = ()) -> Path:
    """One sheet per table (contents sheet first); a table too long for a sheet says so and lives in its CSV."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    path = Path(path)
    wb = Workbook()
    contents = wb.active
    contents.title = "Contents"
    contents.append(["Tables of the report"])
    contents["A1"].font = Font(bold=True, size=14)
    for line in banners:
        contents.append([line])
        contents.cell(contents.max_row, 1).font = Font(bold=True, color="9C2A00")
    contents.append([provenance])
    contents.append([])
    contents.append(["Sheet", "Table", "Rows", "Note"])
    for cell in contents[contents.max_row]:
        cell.font = Font(bold=True)
    used = {"contents"}
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    tables = [(s.title, t) for s in sections for t in s.tables] + [("", t) for t in extra]
    for area, table in tables:
        frame = for_people(table)
        sheet_name = _sheet_name(table.title, used)
        ws = wb.create_sheet(sheet_name)
        ws.append([table.title])
        ws["A1"].font = Font(bold=True, size=12)
        ws.append([provenance])
        for line in banners:
            ws.append([line])
            ws.cell(ws.max_row, 1).font = Font(bold=True, color="9C2A00")
        note = table.note
        if len(frame) > MAX_SHEET_ROWS:
            note = (f"{len(frame):,} rows: too many for one sheet. The whole table is in "
                    f"{csv_name(table)} beside this workbook. ") + note
            frame = frame.head(0)
        if note:
            ws.append([note])
            ws.cell(ws.max_row, 1).alignment = Alignment(wrap_text=False)
        ws.append(list(frame.columns))
        header_row = ws.max_row
        for cell in ws[header_row]:
            cell.font, cell.fill = bold, fill
        for row in frame.itertuples(index=False):
            ws.append([_excel_value(v) for v in row])
        for idx, column in enumerate(frame.columns, start=1):
            fmt = _number_format(str(column), frame[column])
            width = min(60, max(10, len(str(column)) + 2))
            ws.column_dimensions[ws.cell(header_row, idx).column_letter].width = width
            if fmt:
                for r in range(header_row + 1, ws.max_row + 1):
                    ws.cell(r, idx).number_format = fmt
        ws.freeze_panes = ws.cell(header_row + 1, 1)
        contents.append([sheet_name, table.title, len(table.frame), table.note])
    contents.column_dimensions["A"].width = 32
    contents.column_dimensions["B"].width = 60
    wb.properties.creator = "clusnet_analysis"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    wb.save(buffer)
    write_if_changed(path, _fixed_zip(buffer.getvalue()))
    return path


def _excel_value(value):
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().date()
    if hasattr(value, "item"):
        return value.item()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _number_format(header: str, column: pd.Series) -> str | None:
    if "(EUR)" in header:
        return "#,##0.00"
    if "%" in header:
        return "0.0"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "yyyy-mm-dd"
    if pd.api.types.is_integer_dtype(column):
        return "#,##0"
    if pd.api.types.is_float_dtype(column):
        return "#,##0.00"
    return None


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite the xlsx zip with fixed entry timestamps and order: identical inputs, identical bytes."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps "modified" with the time of saving, whatever the workbook says
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                 rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            target.writestr(fixed, content)
    return out.getvalue()
