"""Programme rules as data.

A programme (the bundled one, or any other exchange programme) is described by a
TOML file (format: ``shared_notes/PROGRAMME_FILE_v2.md``); this module turns it into
a typed, read-only :class:`Programme`. A data directory may carry its own
``programme.toml``; otherwise the bundled programme file applies.

The file is read strictly (:mod:`~clusnet_analysis.rules.programme_schema`): an
unknown key or a value that makes no sense is a :class:`ProgrammeError` naming the
file, the key and the problem. A rule is switched off only by an explicit
``false``; a missing key takes its documented default or is refused as missing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from clusnet_analysis import config
from clusnet_analysis.ingest.tables import OPTIONAL_TABLES, REQUIRED_TABLES, TABLES
from clusnet_analysis.rules import programme_schema as s
from clusnet_analysis.rules.cluster_model import (NO_CLUSTER_MODEL, ClusterModel, Criterion, Phase,  # noqa: F401
                                                  load_cluster_model)
from clusnet_analysis.rules.programme_schema import ProgrammeError, read_toml
from clusnet_analysis.rules.budget_options import (  # noqa: F401  (re-exported)
    ALWAYS_INELIGIBLE_RULES, NEVER_INELIGIBLE_RULES, _budget_options, city_allocations,
    ineligible_rules, programme_budget)
from clusnet_analysis.rules.report_structure import ReportStructure, parse_report_structure

__all__ = ["ProgrammeError", "Period", "Programme", "load_programme", "programme_file_for", "programme_for",
           "ClusterModel", "Phase", "Criterion", "load_cluster_model", "NO_CLUSTER_MODEL", "OPTIONAL_TABLES",
           "programme_from_data"]

#: Optional tables that need the cluster model (its phases and criteria).
MODEL_TABLES = ("practices", "clusters", "assessments")
DEFAULT_CLUSTER_MODEL = config.CLUSTER_MODEL_FILE.name
RESERVED_PERIOD_IDS = ("final", "all")

#: Keys whose explicit ``false`` switches a rule off.
SWITCHABLE_KEYS = ("budget.cap_eur", "participants.officers_per_city", "participants.max_concurrent_per_city",
                   "visit.days", "reports.max_pages", "reports.language", "reports.agenda_before_visit",
                   "reports.report_required")


@dataclass(frozen=True)
class Period:
    id: str
    label: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Programme:
    id: str
    name: str
    currency: str
    partner_cities: tuple[str, ...]
    officers_per_city: int | None           # None: quota rule off (`officers_per_city = false`)
    eligible_employer_types: tuple[str, ...]
    known_employer_types: tuple[str, ...]
    max_concurrent_per_city: int | None     # None: rule off
    window_start: dt.date
    window_end: dt.date
    periods: tuple[Period, ...]
    visit_days_min: int | None              # both None: visit length rule off
    visit_days_max: int | None
    cap_eur: float | None                   # None: no cap
    reference_eur: dict[str, float]
    expense_categories: tuple[str, ...]
    report_max_pages: int | None            # None: rule off
    report_language: str | None             # None: rule off
    agenda_before_visit: bool
    report_required: bool
    themes: tuple[str, ...]
    theme_labels: dict[str, str]
    phase_threshold: float
    lead_city: str | None = None
    source_file: Path | None = None
    title: str = ""
    tables: tuple[str, ...] = OPTIONAL_TABLES   # optional tables this programme uses
    cluster_model_file: Path | None = None      # None: the programme uses no cluster model
    switched_off: frozenset[str] = frozenset()  # keys set to false, e.g. {"visit.days"}
    raw: dict = field(default_factory=dict, compare=False, repr=False)
    # Budget options (programme file v2; parsed by _budget_options). Only values written in the
    # file are stored here; derived defaults come from city_allocations() and programme_budget().
    programme_budget_eur: float | None = None      # [budget] programme_budget_eur, or None (= derived)
    allocation_eur: dict[str, float] = field(default_factory=dict)   # [budget.allocation_eur], as written
    conversion_month: str = "start_date"           # [budget] conversion_month
    extra_ineligible_rules: tuple[str, ...] = ()   # [eligibility] extra_ineligible_rules
    report_structure: ReportStructure | None = None

    @property
    def period_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.periods)

    def period(self, period_id: str) -> Period:
        for p in self.periods:
            if p.id == period_id:
                return p
        raise KeyError(f"unknown period {period_id!r}; known: {', '.join(self.period_ids)}")

    @property
    def reference_total_eur(self) -> float:
        return float(sum(self.reference_eur.values()))

    @property
    def visit_days(self) -> int | None:
        """The exact visit length in days, or None (a range, or the rule is off)."""
        return self.visit_days_min if self.visit_days_min == self.visit_days_max else None

    def uses(self, table: str) -> bool:
        """Whether the programme uses a table: required tables always, optional ones when declared."""
        if table not in TABLES:
            raise KeyError(f"unknown table {table!r}; known: {', '.join(TABLES)}")
        return table in REQUIRED_TABLES or table in self.tables

    def is_off(self, key: str) -> bool:
        """Whether the programme file switches the rule set by ``key`` off (``key = false``)."""
        if key not in SWITCHABLE_KEYS:
            raise KeyError(f"{key!r} cannot be switched off; these can: {', '.join(SWITCHABLE_KEYS)}")
        return key in self.switched_off

    def theme_label(self, theme: str) -> str:
        return self.theme_labels.get(theme, theme)


def load_programme(path: str | Path | None = None) -> Programme:
    """Read a programme file (default: the bundled programme)."""
    source = Path(path) if path is not None else config.DEFAULT_PROGRAMME_FILE
    return programme_from_data(read_toml(source, "programme file"), source)


def programme_from_data(d: dict, source: Path) -> Programme:
    """A programme from the parsed TOML of the file ``source`` (named in every error)."""
    s.check_keys(d, source)
    off: set[str] = set()

    def switchable(value, key):
        if value is False:
            off.add(key)
        return value

    # [programme]
    prog = s.table(d, "programme", source)
    pid = s.text(s.required(prog, "programme.id", source), "programme.id", source,
                 pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]*", form="letters, digits, _ . - (no spaces)")
    name = s.text(s.required(prog, "programme.name", source), "programme.name", source)
    title = s.text(prog.get("title", name), "programme.title", source)
    currency = s.text(prog.get("currency", "EUR"), "programme.currency", source, pattern=r"[A-Z]{3}",
                      form='a three-letter currency code such as "EUR"')
    if "source" in prog:
        s.text(prog["source"], "programme.source", source)
    tables = _tables(prog, source)

    # [participants]
    part = s.table(d, "participants", source)
    partners = s.text_list(s.required(part, "participants.partner_cities", source),
                           "participants.partner_cities", source)
    lead = prog.get("lead_city")
    if lead is not None:
        lead = s.text(lead, "programme.lead_city", source)
        if lead not in partners:
            s.fail(source, "programme.lead_city", f"{s.show(lead)} is not one of `participants.partner_cities`")
    key = "participants.officers_per_city"
    officers = s.number(switchable(s.required(part, key, source, "a number, or false for no quota"), key), key,
                        source, whole=True, at_least=1, can_switch_off=True)
    key = "participants.max_concurrent_per_city"
    concurrent = s.number(switchable(part.get("max_concurrent_per_city", 1), key), key, source, whole=True,
                          at_least=1, can_switch_off=True)
    eligible = s.text_list(s.required(part, "participants.eligible_employer_types", source),
                           "participants.eligible_employer_types", source)
    known = s.text_list(part.get("known_employer_types", list(eligible)), "participants.known_employer_types",
                        source)

    # [window] and [[periods]]
    window = s.table(d, "window", source)
    w0 = s.date(s.required(window, "window.start", source), "window.start", source)
    w1 = s.date(s.required(window, "window.end", source), "window.end", source)
    if w1 < w0:
        s.fail(source, "window.end", f"the window ends ({w1}) before it starts ({w0})")
    periods = _periods(d, source, w0, w1)

    # [visit]
    visit = s.table(d, "visit", source)
    days_min, days_max = _visit_days(switchable(s.required(visit, "visit.days", source,
                                                           "a number of days, { min = 1, max = 4 } or false"),
                                                "visit.days"), source)
    if "nights" in visit:
        s.number(visit["nights"], "visit.nights", source, whole=True, at_least=0)

    # [budget] and [expenses]
    budget = s.table(d, "budget", source)
    key = "budget.cap_eur"
    cap = s.number(switchable(s.required(budget, key, source, "a number, or false for no cap"), key), key, source,
                   above=0, can_switch_off=True)
    expenses = s.table(d, "expenses", source)
    categories = s.text_list(s.required(expenses, "expenses.categories", source), "expenses.categories", source)
    reference = {}
    for cat, value in s.table(budget, "budget.reference_eur", source, required=False).items():
        if cat not in categories:
            s.fail(source, f"budget.reference_eur.{cat}",
                   f"reference cost for {s.show(cat)}, which is not in `expenses.categories`")
        reference[cat] = s.number(value, f"budget.reference_eur.{cat}", source, at_least=0)

    # [reports]
    reports = s.table(d, "reports", source)
    key = "reports.max_pages"
    max_pages = s.number(switchable(s.required(reports, key, source, "a number of pages, or false"), key), key,
                         source, whole=True, at_least=1, can_switch_off=True)
    key = "reports.language"
    language = s.text(switchable(s.required(reports, key, source, 'a language code such as "en", or false'), key),
                      key, source, pattern=r"[a-z]{2}", form='a two-letter language code such as "en"',
                      can_switch_off=True)
    agenda = s.boolean(switchable(reports.get("agenda_before_visit", True), "reports.agenda_before_visit"),
                       "reports.agenda_before_visit", source)
    report_required = s.boolean(switchable(reports.get("report_required", True), "reports.report_required"),
                                "reports.report_required", source)

    # [themes]
    themes, theme_labels = _themes(d, source, tables)
    threshold = s.number(s.table(d, "cluster_model", source, required=False).get("threshold", 0.8),
                         "cluster_model.threshold", source, above=0, at_most=1)

    return Programme(
        id=pid, name=name, title=title, currency=currency, lead_city=lead, partner_cities=partners,
        officers_per_city=officers, eligible_employer_types=eligible,
        known_employer_types=tuple(dict.fromkeys(known + eligible)), max_concurrent_per_city=concurrent,
        window_start=w0, window_end=w1, periods=periods, visit_days_min=days_min, visit_days_max=days_max,
        cap_eur=cap, reference_eur={c: reference.get(c, 0.0) for c in categories}, expense_categories=categories,
        report_max_pages=max_pages, report_language=language, agenda_before_visit=agenda,
        report_required=report_required, themes=themes, theme_labels=theme_labels, phase_threshold=threshold,
        source_file=source, tables=tables, cluster_model_file=_cluster_model_file(prog, source, tables),
        switched_off=frozenset(off), raw=d,
        **_budget_options(d, source),
        report_structure=parse_report_structure(d, source),
    )


def _tables(prog: dict, source: Path) -> tuple[str, ...]:
    key = "programme.tables"
    if "tables" not in prog:
        return OPTIONAL_TABLES
    value = prog["tables"]
    if value == []:
        return ()
    tables = s.text_list(value, key, source)
    for t in tables:
        if t not in OPTIONAL_TABLES:
            why = " (always used)" if t in REQUIRED_TABLES else ""
            s.fail(source, key, f"{s.show(t)} is not an optional table{why}; the optional tables are "
                   + ", ".join(OPTIONAL_TABLES))
    for t in ("assessments", "links"):
        if t in tables and "clusters" not in tables:
            s.fail(source, key, f'"{t}" needs "clusters" ({t} refer to clusters)')
    return tuple(t for t in OPTIONAL_TABLES if t in tables)


def _periods(d: dict, source: Path, w0: dt.date, w1: dt.date) -> tuple[Period, ...]:
    raw = s.required(d, "periods", source, "one [[periods]] entry per reporting period")
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        s.fail(source, "periods", "must be [[periods]] entries (an array of tables)")
    if not raw:
        s.fail(source, "periods", "at least one [[periods]] entry is needed")
    periods = []
    for i, p in enumerate(raw, start=1):
        where = f"period number {i}"
        pid = s.text(s.required(p, "periods.id", source, where), "periods.id", source)
        where = f"period {pid}: "
        label = s.text(p.get("label", pid), "periods.label", source)
        start = s.date(s.required(p, "periods.start", source, where.rstrip(": ")), "periods.start", source, where)
        end = s.date(s.required(p, "periods.end", source, where.rstrip(": ")), "periods.end", source, where)
        if end < start:
            s.fail(source, "periods.end", f"{where}ends ({end}) before it starts ({start})")
        if pid in RESERVED_PERIOD_IDS:
            s.fail(source, "periods.id", f"{s.show(pid)} is reserved and cannot be a period id "
                   f"({' and '.join(map(s.show, RESERVED_PERIOD_IDS))} are report names)")
        if start < w0 or end > w1:
            s.fail(source, "periods.start" if start < w0 else "periods.end",
                   f"{where}{start} to {end} is not inside the window {w0} to {w1}")
        periods.append(Period(id=pid, label=label, start=start, end=end))
    ids = [p.id for p in periods]
    for pid in ids:
        if ids.count(pid) > 1:
            s.fail(source, "periods.id", f"period ids must be unique; {s.show(pid)} is used {ids.count(pid)} times")
    by_start = sorted(periods, key=lambda p: p.start)
    for a, b in zip(by_start, by_start[1:]):
        if b.start <= a.end:
            s.fail(source, "periods", f"periods {a.id} ({a.start} to {a.end}) and {b.id} ({b.start} to {b.end}) "
                   "overlap; a visit must fall in one period only")
    return tuple(periods)


def _visit_days(value, source: Path) -> tuple[int | None, int | None]:
    key = "visit.days"
    if isinstance(value, dict):
        for bound in ("min", "max"):
            if bound not in value:
                s.fail(source, f"{key}.{bound}", "missing: a range needs both min and max, e.g. "
                       "days = { min = 1, max = 4 }")
        lo = s.number(value["min"], f"{key}.min", source, whole=True, at_least=1)
        hi = s.number(value["max"], f"{key}.max", source, whole=True, at_least=1)
        if lo > hi:
            s.fail(source, key, f"min ({lo}) is more than max ({hi})")
        return lo, hi
    days = s.number(value, key, source, whole=True, at_least=1, can_switch_off=True)
    return days, days


def _themes(d: dict, source: Path, tables: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, str]]:
    themes = s.table(d, "themes", source, required=False)
    if "ids" not in themes:
        if "labels" in themes:
            s.fail(source, "themes.ids", "missing: labels are given, but no theme ids")
        if "practices" in tables:
            s.fail(source, "themes.ids", "missing: the programme uses the practices table, whose theme column "
                   "needs a list of themes")
        return (), {}
    ids = s.text_list(themes["ids"], "themes.ids", source)
    if "labels" not in themes:
        return ids, {t: t.replace("_", " ").capitalize() for t in ids}
    labels = s.text_list(themes["labels"], "themes.labels", source, unique=False)
    if len(labels) != len(ids):
        s.fail(source, "themes.labels", f"{len(labels)} labels for {len(ids)} theme ids; give one label per id, "
               "in the same order")
    return ids, dict(zip(ids, labels))


def _cluster_model_file(prog: dict, source: Path, tables: tuple[str, ...]) -> Path | None:
    """The cluster model file: relative to the programme file's folder, then to the package folder."""
    key = "programme.cluster_model"
    if "cluster_model" not in prog and not set(tables) & set(MODEL_TABLES):
        return None
    name = s.text(prog.get("cluster_model", DEFAULT_CLUSTER_MODEL), key, source)
    given = Path(name)
    candidates = [given] if given.is_absolute() else [source.parent / given, config.PACKAGE_DIR / given]
    for path in candidates:
        if path.is_file():
            return path
    s.fail(source, key, f"cluster model file {s.show(name)} not found (looked in "
           + " and ".join(str(p.parent) for p in candidates) + ")")


def programme_file_for(data_dir: str | Path | None) -> Path:
    """The rules file that applies to a data directory."""
    if data_dir is not None:
        own = Path(data_dir) / config.PROGRAMME_FILENAME
        if own.is_file():
            return own
    return config.DEFAULT_PROGRAMME_FILE


def programme_for(data_dir: str | Path | None) -> Programme:
    return load_programme(programme_file_for(data_dir))
