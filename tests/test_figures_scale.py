"""Figures stay legible from 2 to 60 cities, on hand-made frames.

Every figure must: fit in 12 x 9 inches (drawn extent included), keep its tick
labels apart (their drawn boxes do not overlap), write no numbers in the cells of a
dense heatmap, and use words, not column ids, in its legends.
"""
from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.text import Text

from clusnet_analysis.analysis import crosscity
from clusnet_analysis.analysis import links as lk
from clusnet_analysis.plots.budget import budget_by_category_figure, describe_budget_by_category
from clusnet_analysis.plots.budget_amounts import budget_amounts_figure
from clusnet_analysis.plots.flows import describe_flow_matrix, flow_matrix_figure
from clusnet_analysis.plots.network import describe_link_network, link_network_figure
from clusnet_analysis.plots.phases import describe_phase_distribution, phase_distribution_figure
from clusnet_analysis.plots.practices import describe_themes_by_host, themes_by_host_figure
from clusnet_analysis.plots.style import (
    MAX_HEIGHT_IN, MAX_WIDTH_IN, _renderer, human, labels_overlap, other_rows, save_figure,
)

SIZES = [2, 15, 40, 60]
THEMES = {"research_gap": "Research gap", "finance_gap": "Access to finance",
          "cooperation_gap": "Cooperation between firms and universities", "policy_gap": "Policy"}
PHASES = ["initiation", "pilot", "establishment", "sustainability"]


def city_names(n):
    # Names of realistic length, one long one, all distinct.
    base = ["Barcelona", "Manchester", "Gothenburg", "Eindhoven", "Lyon", "Munich", "Helsinki", "Budapest"]
    names = [f"{base[i % len(base)]} {i // len(base) + 1}" for i in range(n)]
    names[-1] = "Bucharest Metropolitan Area"
    return names


def flow_frame(n):
    cities = city_names(n)
    values = [[(3 * i + 7 * j) % 11 + (40 if i == j else 0) for j in range(n)] for i in range(n)]
    frame = pd.DataFrame(values, index=pd.Index(cities, name="home_city"),
                         columns=pd.Index(cities, name="host_city"))
    frame.attrs["value"] = "exchanges"
    return frame


def amounts_frame(n):
    # What analysis.eligibility.budget_amounts(by="home_city") returns, with a "total" row; every 9th
    # city (from the 5th) is not a partner, so its label is longer.
    cities = city_names(n)
    parts = {"reimbursable_eur": [1000.0 * (i % 7 + 1) for i in range(n)], "pending_eur": [300.0] * n,
             "cap_cut_eur": [50.0 * (i % 3) for i in range(n)], "ineligible_eur": [200.0 * (i % 2) for i in range(n)]}
    return pd.DataFrame({"home_city": [*cities, "total"], "partner": [i % 9 != 4 for i in range(n)] + [False],
                         **{k: [*v, sum(v)] for k, v in parts.items()}})


def theme_frame(n):
    return pd.DataFrame({t: [(i + k) % 5 for i in range(n)] for k, t in enumerate(THEMES)},
                        index=pd.Index(city_names(n), name="host_city"))


def phase_frame(n):
    return pd.DataFrame({p: [(2 * i + k) % 4 for i in range(n)] for k, p in enumerate(PHASES)},
                        index=pd.Index(city_names(n), name="city"))


def within_maximum(fig: Figure) -> None:
    width, height = fig.get_size_inches()
    assert width <= MAX_WIDTH_IN and height <= MAX_HEIGHT_IN
    # What is drawn (legends outside the axes included) fits as well: saving crops to it.
    renderer = _renderer(fig)
    fig.canvas.draw()   # the layout engine places everything on drawing
    box = fig.get_tightbbox(renderer)
    assert box.width <= MAX_WIDTH_IN + 0.05 and box.height <= MAX_HEIGHT_IN + 0.05


def ticks_apart(fig: Figure) -> None:
    _renderer(fig)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert not labels_overlap(fig, ax.get_xticklabels())
    assert not labels_overlap(fig, ax.get_yticklabels())


