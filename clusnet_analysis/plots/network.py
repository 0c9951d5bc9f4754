"""Figure: the inter-cluster link network.

Layout is deterministic: clusters sit on a circle, grouped by city (cities in
sorted order, a gap between cities), clusters sorted by id inside a city. The
same graph therefore always gives the same picture and the same file bytes.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import networkx as nx
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from clusnet_analysis.plots.practices import plain
from clusnet_analysis.plots.style import PALETTE, apply_style

# Edge kinds differ by line style (and weight), so they read in grey print too.
EDGE_STYLES = {
    "contact": {"linestyle": "-", "linewidth": 0.9, "color": "#777777"},
    "follow_up_visit": {"linestyle": "--", "linewidth": 1.3, "color": "#333333"},
    "joint_project": {"linestyle": "-", "linewidth": 2.4, "color": "#000000"},
    "other": {"linestyle": ":", "linewidth": 1.2, "color": "#555555"},
}
# 10 partner cities but 8 Okabe-Ito colours: the marker shape tells repeats apart.
MARKERS = ["o", "s", "^", "D"]


def circle_layout_by_city(graph: nx.Graph) -> dict:
    """Positions on the unit circle, clusters grouped by city with one empty slot between cities."""
    cities = sorted({str(d.get("city")) for _, d in graph.nodes(data=True)})
    slots = []
    for city in cities:
        members = sorted(str(n) for n, d in graph.nodes(data=True) if str(d.get("city")) == city)
        slots.extend(members)
        if len(cities) > 1:
            slots.append(None)
    n = max(len(slots), 1)
    return {node: (math.cos(math.pi / 2 - 2 * math.pi * i / n), math.sin(math.pi / 2 - 2 * math.pi * i / n))
            for i, node in enumerate(slots) if node is not None}


def _sorted_edges(graph: nx.Graph) -> list[tuple[str, str, str, str]]:
    """(end, end, key, kind) per link, ends in sorted order, links sorted: a fixed drawing order."""
    if graph.is_multigraph():
        raw = graph.edges(keys=True, data=True)
    else:
        raw = ((u, v, "", d) for u, v, d in graph.edges(data=True))
    edges = []
    for u, v, key, data in raw:
        a, b = sorted((str(u), str(v)))
        edges.append((a, b, str(key), data.get("kind")))
    return sorted(edges, key=lambda e: e[:3])


def _edge_style(kind) -> dict:
    return EDGE_STYLES.get(kind, EDGE_STYLES["other"])


def link_network_figure(graph: nx.Graph, title: str = "Inter-cluster links") -> Figure:
    """Clusters on a circle grouped by city, coloured by city; links styled by kind; legends for both.

    ``graph`` is :func:`clusnet_analysis.analysis.links.link_graph` (node attribute
    ``city``, edge attribute ``kind``). Nodes are labelled with their cluster id.
    Parallel links between two clusters are drawn as separate arcs.
    """
    apply_style()
    positions = circle_layout_by_city(graph)
    node_city = {str(n): str(d.get("city")) for n, d in graph.nodes(data=True)}
    cities = sorted(set(node_city.values()))
    look = {city: (PALETTE[i % len(PALETTE)], MARKERS[(i // len(PALETTE)) % len(MARKERS)])
            for i, city in enumerate(cities)}

    fig, ax = plt.subplots(figsize=(8, 7))
    ax.set_axis_off()
    ax.set_aspect("equal")

    # Edges, in a fixed order; the k-th link between the same pair bends further out.
    edges = _sorted_edges(graph)
    seen_pairs: dict[tuple[str, str], int] = {}
    kinds_drawn = []
    for u, v, _key, kind in edges:
        if u == v:
            continue
        k = seen_pairs.get((u, v), 0)
        seen_pairs[(u, v)] = k + 1
        rad = 0.0 if k == 0 else 0.12 * ((k + 1) // 2) * (1 if k % 2 else -1)
        style = _edge_style(kind)
        ax.add_patch(FancyArrowPatch(positions[u], positions[v], arrowstyle="-",
                                     connectionstyle=f"arc3,rad={rad}", shrinkA=6, shrinkB=6,
                                     zorder=1, alpha=0.85, **style))
        kinds_drawn.append(kind if kind in EDGE_STYLES else "other")

    # Nodes, one scatter per city so the legend gets one entry per city.
    for city in cities:
        members = sorted(n for n, c in node_city.items() if c == city)
        colour, marker = look[city]
        ax.scatter([positions[n][0] for n in members], [positions[n][1] for n in members],
                   s=140, c=colour, marker=marker, edgecolors="black", linewidths=0.6, zorder=3,
                   label=plain(city))
        for n in members:
            x, y = positions[n]
            ax.text(1.13 * x, 1.13 * y, plain(n), ha="center", va="center", fontsize=7, zorder=4)

    ax.set_xlim(-1.35, 1.35)
    ax.set_ylim(-1.35, 1.35)
    ax.set_title(plain(title))
    if cities:
        city_legend = ax.legend(title="City", loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        ax.add_artist(city_legend)
    kind_handles = [Line2D([], [], **EDGE_STYLES[k], label=plain(k.replace("_", " ")))
                    for k in EDGE_STYLES if k in set(kinds_drawn)]
    if kind_handles:
        ax.legend(handles=kind_handles, title="Link kind", loc="lower left", bbox_to_anchor=(1.0, 0.0),
                  frameon=False)
    if graph.number_of_nodes() == 0:
        ax.text(0.5, 0.5, "No clusters", transform=ax.transAxes, ha="center", va="center")
    fig.tight_layout()
    return fig
