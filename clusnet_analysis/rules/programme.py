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
    # Budget options (programme file v2; parsed by _budget_options). Only values written in the
    # file are stored here; derived defaults come from city_allocations() and programme_budget().
    programme_budget_eur: float | None = None      # [budget] programme_budget_eur, or None (= derived)
    allocation_eur: dict[str, float] = field(default_factory=dict)   # [budget.allocation_eur], as written
    conversion_month: str = "start_date"           # [budget] conversion_month
    extra_ineligible_rules: tuple[str, ...] = ()   # [eligibility] extra_ineligible_rules

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
        **_budget_options(d, source),
    )


# ---------------------------------------------------------------- budget options
#: Rules whose finding always makes an exchange ineligible for reimbursement.
ALWAYS_INELIGIBLE_RULES = ("outside_window", "not_partner_city", "home_is_host", "ineligible_employer")
#: Rules that can never make an exchange ineligible, and why (said when a programme file tries).
NEVER_INELIGIBLE_RULES = {
    "over_cap": "going over the cap only limits what is reimbursed",
    "missing_fx_rate": "an expense without an exchange rate leaves its exchange pending",
    "draft_excluded": "drafts are not claims",
}


def _budget_options(d: dict, source: Path) -> dict:
    """The budget and eligibility keys of programme file v2, checked, as Programme fields.

    ``[budget] programme_budget_eur`` (a positive number), ``[budget.allocation_eur]``
    (a positive number per partner city), ``[budget] conversion_month`` ("start_date"
    or the name of a date column of the exchanges table) and ``[eligibility]
    extra_ineligible_rules`` (rule ids that also make an exchange ineligible).
    Missing keys take their defaults; a wrong value is a ProgrammeError naming the key.
    """
    budget = d.get("budget", {}) if isinstance(d.get("budget", {}), dict) else {}
    out: dict = {}
    if "programme_budget_eur" in budget:
        value = _number(budget["programme_budget_eur"], "budget.programme_budget_eur", source)
        if not value > 0:
            raise ProgrammeError(f"{source}: budget.programme_budget_eur: must be more than 0, not {value:g}")
        out["programme_budget_eur"] = value
    allocations = budget.get("allocation_eur", {})
    if not isinstance(allocations, dict):
        raise ProgrammeError(f"{source}: budget.allocation_eur: must be a table of partner city = amount in EUR")
    partners = [str(c) for c in d.get("participants", {}).get("partner_cities", [])]
    checked = {}
    for city, amount in allocations.items():
        key = f"budget.allocation_eur.{city}"
        if str(city) not in partners:
            raise ProgrammeError(f"{source}: {key}: {city} is not a partner city "
                                 f"(partners: {', '.join(partners)}); only partner cities have allocations")
        value = _number(amount, key, source)
        if value < 0:
            raise ProgrammeError(f"{source}: {key}: an allocation cannot be negative ({value:g})")
        checked[str(city)] = value
    out["allocation_eur"] = checked
    month = budget.get("conversion_month", "start_date")
    if not isinstance(month, str) or not month.strip():
        raise ProgrammeError(f"{source}: budget.conversion_month: must be \"start_date\" or the name of a date "
                             f"column of the exchanges table (e.g. \"validated_on\"), not {month!r}")
    out["conversion_month"] = month.strip()
    eligibility = d.get("eligibility", {})
    extra = eligibility.get("extra_ineligible_rules", []) if isinstance(eligibility, dict) else []
    if not isinstance(extra, list) or not all(isinstance(r, str) for r in extra):
        raise ProgrammeError(f"{source}: eligibility.extra_ineligible_rules: must be a list of rule ids, "
                             f"e.g. [\"visit_length\"]")
    from clusnet_analysis.rules.checks import RULES_BY_ID   # checks imports this module

    for rule_id in extra:
        rule = RULES_BY_ID.get(rule_id)
        if rule is None:
            raise ProgrammeError(f"{source}: eligibility.extra_ineligible_rules: unknown rule {rule_id!r} "
                                 f"(rules: {', '.join(RULES_BY_ID)})")
        if rule_id in NEVER_INELIGIBLE_RULES:
            raise ProgrammeError(f"{source}: eligibility.extra_ineligible_rules: {rule_id} cannot make an "
                                 f"exchange ineligible: {NEVER_INELIGIBLE_RULES[rule_id]}")
        if rule.subject not in ("exchange", "officer"):
            raise ProgrammeError(f"{source}: eligibility.extra_ineligible_rules: {rule_id} is about a "
                                 f"{rule.subject}, not an exchange, so it cannot make an exchange ineligible")
    out["extra_ineligible_rules"] = tuple(r for r in dict.fromkeys(extra) if r not in ALWAYS_INELIGIBLE_RULES)
    return out


def _limit(value) -> float | None:
    """A numeric programme limit, or None when the rule is off (false/None)."""
    if value is None or isinstance(value, bool):
        return None
    return float(value)


def ineligible_rules(programme: Programme) -> tuple[str, ...]:
    """Rule ids whose finding makes an exchange ineligible: the four fixed ones, then the programme's extras."""
    return (*ALWAYS_INELIGIBLE_RULES, *programme.extra_ineligible_rules)


def city_allocations(programme: Programme) -> dict[str, float]:
    """Allocation in EUR of each partner city that has one, in programme order.

    ``[budget.allocation_eur]`` where written; otherwise officers_per_city x cap_eur.
    A partner city has no allocation when neither is available (officers_per_city or
    cap_eur switched off and no allocation written). Non-partner cities never have one.
    """
    officers, cap = _limit(programme.officers_per_city), _limit(programme.cap_eur)
    default = officers * cap if officers is not None and cap is not None else None
    out = {}
    for city in programme.partner_cities:
        value = programme.allocation_eur.get(city, default)
        if value is not None:
            out[city] = float(value)
    return out


def programme_budget(programme: Programme) -> float | None:
    """The programme budget in EUR: ``budget.programme_budget_eur`` if written, else the sum of
    the city allocations; None when there is neither."""
    if programme.programme_budget_eur is not None:
        return float(programme.programme_budget_eur)
    allocations = city_allocations(programme)
    return float(sum(allocations.values())) if allocations else None


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
