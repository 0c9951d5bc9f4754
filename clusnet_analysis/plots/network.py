"""Figure: the inter-cluster link network.

Layout is deterministic: clusters sit on a circle, grouped by city (cities in
sorted order, a gap between cities), clusters sorted by id inside a city. The
same graph therefore always gives the same picture and the same file bytes.

The figure scales with the network:

* up to :data:`MAX_DRAWN_LINKS` links, every link is its own line, styled by kind;
* more links than that between at most :data:`MAX_CLUSTERS` clusters: one line per
  pair of clusters, its width the number of links (stated in the subtitle);
* more than :data:`MAX_CLUSTERS` clusters: drawn at city level (nodes are cities,
  line width = links between their clusters; stated in the subtitle).
"""
from __future__ import annotations

import math
from collections import defaultdict

import networkx as nx
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from clusnet_analysis.analysis.links import city_graph
from clusnet_analysis.plots.style import MANY_CITIES, PALETTE, capped_size, human, plain, set_titles

# Edge kinds differ by line style (and weight), so they read in grey print too.
EDGE_STYLES = {
    "contact": {"linestyle": "-", "linewidth": 0.9, "color": "#777777"},
    "follow_up_visit": {"linestyle": "--", "linewidth": 1.3, "color": "#333333"},
    "joint_project": {"linestyle": "-", "linewidth": 2.4, "color": "#000000"},
    "other": {"linestyle": ":", "linewidth": 1.2, "color": "#555555"},
}
# 8 Okabe-Ito colours: the marker shape tells repeats apart.
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "h"]
#: Past this many clusters the network is drawn with one node per city.
MAX_CLUSTERS = 150
#: Past this many links (or this many between one pair) one line per pair of clusters, width = links.
MAX_DRAWN_LINKS = 300
MAX_PARALLEL_LINKS = 6
#: Cluster names are written next to their node up to this many clusters.
MAX_NODE_LABELS = 60


