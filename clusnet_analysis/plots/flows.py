"""Figures of the flows between partner cities."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from clusnet_analysis.plots.style import SEQUENTIAL_CMAP

_VALUE_LABELS = {"exchanges": "Exchanges", "person_days": "Person-days"}


def flow_matrix_figure(flow: pd.DataFrame, title: str | None = None) -> Figure:
    """Heatmap of a home → host matrix (:func:`analysis.crosscity.flow_matrix`), counts written in the cells.

    Rows are home cities (they send), columns host cities (they receive). What
    the cells count comes from ``flow.attrs["value"]`` (exchanges or person-days).
    """
    value = flow.attrs.get("value", "exchanges")
    value_label = _VALUE_LABELS.get(value, str(value))
    values = flow.to_numpy(dtype="float64")
    n_rows, n_cols = values.shape

    # A Figure without pyplot: no global state, and notebooks do not show it twice.
    fig = Figure(figsize=(1.6 + 0.55 * n_cols, 1.2 + 0.5 * n_rows), layout="constrained")
    ax = fig.add_subplot()
    vmax = max(float(np.nanmax(values)) if values.size else 0.0, 1.0)
    image = ax.imshow(values, cmap=SEQUENTIAL_CMAP, vmin=0, vmax=vmax, aspect="equal")
    ax.grid(False)
    ax.set_xticks(range(n_cols), labels=[str(c) for c in flow.columns], rotation=45, ha="right")
    ax.set_yticks(range(n_rows), labels=[str(c) for c in flow.index])
    ax.set_xlabel("Host city (receives)")
    ax.set_ylabel("Home city (sends)")
    ax.set_title(title or f"{value_label} between partner cities (home → host)")
    for spine in ax.spines.values():
        spine.set_visible(False)

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
    return fig
