"""One writer per reports folder: a second `clusnet run` / `clusnet figures` waits or refuses,
the two never interleave, and a lock left by a killed process is taken over."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from clusnet_analysis import config
from clusnet_analysis.publish.lock import LOCK_NAME, FolderBusy, lock_holder, reports_lock

from runner_fixtures import clusnet_env, start_clusnet, write_tiny_notebooks

HOLD = textwrap.dedent("""
    import sys, time
    from clusnet_analysis.publish.lock import reports_lock
    with reports_lock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def _holder(reports, seconds: float) -> subprocess.Popen:
    """Another process holding the folder's lock (a real one: flock is per process)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(reports), str(seconds)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_lock_records_the_holder_and_is_released(tmp_path):
    with reports_lock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())
    assert lock_holder(tmp_path) is None
    with reports_lock(tmp_path):   # taken again at once
        pass


def test_second_holder_refused_without_waiting(tmp_path):
    holder = _holder(tmp_path, 30)
    try:
        assert lock_holder(tmp_path) == str(holder.pid)
        with pytest.raises(FolderBusy, match=f"in use by another clusnet command \\(process {holder.pid}\\)"):
            with reports_lock(tmp_path, wait=False):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_waiting_holder_says_so_and_gets_the_lock_when_the_other_ends(tmp_path):
    holder = _holder(tmp_path, 2)
    messages = []
    started = time.monotonic()
    with reports_lock(tmp_path, on_wait=messages.append):
        waited = time.monotonic() - started
    holder.wait()
    assert waited > 1.0                           # held until the other one's two seconds were up
    assert len(messages) == 1 and "waiting for it to finish" in messages[0] and str(holder.pid) in messages[0]


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path):
    holder = _holder(tmp_path, 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (tmp_path / LOCK_NAME).read_text().strip() == str(holder.pid)   # the stale file remains
    assert lock_holder(tmp_path) is None                                    # ... but binds nobody
    with reports_lock(tmp_path, wait=False):
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())


@pytest.mark.parametrize("command", [["run", "--period", "S3"], ["figures"]])
def test_cli_no_wait_refuses_with_exit_2_while_another_command_holds_the_folder(tmp_path, command):
    env = clusnet_env(tmp_path)
    reports = tmp_path / "reports"
    holder = _holder(reports, 120)
    try:
        result = subprocess.run([sys.executable, "-m", "clusnet_analysis", *command, "--no-wait",
                                 "--data", str(config.SAMPLE_DATA_DIR)],
                                env=env, capture_output=True, text=True, timeout=300)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 2, result.stderr
    assert result.stderr == (f"clusnet: error: the reports folder {reports} is in use by another clusnet "
                             f"command (process {holder.pid}); try again when it has finished\n")
    assert not list(reports.rglob("*.html")) and not (reports / "figures").exists()


@pytest.mark.slow
def test_two_real_runs_on_one_folder_never_interleave(tmp_path):
    """Two `clusnet run --force` at once: the second says it waits, then runs after the first."""
    write_tiny_notebooks(tmp_path / "notebooks")
    common = ["run", "--period", "S3", "--jobs", "2", "--force", "--data", str(config.SAMPLE_DATA_DIR)]
    first = start_clusnet(*common, env=clusnet_env(tmp_path, CLUSNET_TEST_TAG="A", CLUSNET_TEST_SLEEP="3"))
    log = tmp_path / "log.txt"
    deadline = time.monotonic() + 240
    while not (log.is_file() and "A start" in log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    second = start_clusnet(*common, env=clusnet_env(tmp_path, CLUSNET_TEST_TAG="B", CLUSNET_TEST_SLEEP="0"))
    out_a, err_a = first.communicate(timeout=300)
    out_b, err_b = second.communicate(timeout=300)
    assert (first.returncode, second.returncode) == (0, 0), err_a + err_b
    assert "is in use by another clusnet command" in err_b and "waiting for it to finish" in err_b
    events = [line.split() for line in log.read_text().splitlines()]
    a_times = [float(t) for tag, _, t, _ in events if tag == "A"]
    b_times = [float(t) for tag, _, t, _ in events if tag == "B"]
    assert len(a_times) == len(b_times) == 4          # 2 notebooks x start, end
    assert max(a_times) < min(b_times)                # B's notebooks all ran after A's
    assert "2 built" in out_b
