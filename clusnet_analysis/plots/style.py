"""Shared look of every figure, and byte-identical saving.

Palette: Okabe-Ito, safe for the common forms of colour-blindness.
"""
from __future__ import annotations

import io
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from clusnet_analysis.publish.files import write_if_changed

# Okabe & Ito (2008), "Color Universal Design".
PALETTE = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
]
SEQUENTIAL_CMAP = "cividis"  # perceptually uniform and colour-blind safe

DPI = 200

#: No figure is larger than this (inches): it must fit a report page and a screen.
MAX_WIDTH_IN = 12.0
MAX_HEIGHT_IN = 9.0
#: Past this many cities a figure aggregates or turns its bars horizontal.
MANY_CITIES = 15
#: Most bars one horizontal bar chart shows; the rest are summed in one "other" bar.
MAX_BARS = 60


def plain(text) -> str:
    """Text shown as typed: a "$" in a name must not switch matplotlib into maths mode."""
    return str(text).replace("$", r"\$")


def capped_size(width: float, height: float) -> tuple[float, float]:
    """(width, height) in inches, each no larger than the maximum figure size."""
    return min(float(width), MAX_WIDTH_IN), min(float(height), MAX_HEIGHT_IN)


def human(label) -> str:
    """A column id or code as words for a reader: "follow_up_visit" -> "Follow up visit".

    Used only when the caller passed no label: underscores become spaces and the
    first letter a capital; the rest is kept as it is ("ABC" stays "ABC").
    """
    words = str(label).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def wrapped(text, width: int) -> str:
    """``text`` broken into lines of at most ``width`` characters (words are not split)."""
    return "\n".join(textwrap.wrap(str(text), width=width, break_long_words=False)) or str(text)


def set_titles(ax, title: str, subtitle: str | None = None, width_chars: int = 80) -> None:
    """Bold title and, below it, a plain subtitle (what was aggregated, what widths mean).

    The subtitle is an annotation with gid ``"subtitle"`` so tests and callers can
    tell it from data labels.
    """
    title = wrapped(title, width_chars)
    if not subtitle:
        ax.set_title(title)
        return
    subtitle = wrapped(subtitle, int(width_chars * 1.3))
    lines = subtitle.count("\n") + 1
    ax.set_title(title, pad=8 + 11 * lines)
    ax.annotate(subtitle, xy=(0.5, 1.0), xycoords="axes fraction", xytext=(0, 5), textcoords="offset points",
                ha="center", va="bottom", fontsize=8.5, color="#333333", gid="subtitle")


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    return canvas.get_renderer()


def labels_overlap(fig, labels, gap_px: float = 0.0) -> bool:
    """True when any two of ``labels`` (Text artists) overlap once drawn, or come closer than ``gap_px``."""
    renderer = _renderer(fig)
    boxes = [t.get_window_extent(renderer) for t in labels if t.get_visible() and t.get_text()]
    boxes = sorted(boxes, key=lambda b: (b.x0, b.y0))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if b.x0 >= a.x1 + gap_px:
                break   # sorted by x0: nothing further right can come near a
            if b.x0 < a.x1 + gap_px and a.x0 < b.x1 + gap_px and a.y0 < b.y1 + gap_px and b.y0 < a.y1 + gap_px:
                return True
    return False


def fit_x_labels(fig, ax, gap_px: float = 6.0) -> None:
    """Keep category labels on the x axis apart: level when they fit, else upright (90 degrees).

    Draws the figure to measure, so the choice is the same on every run. Only
    level or upright labels are used: their boxes are the text itself, so "no two
    boxes overlap" means no two labels touch.
    """
    _renderer(fig)   # a Figure made without pyplot gets an Agg canvas to measure with
    for rotation in (0, 90):
        for label in ax.get_xticklabels():
            label.set_rotation(rotation)
            label.set_ha("center")
        fig.canvas.draw()
        if not labels_overlap(fig, ax.get_xticklabels(), gap_px=gap_px):
            return


