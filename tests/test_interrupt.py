"""Ctrl-C (SIGINT to the foreground process group) stops `clusnet run` and `clusnet figures`
within a few seconds, says what was left unbuilt, exits 130, leaves no kernel running and no
half-written file under a final name; the next plain run rebuilds exactly what is missing.

Real processes on tiny notebooks (tests/runner_fixtures.py), interrupted at several points.
"""
from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import pytest

from clusnet_analysis import config

from runner_fixtures import clusnet_env, processes_mentioning, start_clusnet, write_tiny_notebooks

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds processes through Linux /proc")]

PERIODS = ["S3", "S4", "S5", "final"]
NOTEBOOKS = ["01_first", "02_second"]


class _Watched:
    """A running clusnet process whose output lines are collected as they come."""

    def __init__(self, process):
        self.process = process
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(process.stdout), daemon=True).start()

    def wait_for(self, pattern: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not any(re.search(pattern, line) for line in self.lines):
            assert self.process.poll() is None, f"ended before {pattern!r}: {self.lines}"
            assert time.monotonic() < deadline, f"no {pattern!r} in {self.lines}"
            time.sleep(0.1)

    def interrupt(self, limit: float = 10.0) -> tuple[int, str, float]:
        sent = time.monotonic()
        os.killpg(self.process.pid, signal.SIGINT)     # what Ctrl-C in a terminal does
        self.process.wait(timeout=60)
        return self.process.returncode, self.process.stderr.read(), time.monotonic() - sent


def _reports(root: Path) -> Path:
    return root / "reports"


def _no_broken_files(reports: Path) -> None:
    """Nothing half written: no temporary file left, and every final file is whole."""
    leftovers = [p.name for p in reports.rglob("*") if p.name.endswith((".tmp", ".running.ipynb"))]
    assert leftovers == []
    for path in reports.rglob("*.ipynb"):
        json.loads(path.read_text(encoding="utf-8"))
    for path in reports.rglob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    for path in reports.rglob("*.html"):
        assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), path


def _unbuilt(stderr: str) -> set[str]:
    match = re.search(r"left unbuilt: (.*?)\. Run the same command", stderr)
    return set(match.group(1).split(", ")) if match else set()


def _run(root: Path, **env) -> _Watched:
    return _Watched(start_clusnet("run", "--period", "all", "--jobs", "2", "--data", str(config.SAMPLE_DATA_DIR),
                                  env=clusnet_env(root, **env)))


