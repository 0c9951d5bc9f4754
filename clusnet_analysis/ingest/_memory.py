"""How memory is handed out while the data layer builds (Linux only; a no-op elsewhere).

Two settings, both for the duration of a build only, both changing speed and never results:

- **Transparent huge pages off.** Measured on this project's 2-core virtual machine (issue 11):
  first touching memory in 2 MB transparent huge pages cost 2-3 s of system time per GB, in
  4 KB pages 0.7 s. numpy asks the kernel for huge pages for every array of 4 MB or more, and
  pyarrow's allocator gets them too, so loading a million exchanges (about 2.5 GB touched, much
  of it more than once) spent more time in the kernel clearing huge pages than in pandas. The
  switch (``prctl(PR_SET_THP_DISABLE)``) is per process; if the process had it set already,
  it is left alone. ``CLUSNET_HUGE_PAGES=1`` leaves huge pages on.
- **Freed memory reused, not returned at once.** glibc hands every block above its mmap
  threshold (128 KB, growing to at most 32 MB) to the kernel and back, and gives the top of its
  heap back when more than its trim threshold is free. A build makes thousands of temporary
  arrays of tens of MB: each was a fresh mapping whose pages the kernel had to clear again.
  With both thresholds at 1 GB (``mallopt``) the heap keeps and reuses them: a million
  exchanges took 8.5-9.6 s instead of 9.5-11 s, system time 2.4 s instead of 3.6 s, for about
  70 MB more peak memory. Afterwards the thresholds are set to what glibc's own adjustment
  reaches after large frees (32 MB, trim at 64 MB) and the free memory is given back
  (``malloc_trim``). ``CLUSNET_MALLOC_TUNING=0`` leaves glibc's defaults.
"""
from __future__ import annotations

import contextlib
import os
import sys

PR_SET_THP_DISABLE = 41
PR_GET_THP_DISABLE = 42
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
DURING_BUILD = {M_MMAP_THRESHOLD: 1 << 30, M_TRIM_THRESHOLD: 1 << 30}
AFTER_BUILD = {M_MMAP_THRESHOLD: 32 << 20, M_TRIM_THRESHOLD: 64 << 20}


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes, ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _prctl():
    found = None if os.environ.get("CLUSNET_HUGE_PAGES") == "1" else _libc()
    if found is None or not hasattr(found[1], "prctl"):
        return None
    ctypes, libc = found
    call = libc.prctl
    call.restype = ctypes.c_int
    # prctl is variadic: pass every argument as a full unsigned long, as the kernel reads them.
    return lambda option, arg2=0: call(ctypes.c_int(option), *(ctypes.c_ulong(a) for a in (arg2, 0, 0, 0)))


def _malloc():
    """(mallopt, malloc_trim) of glibc, or None (another C library, another system, or switched off)."""
    found = None if os.environ.get("CLUSNET_MALLOC_TUNING") == "0" else _libc()
    if found is None or not (hasattr(found[1], "mallopt") and hasattr(found[1], "malloc_trim")):
        return None
    ctypes, libc = found
    libc.mallopt.restype = libc.malloc_trim.restype = ctypes.c_int
    return (lambda param, value: libc.mallopt(ctypes.c_int(param), ctypes.c_int(value)),
            lambda: libc.malloc_trim(ctypes.c_size_t(0)))


@contextlib.contextmanager
def memory_for_build():
    prctl = _prctl()
    switched = False
    if prctl is not None:
        try:
            switched = prctl(PR_GET_THP_DISABLE) == 0 and prctl(PR_SET_THP_DISABLE, 1) == 0
        except OSError:
            switched = False
    malloc = _malloc()
    if malloc is not None:
        for param, value in DURING_BUILD.items():
            malloc[0](param, value)
    try:
        yield
    finally:
        if switched:
            prctl(PR_SET_THP_DISABLE, 0)
        if malloc is not None:
            for param, value in AFTER_BUILD.items():
                malloc[0](param, value)
            malloc[1]()