def apply_style() -> None:
    """Set rcParams once; deterministic output needs a fixed SVG hash salt."""
    plt.rcParams.update({
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
        "figure.dpi": 100,
        "savefig.dpi": DPI,
        "font.size": 10,
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "svg.hashsalt": "clusnet",
        "svg.fonttype": "path",
        "image.cmap": SEQUENTIAL_CMAP,
    })


def finish_stacked_bars(fig, ax, counts, empty_text: str, legend_title: str, value_axis: str):
    """Common ending of the stacked-bar figures: empty-data note, legend outside, tight layout."""
    if counts.to_numpy().sum() == 0:
        ax.text(0.5, 0.5, empty_text, transform=ax.transAxes, ha="center", va="center")
        (ax.set_xlim if value_axis == "x" else ax.set_ylim)(0, 1)
    if len(counts.columns):
        ax.legend(title=legend_title, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  fontsize=8 if len(counts.columns) > 8 else None)
    fig.tight_layout()
    return fig


def add_caption(fig, caption: str | None, dpi: int | None = DPI) -> None:
    """Freeze the layout at ``dpi`` (the saving resolution) and put ``caption`` below everything drawn.

    Freezing also makes saving the same figure twice give identical bytes. For
    on-screen display pass ``dpi=None`` to keep the figure's own resolution.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    if fig.get_layout_engine() is not None:
        if dpi:
            fig.set_dpi(dpi)
        canvas.draw()
        fig.set_layout_engine("none")
    if caption:
        bbox = fig.get_tightbbox(canvas.get_renderer())
        fig.text(bbox.x0 / fig.get_figwidth(), bbox.y0 / fig.get_figheight() - 0.015, caption,
                 fontsize=6, color="#555555", ha="left", va="top")


FORMAT_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}


def render(fig, fmt: str) -> bytes:
    """The figure as PNG or SVG bytes at the saving resolution; identical bytes for identical figures.

    Call :func:`add_caption` first. Pages embed these bytes and files store them, so the
    figure a reader sees in a report is the very file an author pastes.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=DPI, metadata=FORMAT_METADATA[fmt], bbox_inches="tight")
    return buffer.getvalue()


