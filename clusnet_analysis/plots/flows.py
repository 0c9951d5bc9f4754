"""Figures of the flows between partner cities."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from clusnet_analysis.analysis.crosscity import top_cities_matrix
from clusnet_analysis.plots.practices import plain
from clusnet_analysis.plots.style import (
    MANY_CITIES, SEQUENTIAL_CMAP, capped_size, fit_x_labels, human, set_titles,
)

_VALUE_LABELS = {"exchanges": "Exchanges", "person_days": "Person-days"}
#: Cells get their number written in only up to this many rows and columns.
MAX_CELLS_WITH_NUMBERS = 12


def _short(value: float) -> str:
    """A count short enough for a small cell: 950, 12k, 1.2M."""
    if not np.isfinite(value):
        return ""
    if value < 1000:
        return f"{value:.0f}"
    if value < 10_000:
        return f"{value / 1000:.1f}k"
    if value < 1_000_000:
        return f"{value / 1000:.0f}k"
    return f"{value / 1_000_000:.1f}M"


def _value_label(flow: pd.DataFrame) -> str:
    value = flow.attrs.get("value", "exchanges")
    return _VALUE_LABELS.get(value, human(value))


def flow_matrix_figure(flow: pd.DataFrame, title: str | None = None, max_cities: int | None = MANY_CITIES) -> Figure:
    """Heatmap of a home → host matrix (:func:`analysis.crosscity.flow_matrix`).

    Rows are home cities (they send), columns host cities (they receive). What
    the cells count comes from ``flow.attrs["value"]`` (exchanges or person-days).
    Past ``max_cities`` cities the most active ``max_cities - 1`` keep their own
    row and column and the rest are summed in "Other cities (n)"
    (:func:`analysis.crosscity.top_cities_matrix`); the subtitle says so. Counts
    are written in the cells only up to 12 rows and columns; beyond that the
    colour bar and the table carry the numbers. The figure is at most 12 x 9 inches.
    """
    value_label = _value_label(flow)
    shown = top_cities_matrix(flow, max_cities) if max_cities else flow
    values = shown.to_numpy(dtype="float64")
    n_rows, n_cols = values.shape
    write_numbers = max(n_rows, n_cols) <= MAX_CELLS_WITH_NUMBERS

    # A Figure without pyplot: no global state, and notebooks do not show it twice.
    fig = Figure(figsize=capped_size(max(6.0, 2.4 + 0.55 * n_cols), max(4.5, 2.0 + 0.5 * n_rows)),
                 layout="constrained")
    ax = fig.add_subplot()
    other = shown.attrs.get("other_cities", 0)
    # The "other cities" row and column sum many cities: on the colour scale they would
    # drown every other cell. They are drawn grey, with their totals written in.
    coloured = values.copy()
    if other:
        coloured[-1, :] = np.nan
        coloured[:, -1] = np.nan
    finite = coloured[np.isfinite(coloured)]
    vmax = max(float(finite.max()) if finite.size else 0.0, 1.0)
    image = ax.imshow(coloured, cmap=SEQUENTIAL_CMAP, vmin=0, vmax=vmax, aspect="equal")
    if other:
        grey = np.where(np.isnan(coloured), 1.0, np.nan)
        ax.imshow(grey, cmap="Greys", vmin=0, vmax=5, aspect="equal")
        cells = [(n_rows - 1, c) for c in range(n_cols)] + [(r, n_cols - 1) for r in range(n_rows - 1)]
        for row, col in cells:
            ax.text(col, row, _short(values[row, col]), ha="center", va="center", fontsize=6.5,
                    color="black", gid="other-total")
    ax.grid(False)
    tick_size = 8 if max(n_rows, n_cols) > MAX_CELLS_WITH_NUMBERS else 10
    ax.set_xticks(range(n_cols), labels=[plain(c) for c in shown.columns], fontsize=tick_size)
    ax.set_yticks(range(n_rows), labels=[plain(c) for c in shown.index], fontsize=tick_size)
    ax.set_xlabel("Host city (receives)")
    ax.set_ylabel("Home city (sends)")
    notes = []
    if other:
        notes.append(f"The {n_rows - 1} most active of {shown.attrs['cities']} cities; the other {other} are "
                     "summed in the grey last row and column (totals written in, k = thousand).")
    if not write_numbers and values.size:
        notes.append("Cell numbers are in the table.")
    set_titles(ax, plain(title or f"{value_label} between partner cities (home → host)"), " ".join(notes) or None)
    for spine in ax.spines.values():
        spine.set_visible(False)

    if write_numbers:
        for row in range(n_rows):
            for col in range(n_cols):
                cell = values[row, col]
                if np.isnan(cell):
                    continue
                # cividis is dark at the low end: light text there, dark text on the bright end.
                colour = "white" if cell < 0.6 * vmax else "black"
                ax.text(col, row, f"{cell:.0f}", ha="center", va="center", fontsize=8, color=colour,
                        alpha=0.55 if cell == 0 else 1.0)

    colourbar = fig.colorbar(image, ax=ax, shrink=0.8)
    colourbar.set_label(value_label)
    colourbar.locator = MaxNLocator(integer=True)  # counts are whole numbers
    colourbar.update_ticks()
    fit_x_labels(fig, ax)
    return fig


def describe_flow_matrix(flow: pd.DataFrame, max_cities: int | None = MANY_CITIES) -> str:
    """One sentence for the heatmap's alt text: what it shows and its largest flow."""
    value_label = _value_label(flow).lower()
    values = flow.to_numpy(dtype="float64")
    n = len(flow.index)
    total = float(np.nansum(values)) if values.size else 0.0
    text = (f"Heatmap of {value_label} from {n} home cities (rows) to {len(flow.columns)} host cities "
            f"(columns), {total:,.0f} in total")
    if max_cities and n > max_cities:
        text += f", showing the {max_cities - 1} most active cities and the others summed"
    if total > 0:
        largest = np.nanmax(values)
        ties = int((values == largest).sum())
        if ties == 1:
            row, col = np.unravel_index(np.nanargmax(values), values.shape)
            text += f"; the largest flow is {flow.index[row]} to {flow.columns[col]} ({largest:,.0f})"
        else:  # naming one of several equal cells would single it out for no reason
            text += f"; the largest flow, {largest:,.0f}, is shared by {ties} pairs of cities"
    return text + "."
