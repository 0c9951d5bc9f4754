"""Inter-cluster link network on a hand-made set of clusters and links.

Clusters: A1, A2 (LYO), B1 (MUC), C1 (HEL), D1 (BCN, no links). X9 is named by a
link but missing from the clusters table -> city "unknown".
Links (period from created_on: S3 Jul-Dec 2009, S4 Jan-Jun 2010, S5 Jul-Dec 2010):
    L1 A1-B1 contact          2009-08-01 S3  cross-city
    L2 A1-A2 joint_project    2009-10-01 S3  same city
    L3 B1-A1 follow_up_visit  2010-02-01 S4  cross-city (second link between A1 and B1)
    L4 B1-C1 contact          2010-08-01 S5  cross-city
    L5 C1-B1 contact          2011-03-01 outside every period, cross-city
    L6 A2-C1 contact          2010-03-01 S4  from draft exchange E4 -> not counted
    L7 A2-A2 other            2010-04-01 S4  to itself -> not a link between clusters
    L8 A1-X9 other            2009-12-01 S3  cross-city (LYO - unknown)
Counted links between two clusters: L1, L2, L3, L4, L5, L8 (6; 5 cross-city, 1 same-city).
"""
import networkx as nx
import pandas as pd
import pytest

from clusnet_analysis.analysis import links as lk
from clusnet_analysis.plots.network import circle_layout_by_city, link_network_figure
from clusnet_analysis.plots.style import save_figure
from clusnet_analysis.rules.programme import load_programme

PARTNERS = ["LYO", "BCN", "MUC", "DTM", "LEJ", "MAN", "HEL", "BUD", "GOT", "EIN"]


@pytest.fixture(scope="module")
def programme():
    return load_programme()


@pytest.fixture()
def clusters():
    return pd.DataFrame({
        "cluster_id": ["A1", "A2", "B1", "C1", "D1"],
        "name": ["Lyon $Bio$", "Lyon <script>alert(1)</script>", "Munich Mobility", "Helsinki ICT", "BCN Design"],
        "city": ["LYO", "LYO", "MUC", "HEL", "BCN"],
        "sector": ["health", "games", "automotive", "ict", "design"],
    })


@pytest.fixture()
def links():
    return pd.DataFrame({
        "link_id": [f"L{i}" for i in range(1, 9)],
        "exchange_id": pd.array(["E1", None, "E2", "E3", None, "E4", None, None], dtype="str"),
        "from_cluster": ["A1", "A1", "B1", "B1", "C1", "A2", "A2", "A1"],
        "to_cluster": ["B1", "A2", "A1", "C1", "B1", "C1", "A2", "X9"],
        "kind": ["contact", "joint_project", "follow_up_visit", "contact", "contact", "contact", "other", "other"],
        "created_on": pd.to_datetime(["2009-08-01", "2009-10-01", "2010-02-01", "2010-08-01",
                                      "2011-03-01", "2010-03-01", "2010-04-01", "2009-12-01"]),
    }).iloc[::-1].reset_index(drop=True)  # unsorted on purpose


@pytest.fixture()
def exchanges_view():
    return pd.DataFrame({"exchange_id": ["E1", "E2", "E3", "E4"], "counted": [True, True, True, False]})


@pytest.fixture()
def view(links, clusters, programme, exchanges_view):
    return lk.links_view(links, clusters, programme, exchanges_view)


@pytest.fixture()
def graph(view, clusters, programme):
    return lk.link_graph(lk.select_links(view, programme, "final"), clusters)


def test_link_period_boundaries(programme):
    dates = pd.Series(pd.to_datetime(["2009-06-30", "2009-07-01", "2009-12-31", "2010-01-01",
                                      "2010-12-31", "2011-01-01", None]))
    assert lk.link_period(dates, programme).tolist() == ["outside", "S3", "S3", "S4", "S5", "outside", "outside"]


def test_links_view(view):
    assert list(view["link_id"]) == [f"L{i}" for i in range(1, 9)]
    assert list(view["period"]) == ["S3", "S3", "S4", "S5", "outside", "S4", "S4", "S3"]
    assert list(view["cross_city"]) == [True, False, True, True, True, True, False, True]
    assert view.loc[7, "to_city"] == "unknown"
    assert list(view["counted"]) == [True, True, True, True, True, False, True, True]


def test_graph_nodes_and_edges(graph):
    assert sorted(graph.nodes) == ["A1", "A2", "B1", "C1", "D1", "X9"]
    assert graph.nodes["B1"]["city"] == "MUC" and graph.nodes["X9"]["city"] == "unknown"
    assert sorted(k for _, _, k in graph.edges(keys=True)) == ["L1", "L2", "L3", "L4", "L5", "L8"]
    assert graph.number_of_edges("A1", "B1") == 2  # L1 and L3 kept apart
    assert graph.graph["self_links_ignored"] == 1   # L7