def save_figure(fig, out_dir: str | Path, name: str, caption: str | None = None) -> list[Path]:
    """Write ``name.png`` (>= 200 dpi) and ``name.svg``; identical bytes for identical inputs.

    A file whose bytes would not change is not rewritten.

    Metadata that would change between runs (dates, software version) is removed.
    ``caption`` (e.g. provenance) is drawn at the bottom of the figure.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    add_caption(fig, caption)
    paths = []
    for ext in ("png", "svg"):
        path = out_dir / f"{name}.{ext}"
        write_if_changed(path, render(fig, ext))   # an identical file keeps its bytes and mtime
        paths.append(path)
    return paths


apply_style()


# ---------------------------------------------------------------- stacked bars (practices, phases)
def other_rows(counts, max_rows: int, noun: str = "cities"):
    """``counts`` with at most ``max_rows`` rows: the largest row totals keep their row (in
    their order), the rest are summed into a last row "Other <noun> (n)". Returns (table, n summed)."""
    if len(counts.index) <= max_rows:
        return counts, 0
    totals = counts.sum(axis=1).to_numpy()
    ranked = sorted(range(len(totals)), key=lambda i: -totals[i])   # stable: ties keep their order
    keep = sorted(ranked[:max_rows - 1])
    kept_set = set(keep)
    rest = [i for i in range(len(totals)) if i not in kept_set]
    kept = counts.iloc[keep]
    other = counts.iloc[rest].sum(axis=0).rename(f"Other {noun} ({len(rest)})")
    table = pd.concat([kept, other.to_frame().T])
    table.index.name = counts.index.name
    return table, len(rest)


def stacked_bar_figure(counts, *, segment_labels: dict, title: str, category_label: str, value_label: str,
                       legend_title: str, empty_text: str, horizontal: bool | None = None,
                       noun: str = "cities"):
    """Stacked bars, one bar per row of ``counts`` and one segment per column, legible for 2 to 60+ rows.

    Vertical bars up to :data:`MANY_CITIES` rows (unless ``horizontal``), else
    horizontal bars, first row on top. Past :data:`MAX_BARS` rows the smallest are
    summed into one "Other ..." bar and the subtitle says so. Category labels are
    wrapped, then rotated only if they would still overlap; legend entries are
    ``segment_labels`` (an id without a label is turned into words). The figure is
    at most 12 x 9 inches.
    """
    counts = counts.fillna(0)
    shown, summed = other_rows(counts, MAX_BARS, noun)
    n = len(shown.index)
    if horizontal is None:
        horizontal = n > MANY_CITIES
    legend_width = 2.6 if len(shown.columns) else 0.0
    if horizontal:
        fig = Figure(figsize=capped_size(6.5 + legend_width, 1.8 + 0.3 * max(n, 4)))
        plot_height_pt = 72 * (fig.get_figheight() - 1.8)
        tick_size = max(5.5, min(10.0, 0.72 * plot_height_pt / max(n, 1)))
    else:
        fig = Figure(figsize=capped_size(3.0 + legend_width + 0.65 * max(n, 4), 4.8))
        tick_size = 10.0 if n <= 10 else 8.5
    ax = fig.add_subplot()
    position = np.arange(n)
    base = np.zeros(n)
    for i, column in enumerate(shown.columns):
        values = shown[column].astype("float64").to_numpy()
        label = plain(wrapped(segment_labels.get(column, human(column)), 28))
        if horizontal:
            ax.barh(position, values, left=base, color=PALETTE[i % len(PALETTE)], edgecolor="white",
                    linewidth=0.5 if n <= 30 else 0.2, label=label)
        else:
            ax.bar(position, values, bottom=base, color=PALETTE[i % len(PALETTE)], edgecolor="white",
                   linewidth=0.5, label=label)
        base = base + values
    names = [plain(wrapped(c, 14 if not horizontal else 30)) for c in shown.index]
    value_locator = MaxNLocator(integer=True)
    if horizontal:
        ax.set_yticks(list(position), names, fontsize=tick_size)
        ax.set_ylim(n - 0.5, -0.5)   # first row on top, as in the table
        ax.set_xlabel(value_label)
        ax.set_ylabel(category_label)
        ax.xaxis.set_major_locator(value_locator)
        ax.grid(axis="y", visible=False)
    else:
        ax.set_xticks(list(position), names, fontsize=tick_size)
        ax.set_xlabel(category_label)
        ax.set_ylabel(value_label)
        ax.yaxis.set_major_locator(value_locator)
        ax.grid(axis="x", visible=False)
    subtitle = (f"The {n - 1} {noun} with most; the other {summed} are summed in the last bar."
                if summed else None)
    set_titles(ax, plain(title), subtitle, width_chars=70)
    finish_stacked_bars(fig, ax, shown, empty_text, legend_title, value_axis="x" if horizontal else "y")
    if not horizontal:
        fit_x_labels(fig, ax)
        fig.tight_layout()
    return fig


def describe_stacked_bars(counts, *, what: str, per: str, segment_labels: dict | None = None,
                          noun: str = "cities") -> str:
    """One sentence for a stacked-bar figure's alt text: totals, the largest bar and the largest segment."""
    counts = counts.fillna(0)
    labels = segment_labels or {}
    total = float(counts.to_numpy().sum()) if counts.size else 0.0
    text = f"Stacked bars of {what} per {per} for {len(counts.index)} {noun}, {total:,.0f} in total"
    if total > 0:
        per_row = counts.sum(axis=1)
        per_segment = counts.sum(axis=0)
        top_row, top_segment = per_row.idxmax(), per_segment.idxmax()
        text += (f"; most in {top_row} ({per_row[top_row]:,.0f}), and the largest segment is "
                 f"{labels.get(top_segment, human(top_segment))} ({per_segment[top_segment]:,.0f})")
    return text + "."
