"""Correction workbooks (``clusnet validate --workbooks DIR``): one per city, in the collection format.

Each holds the city's rejected (quarantined) rows in their table sheets, with a
"problems" column saying what to fix, and a "Findings" sheet with the programme-rule
findings about the city. Fixed and sent back, ``clusnet collect`` puts its rows in
place of the rows they came from (``source_file`` / ``source_row``).

A row belongs to the city that owns it: a city's own row, an officer's home city,
an exchange's officer's home city, a cluster's city, and so on through the
references. Rows that belong to no city (exchange rates, or rows whose references
are broken) go into one workbook for the coordinator.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from clusnet_analysis.collect import spec, template
from clusnet_analysis.ingest.io import TABLES
from clusnet_analysis.privacy import PERSONAL_COLUMNS

NO_CITY = "coordinator"
FINDING_HEADERS = {"rule_id": "rule", "severity": "severity", "subject_type": "subject", "subject_id": "subject id",
                   "exchange_id": "exchange", "period": "period", "message": "what was found", "value": "value",
                   "limit": "limit"}


def _all_rows(ds, table: str) -> pd.DataFrame:
    """Valid and quarantined rows of a table, as text, for following references."""
    parts = [ds.tables[table].astype("str")] if table in ds.tables else []
    if table in ds.quarantine:
        parts.append(ds.quarantine[table].astype("str"))
    return pd.concat(parts) if parts else pd.DataFrame()


def _lookup(frame: pd.DataFrame, key: str, value: str) -> dict:
    if frame.empty or key not in frame or value not in frame:
        return {}
    pairs = frame[[key, value]].dropna()
    return dict(zip(pairs[key], pairs[value]))


def owning_city(ds, table: str, rows: pd.DataFrame) -> pd.Series:
    """The city each row belongs to (NO_CITY when there is none)."""
    officer_city = _lookup(_all_rows(ds, "officers"), "officer_id", "home_city")
    exchanges = _all_rows(ds, "exchanges")
    exchange_city = {x: officer_city.get(o) for x, o in _lookup(exchanges, "exchange_id", "officer_id").items()}
    cluster_city = _lookup(_all_rows(ds, "clusters"), "cluster_id", "city")

    def col(name):
        return rows[name] if name in rows else pd.Series(None, index=rows.index, dtype="object")

    if table == "cities":
        city = col("city_id")
    elif table in ("officers",):
        city = col("home_city")
    elif table == "exchanges":
        city = col("officer_id").map(officer_city)
    elif table in ("expenses", "practices"):
        city = col("exchange_id").map(exchange_city)
    elif table == "clusters":
        city = col("city")
    elif table == "assessments":
        city = col("cluster_id").map(cluster_city)
    elif table == "links":
        city = col("exchange_id").map(exchange_city).fillna(col("from_cluster").map(cluster_city))
    else:
        city = pd.Series(None, index=rows.index, dtype="object")
    return city.astype("object").where(city.notna(), NO_CITY).astype("str")


def _findings_frame(findings: pd.DataFrame) -> pd.DataFrame:
    from clusnet_analysis.rules.checks import RULES_BY_ID

    out = findings[list(FINDING_HEADERS)].rename(columns=FINDING_HEADERS)
    out.insert(2, "rule in words", findings["rule_id"].map(lambda r: RULES_BY_ID[r].description
                                                           if r in RULES_BY_ID else ""))
    return out


def correction_workbooks(ds, show_names: bool = False) -> dict[str, object]:
    """{city: workbook} for every city with rejected rows or findings."""
    per_city: dict[str, dict[str, pd.DataFrame]] = {}
    for table in TABLES:
        rows = ds.quarantine.get(table)
        if rows is None or not len(rows):
            continue
        rows = rows.copy()
        if not show_names:
            for c in PERSONAL_COLUMNS:
                if c in rows:
                    had = rows[c].notna()
                    rows[c] = None
                    rows.loc[had, "problems"] = rows.loc[had, "problems"] + f"; {c}: left out (personal data), type it again"
        cities = owning_city(ds, table, rows)
        for city, part in rows.groupby(cities, sort=True):
            per_city.setdefault(city, {})[table] = part.reset_index(drop=True)
    findings = ds.findings
    finding_city = findings["home_city"].fillna(NO_CITY) if len(findings) else pd.Series([], dtype="str")
    books = {}
    for city in sorted(set(per_city) | set(finding_city)):
        mine = findings[finding_city == city]
        tables = per_city.get(city, {})
        rejected = sum(len(t) for t in tables.values())
        intro = [
            f"Corrections for {'the coordinator (rows that belong to no one city)' if city == NO_CITY else city}, "
            f"from the data in {ds.data_dir.name}: {rejected} rejected row(s) and {len(mine)} finding(s).",
            "Rejected rows are in their sheets, with a \"problems\" column saying what is wrong: fix the cells, "
            "leave the source_file and source_row columns as they are, and send the workbook back. "
            "Its rows then replace the rows they came from.",
            "The Findings sheet lists what breaks a programme rule: check each one; if the record is wrong, "
            "correct it in your data and send it again; if it is right, it stays a finding for the auditor.",
        ]
        sheets = [("Findings", _findings_frame(mine))]
        books[city] = template.build_workbook(ds.programme, ds.model, city=None if city == NO_CITY else city,
                                              kind=spec.KIND_CORRECTION, rows=tables,
                                              intro=intro, before_tables=sheets)
    return books


def write_corrections(ds, folder: str | Path, show_names: bool = False) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for city, wb in correction_workbooks(ds, show_names=show_names).items():
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in city)
        written.append(template.write_workbook(folder / f"corrections_{safe}.xlsx", wb))
    return written