def _run_until_two_kernels_sleep(root: Path) -> _Watched:
    """A run whose first period (S3) is built and whose next two notebooks' kernels sleep (up to 2 min)."""
    write_tiny_notebooks(root / "notebooks")
    run = _run(root, CLUSNET_TEST_SLEEP="60", CLUSNET_TEST_FAST_PERIOD="S3")
    run.wait_for(r"\[2/8\] S3/\S+ built")
    deadline = time.monotonic() + 120
    while len(processes_mentioning(str(root / "tmp"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    return run


def _finish_and_check_rebuild(root: Path, expected: set[str]) -> None:
    import subprocess
    import sys

    rerun = subprocess.run([sys.executable, "-m", "clusnet_analysis", "run", "--period", "all", "--jobs", "2",
                            "--data", str(config.SAMPLE_DATA_DIR)], env=clusnet_env(root, CLUSNET_TEST_SLEEP="0"),
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert set(re.findall(r"\] (\S+) built in", rerun.stdout)) == expected
    assert len(re.findall(r"\] \S+ up to date", rerun.stdout)) == 8 - len(expected)
    _no_broken_files(_reports(root))


def test_ctrl_c_while_kernels_run_stops_everything_and_the_rerun_builds_the_rest(tmp_path):
    """Interrupted after the first period was built, while two kernels sleep in the next one."""
    run = _run_until_two_kernels_sleep(tmp_path)
    assert len(processes_mentioning(str(tmp_path / "tmp"))) >= 2
    code, stderr, seconds = run.interrupt()
    assert code == 130, stderr
    assert seconds < 10
    assert "Traceback" not in stderr
    unbuilt = _unbuilt(stderr)
    assert unbuilt == {f"{p}/{n}" for p in PERIODS[1:] for n in NOTEBOOKS}, stderr
    assert "2 report(s) built before the interruption" in stderr
    time.sleep(2)   # a kernel's own parent watch would need about a second: none may be left at all
    assert processes_mentioning(str(tmp_path / "tmp")) == []
    _no_broken_files(_reports(tmp_path))
    # the index pages say what is missing, and no stamp claims an unbuilt report is current
    for period in PERIODS[1:]:
        manifest = json.loads((_reports(tmp_path) / period / "manifest.json").read_text())
        assert {r["status"] for r in manifest["reports"]} == {"missing"}
    _finish_and_check_rebuild(tmp_path, unbuilt)


def test_ctrl_c_during_a_forced_rebuild_keeps_old_reports_stale_never_half_new(tmp_path):
    """Everything built once; then `--force` is interrupted while every kernel sleeps.

    The old reports stay whole under their names, their stamps are gone (so they show as
    stale and are rebuilt), and the next plain run rebuilds exactly the unbuilt ones."""
    write_tiny_notebooks(tmp_path / "notebooks")
    _finish_and_check_rebuild(tmp_path, {f"{p}/{n}" for p in PERIODS for n in NOTEBOOKS})
    before = {p: p.read_bytes() for p in _reports(tmp_path).glob("*/0*.html")}
    forced = _Watched(start_clusnet("run", "--period", "all", "--jobs", "2", "--force",
                                    "--data", str(config.SAMPLE_DATA_DIR),
                                    env=clusnet_env(tmp_path, CLUSNET_TEST_SLEEP="60", CLUSNET_TEST_TAG="F")))
    log = tmp_path / "log.txt"
    deadline = time.monotonic() + 240
    while log.read_text().count("F start") < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    code, stderr, seconds = forced.interrupt()
    assert code == 130 and seconds < 10, stderr
    unbuilt = _unbuilt(stderr)
    assert len(unbuilt) == 8
    time.sleep(2)
    assert processes_mentioning(str(tmp_path / "tmp")) == []
    _no_broken_files(_reports(tmp_path))
    for path, content in before.items():        # whole old reports, or none: never a mix
        assert not path.exists() or path.read_bytes() == content
    status = {f"{period}/{r['notebook']}": r["status"] for period in PERIODS
              for r in json.loads((_reports(tmp_path) / period / "manifest.json").read_text())["reports"]}
    # the two notebooks that were running lost their stamps: stale; the six never started are current
    stale = {name for name, state in status.items() if state == "stale"}
    assert stale == {"S3/01_first", "S3/02_second"}, status
    assert {state for name, state in status.items() if name not in stale} == {"ok"}
    _finish_and_check_rebuild(tmp_path, stale)


def test_ctrl_c_in_figures_stops_it_and_the_next_run_finishes(tmp_path):
    env = clusnet_env(tmp_path)
    figures = _reports(tmp_path) / "figures"
    watched = _Watched(start_clusnet("figures", "--data", str(config.SAMPLE_DATA_DIR), env=env))
    deadline = time.monotonic() + 300
    while not list(figures.glob("*.png")) and time.monotonic() < deadline:
        assert watched.process.poll() is None
        time.sleep(0.05)
    code, stderr, seconds = watched.interrupt()
    assert code == 130 and seconds < 10, stderr
    assert "Interrupted:" in stderr and "figure(s) finished" in stderr and "Traceback" not in stderr
    assert not (figures / "manifest.json").exists()
    assert [p.name for p in figures.iterdir() if p.name.startswith(".")] == []
    again = start_clusnet("figures", "--data", str(config.SAMPLE_DATA_DIR), env=env)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    manifest = json.loads((figures / "manifest.json").read_text())
    assert {o["path"] for o in manifest["outputs"]} == {p.name for p in figures.iterdir()
                                                         if p.name != "manifest.json"}


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                pass
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_9_of_the_run_leaves_no_worker_or_kernel_and_nothing_half_written(tmp_path):
    run = _run_until_two_kernels_sleep(tmp_path)
    workers = _children(run.process.pid)
    assert workers
    os.kill(run.process.pid, signal.SIGKILL)
    run.process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while (any(_alive(w) for w in workers) or processes_mentioning(str(tmp_path / "tmp"))) \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [w for w in workers if _alive(w)] == []
    assert processes_mentioning(str(tmp_path / "tmp")) == []
    # hidden leftovers of the killed workers may remain; no final name holds half a file
    for path in _reports(tmp_path).rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            if path.suffix in (".ipynb", ".json"):
                json.loads(path.read_text(encoding="utf-8"))
            if path.suffix == ".html":
                assert path.read_text(encoding="utf-8").rstrip().endswith("</html>")
    _finish_and_check_rebuild(tmp_path, {f"{p}/{n}" for p in PERIODS[1:] for n in NOTEBOOKS})
