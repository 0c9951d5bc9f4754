"""Reading what city administrations actually send.

CSV exported from Excel in many countries (``;`` or ``,`` separators, UTF-8 with
or without BOM, cp1252/cp1250/latin-1, surrounding whitespace, empty rows) or
one ``.xlsx`` workbook with one sheet per table. Everything is read as text;
typing happens in :mod:`clusnet_analysis.parsing`, driven by the schemas, so a
bad cell becomes an error row instead of a crash.

Each frame's index is the row number as the user sees it in their spreadsheet
(header = row 1, first data row = row 2).
"""
from __future__ import annotations

import codecs
import csv
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from clusnet_analysis.ingest.errors import InputError  # noqa: F401 (re-exported)
from clusnet_analysis.ingest.tables import REQUIRED_TABLES, TABLES  # noqa: F401 (re-exported)

# Encodings tried when a file is not UTF-8: Western and Central European Excel defaults.
LEGACY_ENCODINGS = ("cp1252", "cp1250")


@dataclass
class RawTable:
    name: str
    label: str                 # what the user calls the file: "exchanges.csv" or "data.xlsx [exchanges]"
    frame: pd.DataFrame        # all text, NaN for empty cells, index = spreadsheet row number
    encoding: str | None = None
    separator: str | None = None


def normalise_column(name: object) -> str:
    return str(name).replace("\ufeff", "").strip().lower().replace(" ", "_").replace("-", "_")


