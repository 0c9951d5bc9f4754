"""Best-practice syntheses: what officers learnt, where, and which of the programme's themes it covers.

Every synthesis takes the *practices view* (:func:`practices_view`): the
practices table with the exchange's home city, host city, period, counted flag
and officer pseudonym joined on. Practices from draft exchanges (``counted`` is
False) stay out of every synthesis, like drafts stay out of every total. To
report one period, filter the view first, e.g. with
``analysis.periods.select_period(view, programme, period_id, cumulative=True)``.

Officers appear only through ``officer_pseudonym`` (e.g. "ABC-7F3A"), never by name.
"""
from __future__ import annotations

import pandas as pd

from clusnet_analysis.rules.programme import ClusterModel, Programme
from clusnet_analysis.analysis.order import city_order, known_first
from clusnet_analysis.analysis.periods import counted

#: Columns taken from the exchanges view; officer names are deliberately absent.
EXCHANGE_COLUMNS = ("home_city", "host_city", "period", "counted", "officer_pseudonym")

#: Column for practices whose phase was not stated.
NO_PHASE = "phase_not_stated"


# ---------------------------------------------------------------- the view
def practices_view(practices: pd.DataFrame, exchanges_view: pd.DataFrame) -> pd.DataFrame:
    """Practices with ``home_city, host_city, period, counted, officer_pseudonym`` joined by exchange_id.

    Rows and their order are those of ``practices``. A practice whose exchange is
    unknown keeps empty city columns and ``counted = False``: it cannot be
    attributed, so it stays out of the syntheses (the loader reports it).
    """
    exchange_info = (
        exchanges_view.loc[:, ["exchange_id", *EXCHANGE_COLUMNS]]
        .drop_duplicates("exchange_id")
    )
    own = practices.drop(columns=[c for c in EXCHANGE_COLUMNS if c in practices.columns])
    view = own.merge(exchange_info, on="exchange_id", how="left", validate="many_to_one")
    view["counted"] = view["counted"].fillna(False).astype(bool)
    return view.reset_index(drop=True)


def normalise_title(titles: pd.Series) -> pd.Series:
    """Casefold and collapse whitespace, so 'Open  Lab' and 'open lab' are one practice.

    Each distinct title is normalised once (titles repeat), then spread back.
    """
    codes, uniques = pd.factorize(titles.astype("str"), use_na_sentinel=False)
    normalised = (pd.Series(uniques, dtype="str").str.replace(r"\s+", " ", regex=True).str.strip()
                  .str.casefold())
    return pd.Series(normalised.to_numpy()[codes], index=titles.index, dtype="str")


# ---------------------------------------------------------------- helpers
def _theme_columns(themes_seen: pd.Series, programme: Programme) -> list[str]:
    """Programme themes in programme order, then any unexpected theme (sorted) so nothing is lost."""
    return known_first(programme.themes, themes_seen)


def _city_order(cities_seen: pd.Series, programme: Programme) -> list[str]:
    """Partner cities in programme order (also those with nothing to show), then others sorted."""
    return city_order(programme, cities_seen)


def _count_matrix(df: pd.DataFrame, rows: str, cols: str, row_order: list, col_order: list) -> pd.DataFrame:
    table = pd.crosstab(df[rows], df[cols]) if len(df) else pd.DataFrame()
    table = table.reindex(index=row_order, columns=col_order, fill_value=0).fillna(0).astype("int64")
    table.index.name = rows
    table.columns.name = cols
    return table


