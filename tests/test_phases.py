"""Cluster-phase assessment on hand-made scores (max score 2, threshold 0.8).

Criteria per phase: initiation INI-1..4 (max 8 points), pilot PIL-1..7 (14),
establishment EST-1..9 (18), sustainability SUS-1..7 (14).

C1 (Lyon)
  round 1, 2009-09-15: INI all 2 -> 8/8 = 100% reached.
      PIL-1..4 = 2, PIL-5 = 1, PIL-6 = 1, PIL-7 not scored -> 10/14 = 71% < 80%
      -> placed in pilot; missing PIL-5 (partly met), PIL-6 (partly met), PIL-7 (not scored);
      recommendation = pilot process support. Also "PIL-99" (unknown criterion, ignored).
  round 2, 2010-03-10: INI all 2, PIL all 2 (14/14), EST-1 = 2, EST-2 = 1, rest not scored
      -> EST 3/18 = 17% -> placed in establishment; movement pilot -> establishment = +1.
C2 (Munich)
  round 1, 2010-01-20: INI all 2; PIL all 2 but PIL-7 = 1 -> 13/14 = 93%;
      EST-1..7 = 2, EST-8 = 1, EST-9 = 1 -> 16/18 = 89%; SUS all 2 but SUS-7 = 0 -> 12/14 = 86%.
      No phase below 80% -> placed in the last phase, sustainability; missing SUS-7 (not met).
  round 2, 2010-11-05: INI all 2, PIL all 2, EST-1..5 = 2, EST-6..9 = 0 -> 10/18 = 56%
      -> establishment; movement sustainability -> establishment = -1 (falls back).
C3 (Lyon)
  round 1, 2010-02-01: INI-1 = 2, INI-2 = 1 -> 3/8 = 37.5% -> initiation.
  round 2, 2010-06-01: INI-1..3 = 2, INI-4 = 0 -> 6/8 = 75% -> still initiation; movement 0.
  2010-04-01: only "XYZ-1" (unknown) -> ignored, and it does not make a round.
Unknown criterion rows: PIL-99 and XYZ-1 -> 2.
"""
import pandas as pd
import pytest

from clusnet_analysis.analysis import phases as ph
from clusnet_analysis.plots.phases import phase_distribution_figure
from clusnet_analysis.plots.style import save_figure
from clusnet_analysis.rules.programme import load_programme

from clusnet_testdata import programme_file

PHASES = ["initiation", "pilot", "establishment", "sustainability"]
PARTNERS = ["LYO", "BCN", "MUC", "DTM", "LEJ", "MAN", "HEL", "BUD", "GOT", "EIN"]


def ids(prefix, n):
    return [f"{prefix}-{i}" for i in range(1, n + 1)]


def all_two(prefix, n):
    return dict.fromkeys(ids(prefix, n), 2)


def round_rows(cluster_id, date, scores):
    return pd.DataFrame({
        "cluster_id": cluster_id,
        "assessed_on": pd.Timestamp(date),
        "assessor": "assessor A",
        "criterion_id": list(scores),
        "score": pd.array(list(scores.values()), dtype="Int64"),
    })


@pytest.fixture()
def assessments():
    rounds = [
        round_rows("C1", "2009-09-15", {**all_two("INI", 4), "PIL-1": 2, "PIL-2": 2, "PIL-3": 2, "PIL-4": 2,
                                        "PIL-5": 1, "PIL-6": 1, "PIL-99": 2}),
        round_rows("C1", "2010-03-10", {**all_two("INI", 4), **all_two("PIL", 7), "EST-1": 2, "EST-2": 1}),
        round_rows("C2", "2010-01-20", {**all_two("INI", 4), **all_two("PIL", 7), "PIL-7": 1,
                                        **all_two("EST", 9), "EST-8": 1, "EST-9": 1,
                                        **all_two("SUS", 7), "SUS-7": 0}),
        round_rows("C2", "2010-11-05", {**all_two("INI", 4), **all_two("PIL", 7), **all_two("EST", 5),
                                        "EST-6": 0, "EST-7": 0, "EST-8": 0, "EST-9": 0}),
        round_rows("C3", "2010-02-01", {"INI-1": 2, "INI-2": 1}),
        round_rows("C3", "2010-04-01", {"XYZ-1": 2}),
        round_rows("C3", "2010-06-01", {"INI-1": 2, "INI-2": 2, "INI-3": 2, "INI-4": 0}),
    ]
    # Shuffled on purpose: results must not depend on input order.
    return pd.concat(rounds, ignore_index=True).iloc[::-1].reset_index(drop=True)


