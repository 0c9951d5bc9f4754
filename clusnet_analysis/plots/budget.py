"""Figures of budget use (EUR)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from clusnet_analysis.plots.style import (
    MANY_CITIES, MAX_BARS, PALETTE, capped_size, fit_x_labels, human, plain, set_titles,
)

TOTAL = "total"  # label of the closing row in the analysis tables
_EUR = FuncFormatter(lambda value, _pos: f"{value:,.0f}")


def _without_total(table: pd.DataFrame, key: str) -> pd.DataFrame:
    return table.loc[table[key] != TOTAL].reset_index(drop=True)


def _spend_parts(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    if {"previously_reported_eur", "this_period_eur"} <= set(table.columns):
        parts = [("previously_reported_eur", "Spent, previously reported", PALETTE[0]),
                 ("this_period_eur", "Spent, this period", PALETTE[4]),
                 # "final" tables may hold spend outside every period: show it rather than lose it.
                 ("outside_periods_eur", "Spent, outside reporting periods", PALETTE[3])]
    else:
        parts = [("spent_eur", "Spent", PALETTE[0])]
    return [part for part in parts if part[0] in table.columns
            and (part[0] != "outside_periods_eur" or table[part[0]].astype("float64").fillna(0.0).any())]


def _city_rows(city_table: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The table without its total row; past MAX_BARS cities the smallest spenders summed in one row."""
    table = _without_total(city_table, "home_city")
    if len(table) <= MAX_BARS:
        return table, 0
    columns = ["budget_eur", *[c for c, _, _ in _spend_parts(table)]]
    spend = sum(table[c].astype("float64").fillna(0.0) for c in columns[1:])
    ranked = sorted(range(len(table)), key=lambda i: -spend.iloc[i])
    keep = sorted(ranked[:MAX_BARS - 1])
    rest = table.drop(index=table.index[keep])
    other = {c: rest[c].astype("float64").sum(min_count=1) for c in columns}
    other["home_city"] = f"Other cities ({len(rest)})"
    return pd.concat([table.iloc[keep], pd.DataFrame([other])], ignore_index=True), len(rest)


def budget_by_city_figure(city_table: pd.DataFrame, title: str | None = None) -> Figure:
    """Bars of spend against allocation per home city (the home city pays).

    Takes :func:`analysis.budget.city_vs_allocation` (``spent_eur``) or
    :func:`analysis.budget.interreg_table` with ``by="home_city"`` (spend stacked
    as previously reported + this period). The ``"total"`` row is left out.
    Up to 15 cities the bars stand upright; past that they lie down, one row per
    city (first city on top); past 60 cities the smallest spenders are summed in
    one "Other cities" bar (the subtitle says so). At most 12 x 9 inches.
    """
    table, summed = _city_rows(city_table)
    cities = [plain(c) for c in table["home_city"].astype(str)]
    n = len(cities)
    horizontal = n > MANY_CITIES
    position = np.arange(n)
    width = 0.5
    if horizontal:
        fig = Figure(figsize=capped_size(9.0, 2.2 + 0.3 * n), layout="constrained")
        tick_size = max(5.5, min(9.0, 0.72 * 72 * (fig.get_figheight() - 2.2) / max(n, 1)))
    else:
        fig = Figure(figsize=capped_size(max(6.0, 0.9 * n + 2.0), 4.6), layout="constrained")
        tick_size = 10.0 if n <= 8 else 9.0
    ax = fig.add_subplot()
    budget_eur = table["budget_eur"].astype("float64")
    bar = ax.barh if horizontal else ax.bar
    base = "left" if horizontal else "bottom"
    # Allocation as an outline, spend as a filled bar inside it: the gap is what is left.
    bar(position, budget_eur.fillna(0.0), 0.8, facecolor="none", edgecolor=PALETTE[1],
        linewidth=1.5 if n <= 30 else 0.8, label="Allocation", zorder=3)
    spent = np.zeros(n)
    for column, label, colour in _spend_parts(table):
        amounts = table[column].astype("float64").fillna(0.0).to_numpy()
        bar(position, amounts, width, **{base: spent}, color=colour, label=label, zorder=2)
        spent = spent + amounts
    for where, used, allocation in zip(position, spent, budget_eur):
        if np.isfinite(allocation) and allocation > 0:
            if horizontal:
                ax.annotate(f"{100 * used / allocation:.0f}%", (max(used, allocation), where), xytext=(3, 0),
                            textcoords="offset points", ha="left", va="center", fontsize=min(7.0, tick_size))
            else:
                ax.annotate(f"{100 * used / allocation:.0f}%", (where, used), xytext=(0, 2),
                            textcoords="offset points", ha="center", va="bottom", fontsize=7)
    if horizontal:
        ax.set_yticks(position, labels=cities, fontsize=tick_size)
        ax.set_ylim(n - 0.5, -0.5)   # first city on top, as in the table
        ax.set_ylabel("Home city (pays)")
        ax.set_xlabel("EUR")
        ax.xaxis.set_major_formatter(_EUR)
        ax.margins(x=0.08)          # room for the percentages
        ax.grid(axis="y", visible=False)
    else:
        ax.set_xticks(position, labels=cities, fontsize=tick_size)
        ax.set_xlabel("Home city (pays)")
        ax.set_ylabel("EUR")
        ax.yaxis.set_major_formatter(_EUR)
        ax.grid(axis="x", visible=False)
    subtitle = (f"The {n - 1} cities that spent most; the other {summed} are summed in the last bar."
                if summed else None)
    set_titles(ax, plain(title or "Budget use by home city: spend vs allocation"), subtitle)
    fig.legend(loc="outside upper center", ncols=len(ax.get_legend_handles_labels()[1]), frameon=False,
               fontsize=8)
    if not horizontal:
        fit_x_labels(fig, ax)
    return fig


