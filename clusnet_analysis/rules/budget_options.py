"""The budget and eligibility part of the programme file: allocations, the programme budget,
the conversion month, and which rules make an exchange ineligible."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from clusnet_analysis.rules import programme_schema as s
from clusnet_analysis.rules.programme_schema import ProgrammeError

if TYPE_CHECKING:
    from clusnet_analysis.rules.programme import Programme


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
        value = s.number(budget["programme_budget_eur"], "budget.programme_budget_eur", source)
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
        value = s.number(amount, key, source)
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
    from clusnet_analysis.rules.catalogue import RULES_BY_ID   # programme imports this module; catalogue is light

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


