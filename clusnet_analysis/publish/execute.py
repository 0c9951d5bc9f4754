"""Running notebooks: a kernel on this interpreter, papermill in worker processes, HTML out."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from clusnet_analysis.publish import html as pages
from clusnet_analysis.publish.files import atomic_write_bytes, json_text
from clusnet_analysis.publish.names import STAMPS_DIR, ReportPaths
from clusnet_analysis.publish.stamps import _read_json

if TYPE_CHECKING:
    from clusnet_analysis.publish.plan import _Plan, _Task

KERNEL_NAME = "clusnet-runner-python"


def make_kernel_dir(root: str | Path) -> Path:
    """A Jupyter data dir holding a kernelspec that runs *this* interpreter.

    A user's registered "python3" kernel may point at another Python (without the
    package, or with other library versions); reports must come from this one.
    Add the returned folder to JUPYTER_PATH and use KERNEL_NAME.
    """
    spec_dir = Path(root) / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        # CRITICAL: jupyter_client interrupts every kernel at shutdown and ipykernel may log
        # that as an ERROR; errors in the notebook itself reach us through the protocol.
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--IPKernelApp.log_level=CRITICAL",
                 # parallel kernels sharing one sqlite history file hit "database is locked"
                 "--HistoryManager.hist_file=:memory:"],
        "display_name": f"Python (clusnet runner: {sys.executable})",
        "language": "python",
        # debugpy's frozen-module warning would otherwise print once per kernel
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1",
                # sections and figures computed once per content: the synthesis reuses them
                "CLUSNET_REUSE": "1"},
        "metadata": {"debugger": False},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=2), encoding="utf-8")
    return Path(root)


def _init_worker(kernel_root: str) -> None:
    """Runs once in each worker process, before any notebook."""
    # Ctrl-C reaches the whole foreground process group. The parent alone decides what an
    # interruption means (stop every worker and kernel, keep no half report); a worker that
    # took it as an error would mark its notebook failed while the others carried on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(os.getppid())
    previous = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = kernel_root + (os.pathsep + previous if previous else "")
    # Connection files inside the run's own folder: every kernel's command line then names
    # it, so the parent can find (and stop) this run's kernels and no others.
    os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(kernel_root, "runtime")
    # jsonschema (via nbformat) imports rfc3987_syntax when present, which compiles a
    # grammar for 1+ s; nbformat never validates IRI formats, so skip it in workers.
    sys.modules.setdefault("rfc3987_syntax", None)
    import logging

    import nbconvert  # noqa: F401,I001  (pay the import once per worker, not inside a timed run)
    import papermill  # noqa: F401

    # papermill logs every run at INFO, and warns about parameter lines its own parser
    # cannot read; the runner has already checked the parameters with Python's parser
    logging.getLogger("papermill").setLevel(logging.ERROR)


def _exit_with_parent(parent: int, every: float = 0.5) -> None:
    """End this worker when the process that started it is gone (``kill -9`` of `clusnet run`).

    An orphaned worker would go on writing into a reports folder whose lock died with its
    parent; its kernel follows it out within a second (ipykernel watches its own parent).
    """
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="clusnet-parent-watch", daemon=True).start()


def _kernel_config(kernel_root: str):
    """Talk to the kernel over Unix sockets where possible.

    Local TCP ports can collide when many kernels start at once, are open to every
    local user, and make ipykernel print an "unencrypted TCP" warning per notebook.
    """
    from traitlets.config import Config

    config = Config()
    socket_prefix = os.path.join(kernel_root, f"k{uuid.uuid4().hex[:8]}")
    if os.name == "posix" and len(socket_prefix) < 90:  # AF_UNIX paths are limited to ~104 bytes
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = socket_prefix
    return config


def _source_cell_index(executed_index: int | None, parameters_cell: int) -> int | None:
    """papermill inserts its injected cell after the parameters cell; undo that shift."""
    if executed_index is None:
        return None
    injected_at = parameters_cell + 1 if parameters_cell >= 0 else 0
    return executed_index - 1 if executed_index > injected_at else executed_index


def _last_started_cell(partial_notebook: Path) -> tuple[int | None, int | None]:
    """(index, execution count) of the last cell that started before execution stopped.

    A timeout or a dead kernel raises no PapermillExecutionError; papermill saves the
    notebook as cells start, and cells never reached have no start_time.
    """
    notebook = _read_json(partial_notebook)
    found = (None, None)
    for index, cell in enumerate((notebook or {}).get("cells", [])):
        if cell.get("metadata", {}).get("papermill", {}).get("start_time"):
            found = (index, cell.get("execution_count"))
    return found


def _run_notebook(task: dict) -> dict:
    """Execute one notebook for one period and write its outputs. Runs in a worker process."""
    started = time.perf_counter()
    out_dir = Path(task["out_dir"])
    name = task["notebook"]
    names = ReportPaths(out_dir, name)
    final_ipynb, final_html, failed_ipynb, stamp_path = names.ipynb, names.html, names.failed, names.stamp
    headline = Path(task["parameters"]["headline_path"])
    running = out_dir / f".{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.running.ipynb"

    # Nothing counts as up to date while it is being rebuilt, and a headline left by an
    # older version of the notebook must not survive a run that no longer writes one.
    stamp_path.unlink(missing_ok=True)
    headline.unlink(missing_ok=True)

    import papermill
    from papermill.exceptions import PapermillExecutionError

    failure = None
    stage = "execute"
    try:
        notebook = papermill.execute_notebook(
            task["source"],
            str(running),
            parameters=task["parameters"],
            kernel_name=KERNEL_NAME,
            language="python",
            progress_bar=False,
            cwd=task["cwd"],
            start_timeout=task["start_timeout"],
            execution_timeout=task["execution_timeout"],
            config=_kernel_config(task["kernel_root"]),
        )
        stage = "render"
        page = pages.render_report_html(notebook, task["title"], resources_dir=task["cwd"], nav=task["nav"])
        atomic_write_bytes(final_html, page.encode("utf-8"))
        os.replace(running, final_ipynb)
        failed_ipynb.unlink(missing_ok=True)
        stamp_path.parent.mkdir(exist_ok=True)
        atomic_write_bytes(stamp_path, json_text(task["stamp_record"]).encode("utf-8"))
    except PapermillExecutionError as error:
        failure = {
            "cell_index": _source_cell_index(error.cell_index, task["parameters_cell"]),
            "exec_count": error.exec_count,
            "ename": error.ename,
            "evalue": error.evalue,
        }
    except Exception as error:  # noqa: BLE001 - kernel died, timeout, rendering: isolate it
        cell_index, exec_count = _last_started_cell(running) if stage == "execute" else (None, None)
        evalue = str(error) or repr(error)
        failure = {"cell_index": _source_cell_index(cell_index, task["parameters_cell"]),
                   "exec_count": exec_count, "ename": type(error).__name__,
                   "evalue": evalue if stage == "execute" else f"writing the HTML report failed: {evalue}"}
    finally:
        if failure is not None:
            # No report under the final names: a stale one would claim to reflect current data.
            for path in (final_ipynb, final_html, headline, stamp_path):
                path.unlink(missing_ok=True)
            if running.exists():
                os.replace(running, failed_ipynb)
            else:
                failed_ipynb.unlink(missing_ok=True)
        running.unlink(missing_ok=True)

    seconds = time.perf_counter() - started
    if failure is None:
        return {"status": "built", "seconds": seconds}
    failure.update(status="failed", seconds=seconds,
                   failed_notebook=str(failed_ipynb) if failed_ipynb.exists() else None)
    return failure


def _mp_context():
    # Never fork a process that may hold threads or zmq sockets (a Jupyter session,
    # a CLI with a progress thread): spawn starts clean workers on every platform.
    import multiprocessing

    return multiprocessing.get_context("spawn")


def _execute(plan: _Plan, to_run: list[_Task], jobs: int, start_timeout: int,
             execution_timeout: int | None):
    """Run the tasks in a process pool; yield (task, outcome) as they finish.

    Interrupted (Ctrl-C, or the generator closed early), it stops every worker and every
    kernel of this run before the exception goes on, and removes their temporary files:
    what stays under a final name is a complete report from an earlier run (its content
    stamp is gone, so the next run rebuilds it) or nothing.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from clusnet_analysis.publish.warm import WarmKernels

    kernel_root = Path(tempfile.mkdtemp(prefix="clusnet-kernel-"))
    warm = WarmKernels(kernel_root, KERNEL_NAME, cwd=plan.notebooks_dir)
    try:
        make_kernel_dir(kernel_root)
        warm.start()  # kernels forked from a template that has done the imports (Linux)
        workers = min(jobs, len(to_run))
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(),
                                   initializer=_init_worker, initargs=(str(kernel_root),))
        try:
            for out_dir in {task.out_dir for task in to_run}:
                (out_dir / STAMPS_DIR).mkdir(parents=True, exist_ok=True)

            futures = {}
            for task in to_run:
                payload = {
                    "source": str(task.notebook),
                    "notebook": task.name,
                    "out_dir": str(task.out_dir),
                    "cwd": str(plan.notebooks_dir),
                    "title": task.record["extra"]["page"]["title"],
                    "nav": task.record["extra"]["page"]["nav"],
                    "parameters_cell": plan.sources[task.name]["parameters_cell"],
                    "parameters": {
                        "period": task.period,
                        "data_dir": str(plan.data_dir),
                        "headline_path": str(ReportPaths(task.out_dir, task.name).headline),
                        **plan.parameters,
                    },
                    "stamp_record": task.record,
                    "kernel_root": str(kernel_root),
                    "start_timeout": start_timeout,
                    "execution_timeout": execution_timeout,
                }
                futures[pool.submit(_run_notebook, payload)] = task
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except Exception as error:  # noqa: BLE001 - a worker process died
                    outcome = {"status": "failed", "seconds": 0.0, "ename": type(error).__name__,
                               "evalue": str(error) or "worker process stopped"}
                warm.tell()  # one line if kernels had to start the usual way
                yield futures[future], outcome
        except BaseException:
            with _sigint_ignored():
                _stop_run(pool, kernel_root, {task.out_dir for task in to_run})
            raise
        else:
            pool.shutdown(wait=True)
    finally:
        warm.stop()
        warm.tell()
        shutil.rmtree(kernel_root, ignore_errors=True)


