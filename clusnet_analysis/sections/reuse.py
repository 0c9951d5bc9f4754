"""Work done once per content: sections and figures that the kernels of one batch share.

Every report notebook of a period computes its own area's section and draws its
figures; the synthesis shows them all again. With ``CLUSNET_REUSE=1`` (the batch
runner sets it for its kernels) a section is kept in the cache once computed, and a
rendered figure too, named by everything they are made from: the input fingerprint
(data and rules), the package code, the library versions and the view (period and
parameters). The synthesis then loads them instead of computing them again.

A stored section keeps its tables, key numbers and readings; its figures are drawn
from the figure cache, or, when a figure is not there yet, from the section computed
afresh. Off by default: an interactive session always computes.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import pickle
from pathlib import Path

from clusnet_analysis import config

SWITCH = "CLUSNET_REUSE"
_FORMAT = 1


def _base(view) -> str | None:
    if os.environ.get(SWITCH) != "1" or not view.ds.provenance.get("fingerprint"):
        return None
    base = view.__dict__.get("_reuse_base")
    if base is None:  # once per view: hashing the package sources takes a moment
        from clusnet_analysis.exchange_reports import exchange_report_findings_fingerprint
        from clusnet_analysis.publish.provenance import code_fingerprint
        from clusnet_analysis.publish.stamps import environment_fingerprint

        base = json.dumps({
            "format": _FORMAT, "code": code_fingerprint(), "environment": environment_fingerprint(),
            "inputs": view.ds.provenance, "show_names": view.ds.show_names,
            "view": {k: v for k, v in view.parameters.items() if k != "headline_path"},
            # the data-quality section shows the last check of the exchange reports
            "exchange_reports": exchange_report_findings_fingerprint(view.reports_dir),
        }, sort_keys=True, default=str)
        view.__dict__["_reuse_base"] = base
    return base


def cache_path(view, kind: str, *parts, suffix: str = "") -> Path | None:
    """Where `kind` ("sections", "figures") named by the view and `parts` is kept; None when off."""
    base = _base(view)
    if base is None:
        return None
    key = hashlib.sha256(json.dumps([base, kind, *parts], default=str).encode("utf-8")).hexdigest()[:32]
    return config.CACHE_DIR / kind / f"{key}{suffix}"


def write(path: Path, data: bytes) -> None:
    from clusnet_analysis.publish.files import atomic_write_bytes

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
    except OSError:
        pass  # a cache that cannot be written is only slower


def store_section(view, area: str, section) -> None:
    path = cache_path(view, "sections", area, suffix=".pickle")
    if path is None:
        return
    kept = dataclasses.replace(section, figures=[dataclasses.replace(f, build=None) for f in section.figures])
    try:
        data = pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - a section that cannot be kept is computed again next time
        return
    write(path, data)


def load_section(view, area: str):
    """The stored section of the area for this view, or None."""
    path = cache_path(view, "sections", area, suffix=".pickle")
    if path is None or not path.is_file():
        return None
    try:
        with open(path, "rb") as handle:
            section = pickle.load(handle)
    except Exception:  # noqa: BLE001 - truncated or stale: compute it
        return None
    section.figures = [dataclasses.replace(f, build=functools.partial(_draw_afresh, view, area, f.id))
                       for f in section.figures]
    return section


def _draw_afresh(view, area: str, figure_id: str):
    """A figure of a stored section that is not in the figure cache: compute the section again."""
    from clusnet_analysis.sections import _areas

    fresh = view.__dict__.setdefault("_fresh_sections", {})
    if area not in fresh:
        fresh[area] = _areas()[area](view)
    return next(f for f in fresh[area].figures if f.id == figure_id).build()
