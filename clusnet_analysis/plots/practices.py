"""Figure: best-practice themes by host city."""
from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from clusnet_analysis.plots.style import describe_stacked_bars, plain, stacked_bar_figure  # noqa: F401


def themes_by_host_figure(theme_by_host: pd.DataFrame, theme_labels: dict[str, str] | None = None,
                          title: str = "Best-practice themes by host city") -> Figure:
    """Stacked bars: practices per host city, one colour per theme.

    ``theme_by_host`` is :func:`clusnet_analysis.analysis.practices.theme_by_host`
    (rows host cities, columns themes in programme order). ``theme_labels``
    (e.g. ``programme.theme_labels``) gives readable legend entries. Up to 15
    host cities the bars stand upright; past that they lie down, first city on
    top; past 60 the cities with fewest practices are summed in one bar.
    """
    return stacked_bar_figure(theme_by_host, segment_labels=theme_labels or {}, title=title,
                              category_label="Host city", value_label="Number of practices",
                              legend_title="Theme", empty_text="No practices reported")


def describe_themes_by_host(theme_by_host: pd.DataFrame, theme_labels: dict[str, str] | None = None) -> str:
    """One sentence for the figure's alt text."""
    return describe_stacked_bars(theme_by_host, what="best practices by theme", per="host city",
                                 segment_labels=theme_labels)
