"""The final report's figures, from the same functions the notebooks use.

``build_figures(report.start(...), out_dir)`` writes PNG (200 dpi) and SVG for
each figure, each with a provenance caption, plus ``manifest.json``. Rebuilding
from the same inputs gives byte-identical files; unchanged files are not rewritten.
"""
from __future__ import annotations

from pathlib import Path

from clusnet_analysis import __version__, config
from clusnet_analysis.publish.files import json_text, write_if_changed


def figure_specs(ds, period: str = "final"):
    """(file name, builder) for every final-report figure; each builder returns a Figure."""
    from clusnet_analysis.analysis import budget, crosscity, links, phases, practices
    from clusnet_analysis.analysis.periods import counted, select_period
    from clusnet_analysis.plots.budget import budget_by_category_figure, budget_by_city_figure
    from clusnet_analysis.plots.flows import flow_matrix_figure
    from clusnet_analysis.plots.network import link_network_figure
    from clusnet_analysis.plots.phases import phase_distribution_figure
    from clusnet_analysis.plots.practices import themes_by_host_figure

    prog = ds.programme
    exchanges = counted(select_period(ds.exchanges, prog, period, cumulative=True))
    expenses = counted(select_period(ds.expenses, prog, period, cumulative=True))
    clusters = ds.tables["clusters"]

    def flows_fig():
        return flow_matrix_figure(crosscity.flow_matrix(exchanges, prog))

    def budget_city_fig():
        return budget_by_city_figure(budget.interreg_table(ds.expenses, prog, period, by="home_city"))

    def budget_category_fig():
        return budget_by_category_figure(budget.category_vs_reference(expenses, prog))

    def themes_fig():
        view = counted(select_period(practices.practices_view(ds.tables["practices"], ds.exchanges),
                                     prog, period, cumulative=True))
        return themes_by_host_figure(practices.theme_by_host(view, prog), theme_labels=prog.theme_labels)

    def phases_fig():
        placements = phases.cluster_placements(ds.tables["assessments"], ds.model, prog, clusters=clusters)
        return phase_distribution_figure(phases.phase_distribution(placements, ds.model, prog))

    def network_fig():
        view = links.links_view(ds.tables["links"], clusters, prog, ds.exchanges)
        return link_network_figure(links.link_graph(links.select_links(view, prog, period, cumulative=True),
                                                    clusters))

    return [
        ("01_flows_between_cities", flows_fig),
        ("02_budget_by_city", budget_city_fig),
        ("03_budget_by_category", budget_category_fig),
        ("04_practice_themes_by_host", themes_fig),
        ("05_cluster_phases_by_city", phases_fig),
        ("06_inter_cluster_links", network_fig),
    ]


def build_figures(p, out_dir: str | Path | None = None, *, on_progress=None) -> list[Path]:
    """Write every figure for the report view ``p`` (see :func:`clusnet_analysis.report.start`)."""
    import matplotlib.pyplot as plt

    from clusnet_analysis.plots.style import save_figure
    from clusnet_analysis.publish.provenance import folder_outputs
    from clusnet_analysis.publish.display import figure_caption

    ds = p.ds
    out_dir = Path(out_dir) if out_dir else config.FIGURES_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, builder in figure_specs(ds, p.period):
        fig = builder()
        written += save_figure(fig, out_dir, name, caption=figure_caption(p))
        plt.close(fig)
        if on_progress:
            on_progress(f"figure {name}")
    manifest = {
        "inputs": ds.provenance, "package_version": __version__,
        "parameters": {"period": p.period, "show_names": ds.show_names,
                       "allow_invalid": p.parameters["allow_invalid"]},
        "synthetic": ds.synthetic, "contains_personal_data": ds.show_names,
        "outputs": folder_outputs(out_dir),
    }
    write_if_changed(out_dir / "manifest.json", json_text(manifest))
    return written
