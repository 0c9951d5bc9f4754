"""Which exchanges an auditor accepts: eligible or not, validated or pending, and the four amounts.

Claimed = every exchange that is not a draft; eligible = claimed minus the exchanges a rule makes
ineligible; reimbursable = eligible, validated and fully converted exchanges, each capped; pending =
eligible exchanges not yet validated or not fully converted. Going over the cap does not make an
exchange ineligible: it limits what is reimbursed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from clusnet_analysis.analysis.order import known_first
from clusnet_analysis.analysis.periods import FINAL, counted
from clusnet_analysis.ingest._arrow import isin
from clusnet_analysis.rules.checks import ineligible_exchange_rules
from clusnet_analysis.rules.programme import Programme


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
    return known_first(known, seen)


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