class _sigint_ignored:
    """A second Ctrl-C must not cut the clean-up of the first one short."""

    def __enter__(self):
        import threading

        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, signal.SIG_IGN)

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _stop_run(pool, kernel_root: Path, out_dirs: set[Path], grace: float = 5.0) -> None:
    """Stop the pool's workers and this run's kernels now; remove what they left half done."""
    processes = list(getattr(pool, "_processes", {}).values())
    pids = {process.pid for process in processes if process.pid}
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    deadline = time.monotonic() + grace
    for process in processes:
        try:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(1.0)
        except (OSError, ValueError, AttributeError, AssertionError):
            pass
    # A kernel runs in a session of its own, so Ctrl-C never reaches it; its parent poller
    # ends it within a second of its worker, and where /proc exists it is ended here at once.
    _kill_kernels(kernel_root, deadline)
    for out_dir in out_dirs:
        for pid in pids:
            for leftover in (*out_dir.glob(f".*.{pid}.*.running.ipynb"), *out_dir.glob(f".*.{pid}.*.tmp"),
                             *(out_dir / STAMPS_DIR).glob(f".*.{pid}.*.tmp")):
                leftover.unlink(missing_ok=True)


_LEFTOVER = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{8}\.(running\.ipynb|tmp)$")


def remove_leftovers(folders) -> list[Path]:
    """Remove temporary files that processes killed outright (``kill -9``) left behind.

    Only hidden files named by the writers' own pattern, and only those of processes that are
    no longer running: a concurrent writer's file is never touched. Returns what was removed.
    """
    removed = []
    for folder in folders:
        for directory in (Path(folder), Path(folder) / STAMPS_DIR):
            if not directory.is_dir():
                continue
            for path in directory.iterdir():
                match = _LEFTOVER.match(path.name)
                if match and not _running(int(match.group(1))):
                    path.unlink(missing_ok=True)
                    removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    try:  # a killed process nobody has reaped yet (a zombie) writes nothing more
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def kernel_processes(kernel_root: str | Path) -> list[int]:
    """Process ids whose command line names this run's kernel folder (Linux /proc; else [])."""
    marker = str(kernel_root).encode()
    proc = Path("/proc")
    found = []
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker in cmdline:
            found.append(int(entry.name))
    return found


def _kill_kernels(kernel_root: Path, deadline: float) -> None:
    while True:
        pids = kernel_processes(kernel_root)
        if not pids or time.monotonic() > deadline:
            return
        for pid in pids:
            try:  # a kernel leads its own process group: end anything it started too
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        time.sleep(0.05)
