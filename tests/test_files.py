"""Safe writes (publish/files.py): a write that fails part-way leaves the old file whole.

A reader (a browser, Excel, the next batch run) must see either the old file or the
new one, never half of the new one, and a failure must not leave temporary files.
"""
from __future__ import annotations

import errno
import os

import pytest

from clusnet_analysis.publish import files
from clusnet_analysis.publish.files import atomic_write_bytes, json_text, write_if_changed

OLD = b"old report, complete\n" * 100
NEW = b"new report, complete\n" * 200


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "report.html")


def test_atomic_write_replaces_the_content(tmp_path):
    target = tmp_path / "report.html"
    target.write_bytes(OLD)
    atomic_write_bytes(target, NEW)
    assert target.read_bytes() == NEW
    assert _leftovers(tmp_path) == []


def test_a_write_that_fails_part_way_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    target.write_bytes(OLD)
    real_open = open

    class DiskFull:
        """A file handle that writes the first half of the data, then runs out of space."""

        def __init__(self, path, mode):
            self.handle = real_open(path, mode)

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    monkeypatch.setattr(files, "open", DiskFull, raising=False)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_bytes(target, NEW)
    assert target.read_bytes() == OLD
    assert _leftovers(tmp_path) == []


def test_a_failed_rename_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    target.write_bytes(OLD)

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "file is open in another program", str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        atomic_write_bytes(target, NEW)
    assert target.read_bytes() == OLD
    assert _leftovers(tmp_path) == []


def test_the_target_keeps_its_old_content_until_the_new_one_is_complete(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    target.write_bytes(OLD)
    real_replace = os.replace
    seen = []

    def watch(src, dst):
        # At the moment of the rename: the target is still the old file, the new bytes are
        # complete beside it, in the same folder (a rename across file systems is not atomic).
        seen.append((os.path.dirname(src) == os.path.dirname(dst), open(dst, "rb").read() == OLD,
                     open(src, "rb").read() == NEW))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", watch)
    atomic_write_bytes(target, NEW)
    assert seen == [(True, True, True)]
    assert target.read_bytes() == NEW
    assert _leftovers(tmp_path) == []


def test_write_if_changed_skips_identical_bytes(tmp_path):
    target = tmp_path / "report.html"
    assert write_if_changed(target, "été\n") is True            # new file, text written as UTF-8
    assert target.read_bytes() == "été\n".encode("utf-8")
    os.utime(target, (1_000_000_000, 1_000_000_000))
    assert write_if_changed(target, "été\n".encode("utf-8")) is False
    assert target.stat().st_mtime == 1_000_000_000                # untouched
    assert write_if_changed(target, "changed\n") is True
    assert target.read_bytes() == b"changed\n"
    assert _leftovers(tmp_path) == []


def test_json_text_is_deterministic():
    assert json_text({"b": 1, "a": ["é", None]}) == '{\n  "a": [\n    "é",\n    null\n  ],\n  "b": 1\n}\n'
