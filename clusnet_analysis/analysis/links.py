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
        view["counted"] = ~view["exchange_id"].isin(set(draft))
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
def link_graph(view: pd.DataFrame, clusters: pd.DataFrame) -> nx.MultiGraph:
    """Undirected multigraph: one node per cluster (attributes name, city, sector), one edge per link.

    Edge key = link_id; edge attributes kind, created_on, period, cross_city.
    Clusters named by links but missing from the clusters table get city "unknown".
    A link from a cluster to itself is not a link between clusters: it is left
    out and counted in ``graph.graph["self_links_ignored"]``. Draft links are left out.
    """
    if "counted" in view.columns:
        view = counted(view)
    graph = nx.MultiGraph()
    nodes = clusters.drop_duplicates("cluster_id").sort_values("cluster_id", kind="stable")
    for row in nodes.itertuples(index=False):
        graph.add_node(row.cluster_id, name=getattr(row, "name", row.cluster_id),
                       city=row.city if pd.notna(row.city) else UNKNOWN_CITY,
                       sector=getattr(row, "sector", None))
    ends = sorted(set(view["from_cluster"]).union(view["to_cluster"]) - set(graph.nodes))
    graph.add_nodes_from((c, {"name": c, "city": UNKNOWN_CITY, "sector": None}) for c in ends)
    self_link = view["from_cluster"] == view["to_cluster"]
    edges = view.loc[~self_link].sort_values("link_id", kind="stable")
    graph.add_edges_from(
        (row.from_cluster, row.to_cluster, row.link_id,
         {"kind": row.kind, "created_on": row.created_on, "period": getattr(row, "period", None),
          "cross_city": graph.nodes[row.from_cluster]["city"] != graph.nodes[row.to_cluster]["city"]})
        for row in edges.itertuples(index=False)
    )
    graph.graph["self_links_ignored"] = int(self_link.sum())
    return graph


def link_components(graph: nx.MultiGraph) -> pd.DataFrame:
    """Connected components (groups of clusters reachable through links), largest first.

    Columns: component (1 = largest), clusters (size), links, cities (e.g. "BUD, LYO"),
    cluster_ids. Isolated clusters are components of size 1 with 0 links.
    The number of components is ``len(result)``.
    """
    components = sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: (-len(c), c[0]))
    rows = [
        {"component": i,
         "clusters": len(members),
         "links": graph.subgraph(members).number_of_edges(),
         "cities": ", ".join(sorted({graph.nodes[c]["city"] for c in members})),
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
    table["partners"] = table["cluster_id"].map(lambda c: len(set(graph.neighbors(c)))).astype("int64")
    component_of = {c: row.component for row in link_components(graph).itertuples()
                    for c in row.cluster_ids.split(", ")}
    table["component"] = table["cluster_id"].map(component_of).astype("int64")
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
    seen = set(nodes["city"]) | set(touching["city"])
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
    For "final" both rows are everything.
    """
    rows = []
    for scope, cumulative in (("this period", False), ("cumulative", True)):
        graph = link_graph(select_links(view, programme, period, cumulative=cumulative), clusters)
        linked = graph.subgraph([n for n, d in graph.degree() if d > 0])
        edges = _edge_frame(graph)
        sizes = [len(c) for c in nx.connected_components(linked)]
        rows.append({
            "scope": scope,
            "links": graph.number_of_edges(),
            "cross_city_links": int(edges["cross_city"].sum()),
            "same_city_links": int((~edges["cross_city"]).sum()),
            "linked_clusters": linked.number_of_nodes(),
            "components": len(sizes),
            "largest_component": max(sizes, default=0),
        })
    return pd.DataFrame(rows)

