"""The synthesis: every area's key numbers, figures and readings on one page, recomputing nothing."""
from __future__ import annotations

from clusnet_analysis.sections.base import KeyNumber, Section

# The numbers that open the synthesis, per area: (area, key number id).
KEY_BOX = (("cross_city", "exchanges"), ("cross_city", "person_days"), ("budget", "claimed"),
           ("budget", "reimbursable"), ("budget", "pending"), ("budget", "budget_used"),
           ("budget", "exchanges_over_cap"), ("practices", "practices"),
           ("phases", "clusters_assessed"), ("links", "links"), ("data_quality", "findings"))


def title_for(period_is_final: bool) -> str:
    return "Final report synthesis" if period_is_final else "Period synthesis"


def synthesis(sections: dict[str, Section], is_final: bool) -> Section:
    """Put the synthesis together from the other sections (same objects: same numbers, same figures)."""
    any_section = next(iter(sections.values()))
    out = Section("synthesis", title_for(is_final), any_section.period)
    main_scope = None
    for area, section in sections.items():
        scoped = [k for k in section.key_numbers if k.scope not in ("snapshot",)]
        if scoped:
            main_scope = scoped[-1].scope if main_scope is None else main_scope
    for area, id in KEY_BOX:
        section = sections.get(area)
        if section is None:
            continue
        wanted = [k for k in section.key_numbers if k.id == id]
        if not wanted:
            continue
        # the main scope's value: cumulative in a period's report, the total in the final report
        chosen = next((k for k in wanted if k.scope in ("total", "cumulative")), wanted[-1])
        out.key_numbers.append(KeyNumber(f"{area}.{id}", chosen.label, chosen.value, chosen.unit, chosen.scope,
                                         chosen.scope_label))
    for area, section in sections.items():
        out.figures += section.figures
        out.readings += section.readings
    return out
