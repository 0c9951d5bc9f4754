"""Readers' words for column ids and coded values.

Tables keep machine column ids (``host_city``); every page, workbook and CSV
written for people shows these labels instead (``Host city``). A column id
that is not listed here is turned into words by :func:`column_label`, so no
``snake_case`` identifier reaches a reader.
"""
from __future__ import annotations

import pandas as pd

# Column ids whose generic rendering would be wrong or unclear.
COLUMN_LABELS = {
    "exchange_id": "Exchange",
    "exchange_ineligible": "Exchange ineligible because",
    "ineligibility_reason": "Ineligible because",
    "officer_pseudonym": "Officer (pseudonym)",
    "officer_pseudonyms": "Officers (pseudonyms)",
    "home_city": "Home city",
    "host_city": "Host city",
    "home_cities": "Home cities",
    "city": "City",
    "rule_id": "Rule",
    "subject_type": "About",
    "subject_id": "Subject",
    "start_date": "Start",
    "end_date": "End",
    "assessed_on": "Assessed on",
    "created_on": "Created on",
    "from_date": "From",
    "to_date": "To",
    "from_phase": "From phase",
    "to_phase": "To phase",
    "person_days": "Person-days",
    "officers_sent": "Officers who went",
    "officer_places": "Officer places",
    "quota_use": "Places used (%)",
    "connected_pairs": "Connected pairs",
    "reciprocal_pairs": "Reciprocal pairs",
    "partner_pairs": "Possible pairs",
    "connected_share": "Connected (% of pairs)",
    "reciprocal_share": "Reciprocal (% of connected)",
    "largest_component": "Largest connected group (clusters)",
    "components": "Connected groups",
    "cross_city_links": "Links across cities",
    "budget_eur": "Budget (EUR)",
    "previously_reported_eur": "Earlier periods (EUR)",
    "this_period_eur": "This period (EUR)",
    "total_so_far_eur": "Cumulative (EUR)",
    "pct_of_budget": "Budget used (%)",
    "remaining_eur": "Remaining (EUR)",
    "outside_periods_eur": "Outside the periods (EUR)",
    "unconverted_lines": "Lines without exchange rate",
    "total_eur": "Total (EUR)",
    "cap_eur": "Cap (EUR)",
    "overrun_eur": "Above the cap (EUR)",
    "reference_eur": "Reference (EUR)",
    "mean_eur": "Mean per exchange (EUR)",
    "coverage_share": "Themes covered (%)",
    "themes_covered": "Themes covered",
    "transferability": "Transferability (1–5)",
    "criterion_id": "Criterion",
    "missing_criteria": "Criteria not yet met",
    "completion": "Phase completion (%)",
    "exchanges_excluded": "Exchanges left out",
    "rows_read": "Rows read",
    "rows_valid": "Valid rows",
    "rows_quarantined": "Rows set aside",
}


def column_label(name):
    """Reader's header for a column id: listed labels first, else words from the id.

    ``total_so_far_eur`` -> "Cumulative (EUR)"; ``hotel_eur`` -> "Hotel (EUR)";
    ``pct_x`` -> "X (%)". Names that are not lower-case ids (city codes, period ids,
    already human labels) are returned as they are.
    """
    if not isinstance(name, str):
        return name
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    if not name.replace("_", "").isalnum() or name != name.lower() or not any(c.isalpha() for c in name):
        return name
    words = name.split("_")
    unit = ""
    if words[-1] == "eur" and len(words) > 1:
        unit, words = " (EUR)", words[:-1]
    elif words[-1] in ("pct", "share") and len(words) > 1:
        unit, words = " (%)", words[:-1]
    elif words[0] == "pct" and len(words) > 1:
        unit, words = " (%)", words[1:]
    text = " ".join("ID" if w == "id" else w for w in words if w)
    return text[:1].upper() + text[1:] + unit


def value_label(value) -> str:
    """A coded value in words: ``follow_up_visit`` -> "follow up visit"."""
    if not isinstance(value, str):
        return value
    return value.replace("_", " ")


def humanise_values(df: pd.DataFrame, columns: dict[str, dict] | None = None,
                    coded: tuple[str, ...] = ()) -> pd.DataFrame:
    """Replace coded values by their labels: ``columns`` maps a column to {code: label};
    ``coded`` columns without a mapping get :func:`value_label` (underscores to spaces)."""
    out = df.copy()
    for column, mapping in (columns or {}).items():
        if column in out.columns:
            out[column] = out[column].map(lambda v, m=mapping: m.get(v, value_label(v)) if isinstance(v, str) else v)
    for column in coded:
        if column in out.columns and column not in (columns or {}):
            out[column] = out[column].map(value_label)
    return out
