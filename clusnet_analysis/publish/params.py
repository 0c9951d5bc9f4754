"""Notebook parameters: what the runner injects, what a notebook declares, what is refused."""
from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path

# Parameters the runner injects into every notebook; each notebook must declare them.
RESERVED_PARAMETERS = ("period", "data_dir", "headline_path")

_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class BatchUsageError(ValueError):
    """The batch was asked for something it must refuse (bad period, parameter, folder)."""


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


def _parameters_cell_index(notebook: Mapping) -> int:
    for index, cell in enumerate(notebook.get("cells", [])):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return index
    return -1