@pytest.fixture()
def clusters():
    return pd.DataFrame({
        "cluster_id": ["C1", "C2", "C3", "C4"],
        "name": ["Lyon Biotech", "Munich <b>Mobility</b>", "Lyon $Games$", "Barcelona Design"],
        "city": ["LYO", "MUC", "LYO", "BCN"],
        "sector": ["health", "automotive", "games", "design"],
    })


def test_unknown_criteria_are_ignored_and_counted(assessments, model):
    unknown = ph.unknown_criteria(assessments, model)
    assert sorted(unknown["criterion_id"]) == ["PIL-99", "XYZ-1"]
    assert unknown.columns.tolist() == assessments.columns.tolist() and unknown.index.tolist() == [0, 1]
    assert ph.criterion_scores(assessments, model).attrs["unknown_criteria"] == 2


def test_rounds_numbered_per_cluster_in_date_order(assessments, model):
    rounds = ph.assessment_rounds(assessments, model)
    assert rounds.assign(assessed_on=rounds["assessed_on"].dt.strftime("%Y-%m-%d")).to_dict("records") == [
        {"cluster_id": "C1", "round": 1, "assessed_on": "2009-09-15"},
        {"cluster_id": "C1", "round": 2, "assessed_on": "2010-03-10"},
        {"cluster_id": "C2", "round": 1, "assessed_on": "2010-01-20"},
        {"cluster_id": "C2", "round": 2, "assessed_on": "2010-11-05"},
        {"cluster_id": "C3", "round": 1, "assessed_on": "2010-02-01"},
        {"cluster_id": "C3", "round": 2, "assessed_on": "2010-06-01"},  # 2010-04-01 had only XYZ-1
    ]


def test_criterion_scores_cover_all_27_criteria_per_round(assessments, model):
    scores = ph.criterion_scores(assessments, model)
    assert len(scores) == 6 * 27
    c1 = scores.loc[(scores["cluster_id"] == "C1") & (scores["round"] == 1)].set_index("criterion_id")
    assert c1.loc["PIL-5", "score"] == 1 and pd.isna(c1.loc["PIL-7", "score"])
    assert not c1.loc["PIL-7", "scored"] and c1.loc["PIL-7", "points"] == 0


def test_phase_completion(assessments, model, programme):
    completion = ph.phase_completion(assessments, model, programme)
    c1r1 = completion.loc[(completion["cluster_id"] == "C1") & (completion["round"] == 1)]
    assert list(c1r1["phase"]) == PHASES
    assert list(c1r1["criteria"]) == [4, 7, 9, 7]
    assert list(c1r1["criteria_scored"]) == [4, 6, 0, 0]
    assert list(c1r1["points"]) == [8, 10, 0, 0]
    assert list(c1r1["max_points"]) == [8, 14, 18, 14]
    assert c1r1["completion"].tolist() == pytest.approx([1.0, 10 / 14, 0.0, 0.0])
    assert list(c1r1["reached"]) == [True, False, False, False]
    c2r1 = completion.loc[(completion["cluster_id"] == "C2") & (completion["round"] == 1)]
    assert c2r1["completion"].tolist() == pytest.approx([1.0, 13 / 14, 16 / 18, 12 / 14])
    assert completion.attrs["unknown_criteria"] == 2


def test_placements(assessments, model, programme, clusters):
    placements = ph.cluster_placements(assessments, model, programme, clusters)
    assert list(placements.columns) == [
        "cluster_id", "name", "city", "round", "assessed_on", "phase", "phase_order", "completion",
        "missing", "missing_criteria", "recommended_support", "latest"]
    assert list(zip(placements["cluster_id"], placements["round"], placements["phase"])) == [
        ("C1", 1, "pilot"), ("C1", 2, "establishment"),
        ("C2", 1, "sustainability"), ("C2", 2, "establishment"),
        ("C3", 1, "initiation"), ("C3", 2, "initiation"),
    ]
    assert placements["completion"].tolist() == pytest.approx([10 / 14, 3 / 18, 12 / 14, 10 / 18, 3 / 8, 6 / 8])
    assert list(placements["missing"]) == [3, 8, 1, 4, 3, 1]
    assert placements.loc[0, "missing_criteria"] == "PIL-5, PIL-6, PIL-7"
    assert placements.loc[2, "missing_criteria"] == "SUS-7"
    pilot_support = "; ".join(model.phase("pilot").process_support)
    assert placements.loc[0, "recommended_support"] == pilot_support
    assert list(placements["latest"]) == [False, True, False, True, False, True]
    assert list(placements["city"]) == ["LYO", "LYO", "MUC", "MUC", "LYO", "LYO"]
    assert placements.attrs["unknown_criteria"] == 2


