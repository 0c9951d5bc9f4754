"""Best practices: what the officers brought home, the themes they address, who learnt from whom."""
from __future__ import annotations

import pandas as pd

from clusnet_analysis.analysis import practices as an
from clusnet_analysis.plots.practices import describe_themes_by_host
from clusnet_analysis.sections.base import FigureSpec, Section, Table
from clusnet_analysis.sections.budget import ineligible_marks
from clusnet_analysis.sections.common import (
    counted,
    numbers,
    one_number,
    per_scope,
    plural,
    scoped,
)
from clusnet_analysis.sections.labels import humanise_values, value_label
from clusnet_analysis.sections.view import PeriodView

TITLE = "Best practices"
TOP_N = 3
TIE_RULE = ("Ranked by transferability (5 = easiest to transfer), then by how many exchanges reported the "
            "same practice at the same host city, then alphabetically by title.")


def ranked_practices(view_frame: pd.DataFrame) -> pd.DataFrame:
    """Counted practices in the order of :data:`TIE_RULE`, with ``reports`` per (host, title)."""
    p = counted(view_frame).assign(_key=lambda d: an.normalise_title(d["title"]))
    reports = p.groupby(["host_city", "_key"])["exchange_id"].transform("nunique")
    p = p.assign(reports=reports.astype("int64"))
    return p.sort_values(["transferability", "reports", "_key", "practice_id"],
                         ascending=[False, False, True, True], kind="stable").drop(columns="_key")


def practices(view: PeriodView) -> Section:
    prog = view.programme
    section = Section("practices", TITLE, view.period)
    themes = dict(prog.theme_labels)
    phase_names = {p.id: p.name for p in view.model.phases}
    pv = counted(an.practices_view(view.table("practices"), view.exchanges))
    main = view.main_scope
    cumulative = main.select(pv)

    section.key_numbers += numbers(view, "practices", "Practices reported", "practices", per_scope(view, pv, len))
    several = an.reported_by_several(cumulative)
    coverage = an.gap_coverage(cumulative, prog)
    section.key_numbers.append(one_number(view, "reported_by_several", "Practices reported from several exchanges",
                                          "practices", len(several)))
    mean_cov = float(coverage["coverage_share"].mean()) if len(coverage) else float("nan")
    section.key_numbers.append(one_number(view, "mean_theme_coverage", "Themes covered, mean per home city", "%",
                                          mean_cov))

    ranked = ranked_practices(cumulative)
    top_rating = ranked["transferability"].max() if len(ranked) else None
    at_top = int((ranked["transferability"] == top_rating).sum()) if len(ranked) else 0
    top = humanise_values(ranked.head(TOP_N).loc[:, ["title", "theme", "host_city", "transferability", "reports"]],
                          {"theme": themes})
    section.tables.append(Table("top_practices", f"The {TOP_N} practices rated most transferable, {main.label}",
                                top.reset_index(drop=True),
                                note=TIE_RULE + (f" {at_top} practices share the top rating of {top_rating}."
                                                 if at_top > TOP_N else "")))
    by_host = an.theme_by_host(cumulative, prog)
    shown = by_host.rename(columns=themes)
    shown.index.name = "host_city"
    section.tables.append(Table("themes_by_host", f"Practices per theme and host city, {main.label}", shown,
                                index=True))
    inventory = humanise_values(ranked.loc[:, ["practice_id", "title", "theme", "phase", "transferability",
                                               "host_city", "home_city", "officer_pseudonym", "period"]],
                                {"theme": themes, "phase": phase_names})
    marks = ineligible_marks(view)
    inventory["exchange_ineligible"] = ranked["exchange_id"].map(marks).astype(object).fillna("").to_numpy()
    t = Table("inventory", f"Every practice, {main.label}", inventory.reset_index(drop=True),
              note=TIE_RULE + " A practice from an exchange that breaks an eligibility rule is kept and marked.")
    t.highlight("exchange_ineligible", t.frame["exchange_ineligible"] != "", "ineligible exchange",
                "the practice comes from an exchange a programme rule makes ineligible")
    section.tables.append(t)
    several = several.drop(columns=["normalised_title"])
    several["themes"] = several["themes"].map(   # a ", "-joined list of theme ids, each in words
        lambda ids: ", ".join(themes.get(t, value_label(t)) for t in ids.split(", ")) if ids else ids)
    section.tables.append(Table("reported_by_several", "Practices reported from two or more exchanges",
                                several, note="Titles are matched ignoring case and spacing."))
    section.tables.append(Table("who_learns", f"Practices brought home per pair of cities, {main.label}",
                                an.who_learns_from_whom(cumulative, prog),
                                note="The home city learnt from the host city."))
    cov = coverage.rename(columns=themes)
    cov.index.name = "home_city"
    t = Table("theme_coverage", f"Themes covered per home city, {main.label}", cov, index=True,
              percent_columns=("coverage_share",))
    section.tables.append(t)

    labels = themes or None
    section.figures.append(FigureSpec(
        "04_practice_themes_by_host", f"Best-practice themes by host city, {main.label}",
        lambda: _themes_figure(by_host, labels, f"Best-practice themes by host city, {main.label}: {view.label}"),
        alt=scoped(describe_themes_by_host(by_host, labels), main.label)))
    section.readings.append(
        f"Officers reported {plural(len(cumulative), 'practice')} ({main.label}); {plural(len(several), 'was', 'were')} "
        f"seen from more than one exchange at the same host city. On average a city's officers brought back "
        f"practices for {mean_cov:.0%} of the {len(prog.themes)} themes." if len(coverage) else
        "No practices were reported.")
    return section


def _themes_figure(by_host, labels, title):
    from clusnet_analysis.plots.practices import themes_by_host_figure

    return themes_by_host_figure(by_host, theme_labels=labels, title=title)
