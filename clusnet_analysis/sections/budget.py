"""Budget use: spend per cost category and home city against the budget, the cap, the cost level."""
from __future__ import annotations

import pandas as pd

from clusnet_analysis.analysis import budget as an
from clusnet_analysis.sections.base import FigureSpec, Section, Table
from clusnet_analysis.sections.common import counted, numbers, one_number, per_scope
from clusnet_analysis.sections.labels import value_label
from clusnet_analysis.sections.view import PeriodView

TITLE = "Budget use"
NOT_PARTNER = " (not a partner)"


def monitoring_table(view: PeriodView, lines: pd.DataFrame, by: str) -> pd.DataFrame:
    """Budget, spend per scope, % of budget used and what remains, per category or home city.

    A semester shows earlier periods, this period and cumulative; the final report one
    column per period, outside the periods and the total. The last row is the total.
    """
    prog = view.programme
    budgets = (an.interreg_table(view.ds.expenses, prog, view.period, by=by, total=False)
               .set_index(by)["budget_eur"])
    keys = list(budgets.index)
    keys += sorted(set(lines[by].dropna()) - set(keys))
    out = pd.DataFrame(index=pd.Index(keys, name=by))
    budget_values = budgets.reindex(keys)
    out["budget_eur"] = budget_values.where(budget_values > 0).to_numpy()  # no reference: no budget
    if not view.is_final:
        earlier = lines.loc[lines["period"].isin(view.periods_covered[:-1])]
        out["Earlier periods (EUR)"] = earlier.groupby(by)["amount_eur"].sum().reindex(keys).fillna(0).to_numpy()
    for scope in view.scopes:
        amounts = scope.select(lines).groupby(by)["amount_eur"].sum().reindex(keys).fillna(0)
        out[f"{scope.label[:1].upper()}{scope.label[1:]} (EUR)"] = amounts.to_numpy()
    main = view.main_scope.select(lines)
    out["unconverted_lines"] = main["amount_eur"].isna().groupby(main[by]).sum().reindex(keys).fillna(0).astype(
        "int64").to_numpy()
    total = out.sum(numeric_only=True).to_frame().T
    total.index = pd.Index(["total"], name=by)
    out = pd.concat([out, total])
    out["unconverted_lines"] = out["unconverted_lines"].astype("int64")
    spent = out.iloc[:, -2]
    out["pct_of_budget"] = (spent / out["budget_eur"].where(out["budget_eur"] > 0)).astype("float64")
    out["remaining_eur"] = out["budget_eur"] - spent
    if by == "home_city":
        out.index = [c if c in prog.partner_cities or c == "total" else f"{c}{NOT_PARTNER}" for c in out.index]
        out.index.name = "home_city"
    else:
        out.index = [value_label(c) for c in out.index]
        out.index.name = "category"
    return out