def describe_budget_by_city(city_table: pd.DataFrame) -> str:
    """One sentence for the figure's alt text: spend against allocation, and the city using most of it."""
    table = _without_total(city_table, "home_city")
    parts = _spend_parts(table)
    spent = sum(table[c].astype("float64").fillna(0.0) for c, _, _ in parts) if parts else pd.Series(0.0,
                                                                                                      index=table.index)
    allocation = table["budget_eur"].astype("float64")
    text = (f"Bars of spend against allocation for {len(table)} home cities: {spent.sum():,.0f} EUR spent "
            f"of {allocation.sum(min_count=1) if allocation.notna().any() else 0:,.0f} EUR allocated")
    share = (spent / allocation.where(allocation > 0)).dropna()
    if len(share):
        top = share.idxmax()
        text += f"; {table.loc[top, 'home_city']} has used the largest share ({100 * share[top]:.0f}%)"
    return text + "."


def budget_by_category_figure(category_table: pd.DataFrame, title: str | None = None,
                              category_labels: dict[str, str] | None = None) -> Figure:
    """Mean cost per exchange against the programme reference, per category and in total.

    Takes :func:`analysis.budget.category_vs_reference`. The cap per exchange
    (all categories together, ``cap_eur``) is drawn over the ``"total"`` bars.
    ``category_labels`` (category id -> words) name the bars; an id without one is
    turned into words. At most 12 x 9 inches.
    """
    table = category_table.reset_index(drop=True)
    labels_of = {TOTAL: "Total", **(category_labels or {})}
    labels = [plain(labels_of.get(c, human(c))) for c in table["category"]]
    x = np.arange(len(labels))
    width = 0.38

    fig = Figure(figsize=capped_size(max(6.0, 0.9 * len(labels) + 2.0), 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(x - width / 2, table["mean_per_exchange_eur"].fillna(0.0), width, color=PALETTE[0],
           label="Actual mean per exchange")
    ax.bar(x + width / 2, table["reference_eur"].fillna(0.0), width, color=PALETTE[1],
           label="Programme reference")
    total_rows = np.flatnonzero((table["category"] == TOTAL).to_numpy())
    if len(total_rows) and "cap_eur" in table.columns:
        position = int(total_rows[0])
        cap = float(table["cap_eur"].iloc[position])
        ax.hlines(cap, position - 0.5, position + 0.5, colors=PALETTE[5], linestyles="--", linewidth=2,
                  label=f"Cap per exchange ({cap:,.0f} EUR, all categories)")
    ax.set_xticks(x, labels=labels)
    ax.set_xlabel("Cost category")
    ax.set_ylabel("EUR per exchange")
    ax.yaxis.set_major_formatter(_EUR)
    ax.grid(axis="x", visible=False)
    set_titles(ax, plain(title or "Cost per exchange by category: actual mean vs reference"))
    fig.legend(loc="outside upper center", ncols=3, frameon=False, fontsize=8)
    fit_x_labels(fig, ax)
    return fig


def describe_budget_by_category(category_table: pd.DataFrame, category_labels: dict[str, str] | None = None) -> str:
    """One sentence for the figure's alt text: mean cost per exchange against the reference, in total."""
    table = category_table.reset_index(drop=True)
    categories = table.loc[table["category"] != TOTAL]
    text = (f"Bars of the mean cost per exchange against the programme reference for {len(categories)} cost "
            "categories and in total")
    total = table.loc[table["category"] == TOTAL]
    if len(total):
        row = total.iloc[0]
        mean, reference = row.get("mean_per_exchange_eur"), row.get("reference_eur")
        if pd.notna(mean) and pd.notna(reference):
            text += f"; in total {mean:,.0f} EUR per exchange against a reference of {reference:,.0f} EUR"
        if "cap_eur" in table.columns and pd.notna(row.get("cap_eur")):
            text += f" (cap {row['cap_eur']:,.0f} EUR)"
    labels = {TOTAL: "Total", **(category_labels or {})}
    over = categories.loc[categories["mean_per_exchange_eur"] > categories["reference_eur"], "category"]
    if len(over):
        text += "; above the reference: " + ", ".join(labels.get(c, human(c)).lower() for c in over)
    return text + "."
