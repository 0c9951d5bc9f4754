"""One function per figure. Notebooks and ``make figures`` call the same functions.

Each figure function takes analysis frames (never raw files) and returns a
matplotlib Figure; :func:`save_figure` writes it reproducibly.
"""
from clusnet_analysis.plots.style import PALETTE, apply_style, save_figure  # noqa: F401
