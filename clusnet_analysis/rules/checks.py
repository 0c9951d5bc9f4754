"""Programme rules: findings are data, not exceptions.

Each rule reads the programme file (:class:`~clusnet_analysis.rules.programme.Programme`),
so another programme's limits apply without code changes. A rule whose programme-file
key is ``false`` is off: it finds nothing, and :func:`summarise` lists it as "off". The
visit length is exact or a range (``visit.days = { min = 1, max = 4 }``). Messages state
the limit in words. Rules look at counted exchanges only (drafts are listed once, as
``draft_excluded``).
"""
from __future__ import annotations


import numpy as np
import pandas as pd

import pyarrow as pa
import pyarrow.compute as pc

from clusnet_analysis.ingest._arrow import TEXT, as_arrow, concat, str_series, strftime
from clusnet_analysis.rules.programme import Programme
from clusnet_analysis.rules.catalogue import (  # noqa: F401  (re-exported)
    FINDING_COLUMNS, RULES, RULES_BY_ID, Rule, _finding)
from clusnet_analysis.rules.money_checks import (  # noqa: F401  (re-exported)
    _over_allocation, attach_officer_findings, ineligible_exchange_rules)



def _fmt_eur(values) -> list[str]:
    return [f"{v:,.2f}" for v in values]


