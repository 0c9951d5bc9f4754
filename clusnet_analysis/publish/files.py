"""Writing outputs safely: readers never see half a file, and unchanged files are left alone.

Standard library only, so the batch runner's no-op check stays fast.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write beside the target, then rename: readers never see half a file."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_if_changed(path: str | Path, data: bytes | str) -> bool:
    """Atomic write, skipped when the bytes are already there (no-op rebuilds stay byte- and mtime-stable).

    Returns True when the file was (re)written.
    """
    data = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if Path(path).read_bytes() == data:
            return False
    except OSError:
        pass
    atomic_write_bytes(path, data)
    return True


def json_text(value: object) -> str:
    """Deterministic JSON: sorted keys, two-space indent, trailing newline."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2) + "\n"


# ---------------------------------------------------------------- files for spreadsheet users
# OWASP "CSV injection": a text cell starting with one of these is read by Excel, LibreOffice
# or Google Sheets as a formula (=HYPERLINK(...) sends data out, DDE runs programs).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = None  # compiled lazily: keeps this module's import cost at the standard library


def _is_plain_number(text: str) -> bool:
    """"-289.5", "+3", "1e6": a number literal a spreadsheet reads as that number, never a formula."""
    global _PLAIN_NUMBER
    if _PLAIN_NUMBER is None:
        import re

        _PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
    return _PLAIN_NUMBER.fullmatch(text) is not None


def spreadsheet_safe_text(value: object) -> object:
    """One cell: text that a spreadsheet would run as a formula gets a leading apostrophe.

    Anything that is not text (numbers, dates, missing values) is returned unchanged, and so
    is text that is a plain number ("-5" stays the number -5 when opened).
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _is_plain_number(value):
        return "'" + value
    return value


def spreadsheet_safe(df):
    """A copy of ``df`` whose text cells cannot run as formulas in a spreadsheet.

    Only text columns change; number columns keep their dtype and their values (negative
    numbers stay numbers). Column names are neutralised too: they become the header row.
    For files written for people to read (validation, quarantine, findings, table exports).
    Data files this project reads back (a collected data directory, drafted practices) must
    keep their values exactly: never pass those through here.
    """
    import numpy as np
    import pandas as pd

    out = df.copy()
    for position in range(out.shape[1]):
        series = out.iloc[:, position]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            continue
        if pd.api.types.is_bool_dtype(series):
            continue
        values = series.to_numpy(dtype=object, na_value=None)
        mask = np.fromiter((spreadsheet_safe_text(v) is not v for v in values), dtype=bool, count=len(values))
        if mask.any():
            values = values.copy()
            values[mask] = ["'" + v for v in values[mask]]
            keep = series.dtype if pd.api.types.is_string_dtype(series) and series.dtype != object else object
            out.isetitem(position, pd.Series(values, index=series.index, dtype=keep, name=series.name))
    out.columns = [spreadsheet_safe_text(c) for c in out.columns]
    if out.index.name is not None:
        out.index = out.index.rename(spreadsheet_safe_text(out.index.name))
    if out.index.dtype == object or str(out.index.dtype) == "str":
        out.index = out.index.map(spreadsheet_safe_text)
    return out


def csv_bytes_for_people(df, index: bool = False) -> bytes:
    """UTF-8 CSV text of ``df`` made spreadsheet-safe (see :func:`spreadsheet_safe`)."""
    # CRLF rows (RFC 4180): a cell holding a carriage return or a line feed is then quoted,
    # so it can never start a new row in the spreadsheet.
    return spreadsheet_safe(df).to_csv(index=index, lineterminator="\r\n").encode("utf-8")


def write_csv_for_people(path: str | Path, df, index: bool = False) -> Path:
    """Write a CSV a person will open in a spreadsheet: formula-safe, atomic, unchanged bytes kept."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_if_changed(path, csv_bytes_for_people(df, index=index))
    return path


def protect_worksheet(worksheet) -> int:
    """Make every text cell of an openpyxl worksheet a text cell, never a formula.

    openpyxl stores a string starting with "=" as a formula. Here such a cell (and any text
    starting with + - @ tab or CR) is written as text with Excel's "quote prefix" style, so it
    shows exactly as typed and never runs. Numbers are left alone. Returns the cells changed.
    Call it on every sheet of a workbook written for people (e.g. the final report's tables).
    """
    changed = 0
    for row in worksheet.iter_rows():
        for cell in row:
            value = cell.value
            if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _is_plain_number(value):
                cell.value = value
                cell.data_type = "s"
                cell.quotePrefix = True
                changed += 1
    return changed


def write_xlsx_for_people(path: str | Path, sheets) -> Path:
    """A workbook with one sheet per (name, DataFrame), every text cell formula-safe.

    Byte-identical for the same frames (fixed document timestamps), written atomically.
    """
    import datetime
    import io

    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, df in dict(sheets).items():
        sheet = book.create_sheet(title=str(name)[:31])
        sheet.append([str(c) for c in df.columns])
        for row in df.itertuples(index=False):
            sheet.append([None if _missing(v) else v for v in row])
        protect_worksheet(sheet)
    book.properties.created = datetime.datetime(2000, 1, 1)
    buffer = io.BytesIO()
    book.save(buffer)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_if_changed(path, _fixed_zip_times(buffer.getvalue()))
    return path


def _missing(value: object) -> bool:
    try:
        return value is None or bool(value != value)
    except (TypeError, ValueError):
        return False


def _fixed_zip_times(data: bytes) -> bytes:
    """Rewrite a zip (xlsx) with every member dated 1980-01-01: same content, same bytes."""
    import io
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the time of saving here
                import re

                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                 rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            target.writestr(fixed, content)
    return out.getvalue()
