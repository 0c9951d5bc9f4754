"""Rules about money and eligibility: the over-allocation finding, officer findings carried to
each of the officer's exchanges, and the rules that make an exchange ineligible."""
from __future__ import annotations

import numpy as np
import pandas as pd

from clusnet_analysis.ingest._arrow import isin
from clusnet_analysis.rules.catalogue import FINDING_COLUMNS, RULES, _finding

from clusnet_analysis.rules.programme import Programme, city_allocations, ineligible_rules


def attach_officer_findings(findings: pd.DataFrame, exchanges: pd.DataFrame) -> pd.DataFrame:
    """Officer-level findings, one row per counted exchange of that officer.

    ``findings`` has FINDING_COLUMNS with ``subject_id`` = officer id;
    ``exchanges`` is the exchanges view (``exchange_id, officer_id, period,
    counted``). Each finding is repeated for every counted exchange of its officer,
    with that exchange's ``exchange_id`` and ``period`` filled in (the subject stays
    the officer), so period reports and the budget's eligibility see it. An officer
    with no counted exchange keeps one row without an exchange. Rows come out by
    officer, then in the order of the exchanges table.
    """
    if findings.empty:
        return findings
    ex = exchanges.loc[exchanges["counted"].eq(True).fillna(False).astype(bool),
                       ["exchange_id", "officer_id", "period"]]
    ex = ex.loc[isin(ex["officer_id"], findings["subject_id"])]
    base = findings.drop(columns=["exchange_id", "period"]).reset_index(drop=True)
    base["_order"] = np.arange(len(base))
    joined = base.merge(ex.rename(columns={"officer_id": "subject_id"}).assign(_ex=np.arange(len(ex))),
                        on="subject_id", how="left", sort=False)
    joined = joined.sort_values(["_order", "_ex"], kind="stable", na_position="first")
    joined["exchange_id"] = joined["exchange_id"].astype("str")
    joined["period"] = joined["period"].astype("str")
    return joined.reset_index(drop=True)[FINDING_COLUMNS]


def ineligible_exchange_rules(findings: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Which exchanges are ineligible, and by which rules.

    One row per (exchange, rule) for findings of :func:`~clusnet_analysis.rules.programme.ineligible_rules`
    (outside the window, a non-partner city, home = host, an ineligible employer,
    and the programme's ``eligibility.extra_ineligible_rules``) that name an exchange.
    Columns: ``exchange_id, rule_id, reason`` (the rule's words), in RULES order per exchange.
    """
    rules = set(ineligible_rules(programme))
    hits = findings.loc[findings["rule_id"].isin(rules) & findings["exchange_id"].notna(), ["exchange_id", "rule_id"]]
    hits = hits.drop_duplicates()
    order = {r.id: i for i, r in enumerate(RULES)}
    hits = hits.assign(_order=hits["rule_id"].map(order)).sort_values(["exchange_id", "_order"], kind="stable")
    hits["reason"] = hits["rule_id"].map({r.id: r.reason or r.description for r in RULES}).astype("str")
    return hits[["exchange_id", "rule_id", "reason"]].reset_index(drop=True)


def _over_allocation(found: list[pd.DataFrame], costs: pd.DataFrame, programme: Programme) -> pd.DataFrame | None:
    """Home cities whose eligible spend (claimed EUR of eligible counted exchanges) is over their allocation."""
    allocations = city_allocations(programme)
    if not allocations or costs.empty:
        return None
    rules = set(ineligible_rules(programme))
    relevant = [f for f in found if f["rule_id"].iat[0] in rules]   # each frame holds one rule
    so_far = pd.concat(relevant, ignore_index=True) if relevant else pd.DataFrame(columns=FINDING_COLUMNS)
    ineligible = ineligible_exchange_rules(so_far, programme)["exchange_id"]
    eligible = costs.loc[~isin(costs["exchange_id"], ineligible)]   # Arrow: no Python loop over the ids
    spend = eligible["total_eur"].astype("float64").fillna(0.0).groupby(eligible["home_city"]).sum()
    rows = [(c, float(spend[c]), a) for c, a in allocations.items() if c in spend.index and spend[c] > a + 1e-9]
    if not rows:
        return None
    cities = pd.Series([c for c, _, _ in rows], dtype="str")
    msgs = [f"eligible spend of {c} is {s:,.2f} EUR, {100 * s / a:.1f} % of its allocation of {a:,.0f} EUR"
            f" (over by {s - a:,.2f} EUR)" if a > 0 else
            f"eligible spend of {c} is {s:,.2f} EUR; its allocation is 0 EUR" for c, s, a in rows]
    return _finding("over_allocation", cities, msgs, home_city=cities,
                    value=[f"{round(s, 2)}" for _, s, _ in rows], limit=[f"{a:g}" for _, _, a in rows])


