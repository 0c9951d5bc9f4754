"""Programme rules as data.

A programme (CLUSNET, or any other exchange programme) is described by a TOML
file; this module turns it into a typed, read-only :class:`Programme`. A data
directory may carry its own ``programme.toml``; otherwise the bundled CLUSNET
rules apply.
"""
from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from clusnet_analysis import config
from clusnet_analysis.rules.report_structure import ReportStructure, parse_report_structure


class ProgrammeError(ValueError):
    """The programme file is missing, unreadable or incomplete."""


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
    officers_per_city: int
    eligible_employer_types: tuple[str, ...]
    known_employer_types: tuple[str, ...]
    max_concurrent_per_city: int
    window_start: dt.date
    window_end: dt.date
    periods: tuple[Period, ...]
    visit_days: int
    cap_eur: float
    reference_eur: dict[str, float]
    expense_categories: tuple[str, ...]
    report_max_pages: int
    report_language: str
    agenda_before_visit: bool
    report_required: bool
    themes: tuple[str, ...]
    theme_labels: dict[str, str]
    phase_threshold: float
    lead_city: str | None = None
    source_file: Path | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)
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


def _get(d: dict, dotted: str, source: Path):
    cur = d
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            raise ProgrammeError(f"{source}: missing setting [{dotted}]")
        cur = cur[part]
    return cur


def _number(value, dotted: str, source: Path, kind=float):
    """A numeric setting; a wrong value is a ProgrammeError naming the setting, not a traceback."""
    try:
        if isinstance(value, bool):
            raise TypeError
        return kind(value)
    except (TypeError, ValueError) as exc:
        what = "a whole number" if kind is int else "a number"
        raise ProgrammeError(f"{source}: [{dotted}] = {value!r} is not {what}") from exc


def _as_date(value, name: str, source: Path) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ProgrammeError(f"{source}: {name} = {value!r} is not a date (YYYY-MM-DD)") from exc


