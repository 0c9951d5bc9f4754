"""The cluster model file: phases, their labels and result criteria (the assessment criteria).

A programme names its model file (``programme.cluster_model``); the bundled one is
``cluster_model.toml``. Phase labels on pages come from here, never from code.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clusnet_analysis import config
from clusnet_analysis.rules import programme_schema as s
from clusnet_analysis.rules.programme_schema import read_toml


# ---------------------------------------------------------------- cluster model
@dataclass(frozen=True)
class Criterion:
    id: str
    phase: str
    text: str
    text_sv: str


@dataclass(frozen=True)
class Phase:
    id: str
    order: int
    name: str
    name_sv: str
    results: tuple[Criterion, ...]
    process_support: tuple[str, ...]
    events: tuple[str, ...]
    process_leadership: tuple[str, ...]


@dataclass(frozen=True)
class ClusterModel:
    name: str
    max_score: int
    phases: tuple[Phase, ...]
    source_file: Path | None = None

    @property
    def phase_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.phases)

    @property
    def phase_labels(self) -> dict[str, str]:
        """Phase id -> the phase's name in the cluster model file, in model order."""
        return {p.id: p.name for p in self.phases}

    def phase_label(self, phase_id: str) -> str:
        return self.phase_labels.get(phase_id, phase_id)

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for p in self.phases for c in p.results)

    @property
    def criterion_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria)

    def phase(self, phase_id: str) -> Phase:
        for p in self.phases:
            if p.id == phase_id:
                return p
        raise KeyError(phase_id)


#: The model of a programme that uses no cluster tables: no phases, no criteria.
NO_CLUSTER_MODEL = ClusterModel(name="", max_score=2, phases=())


def load_cluster_model(source=None) -> ClusterModel:
    """The cluster model named by a programme (or the file at a path; default: the bundled model).

    A programme that uses none of practices, clusters and assessments and names no
    model file gets :data:`NO_CLUSTER_MODEL`.
    """
    if hasattr(source, "cluster_model_file"):   # a Programme
        if source.cluster_model_file is None:
            return NO_CLUSTER_MODEL
        path = source.cluster_model_file
    else:
        path = Path(source) if source is not None else config.CLUSTER_MODEL_FILE
    d = read_toml(path, "cluster model file")
    model = s.table(d, "model", path)
    name = s.text(s.required(model, "model.name", path), "model.name", path)
    max_score = s.number(model.get("max_score", 2), "model.max_score", path, whole=True, at_least=1)
    raw_phases = s.required(d, "phases", path, "one [[phases]] entry per phase")
    if not isinstance(raw_phases, list) or not raw_phases or not all(isinstance(p, dict) for p in raw_phases):
        s.fail(path, "phases", "must be one or more [[phases]] entries")
    phases = []
    for i, p in enumerate(raw_phases, start=1):
        pid = s.text(s.required(p, "phases.id", path, f"phase number {i}"), "phases.id", path)
        order = s.number(s.required(p, "phases.order", path, f"phase {pid}"), "phases.order", path, whole=True)
        results = []
        for r in s.required(p, "phases.results", path, f"phase {pid}: its [[phases.results]] criteria"):
            if not isinstance(r, dict):
                s.fail(path, "phases.results", f"phase {pid}: must be [[phases.results]] entries")
            rid = s.text(s.required(r, "phases.results.id", path, f"phase {pid}"), "phases.results.id", path)
            results.append(Criterion(id=rid, phase=pid, text=s.text(s.required(r, "phases.results.text", path,
                                                                                  f"criterion {rid}"),
                                                                       "phases.results.text", path),
                                     text_sv=str(r.get("text_sv", ""))))
        phases.append(Phase(id=pid, order=order,
                            name=s.text(s.required(p, "phases.name", path, f"phase {pid}"), "phases.name", path),
                            name_sv=str(p.get("name_sv", "")), results=tuple(results),
                            process_support=tuple(p.get("process_support", [])), events=tuple(p.get("events", [])),
                            process_leadership=tuple(p.get("process_leadership", []))))
    ids = [p.id for p in phases]
    if len(set(ids)) != len(ids):
        s.fail(path, "phases.id", f"phase ids must be unique, got {', '.join(ids)}")
    criteria = [c.id for p in phases for c in p.results]
    if len(set(criteria)) != len(criteria):
        s.fail(path, "phases.results.id", "criterion ids must be unique")
    return ClusterModel(name=name, max_score=max_score, phases=tuple(sorted(phases, key=lambda p: p.order)),
                        source_file=path)
