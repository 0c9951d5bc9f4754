"""``clusnet check-reports``: received reports checked against the programme's report structure.

Each report is matched to its exchange (by the id in its file name, else on its first page), its
pages counted, its language detected, its headings compared with the structure, and the
best-practice tables drafted as ``practices.csv`` rows for a researcher to review (never merged).
Findings have the columns of the programme-rule findings. A suggested update of ``report_pages``
and ``report_language`` per exchange is written apart: suggestions are not findings.
Content checks (language, length) are skipped when a report has no content of its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from clusnet_analysis.exchange_reports.common import (ENTRY_HEADER, PRACTICE_CAPTION, Vocabulary, fold, has_words,
                                                      heading_key, ids_in, structure_of, template_texts,
                                                      vocabularies, without_template_text)
from clusnet_analysis.exchange_reports.read import FORMATS, Block, ReportDocument, UnreadableReport, read_report
from clusnet_analysis.rules.checks import FINDING_COLUMNS, Rule
from clusnet_analysis.rules.report_structure import PRACTICE_COLUMNS, ReportStructure

SUBJECT = "report file"
RULES: tuple[Rule, ...] = (
    Rule("report_unreadable", "error", SUBJECT, "Report file damaged, password-protected or of another kind"),
    Rule("report_unmatched", "error", SUBJECT, "Report file names no known exchange (file name or first page)"),
    Rule("report_ambiguous", "error", SUBJECT, "Report file names two or more exchanges"),
    Rule("report_duplicate", "warning", SUBJECT, "A second report file for one exchange (one report per exchange)"),
    Rule("report_too_long", "warning", SUBJECT, "Report longer than the programme's page limit"),
    Rule("report_language", "warning", SUBJECT, "Report not written in the programme's language"),
    Rule("section_missing", "warning", SUBJECT, "A required section of the report structure is missing"),
    Rule("section_empty", "warning", SUBJECT, "A required section is there but empty"),
    Rule("section_extra", "warning", SUBJECT, "A heading that is not in the report structure"),
    Rule("section_order", "warning", SUBJECT, "A section out of the structure's order"),
    Rule("practice_value", "warning", SUBJECT, "A best-practice entry with a missing or not-allowed value"),
    Rule("report_not_read", "info", SUBJECT, "A file in the folder that is not a report format (.docx, .pdf, .md)"),
)
RULES_BY_ID = {r.id: r for r in RULES}
UPDATE_COLUMNS = ["exchange_id", "report_file", "report_pages_recorded", "report_pages_suggested",
                  "pages_counted_by", "report_language_recorded", "report_language_suggested", "update_needed",
                  "note"]
FILE_COLUMNS = ["report_file", "format", "exchange_id", "pages", "pages_counted_by", "language", "words_of_content",
                "sections_found", "practices_drafted", "findings"]
IGNORED_PREFIXES = (".", "~$")      # hidden files and Office lock files


@dataclass
class Section:
    key: str
    heading: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class CheckResult:
    findings: pd.DataFrame
    practices: pd.DataFrame         # drafted practices.csv rows, for review
    updates: pd.DataFrame           # suggested report_pages / report_language per exchange
    files: pd.DataFrame             # one row per file read
    report_dir: Path


def report_files(report_dir: Path) -> list[Path]:
    """Every file under the folder (sorted), less hidden files and Office lock files."""
    return sorted(p for p in report_dir.rglob("*")
                  if p.is_file() and not any(part.startswith(IGNORED_PREFIXES)
                                             for part in p.relative_to(report_dir).parts))


def split_sections(doc: ReportDocument, structure: ReportStructure) -> tuple[list[Block], list[Section], int]:
    """(blocks before the first section, sections in document order, the section heading level)."""
    keys = {heading_key(h) for h in structure.headings}
    levels = [b.level for b in doc.blocks if b.kind == "heading" and heading_key(b.text) in keys]
    level = min(set(levels), key=lambda lv: (-levels.count(lv), lv)) if levels else 1
    preamble: list[Block] = []
    sections: list[Section] = []
    for b in doc.blocks:
        if b.kind == "heading" and b.level == level:
            sections.append(Section(heading_key(b.text), b.text))
        elif sections:
            sections[-1].blocks.append(b)
        else:
            preamble.append(b)
    return preamble, sections, level


def is_practice_table(rows: list[list[str]], vocabs: tuple[Vocabulary, ...]) -> bool:
    if not rows or not rows[0]:
        return False
    if fold(rows[0][0]).startswith(fold(PRACTICE_CAPTION)):
        return True
    labels = {fold(v.field.label) for v in vocabs}
    return sum(fold(_label(r[0])) in labels for r in rows if r) >= 2


def _label(cell: str) -> str:
    """A field label as written in a table's first column ("Title *" and its guidance line dropped)."""
    return cell.split("\n", 1)[0].rstrip(" *")


