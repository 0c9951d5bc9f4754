"""Programme rules: findings are data, not exceptions.

Each rule reads the programme file (:class:`~clusnet_analysis.programme.Programme`),
so another programme's limits apply without code changes. Rules look at
counted exchanges only (drafts are listed once, as ``draft_excluded``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import pyarrow as pa
import pyarrow.compute as pc

from clusnet_analysis.ingest._arrow import as_arrow, concat, str_series, strftime
from clusnet_analysis.rules.programme import Programme, city_allocations, ineligible_rules

FINDING_COLUMNS = ["rule_id", "severity", "subject_type", "subject_id", "exchange_id", "home_city",
                   "period", "message", "value", "limit"]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str   # error: breaks a programme rule; warning: needs a look; info: for the record
    subject: str
    description: str
    reason: str = ""   # a few words for the budget pages when this rule makes an exchange ineligible


RULES: tuple[Rule, ...] = (
    Rule("over_cap", "error", "exchange", "Exchange costs more than the cap per exchange (budget.cap_eur)",
         "costs above the cap per exchange"),
    Rule("outside_window", "error", "exchange", "Visit not inside the eligibility window",
         "visit outside the programme window"),
    Rule("outside_periods", "error", "exchange", "Visit starts inside the window but in no reporting period",
         "visit in no reporting period"),
    Rule("officer_quota", "error", "city", "More officers registered for a city than participants.officers_per_city"),
    Rule("over_allocation", "error", "city",
         "Eligible spend of a home city is over its allocation (budget.allocation_eur)"),
    Rule("ineligible_employer", "error", "officer", "Officer not employed by an eligible employer type",
         "officer's employer is not eligible"),
    Rule("concurrent_absence", "error", "exchange",
         "More officers of one home city away at the same time than participants.max_concurrent_per_city",
         "too many officers of the home city away at the same time"),
    Rule("home_is_host", "error", "exchange", "Officer visits their own city", "officer visited their own city"),
    Rule("not_partner_city", "error", "exchange", "Home or host city is not a partner city",
         "home or host city is not a partner city"),
    Rule("visit_length", "warning", "exchange", "Visit does not last visit.days days (first and last day included)",
         "visit not of the programme's length"),
    Rule("agenda_not_sent", "warning", "exchange", "Final agenda not sent to the coordinator before the visit",
         "final agenda not sent before the visit"),
    Rule("report_missing", "warning", "exchange", "No report received for a submitted or validated exchange",
         "no report received"),
    Rule("report_too_long", "warning", "exchange", "Report longer than reports.max_pages", "report too long"),
    Rule("report_language", "warning", "exchange", "Report not written in reports.language",
         "report not in the programme's language"),
    Rule("missing_fx_rate", "error", "expense",
         "Expense in a currency/month without an exchange rate: not converted, left out of EUR totals"),
    Rule("draft_excluded", "info", "exchange", "Draft exchange: listed, but left out of every total and rule"),
)
RULES_BY_ID = {r.id: r for r in RULES}


def _fmt_eur(values) -> list[str]:
    return [f"{v:,.2f}" for v in values]


def _finding(rule_id: str, subjects: pd.Series, messages, *, exchange_id=None, home_city=None, period=None,
             value=None, limit=None) -> pd.DataFrame:
    rule = RULES_BY_ID[rule_id]
    n = len(subjects)

    def col(x):
        if x is None:
            return pd.Series(np.full(n, np.nan), dtype="str")
        if isinstance(x, pd.Series):
            return (x if x.dtype == "str" else x.astype("str")).reset_index(drop=True)
        return pd.Series(np.asarray(x, dtype=object), dtype="str")

    return pd.DataFrame({
        "rule_id": rule_id, "severity": rule.severity, "subject_type": rule.subject,
        "subject_id": col(subjects),
        "exchange_id": col(exchange_id), "home_city": col(home_city), "period": col(period),
        "message": col(messages if isinstance(messages, pd.Series) else list(messages)),
        "value": col(value), "limit": col(limit),
    }, index=pd.RangeIndex(n))


def check_rules(tables: dict[str, pd.DataFrame], programme: Programme, view: pd.DataFrame,
                expenses: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """All findings, sorted by rule (in RULES order) and subject."""
    found: list[pd.DataFrame] = []
    # Filtering copies every column: keep only the columns findings use, and skip the
    # filter when every exchange counts (the usual case).
    view_cols = ["exchange_id", "home_city", "host_city", "start_date", "end_date", "status", "period",
                 "duration_days", "agenda_sent_date", "report_received_date", "report_pages", "report_language"]
    counted = view[view["counted"]] if not view["counted"].all() else view
    counted = counted[view_cols]
    c_costs = costs[costs["counted"]] if not costs["counted"].all() else costs
    c_costs = c_costs[["exchange_id", "home_city", "period", "total_eur"]]

    # over_cap
    over = c_costs[c_costs["total_eur"] > programme.cap_eur + 1e-9]
    if len(over):
        found.append(_finding(
            "over_cap", over["exchange_id"],
            [f"total {t} EUR is over the cap of {programme.cap_eur:,.0f} EUR by {d} EUR"
             for t, d in zip(_fmt_eur(over["total_eur"]), _fmt_eur(over["total_eur"] - programme.cap_eur))],
            exchange_id=over["exchange_id"], home_city=over["home_city"], period=over["period"],
            value=over["total_eur"].round(2).astype("str"), limit=[f"{programme.cap_eur:g}"] * len(over)))

    # outside_window / outside_periods
    w0, w1 = pd.Timestamp(programme.window_start), pd.Timestamp(programme.window_end)
    outside_mask = (counted["start_date"] < w0) | (counted["end_date"] > w1)
    outside = counted[outside_mask]
    if len(outside):
        found.append(_finding(
            "outside_window", outside["exchange_id"],
            "visit " + outside["start_date"].pipe(strftime) + " to " + outside["end_date"].pipe(strftime)
            + f" is outside the eligibility window {programme.window_start} to {programme.window_end}",
            exchange_id=outside["exchange_id"], home_city=outside["home_city"], period=outside["period"],
            value=outside["start_date"].pipe(strftime),
            limit=[f"{programme.window_start}..{programme.window_end}"] * len(outside)))
    no_period = counted[~outside_mask & counted["period"].isna()]
    if len(no_period):
        found.append(_finding(
            "outside_periods", no_period["exchange_id"],
            "visit starting " + no_period["start_date"].pipe(strftime) + " falls in no reporting period ("
            + ", ".join(programme.period_ids) + ")",
            exchange_id=no_period["exchange_id"], home_city=no_period["home_city"],
            value=no_period["start_date"].pipe(strftime)))

    # officer_quota
    officers = tables["officers"]
    per_city = officers.groupby("home_city", sort=True).size()
    too_many = per_city[per_city > programme.officers_per_city]
    if len(too_many):
        found.append(_finding(
            "officer_quota", pd.Series(too_many.index),
            [f"{n} officers registered for {c}; the programme allows {programme.officers_per_city}"
             for c, n in too_many.items()],
            home_city=pd.Series(too_many.index), value=too_many.astype("str").to_numpy(),
            limit=[str(programme.officers_per_city)] * len(too_many)))

    # ineligible_employer
    bad_emp = officers[~officers["employer_type"].isin(programme.eligible_employer_types)]
    if len(bad_emp):
        found.append(_finding(
            "ineligible_employer", bad_emp["officer_id"],
            "employer type '" + bad_emp["employer_type"] + "' is not eligible (allowed: "
            + ", ".join(programme.eligible_employer_types) + ")",
            home_city=bad_emp["home_city"], value=bad_emp["employer_type"],
            limit=[", ".join(programme.eligible_employer_types)] * len(bad_emp)).pipe(attach_officer_findings, view))

    found.append(_concurrent(counted, programme))

    # home_is_host / not_partner_city
    same = counted[counted["home_city"] == counted["host_city"]]
    if len(same):
        found.append(_finding("home_is_host", same["exchange_id"],
                              "home and host city are both " + same["host_city"],
                              exchange_id=same["exchange_id"], home_city=same["home_city"], period=same["period"],
                              value=same["host_city"]))
    partners = list(programme.partner_cities)
    host_np = ~counted["host_city"].isin(partners)
    home_np = ~counted["home_city"].isin(partners)
    np_rows = counted[host_np | home_np]
    if len(np_rows):
        msgs = [(f"host city {h} is not a partner city" if hn else "")
                + ("; " if hn and mn else "") + (f"home city {m} is not a partner city" if mn else "")
                for h, m, hn, mn in zip(np_rows["host_city"], np_rows["home_city"],
                                        host_np[np_rows.index], home_np[np_rows.index])]
        found.append(_finding("not_partner_city", np_rows["exchange_id"], msgs, exchange_id=np_rows["exchange_id"],
                              home_city=np_rows["home_city"], period=np_rows["period"],
                              value=np.where(host_np[np_rows.index], np_rows["host_city"], np_rows["home_city"])))

    # visit_length
    wrong = counted[counted["duration_days"] != programme.visit_days]
    if len(wrong):
        found.append(_finding("visit_length", wrong["exchange_id"],
                              "visit lasts " + wrong["duration_days"].astype("str")
                              + f" days; the programme's visits last {programme.visit_days}",
                              exchange_id=wrong["exchange_id"], home_city=wrong["home_city"], period=wrong["period"],
                              value=wrong["duration_days"].astype("str"), limit=[str(programme.visit_days)] * len(wrong)))

    # agenda_not_sent
    if programme.agenda_before_visit:
        late = counted[counted["agenda_sent_date"].isna() | (counted["agenda_sent_date"] >= counted["start_date"])]
        if len(late):
            msgs = np.where(late["agenda_sent_date"].isna(), "final agenda was never sent",
                            "final agenda sent on " + late["agenda_sent_date"].pipe(strftime).fillna("")
                            + ", not before the visit started on " + late["start_date"].pipe(strftime))
            found.append(_finding("agenda_not_sent", late["exchange_id"], msgs, exchange_id=late["exchange_id"],
                                  home_city=late["home_city"], period=late["period"],
                                  value=late["agenda_sent_date"].pipe(strftime),
                                  limit=late["start_date"].pipe(strftime)))

    # reports
    if programme.report_required:
        missing = counted[counted["report_received_date"].isna()]
        if len(missing):
            found.append(_finding("report_missing", missing["exchange_id"],
                                  "no report received (status " + missing["status"] + ")",
                                  exchange_id=missing["exchange_id"], home_city=missing["home_city"],
                                  period=missing["period"]))
    long_ = counted[counted["report_pages"].fillna(0) > programme.report_max_pages]
    if len(long_):
        found.append(_finding("report_too_long", long_["exchange_id"],
                              "report has " + long_["report_pages"].astype("str")
                              + f" pages; the limit is {programme.report_max_pages}",
                              exchange_id=long_["exchange_id"], home_city=long_["home_city"], period=long_["period"],
                              value=long_["report_pages"].astype("str"),
                              limit=[str(programme.report_max_pages)] * len(long_)))
    has_report = counted["report_received_date"].notna()
    lang = counted["report_language"].str.lower()
    wrong_lang = counted[has_report & (lang != programme.report_language) | (lang.notna() & (lang != programme.report_language))]
    if len(wrong_lang):
        msgs = np.where(wrong_lang["report_language"].isna(), "report language not stated",
                        "report written in '" + wrong_lang["report_language"].fillna("") + "'")
        msgs = pd.Series(msgs) + f"; reports must be in '{programme.report_language}'"
        found.append(_finding("report_language", wrong_lang["exchange_id"], msgs,
                              exchange_id=wrong_lang["exchange_id"], home_city=wrong_lang["home_city"],
                              period=wrong_lang["period"], value=wrong_lang["report_language"],
                              limit=[programme.report_language] * len(wrong_lang)))

    # missing_fx_rate (counted exchanges only; a draft's lines are outside totals anyway). A line
    # whose exchange has no conversion date yet (budget.conversion_month, e.g. not validated yet)
    # is not a finding: it waits for that date, and its exchange stays pending.
    nofx = expenses[expenses["counted"] & expenses["amount_eur"].isna() & expenses["month"].notna()]
    if len(nofx):
        found.append(_finding("missing_fx_rate", nofx["expense_id"],
                              "no " + nofx["currency"] + " rate for " + nofx["month"]
                              + ": " + nofx["amount"].map("{:,.2f}".format) + " " + nofx["currency"]
                              + " not converted and left out of EUR totals",
                              exchange_id=nofx["exchange_id"], home_city=nofx["home_city"], period=nofx["period"],
                              value=nofx["amount"].astype("str") + " " + nofx["currency"],
                              limit=nofx["currency"] + " " + nofx["month"]))

    drafts = view[~view["counted"]]
    if len(drafts):
        found.append(_finding("draft_excluded", drafts["exchange_id"],
                              pd.Series(["draft: listed, not counted in totals or checked against rules"] * len(drafts)),
                              exchange_id=drafts["exchange_id"], home_city=drafts["home_city"],
                              period=drafts["period"]))

    found = [f for f in found if f is not None and len(f)]
    found.append(_over_allocation(found, c_costs, programme))
    found = [f for f in found if f is not None and len(f)]
    if not found:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in FINDING_COLUMNS})
    # Rules in RULES order, subjects sorted within each rule (Arrow sorts strings fast).
    order = {r.id: i for i, r in enumerate(RULES)}
    found.sort(key=lambda f: order[f["rule_id"].iat[0]])
    found = [f if _is_sorted(f["subject_id"]) else f.take(pc.sort_indices(as_arrow(f["subject_id"])).to_numpy())
             for f in found]
    return pd.concat(found, ignore_index=True)[FINDING_COLUMNS]


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
    ex = ex.loc[ex["officer_id"].isin(findings["subject_id"])]
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
    ineligible = set(ineligible_exchange_rules(so_far, programme)["exchange_id"])
    eligible = costs.loc[~costs["exchange_id"].isin(ineligible)]
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


def _concurrent(counted: pd.DataFrame, programme: Programme) -> pd.DataFrame | None:
    """Exchanges that start while the allowed number of colleagues is already away.

    Per home city, sorted by start: colleagues away when exchange i starts =
    (exchanges of the city starting before it) - (those that ended before its start);
    every exchange that ended before it also started before it, so this is exact.
    One numpy sweep over all cities: each city's dates are offset far apart.
    """
    if counted.empty:
        return None
    limit = programme.max_concurrent_per_city
    city_codes, _ = pd.factorize(counted["home_city"], sort=True)
    start = counted["start_date"].to_numpy("datetime64[D]").astype(np.int64)
    end = counted["end_date"].to_numpy("datetime64[D]").astype(np.int64)
    span = int(max(end.max(), start.max()) - min(end.min(), start.min())) + 2
    base = min(end.min(), start.min())
    key_start = city_codes.astype(np.int64) * span + (start - base)
    key_end = city_codes.astype(np.int64) * span + (end - base)
    order = np.argsort(key_start, kind="stable")   # ties keep the file's order
    ks, ke, codes = key_start[order], key_end[order], city_codes[order]
    position = np.arange(len(order))
    group_start = np.maximum.accumulate(np.where(np.r_[True, codes[1:] != codes[:-1]], position, 0))
    ended_before = np.searchsorted(np.sort(key_end), ks, side="left")
    away = position - ended_before   # earlier starts of the city minus its exchanges already over
    clash = away >= limit
    if not clash.any():
        return None
    # Name a colleague who is away: the earlier exchange of the city with the latest end so far.
    latest = np.maximum.accumulate(ke)
    holder_pos = np.maximum.accumulate(np.where(ke == latest, position, 0))
    prev = np.r_[-1, holder_pos[:-1]]
    prev = np.where(prev >= group_start, prev, -1)
    # Findings come out sorted by subject (the exchange), as every rule's do.
    hit_rows, hit_prev = order[clash], prev[clash]
    by_id = pc.sort_indices(pc.take(as_arrow(counted["exchange_id"]), pa.array(hit_rows))).to_numpy()
    hit_rows, hit_prev, away_hits = hit_rows[by_id], hit_prev[by_id], away[clash][by_id]
    rows = counted[["exchange_id", "home_city", "start_date", "end_date", "period"]].iloc[hit_rows]
    prev_rows = order[np.maximum(hit_prev, 0)]
    others = str_series(pc.take(as_arrow(counted["exchange_id"]),
                                pa.array(prev_rows, mask=hit_prev < 0)), index=rows.index)
    named = concat(" (e.g. exchange ", others, ")").where(others.notna(), "")
    msgs = concat("officer away ", strftime(rows["start_date"]), " to ", strftime(rows["end_date"]), " while ",
                  pd.Series(away_hits, index=rows.index), " colleague(s) from ", rows["home_city"],
                  " are away", named, f"; at most {limit} at a time")
    return _finding("concurrent_absence", rows["exchange_id"], msgs, exchange_id=rows["exchange_id"],
                    home_city=rows["home_city"], period=rows["period"], value=others,
                    limit=[str(limit)] * len(rows))


def _is_sorted(subjects: pd.Series) -> bool:
    arr = as_arrow(subjects)
    if len(arr) < 2:
        return True
    return bool(pc.all(pc.less_equal(arr.slice(0, len(arr) - 1), arr.slice(1))).as_py())


def summarise(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings per rule, every rule listed (zero where nothing was found)."""
    counts = findings["rule_id"].value_counts()
    return pd.DataFrame({
        "rule_id": [r.id for r in RULES],
        "severity": [r.severity for r in RULES],
        "findings": [int(counts.get(r.id, 0)) for r in RULES],
        "rule": [r.description for r in RULES],
    })