def detect_encoding(data: bytes, head_only: bool = True) -> str:
    """BOM first, then UTF-8 (checked on the head; the CSV reader checks the rest), then legacy."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[: 1 << 20] if head_only else data
    try:
        # A head may end inside a multi-byte letter: only a complete file must end cleanly.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=not head_only)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    return _legacy_encoding(data)


# Letters of Western and Central European languages (fr, es, ca, de, sv, fi, hu, nl, en…).
_EUROPEAN_LETTERS = frozenset("áàâäåçéèêëíìîïñóòôöőúùûüűßœÁÀÂÄÅÇÉÈÊËÍÌÎÏÑÓÒÔÖŐÚÙÛÜŰŒ")


def _legacy_encoding(data: bytes) -> str:
    """cp1252 (Western Excel) or cp1250 (Central European Excel) for a non-UTF-8 export.

    Both read ä ö ü ß é alike but differ elsewhere: byte 0xE5 is Swedish "å" in
    cp1252 and "ĺ" in cp1250, 0xF5 is "õ" in cp1252 and Hungarian "ő" in cp1250.
    The code page under which more high bytes become letters of these
    languages wins; a tie (or cp1250 unable to decode) keeps cp1252. A general
    detector (charset-normalizer) scored both equal and picked cp1250, turning
    "Åsa" into "Ĺsa" and "Lefèvre" into "Lefčvre".
    """
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    scores = {}
    for enc in ("cp1252", "cp1250"):
        score = 0
        for byte in np.flatnonzero(counts[0x80:]) + 0x80:
            try:
                char = bytes([int(byte)]).decode(enc)
            except UnicodeDecodeError:
                score = None  # a byte this code page does not define: not this one
                break
            score += int(counts[byte]) if char in _EUROPEAN_LETTERS else 0
        scores[enc] = score
    if scores["cp1250"] is not None and (scores["cp1252"] is None or scores["cp1250"] > scores["cp1252"]):
        return "cp1250"
    return "cp1252"  # also for bytes neither defines: the reader then reports an unreadable file


def sniff_separator(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t", "|")}
    sep, n = max(counts.items(), key=lambda kv: kv[1])
    return sep if n > 0 else ","


# Bytes a cell can start or end with when it has spaces to trim: ASCII whitespace, and any byte
# of a multi-byte character (every other Unicode space, U+00A0 to U+3000, is one).
_EDGE_BYTES = np.zeros(256, dtype=bool)
_EDGE_BYTES[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20]] = True
_EDGE_BYTES[0x80:] = True


def _may_have_edge_spaces(chunk: pa.Array) -> bool:
    """False when no cell of a text chunk starts or ends with a byte that can begin or end a space.

    Reads only each cell's first and last byte, from Arrow's buffers: ids, codes, numbers and
    dates (most columns) are then never trimmed and compared, which was a sixth of reading a
    million exchanges. A cell ending in an accented letter still goes through the full trim.
    """
    if chunk.type != pa.large_string() or len(chunk) == 0:
        return True
    _, offsets_buf, data_buf = chunk.buffers()
    if data_buf is None or data_buf.size == 0:
        return False
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[chunk.offset: chunk.offset + len(chunk) + 1]
    starts, ends = offsets[:-1], offsets[1:]
    filled = ends > starts
    if not filled.all():
        starts, ends = starts[filled], ends[filled]
    data = np.frombuffer(data_buf, dtype=np.uint8)
    return bool(_EDGE_BYTES[data[starts]].any() or _EDGE_BYTES[data[ends - 1]].any())


def _clean_chunk(chunk: pa.Array) -> pa.Array:
    """One chunk of a text column, trimmed, with cells of only spaces missing.

    A chunk that needs neither is returned as it is: its trimmed copy is thrown away
    while it is small, so a clean file is held once, not twice.
    """
    if _may_have_edge_spaces(chunk):
        trimmed = pc.utf8_trim_whitespace(chunk)
        if not trimmed.equals(chunk):
            chunk = trimmed
    # binary_length reads only the offsets: cheap. The reader already made "" missing,
    # so an empty string now can only be a cell of spaces.
    if len(chunk) and pc.min(pc.binary_length(chunk)).as_py() == 0:
        chunk = pc.if_else(pc.equal(chunk, ""), pa.scalar(None, chunk.type), chunk)
    return chunk


def _clean_arrow(table: pa.Table, first_row: int) -> pd.DataFrame:
    """Trim whitespace, turn empty cells into NaN, drop empty rows, number rows as Excel does."""
    return _clean_columns(table.columns, table.column_names, table.num_rows, first_row)


def _clean_columns(columns: list[pa.ChunkedArray], column_names: list[str], n_rows: int,
                   first_row: int) -> pd.DataFrame:
    """:func:`_clean_arrow` on a table's columns, taken out of ``columns`` one at a time.

    When the caller keeps no other reference to the table, each raw column is freed once
    its clean copy exists, so a large file is not held twice.
    """
    # A header cell left empty gets a unique name, so it can be dropped below when empty.
    names = [normalise_column(c) or f"unnamed:_{i}" for i, c in enumerate(column_names)]
    cleaned = []
    keep = None
    columns.reverse()
    while columns:
        col = columns.pop()
        # Text as pandas 3 holds it (large_string), so handing the columns over copies nothing.
        col = col.cast(pa.large_string()) if col.type != pa.large_string() else col
        # One chunk per column: pandas selects rows (filters, drops) with Arrow's take, which
        # on a chunked text column first joins every chunk: a full copy each time. Joining
        # once here, column by column, is cheaper than joining at every later selection.
        chunks = [_clean_chunk(c) for c in col.chunks]
        col = pa.chunked_array([pa.concat_arrays(chunks)] if len(chunks) > 1 else chunks, type=col.type)
        del chunks
        cleaned.append(col)
        valid = pc.is_valid(col)
        keep = valid if keep is None else pc.or_(keep, valid)
        del col
    if keep is None:
        return pd.DataFrame(columns=names)
    row_numbers = np.arange(first_row, first_row + n_rows, dtype=np.int64)
    out = pa.table(cleaned, names=names)
    del cleaned
    if not pc.all(keep).as_py():
        mask = keep.to_numpy(zero_copy_only=False) if hasattr(keep, "to_numpy") else np.asarray(keep)
        out = out.filter(keep)
        row_numbers = row_numbers[mask]
    df = out.to_pandas()
    df.index = pd.Index(row_numbers, name="row")
    df = df.astype({c: "str" for c in df.columns})
    # Unnamed trailing columns from Excel ("unnamed:_7", "") carry nothing.
    junk = [c for c in df.columns if (c.startswith("unnamed:") or c == "") and df[c].isna().all()]
    return df.drop(columns=junk)


def _clean_text_frame(df: pd.DataFrame, first_row: int) -> pd.DataFrame:
    table = pa.Table.from_pandas(df.astype("str").where(df.notna()), preserve_index=False)
    return _clean_arrow(table, first_row)


def _head(path: Path) -> bytes:
    """The file's first MiB: enough to tell its encoding and separator."""
    with open(path, "rb") as fh:
        return fh.read(1 << 20)


