"""Transparent huge pages off while the data layer builds (Linux only; a no-op elsewhere).

Measured on this project's 2-core virtual machine (issue 11): first touching memory in
2 MB transparent huge pages cost 2-3 s of system time per GB, in 4 KB pages 0.7 s. numpy
asks the kernel for huge pages for every array of 4 MB or more, and pyarrow's allocator
gets them too, so loading a million exchanges (about 2.5 GB touched, much of it more than
once) spent more time in the kernel clearing huge pages than in pandas. Results are the
same either way: only how memory is mapped changes.

The switch (``prctl(PR_SET_THP_DISABLE)``) is per process, so it is set for the duration
of a build only and put back afterwards; if the process had it set already, it is left alone.
Set ``CLUSNET_HUGE_PAGES=1`` to leave huge pages on.
"""
from __future__ import annotations

import contextlib
import os
import sys

PR_SET_THP_DISABLE = 41
PR_GET_THP_DISABLE = 42


def _prctl():
    if not sys.platform.startswith("linux") or os.environ.get("CLUSNET_HUGE_PAGES") == "1":
        return None
    try:
        import ctypes

        call = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    call.restype = ctypes.c_int
    # prctl is variadic: pass every argument as a full unsigned long, as the kernel reads them.
    return lambda option, arg2=0: call(ctypes.c_int(option), *(ctypes.c_ulong(a) for a in (arg2, 0, 0, 0)))


@contextlib.contextmanager
def no_huge_pages():
    prctl = _prctl()
    switched = False
    if prctl is not None:
        try:
            switched = prctl(PR_GET_THP_DISABLE) == 0 and prctl(PR_SET_THP_DISABLE, 1) == 0
        except OSError:
            switched = False
    try:
        yield
    finally:
        if switched:
            prctl(PR_SET_THP_DISABLE, 0)
