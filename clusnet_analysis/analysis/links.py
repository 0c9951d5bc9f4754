"""Inter-cluster links: the network of clusters that exchanges connected.

A link joins two clusters (``from_cluster``, ``to_cluster``); the network is
undirected and keeps every link (two clusters linked by a contact and later by
a joint project have two links). Nodes are all clusters of the clusters table,
so clusters without links show up as isolated.

Start from :func:`links_view` (adds cities, cross_city and the period of
``created_on``), choose a reporting period with :func:`select_links` ("this
period" or cumulative), then build the graph with :func:`link_graph`.
Links tied to a draft exchange stay out of every count, like drafts everywhere.
"""
from __future__ import annotations

import networkx as nx
import pandas as pd

from clusnet_analysis.rules.programme import Programme
from clusnet_analysis.analysis.order import known_first
from clusnet_analysis.analysis.periods import FINAL, counted, select_period
from clusnet_analysis.ingest.codes import LINK_KINDS

#: Period of a link created outside every reporting period.
OUTSIDE = "outside"
UNKNOWN_CITY = "unknown"


# ---------------------------------------------------------------- the view
def link_period(created_on: pd.Series, programme: Programme) -> pd.Series:
    """Reporting period id of each creation date; ``"outside"`` when no period contains it."""
    period = pd.Series(OUTSIDE, index=created_on.index, dtype="str")
    for p in programme.periods:
        inside = created_on.dt.normalize().between(pd.Timestamp(p.start), pd.Timestamp(p.end))
        period = period.mask(inside.fillna(False).astype(bool), p.id)
    return period


def links_view(links: pd.DataFrame, clusters: pd.DataFrame, programme: Programme,
               exchanges_view: pd.DataFrame | None = None) -> pd.DataFrame:
    """Links with from_city, to_city, cross_city, period and counted.

    Columns: link_id, exchange_id, from_cluster, to_cluster, kind, created_on,
    from_city, to_city ("unknown" for a cluster not in the clusters table),
    cross_city (bool), period (period id or "outside"), counted (False only when
    the link's exchange is a draft; links without an exchange count).
    Rows sorted by link_id.
    """
    city_of = clusters.drop_duplicates("cluster_id").set_index("cluster_id")["city"]
    view = links.copy()
    if "exchange_id" not in view.columns:
        view["exchange_id"] = pd.Series(pd.NA, index=view.index, dtype="str")
    view["from_city"] = view["from_cluster"].map(city_of).fillna(UNKNOWN_CITY).astype("str")
    view["to_city"] = view["to_cluster"].map(city_of).fillna(UNKNOWN_CITY).astype("str")
    view["cross_city"] = view["from_city"] != view["to_city"]
    view["period"] = link_period(view["created_on"], programme)
    if exchanges_view is not None:
        draft = exchanges_view.loc[~exchanges_view["counted"].eq(True).fillna(False).astype(bool), "exchange_id"]
        view["counted"] = ~view["exchange_id"].isin(draft.unique())
    else:
        view["counted"] = True
    columns = ["link_id", "exchange_id", "from_cluster", "to_cluster", "kind", "created_on",
               "from_city", "to_city", "cross_city", "period", "counted"]
    return view.loc[:, columns].sort_values("link_id", kind="stable").reset_index(drop=True)


def select_links(view: pd.DataFrame, programme: Programme, period: str = FINAL,
                 cumulative: bool = False) -> pd.DataFrame:
    """Counted links of one reporting period ("this period"), or up to its end (``cumulative=True``).

    ``"final"`` is every counted link, including those created outside every period.
    """
    return counted(select_period(view, programme, period, cumulative=cumulative))


# ---------------------------------------------------------------- the graph
def _city_of(clusters: pd.DataFrame) -> dict:
    """cluster_id -> city (``"unknown"`` when the clusters table leaves it empty)."""
    nodes = clusters.drop_duplicates("cluster_id")
    return dict(zip(nodes["cluster_id"].tolist(),
                    nodes["city"].astype("object").where(nodes["city"].notna(), UNKNOWN_CITY).tolist()))