def test_missing_criteria_with_text(assessments, model, programme):
    missing = ph.missing_criteria(assessments, model, programme)
    c1r1 = missing.loc[(missing["cluster_id"] == "C1") & (missing["round"] == 1)]
    assert c1r1[["criterion_id", "status"]].to_dict("records") == [
        {"criterion_id": "PIL-5", "status": "partly met"},
        {"criterion_id": "PIL-6", "status": "partly met"},
        {"criterion_id": "PIL-7", "status": "not scored"},
    ]
    assert c1r1["criterion"].iloc[2] == "Financing solutions for the first step of creating a cluster"
    c2r1 = missing.loc[(missing["cluster_id"] == "C2") & (missing["round"] == 1)]
    assert c2r1[["criterion_id", "score", "status"]].to_dict("records") == [
        {"criterion_id": "SUS-7", "score": 0.0, "status": "not met"}]


def test_recommended_support_one_row_per_item(assessments, model, programme):
    placements = ph.cluster_placements(assessments, model, programme)
    support = ph.recommended_support(ph.latest_placements(placements), model)
    c1 = support.loc[support["cluster_id"] == "C1"]
    assert list(c1["support"]) == list(model.phase("establishment").process_support)
    assert list(c1["item"]) == list(range(1, 7))


def test_movement(assessments, model, programme):
    movement = ph.phase_movement(ph.cluster_placements(assessments, model, programme))
    assert movement[["cluster_id", "from_round", "to_round", "from_phase", "to_phase", "steps", "direction"]
                    ].to_dict("records") == [
        {"cluster_id": "C1", "from_round": 1, "to_round": 2, "from_phase": "pilot",
         "to_phase": "establishment", "steps": 1, "direction": "up"},
        {"cluster_id": "C2", "from_round": 1, "to_round": 2, "from_phase": "sustainability",
         "to_phase": "establishment", "steps": -1, "direction": "down"},
        {"cluster_id": "C3", "from_round": 1, "to_round": 2, "from_phase": "initiation",
         "to_phase": "initiation", "steps": 0, "direction": "same"},
    ]
    assert movement.loc[1, "from_date"] == pd.Timestamp("2010-01-20")


def test_phase_distribution_latest_round(assessments, model, programme, clusters):
    placements = ph.cluster_placements(assessments, model, programme, clusters)
    distribution = ph.phase_distribution(placements, model, programme)
    assert list(distribution.columns) == PHASES
    assert list(distribution.index) == PARTNERS
    # Latest: C1 establishment, C3 initiation (both LYO); C2 establishment (MUC).
    assert distribution.loc["LYO"].tolist() == [1, 0, 1, 0]
    assert distribution.loc["MUC"].tolist() == [0, 0, 1, 0]
    assert distribution.loc["BCN"].tolist() == [0, 0, 0, 0]  # C4 never assessed


def test_phase_distribution_per_round(assessments, model, programme, clusters):
    placements = ph.cluster_placements(assessments, model, programme, clusters)
    by_round = ph.phase_distribution(placements, model, programme, by_round=True)
    assert by_round.loc[(1, "LYO")].tolist() == [1, 1, 0, 0]  # C3 initiation, C1 pilot
    assert by_round.loc[(1, "MUC")].tolist() == [0, 0, 0, 1]  # C2 sustainability
    assert by_round.loc[(2, "LYO")].tolist() == [1, 0, 1, 0]
    assert by_round.loc[(2, "MUC")].tolist() == [0, 0, 1, 0]
    assert len(by_round) == 2 * 10


def test_distribution_needs_cities(assessments, model, programme):
    with pytest.raises(ValueError, match="clusters"):
        ph.phase_distribution(ph.cluster_placements(assessments, model, programme), model)


def test_cluster_missing_from_clusters_table_is_unknown_city(assessments, model, programme, clusters):
    placements = ph.cluster_placements(assessments, model, programme, clusters.iloc[[0, 2]])
    assert set(placements.loc[placements["cluster_id"] == "C2", "city"]) == {"unknown"}
    assert ph.phase_distribution(placements, model, programme).loc["unknown"].tolist() == [0, 0, 1, 0]


def test_two_assessors_same_day_are_averaged(model, programme):
    # INI-1 scored 2 and 1 on the same day -> 1.5; INI-2..4 = 2 -> 7.5/8 = 93.75%: initiation reached.
    two = pd.concat([round_rows("D", "2010-05-05", {**all_two("INI", 4)}),
                     round_rows("D", "2010-05-05", {"INI-1": 1}).assign(assessor="assessor B")])
    completion = ph.phase_completion(two, model, programme)
    assert completion.loc[0, "points"] == 7.5
    assert completion.loc[0, "reached"]
    assert ph.cluster_placements(two, model, programme).loc[0, "phase"] == "pilot"


def test_no_assessments(model, programme, clusters):
    empty = round_rows("X", "2010-01-01", {}).iloc[0:0]
    placements = ph.cluster_placements(empty, model, programme, clusters)
    assert placements.empty
    assert ph.phase_movement(placements).empty
    assert ph.phase_distribution(placements, model, programme).to_numpy().sum() == 0


