"""``clusnet workbook``: the data-collection workbook, made from the schemas and the programme file.

Sheets: "Read me" (what to fill in, in which order, the programme's rules in
plain words, whom to send it to, and the version stamp), one sheet per table of
the contract (frozen, locked header row with a note on every column; dropdowns
and checks from :mod:`clusnet_analysis.collect.spec`; formatted data columns left
open, and the columns to their right too, so users may add their own), and
reference sheets (partner cities and currencies, the cluster model's criteria).

The same builder writes the correction workbooks of ``clusnet validate
--workbooks`` (rows filled in, plus a "Findings" sheet). Saving is byte-stable:
the document's timestamps and the zip entries' dates are fixed.
"""
from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.datavalidation import DataValidation

from clusnet_analysis import __version__
from clusnet_analysis.collect import spec
from clusnet_analysis.rules.programme import ClusterModel, Programme

LAST_ROW = 1048576          # Excel's last row: checks and formats cover the whole column
LIST_ROWS = 5000            # rows of another sheet a reference dropdown offers
FIXED_TIME = dt.datetime(2000, 1, 1)   # document timestamps: rebuilds are byte-identical
CITIES_SHEET, CRITERIA_SHEET, LISTS_SHEET = "Partner cities", "Cluster criteria", "Lists"

HEADER_FILL = {True: PatternFill("solid", fgColor="1F4E79"), False: PatternFill("solid", fgColor="BDD7EE")}
HEADER_FONT = {True: Font(bold=True, color="FFFFFF"), False: Font(bold=True, color="1F1F1F")}
TITLE_FONT, SECTION_FONT = Font(bold=True, size=14), Font(bold=True, size=11, color="1F4E79")
WRAP = Alignment(wrap_text=True, vertical="top")
CENTRE = Alignment(horizontal="center")
CENTRED = {"date", "month", "integer", "number"}
OPEN = Protection(locked=False)
WIDE_COLUMNS = {"name", "title", "description", "evidence", "role", "sector", "assessor"}


def _width(column: spec.Column) -> float:
    if column.name in WIDE_COLUMNS:
        return 32
    return max(len(column.name) + 3, 13)


def _protect(ws) -> None:
    """Locked cells stay locked; rows may be added, deleted, sorted and filtered (no password)."""
    p = ws.protection
    p.sheet = True
    p.insertRows = p.deleteRows = p.formatColumns = p.formatRows = p.sort = p.autoFilter = False


def _print_setup(ws, landscape: bool = True, repeat_header: bool = False) -> None:
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if repeat_header:
        ws.print_title_rows = "1:1"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _Lists:
    """The hidden sheet that holds every fixed dropdown list, one column each."""

    def __init__(self, wb: Workbook):
        self.ws = wb.create_sheet(LISTS_SHEET)
        self.ws.sheet_state = "hidden"
        self.ranges: dict[tuple, str] = {}

    def range_for(self, name: str, values: tuple) -> str:
        key = tuple(values)
        if key not in self.ranges:
            col = len(self.ranges) + 1
            letter = get_column_letter(col)
            self.ws.cell(1, col, name)
            for i, v in enumerate(values, start=2):
                cell = self.ws.cell(i, col, v)
                if isinstance(v, str):
                    cell.number_format = "@"   # "2009-07" stays text when picked
            self.ranges[key] = f"'{LISTS_SHEET}'!${letter}$2:${letter}${len(values) + 1}"
        return self.ranges[key]


def _validation(column: spec.Column, letter: str, lists: _Lists, id_letters: dict[str, str]) -> DataValidation:
    c = column.check
    kw = dict(allow_blank=True, showErrorMessage=True, showInputMessage=True, errorStyle=c.style,
              errorTitle=_short(f"{column.label}: " + ("not allowed" if c.style == "stop" else "please check"), 32),
              error=_short(c.message, 225), promptTitle=_short(column.label, 32),
              prompt=_short(f"{column.meaning}." + (f" Allowed: {column.allowed}." if column.allowed else ""), 255))
    if c.kind == "list":
        if c.source:
            parent, parent_col = c.source.split(".")
            col = id_letters[c.source]
            formula = f"'{parent}'!${col}$2:${col}${LIST_ROWS}"
        else:
            formula = lists.range_for(f"{column.table}.{column.name}", c.values)
        dv = DataValidation(type="list", formula1=formula, **kw)
    elif c.kind == "date":
        dv = DataValidation(type="date", operator="between", formula1=str(int(to_excel(c.low))),
                            formula2=str(int(to_excel(c.high))), **kw)
    elif c.kind == "length":
        dv = DataValidation(type="textLength", operator="equal", formula1=str(c.low), **kw)
    else:   # decimal / whole
        if c.low is not None and c.high is not None:
            dv = DataValidation(type=c.kind, operator="between", formula1=str(c.low), formula2=str(c.high), **kw)
        elif c.low is not None:
            operator = "greaterThanOrEqual" if "or more" in column.allowed else "greaterThan"
            dv = DataValidation(type=c.kind, operator=operator, formula1=str(c.low), **kw)
        else:
            dv = DataValidation(type=c.kind, operator="lessThanOrEqual", formula1=str(c.high), **kw)
    dv.add(f"{letter}2:{letter}{LAST_ROW}")
    return dv


