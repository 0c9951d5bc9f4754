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
from clusnet_analysis.ingest._arrow import isin
from clusnet_analysis.rules.checks import ineligible_exchange_rules
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


# ==================================================================== the budget an auditor signs
# Four amounts, per exchange and summed per period, city or category:
#
# - claimed: every counted (non-draft) exchange, in EUR (lines without a rate are missing from
#   it, and counted in unconverted_lines);
# - eligible: the claimed exchanges that break no eligibility rule (ineligible = the rest);
# - reimbursable: the eligible exchanges that are validated and fully converted, each capped;
# - pending: the eligible exchanges not validated yet or not fully converted, each capped.
#
# Going over the cap never makes an exchange ineligible; the part above it is the cap cut.
# Per exchange and in every sum:  eligible + ineligible = claimed  and
# reimbursable + pending + cap cut = eligible  (so reimbursable <= eligible).

#: States of an exchange in the money tables.
REIMBURSABLE, PENDING, INELIGIBLE = "reimbursable", "pending", "ineligible"

#: The four amounts, in page order, with their column words.
AMOUNTS: dict[str, str] = {"claimed": "Claimed", "eligible": "Eligible", "reimbursable": "Reimbursable",
                           "pending": "Pending"}

#: Columns of budget_amounts() after its keys.
AMOUNT_COLUMNS = ["exchanges", "claimed_eur", "ineligible_eur", "eligible_eur", "cap_cut_eur",
                  "reimbursable_eur", "pending_eur", "unconverted_lines"]

_KEYS = ("period", "home_city", "host_city", "category")
_KEY_WORDS = {"home_city": "Home city", "category": "Cost category"}


def _cap_value(programme: Programme) -> float:
    """The cap per exchange; infinity when the programme has none (cap_eur = false)."""
    cap = programme.cap_eur
    return np.inf if cap is None or isinstance(cap, bool) else float(cap)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def classify_exchanges(exchanges: pd.DataFrame, costs: pd.DataFrame, findings: pd.DataFrame,
                       programme: Programme) -> pd.DataFrame:
    """Each counted exchange's eligibility, validation and the four amounts.

    Inputs: the exchanges view (``transforms.exchanges_view``: ``exchange_id,
    home_city, host_city, period, status, counted``; ``officer_pseudonym``,
    ``start_date`` and ``validated_on`` are carried along when present), the
    per-exchange costs (``transforms.exchange_costs``: ``total_eur,
    unconverted_lines``) and the rule findings (``checks.check_rules``).

    An exchange is **ineligible** when a finding of an eligibility rule names it:
    outside the window, a non-partner city, home = host, an ineligible employer
    (officer findings are attached to each of the officer's exchanges), plus the
    programme's ``eligibility.extra_ineligible_rules``. Over the cap is not one.

    One row per counted exchange, in the order of the exchanges table. Columns:
    ``exchange_id, [officer_pseudonym], home_city, host_city, [start_date], period,
    status, [validated_on]``, then

    - ``eligible`` (bool), ``ineligibility_reason`` (the rules' words joined with
      "; ", e.g. "visit outside the programme window"; empty when eligible);
    - ``validated`` (status is validated), ``unconverted_lines``,
      ``fully_converted`` (no expense line without an exchange rate);
    - ``claimed_eur`` (converted lines), ``ineligible_eur`` (claimed of an ineligible
      exchange, else 0), ``eligible_eur`` (claimed of an eligible one, else 0),
      ``cap_cut_eur`` (the part of an eligible claim above the cap, else 0),
      ``reimbursable_eur`` (min(claimed, cap) when eligible, validated and fully
      converted, else 0), ``pending_eur`` (min(claimed, cap) when eligible but not
      validated or not fully converted, else 0);
    - ``state``: "reimbursable", "pending" or "ineligible"; ``pending_reason`` in
      words ("not validated (status submitted)", "1 expense line not converted to
      EUR"), empty unless pending.
    """
    ex = counted(exchanges)
    keep = [c for c in ("exchange_id", "officer_pseudonym", "home_city", "host_city", "start_date", "period",
                        "status", "validated_on") if c in ex.columns]
    out = ex.loc[:, keep].reset_index(drop=True)
    by_id = costs.drop_duplicates("exchange_id").set_index("exchange_id")
    claimed = out["exchange_id"].map(by_id["total_eur"].astype("float64")).fillna(0.0).to_numpy()
    unconverted = out["exchange_id"].map(by_id["unconverted_lines"].astype("float64")).fillna(0).astype("int64")

    reasons = ineligible_exchange_rules(findings, programme)
    reason = out["exchange_id"].map(_joined_reasons(reasons)).astype("str")
    eligible = reason.isna().to_numpy()
    validated = (out["status"] == "validated").to_numpy()
    converted = (unconverted == 0).to_numpy()
    capped = np.minimum(claimed, _cap_value(programme))

    out["eligible"] = eligible
    out["ineligibility_reason"] = reason.fillna("").astype("str")
    out["validated"] = validated
    out["unconverted_lines"] = unconverted.to_numpy()
    out["fully_converted"] = converted
    out["claimed_eur"] = claimed
    out["ineligible_eur"] = np.where(eligible, 0.0, claimed)
    out["eligible_eur"] = np.where(eligible, claimed, 0.0)
    out["cap_cut_eur"] = np.where(eligible, np.round(claimed - capped, 2), 0.0)
    paid = eligible & validated & converted
    out["reimbursable_eur"] = np.where(paid, capped, 0.0)
    out["pending_eur"] = np.where(eligible & ~paid, capped, 0.0)
    out["state"] = pd.Series(np.where(~eligible, INELIGIBLE, np.where(paid, REIMBURSABLE, PENDING)), dtype="str")
    not_validated = np.where(validated, "", "not validated (status " + out["status"].fillna("unknown") + ")")
    lines = pd.Series(np.where(converted, "", [_plural(n, "expense line") + " not converted to EUR"
                                               for n in unconverted]), dtype="str")
    both = np.where((~validated) & (~converted), "; ", "")
    out["pending_reason"] = pd.Series(np.where(eligible & ~paid, not_validated + both + lines, ""), dtype="str")
    return out


