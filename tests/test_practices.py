"""Best-practice syntheses on a hand-made programme of five exchanges and eight practices.

Exchanges (E4 is a draft, E99 does not exist):
    E1 LYO-1 LYO->MUC S3   E2 BCN-1 BCN->MUC S3   E3 LYO-2 LYO->HEL S4
    E4 GOT-1 GOT->MUC S4 (draft)                  E5 LYO-1 LYO->MUC S5 (same officer again)
Practices:
    P1 E1 "Open Lab Days"       research            pilot          4
    P2 E2 "open  lab   days"    research            pilot          5   (same practice as P1 once normalised)
    P3 E1 "Venture fund"        capital             establishment  5
    P4 E3 "Cluster passport"    cluster_to_cluster  (none)         3
    P5 E4 "Open lab days"       research            pilot          5   draft -> left out everywhere
    P6 E5 "Venture Fund"        capital             pilot          2
    P7 E3 "Ageing policy"       policy              initiation     5
    P8 E99 "Ghost"              global              pilot          5   unknown exchange -> left out
Counted practices: P1, P2, P3, P4, P6, P7.
"""
import pandas as pd
import pytest

from clusnet_analysis.analysis import practices as pr
from clusnet_analysis.plots.practices import themes_by_host_figure
from clusnet_analysis.plots.style import save_figure

THEMES = ["research", "education", "capital", "policy", "firm_to_firm", "cluster_to_cluster", "global"]
PARTNERS = ["LYO", "BCN", "MUC", "DTM", "LEJ", "MAN", "HEL", "BUD", "GOT", "EIN"]


@pytest.fixture()
def exchanges_view():
    return pd.DataFrame({
        "exchange_id": ["E1", "E2", "E3", "E4", "E5"],
        "officer_id": ["o1", "o2", "o3", "o4", "o1"],
        "officer_pseudonym": ["LYO-1", "BCN-1", "LYO-2", "GOT-1", "LYO-1"],
        "home_city": ["LYO", "BCN", "LYO", "GOT", "LYO"],
        "host_city": ["MUC", "MUC", "HEL", "MUC", "MUC"],
        "status": ["validated", "submitted", "validated", "draft", "validated"],
        "period": ["S3", "S3", "S4", "S4", "S5"],
        "counted": [True, True, True, False, True],
    })


@pytest.fixture()
def practices():
    return pd.DataFrame({
        "practice_id": [f"P{i}" for i in range(1, 9)],
        "exchange_id": ["E1", "E2", "E1", "E3", "E4", "E5", "E3", "E99"],
        "title": ["Open Lab Days", "open  lab   days", "Venture fund", "Cluster passport",
                  "Open lab days", "Venture Fund", "Ageing policy", "Ghost"],
        "description": ["..."] * 8,
        "theme": ["research", "research", "capital", "cluster_to_cluster",
                  "research", "capital", "policy", "global"],
        "phase": ["pilot", "pilot", "establishment", None, "pilot", "pilot", "initiation", "pilot"],
        "transferability": pd.array([4, 5, 5, 3, 5, 2, 5, 5], dtype="Int64"),
        "cluster_id": pd.array([None] * 8, dtype="str"),
    })


@pytest.fixture()
def view(practices, exchanges_view):
    return pr.practices_view(practices, exchanges_view)


def test_view_joins_exchange_columns_and_keeps_practice_order(view):
    assert list(view["practice_id"]) == [f"P{i}" for i in range(1, 9)]
    assert list(view.columns[-5:]) == ["home_city", "host_city", "period", "counted", "officer_pseudonym"]
    assert list(view["home_city"].iloc[:3]) == ["LYO", "BCN", "LYO"]
    # P5 comes from a draft, P8 from an unknown exchange: neither counts.
    assert list(view["counted"]) == [True, True, True, True, False, True, True, False]
    assert pd.isna(view.loc[7, "host_city"])
    assert "name" not in view.columns  # officer names never travel into the view


