"""One function per figure. Notebooks and ``make figures`` call the same functions.

Each figure function takes analysis frames (never raw files) and returns a
matplotlib Figure of at most 12 x 9 inches, legible from 2 to 60 cities;
:func:`save_figure` writes it reproducibly. Next to each figure function a
``describe_<figure>(data) -> str`` gives one sentence for the figure's alt text:

=========================================  ============================================
figure                                     alt text
=========================================  ============================================
``flows.flow_matrix_figure``               ``flows.describe_flow_matrix``
``budget_amounts.budget_amounts_figure``   ``sections.budget`` (from its totals)
``budget.budget_by_category_figure``       ``budget.describe_budget_by_category``
``practices.themes_by_host_figure``        ``practices.describe_themes_by_host``
``phases.phase_distribution_figure``       ``phases.describe_phase_distribution``
``network.link_network_figure``            ``network.describe_link_network``
=========================================  ============================================
"""
from clusnet_analysis.plots.style import PALETTE, apply_style, save_figure  # noqa: F401