def practice_entries(rows: list[list[str]], vocabs: tuple[Vocabulary, ...]) -> dict[str, str]:
    """{practices column: entry} of one best-practice table (the entry is the second column)."""
    by_label = {fold(v.field.label): v.field.column for v in vocabs}
    entries = {}
    for r in rows:
        if len(r) < 2 or fold(r[1]) == fold(ENTRY_HEADER):
            continue
        column = by_label.get(fold(_label(r[0])))
        if column is not None:
            entries[column] = " ".join(r[1].split())
    return entries


def section_content(section: Section, texts: list[str], vocabs) -> str:
    """The writer's own words in a section (template texts and table labels left out)."""
    parts = []
    for b in section.blocks:
        if b.kind == "table":
            if is_practice_table(b.rows, vocabs):
                parts += list(practice_entries(b.rows, vocabs).values())
            else:
                parts += [c for r in b.rows for c in r]
        else:
            parts.append(b.text)
    return without_template_text(" ".join(parts), texts)


def _block_text(b: Block) -> str:
    return " ".join(c for r in b.rows for c in r) if b.kind == "table" else b.text


def _longest_in_order(positions: list[int]) -> set[int]:
    """Indexes (into ``positions``) of a longest increasing run: the sections that are in order."""
    n = len(positions)
    best, prev = [1] * n, [-1] * n
    for i in range(n):
        for j in range(i):
            if positions[j] < positions[i] and best[j] + 1 > best[i]:
                best[i], prev[i] = best[j] + 1, j
    keep, i = set(), (max(range(n), key=lambda k: best[k]) if n else -1)
    while i >= 0:
        keep.add(i)
        i = prev[i]
    return keep


def detect_language(text: str) -> str | None:
    if not has_words(text):
        return None
    import py3langid

    return py3langid.classify(text)[0]


class _Findings:
    def __init__(self):
        self.rows: list[dict] = []

    def add(self, rule_id: str, file: str, message: str, ex: dict | None = None, value="", limit=""):
        rule = RULES_BY_ID[rule_id]
        ex = ex or {}
        self.rows.append({"rule_id": rule_id, "severity": rule.severity, "subject_type": rule.subject,
                          "subject_id": file, "exchange_id": ex.get("exchange_id", ""),
                          "home_city": ex.get("home_city", ""), "period": ex.get("period", ""),
                          "message": message, "value": "" if value is None else str(value),
                          "limit": "" if limit is None else str(limit)})

    def frame(self) -> pd.DataFrame:
        order = {r.id: i for i, r in enumerate(RULES)}
        rows = sorted(self.rows, key=lambda r: (order[r["rule_id"]], r["subject_id"]))
        df = pd.DataFrame(rows, columns=FINDING_COLUMNS).astype("str")
        return df.replace({"": pd.NA, "nan": pd.NA, "<NA>": pd.NA}) if len(df) else df