# ---------------------------------------------------------------- syntheses
def theme_by_host(view: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Number of practices per host city (rows) and theme (columns).

    Rows: every partner city in programme order (zeros when it hosted nothing),
    then any other host city. Columns: every programme theme in programme order.
    """
    practices = counted(view)
    return _count_matrix(practices, "host_city", "theme",
                         _city_order(practices["host_city"], programme),
                         _theme_columns(practices["theme"], programme))


def theme_by_phase(view: pd.DataFrame, programme: Programme, model: ClusterModel) -> pd.DataFrame:
    """Number of practices per theme (rows) and cluster phase they serve (columns, model order).

    Practices without a phase are counted in the last column, ``phase_not_stated``.
    """
    practices = counted(view)
    phases = practices["phase"] if "phase" in practices else pd.Series(pd.NA, index=practices.index)
    practices = practices.assign(phase=phases.fillna(NO_PHASE))
    extra_phases = sorted(set(practices["phase"].unique()) - set(model.phase_ids) - {NO_PHASE})
    return _count_matrix(practices, "theme", "phase",
                         _theme_columns(practices["theme"], programme),
                         [*model.phase_ids, *extra_phases, NO_PHASE])


MOST_TRANSFERABLE_COLUMNS = ["practice_id", "title", "theme", "phase", "transferability",
                             "host_city", "home_city", "officer_pseudonym", "period", "exchange_id"]


def most_transferable(view: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` practices rated most transferable; ties broken by title, then practice_id.

    Columns: practice_id, title, theme, phase, transferability, host_city,
    home_city, officer_pseudonym, period, exchange_id.
    """
    practices = counted(view).assign(_title_key=lambda d: normalise_title(d["title"]))
    ranked = practices.sort_values(
        ["transferability", "_title_key", "practice_id"],
        ascending=[False, True, True], na_position="last", kind="stable")
    columns = [c for c in MOST_TRANSFERABLE_COLUMNS if c in ranked.columns]
    return ranked.loc[:, columns].head(n).reset_index(drop=True)


def _joined(values: pd.Series) -> str:
    return ", ".join(sorted(set(values.dropna().astype(str))))


def _joined_per_group(frame: pd.DataFrame, keys: list[str], column: str) -> pd.Series:
    """:func:`_joined` of ``column`` for every group of ``keys`` at once: distinct values, sorted, ", "-joined.

    Duplicates are dropped and values sorted over the whole column first, so the
    Python work per group is one join of its distinct values.
    """
    values = frame.loc[frame[column].notna(), [*keys, column]].astype({column: "str"})
    values = values.drop_duplicates().sort_values([*keys, column], kind="stable")
    # Sorting "str" values follows Python's order (code points), as sorted() in _joined does.
    # Plain Python strings (object dtype) join fast; Arrow-backed ones would be boxed one by one.
    strings = pd.Series(values[column].to_numpy(dtype=object), dtype=object,
                        index=pd.MultiIndex.from_frame(values[keys]))
    return strings.groupby(level=list(range(len(keys))), sort=True).agg(", ".join)


def reported_by_several(view: pd.DataFrame, min_reports: int = 2) -> pd.DataFrame:
    """Practices seen at the same host city in at least ``min_reports`` different exchanges.

    Titles are matched after casefolding and collapsing whitespace. Each exchange
    is one officer's visit, so two exchanges are two independent reports (two
    officers of a group visit, or one officer visiting twice).

    Columns: host_city, title (the first spelling, by practice_id), normalised_title,
    reports (distinct exchanges), officers (distinct pseudonyms), officer_pseudonyms,
    home_cities, themes, practice_ids. Sorted by reports (most first), host_city, title.
    """
    practices = (counted(view)
                 .assign(normalised_title=lambda d: normalise_title(d["title"]))
                 .sort_values("practice_id", kind="stable"))
    keys = ["host_city", "normalised_title"]
    grouped = practices.groupby(keys, sort=True)
    summary = grouped.agg(
        title=("title", "first"),
        reports=("exchange_id", "nunique"),
        officers=("officer_pseudonym", "nunique"),
    )
    # Only groups seen often enough need their lists: join those alone.
    summary = summary.loc[summary["reports"] >= min_reports]
    wanted = practices.set_index(keys).index.isin(summary.index)
    for column, source in (("officer_pseudonyms", "officer_pseudonym"), ("home_cities", "home_city"),
                           ("themes", "theme"), ("practice_ids", "practice_id")):
        joined = _joined_per_group(practices.loc[wanted], keys, source)
        summary[column] = joined.reindex(summary.index).fillna("").astype("str")
    summary = summary.reset_index()
    columns = ["host_city", "title", "normalised_title", "reports", "officers",
               "officer_pseudonyms", "home_cities", "themes", "practice_ids"]
    return (summary.loc[:, columns]
            .sort_values(["reports", "host_city", "normalised_title"],
                         ascending=[False, True, True], kind="stable")
            .reset_index(drop=True))


def who_learns_from_whom(view: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Practices brought home per (home city → host city) pair, one row per pair that has any.

    Columns: home_city, host_city, practices. Rows in programme city order
    (home city, then host city).
    """
    flows = who_learns_from_whom_matrix(view, programme).stack().rename("practices").reset_index()
    return flows.loc[flows["practices"] > 0].reset_index(drop=True)


def who_learns_from_whom_matrix(view: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Practices per home city (rows, learner) and host city (columns, teacher); every partner city."""
    practices = counted(view)
    cities = _city_order(pd.concat([practices["home_city"], practices["host_city"]]), programme)
    return _count_matrix(practices, "home_city", "host_city", cities, cities)


def gap_coverage(view: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Which of the programme's themes each home city's officers brought practices back for.

    One row per partner city (programme order; others after). Columns: one
    count per programme theme (practices brought back; ``> 0`` means covered),
    ``themes_covered`` (how many programme themes have at least one practice) and
    ``coverage_share`` = themes_covered / number of programme themes (``themes.ids``).
    Themes outside the programme vocabulary do not count towards coverage.
    """
    practices = counted(view)
    counts = _count_matrix(practices, "home_city", "theme",
                           _city_order(practices["home_city"], programme), list(programme.themes))
    coverage = counts.copy()
    coverage.columns.name = None
    coverage["themes_covered"] = (counts > 0).sum(axis=1).astype("int64")
    coverage["coverage_share"] = (coverage["themes_covered"] / max(len(programme.themes), 1)).astype("float64")
    return coverage
