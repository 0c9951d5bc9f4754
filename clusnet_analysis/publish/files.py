"""Writing outputs safely: readers never see half a file, and unchanged files are left alone.

Standard library only, so the batch runner's no-op check stays fast.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write beside the target, then rename: readers never see half a file."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_if_changed(path: str | Path, data: bytes | str) -> bool:
    """Atomic write, skipped when the bytes are already there (no-op rebuilds stay byte- and mtime-stable).

    Returns True when the file was (re)written.
    """
    data = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if Path(path).read_bytes() == data:
            return False
    except OSError:
        pass
    atomic_write_bytes(path, data)
    return True


def json_text(value: object) -> str:
    """Deterministic JSON: sorted keys, two-space indent, trailing newline."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
