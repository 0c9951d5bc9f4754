"""Cluster-phase assessment: where each cluster stands in the cluster model, what is missing, which support fits.

An assessor scores a cluster on the model's result criteria (0 not met, 1 partly,
2 fully met). All scores of one cluster on one ``assessed_on`` date form an
*assessment round*; rounds are numbered 1, 2, ... per cluster in date order.

For each round and phase: ``completion = points / (max_score x criteria of the phase)``,
where a criterion that was not scored counts as 0 (and is listed as missing).
The cluster is *placed* in the first phase (model order) whose completion is below
``programme.phase_threshold`` (0.8); when every phase reaches it, in the last phase.
The model's process support for that phase is the recommendation.

Scores for criterion ids the model does not know are a loader problem; here they
are ignored and counted: every frame built from assessments carries the count in
``frame.attrs["unknown_criteria"]``, and :func:`unknown_criteria` lists the rows.
"""
from __future__ import annotations

import pandas as pd

from clusnet_analysis.analysis.order import city_order

from clusnet_analysis.rules.programme import ClusterModel, Programme

UNKNOWN_CITY = "unknown"


# ---------------------------------------------------------------- criteria and rounds
def model_criteria(model: ClusterModel) -> pd.DataFrame:
    """The model's result criteria: phase, phase_order, criterion_id, criterion (English text), criterion_order."""
    return pd.DataFrame(
        [(c.phase, model.phase(c.phase).order, c.id, c.text, i)
         for i, c in enumerate(model.criteria, start=1)],
        columns=["phase", "phase_order", "criterion_id", "criterion", "criterion_order"],
    )


def unknown_criteria(assessments: pd.DataFrame, model: ClusterModel) -> pd.DataFrame:
    """Assessment rows whose criterion_id the model does not know (ignored by every analysis here)."""
    unknown = ~assessments["criterion_id"].isin(model.criterion_ids)
    return assessments.loc[unknown].reset_index(drop=True)


def _known(assessments: pd.DataFrame, model: ClusterModel) -> tuple[pd.DataFrame, int]:
    known = assessments["criterion_id"].isin(model.criterion_ids)
    # An undated score cannot belong to a round.
    usable = known & assessments["assessed_on"].notna()
    return assessments.loc[usable], int((~known).sum())


def _with_count(frame: pd.DataFrame, unknown: int) -> pd.DataFrame:
    frame.attrs["unknown_criteria"] = unknown
    return frame


def assessment_rounds(assessments: pd.DataFrame, model: ClusterModel) -> pd.DataFrame:
    """One row per cluster and assessment round: cluster_id, round (1, 2, ... in date order), assessed_on."""
    known, unknown = _known(assessments, model)
    rounds = (known.loc[:, ["cluster_id", "assessed_on"]].drop_duplicates()
              .sort_values(["cluster_id", "assessed_on"], kind="stable"))
    rounds["round"] = rounds.groupby("cluster_id").cumcount().add(1).astype("int64")
    return _with_count(rounds.loc[:, ["cluster_id", "round", "assessed_on"]].reset_index(drop=True), unknown)


def criterion_scores(assessments: pd.DataFrame, model: ClusterModel) -> pd.DataFrame:
    """Every model criterion for every cluster and round, with its score (NaN when not scored).

    Columns: cluster_id, round, assessed_on, phase, phase_order, criterion_id,
    criterion, criterion_order, score (float; when two assessors scored the same
    criterion on the same day, their mean), scored (bool), points (score, 0 when not scored).
    """
    known, unknown = _known(assessments, model)
    rounds = assessment_rounds(assessments, model)
    grid = rounds.merge(model_criteria(model), how="cross")
    scores = (known.astype({"score": "Float64", "criterion_id": "str"})
              .groupby(["cluster_id", "assessed_on", "criterion_id"], sort=True)["score"].mean()
              .astype("float64").reset_index())
    table = grid.merge(scores, on=["cluster_id", "assessed_on", "criterion_id"], how="left")
    table["scored"] = table["score"].notna()
    table["points"] = table["score"].fillna(0.0)
    table = table.sort_values(["cluster_id", "round", "criterion_order"], kind="stable")
    return _with_count(table.reset_index(drop=True), unknown)