def read_csv_table(path: Path, name: str | None = None) -> RawTable:
    path = Path(path)
    name = name or path.stem.lower()
    try:
        head = _head(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror})") from exc
    if not head[:65536].strip():
        return RawTable(name, path.name, pd.DataFrame(), None, None)
    encoding = detect_encoding(head, head_only=len(head) < path.stat().st_size)
    try:
        try:
            raw = _parse_csv(path, head, name, encoding)
        except pa.ArrowInvalid as exc:
            if not (encoding == "utf-8" and "UTF8" in str(exc)):
                raise
            # Valid UTF-8 at the top, not further down: a legacy export after all.
            raw = _parse_csv(path, head, name, detect_encoding(path.read_bytes(), head_only=False))
    except pa.ArrowInvalid as exc:
        raise InputError(f"{path}: not a readable CSV file ({str(exc).splitlines()[0]})") from exc
    _require_unique_columns(raw.frame, path)
    return raw


def _require_unique_columns(frame: pd.DataFrame, where) -> None:
    """Two columns that mean the same ("Amount" and "amount "): which one to trust is the user's call."""
    dup = frame.columns[frame.columns.duplicated()].unique().tolist()
    if dup:
        raise InputError(f"{where}: column(s) {', '.join(dup)} appear more than once; keep one of each")


def _parse_csv(path: Path, head: bytes, name: str, encoding: str) -> RawTable:
    """Fast Arrow reader straight from the file; the exact pandas reader for short rows.

    Arrow keeps blank lines as rows of empty cells (``ignore_empty_lines=False``) and reads a
    quoted cell over several lines as one cell, so its row n is the spreadsheet's row n + 1
    (after the header), as with the exact reader; the empty rows are dropped after numbering.
    """
    text_head = head[:65536].decode(encoding, errors="replace").lstrip("\ufeff")
    header_line = text_head.splitlines()[0] if text_head else ""
    sep = sniff_separator(header_line)
    columns = next(csv.reader([header_line], delimiter=sep))
    try:
        table = None
        if encoding != "utf-16":
            try:
                table = pacsv.read_csv(
                    str(path),
                    read_options=pacsv.ReadOptions(encoding="utf8" if encoding.startswith("utf-8") else encoding,
                                                   use_threads=True, block_size=1 << 24),
                    parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True, ignore_empty_lines=False),
                    convert_options=pacsv.ConvertOptions(
                        column_types={c: pa.large_string() for c in columns}, strings_can_be_null=True,
                    null_values=[""], quoted_strings_can_be_null=True),
                )
            except pa.ArrowInvalid as exc:
                short = re.search(r"Expected (\d+) columns, got (\d+)", str(exc))
                if not short or int(short.group(2)) > int(short.group(1)):
                    raise  # bad bytes or a row with more cells than the header: unusable
                # A row with fewer cells than the header (a line of spaces, a short row):
                # the exact reader below fills the missing cells with empty ones.
                table = None
        if table is not None:
            columns, names, n_rows = table.columns, table.column_names, table.num_rows
            del table   # _clean_columns lets each raw column go once it is cleaned
            return RawTable(name, path.name, _clean_columns(columns, names, n_rows, first_row=2), encoding, sep)
        with warnings.catch_warnings():
            # index_col=False: never take extra cells as an index; a row with more
            # cells than the header is then a ParserWarning, made an error here.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                             encoding=encoding, skip_blank_lines=False, engine="c", index_col=False)
        return RawTable(name, path.name, _clean_text_frame(df, first_row=2), encoding, sep)
    except pa.ArrowInvalid:
        raise
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({str(exc).splitlines()[0]})") from exc


# A workbook is a zip of XML files. Limits on what it may unpack to, checked on the zip's
# own directory before openpyxl reads a byte: a small file that would inflate to gigabytes
# (a "zip bomb") is refused instead of exhausting memory. A million-row programme export
# unpacks to a few hundred MB of XML; data that size belongs in CSV files anyway.
MAX_WORKBOOK_UNPACKED = 512 << 20      # bytes, all members together
MAX_WORKBOOK_MEMBERS = 10_000
MAX_COMPRESSION_RATIO = 200            # for members above 1 MB unpacked; real sheets stay well below
_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")


