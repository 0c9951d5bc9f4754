"""Budget use: per exchange, per cost category, per home city and for the programme.

Inputs are the derived frames of the data contract:

- ``exchange_costs`` (one row per exchange: ``exchange_id, home_city, host_city,
  period, counted, duration_days``, one EUR column per category, ``total_eur``,
  ``unconverted_lines``) for per-exchange, per-city and programme figures;
- ``expenses_eur`` (one row per expense line: ``exchange_id, category,
  amount_eur, home_city, period, counted``) where the cost category matters.

Rules that apply everywhere:

- Drafts (``counted`` False) stay out of every figure.
- The home city pays (travel, subsistence, insurance), so city budgets are
  charged to ``home_city``.
- An expense line without an exchange rate has ``amount_eur`` NaN. Its amount
  is missing from every EUR total, and every total carries
  ``unconverted_lines`` beside it so the gap is visible, never silent.
- Budgets (programme allocation, from the programme file):
  * per exchange: the cap ``programme.cap_eur`` (all categories together) and the
    reference ``programme.reference_total_eur``;
  * per category: ``reference_eur[category] × officers_per_city × number of partner
    cities`` (the reference cost of every planned exchange);
  * per home city: ``officers_per_city × cap_eur``;
  * programme: ``officers_per_city × number of partner cities × cap_eur``.
- Tables with ``total=True`` end with a row labelled ``"total"`` (sums of the
  rows above; percentages recomputed from the sums).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clusnet_analysis.analysis.order import known_first
from clusnet_analysis.rules.programme import Programme, city_allocations, programme_budget
from clusnet_analysis.analysis.periods import FINAL, check_period, counted

#: Label of the closing row of a table.
TOTAL = "total"


# ---------------------------------------------------------------- helpers
def _ordered(known: list[str] | tuple[str, ...], seen: pd.Series) -> list[str]:
    """Known labels in programme order, then unexpected ones (sorted) so nothing is lost."""
    return known_first(known, seen)


def _pct(part: pd.Series, whole: pd.Series) -> pd.Series:
    """100 × part / whole; NaN where the whole is 0 or unknown (no budget to compare with)."""
    whole = whole.astype("float64")
    return (100 * part.astype("float64") / whole.where(whole != 0)).astype("float64")


def planned_exchanges(programme: Programme) -> int:
    """Exchanges the programme allows for: officers_per_city × number of partner cities."""
    return programme.officers_per_city * len(programme.partner_cities)


def _total_row(table: pd.DataFrame, key: str, sum_columns: list[str]) -> pd.DataFrame:
    row = {key: TOTAL, **{c: table[c].sum() for c in sum_columns}}
    return pd.DataFrame([row])


# ---------------------------------------------------------------- per exchange
def exchange_budget_check(exchange_costs: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Each counted exchange's total against the reference and the cap.

    Columns: ``exchange_id, home_city, host_city, period, duration_days,
    total_eur, unconverted_lines, reference_eur`` (programme reference total per
    exchange), ``difference_from_reference_eur`` (total − reference),
    ``cap_eur, headroom_eur`` (cap − total; negative when over the cap),
    ``overrun_eur`` (max(total − cap, 0)), ``over_cap`` (bool).
    An exchange with ``unconverted_lines`` > 0 has a total that is too low.
    Rows sorted by exchange_id.
    """
    costs = counted(exchange_costs)
    out = costs.loc[:, ["exchange_id", "home_city", "host_city", "period", "duration_days"]].copy()
    out["total_eur"] = costs["total_eur"].astype("float64").fillna(0.0)
    out["unconverted_lines"] = costs["unconverted_lines"].fillna(0).astype("int64")
    out["reference_eur"] = programme.reference_total_eur
    out["difference_from_reference_eur"] = out["total_eur"] - programme.reference_total_eur
    out["cap_eur"] = programme.cap_eur
    out["headroom_eur"] = programme.cap_eur - out["total_eur"]
    out["overrun_eur"] = (out["total_eur"] - programme.cap_eur).clip(lower=0.0)
    out["over_cap"] = out["total_eur"] > programme.cap_eur
    return out.sort_values("exchange_id", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- per category
def category_vs_reference(expenses_eur: pd.DataFrame, programme: Programme, total: bool = True) -> pd.DataFrame:
    """Mean cost per exchange in each category against the programme's reference.

    ``exchanges`` = counted exchanges with at least one expense line (an exchange
    whose costs are not reported yet would pull every mean down). The mean per
    exchange is the category total divided by that number, so an exchange with
    no meals line counts as 0 EUR for meals.

    Columns: ``category, exchanges, lines, total_eur, mean_per_exchange_eur,
    reference_eur, difference_eur`` (mean − reference), ``pct_of_reference``
    (NaN where the reference is 0), ``cap_eur`` (the per-exchange cap for all
    categories together; same on every row, for the figure), ``unconverted_lines``.
    Rows: programme categories in programme order, then a ``"total"`` row whose
    reference is the reference total per exchange.
    """
    lines = counted(expenses_eur)
    categories = _ordered(programme.expense_categories, lines["category"])
    n_exchanges = int(lines["exchange_id"].nunique())
    amounts = lines["amount_eur"].astype("float64")
    per_category = (
        lines.assign(amount_eur=amounts, unconverted=amounts.isna())
        .groupby("category")
        .agg(lines=("exchange_id", "size"), total_eur=("amount_eur", "sum"),
             unconverted_lines=("unconverted", "sum"))
        .reindex(categories)
        .fillna(0)
        .rename_axis("category")
        .reset_index()
    )
    per_category["reference_eur"] = [programme.reference_eur.get(c, np.nan) for c in categories]
    if total:
        row = _total_row(per_category, "category", ["lines", "total_eur", "unconverted_lines"])
        row["reference_eur"] = programme.reference_total_eur
        per_category = pd.concat([per_category, row], ignore_index=True)
    out = per_category
    out["exchanges"] = n_exchanges
    out["mean_per_exchange_eur"] = out["total_eur"] / n_exchanges if n_exchanges else np.nan
    out["difference_eur"] = out["mean_per_exchange_eur"] - out["reference_eur"]
    out["pct_of_reference"] = _pct(out["mean_per_exchange_eur"], out["reference_eur"])
    out["cap_eur"] = programme.cap_eur
    out = out.astype({"lines": "int64", "unconverted_lines": "int64", "total_eur": "float64",
                      "mean_per_exchange_eur": "float64", "reference_eur": "float64"})
    return out.loc[:, ["category", "exchanges", "lines", "total_eur", "mean_per_exchange_eur",
                       "reference_eur", "difference_eur", "pct_of_reference", "cap_eur",
                       "unconverted_lines"]]


# ---------------------------------------------------------------- per city and programme
def city_vs_allocation(exchange_costs: pd.DataFrame, programme: Programme, total: bool = True) -> pd.DataFrame:
    """Spend of each home city (the home city pays) against its allocation.

    Allocation (``budget_eur``) = ``programme.city_allocations`` (written in the
    programme file, or officers_per_city × cap_eur); NaN for a city that is not a
    partner city. Columns: ``home_city, exchanges, budget_eur,
    spent_eur, remaining_eur, pct_of_budget, mean_per_exchange_eur,
    exchanges_over_cap, unconverted_lines``. Rows: partner cities in programme
    order (zeros for cities that sent nobody), then ``"total"``.
    """
    costs = counted(exchange_costs)
    cities = _ordered(programme.partner_cities, costs["home_city"])
    spent = costs.assign(
        total_eur=costs["total_eur"].astype("float64").fillna(0.0),
        unconverted_lines=costs["unconverted_lines"].fillna(0).astype("int64"),
        over_cap=costs["total_eur"].astype("float64") > programme.cap_eur,
    )
    out = (
        spent.groupby("home_city")
        .agg(exchanges=("exchange_id", "size"), spent_eur=("total_eur", "sum"),
             exchanges_over_cap=("over_cap", "sum"), unconverted_lines=("unconverted_lines", "sum"))
        .reindex(cities)
        .fillna(0)
        .rename_axis("home_city")
        .reset_index()
    )
    allocations = city_allocations(programme)
    out["budget_eur"] = [allocations.get(c, np.nan) for c in cities]
    if total:
        out = pd.concat([out, _total_row(out, "home_city", ["exchanges", "spent_eur", "exchanges_over_cap",
                                                            "unconverted_lines", "budget_eur"])],
                        ignore_index=True)
    out = out.astype({"exchanges": "int64", "exchanges_over_cap": "int64", "unconverted_lines": "int64",
                      "spent_eur": "float64", "budget_eur": "float64"})
    out["remaining_eur"] = out["budget_eur"] - out["spent_eur"]
    out["pct_of_budget"] = _pct(out["spent_eur"], out["budget_eur"])
    out["mean_per_exchange_eur"] = out["spent_eur"] / out["exchanges"].where(out["exchanges"] > 0)
    return out.loc[:, ["home_city", "exchanges", "budget_eur", "spent_eur", "remaining_eur", "pct_of_budget",
                       "mean_per_exchange_eur", "exchanges_over_cap", "unconverted_lines"]]


def programme_total(exchange_costs: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """One row: the whole programme's spend against its full allocation.

    Columns: ``exchanges, planned_exchanges`` (officers_per_city × partner
    cities), ``budget_eur`` (the programme budget: written, or the sum of the
    city allocations), ``spent_eur,
    remaining_eur, pct_of_budget, mean_per_exchange_eur,
    reference_per_exchange_eur, cap_per_exchange_eur, exchanges_over_cap,
    overrun_eur`` (sum of the amounts above the cap), ``unconverted_lines``.
    """
    check = exchange_budget_check(exchange_costs, programme)
    n = len(check)
    budget = programme_budget(programme)
    budget = np.nan if budget is None else budget
    spent = float(check["total_eur"].sum())
    return pd.DataFrame([{
        "exchanges": n,
        "planned_exchanges": planned_exchanges(programme),
        "budget_eur": budget,
        "spent_eur": spent,
        "remaining_eur": budget - spent,
        "pct_of_budget": 100 * spent / budget if budget else np.nan,
        "mean_per_exchange_eur": spent / n if n else np.nan,
        "reference_per_exchange_eur": programme.reference_total_eur,
        "cap_per_exchange_eur": programme.cap_eur,
        "exchanges_over_cap": int(check["over_cap"].sum()),
        "overrun_eur": float(check["overrun_eur"].sum()),
        "unconverted_lines": int(check["unconverted_lines"].sum()),
    }])


# ---------------------------------------------------------------- Interreg-style table
def interreg_table(
    expenses_eur: pd.DataFrame,
    programme: Programme,
    period: str,
    by: str = "category",
    total: bool = True,
) -> pd.DataFrame:
    """Interreg monitoring table for one reporting period, per cost category or per home city.

    Columns: ``category`` or ``home_city``, then ``budget_eur,
    previously_reported_eur, this_period_eur, total_so_far_eur, pct_of_budget,
    remaining_eur, outside_periods_eur, unconverted_lines``.

    Periods (by the exchange's period, i.e. its start date):

    - a reporting period P: *this period* = P; *previously reported* = the
      periods before P; *total so far* = both (= cumulative to the end of P).
    - ``"final"``: *this period* = the last period; *previously reported* =
      the earlier periods; *total so far* = every counted line, including lines
      of exchanges outside every period. Those appear in ``outside_periods_eur``
      (so total = previously + this + outside); it is 0 for the other periods,
      whose totals leave them out.

    Budgets: per category ``reference_eur[category] × officers_per_city ×
    partner cities``; per home city ``officers_per_city × cap_eur`` (the home
    city pays). ``pct_of_budget`` is NaN where the budget is 0 (e.g. insurance,
    which has no reference amount). ``unconverted_lines`` counts the lines of
    *total so far* that have no exchange rate (their amounts are missing).
    """
    check_period(programme, period)
    if by not in ("category", "home_city"):
        raise ValueError(f"by must be 'category' or 'home_city', not {by!r}")
    lines = counted(expenses_eur)
    lines = lines.assign(amount_eur=lines["amount_eur"].astype("float64"))
    ids = list(programme.period_ids)
    if period == FINAL:
        this_ids, previous_ids = ids[-1:], ids[:-1]
        so_far = lines
    else:
        position = ids.index(period)
        this_ids, previous_ids = [period], ids[:position]
        so_far = lines.loc[lines["period"].isin(ids[: position + 1])]
    outside = so_far.loc[~so_far["period"].isin(ids)]

    if by == "category":
        keys = _ordered(programme.expense_categories, lines["category"])
        partners = len(programme.partner_cities)
        budgets = [programme.reference_eur[c] * programme.officers_per_city * partners
                   if c in programme.reference_eur else np.nan for c in keys]
    else:
        keys = _ordered(programme.partner_cities, lines["home_city"])
        allocations = city_allocations(programme)
        budgets = [allocations.get(c, np.nan) for c in keys]

    def amount(rows: pd.DataFrame) -> np.ndarray:
        return rows.groupby(by)["amount_eur"].sum().reindex(keys, fill_value=0.0).to_numpy()

    out = pd.DataFrame({
        by: keys,
        "budget_eur": budgets,
        "previously_reported_eur": amount(lines.loc[lines["period"].isin(previous_ids)]),
        "this_period_eur": amount(lines.loc[lines["period"].isin(this_ids)]),
        "total_so_far_eur": amount(so_far),
        "outside_periods_eur": amount(outside),
        "unconverted_lines": (so_far["amount_eur"].isna().groupby(so_far[by]).sum()
                              .reindex(keys, fill_value=0).to_numpy()),
    })
    if total:
        out = pd.concat([out, _total_row(out, by, [c for c in out.columns if c != by])], ignore_index=True)
    out = out.astype({"budget_eur": "float64", "unconverted_lines": "int64"})
    out["pct_of_budget"] = _pct(out["total_so_far_eur"], out["budget_eur"])
    out["remaining_eur"] = out["budget_eur"] - out["total_so_far_eur"]
    return out.loc[:, [by, "budget_eur", "previously_reported_eur", "this_period_eur", "total_so_far_eur",
                       "pct_of_budget", "remaining_eur", "outside_periods_eur", "unconverted_lines"]]


# ---------------------------------------------------------------- cost level by host city
def exchange_daily_costs(
    exchange_costs: pd.DataFrame, categories: list[str] | None = None
) -> pd.DataFrame:
    """Cost per day of each counted exchange, and whether it can be compared.

    ``cost_eur`` is ``total_eur`` or, with ``categories``, the sum of those
    category columns (e.g. ``["accommodation", "meals", "local_transport"]`` to
    leave out travel, which depends on distance more than on the host country).
    ``daily_cost_eur`` = cost_eur / duration_days.

    An exchange is left out of comparisons (``used`` False, reason in
    ``excluded_because``) when it has no duration, no costs reported (0 EUR),
    or lines without an exchange rate (its cost would be too low).

    Columns: ``exchange_id, home_city, host_city, period, duration_days,
    cost_eur, unconverted_lines, daily_cost_eur, used, excluded_because``.
    Rows sorted by exchange_id.
    """
    costs = counted(exchange_costs)
    if categories is None:
        cost = costs["total_eur"].astype("float64")
    else:
        missing = [c for c in categories if c not in costs.columns]
        if missing:
            raise ValueError(f"exchange_costs has no column for categories {missing}")
        cost = costs.loc[:, list(categories)].astype("float64").sum(axis=1, min_count=1)
    duration = costs["duration_days"].astype("Float64").astype("float64")
    unconverted = costs["unconverted_lines"].fillna(0).astype("int64")
    out = costs.loc[:, ["exchange_id", "home_city", "host_city", "period"]].copy()
    out["duration_days"] = costs["duration_days"]
    out["cost_eur"] = cost.fillna(0.0)
    out["unconverted_lines"] = unconverted
    out["daily_cost_eur"] = out["cost_eur"] / duration.where(duration > 0)
    # First matching reason wins; order = what a user must fix first.
    reason = np.select(
        [~(duration > 0), unconverted > 0, ~(out["cost_eur"] > 0)],
        ["no duration", "lines without exchange rate", "no costs reported"],
        default="",
    )
    out["used"] = reason == ""
    out["excluded_because"] = pd.Series(reason, index=out.index).replace("", np.nan)
    return out.sort_values("exchange_id", kind="stable").reset_index(drop=True)


def cost_level_by_host(
    exchange_costs: pd.DataFrame, programme: Programme, categories: list[str] | None = None
) -> pd.DataFrame:
    """Median daily cost per host city relative to the programme median (1.0 = programme median).

    Supports the rule that expenses fit the living standard of the visited
    country: a host city well above 1.0 is dearer than the programme's typical
    exchange. Uses :func:`exchange_daily_costs` (same ``categories`` option);
    excluded exchanges are counted, not hidden.

    Columns: ``host_city, partner`` (False for a host that is not a partner
    city), ``exchanges_used, exchanges_excluded, median_daily_cost_eur,
    programme_median_daily_cost_eur, relative_to_programme``. Rows: partner
    cities in programme order (NaN medians for a city without comparable
    exchanges), then other hosts seen.
    """
    daily = exchange_daily_costs(exchange_costs, categories)
    hosts = _ordered(programme.partner_cities, daily["host_city"])
    used = daily.loc[daily["used"]]
    programme_median = float(used["daily_cost_eur"].median()) if len(used) else np.nan
    out = pd.DataFrame({
        "host_city": hosts,
        "exchanges_used": used.groupby("host_city").size().reindex(hosts, fill_value=0).to_numpy(),
        "exchanges_excluded": (daily.loc[~daily["used"]].groupby("host_city").size()
                               .reindex(hosts, fill_value=0).to_numpy()),
        "median_daily_cost_eur": used.groupby("host_city")["daily_cost_eur"].median().reindex(hosts).to_numpy(),
    })
    out = out.astype({"exchanges_used": "int64", "exchanges_excluded": "int64", "median_daily_cost_eur": "float64"})
    out.insert(1, "partner", out["host_city"].isin(programme.partner_cities))
    out["programme_median_daily_cost_eur"] = programme_median
    out["relative_to_programme"] = out["median_daily_cost_eur"] / programme_median
    return out
