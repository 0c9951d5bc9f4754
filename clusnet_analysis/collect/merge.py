"""``clusnet collect``: many returned workbooks (or CSV folders) into one data directory.

* every row keeps where it came from (``source_file``, ``source_row``);
* a key (the id column, or the contract's natural key such as month + currency)
  used by rows of different content is a conflict: those rows are held back
  into ``conflicts.csv`` in the output folder, never one written over another;
* identical rows are kept once and counted;
* a file that is not one of ours is named with the reason; a workbook of another
  template format or another programme is refused; one made under an edited
  version of the same programme is collected with a warning;
* rows of a correction workbook (``clusnet validate --workbooks``) replace the
  rows they came from;
* nothing is written into the input folder. Values are written as they were
  typed (dates from date cells as YYYY-MM-DD): the output is data, not a report.
"""
from __future__ import annotations

import datetime as dt
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from clusnet_analysis.collect import spec
from clusnet_analysis.config import PROGRAMME_FILENAME
from clusnet_analysis.ingest import schemas
from clusnet_analysis.ingest.io import (TABLES, InputError, RawTable, _clean_text_frame, _require_unique_columns,
                                        normalise_column, read_csv_table)
from clusnet_analysis.ingest.parsing import PARSERS
from clusnet_analysis.rules.programme import Programme, ProgrammeError, load_programme

