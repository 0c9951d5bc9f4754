"""Figure of the four budget amounts per home city: where each claimed euro stands."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from clusnet_analysis.plots.style import MANY_CITIES, MAX_HEIGHT_IN, PALETTE, capped_size

_EUR = FuncFormatter(lambda value, _pos: f"{value:,.0f}")
#: Most bars drawn (cities one by one, the last one "N other cities"): the shared city limit.
MAX_CITIES = MANY_CITIES
#: Largest figure height in inches, whatever the number of cities: the shared maximum.
MAX_HEIGHT = MAX_HEIGHT_IN

# Parts of a claim, left to right: reimbursable + pending + above the cap = eligible; + ineligible = claimed.
PARTS = [("reimbursable_eur", "Reimbursable", PALETTE[0]), ("pending_eur", "Pending", PALETTE[4]),
         ("cap_cut_eur", "Above the cap (not reimbursed)", PALETTE[3]), ("ineligible_eur", "Ineligible", PALETTE[1])]


def budget_amounts_figure(amounts: pd.DataFrame, allocations: dict[str, float] | None = None,
                          title: str | None = None, max_cities: int = MAX_CITIES) -> Figure:
    """Horizontal stacked bars per home city: reimbursable, pending, above the cap, ineligible.

    Takes :func:`analysis.eligibility.budget_amounts` with ``by="home_city"`` (a
    ``"total"`` row, if any, is left out) and, optionally, the cities' allocations
    (``rules.programme.city_allocations``), drawn as a tick at each city's
    allocation. The whole bar is the claimed amount. Past ``max_cities`` cities the
    smallest claims are summed into one "N other cities" bar, so the figure stays
    legible and within the shared maximum size (``plots.style.capped_size``). A
    city that is not a partner is labelled "(not a partner)".
    """
    table = amounts.loc[amounts["home_city"].astype("str") != "total"].reset_index(drop=True)
    partner = (table["partner"] if "partner" in table.columns
               else pd.Series(True, index=table.index)).to_numpy(dtype=bool)
    labels = [c if p else f"{c} (not a partner)" for c, p in zip(table["home_city"].astype("str"), partner)]
    values = {column: table[column].astype("float64").fillna(0.0).to_numpy() for column, _, _ in PARTS}
    limits = np.array([(allocations or {}).get(c, np.nan) for c in table["home_city"]], dtype="float64")
    if len(labels) > max_cities:
        claimed = sum(values.values())
        keep = np.sort(np.argsort(-claimed, kind="stable")[: max_cities - 1])
        rest = np.setdiff1d(np.arange(len(labels)), keep)
        labels = [labels[i] for i in keep] + [f"{len(rest)} other cities"]
        values = {k: np.r_[v[keep], v[rest].sum()] for k, v in values.items()}
        limits = np.r_[limits[keep], np.nan]

    n = len(labels)
    y = np.arange(n)[::-1]   # first city at the top
    fig = Figure(figsize=capped_size(7.5, 1.6 + 0.38 * max(n, 1)), layout="constrained")
    ax = fig.add_subplot()
    left = np.zeros(n)
    for column, label, colour in PARTS:
        ax.barh(y, values[column], 0.6, left=left, color=colour, label=label, zorder=2)
        left = left + values[column]
    if np.isfinite(limits).any():
        ax.scatter(limits, y, marker="|", s=300, color="black", linewidths=2, zorder=3, label="Allocation")
    ax.set_yticks(y, labels=labels, fontsize=8 if n > 10 else 9)
    ax.set_xlabel("EUR (home city pays)")
    ax.xaxis.set_major_formatter(_EUR)
    ax.grid(axis="y", visible=False)
    ax.set_title(title or "Claims by home city: reimbursable, pending, above the cap, ineligible")
    handles, names = ax.get_legend_handles_labels()
    order = sorted(range(len(names)), key=lambda i: names[i] == "Allocation")   # the parts, then the tick
    fig.legend([handles[i] for i in order], [names[i] for i in order], loc="outside upper center", ncols=5,
               frameon=False, fontsize=8)
    return fig
