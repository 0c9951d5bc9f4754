"""What the data-collection workbook says about each column, derived from the schemas and the programme.

Nothing here names a city, a category or a theme: the code lists come from the
programme file (:class:`~clusnet_analysis.rules.programme.Programme`), the cluster
model and the pandera schemas (:mod:`clusnet_analysis.ingest.schemas`), so another
programme's workbook needs no code change.

Each coded or bounded column gets one Excel data validation:

* ``stop``: a value outside the contract (an unknown code, a negative amount, a
  non-date in a date column) cannot be typed;
* ``warning``: a value that breaks a programme *rule* (a visit outside the window,
  a host that is not a partner city) can be kept after a warning, because such a
  record is a finding an auditor must see, not an error to hide.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass

from clusnet_analysis.ingest import schemas
from clusnet_analysis.ingest.io import REQUIRED_TABLES, TABLES
from clusnet_analysis.ingest.validation import REFERENCES, _vocab
from clusnet_analysis.rules.programme import ClusterModel, Programme, ProgrammeError

# Bump when the workbook's layout changes in a way `clusnet collect` must know about.
TEMPLATE_FORMAT = "clusnet_analysis data-collection workbook, format 1"
STAMP_SHEET = "Read me"
STAMP_LABELS = {"format": "Template format", "programme": "Programme", "version": "Programme version",
                "kind": "Workbook kind", "city": "Prepared for city"}
KIND_TEMPLATE, KIND_CORRECTION = "data collection", "correction"

# Columns whose value a programme rule checks against the partner cities (rule not_partner_city).
PARTNER_CITY_COLUMNS = {("officers", "home_city"), ("exchanges", "host_city")}
# Columns whose dates a programme rule checks against the window (rule outside_window).
WINDOW_COLUMNS = {("exchanges", "start_date"), ("exchanges", "end_date")}
# Columns a programme rule compares with the programme's report language (rule report_language).
LANGUAGE_COLUMNS = {("exchanges", "report_language")}

FORMATS = {"text": "text", "date": "a date (a date cell, or typed YYYY-MM-DD or DD.MM.YYYY)",
           "number": "a number", "integer": "a whole number", "month": "a month, typed YYYY-MM (text)"}
NUMBER_FORMATS = {"text": "@", "month": "@", "date": "yyyy-mm-dd", "number": "General", "integer": "0"}
AMOUNT_FORMAT = "#,##0.00"


@dataclass(frozen=True)
class Check:
    """One Excel data validation: ``kind`` list|date|decimal|whole, ``style`` stop|warning."""
    kind: str
    style: str
    values: tuple = ()          # list: the allowed values
    source: str | None = None   # list: another sheet's id column instead of fixed values
    low: object = None
    high: object = None
    message: str = ""


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    label: str
    meaning: str
    kind: str
    required: bool
    allowed: str                # allowed values / range in words ("" when free)
    check: Check | None

    @property
    def note(self) -> str:
        lines = [f"{self.label}: {self.meaning}.", f"Format: {FORMATS[self.kind]}.",
                 "Required." if self.required else "Optional: may stay empty."]
        if self.allowed:
            lines.append(f"Allowed: {self.allowed}.")
        return "\n".join(lines)


def programme_hash(programme: Programme) -> str:
    """Fingerprint of the programme's rules (not of the file's comments or layout): 12 hex digits."""
    text = json.dumps(programme.raw, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def collection_settings(programme: Programme) -> tuple[str, dict[str, dict[str, str]]]:
    """(whom to send the workbook to, {partner city: {name, country, currency}}) from [collection]."""
    section = programme.raw.get("collection", {})
    if not isinstance(section, dict):
        raise ProgrammeError(f"{programme.source_file}: [collection] must be a table")
    send_to = str(section.get("send_to") or f"the {programme.name} coordinator"
                  + (f" (lead city {programme.lead_city})" if programme.lead_city else ""))
    cities = {}
    for city in programme.partner_cities:
        info = section.get("cities", {}).get(city, {})
        if not isinstance(info, dict):
            raise ProgrammeError(f"{programme.source_file}: [collection.cities] {city} must be a table "
                                 "with name, country and currency")
        cities[city] = {k: str(info.get(k, "")) for k in ("name", "country", "currency")}
    return send_to, cities


def currencies(programme: Programme) -> list[str]:
    """The programme's currency first, then the partner cities' currencies (sorted)."""
    _, cities = collection_settings(programme)
    others = sorted({c["currency"] for c in cities.values() if c["currency"]} - {programme.currency})
    return [programme.currency, *others]


def window_months(programme: Programme) -> list[str]:
    months, day = [], programme.window_start.replace(day=1)
    while day <= programme.window_end:
        months.append(day.strftime("%Y-%m"))
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


def natural_key(table: str) -> list[str]:
    """The id column, or the contract's unique combination (fx_rates: month + currency)."""
    id_column = schemas.ID_COLUMNS[table]
    if id_column:
        return [id_column]
    return list(schemas.MODELS[table].to_schema().unique or [])


def _checks_of(column) -> dict[str, object]:
    out = {}
    for check in column.checks:
        stats = check.statistics or {}
        if check.name == "isin":
            out["isin"] = list(stats.get("allowed_values", []))
        elif check.name == "greater_than_or_equal_to":
            out["ge"] = stats.get("min_value")
        elif check.name == "greater_than":
            out["gt"] = stats.get("min_value")
        elif check.name == "less_than_or_equal_to":
            out["le"] = stats.get("max_value")
        elif check.name == "str_matches":
            out["pattern"] = str(stats.get("pattern", ""))
    return out