def _counted_pairs(view: pd.DataFrame, clusters: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Counted links between two different clusters (sorted by link_id), with the cities of both ends
    taken from ``clusters`` ("unknown" when missing) and cross_city; and the number of self-links left out."""
    if "counted" in view.columns:
        view = counted(view)
    self_link = (view["from_cluster"] == view["to_cluster"]).fillna(False).astype(bool)
    edges = view.loc[~self_link].sort_values("link_id", kind="stable").reset_index(drop=True)
    city = _city_of(clusters)
    from_city = edges["from_cluster"].map(city).astype("object").fillna(UNKNOWN_CITY)
    to_city = edges["to_cluster"].map(city).astype("object").fillna(UNKNOWN_CITY)
    edges = edges.assign(edge_from_city=from_city, edge_to_city=to_city,
                         edge_cross_city=(from_city != to_city).astype(bool))
    return edges, int(self_link.sum())


def link_graph(view: pd.DataFrame, clusters: pd.DataFrame) -> nx.MultiGraph:
    """Undirected multigraph: one node per cluster (attributes name, city, sector), one edge per link.

    Edge key = link_id; edge attributes kind, created_on, period, cross_city.
    Clusters named by links but missing from the clusters table get city "unknown".
    A link from a cluster to itself is not a link between clusters: it is left
    out and counted in ``graph.graph["self_links_ignored"]``. Draft links are left out.
    The edges are built from whole columns (no per-row pandas access), so the cost
    grows linearly with the links.
    """
    edges, self_links = _counted_pairs(view, clusters)
    graph = nx.MultiGraph()
    nodes = clusters.drop_duplicates("cluster_id").sort_values("cluster_id", kind="stable")
    ids = nodes["cluster_id"].tolist()
    names = nodes["name"].tolist() if "name" in nodes.columns else ids
    cities = nodes["city"].astype("object").where(nodes["city"].notna(), UNKNOWN_CITY).tolist()
    sectors = nodes["sector"].tolist() if "sector" in nodes.columns else [None] * len(ids)
    graph.add_nodes_from((c, {"name": n, "city": city, "sector": sector})
                         for c, n, city, sector in zip(ids, names, cities, sectors))
    ends = sorted(set(edges["from_cluster"].unique()).union(edges["to_cluster"].unique()) - set(graph.nodes))
    graph.add_nodes_from((c, {"name": c, "city": UNKNOWN_CITY, "sector": None}) for c in ends)
    def column(name):   # whole columns as Python objects: no per-row pandas access
        return edges[name].to_numpy(dtype=object) if name in edges.columns else [None] * len(edges)

    graph.add_edges_from(
        (u, v, key, {"kind": kind, "created_on": created, "period": period, "cross_city": bool(cross)})
        for u, v, key, kind, created, period, cross in zip(
            column("from_cluster"), column("to_cluster"), column("link_id"), column("kind"),
            edges["created_on"].tolist(), column("period"), column("edge_cross_city"))
    )
    graph.graph["self_links_ignored"] = self_links
    return graph


def city_links(graph: nx.MultiGraph) -> pd.DataFrame:
    """Links between the clusters of two cities (or of one city), one row per city pair that has any.

    Columns: city_a, city_b (city_a sorts first; equal for links inside one city),
    links, cross_city (city_a != city_b). Rows sorted by city_a, city_b. The
    column adds up to the number of links in ``graph``.
    """
    city = {n: (UNKNOWN_CITY if c is None else str(c)) for n, c in graph.nodes(data="city")}
    ends = list(graph.edges())
    a = pd.Series([city[u] for u, _ in ends], dtype="str")
    b = pd.Series([city[v] for _, v in ends], dtype="str")
    pairs = pd.DataFrame({"city_a": a.where(a <= b, b), "city_b": b.where(a <= b, a)})
    table = pairs.groupby(["city_a", "city_b"], sort=True).size().rename("links").reset_index()
    table["links"] = table["links"].astype("int64")
    table["cross_city"] = table["city_a"] != table["city_b"]
    return table


def city_graph(graph: nx.MultiGraph) -> nx.Graph:
    """The link network seen from cities: one node per city, one edge per linked pair of cities.

    Node attributes: clusters (in the city), linked_clusters, same_city_links
    (links between two clusters of the city). Edge attribute: links (between the
    two cities' clusters). Built from :func:`city_links`, so its size is that of
    the cities, whatever the number of clusters and links.
    """
    nodes = pd.DataFrame([(n, UNKNOWN_CITY if c is None else str(c)) for n, c in graph.nodes(data="city")],
                         columns=["cluster_id", "city"])
    degree = dict(graph.degree())
    nodes["linked"] = nodes["cluster_id"].map(degree).fillna(0) > 0
    per_city = nodes.groupby("city", sort=True).agg(clusters=("cluster_id", "size"),
                                                    linked_clusters=("linked", "sum"))
    pairs = city_links(graph)
    same = pairs.loc[~pairs["cross_city"]].set_index("city_a")["links"]
    result = nx.Graph()
    result.add_nodes_from((str(c), {"clusters": int(row.clusters), "linked_clusters": int(row.linked_clusters),
                                    "same_city_links": int(same.get(c, 0))})
                          for c, row in per_city.iterrows())
    cross = pairs.loc[pairs["cross_city"]]
    result.add_edges_from((a, b, {"links": int(n)}) for a, b, n in zip(cross["city_a"], cross["city_b"], cross["links"]))
    result.graph["clusters"] = graph.number_of_nodes()
    result.graph["links"] = graph.number_of_edges()
    return result


def _component_ids(graph: nx.Graph) -> tuple[dict, list[list[str]]]:
    """Component number of each node (1 = largest; ties by first cluster id) and the sorted members."""
    components = sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: (-len(c), c[0]))
    number = {node: i for i, members in enumerate(components, start=1) for node in members}
    return number, components


def link_components(graph: nx.MultiGraph) -> pd.DataFrame:
    """Connected components (groups of clusters reachable through links), largest first.

    Columns: component (1 = largest), clusters (size), links, cities (e.g. "ABC, DEF"),
    cluster_ids. Isolated clusters are components of size 1 with 0 links.
    The number of components is ``len(result)``.
    """
    number, components = _component_ids(graph)
    links = pd.Series([number[u] for u, _ in graph.edges()], dtype="int64").value_counts()
    city = dict(graph.nodes(data="city"))
    rows = [
        {"component": i,
         "clusters": len(members),
         "links": int(links.get(i, 0)),
         "cities": ", ".join(sorted({str(city[c]) for c in members})),
         "cluster_ids": ", ".join(members)}
        for i, members in enumerate(components, start=1)
    ]
    return pd.DataFrame(rows, columns=["component", "clusters", "links", "cities", "cluster_ids"]).astype(
        {"component": "int64", "clusters": "int64", "links": "int64"})


def _edge_frame(graph: nx.MultiGraph) -> pd.DataFrame:
    return pd.DataFrame(
        [(u, v, key, data["kind"], data["cross_city"]) for u, v, key, data in graph.edges(keys=True, data=True)],
        columns=["from_cluster", "to_cluster", "link_id", "kind", "cross_city"],
    ).astype({"cross_city": "bool"})


def _node_frame(graph: nx.MultiGraph) -> pd.DataFrame:
    return pd.DataFrame(
        [(n, d.get("name"), d["city"]) for n, d in graph.nodes(data=True)],
        columns=["cluster_id", "name", "city"],
    )


def links_per_cluster(graph: nx.MultiGraph) -> pd.DataFrame:
    """Links of each cluster.

    Columns: cluster_id, name, city, links (degree: every link counts),
    partners (distinct linked clusters), same_city_links, cross_city_links,
    component (number from :func:`link_components`). Sorted by links (most first), cluster_id.
    """
    nodes = _node_frame(graph)
    edges = _edge_frame(graph)
    # Each link counts once for each of its two ends.
    ends = pd.concat([edges.rename(columns={"from_cluster": "cluster_id"})[["cluster_id", "cross_city"]],
                      edges.rename(columns={"to_cluster": "cluster_id"})[["cluster_id", "cross_city"]]])
    per_cluster = ends.groupby("cluster_id").agg(
        links=("cross_city", "size"), cross_city_links=("cross_city", "sum"))
    table = nodes.merge(per_cluster, on="cluster_id", how="left")
    table["links"] = table["links"].fillna(0).astype("int64")
    table["cross_city_links"] = table["cross_city_links"].fillna(0).astype("int64")
    table["same_city_links"] = table["links"] - table["cross_city_links"]
    partners = {c: len(graph[c]) for c in graph.nodes}   # distinct neighbours
    table["partners"] = table["cluster_id"].map(partners).astype("int64")
    table["component"] = table["cluster_id"].map(_component_ids(graph)[0]).astype("int64")
    columns = ["cluster_id", "name", "city", "links", "partners", "same_city_links", "cross_city_links", "component"]
    return (table.loc[:, columns].sort_values(["links", "cluster_id"], ascending=[False, True], kind="stable")
            .reset_index(drop=True))


def links_per_city(graph: nx.MultiGraph, programme: Programme | None = None) -> pd.DataFrame:
    """Links touching each city's clusters.

    Columns: city, clusters, linked_clusters (with at least one link), links
    (links with at least one end in the city; a cross-city link counts for both
    cities, so the column does not add up to the number of links), same_city_links,
    cross_city_links. Rows: partner cities in programme order when ``programme``
    is given (zeros included), then other cities sorted.
    """
    nodes = _node_frame(graph)
    degree = dict(graph.degree())
    nodes["linked"] = nodes["cluster_id"].map(degree).fillna(0) > 0
    edges = _edge_frame(graph)
    edges["from_city"] = edges["from_cluster"].map(nx.get_node_attributes(graph, "city"))
    edges["to_city"] = edges["to_cluster"].map(nx.get_node_attributes(graph, "city"))
    touching = pd.concat([edges.assign(city=edges["from_city"]), edges.assign(city=edges["to_city"])])
    touching = touching.drop_duplicates(["link_id", "city"])
    per_city_links = touching.groupby("city").agg(
        links=("link_id", "size"), cross_city_links=("cross_city", "sum"))
    per_city_nodes = nodes.groupby("city").agg(clusters=("cluster_id", "size"), linked_clusters=("linked", "sum"))
    partner = list(programme.partner_cities) if programme is not None else []
    seen = set(nodes["city"].unique()) | set(touching["city"].unique())
    cities = [*partner, *sorted(seen - set(partner))]
    table = (per_city_nodes.join(per_city_links, how="outer").reindex(cities).fillna(0).astype("int64"))
    table["same_city_links"] = table["links"] - table["cross_city_links"]
    table.index.name = "city"
    return table.reset_index().loc[:, ["city", "clusters", "linked_clusters", "links",
                                       "same_city_links", "cross_city_links"]]


# ---------------------------------------------------------------- tables over the view
def cross_city_links(view: pd.DataFrame) -> pd.DataFrame:
    """Same-city and cross-city links per kind (counted links only).

    Columns: kind, same_city, cross_city, total; one row per link kind (the four
    standard kinds first, zeros included) and a final "total" row.
    """
    links = counted(view) if "counted" in view.columns else view
    links = links.loc[links["from_cluster"] != links["to_cluster"]]
    table = pd.crosstab(links["kind"], links["cross_city"]) if len(links) else pd.DataFrame()
    kinds = known_first(LINK_KINDS, links["kind"])
    table = table.reindex(index=kinds, columns=[False, True], fill_value=0).fillna(0).astype("int64")
    table.columns = ["same_city", "cross_city"]
    table["total"] = table["same_city"] + table["cross_city"]
    table.loc["total"] = table.sum()
    table.index.name = "kind"
    return table.reset_index()


def links_per_period(view: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Links created in each reporting period, with running totals.

    Columns: period, links (created in the period), cross_city_links,
    cumulative_links (all periods up to and including it; empty for "outside").
    Rows: the programme's periods in order, "outside" (created outside every
    period) and "final" (everything, both columns).
    """
    links = counted(view) if "counted" in view.columns else view
    links = links.loc[links["from_cluster"] != links["to_cluster"]]
    order = [*programme.period_ids, OUTSIDE, FINAL]
    per_period = links.groupby("period").agg(links=("link_id", "size"), cross_city_links=("cross_city", "sum"))
    table = per_period.reindex(order).fillna(0).astype("int64")
    table.loc[FINAL] = [len(links), int(links["cross_city"].sum())]
    cumulative = table.loc[list(programme.period_ids), "links"].cumsum()
    table["cumulative_links"] = pd.Series(cumulative, dtype="Int64").reindex(order)
    table.loc[FINAL, "cumulative_links"] = len(links)
    table.index.name = "period"
    return table.reset_index()


def period_network_summary(view: pd.DataFrame, clusters: pd.DataFrame, programme: Programme,
                           period: str = FINAL) -> pd.DataFrame:
    """The network "this period" and "cumulative" to the end of the period, side by side.

    Columns: scope ("this period", "cumulative"), links, cross_city_links,
    same_city_links, linked_clusters, components (of linked clusters only:
    isolated clusters are not counted), largest_component (clusters).
    For "final" both rows are everything. Counted from the link columns; the
    components come from a simple graph of the distinct linked pairs, so the cost
    grows with the links, not with the clusters.
    """
    rows = []
    for scope, cumulative in (("this period", False), ("cumulative", True)):
        edges, _ = _counted_pairs(select_links(view, programme, period, cumulative=cumulative), clusters)
        ends_a, ends_b = edges["from_cluster"].astype("object"), edges["to_cluster"].astype("object")
        pairs = pd.DataFrame({"a": ends_a.where(ends_a <= ends_b, ends_b),
                              "b": ends_b.where(ends_a <= ends_b, ends_a)}).drop_duplicates()
        linked = nx.Graph()
        linked.add_edges_from(zip(pairs["a"].tolist(), pairs["b"].tolist()))
        sizes = [len(c) for c in nx.connected_components(linked)]
        cross = int(edges["edge_cross_city"].sum())
        rows.append({
            "scope": scope,
            "links": len(edges),
            "cross_city_links": cross,
            "same_city_links": len(edges) - cross,
            "linked_clusters": linked.number_of_nodes(),
            "components": len(sizes),
            "largest_component": max(sizes, default=0),
        })
    return pd.DataFrame(rows)
