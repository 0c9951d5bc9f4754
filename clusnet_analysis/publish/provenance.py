"""Content fingerprints: which data, rules and code a report was built from.

The batch runner decides "up to date" from these hashes, never from file
modification times: a fresh checkout or copy changes mtimes without changing
content, and a restored backup can make changed data look old.
Only the standard library is imported so a no-op check stays fast.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from clusnet_analysis import __version__
from clusnet_analysis.config import PACKAGE_DIR
from clusnet_analysis.rules.programme import ProgrammeError, load_programme, programme_file_for

# Files the loader may read from a data directory. Anything else (notes, images)
# does not change the numbers, so it does not invalidate reports.
DATA_SUFFIXES = frozenset({".csv", ".tsv", ".xlsx", ".xls", ".toml", ".txt"})
# The package's own sources: a code change must rebuild reports even without a
# version bump.
CODE_SUFFIXES = frozenset({".py", ".toml", ".j2", ".tpl", ".css"})
SHORT_HASH_CHARS = 16
_CHUNK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _visible_files(root: Path, suffixes: frozenset[str]) -> list[Path]:
    """Files under root with one of the suffixes, skipping hidden files/folders and caches."""
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
            continue
        if path.suffix.lower() in suffixes and path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _combine(pairs: list[tuple[str, str]]) -> str:
    """One hash over (name, content hash) pairs; names count so a rename invalidates too."""
    digest = hashlib.sha256()
    for name, content_hash in pairs:
        digest.update(name.encode("utf-8"))
        digest.update(b"\0")
        digest.update(content_hash.encode("ascii"))
        digest.update(b"\n")
    return digest.hexdigest()


def input_fingerprint(data_dir: str | Path, programme_file: str | Path | None = None) -> dict:
    """Fingerprint of everything a report reads: the data files and the programme rules.

    Returns {"fingerprint": short hash, "files": {relative name: sha256},
    "programme_file": path str, "programme_sha256": sha256, "package_version": version}.
    Data files are found recursively (csv/tsv/xlsx/xls/toml/txt), hidden files and
    folders skipped. Paths do not enter the fingerprint, only names relative to the
    data dir and content, so the same data elsewhere gives the same fingerprint.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data folder not found: {data_dir}")
    files = {
        path.relative_to(data_dir).as_posix(): file_sha256(path)
        for path in _visible_files(data_dir, DATA_SUFFIXES)
    }
    # explicit file, else data_dir/programme.toml, else the bundled programme file
    programme_path = Path(programme_file) if programme_file is not None else programme_file_for(data_dir)
    programme_sha = file_sha256(programme_path)
    pairs = sorted(files.items())
    pairs.append(("<programme>", programme_sha))
    model = _own_cluster_model(programme_path, data_dir)
    if model is not None:   # a model file beside an outside programme file is read too
        pairs.append(("<cluster_model>", file_sha256(model)))
    pairs.append(("<package_version>", hashlib.sha256(__version__.encode()).hexdigest()))
    return {
        "fingerprint": _combine(pairs)[:SHORT_HASH_CHARS],
        "files": files,
        "programme_file": str(programme_path),
        "programme_sha256": programme_sha,
        "package_version": __version__,
    }


def _own_cluster_model(programme_path: Path, data_dir: Path) -> Path | None:
    """The programme's cluster model file when neither the data files nor the package code cover it."""
    try:
        model = load_programme(programme_path).cluster_model_file
    except ProgrammeError:
        return None   # the loader reports the broken file
    if model is None:
        return None
    model = model.resolve()
    if model.is_relative_to(PACKAGE_DIR) or model.is_relative_to(data_dir.resolve()):
        return None
    return model


def code_fingerprint(package_dir: str | Path | None = None) -> str:
    """Short hash of the package's own sources (.py/.toml/templates).

    Not cached: a long-lived Jupyter session that edits the package must see the change.
    """
    root = Path(package_dir) if package_dir is not None else PACKAGE_DIR
    pairs = [
        (path.relative_to(root).as_posix(), file_sha256(path))
        for path in _visible_files(root, CODE_SUFFIXES)
    ]
    return _combine(pairs)[:SHORT_HASH_CHARS]


def folder_outputs(folder: str | Path, manifest_name: str = "manifest.json") -> list[dict]:
    """A manifest's ``outputs``: every file in the folder (path, sha256, bytes), sorted.

    The manifest itself and hidden entries (stamps, temporary files) are left out.
    """
    folder = Path(folder)
    outputs = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if relative.as_posix() == manifest_name or not path.is_file():
            continue
        outputs.append({"path": relative.as_posix(), "sha256": file_sha256(path), "bytes": path.stat().st_size})
    return sorted(outputs, key=lambda entry: entry["path"])