# ---------------------------------------------------------------- exactly at the threshold
@pytest.fixture()
def programme_075(tmp_path):
    """CLUSNET rules with the phase threshold set to 0.75 in the programme file.

    (With max score 2 no phase of this model can score exactly 80%: 0.8 x 8, 14 or 18
    points is never a whole number. 75% is 6 of initiation's 8 points.)
    """
    return load_programme(programme_file(tmp_path / "programme.toml", cluster_model__threshold=0.75))


def test_a_phase_exactly_at_the_threshold_is_reached(model, programme_075, clusters):
    assert programme_075.phase_threshold == 0.75
    scores = pd.concat([
        # T1: INI 6/8 = 75% (exactly), PIL 14/14, EST 13/18 = 72% (just below) -> establishment
        round_rows("T1", "2010-03-01", {"INI-1": 2, "INI-2": 2, "INI-3": 2, "INI-4": 0, **all_two("PIL", 7),
                                        **all_two("EST", 6), "EST-7": 1, "EST-8": 0, "EST-9": 0}),
        # T2: INI 5/8 = 62.5% -> initiation
        round_rows("T2", "2010-03-01", {"INI-1": 2, "INI-2": 2, "INI-3": 1, "INI-4": 0}),
    ], ignore_index=True)
    completion = ph.phase_completion(scores, model, programme_075)
    t1 = completion.loc[completion["cluster_id"] == "T1"]
    assert t1["completion"].tolist() == pytest.approx([6 / 8, 1.0, 13 / 18, 0.0])
    assert t1["reached"].tolist() == [True, True, False, False]
    assert completion.loc[completion["cluster_id"] == "T2", "reached"].tolist() == [False, False, False, False]

    placements = ph.cluster_placements(scores, model, programme_075)
    assert placements[["cluster_id", "phase", "missing"]].values.tolist() == [
        ["T1", "establishment", 3], ["T2", "initiation", 2]]
    missing = ph.missing_criteria(scores, model, programme_075)
    assert missing.loc[missing["cluster_id"] == "T1", "criterion_id"].tolist() == ["EST-7", "EST-8", "EST-9"]


def test_the_threshold_comes_from_the_programme_file(assessments, model, programme, programme_075, clusters):
    # C3's second round: initiation 6/8 = 75%. Below CLUSNET's 80%, so still in initiation;
    # a programme with a 75% threshold places it in pilot (nothing of pilot scored yet).
    def c3_latest(rules):
        placed = ph.latest_placements(ph.cluster_placements(assessments, model, rules, clusters))
        return placed.loc[placed["cluster_id"] == "C3", ["phase", "completion", "missing"]].values.tolist()

    assert c3_latest(programme) == [["initiation", 0.75, 1]]
    assert c3_latest(programme_075) == [["pilot", 0.0, 7]]


# ---------------------------------------------------------------- figure
def test_phase_distribution_figure(assessments, model, programme, clusters):
    placements = ph.cluster_placements(assessments, model, programme, clusters)
    fig = phase_distribution_figure(ph.phase_distribution(placements, model, programme),
                                    {p.id: p.name for p in model.phases})
    ax = fig.axes[0]
    assert ax.get_title() == "Cluster phases by city (latest assessment)"
    assert ax.get_xlabel() == "Number of clusters"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Initiation", "Pilot", "Establishment", "Sustainability"]
    assert [t.get_text() for t in ax.get_yticklabels()][:3] == ["LYO", "BCN", "MUC"]


def test_phase_distribution_figure_is_byte_identical(assessments, model, programme, clusters, tmp_path):
    placements = ph.cluster_placements(assessments, model, programme, clusters)
    distribution = ph.phase_distribution(placements, model, programme)
    for folder in ("a", "b"):
        save_figure(phase_distribution_figure(distribution), tmp_path / folder, "phases")
    for ext in ("png", "svg"):
        assert (tmp_path / "a" / f"phases.{ext}").read_bytes() == (tmp_path / "b" / f"phases.{ext}").read_bytes()


def test_phase_distribution_figure_survives_markup(tmp_path):
    distribution = pd.DataFrame({"initiation": [1], "pilot": [0]},
                                index=pd.Index([r"$\foo$ <script>x</script>"], name="city"))
    paths = save_figure(phase_distribution_figure(distribution, title="A $b$"), tmp_path, "markup")
    svg = paths[1].read_text(encoding="utf-8")
    # The label is in the file, as escaped text ("$" kept, not read as maths); no live tag.
    assert "<!-- $\\foo$ &lt;script&gt;x&lt;/script&gt; -->" in svg
    assert "<!-- A $b$ -->" in svg
    assert "<script" not in svg
