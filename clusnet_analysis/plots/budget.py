"""Figure of the cost per exchange by category against the programme's reference (EUR).

The claims per home city (reimbursable, pending, above the cap, ineligible) are
:mod:`plots.budget_amounts`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from clusnet_analysis.plots.style import PALETTE, capped_size, fit_x_labels, human, plain, set_titles

TOTAL = "total"  # label of the closing row in the analysis tables
_EUR = FuncFormatter(lambda value, _pos: f"{value:,.0f}")


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