def _by_city(graph: nx.Graph) -> dict[str, list[str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for node, data in graph.nodes(data=True):
        members[str(data.get("city"))].append(str(node))
    return {city: sorted(members[city]) for city in sorted(members)}


def circle_layout_by_city(graph: nx.Graph) -> dict:
    """Positions on the unit circle, clusters grouped by city with one empty slot between cities."""
    groups = _by_city(graph)
    slots: list[str | None] = []
    for members in groups.values():
        slots.extend(members)
        if len(groups) > 1:
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


def _pair_counts(graph: nx.Graph) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for u, v in graph.edges():
        a, b = sorted((str(u), str(v)))
        if a != b:
            counts[(a, b)] += 1
    return dict(sorted(counts.items()))


def _width(count: int, largest: int) -> float:
    """Line width in points for ``count`` links, 0.6 for one link up to 7 for the most."""
    if largest <= 1:
        return 1.2
    return 0.6 + 6.4 * math.sqrt((count - 1) / (largest - 1))


def _radial_label(ax, x: float, y: float, text: str, radius: float, fontsize: float, radial: bool) -> None:
    angle = math.degrees(math.atan2(y, x))
    if radial:
        rotation = angle if -90 <= angle <= 90 else angle - 180
        ha = "left" if -90 <= angle <= 90 else "right"
        ax.text(radius * x, radius * y, text, ha=ha, va="center", rotation=rotation, rotation_mode="anchor",
                fontsize=fontsize, zorder=4)
    else:
        ax.text(1.13 * x, 1.13 * y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def _width_legend(ax, largest: int, what: str):
    values = sorted({1, max(1, round(largest / 2)), largest})
    handles = [Line2D([], [], color="#333333", linewidth=_width(v, largest), label=f"{v:,}") for v in values]
    return ax.legend(handles=handles, title=what, loc="lower left", bbox_to_anchor=(1.0, 0.0), frameon=False)


def _new_axes(n_labels: int):
    fig = Figure(figsize=capped_size(9.5, 8.0 if n_labels <= 60 else 9.0))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_xlim(-1.45, 1.45)
    ax.set_ylim(-1.45, 1.45)
    return fig, ax


def link_network_figure(graph: nx.Graph, title: str = "Inter-cluster links", *,
                        max_clusters: int = MAX_CLUSTERS, max_links: int = MAX_DRAWN_LINKS) -> Figure:
    """Clusters on a circle grouped by city, coloured by city; links styled by kind; legends for both.

    ``graph`` is :func:`clusnet_analysis.analysis.links.link_graph` (node attribute
    ``city``, edge attribute ``kind``). Nodes are labelled with their cluster id
    (up to 60 clusters). Parallel links between two clusters are drawn as separate
    arcs; past ``max_links`` links (or more than 6 between one pair) one line per
    pair, its width the number of links. Past ``max_clusters`` clusters the
    network is drawn at city level (:func:`city_network_figure`). At most 12 x 9 inches.
    """
    if graph.number_of_nodes() > max_clusters:
        return city_network_figure(city_graph(graph), title)
    positions = circle_layout_by_city(graph)
    groups = _by_city(graph)
    cities = list(groups)
    look = {city: (PALETTE[i % len(PALETTE)], MARKERS[(i // len(PALETTE)) % len(MARKERS)])
            for i, city in enumerate(cities)}
    n_nodes = graph.number_of_nodes()
    fig, ax = _new_axes(n_nodes)

    pairs = _pair_counts(graph)
    by_pair = sum(pairs.values()) > max_links or max(pairs.values(), default=0) > MAX_PARALLEL_LINKS
    subtitle = None
    legends = []
    if by_pair:
        largest = max(pairs.values())
        for (u, v), count in pairs.items():
            ax.add_patch(FancyArrowPatch(positions[u], positions[v], arrowstyle="-", shrinkA=4, shrinkB=4,
                                         color="#444444", linewidth=_width(count, largest), alpha=0.6, zorder=1))
        subtitle = (f"{sum(pairs.values()):,} links, one line per pair of clusters; "
                    f"line width = number of links (1 to {largest:,}).")
        legends.append(_width_legend(ax, largest, "Links"))
    else:
        # Edges, in a fixed order; the k-th link between the same pair bends further out.
        seen_pairs: dict[tuple[str, str], int] = {}
        kinds_drawn = set()
        for u, v, _key, kind in _sorted_edges(graph):
            if u == v:
                continue
            k = seen_pairs.get((u, v), 0)
            seen_pairs[(u, v)] = k + 1
            rad = 0.0 if k == 0 else 0.12 * ((k + 1) // 2) * (1 if k % 2 else -1)
            ax.add_patch(FancyArrowPatch(positions[u], positions[v], arrowstyle="-",
                                         connectionstyle=f"arc3,rad={rad}", shrinkA=6, shrinkB=6,
                                         zorder=1, alpha=0.85, **_edge_style(kind)))
            kinds_drawn.add(kind if kind in EDGE_STYLES else "other")
        kind_handles = [Line2D([], [], **EDGE_STYLES[k], label=plain(human(k).lower()))
                        for k in EDGE_STYLES if k in kinds_drawn]
        if kind_handles:
            legends.append(ax.legend(handles=kind_handles, title="Link kind", loc="lower left",
                                     bbox_to_anchor=(1.0, 0.0), frameon=False))

    # Nodes, one scatter per city so the legend gets one entry per city.
    size = 140 if n_nodes <= 40 else 60 if n_nodes <= 100 else 30
    radial = n_nodes > 20
    for city, members in groups.items():
        colour, marker = look[city]
        ax.scatter([positions[n][0] for n in members], [positions[n][1] for n in members],
                   s=size, c=colour, marker=marker, edgecolors="black", linewidths=0.5, zorder=3,
                   label=plain(city))
        if n_nodes <= MAX_NODE_LABELS:
            for n in members:
                _radial_label(ax, *positions[n], plain(n), 1.07, 7 if n_nodes <= 40 else 5.5, radial)
        elif len(cities) > 1:
            # Too many clusters to name: name the city at the middle of its group.
            xs = sum(positions[n][0] for n in members) / len(members)
            ys = sum(positions[n][1] for n in members) / len(members)
            norm = math.hypot(xs, ys) or 1.0
            _radial_label(ax, xs / norm, ys / norm, plain(city), 1.07, 6.5, True)

    set_titles(ax, plain(title), subtitle, width_chars=70)
    if cities and len(cities) <= MANY_CITIES:
        ax.legend(title="City", loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False,
                  fontsize=8 if len(cities) > 10 else None)
        for legend in legends:   # the city legend replaced it as the axes' legend: keep it drawn
            ax.add_artist(legend)
            legend.set_clip_on(False)   # add_artist clips to the axes, and this legend sits beside them
    if n_nodes == 0:
        ax.text(0.5, 0.5, "No clusters", transform=ax.transAxes, ha="center", va="center")
    fig.tight_layout()
    return fig


def city_network_figure(cities: nx.Graph, title: str = "Inter-cluster links") -> Figure:
    """The link network at city level: one node per city on a circle (sorted), line width = links.

    ``cities`` is :func:`clusnet_analysis.analysis.links.city_graph` (node
    attributes clusters, same_city_links; edge attribute links). A node's size
    grows with its clusters. The subtitle states that the figure is drawn by city.
    """
    names = sorted(str(c) for c in cities.nodes)
    n = max(len(names), 1)
    positions = {c: (math.cos(math.pi / 2 - 2 * math.pi * i / n), math.sin(math.pi / 2 - 2 * math.pi * i / n))
                 for i, c in enumerate(names)}
    fig, ax = _new_axes(len(names))
    edges = sorted((min(str(u), str(v)), max(str(u), str(v)), int(d.get("links", 1)))
                   for u, v, d in cities.edges(data=True) if u != v)
    largest = max((e[2] for e in edges), default=1)
    for u, v, count in edges:
        ax.add_patch(FancyArrowPatch(positions[u], positions[v], arrowstyle="-", shrinkA=5, shrinkB=5,
                                     color="#444444", linewidth=_width(count, largest),
                                     alpha=0.55 if len(edges) <= 100 else 0.3, zorder=1))
    clusters = [int(cities.nodes[c].get("clusters", 0)) for c in names]
    most = max(clusters, default=1) or 1
    ax.scatter([positions[c][0] for c in names], [positions[c][1] for c in names],
               s=[30 + 170 * math.sqrt(k / most) for k in clusters], c=PALETTE[0], edgecolors="black",
               linewidths=0.5, zorder=3)
    radial = len(names) > 12
    for c in names:
        _radial_label(ax, *positions[c], plain(c), 1.08, 8 if len(names) <= 30 else 6.5, radial)
    total_clusters = cities.graph.get("clusters", sum(clusters))
    total_links = cities.graph.get("links", sum(e[2] for e in edges))
    same = sum(int(cities.nodes[c].get("same_city_links", 0)) for c in names)
    subtitle = (f"Drawn by city: {total_clusters:,} clusters in {len(names)} cities, {total_links:,} links. "
                f"Line width = number of links between two cities' clusters (1 to {largest:,}); "
                f"circle size = number of clusters; {same:,} links inside one city are not drawn.")
    set_titles(ax, plain(title), subtitle, width_chars=70)
    if edges:
        _width_legend(ax, largest, "Links between cities")
    if not names:
        ax.text(0.5, 0.5, "No clusters", transform=ax.transAxes, ha="center", va="center")
    fig.tight_layout()
    return fig


def describe_link_network(graph: nx.Graph, max_clusters: int = MAX_CLUSTERS) -> str:
    """One sentence for the network figure's alt text."""
    clusters = graph.number_of_nodes()
    links = graph.number_of_edges()
    cities = len(_by_city(graph))
    linked = sum(1 for _, d in graph.degree() if d > 0)
    text = (f"Network of {clusters:,} clusters in {cities} cities joined by {links:,} links; "
            f"{linked:,} clusters have at least one link")
    if clusters > max_clusters:
        text += ", drawn with one node per city and line width showing the links between two cities"
    elif links:
        ranked = sorted(_pair_counts(graph).items(), key=lambda kv: (-kv[1], kv[0]))
        ties = sum(1 for _, count in ranked if ranked and count == ranked[0][1])
        if ranked and ties == 1:
            (a, b), count = ranked[0]
            text += f"; the most linked pair is {a} and {b} ({count:,} links)"
        elif ranked:
            text += f"; {ties} pairs share the most links ({ranked[0][1]:,} each)"
    return text + "."