def test_theme_by_host(view, programme):
    table = pr.theme_by_host(view, programme)
    assert list(table.columns) == THEMES  # every theme, programme order
    assert list(table.index) == PARTNERS  # every partner city, zeros included
    # MUC: research P1+P2 = 2, capital P3+P6 = 2 (draft P5 not counted).
    assert table.loc["MUC"].tolist() == [2, 0, 2, 0, 0, 0, 0]
    # HEL: policy P7, cluster_to_cluster P4.
    assert table.loc["HEL"].tolist() == [0, 0, 0, 1, 0, 1, 0]
    assert int(table.to_numpy().sum()) == 6


def test_theme_by_phase(view, programme, model):
    table = pr.theme_by_phase(view, programme, model)
    assert list(table.columns) == ["initiation", "pilot", "establishment", "sustainability", "phase_not_stated"]
    assert list(table.index) == THEMES
    assert table.loc["research"].tolist() == [0, 2, 0, 0, 0]          # P1, P2
    assert table.loc["capital"].tolist() == [0, 1, 1, 0, 0]           # P6 pilot, P3 establishment
    assert table.loc["policy"].tolist() == [1, 0, 0, 0, 0]            # P7
    assert table.loc["cluster_to_cluster"].tolist() == [0, 0, 0, 0, 1]  # P4 has no phase
    assert table.loc["global"].tolist() == [0, 0, 0, 0, 0]            # P8 not counted


def test_most_transferable_ties_broken_by_title(view):
    # Transferability 5: P7 "ageing policy", P2 "open lab days", P3 "venture fund"
    # (title order); then P1 with 4. The drafts' P5 and P8 (also 5) are out.
    top = pr.most_transferable(view, n=4)
    assert list(top["practice_id"]) == ["P7", "P2", "P3", "P1"]
    assert list(top["transferability"]) == [5, 5, 5, 4]
    assert list(pr.most_transferable(view, n=2)["practice_id"]) == ["P7", "P2"]
    assert "officer_pseudonym" in top.columns


def test_reported_by_several(view):
    several = pr.reported_by_several(view)
    # MUC "open lab days": P1 (E1, LYO-1) and P2 (E2, BCN-1) -> 2 reports, 2 officers.
    # MUC "venture fund": P3 (E1) and P6 (E5), both LYO-1 -> 2 reports, 1 officer.
    # P5 (draft) would have made a third "open lab days" report.
    assert several.to_dict("records") == [
        {"host_city": "MUC", "title": "Open Lab Days", "normalised_title": "open lab days",
         "reports": 2, "officers": 2, "officer_pseudonyms": "BCN-1, LYO-1", "home_cities": "BCN, LYO",
         "themes": "research", "practice_ids": "P1, P2"},
        {"host_city": "MUC", "title": "Venture fund", "normalised_title": "venture fund",
         "reports": 2, "officers": 1, "officer_pseudonyms": "LYO-1", "home_cities": "LYO",
         "themes": "capital", "practice_ids": "P3, P6"},
    ]
    assert pr.reported_by_several(view, min_reports=3).empty


def test_same_title_in_two_host_cities_is_not_several(view, exchanges_view, practices):
    # "Cluster passport" also reported from MUC: one report per city, so not listed.
    extra = pd.concat([practices, practices.iloc[[3]].assign(practice_id="P9", exchange_id="E2")],
                      ignore_index=True)
    several = pr.reported_by_several(pr.practices_view(extra, exchanges_view))
    assert "cluster passport" not in set(several["normalised_title"])


def test_normalise_title():
    titles = pd.Series(["  Open\tLab  DAYS ", "Straße"])
    assert pr.normalise_title(titles).tolist() == ["open lab days", "strasse"]