def legend_words(fig: Figure) -> list[str]:
    legends = [*fig.legends, *[c for ax in fig.axes for c in ax.get_children()
                               if c.__class__.__name__ == "Legend"]]
    return [t.get_text() for legend in legends for t in legend.get_texts()]


def cell_texts(ax) -> list[Text]:
    return [t for t in ax.texts if t.get_gid() not in ("subtitle", "other-total")]


# ---------------------------------------------------------------- the overlap check itself
def test_labels_overlap_sees_a_planted_overlap():
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    apart = [ax.text(0.1, 0.5, "Lyon"), ax.text(0.7, 0.5, "Munich")]
    assert not labels_overlap(fig, apart)
    on_top = [ax.text(0.1, 0.2, "Barcelona"), ax.text(0.15, 0.2, "Manchester")]
    assert labels_overlap(fig, on_top)


def test_human_words():
    assert human("follow_up_visit") == "Follow up visit"
    assert human("LYO") == "LYO"


# ---------------------------------------------------------------- flow heatmap
@pytest.mark.parametrize("n", SIZES)
def test_flow_heatmap_scales(n):
    flow = flow_frame(n)
    fig = flow_matrix_figure(flow)
    ax = fig.axes[0]
    within_maximum(fig)
    ticks_apart(fig)
    shown = min(n, 15)
    assert len(ax.get_yticklabels()) == shown == len(ax.get_xticklabels())
    if n <= 12:
        assert len(cell_texts(ax)) == n * n          # every cell numbered
    else:
        assert cell_texts(ax) == []                  # dense: no number in any cell
    if n > 15:
        assert ax.get_yticklabels()[-1].get_text() == f"Other cities ({n - 14})"
        subtitle = [t.get_text() for t in ax.texts if t.get_gid() == "subtitle"][0]
        assert f"14 most active of {n} cities" in subtitle.replace("\n", " ")
        # The summed row and column are grey, their totals written: 2 x 15 - 1 cells.
        assert len([t for t in ax.texts if t.get_gid() == "other-total"]) == 29
    assert f"{n} home cities" in describe_flow_matrix(flow)


def test_flow_description_names_the_largest_flow():
    flow = flow_frame(2)   # [[40, 7], [3, 50]]: 100 in all, the largest from the second city to itself
    assert describe_flow_matrix(flow) == (
        "Heatmap of exchanges from 2 home cities (rows) to 2 host cities (columns), 100 in total; the largest "
        "flow is Bucharest Metropolitan Area to Bucharest Metropolitan Area (50).")


def test_flow_description_does_not_single_out_one_of_equal_flows():
    flow = pd.DataFrame([[2, 1], [2, 0]], index=["A", "B"], columns=["A", "B"])
    assert describe_flow_matrix(flow).endswith("; the largest flow, 2, is shared by 2 pairs of cities.")


def test_network_description_does_not_single_out_one_of_equal_pairs():
    graph = nx.MultiGraph()
    for node, city in [("A1", "A"), ("B1", "B"), ("C1", "C")]:
        graph.add_node(node, city=city)
    graph.add_edge("A1", "B1", kind="joint_project")
    graph.add_edge("B1", "C1", kind="joint_project")
    assert describe_link_network(graph).endswith("; 2 pairs share the most links (1 each).")


# ---------------------------------------------------------------- budget: claims by home city
AMOUNT_PARTS = ["reimbursable_eur", "pending_eur", "cap_cut_eur", "ineligible_eur"]


@pytest.mark.parametrize("n", SIZES)
def test_budget_amounts_by_city_scales(n):
    table = amounts_frame(n)
    cities = table.loc[table["home_city"] != "total"]
    fig = budget_amounts_figure(table, {c: 8000.0 for c in cities["home_city"]})
    ax = fig.axes[0]
    within_maximum(fig)
    ticks_apart(fig)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == min(n, 15)           # past 15 cities: the largest 14, then one summed bar
    named = [c if p else f"{c} (not a partner)" for c, p in zip(cities["home_city"], cities["partner"])]
    if n <= 15:
        assert labels == named                 # first city on top, in the table's order
    else:
        assert labels[-1] == f"{n - 14} other cities"
        assert set(labels[:-1]) <= set(named)
    # nothing is lost: the bars add up to every city's claim ("total" row left out)
    claimed = cities[AMOUNT_PARTS].to_numpy().sum()
    assert sum(p.get_width() for p in ax.patches) == pytest.approx(claimed)
    assert legend_words(fig) == ["Reimbursable", "Pending", "Above the cap (not reimbursed)", "Ineligible",
                                 "Allocation"]


