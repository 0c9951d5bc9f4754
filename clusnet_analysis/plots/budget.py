"""Figures of budget use (EUR)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from clusnet_analysis.plots.style import PALETTE

TOTAL = "total"  # label of the closing row in the analysis tables
_EUR = FuncFormatter(lambda value, _pos: f"{value:,.0f}")


def _without_total(table: pd.DataFrame, key: str) -> pd.DataFrame:
    return table.loc[table[key] != TOTAL].reset_index(drop=True)


def budget_by_city_figure(city_table: pd.DataFrame, title: str | None = None) -> Figure:
    """Bars of spend against allocation per home city (the home city pays).

    Takes :func:`analysis.budget.city_vs_allocation` (``spent_eur``) or
    :func:`analysis.budget.interreg_table` with ``by="home_city"`` (spend stacked
    as previously reported + this period). The ``"total"`` row is left out.
    """
    table = _without_total(city_table, "home_city")
    cities = table["home_city"].astype(str).tolist()
    x = np.arange(len(cities))
    width = 0.5

    fig = Figure(figsize=(max(6.0, 0.75 * len(cities) + 2.0), 4.6), layout="constrained")
    ax = fig.add_subplot()
    budget_eur = table["budget_eur"].astype("float64")
    # Allocation as an outline, spend as a filled bar inside it: the gap is what is left.
    ax.bar(x, budget_eur.fillna(0.0), 0.8, facecolor="none", edgecolor=PALETTE[1], linewidth=1.5,
           label="Allocation", zorder=3)
    if {"previously_reported_eur", "this_period_eur"} <= set(table.columns):
        parts = [("previously_reported_eur", "Spent, previously reported", PALETTE[0]),
                 ("this_period_eur", "Spent, this period", PALETTE[4]),
                 # "final" tables may hold spend outside every period: show it rather than lose it.
                 ("outside_periods_eur", "Spent, outside reporting periods", PALETTE[3])]
    else:
        parts = [("spent_eur", "Spent", PALETTE[0])]
    bottom = np.zeros(len(cities))
    for column, label, colour in parts:
        if column not in table.columns:
            continue
        amounts = table[column].astype("float64").fillna(0.0).to_numpy()
        if column == "outside_periods_eur" and not amounts.any():
            continue
        ax.bar(x, amounts, width, bottom=bottom, color=colour, label=label, zorder=2)
        bottom = bottom + amounts
    for position, spent, allocation in zip(x, bottom, budget_eur):
        if np.isfinite(allocation) and allocation > 0:
            ax.annotate(f"{100 * spent / allocation:.0f}%", (position, spent), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, labels=cities)
    ax.set_xlabel("Home city (pays)")
    ax.set_ylabel("EUR")
    ax.yaxis.set_major_formatter(_EUR)
    ax.grid(axis="x", visible=False)
    ax.set_title(title or "Budget use by home city: spend vs allocation")
    fig.legend(loc="outside upper center", ncols=len(ax.get_legend_handles_labels()[1]), frameon=False,
               fontsize=8)
    return fig


def budget_by_category_figure(category_table: pd.DataFrame, title: str | None = None) -> Figure:
    """Mean cost per exchange against the programme reference, per category and in total.

    Takes :func:`analysis.budget.category_vs_reference`. The cap per exchange
    (all categories together, ``cap_eur``) is drawn over the ``"total"`` bars.
    """
    table = category_table.reset_index(drop=True)
    labels = [str(c).replace("_", " ") for c in table["category"]]
    x = np.arange(len(labels))
    width = 0.38

    fig = Figure(figsize=(max(6.0, 0.9 * len(labels) + 2.0), 4.2), layout="constrained")
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
    ax.set_xticks(x, labels=labels, rotation=20, ha="right")
    ax.set_xlabel("Cost category")
    ax.set_ylabel("EUR per exchange")
    ax.yaxis.set_major_formatter(_EUR)
    ax.grid(axis="x", visible=False)
    ax.set_title(title or "Cost per exchange by category: actual mean vs reference")
    fig.legend(loc="outside upper center", ncols=3, frameon=False, fontsize=8)
    return fig
