"""Page counts: a PDF has them; a Word file is laid out by headless LibreOffice when it is installed
(Debian: ``libreoffice-writer-nogui``), otherwise its count is estimated from its words.

LibreOffice runs on copies in a temporary folder with its own profile: it never touches the folder
of the received reports (it leaves lock files beside what it opens), and it does not clash with a
LibreOffice the user has open. ``soffice`` exits 0 even when a conversion fails, so success is the
PDF being there.
"""
from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from pathlib import Path

WORDS_PER_PAGE = 500        # a page of report text in an 11-point font, headings and tables included
SECONDS_PER_FILE = 30       # LibreOffice time limit per file (start-up included once)


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def estimated_pages(words: int, page_breaks: int = 0) -> int:
    """Pages a text of ``words`` words fills, at least one per forced page break plus one."""
    return max(1, math.ceil(words / WORDS_PER_PAGE), page_breaks + 1)


def convert_to_pdf(paths: list[Path], out_dir: Path, soffice: str | None = None) -> dict[Path, Path | None]:
    """Each file converted to PDF by headless LibreOffice into ``out_dir``; None where it failed.

    The inputs are copied to a temporary folder first (LibreOffice writes lock files beside the
    files it opens), and LibreOffice gets a throw-away profile.
    """
    soffice = soffice or soffice_path()
    result: dict[Path, Path | None] = {p: None for p in paths}
    if not paths or soffice is None:
        return result
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="clusnet-soffice-") as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        copies = {}
        for i, p in enumerate(paths):
            copy = tmp / "in" / f"file{i:05d}{p.suffix.lower()}"
            shutil.copyfile(p, copy)
            copies[p] = copy
        command = [soffice, f"-env:UserInstallation={(tmp / 'profile').as_uri()}", "--headless", "--norestore",
                   "--nolockcheck", "--convert-to", "pdf", "--outdir", str(tmp / "out"),
                   *[str(c) for c in copies.values()]]
        try:
            subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=SECONDS_PER_FILE * (len(paths) + 1), check=False)
        except (subprocess.TimeoutExpired, OSError):
            pass   # whatever was converted before the limit is used; the rest is estimated
        for p, copy in copies.items():
            made = tmp / "out" / (copy.stem + ".pdf")
            if made.is_file() and made.stat().st_size > 0:
                target = out_dir / f"{copy.stem}.pdf"
                shutil.move(made, target)
                result[p] = target
    return result


def pdf_pages(path: Path) -> int | None:
    from pypdf import PdfReader

    try:
        return len(PdfReader(path).pages)
    except Exception:  # a damaged conversion counts as no conversion
        return None


def libreoffice_page_counts(paths: list[Path]) -> dict[Path, int]:
    """Page counts of Word files laid out by LibreOffice (files it could not convert are left out)."""
    if not paths or soffice_path() is None:
        return {}
    with tempfile.TemporaryDirectory(prefix="clusnet-pages-") as tmp:
        pdfs = convert_to_pdf(paths, Path(tmp))
        counts = {p: pdf_pages(pdf) for p, pdf in pdfs.items() if pdf is not None}
    return {p: n for p, n in counts.items() if n}
