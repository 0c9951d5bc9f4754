"""Figure: clusters per cluster-model phase in each city."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from clusnet_analysis.plots.practices import plain
from clusnet_analysis.plots.style import PALETTE, apply_style, finish_stacked_bars


def phase_distribution_figure(distribution: pd.DataFrame, phase_labels: dict[str, str] | None = None,
                              title: str = "Cluster phases by city (latest assessment)") -> Figure:
    """Stacked horizontal bars: one bar per city, segments initiation -> sustainability.

    ``distribution`` is :func:`clusnet_analysis.analysis.phases.phase_distribution`
    (rows cities, columns phases in model order). For ``by_round=True`` output,
    pass one round: ``distribution.loc[2]``. ``phase_labels`` e.g.
    ``{p.id: p.name for p in model.phases}``; default: the id capitalised.
    """
    if isinstance(distribution.index, pd.MultiIndex):
        raise ValueError("one row per city expected; for by_round output pass one round, e.g. distribution.loc[1]")
    apply_style()
    labels = phase_labels or {}
    counts = distribution.fillna(0)
    cities = list(counts.index)
    fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(cities), 4) + 1.2))
    y = range(len(cities))
    left = pd.Series(0.0, index=counts.index)
    for i, phase in enumerate(counts.columns):
        values = counts[phase].astype("float64")
        ax.barh(y, values, left=left, color=PALETTE[i % len(PALETTE)], edgecolor="white", linewidth=0.5,
                label=plain(labels.get(phase, str(phase).replace("_", " ").capitalize())))
        left = left + values
    ax.set_yticks(list(y), [plain(c) for c in cities])
    ax.invert_yaxis()  # first city on top, as in the table
    ax.set_xlabel("Number of clusters")
    ax.set_ylabel("City")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", visible=False)
    ax.set_title(plain(title))
    return finish_stacked_bars(fig, ax, counts, "No assessed clusters", "Phase", value_axis="x")
