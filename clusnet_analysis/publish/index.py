"""Publishing a batch: each period's index and manifest, and the top index."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from clusnet_analysis import __version__
from clusnet_analysis.publish import html as pages
from clusnet_analysis.publish.files import json_text, write_if_changed
from clusnet_analysis.publish.names import INDEX_NAME, MANIFEST_KIND, MANIFEST_NAME, ReportPaths
from clusnet_analysis.publish.provenance import folder_outputs
from clusnet_analysis.publish.stamps import _read_json, _stored_stamp

if TYPE_CHECKING:
    from clusnet_analysis.publish.plan import _Plan, _Task


def _report_status(task: _Task) -> str:
    paths = task.paths()
    if paths["html"].is_file() and paths["ipynb"].is_file():
        return "ok" if _stored_stamp(paths["stamp"]) == task.record["stamp"] else "stale"
    return "failed" if paths["failed"].is_file() else "missing"


def _write_period_pages(plan: _Plan, period: str, label: str, banner: str | None, site=None) -> None:
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
    left_out = []
    for name, reason in plan.left_out.items():
        # a report from a run under another programme file would no longer be true: remove it
        for path in ReportPaths(period_dir, name).as_dict().values():
            path.unlink(missing_ok=True)
        left_out.append((plan.title_of(period, name), reason))
    write_if_changed(period_dir / INDEX_NAME,
                      pages.period_index_html(period, links, banner=banner, label=label, site=site,
                                              left_out=left_out))
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
        "left_out": [{"notebook": name, "reason": reason} for name, reason in plan.left_out.items()],
        "outputs": folder_outputs(period_dir, MANIFEST_NAME),
    }
    write_if_changed(period_dir / MANIFEST_NAME, json_text(manifest))


def write_top_index(reports_dir: str | Path, banner: str | None = None,
                    period_labels: Mapping[str, str] | None = None, site=None,
                    inputs_fingerprint: str | None = None) -> Path:
    """reports_dir/index.html linking every period folder (one with a period-reports manifest).

    Periods named in period_labels come first, in that order; any others follow sorted.
    With ``inputs_fingerprint`` (the data and programme file of this run), a folder built from
    other inputs (another data set, another programme file, or data changed since) is listed
    apart, so a reader never takes it for a report of the current data.
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
            other_inputs=(inputs_fingerprint is not None
                          and (found[period].get("inputs") or {}).get("fingerprint") != inputs_fingerprint),
        ))
    reports_dir.mkdir(parents=True, exist_ok=True)
    target = reports_dir / INDEX_NAME
    write_if_changed(target, pages.top_index_html(links, banner=banner, site=site))
    return target
