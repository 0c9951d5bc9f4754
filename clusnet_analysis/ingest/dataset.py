"""One call from a data directory to everything the analyses need.

``load(data_dir)`` reads and validates the tables, builds the derived tables
(exchanges view, expenses in EUR, per-exchange costs) and checks the programme
rules. The result is cached by content (input files, programme file, package
code), so notebooks that all load the same data pay for it once. The cache lives
outside the data directory (raw data stays untouched) and holds personal data
(officer names): its folders are 0700 and its files 0600.
"""
from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from clusnet_analysis import __version__, config
from clusnet_analysis.ingest.errors import InputError
from clusnet_analysis.ingest.gate import (PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE, cache_path,  # noqa: F401
                                         private_replacement, programme_file_of, write_summary)
from clusnet_analysis.ingest.quarantine import ErrorCounts
from clusnet_analysis.rules.programme import ClusterModel, Programme, load_cluster_model, load_programme

@dataclass
class Dataset(ErrorCounts):
    data_dir: Path
    programme: Programme
    model: ClusterModel
    tables: dict[str, pd.DataFrame]      # valid rows only, typed
    errors: pd.DataFrame                 # schema errors (file, row, column, value, problem)
    quarantine: dict[str, pd.DataFrame]  # rejected rows with their problems
    rows_read: dict[str, int]
    files: dict[str, str]
    notes: list[str]
    exchanges: pd.DataFrame              # exchanges view (pseudonyms, home city, period…)
    expenses: pd.DataFrame               # expense lines in EUR
    costs: pd.DataFrame                  # one row per exchange, EUR per category
    findings: pd.DataFrame               # programme-rule findings
    synthetic: bool
    provenance: dict = field(default_factory=dict)
    show_names: bool = False

    @property
    def fingerprint(self) -> str:
        return self.provenance.get("fingerprint", "")

    def table_summary(self) -> pd.DataFrame:
        """One row per table: whether the programme uses it, file, rows read, valid, quarantined."""
        return pd.DataFrame({
            "table": list(self.tables),
            "used": [self.programme.uses(t) for t in self.tables],
            "file": [self.files.get(t) for t in self.tables],
            "rows_read": [self.rows_read.get(t, 0) for t in self.tables],
            "rows_valid": [len(rows) for rows in self.tables.values()],
            "rows_quarantined": [len(self.quarantine.get(t, ())) for t in self.tables],
        })

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def rule_summary(self) -> pd.DataFrame:
        """Findings per rule with each rule's status ("on"/"off") and its limit in words."""
        from clusnet_analysis.rules.checks import summarise

        return summarise(self.findings, self.programme)

    def provenance_line(self, **parameters) -> str:
        params = ", ".join(f"{k}={v}" for k, v in sorted(parameters.items()))
        return (f"input {self.fingerprint} · clusnet_analysis {__version__} · rules {self.programme.id}"
                + (f" · {params}" if params else "") + (" · SYNTHETIC SAMPLE DATA" if self.synthetic else ""))


def build(data_dir: str | Path, programme_file: str | Path | None = None, show_names: bool = False,
          provenance: dict | None = None) -> Dataset:
    """Read, validate, derive and check, without any cache."""
    from clusnet_analysis.ingest._memory import memory_for_build
    from clusnet_analysis.rules.programme import programme_file_for

    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: no such data directory")
    programme_file = Path(programme_file) if programme_file else programme_file_for(data_dir)
    programme = load_programme(programme_file)
    model = load_cluster_model(programme)
    with memory_for_build():
        return _build(data_dir, programme, model, show_names, provenance)


def _build(data_dir: Path, programme: Programme, model: ClusterModel, show_names: bool,
           provenance: dict | None) -> Dataset:
    from clusnet_analysis.ingest._arrow import positions
    from clusnet_analysis.ingest.io import read_inputs
    from concurrent.futures import ThreadPoolExecutor

    from clusnet_analysis.rules.checks import check_rules, concurrent_absences
    from clusnet_analysis.ingest.transforms import exchange_costs, exchanges_view, expenses_eur
    from clusnet_analysis.ingest.validation import validate

    result = validate(read_inputs(data_dir), programme, model)  # raw text frames are freed here
    # Validation found each exchange's officer and each expense line's exchange: not again here.
    view = exchanges_view(result.tables, programme, show_names=show_names,
                          officer_pos=result.lookups.get(("exchanges", "officer_id")))
    exchange_pos = result.lookups.get(("expenses", "exchange_id"))
    if exchange_pos is None:
        exchange_pos = positions(view["exchange_id"], result.tables["expenses"]["exchange_id"])  # once, for both
    # The overlap of absences needs the exchanges only: on the other core while expenses convert
    # (numpy and Arrow release the GIL for their heavy steps).
    with ThreadPoolExecutor(max_workers=1) as pool:
        concurrent = pool.submit(concurrent_absences, view, programme)
        expenses = expenses_eur(result.tables, programme, view, exchange_pos)
        costs = exchange_costs(result.tables, programme, view, expenses, exchange_pos)
        findings = check_rules(result.tables, programme, view, expenses, costs, concurrent=concurrent.result)
    return Dataset(
        data_dir=data_dir, programme=programme, model=model, tables=result.tables, errors=result.errors,
        quarantine=result.quarantine, rows_read=result.rows_read, files=result.files, notes=result.notes,
        exchanges=view, expenses=expenses, costs=costs, findings=findings,
        synthetic=(data_dir / config.SYNTHETIC_MARKER).is_file(), provenance=provenance or {},
        show_names=show_names,
    )


def load(data_dir: str | Path | None = None, programme_file: str | Path | None = None, *,
         show_names: bool = False, use_cache: bool = True) -> Dataset:
    """The dataset for a data directory (default: the bundled synthetic sample)."""
    data_dir = Path(data_dir) if data_dir is not None else config.SAMPLE_DATA_DIR
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: no such data directory")
    programme_file = programme_file_of(data_dir, programme_file)
    path, fp = cache_path(data_dir, programme_file, show_names)
    if use_cache and path.is_file():
        try:
            with open(path, "rb") as fh:
                ds = pickle.load(fh)
            ds.data_dir = data_dir
            return ds
        except Exception:  # a stale or truncated cache is rebuilt, never trusted
            pass
    ds = build(data_dir, programme_file, show_names=show_names, provenance=fp)
    if use_cache:
        try:
            private_folder(path.parent)
            with private_replacement(path) as fh:   # the cached tables hold officer names
                pickle.dump(ds, fh, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError:
            pass  # a read-only cache location only costs speed
        write_summary(path, ds)   # what `clusnet run` checks next time, without unpickling
    return ds




def private_folder(folder: Path) -> Path:
    """Create the cache folder (and its sub-folders) readable by their owner only.

    Every level from the cache root down is made 0700, also when it already existed with
    wider permissions; folders above the cache root are left as they are.
    """
    root = Path(config.CACHE_DIR)
    folder = Path(folder)
    levels = [folder, *folder.parents]
    chain = levels[: levels.index(root) + 1] if root in levels else [folder]
    for level in reversed(chain):
        level.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True, exist_ok=True)
        if level.stat().st_uid == os.getuid():
            os.chmod(level, PRIVATE_FOLDER_MODE)
    return folder
