"""One writer per reports folder: `clusnet run` and `clusnet figures` take ``.clusnet.lock``.

The lock is an ``flock`` on ``<reports>/.clusnet.lock``, which holds the owner's process id
for the message a waiting command prints. The operating system releases an flock when its
process ends, however it ends (Ctrl-C, ``kill -9``, a crash), so a lock left behind by a
killed process is never in force: the file may remain, with a dead pid in it, and the next
command simply takes it over. Standard library only.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_NAME = ".clusnet.lock"

try:  # POSIX; elsewhere commands run without a lock
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class FolderBusy(Exception):
    """Another clusnet command holds the reports folder and the caller chose not to wait."""


def _holder(handle) -> str:
    handle.seek(0)
    text = handle.read().strip()
    return text if text.isdigit() else "unknown"


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def reports_lock(reports_dir: str | Path, *, wait: bool = True,
                 on_wait: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold the reports folder's lock for the duration of the ``with`` block.

    wait=False raises FolderBusy at once when another command holds it; wait=True calls
    ``on_wait`` with a message, then blocks until the other command ends.
    """
    folder = Path(reports_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    if fcntl is None:  # pragma: no cover
        yield path
        return
    handle = open(path, "a+", encoding="ascii")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(handle)
            message = (f"the reports folder {folder} is in use by another clusnet command "
                       f"(process {holder})")
            if not wait:
                raise FolderBusy(message + "; try again when it has finished") from None
            if on_wait is not None:
                on_wait(message + "; waiting for it to finish (Ctrl-C to stop)")
            fcntl.flock(handle, fcntl.LOCK_EX)
        # Ours now: a pid left by a killed process is simply replaced.
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield path
    finally:
        with contextlib.suppress(OSError):
            handle.seek(0)
            handle.truncate()
        handle.close()  # closing releases the flock


def lock_holder(reports_dir: str | Path) -> str | None:
    """The pid written in the lock file when a live process holds the lock, else None."""
    path = Path(reports_dir) / LOCK_NAME
    if fcntl is None or not path.is_file():
        return None
    with open(path, "a+", encoding="ascii") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(handle)
            return holder if holder == "unknown" or _alive(holder) else None
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None
