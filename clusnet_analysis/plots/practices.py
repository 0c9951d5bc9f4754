"""Figure: best-practice themes by host city."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from clusnet_analysis.plots.style import PALETTE, apply_style, finish_stacked_bars


def plain(text) -> str:
    """Text shown as typed: a "$" in a name must not switch matplotlib into maths mode."""
    return str(text).replace("$", r"\$")


def themes_by_host_figure(theme_by_host: pd.DataFrame, theme_labels: dict[str, str] | None = None,
                          title: str = "Best-practice themes by host city") -> Figure:
    """Stacked bars: practices per host city, one colour per theme (innovation gap).

    ``theme_by_host`` is :func:`clusnet_analysis.analysis.practices.theme_by_host`
    (rows host cities, columns themes in programme order). ``theme_labels``
    (e.g. ``programme.theme_labels``) gives readable legend entries.
    """
    apply_style()
    labels = theme_labels or {}
    counts = theme_by_host.fillna(0)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    x = range(len(counts.index))
    bottom = pd.Series(0.0, index=counts.index)
    for i, theme in enumerate(counts.columns):
        values = counts[theme].astype("float64")
        ax.bar(x, values, bottom=bottom, color=PALETTE[i % len(PALETTE)], edgecolor="white",
               linewidth=0.5, label=plain(labels.get(theme, theme)))
        bottom = bottom + values
    ax.set_xticks(list(x), [plain(c) for c in counts.index])
    ax.set_xlabel("Host city")
    ax.set_ylabel("Number of practices")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(plain(title))
    ax.grid(axis="x", visible=False)
    return finish_stacked_bars(fig, ax, counts, "No practices reported", "Theme", value_axis="y")