def test_budget_amounts_by_city_is_byte_identical_at_sixty(tmp_path):
    table = amounts_frame(60)
    for folder in ("a", "b"):
        save_figure(budget_amounts_figure(table, {c: 8000.0 for c in city_names(60)}), tmp_path / folder,
                    "amounts")
    for ext in ("png", "svg"):
        assert (tmp_path / "a" / f"amounts.{ext}").read_bytes() == (tmp_path / "b" / f"amounts.{ext}").read_bytes()


def test_budget_by_category_words_and_description():
    table = pd.DataFrame({"category": ["local_transport", "meals", "total"],
                          "mean_per_exchange_eur": [120.0, 40.0, 160.0],
                          "reference_eur": [100.0, 50.0, 150.0], "cap_eur": [None, None, 1550.0]})
    fig = budget_by_category_figure(table, category_labels={"meals": "Meals and drinks"})
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["Local transport", "Meals and drinks", "Total"]
    within_maximum(fig)
    assert describe_budget_by_category(table) == (
        "Bars of the mean cost per exchange against the programme reference for 2 cost categories and in total; "
        "in total 160 EUR per exchange against a reference of 150 EUR (cap 1,550 EUR); above the reference: "
        "local transport.")


# ---------------------------------------------------------------- stacked bars
@pytest.mark.parametrize("n", SIZES)
def test_themes_by_host_scales(n):
    fig = themes_by_host_figure(theme_frame(n), {k: v for k, v in THEMES.items() if k != "policy_gap"})
    ax = fig.axes[0]
    within_maximum(fig)
    ticks_apart(fig)
    category_ticks = ax.get_xticklabels() if n <= 15 else ax.get_yticklabels()
    assert len(category_ticks) == n
    # The theme without a label gets words, never its id.
    assert legend_words(fig) == ["Research gap", "Access to finance", "Cooperation between firms\nand universities",
                                 "Policy gap"]
    assert not any("_" in word for word in legend_words(fig))


@pytest.mark.parametrize("n", SIZES)
def test_phase_distribution_scales(n):
    fig = phase_distribution_figure(phase_frame(n))
    ax = fig.axes[0]
    within_maximum(fig)
    ticks_apart(fig)
    assert [t.get_text() for t in ax.get_yticklabels()] == city_names(n)
    assert legend_words(fig) == ["Initiation", "Pilot", "Establishment", "Sustainability"]


def test_other_rows_by_hand():
    counts = pd.DataFrame({"a": [5, 1, 0, 3], "b": [0, 1, 1, 0]}, index=["P", "Q", "R", "S"])
    # Row totals P5 Q2 R1 S3: keep the 2 largest (P, S) in their order, sum Q and R.
    table, summed = other_rows(counts, 3)
    assert summed == 2
    assert list(table.index) == ["P", "S", "Other cities (2)"]
    assert table.loc["Other cities (2)"].tolist() == [1, 2]
    assert other_rows(counts, 4)[0] is counts


def test_stacked_bar_descriptions():
    themes = theme_frame(2)   # rows [0,1,2,3] and [1,2,3,4]: totals 6 and 10
    text = describe_themes_by_host(themes, THEMES)
    assert text == ("Stacked bars of best practices by theme per host city for 2 cities, 16 in total; most in "
                    "Bucharest Metropolitan Area (10), and the largest segment is Policy (7).")
    assert describe_phase_distribution(phase_frame(2)).startswith(
        "Stacked bars of assessed clusters by phase per city for 2 cities")