def _structure_findings(found: _Findings, name: str, ex: dict | None, doc: ReportDocument,
                        sections: list[Section], structure: ReportStructure, texts, vocabs) -> list[str]:
    """Missing, extra, out-of-order and empty sections; returns the writer's content per section."""
    expected = {heading_key(s.heading): (i, s) for i, s in enumerate(structure.sections)}
    seen: dict[str, int] = {}
    known: list[tuple[Section, int]] = []
    for s in sections:
        if s.key in expected and s.key not in seen:
            seen[s.key] = 1
            known.append((s, expected[s.key][0]))
        elif s.key in expected:
            found.add("section_extra", name, f"heading '{s.heading}' appears a second time", ex, value=s.heading)
        elif doc.headings_known:
            found.add("section_extra", name, f"heading '{s.heading}' is not in the report structure "
                      f"(its text counts as part of the section before it)", ex, value=s.heading)
    for key, (i, s) in expected.items():
        if key not in seen and s.required:
            found.add("section_missing", name, f"required section '{s.heading}' is missing", ex,
                      value=s.heading, limit=f"section {i + 1} of {len(structure.sections)}")
    in_order = _longest_in_order([pos for _, pos in known])
    for k, (s, pos) in enumerate(known):
        if k not in in_order:
            found.add("section_order", name, f"section '{s.heading}' is out of order; it is section {pos + 1} "
                      f"of the structure", ex, value=s.heading, limit=f"section {pos + 1}")
    contents = []
    for s, pos in known:
        content = section_content(s, texts, vocabs)
        contents.append(content)
        if not has_words(content) and structure.sections[pos].required:
            found.add("section_empty", name, f"required section '{s.heading}' is empty", ex,
                      value=s.heading, limit="required")
    return contents


def _draft_practices(found: _Findings, name: str, ex: dict | None, sections: list[Section],
                     vocabs: tuple[Vocabulary, ...], numbered: dict[str, int]) -> list[dict]:
    rows = []
    tables = [b.rows for s in sections for b in s.blocks if b.kind == "table" and is_practice_table(b.rows, vocabs)]
    for number, table in enumerate(tables, 1):
        entries = practice_entries(table, vocabs)
        if not any(has_words(v) for v in entries.values()):
            continue   # an unused table
        ex_id = (ex or {}).get("exchange_id", "")
        numbered[ex_id] = numbered.get(ex_id, 0) + 1
        row = {"practice_id": f"{ex_id}-BP{numbered[ex_id]}" if ex_id else "", "exchange_id": ex_id,
               **{c: "" for c in PRACTICE_COLUMNS}}
        for v in vocabs:
            text = entries.get(v.field.column, "")
            if not has_words(text):
                row[v.field.column] = ""
                if v.field.required:
                    found.add("practice_value", name, f"best practice {number}: '{v.field.label}' is empty", ex,
                              value="", limit=v.describe() if v.choices else "needed")
                continue
            value = v.resolve(text)
            if value is None:
                found.add("practice_value", name, f"best practice {number}: '{v.field.label}' is '{text}', "
                          f"not an allowed value", ex, value=text, limit=v.describe())
                value = text
            row[v.field.column] = value
        row["source"] = f"{name}, table {number}"
        rows.append(row)
    return rows