def check_workbook(path: Path) -> None:
    """Refuse, with one line, a file that is not a usable .xlsx workbook, before it is opened.

    Password-protected workbooks are encrypted OLE containers, not zips; so are old .xls files.
    """
    import zipfile

    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise InputError(f"{path}: cannot read file ({exc.strerror})") from exc
    if head == _OLE_MAGIC:
        raise InputError(f"{path}: this workbook is password-protected or in the old .xls format; "
                         "remove the password (or save it as .xlsx) and try again")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not an .xlsx workbook (the file is not a zip container); "
                         "save it from the spreadsheet as .xlsx, or export each sheet as CSV")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise InputError(f"{path}: not an .xlsx workbook (a zip file without a workbook inside)")
    if len(members) > MAX_WORKBOOK_MEMBERS:
        raise InputError(f"{path}: the workbook holds {len(members):,} parts (limit "
                         f"{MAX_WORKBOOK_MEMBERS:,}); refusing it, export the sheets as CSV")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_WORKBOOK_UNPACKED:
        raise InputError(f"{path}: the workbook would unpack to {unpacked / (1 << 20):,.0f} MB (limit "
                         f"{MAX_WORKBOOK_UNPACKED >> 20} MB); export the sheets as CSV files instead")
    for member in members:
        if member.file_size > (1 << 20) and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1):
            raise InputError(f"{path}: part {member.filename} would unpack {member.file_size // max(member.compress_size, 1):,} "
                             f"times its packed size (limit {MAX_COMPRESSION_RATIO}); refusing a possible zip bomb")


def read_workbook(path: Path) -> dict[str, RawTable]:
    path = Path(path)
    check_workbook(path)
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise InputError(f"{path}: not a readable .xlsx workbook ({exc})") from exc
    out = {}
    for sheet, df in sheets.items():
        key = normalise_column(sheet)
        if key in TABLES:
            # pandas gives Excel dates as "2009-09-14 00:00:00": parsing accepts that.
            out[key] = RawTable(key, f"{path.name} [{sheet}]", _clean_text_frame(df, 2))
            _require_unique_columns(out[key].frame, f"{path} [{sheet}]")
    return out


def find_inputs(data_dir: str | Path) -> dict[str, Path]:
    """Map table name -> file (CSV per table, or one workbook)."""
    data_dir = Path(data_dir)
    if data_dir.is_file() and data_dir.suffix.lower() == ".xlsx":
        return {"__workbook__": data_dir}
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: no such data directory")
    found: dict[str, Path] = {}
    for path in sorted(data_dir.iterdir()):
        if path.name.startswith((".", "~$")):
            continue
        if path.suffix.lower() == ".csv" and path.stem.lower() in TABLES:
            found[path.stem.lower()] = path
    workbooks = sorted(p for p in data_dir.glob("*.xlsx") if not p.name.startswith("~$"))
    if not found and len(workbooks) == 1:
        return {"__workbook__": workbooks[0]}
    if not found and len(workbooks) > 1:
        raise InputError(f"{data_dir}: several workbooks ({', '.join(p.name for p in workbooks)}); keep one")
    if not found:
        raise InputError(f"{data_dir}: no table files found (expected e.g. exchanges.csv or one .xlsx workbook)")
    return found


def read_inputs(data_dir: str | Path) -> dict[str, RawTable]:
    found = find_inputs(data_dir)
    if "__workbook__" in found:
        tables = read_workbook(found["__workbook__"])
    else:
        # Arrow's reader and kernels release the GIL: two files at a time use both cores.
        from concurrent.futures import ThreadPoolExecutor

        by_size = sorted(found.items(), key=lambda kv: -kv[1].stat().st_size)
        with ThreadPoolExecutor(max_workers=2) as pool:
            read = dict(zip([n for n, _ in by_size], pool.map(lambda kv: read_csv_table(kv[1], kv[0]), by_size)))
        tables = {name: read[name] for name in found}
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise InputError(f"{data_dir}: missing required table(s): {', '.join(missing)}")
    return tables