def _words(values) -> str:
    return ", ".join(str(v) for v in values)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _parents() -> dict[tuple[str, str], tuple[str, str, str]]:
    return {(t, c): (parent, parent_col, what) for t, c, parent, parent_col, what in REFERENCES}


def columns(table: str, programme: Programme, model: ClusterModel) -> list[Column]:
    """Every contract column of a table, in the contract's order, with its note and its check."""
    schema = schemas.MODELS[table].to_schema()
    kinds = schemas.column_kinds(table)
    vocab = _vocab(programme, model)
    parents = _parents()
    partners = list(programme.partner_cities)
    out = []
    for name, col in schema.columns.items():
        kind, required = kinds[name]
        checks = _checks_of(col)
        label = col.title or name.replace("_", " ").capitalize()
        meaning = col.description or label
        allowed, check = "", None
        if (table, name) in PARTNER_CITY_COLUMNS:
            allowed = f"a city of the cities table; partner cities: {_words(partners)}"
            check = Check("list", "warning", tuple(partners), message=(
                "Not a partner city of the programme. Keep it only if it is true: it must be in the cities "
                "table, and the exchange will be listed as a finding."))
        elif (table, name) in vocab:
            values, what = vocab[(table, name)]
            allowed = _words(values)
            note = ""
            if name == "employer_type":
                note = f" Only {_words(programme.eligible_employer_types)} is eligible; others are findings."
            check = Check("list", "stop", tuple(values), message=f"Choose a {what} from the list.{note}")
        elif "isin" in checks:
            allowed = _words(checks["isin"])
            check = Check("list", "stop", tuple(checks["isin"]), message=f"Choose one of: {allowed}.")
        elif (table, name) in LANGUAGE_COLUMNS:
            allowed = f"a two-letter language code; reports must be in {programme.report_language}"
            check = Check("list", "warning", (programme.report_language,), message=(
                f"Reports must be written in '{programme.report_language}'. Another language is kept, "
                "and listed as a finding."))
        elif name == "currency":
            cur = currencies(programme)
            cur = (cur[1:] or cur) if table == "fx_rates" else cur   # the programme's currency needs no rate
            allowed = f"a three-letter ISO 4217 code, e.g. {_words(cur)}"
            if table == "fx_rates":
                message = (f"Not a partner city's currency. {programme.currency} needs no rate; another currency "
                           "is kept if it is a three-letter ISO 4217 code.")
            else:
                message = ("Not one of the partner cities' currencies. Keep it only if it is a three-letter ISO "
                           "4217 code; exchange rates for it are then needed in the fx_rates sheet.")
            check = Check("list", "warning", tuple(cur), message=message)
        elif (table, name) in parents:
            parent, parent_col, what = parents[(table, name)]
            allowed = f"{_article(what)} {what} of the {parent} sheet"
            check = Check("list", "warning", source=f"{parent}.{parent_col}", message=(
                f"Not in the {parent} sheet of this workbook: it must be in the {parent} table of the "
                "collected data, or the row will be rejected."))
        elif (table, name) in WINDOW_COLUMNS:
            allowed = f"the programme runs {programme.window_start} to {programme.window_end}"
            check = Check("date", "warning", low=programme.window_start, high=programme.window_end, message=(
                f"Must be a date. A visit outside {programme.window_start} to {programme.window_end} is "
                "outside the programme's window: it is kept, and listed as a finding."))
        elif kind == "month":
            months = window_months(programme)
            allowed = f"YYYY-MM; the programme's months are {months[0]} to {months[-1]}"
            check = Check("list", "warning", tuple(months), message=(
                "Type the month as YYYY-MM. A month outside the programme's window is kept, but no "
                "eligible visit needs its rate."))
        elif kind == "date":
            check = Check("date", "stop", low=dt.date(1900, 1, 1), high=dt.date(9999, 12, 31),
                          message="Must be a date (a date cell, or typed YYYY-MM-DD or DD.MM.YYYY).")
        elif kind == "integer" and checks.get("ge") is not None and checks.get("le") is not None \
                and checks["le"] - checks["ge"] <= 10:   # a short scale (1-5): a dropdown
            values = tuple(range(int(checks["ge"]), int(checks["le"]) + 1))
            allowed = f"{values[0]} to {values[-1]}"
            check = Check("list", "stop", values, message=f"Choose a whole number from {allowed}.")
        elif kind in ("number", "integer") and checks.keys() & {"ge", "gt", "le"}:
            low = checks.get("ge", checks.get("gt"))
            high = checks.get("le")
            strict = "gt" in checks
            allowed = (f"more than {low}" if strict else f"{low} or more") + (f", up to {high}" if high else "")
            check = Check("whole" if kind == "integer" else "decimal", "stop", low=low, high=high,
                          message=f"Must be {FORMATS[kind]}, {allowed}.")
        elif "pattern" in checks:
            allowed = col.description or ""
            length = re.fullmatch(r"\^\[[^\]]+\]\{(\d+)\}\$", checks["pattern"])
            if length:   # ^[A-Z]{2}$: the length is the part a spreadsheet can check
                n = int(length.group(1))
                check = Check("length", "stop", low=n, high=n, message=f"Must be {n} letters: {allowed}.")
        if name == "report_pages":
            allowed += f" (reports longer than {programme.report_max_pages} pages are findings)"
        out.append(Column(table, name, label, meaning, kind, required, allowed, check))
    return out


def table_note(table: str) -> str:
    schema = schemas.MODELS[table].to_schema()
    need = "required" if table in REQUIRED_TABLES else "optional"
    return f"{schema.description or table} ({need})"


def tables() -> tuple[str, ...]:
    """The contract's tables, parents before children (the order to fill them in)."""
    return TABLES
