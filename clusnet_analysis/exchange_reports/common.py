"""What the template writer and the report checker share: allowed values, texts the template itself
puts in a document, and how headings and ids are compared."""
from __future__ import annotations

import re
from dataclasses import dataclass

from clusnet_analysis.rules.programme import ClusterModel, Programme, ProgrammeError
from clusnet_analysis.rules.report_structure import PracticeField, ReportStructure

# Column headers of a best-practice table; its first row's first cell is "Best practice N".
PRACTICE_CAPTION = "Best practice"
ENTRY_HEADER = "Your entry"
ALLOWED_HEADER = "Allowed values"
FREE_TEXT = "free text"
FACTS_CAPTION = "About this exchange"
RULES_CAPTION = "Rules for this report"
OPTIONAL_NOTE = "This section is optional."
REQUIRED_FIELD_NOTE = "* needed in every practice you describe."


@dataclass(frozen=True)
class Vocabulary:
    """The allowed values of one best-practice field: (value, label) pairs, or none (free text)."""
    field: PracticeField
    choices: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        if not self.choices:
            return FREE_TEXT
        return "; ".join(v if fold(v) == fold(label) else f"{v} ({label})" for v, label in self.choices)

    def resolve(self, text: str) -> str | None:
        """The allowed value a writer meant (by value or label, any case); None when it is not allowed."""
        if not self.choices:
            return text
        key = fold(text)
        for value, label in self.choices:
            if key in (fold(value), fold(label), fold(f"{value} ({label})")):
                return value
        return None


def structure_of(programme: Programme) -> ReportStructure:
    if programme.report_structure is None:
        raise ProgrammeError(f"{programme.source_file}: `report_structure`: the programme file has no report "
                             "structure; add a [report_structure] part (see the bundled clusnet.toml)")
    return programme.report_structure


def vocabularies(structure: ReportStructure, programme: Programme, model: ClusterModel) -> tuple[Vocabulary, ...]:
    out = []
    for f in structure.practice_fields:
        if f.values == "themes":
            choices = tuple((t, programme.theme_labels.get(t, t)) for t in programme.themes)
        elif f.values == "phases":
            choices = tuple((p.id, p.name) for p in model.phases)
        elif f.values:
            choices = tuple((v, v) for v in f.values)
        else:
            choices = ()
        out.append(Vocabulary(f, choices))
    return tuple(out)


def template_texts(structure: ReportStructure, vocabs: tuple[Vocabulary, ...]) -> list[str]:
    """Texts a template puts inside the sections: they are never the writer's content."""
    texts = [s.guidance for s in structure.sections if s.guidance]
    texts += [ENTRY_HEADER, ALLOWED_HEADER, FREE_TEXT, OPTIONAL_NOTE, REQUIRED_FIELD_NOTE]
    for v in vocabs:
        texts += [v.field.label, v.field.guidance, v.describe()]
    texts += [f"{PRACTICE_CAPTION} {i}" for i in range(1, max(structure.practice_tables, 1) + 50)]
    # Longest first, so a caption "Best practice 12" is not half-removed by "Best practice 1".
    return sorted({t for t in texts if t}, key=len, reverse=True)


def fold(text: str) -> str:
    """Case- and space-insensitive form of a text."""
    return " ".join(str(text).casefold().split())


_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*[.)]?|[ivx]+[.)])\s+", re.I)


def heading_key(text: str) -> str:
    """A heading as compared with the structure: no numbering ("2.", "3)"), no final colon, any case."""
    return fold(_NUMBERING.sub("", text)).rstrip(" :.")


def without_template_text(content: str, texts: list[str]) -> str:
    """The writer's own words in a section: the content less every template text (spacing ignored)."""
    flat = _joined(content)
    for t in texts:
        flat = flat.replace(_joined(t), " ")
    return " ".join(flat.split())


def _joined(text: str) -> str:
    """Spacing made single, and a word cut at a hyphen by a PDF's line end ("Cluster- to") joined again."""
    return re.sub(r"-\s+", "-", " ".join(text.split()))


def has_words(text: str) -> bool:
    return bool(re.search(r"\w", text))


def ids_in(text: str, exchange_ids) -> list[str]:
    """Exchange ids that occur in a text as whole tokens (X001 is not found in X0012)."""
    found = []
    for ex_id in exchange_ids:
        if ex_id and re.search(rf"(?<![A-Za-z0-9]){re.escape(ex_id)}(?![A-Za-z0-9])", text, re.I):
            found.append(ex_id)
    return found
