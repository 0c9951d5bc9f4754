"""Validation: every problem in the input, as a table a spreadsheet user can act on.

Three layers, all collected (never stop at the first):
1. reading and typing (a cell that is not a number / date),
2. the pandera schema of each table (required, unique, allowed values, ranges),
3. references between tables and the programme's vocabularies (unknown city,
   unknown exchange, a category the programme does not know…).
Rows with any problem are quarantined — kept, with their problems, and
counted — never silently dropped. Optional tables the programme does not use
(``programme.tables``) are not read; a note says so when such a file is present. Programme *rules* (cap, window…) are not
errors: see :mod:`clusnet_analysis.rules`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from clusnet_analysis.ingest import schemas
import pyarrow.compute as pc

from clusnet_analysis.ingest._arrow import as_arrow, isin, positions, str_series, unless_unchanged
from clusnet_analysis.ingest.io import TABLES, RawTable
from clusnet_analysis.ingest.parsing import PARSERS, WHAT
from clusnet_analysis.rules.programme import ClusterModel, Programme
from clusnet_analysis.ingest.quarantine import ErrorCounts

ERROR_COLUMNS = ["file", "row", "column", "value", "problem", "table", "check"]


@dataclass
class ValidationResult(ErrorCounts):
    tables: dict[str, pd.DataFrame]             # valid rows, typed; index = spreadsheet row
    errors: pd.DataFrame                        # ERROR_COLUMNS, one row per problem
    quarantine: dict[str, pd.DataFrame]         # rejected rows as read (text) + "problems"
    rows_read: dict[str, int]
    files: dict[str, str]
    notes: list[str] = field(default_factory=list)
    # (table, column) of a reference -> for each valid row, the position of its parent among the
    # parent table's valid rows (-1 when empty): found once here, used again by the derived tables.
    lookups: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)


def _errors(label: str, table: str, rows, column: str, values, problem, check: str) -> pd.DataFrame:
    rows = list(rows)
    n = len(rows)
    return pd.DataFrame({
        "file": [label] * n, "row": rows, "column": [column] * n,
        "value": ["" if (v is None or (isinstance(v, float) and pd.isna(v))) else str(v) for v in values],
        "problem": problem if isinstance(problem, list) else [problem] * n,
        "table": [table] * n, "check": [check] * n,
    })


def _describe(check: str, field_description: str | None) -> str:
    """Plain-language wording of a pandera check."""
    m = re.match(r"(\w+)\((.*)\)$", check or "", re.S)
    name, arg = (m.group(1), m.group(2)) if m else (check, "")
    if name == "isin":
        values = re.findall(r"'([^']*)'|(\d+)", arg)
        return "must be one of: " + ", ".join(a or b for a, b in values)
    if name == "greater_than_or_equal_to":
        return f"must be {arg} or more" + (" (negative values are not allowed)" if arg == "0" else "")
    if name == "greater_than":
        return f"must be more than {arg}"
    if name == "less_than_or_equal_to":
        return f"must be {arg} or less"
    if name == "str_matches":
        return "has the wrong form" + (f": expected {field_description}" if field_description else f" ({arg})")
    if name == "str_length":
        return "is too long (more than 64 characters)"
    if name in ("field_uniqueness", "unique", schemas.UNIQUE_CHECK_NAME):
        return "duplicate value: must be unique in the file"
    if name == "multiple_fields_uniqueness":
        return "duplicate row: this combination must be unique"
    if name == "not_nullable":
        return "is empty but required"
    if name == "column_in_dataframe":
        return "required column is missing"
    return check


def _pandera_errors(raw: RawTable, typed: pd.DataFrame, schema, skip: set[tuple[int, str]]) -> pd.DataFrame:
    try:
        # inplace: nothing is coerced or added, so pandera's defensive deep copy of the
        # frame (every numeric and date column, consolidated) would only cost memory.
        schema.validate(typed, lazy=True, inplace=True)
        return pd.DataFrame(columns=ERROR_COLUMNS)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    out = []
    for rec in fc.itertuples(index=False):
        check = str(rec.check)
        row = rec.index
        column = rec.column
        if check.startswith("dtype(") or check.startswith("coerce_dtype("):
            continue  # parsing already reported the cell
        if rec.schema_context == "DataFrameSchema":
            if row is None or pd.isna(row):
                continue
            column = schemas.ROW_CHECK_COLUMNS.get(check, "" if column is None else str(column))
            problem = _describe(check, None)
        else:
            col = schema.columns.get(column)
            problem = _describe(check, getattr(col, "description", None))
        if row is not None and not pd.isna(row) and (int(row), column) in skip:
            continue
        value = rec.failure_case
        if row is not None and not pd.isna(row) and column in raw.frame.columns:
            value = raw.frame.at[int(row), column]   # the cell as the user typed it
        out.append((raw.label, None if row is None or pd.isna(row) else int(row), column, value, problem,
                    raw.name, check))
    df = pd.DataFrame(out, columns=ERROR_COLUMNS)
    df["value"] = df["value"].map(lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
    return df.drop_duplicates(["row", "column", "check"])


def parse_table(raw: RawTable) -> tuple[pd.DataFrame, list[pd.DataFrame], list[str]]:
    """Type every column the schema knows; returns (typed frame, error frames, missing columns)."""
    kinds = schemas.column_kinds(raw.name)
    cases = schemas.column_cases(raw.name)
    df = raw.frame
    errors: list[pd.DataFrame] = []
    missing = [c for c, (_, required) in kinds.items() if c not in df.columns and required]
    typed = pd.DataFrame(index=df.index)
    for col in df.columns:
        if col not in kinds:
            typed[col] = df[col]   # extra columns are kept as text
    for col, (kind, _required) in kinds.items():
        if col not in df.columns:
            typed[col] = schemas.empty_frame(raw.name)[col].reindex(df.index)
            continue
        if kind == "text":
            case = cases.get(col)
            if case:   # "eur" is EUR, "Validated" is validated
                fold = pc.utf8_upper if case == "upper" else pc.utf8_lower
                typed[col] = str_series(unless_unchanged(as_arrow(df[col]), fold), index=df.index)
            else:
                typed[col] = df[col].astype("str")
            continue
        values, bad = PARSERS[kind](df[col])
        typed[col] = values
        if bad.any():
            rows = bad.index[bad.to_numpy()]
            errors.append(_errors(raw.label, raw.name, rows, col, df.loc[rows, col].tolist(),
                                  f"is not {WHAT[kind]}", f"parse_{kind}"))
    ordered = list(kinds) + [c for c in typed.columns if c not in kinds]
    return typed[ordered], errors, missing


def _reference_errors(raw_label: str, table: str, df: pd.DataFrame, column: str, allowed,
                      everything, what: str, found: np.ndarray | None = None) -> pd.DataFrame:
    """Rows whose (non-empty) value is not allowed; ``everything`` tells unknown from quarantined.

    ``found``: each value's position in ``allowed`` (-1 when absent), when the caller has it.
    """
    values = df[column]
    bad = values.notna().to_numpy() & ~(found >= 0 if found is not None else isin(values, allowed))
    if not bad.any():
        return pd.DataFrame(columns=ERROR_COLUMNS)
    rows = df.index[bad]
    vals = values.loc[rows]
    if everything is not None:
        known_but_rejected = isin(vals, everything)
        problems = [f"{what} {v!s} has its own errors (quarantined), so this row cannot be used"
                    if k else f"unknown {what} {v!s}" for v, k in zip(vals, known_but_rejected)]
    else:
        problems = [f"{v!s} is not a known {what}" for v in vals]
    return _errors(raw_label, table, rows, column, vals.tolist(), problems, f"reference_{column}")


def _register_pandera_backends() -> None:
    """pandera registers its pandas backends on first use; do that once here, not in two threads at once."""
    table = TABLES[0]
    try:
        schemas.validation_schema(table).validate(schemas.empty_frame(table), lazy=True)
    except pa.errors.SchemaErrors:
        pass


def _vocab(programme: Programme, model: ClusterModel) -> dict[tuple[str, str], tuple[list[str], str]]:
    return {
        ("officers", "employer_type"): (list(programme.known_employer_types), "employer type"),
        ("expenses", "category"): (list(programme.expense_categories), "expense category"),
        ("practices", "theme"): (list(programme.themes), "best-practice theme"),
        ("practices", "phase"): (list(model.phase_ids), "cluster phase"),
        ("assessments", "criterion_id"): (list(model.criterion_ids), "cluster-model criterion"),
    }


# (table, column) -> (parent table, parent id column, wording); checked against the parent's valid rows.
REFERENCES = [
    ("officers", "home_city", "cities", "city_id", "city"),
    ("exchanges", "officer_id", "officers", "officer_id", "officer"),
    ("exchanges", "host_city", "cities", "city_id", "city"),
    ("expenses", "exchange_id", "exchanges", "exchange_id", "exchange"),
    ("clusters", "city", "cities", "city_id", "city"),
    ("assessments", "cluster_id", "clusters", "cluster_id", "cluster"),
    ("practices", "exchange_id", "exchanges", "exchange_id", "exchange"),
    ("practices", "cluster_id", "clusters", "cluster_id", "cluster"),
    ("links", "exchange_id", "exchanges", "exchange_id", "exchange"),
    ("links", "from_cluster", "clusters", "cluster_id", "cluster"),
    ("links", "to_cluster", "clusters", "cluster_id", "cluster"),
]


def _own_checks(table: str, raw: RawTable, vocab) -> tuple[pd.DataFrame, list[pd.DataFrame], list[str]]:
    """Typing and the checks that need no other table: parsing, the pandera schema, vocabularies."""
    typed, table_errors, missing = parse_table(raw)
    if missing:
        return typed, table_errors, missing
    skip = set()
    for e in table_errors:
        skip.update(zip(e["row"].astype(int), e["column"]))
    table_errors.append(_pandera_errors(raw, typed, schemas.validation_schema(table), skip))
    for (t, column), (allowed, what) in vocab.items():
        if t == table:
            table_errors.append(_reference_errors(raw.label, table, typed, column, set(allowed), None, what))
    return typed, table_errors, missing


def validate(raw_tables: dict[str, RawTable], programme: Programme, model: ClusterModel) -> ValidationResult:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        return _validate(raw_tables, programme, model, pool)


def _validate(raw_tables: dict[str, RawTable], programme: Programme, model: ClusterModel,
              pool) -> ValidationResult:
    valid: dict[str, pd.DataFrame] = {}
    all_ids: dict[str, pd.Series] = {}
    errors: list[pd.DataFrame] = []
    quarantine: dict[str, pd.DataFrame] = {}
    rows_read: dict[str, int] = {}
    files: dict[str, str] = {}
    notes: list[str] = []
    lookups: dict[tuple[str, str], np.ndarray] = {}
    vocab = _vocab(programme, model)

    # Each table's own checks need no other table: two at a time, largest first (Arrow and
    # numpy release the GIL, so both cores work). References to other tables follow in
    # TABLES order below, so results are the same as one table after the other.
    todo = [t for t in TABLES if programme.uses(t) and raw_tables.get(t) is not None
            and raw_tables[t].frame.shape[1] > 0]
    if todo:
        _register_pandera_backends()
    own = {t: pool.submit(_own_checks, t, raw_tables[t], vocab)
           for t in sorted(todo, key=lambda t: -raw_tables[t].frame.size)}

    for table in TABLES:  # parents before children, so references see valid parents
        raw = raw_tables.get(table)
        if not programme.uses(table):
            # A table the programme does not use is not read, and its absence is no news.
            valid[table] = schemas.empty_frame(table)
            all_ids[table] = pd.Series([], dtype="str")
            rows_read[table] = 0
            if raw is not None:
                notes.append(f"{table}: {raw.label} is not read: the programme does not use this table "
                             "(`programme.tables`)")
            continue
        if raw is None or raw.frame.shape[1] == 0:
            valid[table] = schemas.empty_frame(table)
            all_ids[table] = pd.Series([], dtype="str")
            rows_read[table] = 0
            if raw is None:
                notes.append(f"{table}: no file supplied; treated as empty")
            else:  # a 0-byte export is worth a word: probably not what the city meant to send
                notes.append(f"{table}: {raw.label} is empty (not even a header row); treated as empty")
            continue
        files[table] = raw.label
        rows_read[table] = len(raw.frame)
        typed, table_errors, missing = own.pop(table).result()
        if missing:
            # Without a required column no row of the table can be trusted.
            errors.append(_errors(raw.label, table, [1] * len(missing), "", missing,
                                  [f"required column '{c}' is missing (found: {', '.join(raw.frame.columns)})"
                                   for c in missing], "column_in_dataframe"))
            errors[-1]["column"] = missing
            quarantine[table] = raw.frame.assign(problems="table unusable: required column missing")
            valid[table] = schemas.empty_frame(table)
            # Children then read "exchange X1 has its own errors", not "unknown exchange X1".
            id_col = schemas.ID_COLUMNS[table]
            all_ids[table] = (pd.Index(raw.frame[id_col].dropna()) if id_col in raw.frame.columns
                              else pd.Index([]))
            continue
        for t, column, parent, parent_col, what in REFERENCES:
            # A practice may name a cluster even when the programme keeps no clusters table.
            if t == table and programme.uses(parent):
                parent_ids = valid[parent][parent_col]
                found = lookups[(table, column)] = positions(parent_ids, typed[column])
                table_errors.append(_reference_errors(raw.label, table, typed, column, parent_ids,
                                                      all_ids[parent], what, found))
        id_col = schemas.ID_COLUMNS[table]
        all_ids[table] = typed[id_col].dropna() if id_col else pd.Series([], dtype="str")
        table_errors = [e for e in table_errors if len(e)]
        if table_errors:
            errs = pd.concat(table_errors, ignore_index=True)
            errors.append(errs)
            bad_rows = pd.Index(errs["row"].dropna().astype(int).unique())
            problems = (errs.assign(text=errs["column"] + ": " + errs["problem"])
                        .groupby("row")["text"].agg("; ".join))
            q = raw.frame.loc[raw.frame.index.intersection(bad_rows)].copy()
            q["problems"] = problems.reindex(q.index).to_numpy()
            quarantine[table] = q
            kept = ~typed.index.isin(bad_rows)
            typed = typed.loc[kept]
            for key in [k for k in lookups if k[0] == table]:
                lookups[key] = lookups[key][kept]
        valid[table] = typed

    error_frame = (pd.concat(errors, ignore_index=True) if errors else pd.DataFrame(columns=ERROR_COLUMNS))
    if len(error_frame):
        order = {t: i for i, t in enumerate(TABLES)}
        error_frame = (error_frame.assign(_t=error_frame["table"].map(order))
                       .sort_values(["_t", "row", "column"], kind="stable").drop(columns="_t")
                       .reset_index(drop=True))
        error_frame["row"] = error_frame["row"].astype("Int64")
    return ValidationResult(valid, error_frame[ERROR_COLUMNS], quarantine, rows_read, files, notes, lookups)