def test_links_per_cluster(graph):
    # A1: L1, L2, L3, L8 (partners B1, A2, X9); B1: L1, L3, L4, L5 (partners A1, C1).
    table = lk.links_per_cluster(graph)
    assert table[["cluster_id", "city", "links", "partners", "same_city_links", "cross_city_links", "component"]
                 ].to_dict("records") == [
        {"cluster_id": "A1", "city": "LYO", "links": 4, "partners": 3, "same_city_links": 1, "cross_city_links": 3, "component": 1},
        {"cluster_id": "B1", "city": "MUC", "links": 4, "partners": 2, "same_city_links": 0, "cross_city_links": 4, "component": 1},
        {"cluster_id": "C1", "city": "HEL", "links": 2, "partners": 1, "same_city_links": 0, "cross_city_links": 2, "component": 1},
        {"cluster_id": "A2", "city": "LYO", "links": 1, "partners": 1, "same_city_links": 1, "cross_city_links": 0, "component": 1},
        {"cluster_id": "X9", "city": "unknown", "links": 1, "partners": 1, "same_city_links": 0, "cross_city_links": 1, "component": 1},
        {"cluster_id": "D1", "city": "BCN", "links": 0, "partners": 0, "same_city_links": 0, "cross_city_links": 0, "component": 2},
    ]
    assert dict(graph.degree())["A1"] == 4


def test_components(graph):
    components = lk.link_components(graph)
    assert components.to_dict("records") == [
        {"component": 1, "clusters": 5, "links": 6, "cities": "HEL, LYO, MUC, unknown",
         "cluster_ids": "A1, A2, B1, C1, X9"},
        {"component": 2, "clusters": 1, "links": 0, "cities": "BCN", "cluster_ids": "D1"},
    ]


def test_links_per_city(graph, programme):
    table = lk.links_per_city(graph, programme).set_index("city")
    assert list(table.index) == [*PARTNERS, "unknown"]
    # LYO: L1, L2, L3, L8 touch it (L2 same-city); MUC: L1, L3, L4, L5; HEL: L4, L5.
    assert table.loc["LYO"].tolist() == [2, 2, 4, 1, 3]
    assert table.loc["MUC"].tolist() == [1, 1, 4, 0, 4]
    assert table.loc["HEL"].tolist() == [1, 1, 2, 0, 2]
    assert table.loc["BCN"].tolist() == [1, 0, 0, 0, 0]
    assert table.loc["unknown"].tolist() == [1, 1, 1, 0, 1]
    assert table.loc["GOT"].tolist() == [0, 0, 0, 0, 0]


def test_city_links(graph):
    # L1, L3 LYO-MUC; L2 LYO-LYO; L4, L5 HEL-MUC; L8 LYO-unknown: 6 links in all.
    table = lk.city_links(graph)
    assert table.to_dict("records") == [
        {"city_a": "HEL", "city_b": "MUC", "links": 2, "cross_city": True},
        {"city_a": "LYO", "city_b": "LYO", "links": 1, "cross_city": False},
        {"city_a": "LYO", "city_b": "MUC", "links": 2, "cross_city": True},
        {"city_a": "LYO", "city_b": "unknown", "links": 1, "cross_city": True},
    ]
    assert table["links"].sum() == graph.number_of_edges()


def test_city_graph(graph):
    cities = lk.city_graph(graph)
    assert sorted(cities.nodes) == ["BCN", "HEL", "LYO", "MUC", "unknown"]
    assert cities.nodes["LYO"] == {"clusters": 2, "linked_clusters": 2, "same_city_links": 1}
    assert cities.nodes["BCN"] == {"clusters": 1, "linked_clusters": 0, "same_city_links": 0}
    assert sorted((*sorted((u, v)), d["links"]) for u, v, d in cities.edges(data=True)) == [
        ("HEL", "MUC", 2), ("LYO", "MUC", 2), ("LYO", "unknown", 1)]
    assert cities.graph == {"clusters": 6, "links": 6}


def test_cross_city_links(view):
    table = lk.cross_city_links(view).set_index("kind")
    assert list(table.index) == ["contact", "follow_up_visit", "joint_project", "other", "total"]
    assert table.loc["contact"].tolist() == [0, 3, 3]        # L1, L4, L5 (L6 draft)
    assert table.loc["follow_up_visit"].tolist() == [0, 1, 1]
    assert table.loc["joint_project"].tolist() == [1, 0, 1]
    assert table.loc["other"].tolist() == [0, 1, 1]          # L8 (L7 to itself)
    assert table.loc["total"].tolist() == [1, 5, 6]


def test_links_per_period(view, programme):
    table = lk.links_per_period(view, programme)
    assert list(table["period"]) == ["S3", "S4", "S5", "outside", "final"]
    assert list(table["links"]) == [3, 1, 1, 1, 6]          # S3: L1, L2, L8; S4: L3; S5: L4; outside: L5
    assert list(table["cross_city_links"]) == [2, 1, 1, 1, 5]
    assert table["cumulative_links"].tolist()[:3] == [3, 4, 5]
    assert pd.isna(table.loc[3, "cumulative_links"])
    assert table.loc[4, "cumulative_links"] == 6


