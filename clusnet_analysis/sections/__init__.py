"""One section per report area: the tables, figures, key numbers and readings that every consumer shows.

``build(view, "budget")`` returns the budget section of a period view; the
notebooks display it, the headline file stores its key numbers, ``clusnet
figures`` saves its figures and ``tables.xlsx`` its tables. ``build_all(view)``
returns every area plus the synthesis, each computed once.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clusnet_analysis.sections.base import FigureSpec, KeyNumber, Section, Table  # noqa: F401
    from clusnet_analysis.sections.view import PeriodView, for_dataset, start  # noqa: F401

# Imported on first use (PEP 562): `clusnet run` asks which areas a programme leaves out before any
# table is loaded, and a run with nothing to rebuild must not pay for importing pandas.
_LAZY = {"FigureSpec": "base", "KeyNumber": "base", "Section": "base", "Table": "base",
         "PeriodView": "view", "for_dataset": "view", "start": "view"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


def _areas() -> dict[str, Callable]:
    from clusnet_analysis.sections.budget import budget
    from clusnet_analysis.sections.cross_city import cross_city
    from clusnet_analysis.sections.data_quality import data_quality
    from clusnet_analysis.sections.links import links
    from clusnet_analysis.sections.phases import phases
    from clusnet_analysis.sections.practices import practices

    return {"data_quality": data_quality, "cross_city": cross_city, "budget": budget,
            "practices": practices, "phases": phases, "links": links}


AREAS = ("data_quality", "cross_city", "budget", "practices", "phases", "links")


_NEEDS = {"practices": ("practices",), "phases": ("clusters", "assessments"), "links": ("clusters", "links")}


def areas_left_out(programme) -> dict[str, str]:
    """Areas whose optional tables the programme file does not declare, each with the reason, for a reader."""
    uses = getattr(programme, "uses", None)
    if uses is None:
        return {}
    out = {}
    for area in AREAS:
        missing = [t for t in _NEEDS.get(area, ()) if not uses(t)]
        if missing:
            tables = " and ".join(f"the {t} table" for t in missing)
            out[area] = f"not built: the programme file does not use {tables}"
    return out


def areas_for(view: PeriodView) -> list[str]:
    """The areas this programme has data for (a programme may not use practices, clusters or links)."""
    left_out = areas_left_out(view.programme)
    return [a for a in AREAS if a not in left_out]


def build(view: PeriodView, area: str) -> Section:
    """The section of one area for the view (cached on the view: computed once per view)."""
    cache = view.__dict__.setdefault("_sections", {})
    if area not in cache:
        if area == "synthesis":
            from clusnet_analysis.sections.synthesis import synthesis

            cache[area] = synthesis({a: build(view, a) for a in areas_for(view)}, view.is_final)
        else:
            functions = _areas()
            if area not in functions:
                raise KeyError(f"no report area {area!r}; areas: {', '.join(AREAS)}, synthesis")
            from clusnet_analysis.sections import reuse

            section = reuse.load_section(view, area)  # computed by another report of the batch
            if section is None:
                section = functions[area](view)
                reuse.store_section(view, area, section)
            cache[area] = section
        for table in cache[area].tables:
            table.area = table.area or area
    return cache[area]


def build_all(view: PeriodView) -> dict[str, Section]:
    """Every area of the view, then the synthesis."""
    out = {a: build(view, a) for a in areas_for(view)}
    out["synthesis"] = build(view, "synthesis")
    return out