def _amount(value: float) -> str:
    """1550 -> "1,550"; 1550.5 -> "1,550.50"."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def visit_days_words(programme: Programme) -> str:
    """"5 days" or "between 1 and 4 days" (first and last day included)."""
    lo, hi = programme.visit_days_min, programme.visit_days_max
    if lo is None:
        return ""
    return _plural(lo, "day") if lo == hi else f"between {lo} and {hi} days"


def rule_is_off(rule: Rule | str, programme: Programme) -> bool:
    """Whether the programme file switches the rule off (its key set to ``false``)."""
    rule = RULES_BY_ID[rule] if isinstance(rule, str) else rule
    return rule.setting is not None and rule.setting in programme.switched_off


def rule_limit(rule: Rule | str, programme: Programme) -> str:
    """What the rule asks for, in words, as the programme file sets it ("off (...)" when switched off)."""
    rule = RULES_BY_ID[rule] if isinstance(rule, str) else rule
    p = programme
    if rule_is_off(rule, p):
        return f"off (`{rule.setting} = false` in the programme file)"
    words = {
        "over_cap": lambda: f"at most {_amount(p.cap_eur)} EUR per exchange",
        "outside_window": lambda: f"visits from {p.window_start} to {p.window_end}",
        "outside_periods": lambda: "visits starting in a reporting period (" + ", ".join(p.period_ids) + ")",
        "officer_quota": lambda: f"at most {_plural(p.officers_per_city, 'officer')} per city",
        "over_allocation": lambda: "eligible spend of each home city within its allocation",
        "ineligible_employer": lambda: "employed by: " + ", ".join(p.eligible_employer_types),
        "concurrent_absence": lambda: (f"at most {_plural(p.max_concurrent_per_city, 'officer')} of a city "
                                       "away at a time"),
        "home_is_host": lambda: "a host city other than the home city",
        "not_partner_city": lambda: f"home and host among the {_plural(len(p.partner_cities), 'partner city', 'partner cities')}",
        "visit_length": lambda: f"visits of {visit_days_words(p)}",
        "agenda_not_sent": lambda: "final agenda sent before the visit starts",
        "report_missing": lambda: "a report for every submitted or validated exchange",
        "report_too_long": lambda: f"reports of at most {_plural(p.report_max_pages, 'page')}",
        "report_language": lambda: f"reports written in '{p.report_language}'",
        "missing_fx_rate": lambda: "an exchange rate for every currency and month used",
        "draft_excluded": lambda: "drafts are listed but not counted",
    }
    return words[rule.id]()


def _counted_exchanges(view: pd.DataFrame) -> pd.DataFrame:
    """The exchanges the rules look at (not drafts), with only the columns findings use.

    Filtering copies every column: columns first, so the row filter copies only these, and no
    filter when every exchange counts (the usual case).
    """
    view_cols = ["exchange_id", "home_city", "host_city", "start_date", "end_date", "status", "period",
                 "duration_days", "agenda_sent_date", "report_received_date", "report_pages", "report_language"]
    counted = view[view_cols]
    if not view["counted"].all():
        counted = counted[view["counted"]]
    return counted


def concurrent_absences(view: pd.DataFrame, programme: Programme) -> pd.DataFrame | None:
    """The findings of ``concurrent_absence`` alone (None when it is off or finds nothing).

    It needs the exchanges only, so the data layer computes it on the second core while the
    expense lines are converted; :func:`check_rules` takes the result.
    """
    if rule_is_off("concurrent_absence", programme):
        return None
    return _concurrent(_counted_exchanges(view), programme)


def check_rules(tables: dict[str, pd.DataFrame], programme: Programme, view: pd.DataFrame,
                expenses: pd.DataFrame, costs: pd.DataFrame, concurrent=None) -> pd.DataFrame:
    """All findings, sorted by rule (in RULES order) and subject.

    ``concurrent``: a function giving :func:`concurrent_absences` of the same view, when it is
    being computed elsewhere (the data layer's second core); else it is computed here.
    """
    found: list[pd.DataFrame] = []
    counted = _counted_exchanges(view)
    c_costs = costs[["exchange_id", "home_city", "period", "total_eur"]]
    if not costs["counted"].all():
        c_costs = c_costs[costs["counted"]]

    def on(rule_id: str) -> bool:
        return not rule_is_off(rule_id, programme)

    # over_cap
    cap = programme.cap_eur
    over = c_costs[c_costs["total_eur"] > cap + 1e-9] if on("over_cap") else c_costs.iloc[:0]
    if len(over):
        cap_words = _amount(cap)
        found.append(_finding(
            "over_cap", over["exchange_id"],
            [f"costs {t} EUR, more than the cap of {cap_words} EUR per exchange ({d} EUR over)"
             for t, d in zip(_fmt_eur(over["total_eur"]), _fmt_eur(over["total_eur"] - cap))],
            exchange_id=over["exchange_id"], home_city=over["home_city"], period=over["period"],
            value=over["total_eur"].round(2).astype("str"), limit=f"{cap:g}"))

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
            limit=f"{programme.window_start}..{programme.window_end}"))
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
    quota = programme.officers_per_city
    per_city = officers.groupby("home_city", sort=True).size()
    too_many = per_city[per_city > quota] if on("officer_quota") else per_city.iloc[:0]
    if len(too_many):
        found.append(_finding(
            "officer_quota", pd.Series(too_many.index),
            [f"{n} officers registered for {c}; the quota is {_plural(quota, 'officer')} per city"
             for c, n in too_many.items()],
            home_city=pd.Series(too_many.index), value=too_many.astype("str").to_numpy(),
            limit=str(programme.officers_per_city)))

    # ineligible_employer
    bad_emp = officers[~officers["employer_type"].isin(programme.eligible_employer_types)]
    if len(bad_emp):
        found.append(_finding(
            "ineligible_employer", bad_emp["officer_id"],
            "employer type '" + bad_emp["employer_type"] + "' is not eligible (allowed: "
            + ", ".join(programme.eligible_employer_types) + ")",
            home_city=bad_emp["home_city"], value=bad_emp["employer_type"],
            limit=", ".join(programme.eligible_employer_types)).pipe(attach_officer_findings, view))

    if on("concurrent_absence"):
        found.append(concurrent() if concurrent is not None else _concurrent(counted, programme))

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
                for h, m, hn, mn in zip(np_rows["host_city"].tolist(), np_rows["home_city"].tolist(),
                                        host_np[np_rows.index].tolist(), home_np[np_rows.index].tolist())]
        found.append(_finding("not_partner_city", np_rows["exchange_id"], msgs, exchange_id=np_rows["exchange_id"],
                              home_city=np_rows["home_city"], period=np_rows["period"],
                              value=np.where(host_np[np_rows.index], np_rows["host_city"], np_rows["home_city"])))

    # visit_length
    if on("visit_length"):
        lo, hi = programme.visit_days_min, programme.visit_days_max
        days = counted["duration_days"]
        wrong = counted[(days < lo) | (days > hi)]
        if len(wrong):
            n = wrong["duration_days"]
            found.append(_finding("visit_length", wrong["exchange_id"],
                                  "visit of " + n.astype("str") + np.where(n == 1, " day", " days")
                                  + f"; the programme's visits last {visit_days_words(programme)}",
                                  exchange_id=wrong["exchange_id"], home_city=wrong["home_city"],
                                  period=wrong["period"], value=n.astype("str"),
                                  limit=str(lo) if lo == hi else f"{lo}..{hi}"))

    # agenda_not_sent
    if on("agenda_not_sent"):
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
    if on("report_missing"):
        missing = counted[counted["report_received_date"].isna()]
        if len(missing):
            found.append(_finding("report_missing", missing["exchange_id"],
                                  "no report received (status " + missing["status"] + ")",
                                  exchange_id=missing["exchange_id"], home_city=missing["home_city"],
                                  period=missing["period"]))
    max_pages = programme.report_max_pages
    long_ = counted[counted["report_pages"].fillna(0) > max_pages] if on("report_too_long") else counted.iloc[:0]
    if len(long_):
        found.append(_finding("report_too_long", long_["exchange_id"],
                              "report of " + long_["report_pages"].astype("str")
                              + f" pages; the limit is {_plural(max_pages, 'page')}",
                              exchange_id=long_["exchange_id"], home_city=long_["home_city"], period=long_["period"],
                              value=long_["report_pages"].astype("str"),
                              limit=str(programme.report_max_pages)))
    language = programme.report_language
    has_report = counted["report_received_date"].notna()
    lang = counted["report_language"].str.lower()
    wrong_lang = (counted[has_report & (lang != language) | (lang.notna() & (lang != language))]
                  if on("report_language") else counted.iloc[:0])
    if len(wrong_lang):
        msgs = np.where(wrong_lang["report_language"].isna(), "report language not stated",
                        "report written in '" + wrong_lang["report_language"].fillna("") + "'")
        msgs = pd.Series(msgs) + f"; reports must be in '{programme.report_language}'"
        found.append(_finding("report_language", wrong_lang["exchange_id"], msgs,
                              exchange_id=wrong_lang["exchange_id"], home_city=wrong_lang["home_city"],
                              period=wrong_lang["period"], value=wrong_lang["report_language"],
                              limit=programme.report_language))

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
                              "draft: listed, not counted in totals or checked against rules",
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
    # One after the other without copying: each column is the rules' Arrow chunks in order (every
    # finding column is text). pd.concat copied them all while the parts were still held: on a
    # million exchanges, 370 MB more at the data layer's peak.
    return pd.DataFrame({c: str_series(pa.chunked_array(
        [chunk for f in found for chunk in _chunks(as_arrow(f[c]))], type=TEXT)) for c in FINDING_COLUMNS})


def _chunks(arr: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]


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
                  " are away", named, f"; the programme allows at most {_plural(limit, 'officer')} of a city "
                  "away at a time")
    return _finding("concurrent_absence", rows["exchange_id"], msgs, exchange_id=rows["exchange_id"],
                    home_city=rows["home_city"], period=rows["period"], value=others,
                    limit=str(limit))


def _is_sorted(subjects: pd.Series) -> bool:
    arr = as_arrow(subjects)
    if len(arr) < 2:
        return True
    return bool(pc.all(pc.less_equal(arr.slice(0, len(arr) - 1), arr.slice(1))).as_py())


def summarise(findings: pd.DataFrame, programme: Programme | None = None) -> pd.DataFrame:
    """Findings per rule, every rule listed (zero where nothing was found).

    With the programme, two more columns say whether each rule is on or off and what it
    asks for in words: ``status`` ("on" or "off") and ``limit`` (e.g. "visits of between 1
    and 4 days", or "off (`visit.days = false` in the programme file)"). A rule that is
    off has no findings, and a page can say it is off instead of showing a zero.
    """
    counts = findings["rule_id"].value_counts()
    out = pd.DataFrame({
        "rule_id": [r.id for r in RULES],
        "severity": [r.severity for r in RULES],
        "findings": [int(counts.get(r.id, 0)) for r in RULES],
        "rule": [r.description for r in RULES],
    })
    if programme is not None:
        out.insert(2, "status", ["off" if rule_is_off(r, programme) else "on" for r in RULES])
        out["limit"] = [rule_limit(r, programme) for r in RULES]
    return out
