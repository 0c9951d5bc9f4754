"""Shared look of every figure, and byte-identical saving.

Palette: Okabe-Ito, safe for the common forms of colour-blindness.
"""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt

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
        ax.legend(title=legend_title, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
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
