"""Output names of the batch, defined once: every writer and reader asks here."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STAMPS_DIR = ".stamps"
MANIFEST_NAME = "manifest.json"
INDEX_NAME = "index.html"
FAILED_SUFFIX = ".FAILED.ipynb"
HEADLINE_SUFFIX = ".headline.json"
MANIFEST_KIND = "clusnet period reports"  # tells a period folder from figures/ or validation/


@dataclass(frozen=True)
class ReportPaths:
    """Every file one report (period folder + notebook name) writes."""

    out_dir: Path
    name: str

    @property
    def ipynb(self) -> Path:
        return self.out_dir / f"{self.name}.ipynb"

    @property
    def html(self) -> Path:
        return self.out_dir / f"{self.name}.html"

    @property
    def headline(self) -> Path:
        return self.out_dir / f"{self.name}{HEADLINE_SUFFIX}"

    @property
    def failed(self) -> Path:
        return self.out_dir / f"{self.name}{FAILED_SUFFIX}"

    @property
    def stamp(self) -> Path:
        return self.out_dir / STAMPS_DIR / f"{self.name}.json"

    def as_dict(self) -> dict[str, Path]:
        return {"ipynb": self.ipynb, "html": self.html, "headline": self.headline,
                "failed": self.failed, "stamp": self.stamp}