def load_programme(path: str | Path | None = None) -> Programme:
    """Read a programme file (default: bundled CLUSNET rules)."""
    source = Path(path) if path is not None else config.DEFAULT_PROGRAMME_FILE
    try:
        with open(source, "rb") as fh:
            d = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ProgrammeError(f"{source}: programme file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProgrammeError(f"{source}: not valid TOML ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise ProgrammeError(f"{source}: not valid TOML (the file must be saved as UTF-8)") from exc
    except OSError as exc:  # a folder, no permission…
        raise ProgrammeError(f"{source}: cannot read programme file ({exc.strerror or exc})") from exc

    periods = tuple(
        Period(
            id=str(_get(p, "id", source)),
            label=str(p.get("label", p.get("id"))),
            start=_as_date(_get(p, "start", source), "periods.start", source),
            end=_as_date(_get(p, "end", source), "periods.end", source),
        )
        for p in _get(d, "periods", source)
    )
    if not periods:
        raise ProgrammeError(f"{source}: at least one [[periods]] entry is needed")
    ids = [p.id for p in periods]
    if len(set(ids)) != len(ids):
        raise ProgrammeError(f"{source}: period ids must be unique, got {ids}")
    if "final" in ids or "all" in ids:
        raise ProgrammeError(f"{source}: 'final' and 'all' are reserved and cannot be period ids")
    for p in periods:
        if p.end < p.start:
            raise ProgrammeError(f"{source}: period {p.id} ends before it starts")

    themes = tuple(str(t) for t in d.get("themes", {}).get("ids", []))
    labels = list(d.get("themes", {}).get("labels", []))
    theme_labels = {t: (labels[i] if i < len(labels) else t.replace("_", " ").capitalize())
                    for i, t in enumerate(themes)}
    categories = tuple(str(c) for c in _get(d, "expenses.categories", source))
    reference = {str(k): _number(v, f"budget.reference_eur.{k}", source)
                 for k, v in d.get("budget", {}).get("reference_eur", {}).items()}
    unknown_ref = set(reference) - set(categories)
    if unknown_ref:
        raise ProgrammeError(f"{source}: reference costs for unknown categories {sorted(unknown_ref)}")
    eligible = tuple(str(e) for e in _get(d, "participants.eligible_employer_types", source))
    known = tuple(str(e) for e in d["participants"].get("known_employer_types", eligible))

    return Programme(
        id=str(_get(d, "programme.id", source)),
        name=str(_get(d, "programme.name", source)),
        currency=str(d["programme"].get("currency", "EUR")),
        lead_city=d["programme"].get("lead_city"),
        partner_cities=tuple(str(c) for c in _get(d, "participants.partner_cities", source)),
        officers_per_city=_number(_get(d, "participants.officers_per_city", source), "participants.officers_per_city",
                                  source, int),
        eligible_employer_types=eligible,
        known_employer_types=tuple(dict.fromkeys(known + eligible)),
        max_concurrent_per_city=_number(d["participants"].get("max_concurrent_per_city", 1),
                                        "participants.max_concurrent_per_city", source, int),
        window_start=_as_date(_get(d, "window.start", source), "window.start", source),
        window_end=_as_date(_get(d, "window.end", source), "window.end", source),
        periods=periods,
        visit_days=_number(_get(d, "visit.days", source), "visit.days", source, int),
        cap_eur=_number(_get(d, "budget.cap_eur", source), "budget.cap_eur", source),
        reference_eur={c: reference.get(c, 0.0) for c in categories},
        expense_categories=categories,
        report_max_pages=_number(_get(d, "reports.max_pages", source), "reports.max_pages", source, int),
        report_language=str(_get(d, "reports.language", source)),
        agenda_before_visit=bool(d["reports"].get("agenda_before_visit", True)),
        report_required=bool(d["reports"].get("report_required", True)),
        themes=themes,
        theme_labels=theme_labels,
        phase_threshold=_number(d.get("cluster_model", {}).get("threshold", 0.8), "cluster_model.threshold", source),
        source_file=source,
        raw=d,
        report_structure=parse_report_structure(d, source),
    )


def programme_file_for(data_dir: str | Path | None) -> Path:
    """The rules file that applies to a data directory."""
    if data_dir is not None:
        own = Path(data_dir) / config.PROGRAMME_FILENAME
        if own.is_file():
            return own
    return config.DEFAULT_PROGRAMME_FILE


def programme_for(data_dir: str | Path | None) -> Programme:
    return load_programme(programme_file_for(data_dir))


# ---------------------------------------------------------------- cluster model
@dataclass(frozen=True)
class Criterion:
    id: str
    phase: str
    text: str
    text_sv: str


@dataclass(frozen=True)
class Phase:
    id: str
    order: int
    name: str
    name_sv: str
    results: tuple[Criterion, ...]
    process_support: tuple[str, ...]
    events: tuple[str, ...]
    process_leadership: tuple[str, ...]


@dataclass(frozen=True)
class ClusterModel:
    name: str
    max_score: int
    phases: tuple[Phase, ...]

    @property
    def phase_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.phases)

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for p in self.phases for c in p.results)

    @property
    def criterion_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria)

    def phase(self, phase_id: str) -> Phase:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(phase_id)


def load_cluster_model(path: str | Path | None = None) -> ClusterModel:
    source = Path(path) if path is not None else config.CLUSTER_MODEL_FILE
    with open(source, "rb") as fh:
        d = tomllib.load(fh)
    phases = []
    for p in sorted(d["phases"], key=lambda p: p["order"]):
        results = tuple(Criterion(id=r["id"], phase=p["id"], text=r["text"], text_sv=r.get("text_sv", ""))
                        for r in p["results"])
        phases.append(Phase(id=p["id"], order=int(p["order"]), name=p["name"], name_sv=p.get("name_sv", ""),
                            results=results, process_support=tuple(p.get("process_support", [])),
                            events=tuple(p.get("events", [])),
                            process_leadership=tuple(p.get("process_leadership", []))))
    return ClusterModel(name=d["model"]["name"], max_score=int(d["model"].get("max_score", 2)),
                        phases=tuple(phases))
