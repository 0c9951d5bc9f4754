"""Content stamps: what a report was built from, so an unchanged report is never rebuilt."""
from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

# Library versions that can change a report's numbers or figures.
ENVIRONMENT_DISTRIBUTIONS = (
    "pandas", "numpy", "pandera", "matplotlib", "networkx",
    "papermill", "nbconvert", "nbclient", "ipykernel",
)
STAMP_FORMAT = 1  # bump when the stamp's meaning changes  # bump when the stamp's meaning changes


def environment_fingerprint() -> dict:
    """Python and library versions: an upgraded pandas may change the numbers."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for distribution in ENVIRONMENT_DISTRIBUTIONS:
        try:
            versions[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            versions[distribution] = None
    return versions


def _canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _stamp_record(period: str, notebook: str, notebook_sha256: str, inputs: str, code: str,
                  environment: dict, parameters: dict, extra: dict) -> dict:
    """Everything an output depends on, and its hash (the part compared on the next run)."""
    record = {
        "format": STAMP_FORMAT,
        "period": period,
        "notebook": notebook,
        "notebook_sha256": notebook_sha256,
        "inputs": inputs,
        "code": code,
        "environment": environment,
        "parameters": parameters,
        "extra": extra,
    }
    record["stamp"] = hashlib.sha256(_canonical_json(record).encode("utf-8")).hexdigest()
    return record


def _read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _stored_stamp(path: Path) -> str | None:
    stored = _read_json(path)
    return stored.get("stamp") if stored else None
