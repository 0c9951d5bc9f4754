"""Budget use as an auditor reads it: claimed, eligible, reimbursable and pending, per period and city.

Claimed = every exchange that is not a draft; eligible = claimed less the exchanges a rule makes
ineligible (outside the window, a non-partner city, home = host, an ineligible employer, and any
rule the programme adds); reimbursable = eligible, validated and fully converted exchanges, each
capped; pending = eligible exchanges not validated yet or not fully converted. Going over the cap
does not make an exchange ineligible: it limits what is reimbursed. Reimbursable is the headline.
"""
from __future__ import annotations

import pandas as pd

from clusnet_analysis.analysis import audit, eligibility
from clusnet_analysis.analysis import budget as an
from clusnet_analysis.rules.programme import city_allocations, programme_budget
from clusnet_analysis.sections.base import FigureSpec, Section, Table
from clusnet_analysis.sections.common import counted, numbers, one_number, per_scope
from clusnet_analysis.sections.labels import humanise_values, value_label
from clusnet_analysis.sections.view import PeriodView

TITLE = "Budget use"
LIVING_COST_NOTE = ("1.00 = the programme median; travel is left out (it depends on distance, not on the "
                    "living standard of the host country).")


def _percent(frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Columns holding 0–100 percentages as shares (0–1), so every page shows them the same way."""
    columns = tuple(c for c in frame.columns if "%" in str(c))
    out = frame.copy()
    for c in columns:
        out[c] = out[c].astype("float64") / 100
    return out, columns


def classified(view: PeriodView) -> pd.DataFrame:
    """Every counted exchange the view knows, classified (eligible, validated, the four amounts).

    Computed once per view: the budget, the cross-city comparison and the practices read the same one.
    """
    cache = view.__dict__
    if "_classified" not in cache:
        cache["_classified"] = eligibility.classify_exchanges(view.exchanges, view.costs, view.findings,
                                                              view.programme)
    return cache["_classified"]


def ineligible_marks(view: PeriodView) -> pd.Series:
    """exchange_id -> why it is ineligible, for the exchanges a rule makes ineligible (others absent)."""
    c = classified(view)
    bad = c.loc[~c["eligible"].astype(bool)]
    return pd.Series(bad["ineligibility_reason"].to_numpy(), index=bad["exchange_id"].to_numpy(), dtype=object)


def budget(view: PeriodView) -> Section:
    prog = view.programme
    section = Section("budget", TITLE, view.period)
    c = classified(view)
    main = view.main_scope
    mc = main.select(c)

    section.key_numbers += numbers(view, "reimbursable", "Reimbursable", "EUR",
                                   per_scope(view, c, lambda r: round(float(r["reimbursable_eur"].sum()), 2)))
    section.key_numbers += numbers(view, "claimed", "Claimed", "EUR",
                                   per_scope(view, c, lambda r: round(float(r["claimed_eur"].sum()), 2)))
    totals = {k: round(float(mc[f"{k}_eur"].sum()), 2) for k in ("eligible", "ineligible", "pending", "cap_cut")}
    section.key_numbers += [
        one_number(view, "eligible", "Eligible", "EUR", totals["eligible"]),
        one_number(view, "pending", "Pending (eligible, not yet validated or converted)", "EUR", totals["pending"]),
        one_number(view, "ineligible", "Ineligible", "EUR", totals["ineligible"]),
        one_number(view, "ineligible_exchanges", "Ineligible exchanges", "exchanges", int((~mc["eligible"]).sum())),
        one_number(view, "cap_cut", "Above the cap (not reimbursed)", "EUR", totals["cap_cut"]),
    ]
    whole = programme_budget(prog)
    reimbursable = float(mc["reimbursable_eur"].sum())
    if whole:
        section.key_numbers += [one_number(view, "budget", "Programme budget", "EUR", whole),
                                one_number(view, "budget_used", "Programme budget reimbursed", "%",
                                           reimbursable / whole)]
    costs = main.select(counted(view.costs))
    check = an.exchange_budget_check(costs, prog) if prog.cap_eur else costs.iloc[0:0]
    over = check.loc[check["over_cap"]] if len(check) else check
    section.key_numbers.append(one_number(view, "exchanges_over_cap", "Exchanges over the cap", "exchanges",
                                          len(over)))
    unconverted = int(mc["unconverted_lines"].sum())
    section.key_numbers.append(one_number(view, "unconverted_lines", "Expense lines without an exchange rate",
                                          "lines", unconverted))

    conversion = audit.conversion_month_text(prog)
    overview, pct = _percent(audit.budget_overview(mc, prog))
    section.tables.append(Table("overview", f"Where the claimed money stands, {main.label}", overview,
                                percent_columns=pct, note=conversion + " Drafts are left out."))
    by_period = eligibility.budget_amounts(c, prog, by="period")
    by_period["period"] = by_period["period"].fillna("outside the periods")
    if not view.is_final:   # a period report knows nothing of the periods after it
        by_period = by_period.loc[by_period["period"].isin(view.scopes[-1].periods)].reset_index(drop=True)
    section.tables.append(Table("amounts_by_period", "Claimed, eligible, reimbursable and pending, per period",
                                by_period, note="Each exchange counts in the period its visit started in."))
    for by, id, title in (("home_city", "by_city", "Monitoring table by home city (the home city pays)"),
                          ("category", "by_category", "Monitoring table by cost category")):
        table = audit.monitoring_table(c, prog, view.period, by=by, expenses=view.expenses if by == "category"
                                       else None, amounts=("reimbursable",))
        frame, pct = _percent(table)
        frame = humanise_values(frame, coded=("Cost category",))
        t = Table(id, title, frame, percent_columns=pct,
                  note="Reimbursable amounts per period; 'validated by the end of' counts only claims validated "
                       "by then. " + conversion)
        for column in pct:
            if column.startswith("Eligible"):
                t.highlight(column, frame[column] > 1 + 1e-9, "over allocation" if by == "home_city"
                            else "over budget", "eligible spend is above the city's allocation" if by == "home_city"
                            else "eligible spend is above the category's budget")
        section.tables.append(t)
    open_claims = c.loc[c["state"] != "reimbursable", ["exchange_id", "home_city", "host_city", "period", "state",
                                                       "ineligibility_reason", "pending_reason", "claimed_eur"]]
    open_claims = open_claims.assign(period=open_claims["period"].fillna("outside the periods"))
    t = Table("not_reimbursed", "Exchanges not (yet) reimbursed", open_claims.reset_index(drop=True),
              note="Ineligible and pending exchanges still count in the flows and practices of the other reports.")
    t.highlight("state", open_claims["state"] == "ineligible", "ineligible", "a programme rule excludes the exchange")
    section.tables.append(t)

    cap_text = f"{prog.cap_eur:,.0f} EUR" if prog.cap_eur else "no cap"
    if len(over):
        over = over.loc[:, ["exchange_id", "home_city", "host_city", "period", "total_eur", "cap_eur",
                            "overrun_eur", "unconverted_lines"]].reset_index(drop=True)
    t = Table("over_cap", f"Exchanges over the cap of {cap_text}, {main.label}",
              over if len(over) else pd.DataFrame(columns=["exchange_id", "total_eur"]),
              note="An exchange at exactly the cap is within it. The part above the cap is not reimbursed.")
    if len(over):
        t.highlight("overrun_eur", over["overrun_eur"] > 0, "over cap", "the exchange costs more than the cap")
    section.tables.append(t)
    lines = main.select(counted(view.expenses)).assign(amount_eur=lambda d: d["amount_eur"].astype("float64"))
    by_ref = an.category_vs_reference(lines, prog)
    by_ref_shown = by_ref.assign(category=by_ref["category"].map(value_label))
    section.tables.append(Table("cost_per_exchange", f"Mean cost per exchange by category, {main.label}",
                                by_ref_shown, note="An exchange without a line in a category counts as 0 EUR "
                                                   "for it. Every claimed exchange counts here, eligible or not."))
    living = [c for c in prog.expense_categories if c != "travel" and c in prog.reference_eur]
    if living and len(living) < len(prog.expense_categories):
        level = an.cost_level_by_host(costs, prog, categories=living)
        section.tables.append(Table("cost_level", f"Median cost per day by host city, {main.label}", level,
                                    note=LIVING_COST_NOTE))
    ledger = audit.audit_ledger(view.ds, prog)
    ledger = ledger.loc[ledger["Exchange"].isin(view.exchanges["exchange_id"])].reset_index(drop=True)
    ledger = humanise_values(ledger, coded=("Category",))
    section.tables.append(Table("audit_ledger", "Audit ledger: every expense line, then each exchange's total",
                                ledger, note=conversion))

    amounts = eligibility.budget_amounts(mc, prog, by="home_city")
    allocations = city_allocations(prog)
    section.figures.append(FigureSpec(
        "02_budget_by_city", f"Where each home city's claims stand, {main.label}",
        lambda: _city_figure(amounts, allocations, f"Claims by home city, {main.label}: {view.label}"),
        alt=(f"Horizontal bars per home city splitting {totals['eligible'] + totals['ineligible']:,.0f} EUR claimed "
             f"into reimbursable, pending, above the cap and ineligible, with each city's allocation marked, "
             f"{main.label}.")))
    section.figures.append(FigureSpec(
        "03_budget_by_category", "Cost per exchange by category against the reference",
        lambda: _category_figure(by_ref, f"Cost per exchange vs reference, {main.label}: {view.label}"),
        alt=f"Bars of the mean cost per exchange in each category next to the programme's reference, {main.label}."))
    claimed = totals["eligible"] + totals["ineligible"]
    section.readings.append(
        f"Of {claimed:,.2f} EUR claimed ({main.label}), {totals['eligible']:,.2f} EUR is eligible: "
        f"{reimbursable:,.2f} EUR is reimbursable"
        + (f" ({reimbursable / whole:.0%} of the programme budget of {whole:,.0f} EUR)" if whole else "")
        + f" and {totals['pending']:,.2f} EUR is pending. {int((~mc['eligible']).sum())} exchange(s) are ineligible "
        f"({totals['ineligible']:,.2f} EUR); {totals['cap_cut']:,.2f} EUR above the cap is not reimbursed. "
        f"{unconverted} expense line(s) have no exchange rate yet.")
    return section


def _city_figure(amounts, allocations, title):
    from clusnet_analysis.plots.budget_amounts import budget_amounts_figure

    return budget_amounts_figure(amounts, allocations, title=title)


def _category_figure(table, title):
    from clusnet_analysis.plots.budget import budget_by_category_figure

    return budget_by_category_figure(table, title=title)