def test_who_learns_from_whom(view, programme):
    # LYO learnt 3 practices in MUC (P1, P3, P6) and 2 in HEL (P4, P7); BCN 1 in MUC (P2).
    flows = pr.who_learns_from_whom(view, programme)
    assert flows.to_dict("records") == [
        {"home_city": "LYO", "host_city": "MUC", "practices": 3},
        {"home_city": "LYO", "host_city": "HEL", "practices": 2},
        {"home_city": "BCN", "host_city": "MUC", "practices": 1},
    ]
    matrix = pr.who_learns_from_whom_matrix(view, programme)
    assert matrix.shape == (10, 10)
    assert matrix.loc["LYO", "MUC"] == 3 and matrix.loc["GOT", "MUC"] == 0  # GOT's was a draft


def test_gap_coverage(view, programme):
    coverage = pr.gap_coverage(view, programme)
    assert list(coverage.columns) == [*THEMES, "themes_covered", "coverage_share"]
    assert list(coverage.index) == PARTNERS
    # LYO brought back research, capital (x2), policy, cluster_to_cluster -> 4 of 7 gaps.
    assert coverage.loc["LYO", THEMES].tolist() == [1, 0, 2, 1, 0, 1, 0]
    assert coverage.loc["LYO", "themes_covered"] == 4
    assert coverage.loc["LYO", "coverage_share"] == pytest.approx(4 / 7)
    assert coverage.loc["BCN", "coverage_share"] == pytest.approx(1 / 7)
    assert coverage.loc["GOT", "themes_covered"] == 0  # draft only


def test_syntheses_of_an_empty_view(view, programme, model):
    empty = view.iloc[0:0]
    assert pr.theme_by_host(empty, programme).to_numpy().sum() == 0
    assert pr.theme_by_phase(empty, programme, model).shape == (7, 5)
    assert pr.most_transferable(empty).empty
    assert pr.reported_by_several(empty).empty
    assert pr.who_learns_from_whom(empty, programme).empty
    assert pr.gap_coverage(empty, programme)["themes_covered"].sum() == 0


# ---------------------------------------------------------------- figure
def test_themes_by_host_figure(view, programme):
    fig = themes_by_host_figure(pr.theme_by_host(view, programme), programme.theme_labels)
    ax = fig.axes[0]
    assert ax.get_title() == "Best-practice themes by host city"
    assert ax.get_ylabel() == "Number of practices"
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["Research gap", "Education gap"]


def test_themes_by_host_figure_is_byte_identical(view, programme, tmp_path):
    table = pr.theme_by_host(view, programme)
    for folder in ("a", "b"):
        save_figure(themes_by_host_figure(table, programme.theme_labels), tmp_path / folder, "themes")
    for ext in ("png", "svg"):
        assert (tmp_path / "a" / f"themes.{ext}").read_bytes() == (tmp_path / "b" / f"themes.{ext}").read_bytes()


def test_themes_by_host_figure_survives_markup_in_names(tmp_path):
    # A "$" pair would be parsed as maths (and "\foo" makes matplotlib fail); markup must stay text.
    table = pd.DataFrame({r"cost $\foo$ <script>alert(1)</script>": [1, 2]},
                         index=pd.Index(["A$B", "<b>X</b>"], name="host_city"))
    paths = save_figure(themes_by_host_figure(table, title="Themes $x$ <i>"), tmp_path, "markup")
    svg = paths[1].read_text(encoding="utf-8")
    # Every label is in the file, as escaped text ("$" kept, not read as maths); no live tag.
    # (the legend label is wrapped onto two lines, each its own text element)
    assert "<!-- Cost $\\foo$ -->" in svg and "<!-- &lt;script&gt;alert(1)&lt;/script&gt; -->" in svg
    assert "<!-- &lt;b&gt;X&lt;/b&gt; -->" in svg and "<!-- A$B -->" in svg
    assert "<!-- Themes $x$ &lt;i&gt; -->" in svg
    assert "<script" not in svg and "<b>" not in svg and "<i>" not in svg