def test_select_links_this_period_and_cumulative(view, programme):
    assert list(lk.select_links(view, programme, "S4")["link_id"]) == ["L3", "L7"]  # L6 is a draft's
    assert list(lk.select_links(view, programme, "S4", cumulative=True)["link_id"]) == [
        "L1", "L2", "L3", "L7", "L8"]
    assert len(lk.select_links(view, programme, "final")) == 7  # everything counted, L5 outside included
    with pytest.raises(ValueError, match="unknown reporting period"):
        lk.select_links(view, programme, "S9")


def test_period_network_summary(view, clusters, programme):
    s4 = lk.period_network_summary(view, clusters, programme, "S4")
    # This period: L3 only (A1-B1). Cumulative to S4: L1, L2, L3, L8 -> A1, A2, B1, X9 in one component.
    assert s4.to_dict("records") == [
        {"scope": "this period", "links": 1, "cross_city_links": 1, "same_city_links": 0,
         "linked_clusters": 2, "components": 1, "largest_component": 2},
        {"scope": "cumulative", "links": 4, "cross_city_links": 3, "same_city_links": 1,
         "linked_clusters": 4, "components": 1, "largest_component": 4},
    ]
    final = lk.period_network_summary(view, clusters, programme, "final")
    assert final.drop(columns="scope").iloc[0].tolist() == final.drop(columns="scope").iloc[1].tolist() == [
        6, 5, 1, 5, 1, 5]


def test_empty_network(clusters, programme):
    graph = lk.link_graph(pd.DataFrame(columns=["link_id", "from_cluster", "to_cluster", "kind", "created_on"]),
                          clusters)
    assert graph.number_of_edges() == 0
    assert len(lk.link_components(graph)) == 5
    assert lk.links_per_cluster(graph)["links"].sum() == 0
    assert lk.links_per_city(graph, programme)["links"].sum() == 0


# ---------------------------------------------------------------- figure
def test_layout_is_grouped_by_city_and_fixed(graph):
    first, second = circle_layout_by_city(graph), circle_layout_by_city(graph)
    assert first == second
    # Cities in sorted order (BCN, HEL, LYO, MUC, unknown); BCN's D1 at the top of the circle.
    assert first["D1"] == pytest.approx((0.0, 1.0))


def test_link_network_figure(graph):
    fig = link_network_figure(graph)
    ax = fig.axes[0]
    assert ax.get_title() == "Inter-cluster links"
    legends = [c for c in ax.get_children() if isinstance(c, type(ax.get_legend()))]
    texts = {t.get_text() for legend in legends for t in legend.get_texts()}
    assert {"BCN", "HEL", "LYO", "MUC", "unknown", "contact", "follow up visit", "joint project", "other"} <= texts


def test_link_network_figure_is_byte_identical(view, clusters, programme, tmp_path):
    for folder in ("a", "b"):
        graph = lk.link_graph(lk.select_links(view, programme, "final"), clusters)
        save_figure(link_network_figure(graph), tmp_path / folder, "network")
    for ext in ("png", "svg"):
        assert (tmp_path / "a" / f"network.{ext}").read_bytes() == (tmp_path / "b" / f"network.{ext}").read_bytes()


def test_link_network_figure_survives_markup(tmp_path):
    graph = nx.MultiGraph()
    graph.add_node(r"$\foo$ <script>x</script>", city="A$B")
    graph.add_node("plain", city="<i>C</i>")
    graph.add_edge(r"$\foo$ <script>x</script>", "plain", key="L1", kind="contact")
    paths = save_figure(link_network_figure(graph, title="Links $x$"), tmp_path, "markup")
    svg = paths[1].read_text(encoding="utf-8")
    # Node and city labels are in the file, as escaped text ("$" kept, not read as maths); no live tag.
    assert "<!-- $\\foo$ &lt;script&gt;x&lt;/script&gt; -->" in svg
    assert "<!-- &lt;i&gt;C&lt;/i&gt; -->" in svg and "<!-- A$B -->" in svg
    assert "<script" not in svg and "<i>" not in svg


def test_cross_city_links_lists_every_standard_kind_and_others(view):
    # Only joint projects and a kind outside the standard four; no "counted" column (all count).
    few = view.loc[view["link_id"].isin(["L2", "L6"])].drop(columns="counted").copy()
    few.loc[few["link_id"] == "L6", "kind"] = "mentoring"
    table = lk.cross_city_links(few).set_index("kind")
    assert list(table.index) == ["contact", "follow_up_visit", "joint_project", "other", "mentoring", "total"]
    assert table.loc["contact"].tolist() == [0, 0, 0]
    assert table.loc["joint_project"].tolist() == [1, 0, 1]     # L2: A1-A2, both in LYO
    assert table.loc["mentoring"].tolist() == [0, 1, 1]         # L6 counts here: no "counted" column
    assert table.loc["total"].tolist() == [1, 1, 2]
