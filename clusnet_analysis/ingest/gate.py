"""What `clusnet run` must know before it builds anything, without loading a table.

Before building, the run checks the data (schema errors stop it unless ``--allow-invalid``) and
writes a banner (synthetic sample, excluded rows). Those answers are a few counts. When the
dataset was loaded before, they are kept beside its cache as a small JSON file under the same
content key, so a run with nothing to rebuild answers them without importing pandas or
unpickling the tables. Without that file the dataset is loaded (and the file written).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from clusnet_analysis import config
from clusnet_analysis.rules.programme import Programme, load_programme, programme_file_for

CACHE_FORMAT = 1
PRIVATE_FOLDER_MODE, PRIVATE_FILE_MODE = 0o700, 0o600
_FIELDS = ("error_count", "quarantined_count", "synthetic", "fingerprint")


def programme_file_of(data_dir: Path, programme_file: str | Path | None) -> Path:
    """The rules file used for a data folder: the one given, ``$CLUSNET_PROGRAMME_FILE`` (how
    ``clusnet run --programme FILE`` reaches the notebooks' kernels), the folder's
    ``programme.toml`` or the bundled one."""
    programme_file = programme_file or os.environ.get("CLUSNET_PROGRAMME_FILE") or None
    return Path(programme_file) if programme_file else programme_file_for(data_dir)


def cache_path(data_dir: Path, programme_file: Path, show_names: bool) -> tuple[Path, dict]:
    """The dataset cache file for this content (input files, rules file, package code) and the
    input fingerprint it was keyed on."""
    from clusnet_analysis.publish.provenance import code_fingerprint, input_fingerprint

    fp = input_fingerprint(data_dir, programme_file)
    key = hashlib.sha256(f"{CACHE_FORMAT}|{fp['fingerprint']}|{code_fingerprint()}|{show_names}".encode()).hexdigest()[:24]
    return config.CACHE_DIR / "datasets" / f"{key}.pickle", fp


def summary_path(dataset_cache: Path) -> Path:
    return dataset_cache.with_name(dataset_cache.stem + ".gate.json")


@dataclass(frozen=True)
class GateSummary:
    """The counts `clusnet run` decides on, as the loaded dataset has them."""
    data_dir: Path
    programme: Programme
    error_count: int
    quarantined_count: int
    synthetic: bool
    fingerprint: str


@contextlib.contextmanager
def private_replacement(path: Path, text: bool = False):
    """A file handle whose content replaces ``path`` when the block ends without error: written
    to a temporary file beside it, owner-only from the first byte (the dataset cache holds officer
    names), then renamed over it; never a half-written file under the final name."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "w" if text else "wb", **({"encoding": "utf-8"} if text else {})) as fh:
            yield fh
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_summary(dataset_cache: Path, ds) -> None:
    """Keep the dataset's counts beside its cache (in its folder, which the cache made private)."""
    values = {"error_count": int(ds.error_count), "quarantined_count": int(ds.quarantined_count),
              "synthetic": bool(ds.synthetic), "fingerprint": ds.fingerprint}
    try:
        with private_replacement(summary_path(dataset_cache), text=True) as fh:
            json.dump(values, fh)
    except OSError:
        pass  # a read-only cache location only costs speed


def gate_summary(data_dir: str | Path | None = None, programme_file: str | Path | None = None, *,
                 show_names: bool = False):
    """The counts for the run's check: from the summary beside the dataset cache when there is
    one for this content, else from the dataset itself (loaded, cached, summary written)."""
    from clusnet_analysis.ingest.errors import InputError

    data_dir = Path(data_dir) if data_dir is not None else config.SAMPLE_DATA_DIR
    if not data_dir.is_dir():
        raise InputError(f"{data_dir}: no such data directory")
    programme_file = programme_file_of(data_dir, programme_file)
    dataset_cache, _ = cache_path(data_dir, programme_file, show_names)
    try:
        values = json.loads(summary_path(dataset_cache).read_text(encoding="utf-8"))
        return GateSummary(data_dir=data_dir, programme=load_programme(programme_file),
                           **{k: values[k] for k in _FIELDS})
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no summary yet (or a damaged one): load the dataset
    from clusnet_analysis.ingest.dataset import load

    ds = load(data_dir, programme_file, show_names=show_names)
    if dataset_cache.is_file():   # a dataset cached before summaries existed
        write_summary(dataset_cache, ds)
    return ds
