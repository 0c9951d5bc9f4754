"""The budget an auditor signs: the monitoring table, the overview, the audit ledger."""
from __future__ import annotations

import numpy as np
import pandas as pd

from clusnet_analysis.analysis.budget import TOTAL, _pct
from clusnet_analysis.analysis.periods import FINAL, check_period
from clusnet_analysis.ingest._arrow import isin
from clusnet_analysis.rules.programme import Programme, city_allocations, programme_budget
from clusnet_analysis.analysis.eligibility import (
    AMOUNT_COLUMNS, AMOUNTS, PENDING, REIMBURSABLE, _KEY_WORDS, _order_keys, _sum_rows,
    category_split, classify_exchanges, has_validation_dates, _in_scope)


def monitoring_table(classified: pd.DataFrame, programme: Programme, period: str, by: str = "home_city",
                     expenses: pd.DataFrame | None = None, amounts: tuple[str, ...] | list[str] = tuple(AMOUNTS),
                     total: bool = True) -> pd.DataFrame:
    """The monitoring table of a report: the four amounts per home city or cost category.

    ``period`` is a reporting period id or ``"final"``; ``by`` is ``"home_city"``
    (with each partner city's allocation) or ``"category"`` (needs ``expenses``;
    budget = reference cost x planned exchanges); ``amounts`` picks and orders the
    amounts (default all four: claimed, eligible, reimbursable, pending).
    Column names are for readers (Excel, pages):

    - first the key ("Home city" and "Partner": "yes" / "not a partner", or
      "Cost category"), then "Allocation (EUR)" or "Budget (EUR)";
    - **final report**: for each amount A, one column per period "A, P1 (EUR)" …,
      then "A, outside the periods (EUR)" and "A, total (EUR)";
    - **a period P**: "A, this period (EUR)" (visits that started in P) and
      "A, cumulative (EUR)" (visits that started by the end of P);
    - when the exchanges carry ``validated_on`` dates, beside each period column
      (final: "A, P1, validated by the end of P1 (EUR)") or beside this period and
      cumulative ("A, this period, validated by the end of the period (EUR)"): the
      part of the amount whose exchanges were validated on or before that period's end;
    - then, for the total (final) or cumulative (period) scope: "Exchanges claimed" (per
      category: exchanges with a line in it; the total row counts each exchange once),
      "Ineligible (EUR)", "Above the cap (EUR)", "Eligible, % of allocation" and
      "Reimbursable, % of allocation" (or "… % of budget"), "Unconverted expense lines".

    An exchange's period is the period its visit started in. Rows: partner cities
    (or programme categories) in programme order, then others seen, then "total"
    (sums; percentages recomputed). A non-partner home city has no allocation.
    """
    check_period(programme, period)
    if by not in _KEY_WORDS:
        raise ValueError(f"by must be 'home_city' or 'category', not {by!r}")
    unknown = [a for a in amounts if a not in AMOUNTS]
    if unknown:
        raise ValueError(f"unknown amounts {unknown}; choose from {', '.join(AMOUNTS)}")
    scope, scope_end = _in_scope(classified, programme, period)
    validation = has_validation_dates(classified)
    ids = list(programme.period_ids)

    if by == "category":
        if expenses is None:
            raise ValueError("amounts by category need the expense lines (expenses=...)")
        split = category_split(scope, expenses, programme).assign(exchanges=1)   # once, then sliced
        scope = scope.assign(_pos=np.arange(len(scope)))
        split["_pos"] = pd.Index(scope["exchange_id"]).get_indexer(split["exchange_id"])

    def sums(frame: pd.DataFrame) -> pd.DataFrame:
        rows = (split.loc[np.isin(split["_pos"].to_numpy(), frame["_pos"].to_numpy())] if by == "category"
                else frame.assign(exchanges=1))
        table = _sum_rows(rows, [by], programme).set_index(by)
        return table[AMOUNT_COLUMNS].reindex(keys, fill_value=0)

    def validated_by(frame: pd.DataFrame, end) -> pd.DataFrame:
        return frame.loc[frame["validated_on"].notna() & (frame["validated_on"] <= pd.Timestamp(end))]

    seen = split["category"] if by == "category" else scope[by]
    keys = _order_keys(by, programme, seen)
    out = pd.DataFrame({_KEY_WORDS[by]: keys})
    if by == "home_city":
        out["Partner"] = ["yes" if c in programme.partner_cities else "not a partner" for c in keys]
        allocation = city_allocations(programme)
        budget_word = "allocation"
        out["Allocation (EUR)"] = [allocation.get(c, np.nan) for c in keys]
    else:
        budget_word = "budget"
        planned = _planned(programme)
        out["Budget (EUR)"] = [programme.reference_eur[c] * planned if c in programme.reference_eur and planned
                               else np.nan for c in keys]
    budget_column = out.columns[-1]

    slices: list[tuple[str, pd.DataFrame, str | None]] = []   # (label, frame, end of period for validation)
    if period == FINAL:
        for pid in ids:
            slices.append((pid, scope.loc[scope["period"] == pid], pid))
        slices.append(("outside the periods", scope.loc[~scope["period"].isin(ids)], None))
        slices.append(("total", scope, None))
    else:
        slices.append(("this period", scope.loc[scope["period"] == period], "the period"))
        slices.append(("cumulative", scope, "the period"))
    columns: dict[str, np.ndarray] = {}
    for label, frame, end_label in slices:
        table = sums(frame)
        checked = None
        if validation and end_label is not None:
            end = programme.period(end_label).end if end_label in ids else scope_end
            checked = sums(validated_by(frame, end))
        for a in amounts:
            columns[f"{AMOUNTS[a]}, {label} (EUR)"] = table[f"{a}_eur"].to_numpy()
            if checked is not None:
                columns[f"{AMOUNTS[a]}, {label}, validated by the end of {end_label} (EUR)"] = \
                    checked[f"{a}_eur"].to_numpy()
    # Amounts first in the order asked, each with its periods side by side.
    ordered = [c for a in amounts for c in columns if c.startswith(f"{AMOUNTS[a]}, ")]
    for c in ordered:
        out[c] = columns[c]
    whole = sums(scope)
    out["Exchanges claimed"] = whole["exchanges"].to_numpy()
    out["Ineligible (EUR)"] = whole["ineligible_eur"].to_numpy()
    out["Above the cap (EUR)"] = whole["cap_cut_eur"].to_numpy()
    out["_eligible"] = whole["eligible_eur"].to_numpy()
    out["_reimbursable"] = whole["reimbursable_eur"].to_numpy()
    out["Unconverted expense lines"] = whole["unconverted_lines"].to_numpy()
    key = out.columns[0]
    if total:
        sum_columns = [c for c in out.columns if c not in (key, "Partner")]
        row = {key: TOTAL, **{c: out[c].sum(min_count=1) if c == budget_column else out[c].sum()
                              for c in sum_columns}}
        row["Exchanges claimed"] = len(scope)   # per category an exchange counts in each of its categories
        if "Partner" in out.columns:
            row["Partner"] = ""
        out = pd.concat([out, pd.DataFrame([row])], ignore_index=True)
    money = [c for c in out.columns if c.endswith("(EUR)")]
    out[money] = out[money].astype("float64").round(2)
    out = out.astype({"Exchanges claimed": "int64", "Unconverted expense lines": "int64"})
    position = out.columns.get_loc("Unconverted expense lines")
    out.insert(position, f"Eligible, % of {budget_word}", _pct(out["_eligible"], out[budget_column]).round(1))
    out.insert(position + 1, f"Reimbursable, % of {budget_word}",
               _pct(out["_reimbursable"], out[budget_column]).round(1))
    return out.drop(columns=["_eligible", "_reimbursable"])