# ---------------------------------------------------------------- network
def network(n_cities, per_city, links_per_cluster=2):
    graph = nx.MultiGraph()
    nodes = [(f"C{c:02d}-{k}", f"City {c:02d}") for c in range(n_cities) for k in range(per_city)]
    for node, city in nodes:
        graph.add_node(node, city=city)
    kinds = ["contact", "follow_up_visit", "joint_project"]
    for i, (node, _) in enumerate(nodes):
        for step in range(1, links_per_cluster + 1):
            other = nodes[(i * 7 + step * 13) % len(nodes)][0]
            if other != node:
                graph.add_edge(node, other, key=f"L{i}-{step}", kind=kinds[(i + step) % 3])
    return graph


def node_count(fig) -> int:
    return sum(len(c.get_offsets()) for c in fig.axes[0].collections if isinstance(c, PathCollection))


def test_network_at_city_level_past_150_clusters():
    graph = network(40, 5)            # 200 clusters in 40 cities
    fig = link_network_figure(graph, title="Links")
    ax = fig.axes[0]
    assert node_count(fig) == 40      # one node per city
    subtitle = [t.get_text() for t in ax.texts if t.get_gid() == "subtitle"][0].replace("\n", " ")
    assert subtitle.startswith("Drawn by city: 200 clusters in 40 cities")
    assert "Line width = number of links" in subtitle
    within_maximum(fig)
    assert "drawn with one node per city" in describe_link_network(graph)


@pytest.mark.parametrize("n_cities, per_city", [(2, 2), (15, 4), (60, 2)])
def test_network_at_cluster_level_up_to_150(n_cities, per_city):
    graph = network(n_cities, per_city, links_per_cluster=1)
    fig = link_network_figure(graph)
    assert node_count(fig) == n_cities * per_city
    within_maximum(fig)


def test_network_with_many_links_draws_one_line_per_pair():
    graph = nx.MultiGraph()
    for node, city in (("A1", "LYO"), ("B1", "MUC"), ("C1", "HEL")):
        graph.add_node(node, city=city)
    for i in range(400):
        graph.add_edge(*(("A1", "B1") if i % 4 else ("B1", "C1")), key=f"L{i}", kind="contact")
    fig = link_network_figure(graph)
    ax = fig.axes[0]
    assert len(ax.patches) == 2                   # two pairs, not 400 arcs
    widths = sorted(p.get_linewidth() for p in ax.patches)
    assert widths[0] < widths[1]                  # 100 links thinner than 300
    subtitle = [t.get_text() for t in ax.texts if t.get_gid() == "subtitle"][0].replace("\n", " ")
    assert "line width = number of links (1 to 300)" in subtitle
    assert describe_link_network(graph) == ("Network of 3 clusters in 3 cities joined by 400 links; 3 clusters "
                                            "have at least one link; the most linked pair is A1 and B1 (300 links).")


def test_city_level_figure_is_byte_identical(tmp_path):
    for folder in ("a", "b"):
        save_figure(link_network_figure(network(40, 5)), tmp_path / folder, "network")
    for ext in ("png", "svg"):
        assert (tmp_path / "a" / f"network.{ext}").read_bytes() == (tmp_path / "b" / f"network.{ext}").read_bytes()


def test_city_graph_of_a_big_network_has_the_cities_as_nodes():
    graph = network(40, 5)
    cities = lk.city_graph(graph)
    assert cities.number_of_nodes() == 40
    assert sum(d["links"] for _, _, d in cities.edges(data=True)) + sum(
        d["same_city_links"] for _, d in cities.nodes(data=True)) == graph.number_of_edges()


def test_every_legend_of_the_network_is_drawn_whole():
    """A legend beside the axes must not be clipped to them (the link-kind legend once lost its words)."""
    from matplotlib.legend import Legend

    fig = link_network_figure(network(4, 2))
    renderer = _renderer(fig)
    legends = [a for a in fig.axes[0].get_children() if isinstance(a, Legend)]
    assert len(legends) == 2       # the cities, and the kinds of link
    saved = fig.get_tightbbox(renderer)    # what bbox_inches="tight" keeps, in inches
    for legend in legends:
        box = legend.get_window_extent(renderer).transformed(fig.dpi_scale_trans.inverted())
        assert box.x1 <= saved.x1 + 1e-6 and box.y0 >= saved.y0 - 1e-6, legend.get_title().get_text()