def _joined_reasons(reasons: pd.DataFrame) -> pd.Series:
    """``exchange_id`` -> its reasons joined with "; " (in the given order), without a Python loop per exchange."""
    if reasons.empty:
        return pd.Series(dtype="str")
    nth = reasons.groupby("exchange_id", sort=False).cumcount()
    wide = reasons.assign(_nth=nth.to_numpy()).pivot(index="exchange_id", columns="_nth", values="reason")
    joined = wide[0].astype("str")
    for j in wide.columns[1:]:
        more = wide[j].astype("str")
        joined = joined.where(more.isna(), joined + "; " + more)
    return joined


def _order_keys(key: str, programme: Programme, seen: pd.Series) -> list:
    if key == "period":
        ids = list(programme.period_ids)
        extra = sorted(set(seen.dropna().unique()) - set(ids))
        return ids + extra + ([np.nan] if seen.isna().any() else [])
    known = programme.expense_categories if key == "category" else programme.partner_cities
    return _ordered(known, seen)


def _cents(values) -> np.ndarray:
    return np.round(np.asarray(values, dtype="float64") * 100).astype(np.int64)


def category_split(classified: pd.DataFrame, expenses: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """The four amounts of each exchange split by cost category.

    An exchange's capped amount (reimbursable or pending) is shared out over its
    categories in proportion to their claimed amounts, to the cent (largest
    remainder), so each exchange's category rows add up exactly to its row in
    ``classified``. Lines without an exchange rate count in ``unconverted_lines``.

    One row per (exchange, category) with expense lines. Columns: the key columns
    of ``classified`` (``exchange_id, home_city, host_city, period, state``),
    ``category``, then AMOUNT_COLUMNS minus ``exchanges``, and ``lines``.
    """
    lines = expenses.loc[isin(expenses["exchange_id"], classified["exchange_id"]),
                         ["exchange_id", "category", "amount_eur"]]
    amount = lines["amount_eur"].astype("float64")
    per = (lines.assign(amount_eur=amount.fillna(0.0), unconverted=amount.isna().astype("int64"), lines=1)
           .groupby(["exchange_id", "category"], sort=False, observed=True)
           .agg(claimed_eur=("amount_eur", "sum"), unconverted_lines=("unconverted", "sum"), lines=("lines", "sum"))
           .reset_index())
    info = classified.set_index("exchange_id")
    keys = [c for c in ("home_city", "host_city", "period", "state") if c in info.columns]
    per = per.join(info[keys + ["eligible", "claimed_eur", "reimbursable_eur", "pending_eur"]]
                   .rename(columns={"claimed_eur": "_total", "reimbursable_eur": "_paid", "pending_eur": "_wait"}),
                   on="exchange_id")
    # Capped amount of each exchange in cents, shared out by largest remainder.
    part = _cents(per["claimed_eur"])
    total = _cents(per["_total"])
    target = _cents(per["_paid"] + per["_wait"])
    kept = np.where(target == total, part, 0)      # most exchanges are not cut: nothing to share out
    cut = np.flatnonzero((target != total) & per["eligible"].to_numpy(dtype=bool))
    if len(cut):
        sub = per.iloc[cut][["exchange_id"]].reset_index(drop=True)
        raw = np.where(total[cut] > 0, part[cut] * target[cut] / np.where(total[cut] > 0, total[cut], 1), 0.0)
        floor = np.floor(raw + 1e-9).astype(np.int64)
        sub["_floor"], sub["_rem"], sub["_row"] = floor, raw - floor, np.arange(len(sub))
        short = target[cut] - sub.groupby("exchange_id", sort=False)["_floor"].transform("sum").to_numpy()
        rank = (sub.sort_values(["exchange_id", "_rem", "_row"], ascending=[True, False, True], kind="stable")
                .groupby("exchange_id", sort=False).cumcount().reindex(sub.index).to_numpy())
        kept[cut] = floor + (rank < short).astype(np.int64)
    eligible = per["eligible"].to_numpy(dtype=bool)
    state = per["state"].to_numpy()
    per["claimed_eur"] = part / 100
    per["ineligible_eur"] = np.where(eligible, 0, part) / 100
    per["eligible_eur"] = np.where(eligible, part, 0) / 100
    per["cap_cut_eur"] = np.where(eligible, part - kept, 0) / 100
    per["reimbursable_eur"] = np.where(state == REIMBURSABLE, kept, 0) / 100
    per["pending_eur"] = np.where(state == PENDING, kept, 0) / 100
    return per[["exchange_id", *keys, "category", *AMOUNT_COLUMNS[1:], "lines"]]


def budget_amounts(classified: pd.DataFrame, programme: Programme, by: str | list[str] | tuple = "home_city",
                   expenses: pd.DataFrame | None = None) -> pd.DataFrame:
    """The four amounts summed by period, home city, host city and/or cost category.

    ``classified`` is :func:`classify_exchanges` (filter it first for a subset, e.g.
    the exchanges validated by some date). ``by`` is one or more of ``"period",
    "home_city", "host_city", "category"``; ``"category"`` needs ``expenses`` (the
    expense lines in EUR, ``transforms.expenses_eur``) and uses :func:`category_split`.
    An exchange's period is the period its visit started in; a missing period
    (NaN) means outside every reporting period.

    Rows: every combination of the keys' values in programme order (partner cities,
    programme categories and periods first, then others seen; zeros where nothing
    was claimed), NaN period last. Columns: the keys, ``partner`` (bool; only when
    ``by`` is a single city key), then ``exchanges`` (counted exchanges; per category:
    exchanges with a line in it), ``claimed_eur, ineligible_eur, eligible_eur,
    cap_cut_eur, reimbursable_eur, pending_eur, unconverted_lines``.

    In every row: eligible + ineligible = claimed and reimbursable + pending + cap cut
    = eligible (to the cent).
    """
    keys = [by] if isinstance(by, str) else list(by)
    unknown = [k for k in keys if k not in _KEYS]
    if unknown or not keys or len(set(keys)) != len(keys):
        raise ValueError(f"by must be one or more of {', '.join(_KEYS)}, not {by!r}")
    if "category" in keys:
        if expenses is None:
            raise ValueError("amounts by category need the expense lines (expenses=...)")
        rows = category_split(classified, expenses, programme).assign(exchanges=1)
    else:
        rows = classified.assign(exchanges=1)
    return _sum_rows(rows, keys, programme)


def _sum_rows(rows: pd.DataFrame, keys: list[str], programme: Programme) -> pd.DataFrame:
    """budget_amounts() of rows that already carry an ``exchanges`` column (1 per row)."""
    values = [_order_keys(k, programme, rows[k] if k in rows.columns else pd.Series(dtype="str")) for k in keys]
    grid = (pd.MultiIndex.from_product(values, names=keys) if len(keys) > 1
            else pd.Index(values[0], name=keys[0], dtype="object"))
    sums = rows.groupby(keys, dropna=False, sort=False)[AMOUNT_COLUMNS].sum()
    out = sums.reindex(grid, fill_value=0).reset_index()
    out = out.astype({"exchanges": "int64", "unconverted_lines": "int64"})
    for c in AMOUNT_COLUMNS[1:-1]:
        out[c] = out[c].astype("float64").round(2)
    city_keys = [k for k in keys if k in ("home_city", "host_city")]
    if len(keys) == 1 and city_keys:
        out.insert(1, "partner", out[keys[0]].isin(programme.partner_cities))
    return out


def _in_scope(classified: pd.DataFrame, programme: Programme, period: str) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The exchanges a report for ``period`` knows (started by its end), and that end."""
    if period == FINAL:
        return classified, pd.Timestamp(max(p.end for p in programme.periods))
    ids = list(programme.period_ids)
    upto = ids[: ids.index(period) + 1]
    end = pd.Timestamp(programme.period(period).end)
    known = classified["period"].isin(upto)
    if "start_date" in classified.columns:   # visits outside every period that started by then
        known |= classified["period"].isna() & (classified["start_date"] <= end)
    return classified.loc[known], end


def has_validation_dates(classified: pd.DataFrame) -> bool:
    """True when the exchanges carry the optional ``validated_on`` column with at least one date."""
    return "validated_on" in classified.columns and bool(classified["validated_on"].notna().any())


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
    - **final report**: for each amount A, one column per period "A, S3 (EUR)" …,
      then "A, outside the periods (EUR)" and "A, total (EUR)";
    - **a period P**: "A, this period (EUR)" (visits that started in P) and
      "A, cumulative (EUR)" (visits that started by the end of P);
    - when the exchanges carry ``validated_on`` dates, beside each period column
      (final: "A, S3, validated by the end of S3 (EUR)") or beside this period and
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

    Columns: "Amount", "EUR", "Exchanges", "% of programme budget". Rows, in this
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
    out["% of programme budget"] = (100 * out["EUR"] / budget).round(1) if budget else np.nan
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