# ---------------------------------------------------------------- completion and placement
def phase_completion(assessments: pd.DataFrame, model: ClusterModel, programme: Programme) -> pd.DataFrame:
    """Completion of each phase's result criteria per cluster and round.

    Columns: cluster_id, round, assessed_on, phase, phase_order, criteria (in the
    phase), criteria_scored, points, max_points, completion (0..1), reached
    (completion >= programme.phase_threshold). Rows: cluster, round, model phase order.
    """
    scores = criterion_scores(assessments, model)
    keys = ["cluster_id", "round", "assessed_on", "phase", "phase_order"]
    completion = scores.groupby(keys, sort=False).agg(
        criteria=("criterion_id", "size"),
        criteria_scored=("scored", "sum"),
        points=("points", "sum"),
    ).reset_index()
    completion["criteria"] = completion["criteria"].astype("int64")
    completion["criteria_scored"] = completion["criteria_scored"].astype("int64")
    completion["max_points"] = (completion["criteria"] * model.max_score).astype("int64")
    completion["completion"] = (completion["points"] / completion["max_points"]).astype("float64")
    # A hair of tolerance so 12/15 counts as exactly 80% whatever the float rounding.
    completion["reached"] = completion["completion"] >= programme.phase_threshold - 1e-9
    completion = completion.sort_values(["cluster_id", "round", "phase_order"], kind="stable")
    return _with_count(completion.reset_index(drop=True), scores.attrs["unknown_criteria"])


def _placement_rows(completion: pd.DataFrame) -> pd.DataFrame:
    """First phase below the threshold per round; the last phase when all are reached."""
    keys = ["cluster_id", "round"]
    first_below = completion.loc[~completion["reached"]].groupby(keys, sort=False).head(1)
    last_phase = completion.groupby(keys, sort=False).tail(1)
    all_reached = ~last_phase.set_index(keys).index.isin(first_below.set_index(keys).index)
    placed = pd.concat([first_below, last_phase.loc[all_reached]])
    return placed.sort_values(keys, kind="stable").reset_index(drop=True)


def _status(score: pd.Series, max_score: int) -> pd.Series:
    status = pd.Series("partly met", index=score.index, dtype="str")
    status = status.mask(score.isna(), "not scored").mask(score == 0, "not met")
    return status.where(score.isna() | (score < max_score), "met")


def missing_criteria(assessments: pd.DataFrame, model: ClusterModel, programme: Programme) -> pd.DataFrame:
    """Criteria of the placement phase scored below the maximum (or not scored), per cluster and round.

    Columns: cluster_id, round, assessed_on, phase, criterion_id, criterion
    (English text), score (NaN when not scored), status ("not scored", "not met", "partly met").
    """
    scores = criterion_scores(assessments, model)
    placed = _placement_rows(phase_completion(assessments, model, programme))
    in_phase = scores.merge(placed.loc[:, ["cluster_id", "round", "phase"]],
                            on=["cluster_id", "round", "phase"], how="inner")
    missing = in_phase.loc[~(in_phase["score"] >= model.max_score)].copy()
    missing["status"] = _status(missing["score"], model.max_score)
    missing = missing.sort_values(["cluster_id", "round", "criterion_order"], kind="stable")
    columns = ["cluster_id", "round", "assessed_on", "phase", "criterion_id", "criterion", "score", "status"]
    return _with_count(missing.loc[:, columns].reset_index(drop=True), scores.attrs["unknown_criteria"])


def cluster_placements(assessments: pd.DataFrame, model: ClusterModel, programme: Programme,
                       clusters: pd.DataFrame | None = None) -> pd.DataFrame:
    """The phase each cluster is in after each assessment round, with what is missing and what support fits.

    Columns: cluster_id, [name, city when ``clusters`` is given; city "unknown"
    for clusters not in it], round, assessed_on, phase, phase_order, completion
    (of that phase), missing (number of its criteria below the maximum),
    missing_criteria ("PIL-3, PIL-5"), recommended_support (the model's process
    support for the phase, joined with "; "), latest (the cluster's last round).
    """
    completion = phase_completion(assessments, model, programme)
    placed = _placement_rows(completion)
    missing = missing_criteria(assessments, model, programme)
    missing_ids = (missing.groupby(["cluster_id", "round"], sort=False)
                   .agg(missing=("criterion_id", "size"),
                        missing_criteria=("criterion_id", ", ".join))
                   .reset_index())
    placed = placed.merge(missing_ids, on=["cluster_id", "round"], how="left")
    placed["missing"] = placed["missing"].fillna(0).astype("int64")
    placed["missing_criteria"] = placed["missing_criteria"].fillna("").astype("str")
    support = {p.id: "; ".join(p.process_support) for p in model.phases}
    placed["recommended_support"] = placed["phase"].map(support).astype("str")
    placed["latest"] = placed["round"] == placed.groupby("cluster_id")["round"].transform("max")
    columns = ["cluster_id", "round", "assessed_on", "phase", "phase_order", "completion",
               "missing", "missing_criteria", "recommended_support", "latest"]
    placed = placed.loc[:, columns]
    if clusters is not None:
        info = clusters.loc[:, ["cluster_id", "name", "city"]].drop_duplicates("cluster_id")
        placed = placed.merge(info, on="cluster_id", how="left")
        placed["city"] = placed["city"].fillna(UNKNOWN_CITY)
        placed = placed.loc[:, ["cluster_id", "name", "city", *columns[1:]]]
    return _with_count(placed.reset_index(drop=True), completion.attrs["unknown_criteria"])


