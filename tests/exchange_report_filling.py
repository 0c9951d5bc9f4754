"""Filling a report template the way an officer would, through python-docx (used by the tests and
to try ``clusnet check-reports`` by hand: ``python tests/exchange_report_filling.py IN_DIR OUT_DIR``).

Text goes under each section's heading, after its grey guidance; best practices go into the
"Your entry" column of the best-practice tables. A section can be left out, and a section's text
replaced (a French report, a very long one).
"""
from __future__ import annotations

import sys
from pathlib import Path

ENGLISH = {
    "The host city and its clusters":
        "The host city has a strong manufacturing base and four cluster initiatives in logistics, "
        "biotechnology, digital media and clean energy. The city economic development office funds the "
        "cluster managers and chairs the steering groups together with the regional chamber of commerce.",
    "Agenda and people met":
        "On the first day we met the head of the economic development office and two cluster managers. "
        "The second and third days were spent in the science park with firms and researchers, and the last "
        "days with the city council committee for business and the regional development agency.",
    "Cluster policy observed":
        "The city runs a long-term cluster strategy with clear goals, yearly action plans and a small "
        "budget for joint projects. Governance is shared between the city, the university and the firms, "
        "which is quite different from our own city where the region leads the cluster work.",
    "Best practices":
        "Two practices stood out during the week and are described in the tables below.",
    "What my city can transfer":
        "Our city could adopt the joint purchasing group quickly, because our business associations already "
        "run similar services. The shared steering group would need a decision of the city council and the "
        "agreement of the regional development agency.",
    "Links made and follow-up":
        "The logistics clusters of both cities agreed to exchange their training programmes, and a return "
        "visit of the host city's cluster managers is planned for the spring.",
    "Recommendations":
        "We recommend that councillors support a shared steering group for each cluster, that heads of "
        "department set aside a small budget for joint projects, and that the final report compares how "
        "the partner cities share cluster governance with universities and firms.",
}

FRENCH = {
    heading: ("La ville d'accueil a présenté sa politique de soutien aux pôles de compétitivité. Nous avons "
              "rencontré les responsables du développement économique, les animateurs des grappes "
              "d'entreprises et les élus chargés de l'innovation, qui nous ont expliqué leurs priorités "
              "et la manière dont ils travaillent avec l'université et les entreprises de la région.")
    for heading in ENGLISH
}

PRACTICES = [
    {"title": "Joint purchasing group for small firms",
     "description": "Member firms buy energy and services together to cut their costs.",
     "theme": "firm_to_firm", "phase": "initiation", "transferability": "4"},
    {"title": "Shared cluster steering group",
     "description": "The city, the university and the firms steer each cluster together.",
     "theme": "Policy gap", "phase": "Establishment", "transferability": "3"},
]


def _heading_paragraphs(doc):
    return [p for p in doc.paragraphs if p.style is not None and p.style.name == "Heading 1"]


def fill_report(template: Path, out: Path, sections: dict[str, str] | None = None,
                practices: list[dict] | None = None, drop: tuple[str, ...] = (), labels: dict[str, str] | None = None,
                extra_paragraphs: int = 0) -> Path:
    """Write ``out``: the template with text under each heading and practices in the tables.

    ``sections`` maps headings to text (default: English text for every section), ``practices`` are
    dicts of practices columns (default: two practices), ``drop`` lists headings whose section is
    removed with its guidance, ``labels`` maps a practices column to the label its table row shows
    (default: the bundled programme's), ``extra_paragraphs`` adds that many more paragraphs of the
    first section's text (a long report).
    """
    from docx import Document

    sections = ENGLISH if sections is None else sections
    practices = PRACTICES if practices is None else practices
    labels = labels or {"title": "Title", "description": "Description", "theme": "Theme",
                        "phase": "Cluster-model phase", "transferability": "Transferability"}
    doc = Document(str(template))
    headings = _heading_paragraphs(doc)
    for i, heading in enumerate(headings):
        text = sections.get(heading.text)
        anchor = heading
        nxt = heading._p.getnext()
        if nxt is not None and nxt.tag.endswith("}p") and "Guidance" in (nxt.xpath("string(.//w:pStyle/@w:val)") or ""):
            anchor = next(p for p in doc.paragraphs if p._p is nxt)
        if heading.text in drop:
            stop = headings[i + 1]._p if i + 1 < len(headings) else None
            element = heading._p
            while element is not None and element is not stop and not element.tag.endswith("}sectPr"):
                following = element.getnext()
                element.getparent().remove(element)
                element = following
            continue
        if text:
            paragraphs = [text] * (1 + (extra_paragraphs if i == 0 else 0))
            for para_text in reversed(paragraphs):
                new = doc.add_paragraph(para_text)
                anchor._p.addnext(new._p)
    tables = [t for t in doc.tables if t.rows[0].cells[0].text.startswith("Best practice")]
    for practice, table in zip(practices, tables):
        by_label = {row.cells[0].paragraphs[0].text.rstrip(" *"): row for row in table.rows[1:]}
        for column, value in practice.items():
            by_label[labels[column]].cells[1].text = str(value)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


if __name__ == "__main__":
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    for path in sorted(src.glob("*.docx")):
        fill_report(path, dst / path.name)
    print(f"filled {len(list(src.glob('*.docx')))} template(s) into {dst}")
