"""What ``clusnet check-reports`` writes under ``reports/exchange_reports/``, and reading it back.

- ``findings.csv``: the findings, in the columns of the programme-rule findings;
- ``findings_by_rule.csv``: every exchange-report rule with its count;
- ``practices_draft.csv``: best practices drafted from the reports' tables, in the columns of
  ``practices.csv`` plus ``source`` (file and table): for a researcher to review, never merged;
- ``report_updates.csv``: suggested ``report_pages`` and ``report_language`` per exchange
  (suggestions, not findings);
- ``reports.csv``: one row per file read;
- ``summary.json``: the folder checked, the fingerprint of its files, counts.

The CSV files are UTF-8 with a byte-order mark, so Excel opens them with accents intact.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the findings' fingerprint is asked for by every run, before any table is loaded
    import pandas as pd

from clusnet_analysis import __version__, config

FOLDER = "exchange_reports"
FINDINGS_FILE = "findings.csv"


def output_dir(reports_root: str | Path | None = None) -> Path:
    return Path(reports_root if reports_root is not None else config.REPORTS_DIR) / FOLDER


def reports_fingerprint(report_dir: Path, files: list[Path]) -> str:
    """sha256 over the checked files' relative names and bytes."""
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.relative_to(report_dir).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(p.read_bytes()).digest())
    return digest.hexdigest()[:16]


def write_outputs(result, out_dir: Path, ds) -> list[Path]:
    from clusnet_analysis.exchange_reports.check import report_files, summarise
    from clusnet_analysis.publish.files import atomic_write_bytes, json_text

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    def write(name: str, data: bytes) -> None:
        atomic_write_bytes(out_dir / name, data)
        written.append(out_dir / name)

    def csv(df: pd.DataFrame) -> bytes:
        # With a byte-order mark, so Excel shows accented titles and names of places as written.
        return df.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")

    write(FINDINGS_FILE, csv(result.findings))
    write("findings_by_rule.csv", csv(summarise(result.findings)))
    write("practices_draft.csv", csv(result.practices))
    write("report_updates.csv", csv(result.updates))
    write("reports.csv", csv(result.files))
    files = report_files(result.report_dir)
    summary = {
        "report_dir": str(result.report_dir), "reports_fingerprint": reports_fingerprint(result.report_dir, files),
        "files": len(files), "reports_read": int((result.files["format"] != "").sum()) if len(result.files) else 0,
        "data_dir": str(ds.data_dir), "input_fingerprint": ds.fingerprint, "programme": ds.programme.id,
        "package_version": __version__, "synthetic": ds.synthetic,
        "findings_by_rule": {r: int(n) for r, n in result.findings["rule_id"].value_counts().sort_index().items()},
        "practices_drafted": len(result.practices),
        "updates_suggested": int((result.updates["update_needed"] == "yes").sum()) if len(result.updates) else 0,
    }
    write("summary.json", json_text(summary).encode("utf-8"))
    return written


def exchange_report_findings_fingerprint(reports_dir: str | Path | None = None) -> str | None:
    """sha256 of the last check's findings file (for an input fingerprint), or None when there is none."""
    path = _findings_path(reports_dir)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else None


def _findings_path(reports_dir: str | Path | None) -> Path:
    folder = output_dir(reports_dir)
    if reports_dir is not None and Path(reports_dir).name == FOLDER:   # given the folder itself
        folder = Path(reports_dir)
    return folder / FINDINGS_FILE


def load_exchange_report_findings(reports_dir: str | Path | None = None) -> pd.DataFrame | None:
    """The findings of the last ``clusnet check-reports`` (reports folder: default ``config.REPORTS_DIR``),
    or None when the reports were never checked."""
    import pandas as pd

    path = _findings_path(reports_dir)
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype="str", keep_default_na=False, na_values=[""], encoding="utf-8-sig")