def latest_placements(placements: pd.DataFrame) -> pd.DataFrame:
    """Each cluster's placement in its most recent round."""
    return placements.loc[placements["latest"]].reset_index(drop=True)


def recommended_support(placements: pd.DataFrame, model: ClusterModel) -> pd.DataFrame:
    """The model's process support for each placement, one row per support item.

    Columns: cluster_id, round, phase, item (1, 2, ...), support.
    """
    items = pd.DataFrame(
        [(p.id, i, text) for p in model.phases for i, text in enumerate(p.process_support, start=1)],
        columns=["phase", "item", "support"],
    )
    support = placements.loc[:, ["cluster_id", "round", "phase"]].merge(items, on="phase", how="inner")
    return support.sort_values(["cluster_id", "round", "item"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- movement and distribution
def phase_movement(placements: pd.DataFrame) -> pd.DataFrame:
    """Movement between consecutive rounds of each cluster.

    Columns: cluster_id, from_round, to_round, from_date, to_date, from_phase,
    to_phase, steps (phases moved: +1 one phase up, -1 one phase back, 0 same),
    direction ("up", "down", "same"). The model says development is not linear,
    so falling back is expected and shown.
    """
    ordered = placements.sort_values(["cluster_id", "round"], kind="stable")
    previous = ordered.groupby("cluster_id", sort=False)[["round", "assessed_on", "phase", "phase_order"]].shift(1)
    has_previous = previous["round"].notna()
    movement = pd.DataFrame({
        "cluster_id": ordered["cluster_id"],
        "from_round": previous["round"],
        "to_round": ordered["round"],
        "from_date": previous["assessed_on"],
        "to_date": ordered["assessed_on"],
        "from_phase": previous["phase"],
        "to_phase": ordered["phase"],
        "steps": ordered["phase_order"] - previous["phase_order"],
    }).loc[has_previous]
    movement = movement.astype({"from_round": "int64", "to_round": "int64", "steps": "int64"})
    movement["direction"] = pd.Series("same", index=movement.index, dtype="str").mask(
        movement["steps"] > 0, "up").mask(movement["steps"] < 0, "down")
    movement = movement.reset_index(drop=True)
    movement.attrs = dict(placements.attrs)
    return movement


def _city_order(cities: pd.Series, programme: Programme | None) -> list[str]:
    return city_order(programme, cities)


def phase_distribution(placements: pd.DataFrame, model: ClusterModel,
                       programme: Programme | None = None, by_round: bool = False) -> pd.DataFrame:
    """Number of clusters in each phase per city.

    Default: each cluster's latest round; rows = cities (every partner city in
    programme order when ``programme`` is given, then others sorted), columns =
    phases in model order. With ``by_round=True``: every round, rows = (round, city).
    ``placements`` must come from :func:`cluster_placements` called with ``clusters``.
    """
    if "city" not in placements.columns:
        raise ValueError("phase_distribution needs the cluster's city: call cluster_placements(..., clusters=clusters)")
    rows = placements if by_round else latest_placements(placements)
    cities = _city_order(rows["city"], programme)
    phases = list(model.phase_ids)
    if by_round:
        table = rows.groupby(["round", "city", "phase"]).size().unstack("phase")
        rounds = sorted(rows["round"].unique())
        index = pd.MultiIndex.from_product([rounds, cities], names=["round", "city"])
    else:
        table = rows.groupby(["city", "phase"]).size().unstack("phase")
        index = pd.Index(cities, name="city")
    table = table.reindex(index=index, columns=phases).fillna(0).astype("int64")
    table.columns.name = "phase"
    table.attrs = dict(placements.attrs)
    return table