def budget(view: PeriodView) -> Section:
    prog = view.programme
    section = Section("budget", TITLE, view.period)
    lines = counted(view.expenses).assign(amount_eur=lambda d: d["amount_eur"].astype("float64"))
    costs = counted(view.costs)
    main = view.main_scope
    main_costs = main.select(costs)

    section.key_numbers += numbers(view, "spent", "Spent", "EUR",
                                   per_scope(view, lines, lambda r: round(float(r["amount_eur"].sum()), 2)))
    by_city = monitoring_table(view, lines, "home_city")
    by_category = monitoring_table(view, lines, "category")
    programme_budget = float(an.planned_exchanges(prog) * prog.cap_eur)
    spent_main = float(main.select(lines)["amount_eur"].sum())
    section.key_numbers.append(one_number(view, "budget", "Programme budget", "EUR", programme_budget))
    section.key_numbers.append(one_number(view, "budget_used", "Programme budget used", "%",
                                          spent_main / programme_budget if programme_budget else float("nan")))
    check = an.exchange_budget_check(main_costs, prog)
    over = check.loc[check["over_cap"]]
    section.key_numbers.append(one_number(view, "exchanges_over_cap", "Exchanges over the cap", "exchanges",
                                          len(over)))
    unconverted = int(main.select(lines)["amount_eur"].isna().sum())
    section.key_numbers.append(one_number(view, "unconverted_lines", "Expense lines without an exchange rate",
                                          "lines", unconverted))

    note = ("Amounts in EUR at the exchange rate of the month the visit started; counted by the period the "
            "visit started in. Drafts are left out.")
    for frame, id, title in ((by_category, "by_category", "Spend by cost category"),
                             (by_city, "by_city", "Spend by home city (the home city pays)")):
        t = Table(id, title, frame, index=True, percent_columns=("pct_of_budget",), note=note)
        t.highlight("pct_of_budget", frame["pct_of_budget"] > 1 + 1e-9, "over budget",
                    "spend is above the budget (allocation)")
        t.highlight("remaining_eur", frame["remaining_eur"] < -0.005, "overspent", "less than nothing remains")
        section.tables.append(t)
    over_shown = over.loc[:, ["exchange_id", "home_city", "host_city", "period", "total_eur", "cap_eur",
                              "overrun_eur", "unconverted_lines"]].reset_index(drop=True)
    t = Table("over_cap", f"Exchanges over the cap of {prog.cap_eur:,.0f} EUR, {main.label}", over_shown,
              note="An exchange at exactly the cap is within it. Lines without an exchange rate are missing "
                   "from the totals.")
    t.highlight("overrun_eur", over_shown["overrun_eur"] > 0, "over cap", "the exchange costs more than the cap")
    section.tables.append(t)
    by_ref = an.category_vs_reference(main.select(lines), prog)
    by_ref = by_ref.assign(category=by_ref["category"].map(value_label))
    section.tables.append(Table("cost_per_exchange", f"Mean cost per exchange by category, {main.label}", by_ref,
                                note="An exchange without a line in a category counts as 0 EUR for it."))
    level_cats = [c for c in prog.expense_categories if c in ("accommodation", "meals", "local_transport")]
    if level_cats:
        level = an.cost_level_by_host(main_costs, prog, categories=level_cats)
        section.tables.append(Table("cost_level", f"Median cost per day by host city, {main.label}", level,
                                    note="1.00 = the programme median; travel is left out (it depends on "
                                         "distance, not on the living standard of the host country)."))

    figure_table = an.interreg_table(view.ds.expenses.loc[view.ds.expenses["exchange_id"].isin(
        view.exchanges["exchange_id"])], prog, view.period, by="home_city")
    section.figures.append(FigureSpec(
        "02_budget_by_city", "Spend against allocation by home city",
        lambda: _city_figure(figure_table, f"Spend vs allocation by home city, {main.label}: {view.label}"),
        alt=(f"Bars of spend against each home city's allocation, {main.label}; "
             f"{int((by_city['pct_of_budget'].iloc[:-1] > 1).sum())} cities are over their allocation.")))
    section.figures.append(FigureSpec(
        "03_budget_by_category", "Cost per exchange by category against the reference",
        lambda: _category_figure(by_ref.assign(category=an.category_vs_reference(main.select(lines), prog)
                                               ["category"]),
                                 f"Cost per exchange vs reference, {main.label}: {view.label}"),
        alt=f"Bars of the mean cost per exchange in each category next to the programme's reference, {main.label}."))
    section.readings.append(
        f"{spent_main:,.2f} EUR spent, {main.label}: {spent_main / programme_budget:.0%} of the programme budget of "
        f"{programme_budget:,.0f} EUR. {len(over)} exchange(s) went over the cap of {prog.cap_eur:,.0f} EUR. "
        f"{unconverted} expense line(s) have no exchange rate and are missing from these totals."
        if programme_budget else f"{spent_main:,.2f} EUR spent, {main.label}.")
    return section


def _city_figure(table, title):
    from clusnet_analysis.plots.budget import budget_by_city_figure

    return budget_by_city_figure(table, title=title)


def _category_figure(table, title):
    from clusnet_analysis.plots.budget import budget_by_category_figure

    return budget_by_category_figure(table, title=title)

