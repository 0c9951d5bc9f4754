"""Cluster phases: where each cluster stands in the cluster model, what is missing, what support fits."""
from __future__ import annotations

import pandas as pd

from clusnet_analysis.analysis import phases as an
from clusnet_analysis.ingest.transforms import assign_periods
from clusnet_analysis.sections.base import FigureSpec, Section, Table
from clusnet_analysis.sections.common import numbers, one_number, per_scope
from clusnet_analysis.sections.view import PeriodView

TITLE = "Cluster phases"


def phases(view: PeriodView) -> Section:
    prog, model = view.programme, view.model
    section = Section("phases", TITLE, view.period)
    names = {p.id: p.name for p in model.phases}
    clusters = view.ds.tables["clusters"]
    placements = an.cluster_placements(view.table("assessments"), model, prog, clusters=clusters)
    placements = placements.assign(period=assign_periods(placements["assessed_on"], prog))
    latest = an.latest_placements(placements)
    movement = an.phase_movement(placements)
    distribution = an.phase_distribution(placements, model, prog)
    per_phase = distribution.sum() if len(distribution) else pd.Series(0, index=list(names))

    section.key_numbers += numbers(view, "assessment_rounds", "Assessment rounds", "rounds",
                                   per_scope(view, placements, len))
    section.key_numbers.append(one_number(view, "clusters_assessed", "Clusters assessed", "clusters", len(latest)))
    for pid, pname in names.items():
        section.key_numbers.append(one_number(view, f"clusters_in_{pid}", f"Clusters in {pname.lower()}",
                                              "clusters", int(per_phase.get(pid, 0))))
    up, down = int((movement["direction"] == "up").sum()), int((movement["direction"] == "down").sum())
    section.key_numbers.append(one_number(view, "moved_up", "Clusters that moved up a phase", "moves", up))
    section.key_numbers.append(one_number(view, "moved_down", "Clusters that fell back a phase", "moves", down))

    dist = distribution.rename(columns=names)
    dist.index.name = "city"
    section.tables.append(Table("phase_by_city", "Clusters per phase and city (latest assessment)", dist, index=True))
    shown = latest.assign(phase=latest["phase"].map(names).fillna(latest["phase"]))
    shown = shown.loc[:, ["cluster_id", "name", "city", "assessed_on", "phase", "completion", "missing",
                          "missing_criteria"]].rename(columns={"missing": "criteria_missing"})
    t = Table("latest_placement", "Latest placement of each cluster", shown.reset_index(drop=True),
              percent_columns=("completion",),
              note=f"A cluster is placed in the first phase whose result criteria are met less than "
                   f"{prog.phase_threshold:.0%}; completion is the share of that phase's criteria met.")
    t.highlight("completion", shown["completion"] < 0.5, "under half",
                "less than half of the phase's result criteria are met")
    section.tables.append(t)
    support = pd.DataFrame([{"phase": p.name, "support": "; ".join(p.process_support)} for p in model.phases])
    section.tables.append(Table("support_per_phase", "The support the cluster model recommends, per phase",
                                support, note="Shown once per phase: each cluster above gets its phase's support."))
    criteria = an.model_criteria(model).assign(phase=lambda d: d["phase"].map(names).fillna(d["phase"]))
    section.tables.append(Table("criteria", "The cluster model's result criteria",
                                criteria.loc[:, ["phase", "criterion_id", "criterion"]].rename(columns={"criterion_id": "code"})))
    moves = movement.assign(from_phase=movement["from_phase"].map(names), to_phase=movement["to_phase"].map(names))
    moves = moves.loc[:, ["cluster_id", "from_date", "to_date", "from_phase", "to_phase",
                          "direction"]].reset_index(drop=True)
    t = Table("movement", "Phase movement between consecutive assessments", moves,
              note="Development is not linear: falling back is not an error in the data.")
    t.highlight("direction", moves["direction"] == "down", "fell back", "the cluster is in an earlier phase than before")
    section.tables.append(t)

    section.figures.append(FigureSpec(
        "05_cluster_phases_by_city", "Cluster phases by city (latest assessment)",
        lambda: _phases_figure(distribution, names, f"Cluster phases by city (latest assessment): {view.label}"),
        alt=(f"Stacked bars of {len(latest)} clusters per city by phase: "
             + ", ".join(f"{int(per_phase.get(pid, 0))} in {n.lower()}" for pid, n in names.items()) + ".")))
    section.readings.append(
        f"{len(latest)} clusters assessed: "
        + ", ".join(f"{int(per_phase.get(pid, 0))} in {n.lower()}" for pid, n in names.items())
        + f". Between assessments {up} moved up a phase and {down} fell back.")
    return section


def _phases_figure(distribution, names, title):
    from clusnet_analysis.plots.phases import phase_distribution_figure

    return phase_distribution_figure(distribution, names, title=title)
