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
running this code (on Linux forked from a template that has done the imports, see
warm.py), in a pool of worker processes. papermill and nbconvert load
only in those workers, so a run with nothing to do stays well under a second."""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clusnet_analysis.publish.execute import _execute, remove_leftovers
from clusnet_analysis.publish.index import _write_period_pages, write_top_index
from clusnet_analysis.publish.names import MANIFEST_KIND  # noqa: F401  (re-exported)
from clusnet_analysis.publish.params import (  # noqa: F401  (re-exported for callers)
    RESERVED_PARAMETERS,
    BatchUsageError,
    declared_parameters,
)
from clusnet_analysis.publish.plan import _prepare, _refuse_undeclared, discover_notebooks, plan_batch  # noqa: F401
from clusnet_analysis.publish.execute import _source_cell_index  # noqa: F401
from clusnet_analysis.publish.provenance import code_fingerprint  # noqa: F401


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


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during a batch: every worker and kernel was stopped; ``unbuilt`` lists what was not built.

    The index pages were written before this was raised, so they show those reports as
    missing or stale; a plain rerun builds exactly them.
    """

    def __init__(self, result: BatchResult, unbuilt: list[tuple[str, str]]):
        super().__init__("interrupted")
        self.result = result
        self.unbuilt = unbuilt

    def describe(self, limit: int = 12) -> str:
        names = [f"{period}/{notebook}" for period, notebook in self.unbuilt]
        shown = ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")
        built = len(self.result.built)
        text = (f"Interrupted (Ctrl-C): every notebook process was stopped. {built} report(s) built before "
                f"the interruption, {len(names)} left unbuilt")
        if names:
            text += f": {shown}. Run the same command again to build exactly these."
        else:
            text += "."
        return text


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
    site=None,
    start_timeout: int = 120,
    execution_timeout: int | None = None,
) -> BatchResult:
    """Execute every notebook for every period, render HTML, write manifests and indexes.

    periods: period ids of the programme file, and "final"; each gets reports_dir/<period>/.
    parameters: extra notebook parameters (e.g. {"show_names": False}); every notebook must
        declare them (and period, data_dir, headline_path) in its parameters cell.
    force: rebuild even when the stamp says the outputs are up to date.
    extra_stamp: anything else the outputs depend on (JSON-able), e.g. a data-source label.
    banner: text shown prominently on the index pages ("SYNTHETIC SAMPLE DATA").
    period_labels: display names; their order is the order on the top index page.
    only: notebook names or NN prefixes to run; the others keep their outputs.
    site: the site's title and every period's label, for page titles and navigation bars.
    execution_timeout: seconds one cell may run before the notebook counts as failed.
    Raises BatchUsageError before running anything when the request is unsafe or invalid.
    """
    started = time.perf_counter()
    if jobs is None:
        jobs = os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise BatchUsageError(f"jobs must be a whole number of at least 1, got {jobs!r}")
    plan = _prepare(periods, data_dir, notebooks_dir, reports_dir, parameters, programme_file,
                    extra_stamp, only, site)
    _refuse_undeclared(plan)
    remove_leftovers(plan.out_dirs.values())   # from a run killed outright before this one
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

    # a synthesis shows the other reports' figures: run it after them, so it finds them rendered
    to_run.sort(key=lambda task: plan.sources[task.name].get("area") == "synthesis")
    interrupted = False
    try:
        with contextlib.closing(_execute(plan, to_run, jobs, start_timeout, execution_timeout)) as runs:
            for task, outcome in (runs if to_run else ()):
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
    except KeyboardInterrupt:
        interrupted = True  # workers and kernels are stopped by now (see execute._execute)

    labels = dict(period_labels or {})
    for period in plan.periods:
        _write_period_pages(plan, period, labels.get(period, period), banner, site)
    write_top_index(plan.reports_dir, banner=banner, period_labels=labels, site=site,
                    inputs_fingerprint=plan.inputs["fingerprint"])

    order = {(task.period, task.name): i for i, task in enumerate(plan.tasks)}
    result.built.sort(key=lambda run: order[(run.period, run.notebook)])
    result.failed.sort(key=lambda failure: order[(failure.period, failure.notebook)])
    result.seconds = time.perf_counter() - started
    if interrupted:
        finished = {(run.period, run.notebook) for run in result.built}
        finished |= {(failure.period, failure.notebook) for failure in result.failed}
        raise BatchInterrupted(result, [(task.period, task.name) for task in to_run
                                        if (task.period, task.name) not in finished])
    return result