def _planned(programme: Programme) -> int | None:
    """Planned exchanges (officers_per_city x partner cities); None without an officer quota."""
    officers = programme.officers_per_city
    if officers is None or isinstance(officers, bool):
        return None
    return int(officers) * len(programme.partner_cities)


def budget_overview(classified: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """The programme's headline money figures, one per row, for a page or a sheet.

    Columns: "Amount", "EUR", "Exchanges", and "% of programme budget" when the programme
    has a budget (without one the column would be empty, so it is left out). Rows, in this
    order: "Programme budget" (``budget.programme_budget_eur`` or the sum of the
    city allocations; omitted when there is neither), "Claimed", "Ineligible",
    "Eligible", "Above the cap (not reimbursed)", "Reimbursable", "Pending".
    "Exchanges" counts the exchanges behind each amount (for "Above the cap": those
    over the cap; for the programme budget: the planned exchanges, officers_per_city
    x partner cities, 0 without an officer quota). Reimbursable is the headline figure.
    """
    budget = programme_budget(programme)
    c = classified
    rows = [
        ("Claimed", c["claimed_eur"].sum(), len(c)),
        ("Ineligible", c["ineligible_eur"].sum(), int((~c["eligible"]).sum())),
        ("Eligible", c["eligible_eur"].sum(), int(c["eligible"].sum())),
        ("Above the cap (not reimbursed)", c["cap_cut_eur"].sum(), int((c["cap_cut_eur"] > 0).sum())),
        ("Reimbursable", c["reimbursable_eur"].sum(), int((c["state"] == REIMBURSABLE).sum())),
        ("Pending", c["pending_eur"].sum(), int((c["state"] == PENDING).sum())),
    ]
    if budget is not None:
        rows.insert(0, ("Programme budget", budget, _planned(programme) or 0))
    out = pd.DataFrame(rows, columns=["Amount", "EUR", "Exchanges"])
    out["EUR"] = out["EUR"].astype("float64").round(2)
    if budget:
        out["% of programme budget"] = (100 * out["EUR"] / budget).round(1)
    return out


def conversion_month_text(programme: Programme) -> str:
    """One sentence for a page: which month's exchange rate converts expenses to EUR."""
    column = programme.conversion_month
    if column == "start_date":
        return ("Expenses in other currencies are converted to EUR at the monthly exchange rate of the month "
                "in which the visit started.")
    words = column.replace("_", " ")
    return (f"Expenses in other currencies are converted to EUR at the monthly exchange rate of the month of "
            f"the exchange's \u201c{words}\u201d date (`{column}`); an exchange without that date stays pending.")


#: Columns of audit_ledger().
LEDGER_COLUMNS = ["Exchange", "Row", "Officer", "Home city", "Host city", "Visit start", "Period",
                  "Expense line", "Category", "Amount", "Currency", "Rate (units per EUR)", "Rate month",
                  "EUR", "Above the cap (EUR)", "Reimbursable (EUR)", "Pending (EUR)", "Eligible",
                  "Ineligibility reason", "Status", "Why pending"]


def audit_ledger(ds_or_tables, programme: Programme) -> pd.DataFrame:
    """Every counted exchange's expense lines, then its outcome: the ledger an auditor checks.

    ``ds_or_tables`` is a loaded dataset (``dataset.load``) or a dict of validated
    tables (the derived tables and findings are then built here).

    For each counted exchange (drafts are not claims), in the order of the
    exchanges table: one row per expense line ("Row" = "expense line": expense id,
    category, amount, currency, rate in units per EUR, the rate's month and the
    EUR amount; a line without a rate has EUR empty), then one "exchange total" row:
    EUR = claimed, the part above the cap, reimbursable, pending, eligible
    ("yes"/"no") with the reason, the status ("reimbursable", "pending",
    "ineligible") and why it is pending. An exchange without lines has only its
    total row. Columns: LEDGER_COLUMNS. The EUR of the total rows add up to the
    claimed total; their reimbursable and pending columns to those totals.
    """
    if hasattr(ds_or_tables, "findings"):
        view, expenses, costs, findings = (ds_or_tables.exchanges, ds_or_tables.expenses, ds_or_tables.costs,
                                           ds_or_tables.findings)
    else:
        from clusnet_analysis.ingest.transforms import exchange_costs, exchanges_view, expenses_eur
        from clusnet_analysis.rules.checks import check_rules

        tables = ds_or_tables
        view = exchanges_view(tables, programme)
        expenses = expenses_eur(tables, programme, view)
        costs = exchange_costs(tables, programme, view, expenses)
        findings = check_rules(tables, programme, view, expenses, costs)
    c = classify_exchanges(view, costs, findings, programme)
    c["_order"] = np.arange(len(c))
    ident = {"Exchange": c["exchange_id"],
             "Officer": c["officer_pseudonym"] if "officer_pseudonym" in c.columns else pd.NA,
             "Home city": c["home_city"], "Host city": c["host_city"],
             "Visit start": c["start_date"].dt.strftime("%Y-%m-%d") if "start_date" in c.columns else pd.NA,
             "Period": c["period"], "_order": c["_order"]}
    head = pd.DataFrame(ident)
    lines = expenses.loc[isin(expenses["exchange_id"], c["exchange_id"])]
    line_rows = pd.DataFrame({
        "Exchange": lines["exchange_id"].to_numpy(), "Row": "expense line",
        "Expense line": lines["expense_id"].to_numpy(), "Category": lines["category"].to_numpy(),
        "Amount": lines["amount"].to_numpy(), "Currency": lines["currency"].to_numpy(),
        "Rate (units per EUR)": lines["units_per_eur"].to_numpy(), "Rate month": lines["month"].to_numpy(),
        "EUR": lines["amount_eur"].to_numpy(), "_kind": 0, "_line": np.arange(len(lines)),
    }).merge(head, on="Exchange", how="left")
    total_rows = head.assign(**{
        "Row": "exchange total", "EUR": c["claimed_eur"].to_numpy(),
        "Above the cap (EUR)": c["cap_cut_eur"].to_numpy(),
        "Reimbursable (EUR)": c["reimbursable_eur"].to_numpy(), "Pending (EUR)": c["pending_eur"].to_numpy(),
        "Eligible": np.where(c["eligible"], "yes", "no"), "Ineligibility reason": c["ineligibility_reason"].to_numpy(),
        "Status": c["state"].to_numpy(), "Why pending": c["pending_reason"].to_numpy(), "_kind": 1, "_line": 0,
    })
    out = pd.concat([line_rows, total_rows], ignore_index=True)
    out = out.sort_values(["_order", "_kind", "_line"], kind="stable").reset_index(drop=True)
    return out.reindex(columns=LEDGER_COLUMNS)
