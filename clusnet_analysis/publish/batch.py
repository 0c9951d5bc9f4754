"""Run every report notebook for every period: papermill in parallel, HTML without code.

For each period and each notebook `NN_name.ipynb` the runner writes, under
`reports_dir/<period>/`:

- `NN_name.ipynb`   the executed notebook (outputs included),
- `NN_name.html`    the report: outputs and prose only, readable offline,
- `NN_name.headline.json`  headline numbers, written by the notebook itself
  to the `headline_path` parameter it receives,
- `.stamps/NN_name.json`   what the outputs were built from (content hashes),
- `index.html`, `manifest.json` for the period, and `reports_dir/index.html`.

A report is rebuilt only when its stamp (data, programme rules, package code,
notebook, parameters, library versions) changes; file modification times are
never used. Each notebook runs in its own kernel, started from the interpreter
running this code, in a pool of worker processes. papermill and nbconvert load
only in those workers, so a run with nothing to do stays well under a second.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clusnet_analysis import __version__
from clusnet_analysis.publish import html as pages
from clusnet_analysis.publish.files import atomic_write_bytes, json_text, write_if_changed
from clusnet_analysis.publish.provenance import code_fingerprint, folder_outputs, input_fingerprint

# Parameters the runner injects into every notebook; each notebook must declare them.
RESERVED_PARAMETERS = ("period", "data_dir", "headline_path")
# Library versions that can change a report's numbers or figures.
ENVIRONMENT_DISTRIBUTIONS = (
    "pandas", "numpy", "pandera", "matplotlib", "networkx",
    "papermill", "nbconvert", "nbclient", "ipykernel",
)
KERNEL_NAME = "clusnet-runner-python"
STAMPS_DIR = ".stamps"
MANIFEST_NAME = "manifest.json"
INDEX_NAME = "index.html"
FAILED_SUFFIX = ".FAILED.ipynb"
HEADLINE_SUFFIX = ".headline.json"
STAMP_FORMAT = 1  # bump when the stamp's meaning changes
MANIFEST_KIND = "clusnet period reports"  # tells a period folder from figures/ or validation/

_NOTEBOOK_NAME = re.compile(r"^\d{2,}_[A-Za-z0-9][A-Za-z0-9_.\-]*\.ipynb$")
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class BatchUsageError(ValueError):
    """The batch was asked for something it must refuse (bad period, parameter, folder)."""


@dataclass(frozen=True)
class NotebookRun:
    """A report that is in place: built now or already up to date."""

    period: str
    notebook: str
    html: Path
    ipynb: Path
    seconds: float = 0.0


@dataclass(frozen=True)
class NotebookFailure:
    """A notebook that stopped with an error; its report was not written."""

    period: str
    notebook: str
    cell_index: int | None  # 0-based index in the source notebook; None if no cell ran
    exec_count: int | None  # the "In [n]" number shown in Jupyter
    ename: str
    evalue: str
    failed_notebook: Path | None  # executed notebook up to the error, kept for debugging
    seconds: float = 0.0

    @property
    def error_line(self) -> str:
        first_line = (self.evalue or "").strip().splitlines()[0:1]
        text = f"{self.ename}: {first_line[0]}" if first_line else self.ename
        return text if len(text) <= 300 else text[:297] + "..."

    def describe(self) -> str:
        """One line a reader can act on: which report, which cell, what went wrong."""
        where = ""
        if self.cell_index is not None:
            where = f" at cell {self.cell_index}"
            if self.exec_count is not None:
                where += f" (In [{self.exec_count}])"
        return f"{self.period}/{self.notebook} failed{where}: {self.error_line}"


@dataclass
class BatchResult:
    """What a batch did. The caller exits non-zero when `failed` is not empty."""

    reports_dir: Path
    periods: list[str]
    built: list[NotebookRun] = field(default_factory=list)
    skipped: list[NotebookRun] = field(default_factory=list)
    failed: list[NotebookFailure] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        text = (f"{len(self.built)} built, {len(self.skipped)} up to date, "
                f"{len(self.failed)} failed in {self.seconds:.1f}s")
        return "\n".join([text, *(f"  {failure.describe()}" for failure in self.failed)])


# ------------------------------------------------------------------ discovery

def discover_notebooks(notebooks_dir: str | Path) -> list[Path]:
    """Report notebooks `NN_name.ipynb` in the folder, sorted; checkpoints and hidden files skipped."""
    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise BatchUsageError(f"notebooks folder not found: {folder}")
    return sorted(
        path for path in folder.iterdir()
        if _NOTEBOOK_NAME.match(path.name)
        and not path.name.endswith("-checkpoint.ipynb")
        and path.is_file()
    )


# ----------------------------------------------------------------- validation

def _check_period(period: object, reports_dir: Path) -> Path:
    """The period's output folder, refusing ids that could write outside reports_dir."""
    if not isinstance(period, str) or not period.strip():
        raise BatchUsageError(f"period id must be a non-empty text, got {period!r}")
    separators = {"/", "\\", os.sep, os.altsep or "/"}
    if (any(sep in period for sep in separators) or ".." in period or "\0" in period
            or period.startswith(".") or period != period.strip()):
        raise BatchUsageError(
            f"period id {period!r} is not allowed: no path separators, '..', leading dot or spaces")
    out_dir = (reports_dir / period).resolve()
    if not out_dir.is_relative_to(reports_dir) or out_dir == reports_dir:
        raise BatchUsageError(f"output folder for period {period!r} escapes the reports folder: {out_dir}")
    return out_dir


