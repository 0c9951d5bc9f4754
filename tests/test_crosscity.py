"""Cross-city analyses, period selection and the flow figure, on a hand-made exchanges view."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from clusnet_analysis.analysis import crosscity
from clusnet_analysis.analysis.periods import counted, period_label, period_order, select_period
from clusnet_analysis.plots.flows import flow_matrix_figure
from clusnet_analysis.plots.style import save_figure
from clusnet_analysis.rules.programme import load_programme

CITIES = ["LYO", "BCN", "MUC", "GOT"]


@pytest.fixture
def programme():
    # The CLUSNET rules (3 officers per city, periods S3-S5) with four partner cities.
    return dataclasses.replace(load_programme(), partner_cities=tuple(CITIES))


@pytest.fixture
def view():
    # E4: the same officer O1 goes twice. E6 is a draft (never counted).
    # E7 starts outside every period (period NaN): only in "final".
    rows = [
        ("E1", "O1", "LYO-1", "LYO", "BCN", "S3", 5, "validated"),
        ("E2", "O2", "LYO-2", "LYO", "MUC", "S3", 5, "validated"),
        ("E3", "O3", "BCN-1", "BCN", "LYO", "S4", 5, "submitted"),
        ("E4", "O1", "LYO-1", "LYO", "BCN", "S4", 4, "validated"),
        ("E5", "O4", "MUC-1", "MUC", "GOT", "S5", 5, "validated"),
        ("E6", "O5", "GOT-1", "GOT", "LYO", "S5", 5, "draft"),
        ("E7", "O6", "BCN-2", "BCN", "MUC", None, 5, "validated"),
    ]
    df = pd.DataFrame(rows, columns=["exchange_id", "officer_id", "officer_pseudonym", "home_city",
                                     "host_city", "period", "duration_days", "status"])
    df["duration_days"] = df["duration_days"].astype("Int64")
    df["counted"] = df["status"] != "draft"
    return df


# ---------------------------------------------------------------- periods
def test_period_order(programme):
    assert period_order(programme) == ["S3", "S4", "S5", "final"]


def test_select_period_this_period_and_cumulative(view, programme):
    assert select_period(view, programme, "S4")["exchange_id"].tolist() == ["E3", "E4"]
    # cumulative S4 = S3 + S4; E7 (outside every period) is not in it
    assert select_period(view, programme, "S4", cumulative=True)["exchange_id"].tolist() == ["E1", "E2", "E3", "E4"]
    assert select_period(view, programme, "S3", cumulative=True)["exchange_id"].tolist() == ["E1", "E2"]


def test_select_period_final_is_everything(view, programme):
    # drafts are removed by counted(), not by the period
    for cumulative in (False, True):
        assert select_period(view, programme, "final", cumulative=cumulative)["exchange_id"].tolist() == [
            "E1", "E2", "E3", "E4", "E5", "E6", "E7"]


def test_select_period_unknown(view, programme):
    with pytest.raises(ValueError, match=r"unknown reporting period 'S6'; choose one of: S3, S4, S5, final"):
        select_period(view, programme, "S6")


def test_select_period_missing_column(view, programme):
    with pytest.raises(ValueError, match=r"no 'semester' column"):
        select_period(view, programme, "S3", column="semester")


def test_counted_drops_drafts(view):
    assert counted(view)["exchange_id"].tolist() == ["E1", "E2", "E3", "E4", "E5", "E7"]


def test_period_label(programme):
    assert period_label(programme, "S4") == "Semester 4 (Jan-Jun 2010)"
    assert period_label(programme, "final") == "Final report (all periods)"


# ---------------------------------------------------------------- flows
def test_flow_matrix_exchanges(view, programme):
    # counted: LYO->BCN E1,E4; LYO->MUC E2; BCN->LYO E3; MUC->GOT E5; BCN->MUC E7 (draft GOT->LYO left out)
    matrix = crosscity.flow_matrix(view, programme)
    assert matrix.index.tolist() == CITIES and matrix.columns.tolist() == CITIES
    assert matrix.index.name == "home_city" and matrix.columns.name == "host_city"
    assert matrix.to_numpy().tolist() == [
        [0, 2, 1, 0],   # LYO sends
        [1, 0, 1, 0],   # BCN
        [0, 0, 0, 1],   # MUC
        [0, 0, 0, 0],   # GOT (its only exchange is a draft)
    ]
    assert matrix.attrs["value"] == "exchanges"


def test_flow_matrix_person_days(view, programme):
    # LYO->BCN: 5 + 4 = 9 days
    matrix = crosscity.flow_matrix(view, programme, value="person_days")
    assert matrix.to_numpy().tolist() == [[0, 9, 5, 0], [5, 0, 5, 0], [0, 0, 0, 5], [0, 0, 0, 0]]


def test_flow_matrix_bad_value(view, programme):
    with pytest.raises(ValueError, match="value must be 'exchanges' or 'person_days'"):
        crosscity.flow_matrix(view, programme, value="euros")


def test_flow_matrix_all_ten_partner_cities(view):
    matrix = crosscity.flow_matrix(view, load_programme())
    assert matrix.shape == (10, 10)
    assert matrix.index.tolist() == list(load_programme().partner_cities)
    assert int(matrix.to_numpy().sum()) == 6


def test_flows_this_period_vs_cumulative(view, programme):
    this = crosscity.flow_matrix(select_period(view, programme, "S4"), programme)
    # S4 alone: E3 BCN->LYO, E4 LYO->BCN
    assert this.loc["LYO", "BCN"] == 1 and this.loc["BCN", "LYO"] == 1 and this.to_numpy().sum() == 2
    cumulative = crosscity.flow_matrix(select_period(view, programme, "S4", cumulative=True), programme)
    # S3 + S4: E1, E2, E3, E4
    assert cumulative.loc["LYO", "BCN"] == 2 and cumulative.loc["LYO", "MUC"] == 1
    assert cumulative.to_numpy().sum() == 4


def test_flows_long_columns(view, programme):
    long = crosscity.flows(view, programme)
    assert long.columns.tolist() == ["home_city", "host_city", "exchanges", "person_days"]
    assert len(long) == 16
    assert long.iloc[1].tolist() == ["LYO", "BCN", 2, 9]


def test_sent_hosted(view, programme):
    table = crosscity.sent_hosted(view, programme)
    assert table.columns.tolist() == ["city", "exchanges_sent", "exchanges_hosted", "person_days_sent",
                                      "person_days_hosted", "balance"]
    # sent: LYO E1,E2,E4; BCN E3,E7; MUC E5. hosted: LYO E3; BCN E1,E4; MUC E2,E7; GOT E5
    assert table.to_numpy().tolist() == [
        ["LYO", 3, 1, 14, 5, -2],
        ["BCN", 2, 2, 10, 9, 0],
        ["MUC", 1, 2, 5, 10, 1],
        ["GOT", 0, 1, 0, 5, 1],
    ]


def test_quota_use(view, programme):
    table = crosscity.quota_use(view, programme)
    # distinct officers: LYO {O1, O2}, BCN {O3, O6}, MUC {O4}, GOT none (O5's exchange is a draft)
    assert table["home_city"].tolist() == CITIES
    assert table["exchanges_sent"].tolist() == [3, 2, 1, 0]
    assert table["officers_sent"].tolist() == [2, 2, 1, 0]
    assert table["officers_quota"].tolist() == [3, 3, 3, 3]
    assert table["quota_use_share"].tolist() == pytest.approx([2 / 3, 2 / 3, 1 / 3, 0.0])
    assert table["places_left"].tolist() == [1, 1, 2, 3]
    assert table["partner"].tolist() == [True] * 4


def test_quota_use_lists_no_host_only_city_and_gives_non_partners_no_quota(view, programme):
    # E8: LYO visits STO (a host that is not a partner: not listed, it has no places);
    # E9: an officer from OSL (not a partner) visits BCN: listed, without a quota.
    extra = pd.DataFrame([("E8", "O2", "LYO-2", "LYO", "STO", "S5", 5, "validated", True),
                          ("E9", "O7", "OSL-1", "OSL", "BCN", "S5", 5, "submitted", True)], columns=view.columns)
    table = crosscity.quota_use(pd.concat([view, extra], ignore_index=True), programme)
    assert table["home_city"].tolist() == [*CITIES, "OSL"]
    assert table["partner"].tolist() == [True] * 4 + [False]
    assert table["exchanges_sent"].tolist() == [4, 2, 1, 0, 1]
    assert table["officers_quota"].tolist()[:4] == [3, 3, 3, 3] and pd.isna(table["officers_quota"].iat[4])
    assert pd.isna(table["quota_use_share"].iat[4]) and pd.isna(table["places_left"].iat[4])


def test_quota_use_without_an_officer_quota(view, programme):
    table = crosscity.quota_use(view, dataclasses.replace(programme, officers_per_city=None))
    assert table["officers_sent"].tolist() == [2, 2, 1, 0]
    assert table["officers_quota"].isna().all() and table["places_left"].isna().all()


def test_quota_over_use_and_cities_outside_the_partnership(view, programme):
    # LYO sends four distinct officers (quota 3): 4/3 used, no place left (never negative).
    # ROM (not a partner) sent an officer: listed after the partners, with no places (never a quota);
    # STO only hosted: it has no places to use, so it is not listed at all.
    extra = pd.DataFrame({
        "exchange_id": ["E8", "E9", "E10"], "officer_id": ["O7", "O8", "O9"],
        "officer_pseudonym": ["LYO-3", "LYO-4", "ROM-1"], "home_city": ["LYO", "LYO", "ROM"],
        "host_city": ["STO", "BCN", "LYO"], "period": ["S5", "S5", "S5"],
        "duration_days": pd.array([5, 5, 5], dtype="Int64"), "status": "validated", "counted": True})
    table = crosscity.quota_use(pd.concat([view, extra], ignore_index=True), programme).set_index("home_city")
    assert table.index.tolist() == [*CITIES, "ROM"]
    assert table.loc["LYO", ["exchanges_sent", "officers_sent", "places_left"]].tolist() == [5, 4, 0]
    assert table.loc["LYO", "quota_use_share"] == pytest.approx(4 / 3)
    assert table.loc["ROM", ["exchanges_sent", "officers_sent"]].tolist() == [1, 1]
    assert not table.loc["ROM", "partner"]
    assert pd.isna(table.loc["ROM", "officers_quota"]) and pd.isna(table.loc["ROM", "places_left"])


def test_reciprocity(view, programme):
    pairs = crosscity.reciprocity(view, programme)
    assert pairs.columns.tolist() == ["city_a", "city_b", "a_to_b", "b_to_a", "connected", "reciprocal"]
    assert pairs.to_numpy().tolist() == [
        ["LYO", "BCN", 2, 1, True, True],
        ["LYO", "MUC", 1, 0, True, False],
        ["LYO", "GOT", 0, 0, False, False],   # GOT->LYO is a draft
        ["BCN", "MUC", 1, 0, True, False],
        ["BCN", "GOT", 0, 0, False, False],
        ["MUC", "GOT", 1, 0, True, False],
    ]


def test_reciprocity_one_visit_each_way_and_only_the_second_city_visiting(view, programme):
    # The draft GOT->LYO now counts (only the second city of the pair visits: connected, not
    # reciprocal), and MUC visits BCN once, answering BCN's one visit (1 each way: reciprocal).
    more = view.assign(counted=True)
    more = pd.concat([more, more.iloc[[6]].assign(exchange_id="E8", home_city="MUC", host_city="BCN")],
                     ignore_index=True)
    pairs = crosscity.reciprocity(more, programme).set_index(["city_a", "city_b"])
    assert pairs.loc[("LYO", "GOT")].tolist() == [0, 1, True, False]
    assert pairs.loc[("BCN", "MUC")].tolist() == [1, 1, True, True]
    assert crosscity.connected_pair_share(more, programme) == pytest.approx(5 / 6)
    assert crosscity.reciprocal_share(more, programme) == pytest.approx(2 / 5)
    empty = more.iloc[0:0]
    assert np.isnan(crosscity.reciprocal_share(empty, programme))
    assert crosscity.connected_pair_share(empty, programme) == 0.0


def test_shares_and_summary(view, programme):
    # 4 of C(4,2) = 6 pairs connected; 1 of those 4 reciprocal
    assert crosscity.connected_pair_share(view, programme) == pytest.approx(4 / 6)
    assert crosscity.reciprocal_share(view, programme) == pytest.approx(0.25)
    summary = crosscity.network_summary(view, programme)
    assert summary.iloc[0].to_dict() == pytest.approx({
        "partner_pairs": 6, "connected_pairs": 4, "connected_share": 4 / 6,
        "reciprocal_pairs": 1, "reciprocal_share": 0.25})


def test_summary_cumulative_s4(view, programme):
    # S3 + S4: LYO-BCN both ways, LYO-MUC one way -> 2 of 6 connected, 1 of 2 reciprocal
    summary = crosscity.network_summary(select_period(view, programme, "S4", cumulative=True), programme)
    assert summary.iloc[0].to_dict() == pytest.approx({
        "partner_pairs": 6, "connected_pairs": 2, "connected_share": 2 / 6,
        "reciprocal_pairs": 1, "reciprocal_share": 0.5})


def test_no_exchanges(view, programme):
    empty = view.iloc[0:0]
    assert crosscity.flow_matrix(empty, programme).to_numpy().sum() == 0
    assert crosscity.connected_pair_share(empty, programme) == 0.0
    assert np.isnan(crosscity.reciprocal_share(empty, programme))


def test_non_partner_city_is_kept(view, programme):
    # A host outside the partner list is a data error, but its exchange must not vanish.
    odd = pd.concat([view, view.iloc[[0]].assign(exchange_id="E8", host_city="STO")], ignore_index=True)
    matrix = crosscity.flow_matrix(odd, programme)
    assert matrix.index.tolist() == [*CITIES, "STO"]
    assert matrix.loc["LYO", "STO"] == 1


# ---------------------------------------------------------------- figure
def test_flow_matrix_figure(view, programme):
    fig = flow_matrix_figure(crosscity.flow_matrix(view, programme))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() == "Exchanges between partner cities (home → host)"
    assert ax.get_xlabel() == "Host city (receives)"
    assert ax.get_ylabel() == "Home city (sends)"
    # one annotation per cell
    assert sorted(t.get_text() for t in ax.texts).count("2") == 1 and len(ax.texts) == 16


def test_flow_matrix_figure_person_days_title(view, programme):
    fig = flow_matrix_figure(crosscity.flow_matrix(view, programme, value="person_days"))
    assert fig.axes[0].get_title() == "Person-days between partner cities (home → host)"


def test_flow_matrix_figure_is_byte_identical(view, programme, tmp_path):
    for run in ("a", "b"):
        save_figure(flow_matrix_figure(crosscity.flow_matrix(view, programme)), tmp_path / run, "flows")
    for ext in ("png", "svg"):
        assert (tmp_path / "a" / f"flows.{ext}").read_bytes() == (tmp_path / "b" / f"flows.{ext}").read_bytes()


def test_quota_use_without_a_quota(view, programme):
    """`officers_per_city = false`: officers are still counted, the quota columns stay empty."""
    import dataclasses

    no_quota = dataclasses.replace(programme, officers_per_city=None,
                                   switched_off=frozenset({"participants.officers_per_city"}))
    table = crosscity.quota_use(view, no_quota)
    assert table["officers_sent"].tolist() == [2, 2, 1, 0]
    assert table["officers_quota"].isna().all() and table["places_left"].isna().all()
    assert table["quota_use_share"].isna().all()


# ------------------------------------------------------------------ the flow matrix cut to its most active cities
def _matrix(rows, names):
    m = pd.DataFrame(rows, index=pd.Index(list(names), name="home_city"),
                     columns=pd.Index(list(names), name="host_city"))
    m.attrs["value"] = "exchanges"
    return m


def test_top_cities_matrix_by_hand():
    m = _matrix([[0, 1, 0, 0], [2, 0, 5, 0], [0, 4, 0, 1], [1, 0, 0, 0]], "ABCD")
    # sent A1 B7 C5 D1; hosted A3 B5 C5 D1 -> activity A4 B12 C10 D2: keep B, C; A and D summed.
    out = crosscity.top_cities_matrix(m, max_cities=3)
    assert list(out.index) == ["B", "C", "Other cities (2)"] == list(out.columns)
    assert (out.index.name, out.columns.name) == ("home_city", "host_city")
    assert out.loc["B"].tolist() == [0, 5, 2]          # B->B, B->C, B->(A, D)
    assert out.loc["C"].tolist() == [4, 0, 1]          # C->D
    assert out.loc["Other cities (2)"].tolist() == [1, 0, 1]   # A->B; D->A
    assert int(out.to_numpy().sum()) == int(m.to_numpy().sum())
    assert out.attrs == {"value": "exchanges", "cities": 4, "other_cities": 2}
    uncut = crosscity.top_cities_matrix(m, max_cities=4)
    assert uncut.equals(m)
    assert uncut.attrs == {"value": "exchanges", "cities": 4, "other_cities": 0}


def test_top_cities_are_ranked_by_exchanges_sent_plus_hosted():
    # A sends 1 to B, C sends 5 to B: activity A1 B6 C5. Sent alone (or sent minus hosted) would keep C.
    out = crosscity.top_cities_matrix(_matrix([[0, 1, 0], [0, 0, 0], [0, 5, 0]], "ABC"), max_cities=2)
    assert list(out.index) == ["B", "Other cities (2)"]
    assert out.to_numpy().tolist() == [[0, 0], [6, 0]]
    with pytest.raises(ValueError, match="^max_cities must be 2 or more$"):
        crosscity.top_cities_matrix(_matrix([[0, 1], [1, 0]], "AB"), max_cities=1)
