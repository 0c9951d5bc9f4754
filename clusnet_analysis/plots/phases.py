"""Figure: clusters per cluster-model phase in each city."""
from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from clusnet_analysis.plots.style import describe_stacked_bars, human, stacked_bar_figure


def _labels(distribution: pd.DataFrame, phase_labels: dict[str, str] | None) -> dict[str, str]:
    labels = phase_labels or {}
    return {p: labels.get(p, human(p).capitalize()) for p in distribution.columns}


def phase_distribution_figure(distribution: pd.DataFrame, phase_labels: dict[str, str] | None = None,
                              title: str = "Cluster phases by city (latest assessment)") -> Figure:
    """Stacked horizontal bars: one bar per city (first on top), segments in model phase order.

    ``distribution`` is :func:`clusnet_analysis.analysis.phases.phase_distribution`
    (rows cities, columns phases in model order). For ``by_round=True`` output,
    pass one round: ``distribution.loc[2]``. ``phase_labels`` e.g.
    ``{p.id: p.name for p in model.phases}``; default: the id in words, capitalised.
    Past 60 cities the cities with fewest clusters are summed in one bar.
    """
    if isinstance(distribution.index, pd.MultiIndex):
        raise ValueError("one row per city expected; for by_round output pass one round, e.g. distribution.loc[1]")
    return stacked_bar_figure(distribution, segment_labels=_labels(distribution, phase_labels), title=title,
                              category_label="City", value_label="Number of clusters", legend_title="Phase",
                              empty_text="No assessed clusters", horizontal=True)


def describe_phase_distribution(distribution: pd.DataFrame, phase_labels: dict[str, str] | None = None) -> str:
    """One sentence for the figure's alt text."""
    return describe_stacked_bars(distribution, what="assessed clusters by phase", per="city",
                                 segment_labels=_labels(distribution, phase_labels))