SOURCE_COLUMNS = ["source_file", "source_row"]
ANNOTATION_COLUMNS = ["problems", "findings"]   # written into correction workbooks, dropped on return
CONFLICTS_FILE = "conflicts.csv"
MARKER = "COLLECTED.txt"
SPREADSHEETS = {".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".numbers"}


@dataclass
class Source:
    label: str                     # as the user names it: "city.xlsx", "city/" (a CSV folder)
    tables: dict[str, pd.DataFrame]
    correction: bool = False


@dataclass
class Collected:
    tables: dict[str, pd.DataFrame]
    sources: list[Source]
    refused: list[tuple[str, str]] = field(default_factory=list)   # (file, reason): data held back
    ignored: list[tuple[str, str]] = field(default_factory=list)   # (file, reason): not a data file
    warnings: list[str] = field(default_factory=list)
    duplicates: dict[str, int] = field(default_factory=dict)
    replaced: dict[str, int] = field(default_factory=dict)
    conflicts: pd.DataFrame = field(default_factory=pd.DataFrame)


# ------------------------------------------------------------------ reading one file
def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def read_stamp(wb) -> dict[str, str] | None:
    """The version stamp on the Read me sheet ({format, programme, version, kind, city}), or None."""
    if spec.STAMP_SHEET not in wb.sheetnames:
        return None
    by_label = {v: k for k, v in spec.STAMP_LABELS.items()}
    stamp = {}
    for a, b, *_ in wb[spec.STAMP_SHEET].iter_rows(min_col=1, max_col=2, values_only=True):
        if isinstance(a, str) and a in by_label and b is not None:
            stamp[by_label[a]] = str(b)
    return stamp if "format" in stamp else None


def read_workbook(path: Path, label: str) -> tuple[dict, dict[str, pd.DataFrame]]:
    """(stamp, {table: text frame indexed by spreadsheet row}) of one of our workbooks."""
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():   # "extension is not supported": Excel's own extras, not data
            warnings.simplefilter("ignore", UserWarning)
            wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:   # openpyxl raises many types for a broken file
        raise InputError(f"not a readable .xlsx workbook ({type(exc).__name__})") from exc
    try:
        stamp = read_stamp(wb)
        tables = {}
        for sheet in wb.sheetnames:
            table = normalise_column(sheet)
            if table not in TABLES or stamp is None:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                values = [[_cell_text(v) for v in row] for row in wb[sheet].iter_rows(values_only=True)]
            if not values:
                continue
            header = [h if h is not None else "" for h in values[0]]
            frame = pd.DataFrame(values[1:], columns=header, dtype="str") if len(values) > 1 \
                else pd.DataFrame(columns=header, dtype="str")
            frame = _clean_text_frame(frame, 2)
            _require_unique_columns(frame, f"{label} [{sheet}]")
            tables[table] = frame
        return stamp, tables
    finally:
        wb.close()


def _check_stamp(stamp: dict | None, programme: Programme, label: str) -> str | None:
    """The reason to refuse a workbook, or None; an edited programme version only warns (returned apart)."""
    if stamp is None:
        return ("not made by `clusnet workbook`: it has no version stamp on a \"Read me\" sheet; "
                "copy its rows into a new workbook")
    if stamp.get("format") != spec.TEMPLATE_FORMAT:
        return (f"made with another template format ({stamp.get('format')}); this version reads "
                f"\"{spec.TEMPLATE_FORMAT}\": copy its rows into a new workbook")
    if stamp.get("programme") != programme.id:
        return (f"made for another programme ({stamp.get('programme')}), not {programme.id}; "
                "collect it with that programme's file (--programme)")
    return None


def _source_of(path: Path, label: str, programme: Programme, result: Collected) -> Source | None:
    suffix = path.suffix.lower()
    if path.is_dir():
        tables = {}
        for csv in sorted(path.iterdir()):
            if csv.suffix.lower() == ".csv" and csv.stem.lower() in TABLES:
                tables[csv.stem.lower()] = read_csv_table(csv, csv.stem.lower()).frame
            elif csv.name == "programme.toml":
                _check_folder_programme(csv, programme, label, result)
        if not tables:
            result.ignored.append((label, "a folder without table files (e.g. exchanges.csv)"))
            return None
        return Source(label, {t: tables[t] for t in TABLES if t in tables})
    if suffix in (".xlsx", ".xlsm"):
        stamp, tables = read_workbook(path, label)
        reason = _check_stamp(stamp, programme, label)
        if reason:
            result.refused.append((label, reason))
            return None
        if stamp.get("version") != spec.programme_hash(programme):
            result.warnings.append(f"{label} was made under an edited version of the {programme.id} programme "
                                   f"(version {stamp.get('version')}, now {spec.programme_hash(programme)}): "
                                   "its codes were checked against the current rules")
        return Source(label, tables, correction=stamp.get("kind") == spec.KIND_CORRECTION)
    if suffix in (".xls", ".ods", ".numbers"):
        result.refused.append((label, f"a {suffix} file: save it as an Excel workbook (.xlsx) and send it again"))
        return None
    result.ignored.append((label, "not a workbook or a folder of CSV files"))
    return None


def _check_folder_programme(path: Path, programme: Programme, label: str, result: Collected) -> None:
    try:
        own = load_programme(path)
    except (ProgrammeError, tomllib.TOMLDecodeError) as exc:
        result.warnings.append(f"{label}: its programme.toml is unreadable ({exc}); ignored")
        return
    if own.id != programme.id:
        raise InputError(f"its programme.toml is for programme {own.id}, not {programme.id}; "
                         "collect it with that programme's file (--programme)")
    if spec.programme_hash(own) != spec.programme_hash(programme):
        result.warnings.append(f"{label}: its programme.toml is an edited version of {programme.id}; "
                               "its rows were checked against the current rules")


def read_sources(in_dir: Path, programme: Programme) -> Collected:
    result = Collected(tables={}, sources=[])
    loose_csv = []
    for path in sorted(in_dir.iterdir()):
        label = path.name + ("/" if path.is_dir() else "")
        if path.name.startswith("~$") or path.name.startswith(".~lock"):
            result.ignored.append((label, "a lock file left by an open spreadsheet program"))
            continue
        if path.name.startswith("."):
            result.ignored.append((label, "a hidden file"))
            continue
        if path.is_file() and path.suffix.lower() == ".csv":
            if path.stem.lower() in TABLES:
                loose_csv.append(path)
            else:
                result.ignored.append((label, f"a CSV file whose name is not a table ({', '.join(TABLES)})"))
            continue
        try:
            source = _source_of(path, label, programme, result)
        except InputError as exc:
            message = str(exc)
            result.refused.append((label, message.split(": ", 1)[1] if message.startswith(str(path)) else message))
            continue
        if source is not None:
            result.sources.append(source)
    if loose_csv:
        tables = {p.stem.lower(): read_csv_table(p, p.stem.lower()).frame for p in loose_csv}
        result.sources.insert(0, Source("./", tables))
    return result


# ------------------------------------------------------------------ merging
def _canonical(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Each cell in one spelling for comparison: codes folded, dates ISO, numbers as numbers."""
    kinds, cases = schemas.column_kinds(table), schemas.column_cases(table)
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        text = frame[col].astype("str")
        kind = kinds.get(col, ("text", False))[0]
        if kind != "text":
            values, bad = PARSERS[kind](text)
            shown = values.astype("str") if kind != "date" else values.dt.strftime("%Y-%m-%d")
            text = shown.where(~bad & values.notna(), text)
        elif col in cases:
            text = text.str.upper() if cases[col] == "upper" else text.str.lower()
        out[col] = text.fillna("")
    return out


def _label(source: Source, table: str) -> str:
    return source.label + (f"{table}.csv" if source.label.endswith("/") else "")


def merge(collected: Collected) -> Collected:
    conflicts = []
    for table in TABLES:
        parts = []
        for order, source in enumerate(collected.sources):
            frame = source.tables.get(table)
            if frame is None:
                continue
            frame = frame.copy()
            origin = {c: pd.Series(None, index=frame.index, dtype="str") for c in SOURCE_COLUMNS}
            if source.correction:   # the rows it was made from, as collected before
                frame = frame.drop(columns=[c for c in ANNOTATION_COLUMNS if c in frame.columns])
                origin.update({c: frame[c].astype("str") for c in SOURCE_COLUMNS if c in frame.columns})
            frame["_origin"] = origin["source_file"].str.cat(origin["source_row"], sep="#").to_numpy()
            frame["source_file"] = _label(source, table)
            frame["source_row"] = frame.index.astype("str")
            frame["_correction"] = source.correction
            parts.append(frame.reset_index(drop=True))
        if not parts:
            continue
        rows = pd.concat(parts, ignore_index=True)
        data_columns = [c for c in rows.columns if c not in SOURCE_COLUMNS + ["_origin", "_correction"]]
        canon = _canonical(rows[data_columns], table)
        key = [c for c in spec.natural_key(table)]
        if not set(key) <= set(canon.columns):   # a missing key column: validation reports it
            key = []
        has_key = (canon[key] != "").all(axis=1) if key else pd.Series(False, index=rows.index)
        key_text = pd.Series([" + ".join(v) for v in canon[key].itertuples(index=False)] if key else "",
                             index=rows.index, dtype="str")
        # Rows a correction workbook sends back replace the rows they were made from (its source_file
        # and source_row), or, when those are empty, the ordinary rows with the same key.
        fixed = rows["_correction"]
        own = rows["source_file"] + "#" + rows["source_row"]
        same_key = has_key & key_text.isin(set(key_text[fixed & has_key & rows["_origin"].isna()]))
        replaced = ~fixed & (own.isin(set(rows.loc[fixed, "_origin"].dropna())) | same_key)
        collected.replaced[table] = int(replaced.sum())
        keep_rows = ~replaced.to_numpy()
        rows, canon = rows[keep_rows].drop(columns=["_origin", "_correction"]), canon[keep_rows]
        has_key, key_text = has_key[keep_rows], key_text[keep_rows]
        content = pd.Series(["\x1f".join(v) for v in canon.itertuples(index=False)], index=rows.index, dtype="str")
        keep = pd.Series(True, index=rows.index)
        dup = 0
        repeated = has_key & key_text.duplicated(keep=False)   # only keys used more than once need a look
        for k, idx in rows[repeated].groupby(key_text[repeated], sort=False).groups.items():
            if content[idx].nunique() == 1:
                keep[idx[1:]] = False
                dup += len(idx) - 1
                continue
            keep[idx] = False
            differs = [c for c in data_columns if canon.loc[idx, c].nunique() > 1]
            for i in idx:
                conflicts.append({"table": table, "key": f"{' + '.join(key)} = {k}",
                                  "source_file": rows.at[i, "source_file"], "source_row": rows.at[i, "source_row"],
                                  "differs_in": ", ".join(differs),
                                  "values": "; ".join(f"{c}={'' if pd.isna(rows.at[i, c]) else rows.at[i, c]}"
                                                      for c in differs),
                                  "row": "; ".join(f"{c}={rows.at[i, c]}" for c in data_columns
                                                   if not pd.isna(rows.at[i, c]))})
        collected.duplicates[table] = dup
        contract = [c for c in schemas.column_kinds(table) if c in rows.columns]
        extras = [c for c in data_columns if c not in contract]
        collected.tables[table] = rows.loc[keep, contract + extras + SOURCE_COLUMNS].reset_index(drop=True)
    columns = ["table", "key", "source_file", "source_row", "differs_in", "values", "row"]
    collected.conflicts = pd.DataFrame(conflicts, columns=columns)
    return collected


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with a BOM (Excel opens it right), values exactly as collected."""
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def check_output(out_dir: Path) -> None:
    """An output folder must be new, empty, or one ``collect`` wrote before: never someone's own data."""
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise InputError(f"output folder {out_dir} already holds files that clusnet collect did not write; "
                         "choose a new or empty folder")


def _marker(collected: Collected) -> str:
    from clusnet_analysis import __version__

    lines = [f"Written by clusnet collect (clusnet_analysis {__version__}). Rows per table come from:"]
    lines += [f"  {s.label}" + (" (correction)" if s.correction else "") + ": "
              + ", ".join(f"{t} {len(f)}" for t, f in s.tables.items()) for s in collected.sources]
    lines += [f"Refused: {label}: {reason}" for label, reason in collected.refused]
    lines += [f"Warning: {w}" for w in collected.warnings]
    if len(collected.conflicts):
        lines.append(f"Conflicts: {len(collected.conflicts)} row(s) held back in {CONFLICTS_FILE}")
    return "\n".join(lines) + "\n"


def write_output(collected: Collected, out_dir: Path, programme_file: Path | None) -> list[Path]:
    from clusnet_analysis.publish.files import atomic_write_bytes

    check_output(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_dir / MARKER, _marker(collected).encode("utf-8"))
    written = [out_dir / MARKER]
    for table in TABLES:
        path = out_dir / f"{table}.csv"
        if table in collected.tables:
            atomic_write_bytes(path, csv_bytes(collected.tables[table]))
            written.append(path)
        elif path.exists():
            path.unlink()   # a table from an earlier collect that no file supplies now
    conflicts = out_dir / CONFLICTS_FILE
    if len(collected.conflicts):
        atomic_write_bytes(conflicts, csv_bytes(collected.conflicts))
        written.append(conflicts)
    elif conflicts.exists():
        conflicts.unlink()
    target = out_dir / PROGRAMME_FILENAME
    if programme_file is not None:
        atomic_write_bytes(target, Path(programme_file).read_bytes())
        written.append(target)
    elif target.exists():
        target.unlink()   # rules copied by an earlier collect: this one used the bundled rules
    return written


def collect(in_dir: str | Path, programme: Programme) -> Collected:
    """Read every file of ``in_dir`` and merge them (nothing is written)."""
    in_dir = Path(in_dir)
    if not in_dir.is_dir():
        raise InputError(f"{in_dir}: no such folder")
    return merge(read_sources(in_dir, programme))