def _check_value(name: str, value: object) -> None:
    """Only values papermill translates faithfully: None/str/bool/int/float/list/dict."""
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise BatchUsageError(f"parameter {name} must be a finite number, got {value!r}")
        return
    if isinstance(value, list):
        for item in value:
            _check_value(name, item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise BatchUsageError(f"parameter {name}: dict keys must be text, got {key!r}")
            _check_value(name, item)
        return
    raise BatchUsageError(
        f"parameter {name} has type {type(value).__name__}; pass None/str/bool/int/float/list/dict "
        "(dates and paths as text)")


def _check_parameters(parameters: Mapping | None) -> dict:
    parameters = dict(parameters or {})
    for name, value in parameters.items():
        if not isinstance(name, str) or not _PARAMETER_NAME.match(name):
            raise BatchUsageError(f"parameter name {name!r} is not a valid Python name")
        if name in RESERVED_PARAMETERS:
            raise BatchUsageError(f"parameter {name} is set by the runner and cannot be passed")
        _check_value(name, value)
    return parameters


# --------------------------------------------------------------------- stamps

def environment_fingerprint() -> dict:
    """Python and library versions: an upgraded pandas may change the numbers."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for distribution in ENVIRONMENT_DISTRIBUTIONS:
        try:
            versions[distribution] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            versions[distribution] = None
    return versions


def _canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _stamp_record(period: str, notebook: str, notebook_sha256: str, inputs: str, code: str,
                  environment: dict, parameters: dict, extra: dict) -> dict:
    """Everything an output depends on, and its hash (the part compared on the next run)."""
    record = {
        "format": STAMP_FORMAT,
        "period": period,
        "notebook": notebook,
        "notebook_sha256": notebook_sha256,
        "inputs": inputs,
        "code": code,
        "environment": environment,
        "parameters": parameters,
        "extra": extra,
    }
    record["stamp"] = hashlib.sha256(_canonical_json(record).encode("utf-8")).hexdigest()
    return record


def _read_json(path: Path) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _stored_stamp(path: Path) -> str | None:
    stored = _read_json(path)
    return stored.get("stamp") if stored else None


# -------------------------------------------------------------- atomic writes

# --------------------------------------------------------------------- kernel

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
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        "metadata": {"debugger": False},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=2), encoding="utf-8")
    return Path(root)


def _init_worker(kernel_root: str) -> None:
    """Runs once in each worker process, before any notebook."""
    previous = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = kernel_root + (os.pathsep + previous if previous else "")
    # jsonschema (via nbformat) imports rfc3987_syntax when present, which compiles a
    # grammar for 1+ s; nbformat never validates IRI formats, so skip it in workers.
    sys.modules.setdefault("rfc3987_syntax", None)
    import logging

    import nbconvert  # noqa: F401  (pay the import once per worker, not inside a timed run)
    import papermill  # noqa: F401

    # papermill logs every run at INFO, and warns about parameter lines its own parser
    # cannot read; the runner has already checked the parameters with Python's parser
    logging.getLogger("papermill").setLevel(logging.ERROR)


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


def declared_parameters(notebook: Mapping) -> list[str] | str:
    """Names assigned in the notebook's cell tagged `parameters`, or why they can't be read.

    Read with Python's own parser rather than papermill.inspect_notebook, whose line
    pattern skips valid declarations with some comments (e.g. `x = None  # a (note); b`).
    """
    import ast

    index = _parameters_cell_index(notebook)
    if index < 0:
        return "has no cell tagged 'parameters'"
    source = notebook["cells"][index].get("source", "")
    if isinstance(source, list):
        source = "".join(source)
    # IPython magics and shell escapes are not Python; they declare nothing anyway
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError as error:
        return f"its parameters cell is not valid Python (line {error.lineno}: {error.msg})"
    names: list[str] = []
    for statement in tree.body:
        targets = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
            targets = [statement.target]
        for target in targets:
            elements = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
            names.extend(e.id for e in elements if isinstance(e, ast.Name) and e.id not in names)
    return names


# ------------------------------------------------------------- one notebook run

def _parameters_cell_index(notebook: Mapping) -> int:
    for index, cell in enumerate(notebook.get("cells", [])):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return index
    return -1


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
    final_ipynb = out_dir / f"{name}.ipynb"
    final_html = out_dir / f"{name}.html"
    failed_ipynb = out_dir / f"{name}{FAILED_SUFFIX}"
    stamp_path = out_dir / STAMPS_DIR / f"{name}.json"
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
        page = pages.render_report_html(notebook, task["title"], resources_dir=task["cwd"])
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


# ------------------------------------------------------------------- the batch

@dataclass
class _Task:
    period: str
    notebook: Path
    out_dir: Path
    record: dict

    @property
    def name(self) -> str:
        return self.notebook.stem

    def paths(self) -> dict[str, Path]:
        return {
            "ipynb": self.out_dir / f"{self.name}.ipynb",
            "html": self.out_dir / f"{self.name}.html",
            "headline": self.out_dir / f"{self.name}{HEADLINE_SUFFIX}",
            "failed": self.out_dir / f"{self.name}{FAILED_SUFFIX}",
            "stamp": self.out_dir / STAMPS_DIR / f"{self.name}.json",
        }

    def up_to_date(self) -> bool:
        paths = self.paths()
        return (_stored_stamp(paths["stamp"]) == self.record["stamp"]
                and paths["ipynb"].is_file() and paths["html"].is_file())


def _mp_context():
    # Never fork a process that may hold threads or zmq sockets (a Jupyter session,
    # a CLI with a progress thread): spawn starts clean workers on every platform.
    import multiprocessing

    return multiprocessing.get_context("spawn")


def _select(notebooks: list[Path], only: Sequence[str] | None) -> set[str]:
    names = [path.stem for path in notebooks]
    if only is None:
        return set(names)
    chosen = set()
    for wanted in only:
        matches = [n for n in names if n == wanted or n.split("_", 1)[0] == wanted]
        if not matches:
            raise BatchUsageError(f"no notebook named {wanted!r}; available: {', '.join(names)}")
        chosen.update(matches)
    return chosen


@dataclass
class _Plan:
    """A checked request: folders, parameters, fingerprints and one task per (period, notebook)."""

    periods: list[str]
    data_dir: Path
    notebooks_dir: Path
    reports_dir: Path
    out_dirs: dict[str, Path]
    parameters: dict
    extra: dict
    selected: set[str]
    inputs: dict
    code: str
    environment: dict
    sources: dict[str, dict]
    tasks: list[_Task]

    def title_of(self, period: str, name: str) -> str:
        return self.sources[name]["heading"] or f"{period} – {name}"


def _prepare(periods, data_dir, notebooks_dir, reports_dir, parameters, programme_file,
             extra_stamp, only) -> _Plan:
    """Validate the request and compute every stamp; touches nothing on disk."""
    reports_dir = Path(reports_dir).resolve()
    notebooks_dir = Path(notebooks_dir).resolve()
    data_dir = Path(data_dir).resolve()
    if isinstance(periods, str):
        periods = [periods]
    periods = list(dict.fromkeys(periods))  # keep order, drop repeats
    if not periods:
        raise BatchUsageError("no period to run")
    if not data_dir.is_dir():
        raise BatchUsageError(f"data folder not found: {data_dir}")
    out_dirs = {period: _check_period(period, reports_dir) for period in periods}
    user_parameters = _check_parameters(parameters)
    extra = json.loads(_canonical_json(dict(extra_stamp or {})))
    notebooks = discover_notebooks(notebooks_dir)
    if not notebooks:
        raise BatchUsageError(f"no report notebooks (NN_name.ipynb) in {notebooks_dir}")
    selected = _select(notebooks, only)
    if programme_file is not None and not Path(programme_file).is_file():
        raise BatchUsageError(f"programme file not found: {programme_file}")

    inputs = input_fingerprint(data_dir, programme_file)
    code = code_fingerprint()
    environment = environment_fingerprint()

    sources = {}
    for path in notebooks:
        raw = path.read_bytes()
        try:
            content = json.loads(raw)
        except ValueError as error:
            raise BatchUsageError(f"notebook {path.name} is not valid JSON: {error}") from None
        sources[path.stem] = {
            "sha256": hashlib.sha256(raw).hexdigest(),
            "heading": pages.notebook_title(content, fallback=""),
            "parameters_cell": _parameters_cell_index(content),
            "declared": declared_parameters(content),
        }
    tasks = [
        _Task(period, path, out_dirs[period], _stamp_record(
            period, path.stem, sources[path.stem]["sha256"], inputs["fingerprint"], code,
            environment, user_parameters, extra))
        for period in periods for path in notebooks
    ]
    return _Plan(periods, data_dir, notebooks_dir, reports_dir, out_dirs, user_parameters, extra,
                 selected, inputs, code, environment, sources, tasks)


def _refuse_undeclared(plan: _Plan) -> None:
    """Every injected parameter must be declared by every selected notebook.

    papermill only warns about an unknown parameter and runs anyway, so a typo
    (`show_name=True`) would silently produce a report with the default.
    """
    injected = [*RESERVED_PARAMETERS, *plan.parameters]
    problems = []
    for name in sorted(plan.selected):
        declared = plan.sources[name]["declared"]
        if isinstance(declared, str):
            problems.append(f"{name}.ipynb {declared}")
            continue
        missing = [parameter for parameter in injected if parameter not in declared]
        if missing:
            problems.append(f"{name}.ipynb does not declare {', '.join(missing)} "
                            "in its cell tagged 'parameters'")
    if problems:
        raise BatchUsageError("refusing to run: " + "; ".join(problems))


def plan_batch(
    periods: Sequence[str],
    data_dir: str | Path,
    notebooks_dir: str | Path,
    reports_dir: str | Path,
    parameters: Mapping | None = None,
    programme_file: str | Path | None = None,
    extra_stamp: Mapping | None = None,
    *,
    only: Sequence[str] | None = None,
) -> list[tuple[str, str]]:
    """(period, notebook) pairs that `run_batch` with the same arguments would rebuild.

    Cheap (hashes only, no papermill): lets a caller skip its own expensive checks,
    e.g. loading and validating the data, when every report is already up to date.
    """
    plan = _prepare(periods, data_dir, notebooks_dir, reports_dir, parameters, programme_file,
                    extra_stamp, only)
    return [(task.period, task.name) for task in plan.tasks
            if task.name in plan.selected and not task.up_to_date()]


def run_batch(
    periods: Sequence[str],
    data_dir: str | Path,
    notebooks_dir: str | Path,
    reports_dir: str | Path,
    jobs: int | None = None,
    force: bool = False,
    parameters: Mapping | None = None,
    programme_file: str | Path | None = None,
    on_progress: Callable[[str], None] | None = None,
    extra_stamp: Mapping | None = None,
    *,
    banner: str | None = None,
    period_labels: Mapping[str, str] | None = None,
    only: Sequence[str] | None = None,
    start_timeout: int = 120,
    execution_timeout: int | None = None,
) -> BatchResult:
    """Execute every notebook for every period, render HTML, write manifests and indexes.

    periods: period ids, e.g. ["S3", "S4", "S5", "final"]; each gets reports_dir/<period>/.
    parameters: extra notebook parameters (e.g. {"show_names": False}); every notebook must
        declare them (and period, data_dir, headline_path) in its parameters cell.
    force: rebuild even when the stamp says the outputs are up to date.
    extra_stamp: anything else the outputs depend on (JSON-able), e.g. a data-source label.
    banner: text shown prominently on the index pages ("SYNTHETIC SAMPLE DATA").
    period_labels: display names; their order is the order on the top index page.
    only: notebook names or NN prefixes to run; the others keep their outputs.
    execution_timeout: seconds one cell may run before the notebook counts as failed.
    Raises BatchUsageError before running anything when the request is unsafe or invalid.
    """
    started = time.perf_counter()
    if jobs is None:
        jobs = os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise BatchUsageError(f"jobs must be a whole number of at least 1, got {jobs!r}")
    plan = _prepare(periods, data_dir, notebooks_dir, reports_dir, parameters, programme_file,
                    extra_stamp, only)
    _refuse_undeclared(plan)
    result = BatchResult(reports_dir=plan.reports_dir, periods=plan.periods)
    total = sum(1 for task in plan.tasks if task.name in plan.selected)
    done = 0

    def report(message: str) -> None:
        if on_progress is not None:
            on_progress(message)

    to_run = []
    for task in plan.tasks:
        if task.name not in plan.selected:
            continue
        if not force and task.up_to_date():
            paths = task.paths()
            result.skipped.append(NotebookRun(task.period, task.name, paths["html"], paths["ipynb"]))
            done += 1
            report(f"[{done}/{total}] {task.period}/{task.name} up to date")
        else:
            to_run.append(task)

    if to_run:
        for task, outcome in _execute(plan, to_run, jobs, start_timeout, execution_timeout):
            done += 1
            paths = task.paths()
            label = f"[{done}/{total}] {task.period}/{task.name}"
            if outcome["status"] == "built":
                result.built.append(NotebookRun(task.period, task.name, paths["html"],
                                                paths["ipynb"], outcome["seconds"]))
                report(f"{label} built in {outcome['seconds']:.1f}s")
            else:
                failed_notebook = outcome.get("failed_notebook")
                failure = NotebookFailure(
                    period=task.period, notebook=task.name,
                    cell_index=outcome.get("cell_index"), exec_count=outcome.get("exec_count"),
                    ename=outcome.get("ename") or "Error", evalue=outcome.get("evalue") or "",
                    failed_notebook=Path(failed_notebook) if failed_notebook else None,
                    seconds=outcome["seconds"])
                result.failed.append(failure)
                report(f"{label} FAILED in {outcome['seconds']:.1f}s: {failure.describe()}")

    labels = dict(period_labels or {})
    for period in plan.periods:
        _write_period_pages(plan, period, labels.get(period, period), banner)
    write_top_index(plan.reports_dir, banner=banner, period_labels=labels)

    order = {(task.period, task.name): i for i, task in enumerate(plan.tasks)}
    result.built.sort(key=lambda run: order[(run.period, run.notebook)])
    result.failed.sort(key=lambda failure: order[(failure.period, failure.notebook)])
    result.seconds = time.perf_counter() - started
    return result


def _execute(plan: _Plan, to_run: list[_Task], jobs: int, start_timeout: int,
             execution_timeout: int | None):
    """Run the tasks in a process pool; yield (task, outcome) as they finish."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    kernel_root = Path(tempfile.mkdtemp(prefix="clusnet-kernel-"))
    try:
        make_kernel_dir(kernel_root)
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
                    "title": plan.title_of(task.period, task.name),
                    "parameters_cell": plan.sources[task.name]["parameters_cell"],
                    "parameters": {
                        "period": task.period,
                        "data_dir": str(plan.data_dir),
                        "headline_path": str(task.out_dir / f"{task.name}{HEADLINE_SUFFIX}"),
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
                yield futures[future], outcome
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        else:
            pool.shutdown(wait=True)
    finally:
        shutil.rmtree(kernel_root, ignore_errors=True)


# ---------------------------------------------------------- manifests, indexes

def _report_status(task: _Task) -> str:
    paths = task.paths()
    if paths["html"].is_file() and paths["ipynb"].is_file():
        return "ok" if _stored_stamp(paths["stamp"]) == task.record["stamp"] else "stale"
    return "failed" if paths["failed"].is_file() else "missing"


def _write_period_pages(plan: _Plan, period: str, label: str, banner: str | None) -> None:
    """index.html first, then manifest.json (which lists the index among the outputs)."""
    period_dir = plan.out_dirs[period]
    period_dir.mkdir(parents=True, exist_ok=True)
    links, reports = [], []
    for task in plan.tasks:
        if task.period != period:
            continue
        paths = task.paths()
        status = _report_status(task)
        title = plan.title_of(period, task.name)
        links.append(pages.ReportLink(
            notebook=task.name, title=title, status=status,
            href=paths["html"].name if status in ("ok", "stale") else None,
            failed_href=paths["failed"].name if status == "failed" else None))
        reports.append({
            "notebook": task.name,
            "title": title,
            "status": status,
            "html": paths["html"].name if status in ("ok", "stale") else None,
            "ipynb": paths["ipynb"].name if status in ("ok", "stale") else None,
            "headline": paths["headline"].name if paths["headline"].is_file() else None,
            "notebook_sha256": plan.sources[task.name]["sha256"],
            "stamp": task.record["stamp"],
        })
    write_if_changed(period_dir / INDEX_NAME,
                      pages.period_index_html(period, links, banner=banner, label=label))
    manifest = {
        "kind": MANIFEST_KIND,
        "period": period,
        "label": label,
        "package_version": __version__,
        "banner": banner,
        "code_fingerprint": plan.code,
        "environment": plan.environment,
        "inputs": dict(plan.inputs, data_dir=str(plan.data_dir)),
        "parameters": plan.parameters,
        "extra": plan.extra,
        "reports": reports,
        "outputs": folder_outputs(period_dir, MANIFEST_NAME),
    }
    write_if_changed(period_dir / MANIFEST_NAME, json_text(manifest))


def write_top_index(reports_dir: str | Path, banner: str | None = None,
                    period_labels: Mapping[str, str] | None = None) -> Path:
    """reports_dir/index.html linking every period folder (one with a period-reports manifest).

    Periods named in period_labels come first, in that order; any others follow sorted.
    """
    reports_dir = Path(reports_dir)
    labels = dict(period_labels or {})
    found = {}
    if reports_dir.is_dir():
        for child in reports_dir.iterdir():
            if child.name.startswith(".") or not child.is_dir():
                continue
            manifest = _read_json(child / MANIFEST_NAME)
            # other folders (figures/, validation/) may keep a manifest of their own
            if manifest is not None and manifest.get("kind") == MANIFEST_KIND:
                found[child.name] = manifest
    ordered = [p for p in labels if p in found] + sorted(p for p in found if p not in labels)
    links = []
    for period in ordered:
        statuses = [entry.get("status") for entry in found[period].get("reports", [])]
        links.append(pages.PeriodLink(
            period=period,
            label=labels.get(period) or found[period].get("label") or period,
            href=f"{period}/{INDEX_NAME}",
            reports=sum(1 for status in statuses if status in ("ok", "stale")),
            problems=sum(1 for status in statuses if status != "ok"),
        ))
    reports_dir.mkdir(parents=True, exist_ok=True)
    target = reports_dir / INDEX_NAME
    write_if_changed(target, pages.top_index_html(links, banner=banner))
    return target