def check_reports(report_dir: Path, ds) -> CheckResult:
    """Check every report under ``report_dir`` against ``ds`` (its exchanges and programme)."""
    from clusnet_analysis.exchange_reports.pages import (WORDS_PER_PAGE, estimated_pages, libreoffice_page_counts,
                                                         soffice_path)

    programme = ds.programme
    structure = structure_of(programme)
    vocabs = vocabularies(structure, programme, ds.model)
    texts = template_texts(structure, vocabs)
    view = ds.exchanges
    exchanges = {str(r["exchange_id"]): r for r in view.to_dict("records")}
    found = _Findings()
    files = report_files(report_dir)
    office_pages = libreoffice_page_counts([p for p in files if p.suffix.lower() == ".docx"])
    have_soffice = soffice_path() is not None
    practices, updates, overview = [], [], []
    first_file: dict[str, str] = {}
    numbered: dict[str, int] = {}     # practices drafted per exchange so far (ids stay unique)
    for path in files:
        name = path.relative_to(report_dir).as_posix()
        before = len(found.rows)
        if path.suffix.lower() not in FORMATS:
            found.add("report_not_read", name, f"not read: only {', '.join(FORMATS)} reports are checked",
                      value=path.suffix or "(no extension)")
            continue
        try:
            doc = read_report(path, structure.headings)
        except UnreadableReport as exc:
            found.add("report_unreadable", name, str(exc), value=path.suffix.lower())
            continue
        ids = ids_in(name, exchanges) or ids_in(doc.first_page, exchanges)
        ex = None
        if not ids:
            found.add("report_unmatched", name, "no exchange id found in the file name or on the first page; "
                      "put the exchange id in the file name (its best practices are drafted once it is matched)", None)
        elif len(ids) > 1:
            found.add("report_ambiguous", name, f"names {len(ids)} exchanges ({', '.join(ids)}); "
                      "one report per exchange", None, value=", ".join(ids))
        else:
            ex = exchanges[ids[0]]
            if ids[0] in first_file:
                found.add("report_duplicate", name, f"exchange {ids[0]} already has a report "
                          f"({first_file[ids[0]]})", ex, value=first_file[ids[0]])
            else:
                first_file[ids[0]] = name
        _, sections, _ = split_sections(doc, structure)
        contents = _structure_findings(found, name, ex, doc, sections, structure, texts, vocabs)
        content = " ".join(c for c in contents if c)
        if not contents:   # none of the structure's sections: the whole text is the writer's
            content = without_template_text(" ".join(_block_text(b) for b in doc.blocks), texts)
        words = len(re.findall(r"\w+", content))   # a leftover "*" of a template label is no word

        # Pages: real for a PDF, laid out by LibreOffice for Word when it is there, else estimated.
        if doc.pages is not None:
            pages, how = doc.pages, "PDF"
        elif path in office_pages:
            pages, how = office_pages[path], "LibreOffice layout"
        else:
            pages = estimated_pages(doc.words, doc.page_breaks)
            how = (f"estimated from {doc.words:,} words (about {WORDS_PER_PAGE} a page)"
                   + ("; LibreOffice could not convert it" if have_soffice and doc.format == "docx" else ""))
        language = detect_language(content) if words else None
        if words:   # content checks only on content
            if structure.max_pages and pages > structure.max_pages:
                about = "" if how in ("PDF", "LibreOffice layout") else "about "
                found.add("report_too_long", name, f"report has {about}{pages} pages ({how}); the limit is "
                          f"{structure.max_pages}", ex, value=pages, limit=structure.max_pages)
            if structure.language and language != structure.language:
                found.add("report_language", name, f"report is written in '{language}' (detected from its "
                          f"{words:,} words of content); reports must be in '{structure.language}'",
                          ex, value=language, limit=structure.language)
        drafted = _draft_practices(found, name, ex, sections, vocabs, numbered)
        if ex is not None:
            practices += drafted
        if ex is not None and first_file.get(ex["exchange_id"]) == name:
            updates.append(_update(ex, name, pages if words else None, how, language))
        overview.append({"report_file": name, "format": doc.format, "exchange_id": ex["exchange_id"] if ex else "",
                         "pages": pages, "pages_counted_by": how, "language": language or "",
                         "words_of_content": words, "sections_found": len(sections),
                         "practices_drafted": len(drafted) if ex is not None else 0,
                         "findings": len(found.rows) - before})
    columns = ["practice_id", "exchange_id", *PRACTICE_COLUMNS, "source"]   # practices.csv's columns, in order
    return CheckResult(findings=found.frame(), practices=pd.DataFrame(practices, columns=columns),
                       updates=pd.DataFrame(updates, columns=UPDATE_COLUMNS),
                       files=pd.DataFrame(overview, columns=FILE_COLUMNS), report_dir=report_dir)


def _update(ex: dict, name: str, pages: int | None, how: str, language: str | None) -> dict:
    def recorded(v):
        return "" if v is None or pd.isna(v) else str(v)

    pages_now, lang_now = recorded(ex.get("report_pages")), recorded(ex.get("report_language"))
    note = "" if pages is not None else "no content of its own yet: nothing to suggest"
    pages_new = "" if pages is None else str(pages)
    lang_new = language or ""
    needed = bool((pages_new and pages_new != pages_now) or (lang_new and lang_new != lang_now))
    return {"exchange_id": ex["exchange_id"], "report_file": name, "report_pages_recorded": pages_now,
            "report_pages_suggested": pages_new, "pages_counted_by": how if pages is not None else "",
            "report_language_recorded": lang_now, "report_language_suggested": lang_new,
            "update_needed": "yes" if needed else "no", "note": note}


def summarise(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings per rule, every rule listed (zero where nothing was found)."""
    counts = findings["rule_id"].value_counts()
    return pd.DataFrame({"rule_id": [r.id for r in RULES], "severity": [r.severity for r in RULES],
                         "findings": [int(counts.get(r.id, 0)) for r in RULES],
                         "rule": [r.description for r in RULES]})
