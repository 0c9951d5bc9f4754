"""Cost checks of the claimed exchanges: each against the cap, each category against the reference, cost per day.

Inputs are the derived frames of the data contract:

- ``exchange_costs`` (one row per exchange: ``exchange_id, home_city, host_city,
  period, counted, duration_days``, one EUR column per category, ``total_eur``,
  ``unconverted_lines``) for per-exchange figures;
- ``expenses_eur`` (one row per expense line: ``exchange_id, category,
  amount_eur, home_city, period, counted``) where the cost category matters.

Rules that apply everywhere:

- Drafts (``counted`` False) stay out of every figure.
- An expense line without an exchange rate has ``amount_eur`` NaN. Its amount
  is missing from every EUR total, and every total carries
  ``unconverted_lines`` beside it so the gap is visible, never silent.
- Per exchange, the programme file gives the cap ``programme.cap_eur`` (all
  categories together) and the reference ``programme.reference_total_eur``
  (per category: ``programme.reference_eur``).
- Tables with ``total=True`` end with a row labelled ``"total"`` (sums of the
  rows above; percentages recomputed from the sums).

What an auditor accepts (claimed, eligible, reimbursable, pending; per period,
city or category) is :mod:`analysis.eligibility` and :mod:`analysis.audit`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clusnet_analysis.analysis.order import known_first
from clusnet_analysis.analysis.periods import counted
from clusnet_analysis.rules.programme import Programme

#: Label of the closing row of a table.
TOTAL = "total"


# ---------------------------------------------------------------- helpers
def _pct(part: pd.Series, whole: pd.Series) -> pd.Series:
    """100 × part / whole; NaN where the whole is 0 or unknown (no budget to compare with)."""
    whole = whole.astype("float64")
    return (100 * part.astype("float64") / whole.where(whole != 0)).astype("float64")


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
    no line in a category counts as 0 EUR for it.

    Columns: ``category, exchanges, lines, total_eur, mean_per_exchange_eur,
    reference_eur, difference_eur`` (mean − reference), ``pct_of_reference``
    (NaN where the reference is 0), ``cap_eur`` (the per-exchange cap for all
    categories together; same on every row, for the figure), ``unconverted_lines``.
    Rows: programme categories in programme order, then a ``"total"`` row whose
    reference is the reference total per exchange.
    """
    lines = counted(expenses_eur)
    categories = known_first(programme.expense_categories, lines["category"])
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


# ---------------------------------------------------------------- cost level by host city
def exchange_daily_costs(
    exchange_costs: pd.DataFrame, categories: list[str] | None = None
) -> pd.DataFrame:
    """Cost per day of each counted exchange, and whether it can be compared.

    ``cost_eur`` is ``total_eur`` or, with ``categories``, the sum of those
    category columns (e.g. every category but ``"travel"``, to leave out travel,
    which depends on distance more than on the host country).
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
    hosts = known_first(programme.partner_cities, daily["host_city"])
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
