"""Reading a received report (.docx, .pdf or .md) into an ordered list of blocks.

A block is a heading (with its level), a paragraph of text or a table (rows of cell texts). A PDF
keeps no headings: its lines are text, and a line that is one of the structure's headings is taken
as that heading (so extra headings cannot be seen in a PDF). A file that cannot be read raises
:class:`UnreadableReport` with one line a reader understands.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from clusnet_analysis.exchange_reports.common import heading_key

FORMATS = (".docx", ".pdf", ".md")
FIRST_PAGE_CHARS = 2000     # what "the first page" of a Word or Markdown file means for id matching
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # Word 97-2003 files and encrypted Office files
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


class UnreadableReport(Exception):
    """The file is damaged, password-protected or not what its name says."""


@dataclass
class Block:
    kind: str                     # "heading", "text" or "table"
    text: str = ""
    level: int = 0                # heading level (1 = top)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class ReportDocument:
    path: Path
    format: str                   # "docx", "pdf" or "md"
    blocks: list[Block]
    first_page: str
    pages: int | None = None      # real page count (PDF) or None (to be counted or estimated)
    page_breaks: int = 0          # forced page breaks (Word)
    headings_known: bool = True   # False for PDF: only the structure's own headings are recognised

    @property
    def words(self) -> int:
        text = " ".join(b.text if b.kind != "table" else " ".join(c for r in b.rows for c in r) for b in self.blocks)
        return len(re.findall(r"\w+", text))


def read_report(path: Path, headings: tuple[str, ...] = ()) -> ReportDocument:
    """Read one report; ``headings`` (the structure's) are needed to find headings in a PDF."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableReport(f"cannot be opened ({exc.strerror or exc})") from exc
    if size == 0:
        raise UnreadableReport("the file is empty (0 bytes)")
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return _read_docx(path)
    if suffix == ".pdf":
        return _read_pdf(path, headings)
    if suffix == ".md":
        return _read_md(path)
    raise UnreadableReport(f"not read: only {', '.join(FORMATS)} reports are checked")


# --------------------------------------------------------------------------- Word
def _read_docx(path: Path) -> ReportDocument:
    import zipfile

    from docx import Document
    from docx.table import Table

    head = path.read_bytes()[:8]
    if head == OLE_MAGIC:
        data = path.read_bytes()
        if ENCRYPTED_PACKAGE in data:
            raise UnreadableReport("password-protected: ask for a copy saved without a password")
        raise UnreadableReport("an old Word 97-2003 file named .docx: open it in Word and save it as .docx")
    if not zipfile.is_zipfile(path):
        raise UnreadableReport("not a Word document (.docx): the file is damaged or of another kind")
    try:
        doc = Document(str(path))
        # Style names by id, read once (python-docx's Paragraph.style looks each one up: slow).
        names = {s.style_id: s.name for s in doc.styles}
        blocks = []
        for item in doc.iter_inner_content():
            if isinstance(item, Table):
                blocks.append(Block("table", rows=_table_rows(item)))
                continue
            style = names.get(item._p.style, "") if item._p.style else ""
            text = item.text.strip()
            m = re.fullmatch(r"Heading (\d)", style or "")
            if m and text:
                blocks.append(Block("heading", text, level=int(m.group(1))))
            elif text:
                blocks.append(Block("text", text))
        breaks = len(doc.element.body.xpath('.//w:br[@w:type="page"]')) + \
            len(doc.element.body.xpath(".//w:pageBreakBefore[not(@w:val='0') and not(@w:val='false')]"))
    except UnreadableReport:
        raise
    except Exception as exc:  # python-docx / lxml raise many kinds on a damaged file
        raise UnreadableReport(f"not a valid Word document (.docx): the file is damaged ({type(exc).__name__})") from exc
    text = "\n".join(b.text if b.kind != "table" else "\n".join(" ".join(r) for r in b.rows) for b in blocks)
    return ReportDocument(path, "docx", blocks, text[:FIRST_PAGE_CHARS], page_breaks=breaks)


def _table_rows(table) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:      # a merged cell is listed once per grid column it spans
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append("\n".join(p.text.strip() for p in cell.paragraphs if p.text.strip()))
        rows.append(cells)
    return rows


# --------------------------------------------------------------------------- PDF
def _read_pdf(path: Path, headings: tuple[str, ...]) -> ReportDocument:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")   # a PDF locked only against editing opens without a password
            except DependencyError as exc:    # AES needs the optional cryptography package
                raise UnreadableReport("encrypted PDF (AES) that this installation cannot open: ask for a copy "
                                       "without protection, or install pypdf's crypto extra") from exc
            except Exception as exc:
                raise UnreadableReport("password-protected (encrypted PDF): ask for a copy without a password") from exc
            if not opened:
                raise UnreadableReport("password-protected (encrypted PDF): ask for a copy without a password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except UnreadableReport:
        raise
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        raise UnreadableReport(f"not a valid PDF: the file is damaged ({type(exc).__name__})") from exc
    keys = {heading_key(h) for h in headings}
    blocks = []
    for page in pages:
        for line in page.splitlines():
            line = line.strip()
            if not line:
                continue
            blocks.append(Block("heading", line, level=1) if heading_key(line) in keys else Block("text", line))
    return ReportDocument(path, "pdf", blocks, pages[0] if pages else "", pages=len(pages), headings_known=False)


# --------------------------------------------------------------------------- Markdown
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_RULE_ROW = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _read_md(path: Path) -> ReportDocument:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise UnreadableReport("not a text file: a Markdown report (.md) must be plain text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")   # a Windows editor's default
    blocks: list[Block] = []
    table: list[list[str]] = []

    def close_table():
        if table:
            blocks.append(Block("table", rows=list(table)))
            table.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|"):
            if not _MD_RULE_ROW.match(stripped):
                table.append([c.strip().replace("<br>", "\n") for c in stripped.strip("|").split("|")])
            continue
        close_table()
        m = _MD_HEADING.match(stripped)
        if m:
            blocks.append(Block("heading", m.group(2), level=len(m.group(1))))
        elif stripped:
            blocks.append(Block("text", stripped))
    close_table()
    return ReportDocument(path, "md", blocks, text[:FIRST_PAGE_CHARS])
