"""Planning a batch: which notebooks, which periods, and which reports are already up to date."""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from clusnet_analysis.publish import html as pages
from clusnet_analysis.publish.names import ReportPaths
from clusnet_analysis.publish.params import (
    RESERVED_PARAMETERS,
    BatchUsageError,
    _check_parameters,
    _check_period,
    _parameters_cell_index,
    declared_parameters,
)
from clusnet_analysis.publish.provenance import code_fingerprint, input_fingerprint
from clusnet_analysis.publish.stamps import (
    _canonical_json,
    _stamp_record,
    _stored_stamp,
    environment_fingerprint,
)

_NOTEBOOK_NAME = re.compile(r"^\d{2,}_[A-Za-z0-9][A-Za-z0-9_.\-]*\.ipynb$")


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
        return ReportPaths(self.out_dir, self.name).as_dict()

    def up_to_date(self) -> bool:
        paths = self.paths()
        return (_stored_stamp(paths["stamp"]) == self.record["stamp"]
                and paths["ipynb"].is_file() and paths["html"].is_file())


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
    left_out: dict[str, str]   # notebook name -> why it is not built for this programme

    def title_of(self, period: str, name: str) -> str:
        return _title(self.sources[name], period, name)


def _pages(period: str, names: list[str], sources: dict, site: pages.Site) -> dict[str, dict]:
    """Each report's page title and navigation bar (part of its stamp: a new neighbour rebuilds it)."""
    out = {}
    for i, name in enumerate(names):
        title = _title(sources[name], period, name)
        neighbours = [(names[j], _title(sources[names[j]], period, names[j])) if 0 <= j < len(names) else None
                      for j in (i - 1, i + 1)]
        out[name] = {"title": site.page_title(title, period),
                     "nav": pages.report_nav_html(site, period, *neighbours)}
    return out


def _title(source: dict, period: str, name: str) -> str:
    if period == "final" and source.get("final_title"):
        return source["final_title"]
    return source["heading"] or f"{period} – {name}"


def _prepare(periods, data_dir, notebooks_dir, reports_dir, parameters, programme_file,
             extra_stamp, only, site: pages.Site | None = None) -> _Plan:
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
            "final_title": (content.get("metadata", {}).get("clusnet", {}) or {}).get("final_title"),
            "area": (content.get("metadata", {}).get("clusnet", {}) or {}).get("area"),
            "parameters_cell": _parameters_cell_index(content),
            "declared": declared_parameters(content),
        }
    site = site or pages.Site()
    reasons = dict(site.left_out)
    left_out = {p.stem: reasons[sources[p.stem]["area"]] for p in notebooks if sources[p.stem]["area"] in reasons}
    notebooks = [p for p in notebooks if p.stem not in left_out]
    selected -= set(left_out)
    names = [path.stem for path in notebooks]
    page_info = {period: _pages(period, names, sources, site) for period in periods}
    tasks = [
        _Task(period, path, out_dirs[period], _stamp_record(
            period, path.stem, sources[path.stem]["sha256"], inputs["fingerprint"], code,
            environment, user_parameters, dict(extra, page=page_info[period][path.stem])))
        for period in periods for path in notebooks
    ]
    return _Plan(periods, data_dir, notebooks_dir, reports_dir, out_dirs, user_parameters, extra,
                 selected, inputs, code, environment, sources, tasks, left_out)


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
    site: pages.Site | None = None,
) -> list[tuple[str, str]]:
    """(period, notebook) pairs that `run_batch` with the same arguments would rebuild.

    Cheap (hashes only, no papermill): lets a caller skip its own expensive checks,
    e.g. loading and validating the data, when every report is already up to date.
    """
    plan = _prepare(periods, data_dir, notebooks_dir, reports_dir, parameters, programme_file,
                    extra_stamp, only, site)
    return [(task.period, task.name) for task in plan.tasks
            if task.name in plan.selected and not task.up_to_date()]
