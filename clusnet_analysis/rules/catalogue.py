"""The programme rules' catalogue: every rule with its severity, subject, description and setting,
and the shape of a finding."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the catalogue is read when a programme file is checked, before any table is loaded
    import pandas as pd

FINDING_COLUMNS = ["rule_id", "severity", "subject_type", "subject_id", "exchange_id", "home_city",
                   "period", "message", "value", "limit"]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str   # error: breaks a programme rule; warning: needs a look; info: for the record
    subject: str
    description: str
    setting: str | None = None   # the programme-file key that sets the rule's limit (and can switch it off)
    reason: str = ""   # a few words for the budget pages when this rule makes an exchange ineligible


RULES: tuple[Rule, ...] = (
    Rule("over_cap", "error", "exchange", "Exchange costs more than the cap per exchange", "budget.cap_eur",
         "costs above the cap per exchange"),
    Rule("outside_window", "error", "exchange", "Visit not inside the eligibility window",
         reason="visit outside the programme window"),
    Rule("outside_periods", "error", "exchange", "Visit starts inside the window but in no reporting period",
         reason="visit in no reporting period"),
    Rule("officer_quota", "error", "city", "More officers registered for a city than its quota",
         "participants.officers_per_city"),
    Rule("over_allocation", "error", "city", "Eligible spend of a home city is over its allocation"),
    Rule("ineligible_employer", "error", "officer", "Officer not employed by an eligible type of employer",
         reason="officer's employer is not eligible"),
    Rule("concurrent_absence", "error", "exchange",
         "More officers of one home city away at the same time than the programme allows",
         "participants.max_concurrent_per_city", "too many officers of the home city away at the same time"),
    Rule("home_is_host", "error", "exchange", "Officer visits their own city", reason="officer visited their own city"),
    Rule("not_partner_city", "error", "exchange", "Home or host city is not a partner city",
         reason="home or host city is not a partner city"),
    Rule("visit_length", "warning", "exchange", "Visit shorter or longer than the programme's visits "
         "(first and last day included)", "visit.days", "visit not of the programme's length"),
    Rule("agenda_not_sent", "warning", "exchange", "Final agenda not sent to the coordinator before the visit",
         "reports.agenda_before_visit", "final agenda not sent before the visit"),
    Rule("report_missing", "warning", "exchange", "No report received for a submitted or validated exchange",
         "reports.report_required", "no report received"),
    Rule("report_too_long", "warning", "exchange", "Report longer than the page limit", "reports.max_pages",
         "report too long"),
    Rule("report_language", "warning", "exchange", "Report not written in the programme's language",
         "reports.language", "report not in the programme's language"),
    Rule("missing_fx_rate", "error", "expense",
         "Expense in a currency and month without an exchange rate: not converted, left out of EUR totals"),
    Rule("draft_excluded", "info", "exchange", "Draft exchange: listed, but left out of every total and rule"),
)
RULES_BY_ID = {r.id: r for r in RULES}


def _finding(rule_id: str, subjects: pd.Series, messages, *, exchange_id=None, home_city=None, period=None,
             value=None, limit=None) -> pd.DataFrame:
    """Findings of one rule. Each of the other columns is a Series or list (one value per subject),
    a plain string (the same on every row) or None (empty)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from clusnet_analysis.ingest._arrow import TEXT, str_series

    rule = RULES_BY_ID[rule_id]
    n = len(subjects)

    def col(x):
        if x is None:
            return pd.Series(np.full(n, np.nan), dtype="str")
        if isinstance(x, str):   # built in Arrow: a million-item list of one string is slow to convert
            return str_series(pa.repeat(pa.scalar(x, TEXT), n))
        if isinstance(x, pd.Series):
            return (x if x.dtype == "str" else x.astype("str")).reset_index(drop=True)
        return pd.Series(np.asarray(x, dtype=object), dtype="str")

    return pd.DataFrame({
        "rule_id": col(rule_id), "severity": col(rule.severity), "subject_type": col(rule.subject),
        "subject_id": col(subjects),
        "exchange_id": col(exchange_id), "home_city": col(home_city), "period": col(period),
        "message": col(messages if isinstance(messages, (pd.Series, str)) else list(messages)),
        "value": col(value), "limit": col(limit),
    }, index=pd.RangeIndex(n))


