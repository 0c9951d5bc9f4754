"""The common structure of an exchange report, as data (the ``[report_structure]`` part of a programme file).

The structure lists the report's sections in order (heading, guidance for the writer, required or
not), which section holds the best-practice tables and how many empty ones a template offers, and
the fields of a best-practice entry. A field's allowed values are the programme's own: ``themes``
(the programme's ``[themes]``), ``phases`` (the cluster model's phases) or an explicit list. The page
limit and the language are not repeated here: they are the ``[reports]`` rules.

Self-contained on purpose: :func:`parse_report_structure` takes the whole programme file's dict and
is called from :func:`clusnet_analysis.rules.programme.load_programme` with one line.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

# The columns of practices.csv a best-practice field may fill (the data contract, ingest/schemas.py).
PRACTICE_COLUMNS = ("title", "description", "theme", "phase", "transferability", "cluster_id")
# Symbolic value lists, resolved at use time from the programme and the cluster model.
VALUE_SOURCES = ("themes", "phases")

_TOP_KEYS = {"title", "audience", "sections", "practices"}
_SECTION_KEYS = {"heading", "guidance", "required", "practices"}
_PRACTICES_KEYS = {"tables", "fields"}
_FIELD_KEYS = {"column", "label", "guidance", "values", "required"}


@dataclass(frozen=True)
class ReportSection:
    heading: str
    guidance: str
    required: bool
    practices: bool = False      # the best-practice tables go in this section


@dataclass(frozen=True)
class PracticeField:
    column: str                  # practices.csv column it fills
    label: str                   # what the table shows in its first column
    guidance: str
    values: str | tuple[str, ...] | None   # "themes", "phases", explicit values, or None (free text)
    required: bool


@dataclass(frozen=True)
class ReportStructure:
    title: str
    audience: str
    sections: tuple[ReportSection, ...]
    practice_tables: int
    practice_fields: tuple[PracticeField, ...]
    max_pages: int | None        # from [reports]: None = no page limit
    language: str | None         # from [reports]: None = any language

    @property
    def headings(self) -> tuple[str, ...]:
        return tuple(s.heading for s in self.sections)

    @property
    def practice_section(self) -> ReportSection | None:
        return next((s for s in self.sections if s.practices), None)


def _error(source: Path, key: str, problem: str):
    from clusnet_analysis.rules.programme_schema import ProgrammeError, _printable

    return ProgrammeError(f"{source}: `{_printable(key)}`: {_printable(problem)}")


def _refuse_unknown(table: dict, known: set[str], where: str, source: Path) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise _error(source, f"{where}.{key}", "unknown key" + hint)


def _text(table: dict, key: str, where: str, source: Path, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise _error(source, f"{where}.{key}", "a text is needed" if key not in table else f"{value!r} is not a text")
    return value.strip()


def _flag(table: dict, key: str, where: str, source: Path, default: bool) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise _error(source, f"{where}.{key}", f"{value!r} is not true or false")
    return value


def parse_report_structure(d: dict, source: Path) -> ReportStructure | None:
    """The ``[report_structure]`` of a programme file's dict, or None when the file has none."""
    raw = d.get("report_structure")
    if raw is None:
        return None
    top = "report_structure"
    if not isinstance(raw, dict):
        raise _error(source, top, "must be a table")
    _refuse_unknown(raw, _TOP_KEYS, top, source)

    raw_sections = raw.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        raise _error(source, f"{top}.sections", "at least one [[report_structure.sections]] entry is needed")
    sections = []
    for i, s in enumerate(raw_sections, 1):
        where = f"{top}.sections[{i}]"
        if not isinstance(s, dict):
            raise _error(source, where, "must be a table with heading, guidance, required")
        _refuse_unknown(s, _SECTION_KEYS, where, source)
        sections.append(ReportSection(heading=_text(s, "heading", where, source),
                                      guidance=_text(s, "guidance", where, source, default=""),
                                      required=_flag(s, "required", where, source, True),
                                      practices=_flag(s, "practices", where, source, False)))
    folded = [" ".join(s.heading.casefold().split()) for s in sections]
    for i, h in enumerate(folded):
        if h in folded[:i]:
            raise _error(source, f"{top}.sections[{i + 1}].heading", f"heading {sections[i].heading!r} is used twice")
    if sum(s.practices for s in sections) > 1:
        raise _error(source, f"{top}.sections", "only one section can hold the best practices (practices = true)")

    practices = raw.get("practices", {})
    if not isinstance(practices, dict):
        raise _error(source, f"{top}.practices", "must be a table")
    _refuse_unknown(practices, _PRACTICES_KEYS, f"{top}.practices", source)
    tables = practices.get("tables", 3)
    if isinstance(tables, bool) or not isinstance(tables, int) or tables < 0:
        raise _error(source, f"{top}.practices.tables", f"{tables!r} is not a whole number of 0 or more")
    fields = []
    raw_fields = practices.get("fields", [])
    if not isinstance(raw_fields, list):
        raise _error(source, f"{top}.practices.fields", "must be a list of [[report_structure.practices.fields]] tables")
    for i, f in enumerate(raw_fields, 1):
        where = f"{top}.practices.fields[{i}]"
        if not isinstance(f, dict):
            raise _error(source, where, "must be a table with column, label, guidance, values")
        _refuse_unknown(f, _FIELD_KEYS, where, source)
        column = _text(f, "column", where, source)
        if column not in PRACTICE_COLUMNS:
            raise _error(source, f"{where}.column", f"{column!r} is not a practices column "
                                                    f"({', '.join(PRACTICE_COLUMNS)})")
        values = f.get("values")
        if isinstance(values, str):
            if values not in VALUE_SOURCES:
                raise _error(source, f"{where}.values", f"{values!r}: use \"themes\", \"phases\" or a list of values")
            if values == "themes" and not d.get("themes", {}).get("ids"):
                raise _error(source, f"{where}.values", "\"themes\" needs the programme's [themes] ids")
        elif isinstance(values, list):
            if not values or any(isinstance(v, bool) or not isinstance(v, (str, int)) for v in values):
                raise _error(source, f"{where}.values", "a list of allowed values (texts or whole numbers) is needed")
            values = tuple(str(v) for v in values)
        elif values is not None:
            raise _error(source, f"{where}.values", f"{values!r}: use \"themes\", \"phases\" or a list of values")
        fields.append(PracticeField(column=column, label=_text(f, "label", where, source),
                                    guidance=_text(f, "guidance", where, source, default=""),
                                    values=values, required=_flag(f, "required", where, source, False)))
    columns = [f.column for f in fields]
    if len(set(columns)) != len(columns):
        raise _error(source, f"{top}.practices.fields", "each practices column can be filled by one field only")
    if sections and any(s.practices for s in sections) and "title" not in columns:
        raise _error(source, f"{top}.practices.fields", "a field for the practice's `title` is needed")

    reports = d.get("reports", {})
    max_pages = reports.get("max_pages")
    language = reports.get("language")
    return ReportStructure(
        title=_text(raw, "title", top, source, default="Exchange report") or "Exchange report",
        audience=_text(raw, "audience", top, source, default=""),
        sections=tuple(sections), practice_tables=tables, practice_fields=tuple(fields),
        max_pages=None if max_pages is False or max_pages is None else int(max_pages),
        language=None if language is False or language is None else str(language).lower(),
    )
