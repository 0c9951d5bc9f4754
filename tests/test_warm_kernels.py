"""Warm kernels: forked from one template, yet every notebook starts from a clean kernel."""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import nbformat
import pytest

from clusnet_analysis.publish import warm
from clusnet_analysis.publish.batch import run_batch

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="warm kernels fork (Linux)")

PARAMETERS = 'period = "S3"\ndata_dir = "."\nheadline_path = "headline.json"\n'

# Every notebook ends by writing what its kernel looks like to its headline file.
OBSERVE = """\
import json, os, random, sys
import matplotlib, numpy, pandas
import clusnet_analysis.config
from clusnet_analysis.publish import warm as _warm
json.dump({
    "pid": os.getpid(),
    "forked_from": _warm.forked_from,
    "leaked_variable": "leaked_variable" in globals(),
    "max_rows": pandas.options.display.max_rows,
    "sample_dir": str(clusnet_analysis.config.SAMPLE_DATA_DIR),
    "fake_module": "clusnet_fake_module" in sys.modules,
    "linewidth": matplotlib.rcParams["lines.linewidth"],
    "numpy_random": numpy.random.random(),
    "python_random": random.random(),
    "cwd": os.getcwd(),
    "executable": sys.executable,
}, open(headline_path, "w"))
"""

MESS_UP = """\
import sys, types, matplotlib, numpy, pandas
import clusnet_analysis.config
leaked_variable = 42
pandas.options.display.max_rows = 3
clusnet_analysis.config.SAMPLE_DATA_DIR = "monkeypatched"
sys.modules["clusnet_fake_module"] = types.ModuleType("clusnet_fake_module")
matplotlib.rcParams["lines.linewidth"] = 9.5
"""

NOTICE = "warm kernels unavailable"


def _notebook(*cells: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell(PARAMETERS)
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, *(nbformat.v4.new_code_cell(cell) for cell in cells)]
    return notebook


def _project(root: Path, notebooks: dict[str, tuple[str, ...]]) -> dict[str, Path]:
    paths = {"notebooks": root / "notebooks", "data": root / "data", "reports": root / "reports"}
    paths["notebooks"].mkdir(parents=True)
    paths["data"].mkdir()
    (paths["data"] / "exchanges.csv").write_text("exchange_id\nX1\n", encoding="utf-8")
    for name, cells in notebooks.items():
        nbformat.write(_notebook(*cells), paths["notebooks"] / f"{name}.ipynb")
    return paths


def _run(paths: dict[str, Path], **kwargs):
    # one worker: the notebooks run one after the other, through the same template
    return run_batch(["S3"], paths["data"], paths["notebooks"], paths["reports"], jobs=1, **kwargs)


