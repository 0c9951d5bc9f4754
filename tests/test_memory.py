"""The data layer's memory settings hold for the build only, and change speed, never results."""
from __future__ import annotations

import sys

import pytest

from clusnet_analysis.ingest import _memory


def test_malloc_thresholds_are_raised_for_the_build_and_set_back_with_a_trim(monkeypatch):
    calls = []
    monkeypatch.setattr(_memory, "_prctl", lambda: None)
    monkeypatch.setattr(_memory, "_malloc", lambda: (lambda p, v: calls.append((p, v)) or 1,
                                                     lambda: calls.append("trim") or 1))
    with _memory.memory_for_build():
        assert calls == [(-3, 1 << 30), (-1, 1 << 30)]
    assert calls[2:] == [(-3, 32 << 20), (-1, 64 << 20), "trim"]


def test_set_back_even_when_the_build_fails(monkeypatch):
    calls = []
    monkeypatch.setattr(_memory, "_prctl", lambda: None)
    monkeypatch.setattr(_memory, "_malloc", lambda: (lambda p, v: calls.append((p, v)) or 1,
                                                     lambda: calls.append("trim") or 1))
    with pytest.raises(ValueError):
        with _memory.memory_for_build():
            raise ValueError("bad data")
    assert calls[-1] == "trim" and calls[-3] == (-3, 32 << 20)


def test_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("CLUSNET_MALLOC_TUNING", "0")
    monkeypatch.setenv("CLUSNET_HUGE_PAGES", "1")
    assert _memory._malloc() is None and _memory._prctl() is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and prctl are Linux")
def test_the_real_calls_succeed_and_huge_pages_come_back(monkeypatch):
    monkeypatch.delenv("CLUSNET_MALLOC_TUNING", raising=False)
    monkeypatch.delenv("CLUSNET_HUGE_PAGES", raising=False)
    prctl = _memory._prctl()
    if prctl is None or _memory._malloc() is None:
        pytest.skip("not glibc")
    before = prctl(_memory.PR_GET_THP_DISABLE)
    with _memory.memory_for_build():
        assert prctl(_memory.PR_GET_THP_DISABLE) == 1
        mallopt, trim = _memory._malloc()
        assert mallopt(_memory.M_MMAP_THRESHOLD, 1 << 30) == 1
    assert prctl(_memory.PR_GET_THP_DISABLE) == before