def _cell_value(value, kind: str):
    """Text from the data as a typed cell: dates as dates, numbers as numbers; anything else stays text."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value)
    try:
        if kind == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}( 00:00:00)?", text):
            return dt.date.fromisoformat(text[:10])
        if kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?([eE][+-]?\d+)?", text):
            return float(text)
        if kind == "integer" and re.fullmatch(r"-?\d+(\.0+)?", text):
            return int(float(text))
    except ValueError:
        pass
    return text


def _put(ws, row: int, col: int, value, style: tuple[str, bool] | None = None) -> None:
    cell = ws.cell(row, col)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"    # "=1+1" from the data is text, never a formula
    if style:
        cell.number_format = style[0]
        if style[1]:
            cell.alignment = CENTRE
    cell.protection = OPEN


def _table_sheet(wb: Workbook, table: str, columns: list[spec.Column], lists: _Lists, id_letters: dict[str, str],
                 rows: pd.DataFrame | None) -> None:
    ws = wb.create_sheet(table)
    ws.freeze_panes = "A2"
    formats = {}
    for i, column in enumerate(columns, start=1):
        letter = get_column_letter(i)
        cell = ws.cell(1, i, column.name)
        cell.font, cell.fill = HEADER_FONT[column.required], HEADER_FILL[column.required]
        cell.comment = Comment(column.note, "clusnet workbook", width=320, height=170)
        dim = ws.column_dimensions[letter]
        dim.width = _width(column)
        fmt = spec.AMOUNT_FORMAT if column.name == "amount" else spec.NUMBER_FORMATS[column.kind]
        dim.number_format, dim.protection = fmt, OPEN
        centred = column.kind in CENTRED and column.name != "amount"   # amounts keep their decimals aligned
        if centred:   # a right-aligned date or count runs into the text of the next column
            dim.alignment = CENTRE
        formats[column.name] = (fmt, centred)
        if column.check is not None:
            ws.add_data_validation(_validation(column, letter, lists, id_letters))
    # The columns to the right are the users' own: open, and wide enough to read.
    right = ws.column_dimensions[get_column_letter(len(columns) + 1)]
    right.min, right.max, right.width, right.protection = len(columns) + 1, 16384, 16, OPEN
    if rows is not None and len(rows):
        names = [c.name for c in columns]
        extras = [c for c in rows.columns if c not in names]
        for j, name in enumerate(extras, start=len(columns) + 1):
            _put(ws, 1, j, name)
            ws.cell(1, j).font = Font(bold=True, color="9C0006" if name in ("problems", "findings") else "000000")
        kinds = {c.name: c.kind for c in columns}
        for r, record in enumerate(rows.itertuples(index=False), start=2):
            for j, (name, value) in enumerate(zip(rows.columns, record)):
                col = names.index(name) + 1 if name in names else len(columns) + 1 + extras.index(name)
                _put(ws, r, col, _cell_value(value, kinds.get(name, "text")), formats.get(name))
    _print_setup(ws, repeat_header=True)
    _protect(ws)


def _sheet_rows(ws, rows: list[tuple], widths: tuple[float, ...], header_row: int | None = None,
                start: int = 1) -> int:
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    r = start
    for r, values in enumerate(rows, start=start):
        lines = 1
        for j, value in enumerate(values, start=1):
            cell = ws.cell(r, j, value)
            if isinstance(value, str):
                cell.data_type = "s"
            if len(values) > 1:   # a lone heading overflows to the right instead of wrapping
                cell.alignment = WRAP
                lines = max(lines, math.ceil(len(str(value or "")) * 1.1 / widths[min(j, len(widths)) - 1]))
            if header_row is not None and r == header_row:
                cell.font, cell.fill = HEADER_FONT[True], HEADER_FILL[True]
        if lines > 1:   # spreadsheet programs do not grow a row for wrapped text written by a library
            ws.row_dimensions[r].height = 15 * lines
    return r


def _rules_in_words(programme: Programme, model: ClusterModel) -> list[str]:
    p = programme
    periods = "; ".join(f"{x.label} = {x.start} to {x.end}" for x in p.periods)
    reference = ", ".join(f"{k.replace('_', ' ')} {v:,.0f}" for k, v in p.reference_eur.items() if v)
    return [
        f"Partner cities: {', '.join(p.partner_cities)}. A visit to or from another city is kept, "
        "and listed as a finding.",
        f"Each partner city registers at most {p.officers_per_city} officers, employed by an eligible employer "
        f"({', '.join(p.eligible_employer_types)}).",
        f"At most {p.max_concurrent_per_city} officer of a city away at the same time.",
        f"Visits take place between {p.window_start} and {p.window_end}; reporting periods: {periods}.",
        f"A visit lasts {p.visit_days} days, first and last day included.",
        f"At most {p.cap_eur:,.0f} {p.currency} per exchange, all costs together"
        + (f" (reference costs: {reference} {p.currency})." if reference else "."),
        "Expenses are entered in the currency paid; they are converted at the exchange rate of the month the "
        "visit starts (fx_rates sheet).",
        ("The final agenda is sent to the coordinator before the visit. " if p.agenda_before_visit else "")
        + f"The visit report has at most {p.report_max_pages} pages, in '{p.report_language}'.",
        f"Best-practice themes: {', '.join(p.themes)}. Cluster phases: {', '.join(model.phase_ids)}; "
        f"a phase counts as done when {p.phase_threshold:.0%} of its result criteria are met.",
        "Drafts (status draft) are listed, but left out of every total.",
    ]


def stamp_values(programme: Programme, kind: str, city: str | None) -> dict[str, str]:
    return {"format": spec.TEMPLATE_FORMAT, "programme": programme.id,
            "version": spec.programme_hash(programme), "kind": kind, "city": city or "all cities"}


def _read_me(wb: Workbook, programme: Programme, model: ClusterModel, kind: str, city: str | None,
             intro: list[str]) -> None:
    ws = wb.active
    ws.title = spec.STAMP_SHEET
    send_to, _ = spec.collection_settings(programme)
    title = f"{programme.name}: " + ("corrections" if kind == spec.KIND_CORRECTION else "data collection")
    rows: list[tuple] = [(title,), ()]
    rows += [(intro_line,) for intro_line in intro]
    rows += [(), ("What to fill in, in this order",)]
    for table in spec.tables():
        rows.append((table, spec.table_note(table)))
    rows += [(), ("How to fill it in",)]
    rows += [("", line) for line in (
        "One row per record, below the header row. Point at a header to read what the column means, "
        "its format, whether it is required and its allowed values.",
        "Dark headers are required columns, light headers optional ones. Header cells are locked; "
        "you may add your own columns to the right of the last one.",
        "Codes come from dropdowns. A code outside the contract is refused (stop). A value that breaks a "
        "programme rule, such as a date outside the window or a host that is not a partner city, "
        "only warns: keep it if it is true, because it is listed for the auditor as a finding.",
        "Dates are date cells (YYYY-MM-DD); amounts are numbers of 0 or more, in the currency paid.",
        "Officer names are personal data: they are used to check the records, and never shown in reports.",
        "Do not rename the sheets or the header cells, and keep this Read me sheet: it tells "
        "`clusnet collect` which programme the workbook belongs to.")]
    rows += [(), ("Rules of the programme",)]
    rows += [("", line) for line in _rules_in_words(programme, model)]
    rows += [(), ("Send it to",), ("", f"Save the workbook as .xlsx and send it to {send_to}.")]
    rows += [(), ("Version stamp",)]
    stamp = stamp_values(programme, kind, city)
    rows += [(spec.STAMP_LABELS[k], v) for k, v in stamp.items()]
    rows += [("Made by", f"clusnet_analysis {__version__}")]
    last = _sheet_rows(ws, rows, (26, 110))
    ws["A1"].font = TITLE_FONT
    for r in range(1, last + 1):
        a = ws.cell(r, 1)
        if a.value and ws.cell(r, 2).value is None and r > 1:
            a.font = SECTION_FONT
        elif a.value and r > 1:
            a.font = Font(bold=True)
    _print_setup(ws, landscape=False)
    _protect(ws)


def _reference_sheets(wb: Workbook, programme: Programme, model: ClusterModel) -> None:
    _, cities = spec.collection_settings(programme)
    ws = wb.create_sheet(CITIES_SHEET)
    rows = [("city", "name", "country", "currency")]
    rows += [(c, d["name"], d["country"], d["currency"]) for c, d in cities.items()]
    rows += [(), ("currency", "used by", "exchange rate needed")]
    for cur in spec.currencies(programme):
        users = ", ".join(c for c, d in cities.items() if d["currency"] == cur)
        rows.append((cur, users or "", "no: the programme's currency" if cur == programme.currency
                     else "yes: one row per month in the fx_rates sheet"))
    last = _sheet_rows(ws, rows, (12, 22, 30, 44), header_row=1)
    for r in range(1, last + 1):
        if ws.cell(r, 1).value == "currency":
            for j in range(1, 4):
                ws.cell(r, j).font, ws.cell(r, j).fill = HEADER_FONT[True], HEADER_FILL[True]
    _print_setup(ws, landscape=False)
    _protect(ws)

    ws = wb.create_sheet(CRITERIA_SHEET)
    rows = [("phase", "criterion", "result that shows the phase is done")]
    for phase in model.phases:
        rows += [(f"{phase.order}. {phase.name}", c.id, c.text) for c in phase.results]
    _sheet_rows(ws, rows, (20, 11, 100), header_row=1)
    ws.freeze_panes = "A2"
    _print_setup(ws, repeat_header=True)
    _protect(ws)


def build_workbook(programme: Programme, model: ClusterModel, *, city: str | None = None,
                   kind: str = spec.KIND_TEMPLATE, rows: dict[str, pd.DataFrame] | None = None,
                   intro: list[str] | None = None, before_tables: list[tuple[str, pd.DataFrame]] = ()) -> Workbook:
    """The workbook, in memory. ``rows`` pre-fills tables; ``before_tables`` adds read-only sheets."""
    wb = Workbook()
    wb.properties.creator = wb.properties.lastModifiedBy = f"clusnet_analysis {__version__}"
    wb.properties.title = f"{programme.name}: data collection"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    if intro is None:
        intro = ["Fill in one sheet per table (the sheets named like the tables below) and send the workbook back."]
        if city:
            intro.append(f"Prepared for city {city}: its row in the cities sheet and its officer rows are started; "
                         "fill in the officers' names and the rest.")
    _read_me(wb, programme, model, kind, city, intro)
    for name, frame in before_tables:
        ws = wb.create_sheet(name)
        _sheet_rows(ws, [tuple(frame.columns)] + [tuple("" if pd.isna(v) else str(v) for v in r)
                                                  for r in frame.itertuples(index=False)],
                    tuple(min(50, max([12, len(str(c)) + 4] + [len(str(v)) + 2 for v in frame[c].head(200)]))
                          for c in frame.columns), header_row=1)
        ws.freeze_panes = "A2"
        _print_setup(ws, repeat_header=True)
        _protect(ws)
    table_columns = {t: spec.columns(t, programme, model) for t in spec.tables()}
    id_letters = {f"{t}.{c.name}": get_column_letter(i) for t, cols in table_columns.items()
                  for i, c in enumerate(cols, start=1)}
    lists = _Lists(wb)
    if rows is None and city and kind == spec.KIND_TEMPLATE:
        rows = prefilled_rows(programme, city)
    rows = dict(rows or {})
    for table, cols in table_columns.items():
        _table_sheet(wb, table, cols, lists, id_letters, rows.get(table))
    _reference_sheets(wb, programme, model)
    _protect(lists.ws)
    wb.move_sheet(LISTS_SHEET, offset=len(wb.sheetnames))
    return wb


def prefilled_rows(programme: Programme, city: str) -> dict[str, pd.DataFrame]:
    """A city's own row in cities, and its officer rows with empty names."""
    _, cities = spec.collection_settings(programme)
    info = cities.get(city, {})
    employer = programme.eligible_employer_types[0] if programme.eligible_employer_types else None
    return {
        "cities": pd.DataFrame([{"city_id": city, "name": info.get("name") or None,
                                 "country": info.get("country") or None, "currency": info.get("currency") or None}]),
        "officers": pd.DataFrame([{"officer_id": f"{city}-O{i}", "home_city": city, "employer_type": employer,
                                   "name": None} for i in range(1, programme.officers_per_city + 1)]),
    }


def workbook_bytes(wb: Workbook) -> bytes:
    """The .xlsx file, byte-identical for the same workbook: fixed document times and zip entry dates."""
    raw = io.BytesIO()
    wb.save(raw)
    out = io.BytesIO()
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":   # openpyxl sets "modified" to the time of saving
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                              lambda m: m.group(1) + stamp.encode() + m.group(2), data)
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            dst.writestr(entry, data)
    return out.getvalue()


def write_workbook(path: str | Path, wb: Workbook) -> Path:
    from clusnet_analysis.publish.files import write_if_changed

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_if_changed(path, workbook_bytes(wb))
    return path