def _seen(paths: dict[str, Path], name: str) -> dict:
    return json.loads((paths["reports"] / "S3" / f"{name}.headline.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def warm_run(tmp_path_factory):
    """Three notebooks in one batch: the first changes everything it can, the next two look."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(warm.SWITCH, raising=False)
        paths = _project(tmp_path_factory.mktemp("warm"), {
            "01_mess_up": (MESS_UP, OBSERVE),
            "02_look": (OBSERVE,),
            "03_look_again": (OBSERVE,),
        })
        result = _run(paths)
    assert result.ok, result.summary()
    return {name: _seen(paths, name) for name in ("01_mess_up", "02_look", "03_look_again")}


@pytest.mark.slow
def test_every_notebook_gets_its_own_kernel_forked_from_one_template(warm_run):
    pids = {seen["pid"] for seen in warm_run.values()}
    templates = {seen["forked_from"] for seen in warm_run.values()}
    assert len(pids) == 3
    assert len(templates) == 1 and None not in templates  # forked, all from the same template
    assert templates.isdisjoint(pids)
    for seen in warm_run.values():
        assert seen["executable"] == sys.executable
        assert Path(seen["cwd"]).name == "notebooks"


@pytest.mark.slow
def test_a_variable_set_in_one_notebook_is_absent_in_the_next(warm_run):
    assert warm_run["01_mess_up"]["leaked_variable"] is True
    assert warm_run["02_look"]["leaked_variable"] is False
    assert warm_run["03_look_again"]["leaked_variable"] is False


@pytest.mark.slow
def test_module_state_changed_in_one_notebook_is_unchanged_in_the_next(warm_run):
    import matplotlib

    from clusnet_analysis import config

    changed = warm_run["01_mess_up"]
    assert (changed["max_rows"], changed["sample_dir"], changed["fake_module"], changed["linewidth"]) == (
        3, "monkeypatched", True, 9.5)
    for name in ("02_look", "03_look_again"):
        seen = warm_run[name]
        assert seen["max_rows"] == 60  # pandas' default
        assert seen["sample_dir"] == str(config.SAMPLE_DATA_DIR)
        assert seen["fake_module"] is False
        assert seen["linewidth"] == matplotlib.rcParamsDefault["lines.linewidth"]


@pytest.mark.slow
def test_forked_kernels_do_not_share_random_state(warm_run):
    numbers = [seen["numpy_random"] for seen in warm_run.values()]
    assert len(set(numbers)) == 3
    numbers = [seen["python_random"] for seen in warm_run.values()]
    assert len(set(numbers)) == 3


@pytest.mark.slow
def test_switched_off_the_usual_kernels_run_the_notebooks_silently(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv(warm.SWITCH, "0")
    paths = _project(tmp_path, {"01_one": (MESS_UP, OBSERVE), "02_two": (OBSERVE,)})
    result = _run(paths)
    assert result.ok, result.summary()
    first, second = _seen(paths, "01_one"), _seen(paths, "02_two")
    assert first["forked_from"] is None and second["forked_from"] is None
    assert (first["leaked_variable"], second["leaked_variable"]) == (True, False)
    assert second["max_rows"] == 60
    assert NOTICE not in capfd.readouterr().err


@pytest.mark.slow
def test_a_broken_template_falls_back_and_says_so_once(tmp_path, monkeypatch, capfd):
    monkeypatch.delenv(warm.SWITCH, raising=False)
    monkeypatch.setattr(warm.WarmKernels, "_template_command",
                        staticmethod(lambda: [sys.executable, "-c", "raise SystemExit('no template today')"]))
    paths = _project(tmp_path, {"01_one": (OBSERVE,), "02_two": (OBSERVE,), "03_three": (OBSERVE,)})
    result = _run(paths)
    assert result.ok, result.summary()
    assert [_seen(paths, name)["forked_from"] for name in ("01_one", "02_two", "03_three")] == [None] * 3
    err = capfd.readouterr().err
    assert err.count(NOTICE) == 1, err


def test_other_systems_use_the_usual_kernels_silently(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(warm.SWITCH, raising=False)
    assert warm.enabled()
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not warm.enabled()
    spec = tmp_path / "kernels" / "k" / "kernel.json"
    spec.parent.mkdir(parents=True)
    spec.write_text('{"argv": ["python", "-m", "ipykernel_launcher"]}')
    kernels = warm.WarmKernels(tmp_path, "k")
    assert kernels.start() is False
    kernels.tell()
    kernels.stop()
    assert spec.read_text() == '{"argv": ["python", "-m", "ipykernel_launcher"]}'
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_a_kernel_crash_fails_that_notebook_only(tmp_path, monkeypatch):
    monkeypatch.delenv(warm.SWITCH, raising=False)
    paths = _project(tmp_path, {
        "01_before": (OBSERVE,),
        "02_crash": ("x = 1", "import os\nos._exit(3)", "print('never')"),
        "03_after": (OBSERVE,),
    })
    result = _run(paths)
    assert [run.notebook for run in result.built] == ["01_before", "03_after"]
    [failure] = result.failed
    assert (failure.notebook, failure.cell_index) == ("02_crash", 2)
    assert "Dead" in failure.ename or "died" in failure.evalue.lower(), failure
    before, after = _seen(paths, "01_before"), _seen(paths, "03_after")
    assert before["forked_from"] is not None and before["forked_from"] == after["forked_from"]


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _gone(pid: int) -> bool:
    """Dead, or a zombie about to be reaped (waits up to 30 s: a kill is not instant)."""
    for _ in range(300):
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_a_kernel_that_ignores_interrupts_is_killed_after_a_timeout(tmp_path, monkeypatch):
    monkeypatch.delenv(warm.SWITCH, raising=False)
    stubborn = ("import json, os, signal\nfrom clusnet_analysis.publish import warm as _warm\n"
                "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                "json.dump({'pid': os.getpid(), 'forked_from': _warm.forked_from},\n"
                "          open(os.path.join(data_dir, 'stubborn.json'), 'w'))",
                "import time\nwhile True:\n    time.sleep(0.1)")
    paths = _project(tmp_path, {"01_stubborn": stubborn, "02_next": (OBSERVE,)})
    result = _run(paths, execution_timeout=2)
    [failure] = result.failed
    assert (failure.notebook, failure.ename) == ("01_stubborn", "CellTimeoutError")
    assert [run.notebook for run in result.built] == ["02_next"]
    stubborn_kernel = json.loads((paths["data"] / "stubborn.json").read_text())
    assert stubborn_kernel["forked_from"] is not None
    assert _gone(stubborn_kernel["pid"]), "the kernel that ignored the interrupt is still running"
    assert _seen(paths, "02_next")["forked_from"] == stubborn_kernel["forked_from"]


@pytest.mark.slow
def test_killing_the_client_kills_the_forked_kernel(tmp_path, monkeypatch):
    """What jupyter_client does to a kernel that will not stop: SIGKILL to the process it started."""
    import subprocess

    from clusnet_analysis.publish.execute import KERNEL_NAME, make_kernel_dir

    monkeypatch.delenv(warm.SWITCH, raising=False)
    root = make_kernel_dir(tmp_path / "k")
    kernels = warm.WarmKernels(root, KERNEL_NAME, cwd=tmp_path)
    assert kernels.start()
    try:
        argv = json.loads(kernels.spec_file.read_text())["argv"]
        connection = tmp_path / "connection.json"
        from jupyter_client.connect import write_connection_file

        write_connection_file(str(connection), transport="ipc", ip=str(tmp_path / "kc"))
        argv = [part.replace("{connection_file}", str(connection)) for part in argv]
        client = subprocess.Popen(argv, start_new_session=True)
        # the kernel's process group is its own; find it as the template's child
        kernel = None
        for _ in range(600):  # the template may still be importing; the child sets up its session
            found = _children(kernels.process.pid)
            if found and os.getsid(found[0]) == found[0]:  # its own session and process group
                [kernel] = found
                break
            assert client.poll() is None, "the client stopped before a kernel was forked"
            time.sleep(0.1)
        assert kernel is not None and Path(f"/proc/{kernel}").exists()
        os.killpg(client.pid, signal.SIGKILL)
        client.wait()
        assert _gone(kernel), "the forked kernel outlived its client"
    finally:
        kernels.stop()
    assert kernels.fallback_reason() is None
