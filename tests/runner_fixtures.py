"""Tiny report notebooks and a real `clusnet` process, for the lock and Ctrl-C tests.

Each notebook declares the parameters `clusnet run` injects, appends "<tag> start|end <time>"
to $CLUSNET_TEST_LOG, and sleeps $CLUSNET_TEST_SLEEP seconds in periods other than
$CLUSNET_TEST_FAST_PERIOD, so a test decides how long a run lasts and where it stops.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

PARAMETERS = """\
period = "S3"
data_dir = None
headline_path = None
show_names = False
allow_invalid = False
"""

WORK = """\
import json, os, time
log = os.environ.get("CLUSNET_TEST_LOG")
tag = os.environ.get("CLUSNET_TEST_TAG", "?")
def note(what):
    if log:
        with open(log, "a") as handle:
            handle.write(f"{tag} {what} {time.time():.3f} {period}\\n")
note("start")
if period != os.environ.get("CLUSNET_TEST_FAST_PERIOD", ""):
    time.sleep(float(os.environ.get("CLUSNET_TEST_SLEEP", "0")))
with open(headline_path, "w") as handle:
    json.dump({"period": period, "programme_file": os.environ.get("CLUSNET_PROGRAMME_FILE")}, handle)
note("end")
print("done", period)
"""


def write_tiny_notebooks(folder: Path, names=("01_first", "02_second")) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        notebook.metadata["language_info"] = {"name": "python"}
        parameters = nbformat.v4.new_code_cell(PARAMETERS)
        parameters.metadata["tags"] = ["parameters"]
        notebook.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), parameters,
                          nbformat.v4.new_code_cell(WORK)]
        nbformat.write(notebook, folder / f"{name}.ipynb")
    return folder


def clusnet_env(root: Path, **extra: str) -> dict:
    """Private reports, cache, notebooks and temporary folders for one test's processes."""
    tmp = root / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CLUSNET_REPORTS_DIR": str(root / "reports"), "CLUSNET_CACHE_DIR": str(root / "cache"),
           "CLUSNET_NOTEBOOKS_DIR": str(root / "notebooks"), "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1",
           "CLUSNET_TEST_LOG": str(root / "log.txt")}
    env.pop("CLUSNET_PROGRAMME_FILE", None)
    env.update(extra)
    return env


def start_clusnet(*args: str, env: dict, **kwargs) -> subprocess.Popen:
    """`clusnet ...` in a session of its own: a test can send Ctrl-C to its whole process group.

    Ctrl-C as in a terminal: the child starts with SIGINT's default action even when the test
    run itself ignores it (a shell starts a background job, `make test &`, with SIGINT ignored,
    and Python then never installs its own handler: the interrupt tests failed that way).
    """
    import signal

    return subprocess.Popen([sys.executable, "-m", "clusnet_analysis", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL), **kwargs)


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains text (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text.encode() in cmdline and state != "Z":
            found.append(int(entry.name))
    return found
