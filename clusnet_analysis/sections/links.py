"""Links between clusters: contacts, follow-up visits and joint projects after the exchanges."""
from __future__ import annotations

import networkx as nx
import pandas as pd

from clusnet_analysis.analysis import links as an
from clusnet_analysis.plots.network import describe_link_network
from clusnet_analysis.sections.base import FigureSpec, Section, Table
from clusnet_analysis.sections.common import numbers, one_number, per_scope, scoped
from clusnet_analysis.sections.labels import humanise_values
from clusnet_analysis.sections.view import PeriodView

TITLE = "Links between clusters"


def _network_row(graph) -> dict:
    linked = graph.subgraph([n for n, d in graph.degree() if d > 0])
    sizes = [len(c) for c in nx.connected_components(linked)]
    return {"linked_clusters": linked.number_of_nodes(), "components": len(sizes),
            "largest_component": max(sizes, default=0)}


def links(view: PeriodView) -> Section:
    prog = view.programme
    section = Section("links", TITLE, view.period)
    clusters = view.ds.tables["clusters"]
    all_links = an.links_view(view.table("links"), clusters, prog, view.exchanges)
    all_links = all_links.loc[all_links["counted"] & (all_links["from_cluster"] != all_links["to_cluster"])]
    section.key_numbers += numbers(view, "links", "Links between clusters", "links", per_scope(view, all_links, len))
    section.key_numbers += numbers(view, "cross_city_links", "Links across cities", "links",
                                   per_scope(view, all_links, lambda r: int(r["cross_city"].sum())))
    main = view.main_scope
    graph = an.link_graph(main.select(all_links), clusters)
    shape = _network_row(graph)
    section.key_numbers.append(one_number(view, "largest_component", "Largest group of linked clusters",
                                          "clusters", shape["largest_component"]))

    rows = []
    for s in view.scopes:
        rows_s = s.select(all_links)
        rows.append({"scope": s.label, "links": len(rows_s), "cross_city_links": int(rows_s["cross_city"].sum()),
                     **_network_row(an.link_graph(rows_s, clusters))})
    section.tables.append(Table("network", "The link network", pd.DataFrame(rows),
                                note="Connected groups count only clusters with at least one link."))
    per_city = an.links_per_city(graph, prog)
    section.tables.append(Table("links_per_city", f"Links per city, {main.label}", per_city,
                                note="A link between two cities counts for both."))
    kinds = humanise_values(an.cross_city_links(main.select(all_links)), coded=("kind",))
    section.tables.append(Table("links_by_kind", f"Links by kind, {main.label}", kinds))

    section.figures.append(FigureSpec(
        "06_inter_cluster_links", f"Links between clusters, {main.label}",
        lambda: _network_figure(graph, f"Links between clusters, {main.label}: {view.label}"),
        alt=scoped(describe_link_network(graph), main.label)))
    section.readings.append(
        f"{len(main.select(all_links)):,} links between clusters, {main.label}, "
        f"{int(main.select(all_links)['cross_city'].sum()):,} of them across cities; the largest group of "
        f"clusters connected through links has {shape['largest_component']} clusters.")
    return section


def _network_figure(graph, title):
    from clusnet_analysis.plots.network import link_network_figure

    return link_network_figure(graph, title=title)
