"""Batch runner: papermill execution, HTML reports, up-to-date stamps, manifests, indexes.

The notebooks here are tiny and written by the tests; the project's own report
notebooks are not used. Tests marked `slow` start real kernels (about a second each).
"""
from __future__ import annotations

import datetime
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from clusnet_analysis import __version__
from clusnet_analysis.publish import html as pages
from clusnet_analysis.publish.batch import (
    MANIFEST_KIND,
    BatchUsageError,
    _source_cell_index,
    declared_parameters,
    discover_notebooks,
    plan_batch,
    run_batch,
    write_top_index,
)
from clusnet_analysis.config import PACKAGE_DIR
from clusnet_analysis.publish import plan as plan_module
from clusnet_analysis.publish import provenance
from clusnet_analysis.publish.provenance import code_fingerprint, file_sha256, input_fingerprint

PERIODS = ["S3", "S4"]

PARAMETERS_CELL = """\
period = "S3"
data_dir = "."
headline_path = "headline.json"
fail = False
"""

HEADLINE_CELL = """\
import json, os, sys
rows = sum(1 for line in open(os.path.join(data_dir, "exchanges.csv"))) - 1
with open(headline_path, "w") as handle:
    json.dump({"period": period, "exchanges": rows, "executable": sys.executable,
               "cwd": os.getcwd()}, handle)
"""


def _notebook(cells: list) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.cells = cells
    return notebook


def _parameters_cell(source: str = PARAMETERS_CELL):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


def write_notebooks(folder: Path) -> None:
    """01_overview: heading, headline, a printed (escaped) line, a cell that fails on demand.
    02_budget: no heading, prints the period."""
    folder.mkdir(parents=True, exist_ok=True)
    overview = _notebook([
        nbformat.v4.new_markdown_cell("# Exchanges <overview>\n\nWhat the reader sees."),  # cell 0
        _parameters_cell(),                                                                 # cell 1
        nbformat.v4.new_code_cell(HEADLINE_CELL),                                           # cell 2
        nbformat.v4.new_code_cell("print('<b>exchanges</b>', rows)"),                       # cell 3
        nbformat.v4.new_code_cell("if fail:\n    raise ValueError('cap exceeded in ' + period)"),  # cell 4
    ])
    nbformat.write(overview, folder / "01_overview.ipynb")
    budget = _notebook([
        _parameters_cell(),
        nbformat.v4.new_code_cell("print('budget for', period)"),
    ])
    nbformat.write(budget, folder / "02_budget.ipynb")


def write_data(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "exchanges.csv").write_text("exchange_id,host_city\nX1,LYO\nX2,BCN\n", encoding="utf-8")


def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _built(result) -> list[tuple[str, str]]:
    return [(run.period, run.notebook) for run in result.built]


@pytest.fixture
def project(tmp_path: Path) -> dict[str, Path]:
    paths = {"notebooks": tmp_path / "notebooks", "data": tmp_path / "data", "reports": tmp_path / "reports"}
    write_notebooks(paths["notebooks"])
    write_data(paths["data"])
    return paths


def _run(project: dict[str, Path], **kwargs):
    kwargs.setdefault("jobs", 2)
    kwargs.setdefault("parameters", {"fail": False})
    return run_batch(PERIODS, project["data"], project["notebooks"], project["reports"], **kwargs)


@pytest.fixture(scope="module", autouse=True)
def stable_code_fingerprint():
    """Edits to the package while these tests run must not turn a no-op into a rebuild.
    (That a code change does invalidate is tested below with plan_batch.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("clusnet_analysis.publish.plan.code_fingerprint", lambda: "code-under-test")
        yield


# One real build shared by the read-only slow tests: kernels cost about a second each.
@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("built")
    project = {"notebooks": root / "notebooks", "data": root / "data", "reports": root / "reports"}
    write_notebooks(project["notebooks"])
    write_data(project["data"])
    messages: list[str] = []
    result = _run(project, on_progress=messages.append, banner="SYNTHETIC SAMPLE DATA")
    return {"project": project, "result": result, "messages": messages}


def _copy_project(built: dict, tmp_path: Path) -> dict[str, Path]:
    """A private copy of the built project, so a test can change it without rebuilding from scratch."""
    copy = {}
    for key, folder in built["project"].items():
        copy[key] = tmp_path / key
        shutil.copytree(folder, copy[key], symlinks=True)
    return copy


# --------------------------------------------------------------- fast tests

def test_discover_notebooks_sorted_skipping_checkpoints_and_other_files(tmp_path):
    for name in ["10_last.ipynb", "02_b.ipynb", "01_a.ipynb", "01_a-checkpoint.ipynb", ".01_hidden.ipynb",
                 "notes.ipynb", "03_c.py", "1_short.ipynb"]:
        (tmp_path / name).write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "04_d-checkpoint.ipynb").write_text("{}")
    assert [p.name for p in discover_notebooks(tmp_path)] == ["01_a.ipynb", "02_b.ipynb", "10_last.ipynb"]


@pytest.mark.parametrize("period", ["../outside", "S3/../../x", "..", "a/b", "a\\b", ".hidden", "", " S3"])
def test_period_ids_that_could_escape_are_refused(project, period):
    with pytest.raises(BatchUsageError, match="period id"):
        run_batch([period], project["data"], project["notebooks"], project["reports"])
    assert not project["reports"].exists()


def test_period_folder_symlinked_outside_reports_is_refused(project, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    project["reports"].mkdir()
    (project["reports"] / "S3").symlink_to(outside, target_is_directory=True)
    with pytest.raises(BatchUsageError, match="escapes the reports folder"):
        run_batch(["S3"], project["data"], project["notebooks"], project["reports"])
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(("parameters", "message"), [
    ({"period": "S4"}, "parameter period is set by the runner"),
    ({"headline_path": "/tmp/x"}, "parameter headline_path is set by the runner"),
    ({"since": datetime.date(2010, 1, 1)}, "parameter since has type date"),
    ({"data": Path("x")}, "parameter data has type (PosixPath|WindowsPath)"),
    ({"rate": float("nan")}, "parameter rate must be a finite number"),
    ({"bad name": 1}, "is not a valid Python name"),
    ({"cities": {1: "LYO"}}, "dict keys must be text"),
])
def test_parameters_of_other_types_or_reserved_names_are_refused(project, parameters, message):
    with pytest.raises(BatchUsageError, match=message):
        _run(project, parameters=parameters)
    assert not project["reports"].exists()


def test_bad_jobs_and_missing_folders_are_refused(project, tmp_path):
    with pytest.raises(BatchUsageError, match="jobs must be"):
        _run(project, jobs=0)
    with pytest.raises(BatchUsageError, match="data folder not found"):
        run_batch(PERIODS, tmp_path / "nope", project["notebooks"], project["reports"])
    with pytest.raises(BatchUsageError, match="no report notebooks"):
        run_batch(PERIODS, project["data"], project["data"], project["reports"])
    with pytest.raises(BatchUsageError, match="no notebook named '09'"):
        _run(project, only=["09"])


def test_declared_parameters_read_the_parameters_cell_as_python():
    cell = {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": [
        "%matplotlib inline\n",
        'period = "final"        # S3, S4, S5 or final\n',
        "data_dir = None         # None = bundled sample (config.SAMPLE_DATA_DIR); see docs\n",
        "first, last = 1, 2\n",
        "threshold: float = 0.8\n",
        "import os\n",
    ]}
    notebook = {"cells": [{"cell_type": "markdown", "source": "# T"}, cell]}
    assert declared_parameters(notebook) == ["period", "data_dir", "first", "last", "threshold"]
    assert declared_parameters({"cells": [{"cell_type": "code", "metadata": {}, "source": "x = 1"}]}) == (
        "has no cell tagged 'parameters'")
    broken = {"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "x = = 1"}]}
    assert declared_parameters(broken) == "its parameters cell is not valid Python (line 1: invalid syntax)"


def test_notebook_without_parameters_cell_is_refused(project):
    nbformat.write(_notebook([nbformat.v4.new_code_cell("x = 1")]), project["notebooks"] / "03_bare.ipynb")
    with pytest.raises(BatchUsageError, match="^refusing to run: 03_bare.ipynb has no cell tagged 'parameters'$"):
        _run(project)
    assert not project["reports"].exists()


def test_source_cell_index_undoes_the_injected_cell():
    # parameters cell at 1 -> papermill injects at 2; executed cell 5 was source cell 4
    assert _source_cell_index(5, parameters_cell=1) == 4
    assert _source_cell_index(0, parameters_cell=1) == 0
    assert _source_cell_index(1, parameters_cell=1) == 1
    assert _source_cell_index(None, parameters_cell=1) is None


def test_notebook_title_is_the_first_markdown_heading():
    notebook = {"cells": [
        {"cell_type": "code", "source": "# not a heading, a comment"},
        {"cell_type": "markdown", "source": ["Intro text\n", "## Budget per city ##\n"]},
        {"cell_type": "markdown", "source": "# Later heading"},
    ]}
    assert pages.notebook_title(notebook, "S3 – 03_budget") == "Budget per city"
    assert pages.notebook_title({"cells": []}, "S3 – 03_budget") == "S3 – 03_budget"


def test_index_pages_escape_every_data_string_and_show_the_banner():
    links = [
        pages.ReportLink("01_x", "Costs <script>alert(1)</script>", "ok", href="01_x.html"),
        pages.ReportLink("02_y", "Y & Z", "failed", failed_href="02_y.FAILED.ipynb"),
        pages.ReportLink("03_z", "Missing", "missing"),
    ]
    page = pages.period_index_html("S<3>", links, banner="12 rows <excluded>")
    assert "<script>" not in page
    assert "Costs &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<div class="banner" role="note">12 rows &lt;excluded&gt;</div>' in page
    assert "<title>Exchange programme reports – S&lt;3&gt;</title>" in page
    assert '<a href="01_x.html">' in page
    assert "Y &amp; Z <span class=\"problem\">– FAILED" in page
    assert '<a href="02_y.FAILED.ipynb">failed notebook</a>' in page
    assert "Missing <span class=\"problem\">– not built yet</span>" in page
    top = pages.top_index_html([pages.PeriodLink("S3", "S3 <Jul>", "S3/index.html", 2, 1)], banner=None)
    assert '<a href="S3/index.html">S3 &lt;Jul&gt;</a> – 2 reports' in top
    assert "1 not up to date or failed" in top
    assert "banner" not in top.split("</style>")[1]


def test_input_fingerprint_follows_content_not_paths(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        write_data(folder)
        (folder / ".~lock.exchanges.csv#").write_text("editor lock file")
        (folder / "notes.md").write_text("not data")
    (second / "notes.md").write_text("other notes, still not data")
    fp_first, fp_second = input_fingerprint(first), input_fingerprint(second)
    assert fp_first["fingerprint"] == fp_second["fingerprint"]
    assert list(fp_first["files"]) == ["exchanges.csv"]
    assert fp_first["files"]["exchanges.csv"] == file_sha256(first / "exchanges.csv")
    assert fp_first["package_version"] == __version__
    assert len(fp_first["fingerprint"]) == 16

    (second / "exchanges.csv").write_text("exchange_id,host_city\nX1,LYO\n")
    assert input_fingerprint(second)["fingerprint"] != fp_first["fingerprint"]
    # a rename is a change too
    (second / "exchanges.csv").rename(second / "exchanges_old.csv")
    assert input_fingerprint(second)["fingerprint"] != fp_first["fingerprint"]


def test_input_fingerprint_includes_the_programme_file(tmp_path):
    write_data(tmp_path / "data")
    rules = tmp_path / "other.toml"
    rules.write_text("cap_eur = 1550\n")
    before = input_fingerprint(tmp_path / "data", rules)
    assert before["programme_file"] == str(rules)
    rules.write_text("cap_eur = 1600\n")
    assert input_fingerprint(tmp_path / "data", rules)["fingerprint"] != before["fingerprint"]


def test_code_fingerprint_changes_with_any_source_file(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    (package / "rules.toml").write_text("cap = 1\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    before = code_fingerprint(package)
    (package / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\1")
    assert code_fingerprint(package) == before
    (package / "rules.toml").write_text("cap = 2\n")
    assert code_fingerprint(package) != before
    assert len(code_fingerprint()) == 16


def _package_copy(tmp_path: Path) -> Path:
    """A copy of the real package's files, to edit without touching the package itself."""
    copy = tmp_path / "package_copy"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_real_edit_to_a_package_file_changes_the_code_fingerprint(tmp_path):
    package = _package_copy(tmp_path)
    before = code_fingerprint(package)
    assert before == code_fingerprint(PACKAGE_DIR)      # content counts, not where the package is
    checks = package / "rules" / "money_checks.py"    # a module in a sub-package
    original = checks.read_text(encoding="utf-8")
    checks.write_text(original.replace("spend[c] > a + 1e-9", "spend[c] >= a + 1e-9"), encoding="utf-8")
    assert checks.read_text(encoding="utf-8") != original
    edited = code_fingerprint(package)
    assert edited != before
    checks.write_text(original, encoding="utf-8")       # edit undone: the same code again
    assert code_fingerprint(package) == before
    (package / "programmes" / "clusnet.toml").write_text("# other rules\n", encoding="utf-8")
    assert code_fingerprint(package) not in (before, edited)


@pytest.mark.slow
def test_a_real_edit_to_a_package_file_makes_the_next_run_rebuild(project, tmp_path, monkeypatch):
    """Stamps use the real code fingerprint of a package copy; one kernel runs twice."""
    package = _package_copy(tmp_path)
    monkeypatch.setattr(plan_module, "code_fingerprint", provenance.code_fingerprint)  # not this module's stand-in
    monkeypatch.setattr(provenance, "PACKAGE_DIR", package)
    args = (["S3"], project["data"], project["notebooks"], project["reports"])
    options = {"parameters": {"fail": False}, "only": ["02"]}
    assert _built(run_batch(*args, jobs=1, **options)) == [("S3", "02_budget")]
    assert plan_batch(*args, **options) == []

    budget = package / "analysis" / "budget.py"
    source = budget.read_text(encoding="utf-8")
    edited = source.replace('out["over_cap"] = out["total_eur"] > programme.cap_eur',
                            'out["over_cap"] = out["total_eur"] >= programme.cap_eur')
    assert edited != source                           # the planted edit really is there
    budget.write_text(edited, encoding="utf-8")
    assert plan_batch(*args, **options) == [("S3", "02_budget")]
    assert _built(run_batch(*args, jobs=1, **options)) == [("S3", "02_budget")]
    assert plan_batch(*args, **options) == []
    manifest = json.loads((project["reports"] / "S3" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["code_fingerprint"] == code_fingerprint(package)


def test_top_index_orders_periods_as_labelled_and_ignores_other_folders(tmp_path):
    for period in ["final", "S4", "S3"]:
        (tmp_path / period).mkdir()
        (tmp_path / period / "manifest.json").write_text(json.dumps(
            {"kind": MANIFEST_KIND, "label": period, "reports": [{"status": "ok"}]}))
    (tmp_path / "figures").mkdir()  # a manifest of another kind: not a period
    (tmp_path / "figures" / "manifest.json").write_text(json.dumps({"files": []}))
    (tmp_path / "validation").mkdir()
    write_top_index(tmp_path, period_labels={"S3": "S3 (Jul–Dec 2009)", "S4": "S4"})
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]+)"', page)
    assert hrefs == ["figures/index.html", "validation/index.html", "S3/index.html", "S4/index.html",
                     "final/index.html"]
    assert "S3 (Jul–Dec 2009)" in page


def test_top_index_lists_folders_built_from_other_data_apart(tmp_path):
    # Y2014 and final of another data set were built into the same folder before this run's S3
    for period, fingerprint in [("S3", "current"), ("Y2014", "other"), ("final", "other")]:
        (tmp_path / period).mkdir()
        (tmp_path / period / "manifest.json").write_text(json.dumps(
            {"kind": MANIFEST_KIND, "label": period, "reports": [{"status": "ok"}],
             "inputs": {"fingerprint": fingerprint}}))
    write_top_index(tmp_path, period_labels={"S3": "S3"}, inputs_fingerprint="current")
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    current, other = page.split("Built from other data")
    assert re.findall(r'href="([^"]+)"', current)[2:] == ["S3/index.html"]
    assert re.findall(r'href="([^"]+)"', other) == ["Y2014/index.html", "final/index.html"]
    # without a fingerprint (an older caller) every folder is listed as before
    write_top_index(tmp_path, period_labels={"S3": "S3"})
    assert "Built from other data" not in (tmp_path / "index.html").read_text(encoding="utf-8")


# --------------------------------------------------------------- slow tests

@pytest.mark.slow
def test_batch_builds_html_ipynb_and_headline_for_every_period(built):
    result, reports = built["result"], built["project"]["reports"]
    assert result.ok and result.failed == [] and result.skipped == []
    assert _built(result) == [("S3", "01_overview"), ("S3", "02_budget"),
                              ("S4", "01_overview"), ("S4", "02_budget")]
    for period in PERIODS:
        for name in ["01_overview", "02_budget"]:
            assert (reports / period / f"{name}.html").is_file()
            assert (reports / period / f"{name}.ipynb").is_file()
        headline = json.loads((reports / period / "01_overview.headline.json").read_text())
        assert headline["period"] == period
        assert headline["exchanges"] == 2
    # one progress line per finished notebook, counted in finishing order
    progress = [re.fullmatch(r"\[(\d)/4\] (S\d/\w+) built in \d+\.\ds", m) for m in built["messages"]]
    assert all(progress), built["messages"]
    assert [m.group(1) for m in progress] == ["1", "2", "3", "4"]
    assert sorted(m.group(2) for m in progress) == ["S3/01_overview", "S3/02_budget",
                                                   "S4/01_overview", "S4/02_budget"]


@pytest.mark.slow
def test_kernel_is_the_runner_interpreter_and_cwd_is_the_notebooks_folder(built):
    headline = json.loads((built["project"]["reports"] / "S3" / "01_overview.headline.json").read_text())
    assert headline["executable"] == sys.executable
    assert Path(headline["cwd"]) == built["project"]["notebooks"].resolve()


@pytest.mark.slow
def test_html_report_has_no_code_a_title_no_cdn_and_escaped_text(built):
    reports = built["project"]["reports"]
    page = (reports / "S3" / "01_overview.html").read_text(encoding="utf-8")
    assert "<title>Exchanges &lt;overview&gt; – S3 – Exchange programme reports</title>" in page
    assert "json.dump" not in page and "raise ValueError" not in page  # no code input
    assert "What the reader sees." in page  # prose stays
    assert "&lt;b&gt;exchanges&lt;/b&gt; 2" in page  # printed text escaped, not HTML
    assert "<b>exchanges</b>" not in page
    assert "jp-InputPrompt" not in page.split("</style>")[-1]  # no In [ ] prompts in the body
    for html_file in reports.rglob("*.html"):
        text = html_file.read_text(encoding="utf-8")
        assert "https://cdn" not in text, html_file
        assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", text), html_file
        assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", text), html_file
    fallback = (reports / "S4" / "02_budget.html").read_text(encoding="utf-8")
    assert "<title>S4 – 02_budget – S4 – Exchange programme reports</title>" in fallback
    assert "budget for S4" in fallback


@pytest.mark.slow
def test_manifest_lists_every_output_with_its_hash(built):
    project = built["project"]
    period_dir = project["reports"] / "S3"
    manifest = json.loads((period_dir / "manifest.json").read_text(encoding="utf-8"))
    assert [entry["path"] for entry in manifest["outputs"]] == [
        "01_overview.headline.json", "01_overview.html", "01_overview.ipynb",
        "02_budget.html", "02_budget.ipynb", "index.html"]
    for entry in manifest["outputs"]:
        data = (period_dir / entry["path"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
    assert manifest["period"] == "S3"
    assert manifest["package_version"] == __version__
    assert manifest["parameters"] == {"fail": False}
    assert manifest["banner"] == "SYNTHETIC SAMPLE DATA"
    assert manifest["inputs"]["files"] == {"exchanges.csv": file_sha256(project["data"] / "exchanges.csv")}
    assert manifest["inputs"]["fingerprint"] == input_fingerprint(project["data"])["fingerprint"]
    assert [(r["notebook"], r["title"], r["status"]) for r in manifest["reports"]] == [
        ("01_overview", "Exchanges <overview>", "ok"), ("02_budget", "S3 – 02_budget", "ok")]
    index = (period_dir / "index.html").read_text(encoding="utf-8")
    assert '<a href="01_overview.html">Exchanges &lt;overview&gt;</a>' in index
    assert "SYNTHETIC SAMPLE DATA" in index
    top = (project["reports"] / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'href="([^"]+)"', top) == ["figures/index.html", "validation/index.html", "S3/index.html",
                                                     "S4/index.html"]


@pytest.mark.slow
def test_no_op_rerun_skips_everything_and_leaves_bytes_unchanged(built, tmp_path):
    # A moved project is still up to date: stamps hold content hashes, not paths or mtimes.
    project = _copy_project(built, tmp_path)
    messages: list[str] = []
    result = _run(project, on_progress=messages.append, banner="SYNTHETIC SAMPLE DATA")
    assert result.built == [] and result.failed == []
    assert [(r.period, r.notebook) for r in result.skipped] == [
        ("S3", "01_overview"), ("S3", "02_budget"), ("S4", "01_overview"), ("S4", "02_budget")]
    assert messages == ["[1/4] S3/01_overview up to date", "[2/4] S3/02_budget up to date",
                        "[3/4] S4/01_overview up to date", "[4/4] S4/02_budget up to date"]
    assert plan_batch(PERIODS, project["data"], project["notebooks"], project["reports"],
                      parameters={"fail": False}) == []
    # (the manifests now name the new data folder; after that, a re-run changes no byte)
    before = _tree_bytes(project["reports"])
    result = _run(project, banner="SYNTHETIC SAMPLE DATA")
    assert len(result.skipped) == 4 and result.built == []
    assert _tree_bytes(project["reports"]) == before


@pytest.mark.slow
def test_a_change_in_the_package_code_invalidates_every_report(built, tmp_path, monkeypatch):
    project = _copy_project(built, tmp_path)
    args = (PERIODS, project["data"], project["notebooks"], project["reports"])
    assert plan_batch(*args, parameters={"fail": False}) == []
    monkeypatch.setattr("clusnet_analysis.publish.plan.code_fingerprint", lambda: "edited-code")
    assert plan_batch(*args, parameters={"fail": False}) == [
        ("S3", "01_overview"), ("S3", "02_budget"), ("S4", "01_overview"), ("S4", "02_budget")]
    # so do other parameters
    monkeypatch.undo()
    assert plan_batch(*args, parameters={"fail": False}) == []
    assert len(plan_batch(*args, parameters={"fail": True})) == 4


@pytest.mark.slow
def test_changes_rebuild_only_what_they_affect(built, tmp_path):
    project = _copy_project(built, tmp_path)

    # an edited notebook: that notebook only, in every period
    budget = nbformat.read(project["notebooks"] / "02_budget.ipynb", as_version=4)
    budget.cells.append(nbformat.v4.new_code_cell("print('total')"))
    nbformat.write(budget, project["notebooks"] / "02_budget.ipynb")
    planned = plan_batch(PERIODS, project["data"], project["notebooks"], project["reports"],
                         parameters={"fail": False})
    assert planned == [("S3", "02_budget"), ("S4", "02_budget")]
    result = _run(project)
    assert _built(result) == [("S3", "02_budget"), ("S4", "02_budget")]
    assert [(r.period, r.notebook) for r in result.skipped] == [("S3", "01_overview"), ("S4", "01_overview")]

    # changed data: everything; the headline follows the new data
    (project["data"] / "exchanges.csv").write_text("exchange_id,host_city\nX1,LYO\nX2,BCN\nX3,MUC\n")
    result = _run(project, jobs=None)
    assert len(result.built) == 4 and result.skipped == []
    headline = json.loads((project["reports"] / "S4" / "01_overview.headline.json").read_text())
    assert headline["exchanges"] == 3

    # force: rebuilt though nothing changed (limited to one notebook with `only` to save time)
    result = _run(project, force=True, only=["02_budget"])
    assert _built(result) == [("S3", "02_budget"), ("S4", "02_budget")] and result.skipped == []

    # a different extra stamp (e.g. another data source label) invalidates too; `only` limits the run
    result = _run(project, extra_stamp={"source": "real"}, only=["01"])
    assert _built(result) == [("S3", "01_overview"), ("S4", "01_overview")]
    assert result.skipped == []
    manifest = json.loads((project["reports"] / "S3" / "manifest.json").read_text())
    assert [(r["notebook"], r["status"]) for r in manifest["reports"]] == [
        ("01_overview", "ok"), ("02_budget", "stale")]


@pytest.mark.slow
def test_a_failing_notebook_does_not_stop_the_others(built, tmp_path):
    project = _copy_project(built, tmp_path)
    messages: list[str] = []
    result = _run(project, parameters={"fail": True}, on_progress=messages.append)
    assert not result.ok
    assert _built(result) == [("S3", "02_budget"), ("S4", "02_budget")]
    assert [(f.period, f.notebook, f.cell_index, f.ename, f.evalue) for f in result.failed] == [
        ("S3", "01_overview", 4, "ValueError", "cap exceeded in S3"),
        ("S4", "01_overview", 4, "ValueError", "cap exceeded in S4"),
    ]
    failure = result.failed[0]
    assert failure.exec_count == 5  # the injected parameters cell ran too
    assert failure.describe() == "S3/01_overview failed at cell 4 (In [5]): ValueError: cap exceeded in S3"
    assert any(m.endswith(failure.describe()) and "FAILED" in m for m in messages)

    s3 = project["reports"] / "S3"
    # no report under the final names (the earlier, now stale, report is gone too) ...
    for name in ["01_overview.ipynb", "01_overview.html", "01_overview.headline.json", ".stamps/01_overview.json"]:
        assert not (s3 / name).exists(), name
    # ... but the executed notebook is kept for debugging, and no temp files are left
    assert failure.failed_notebook == s3 / "01_overview.FAILED.ipynb"
    kept = nbformat.read(failure.failed_notebook, as_version=4)
    assert any(o.get("ename") == "ValueError" for c in kept.cells for o in c.get("outputs", []))
    assert not [p.name for p in s3.iterdir() if p.name.startswith(".") and p.name != ".stamps"]
    manifest = json.loads((s3 / "manifest.json").read_text())
    assert [(r["notebook"], r["status"]) for r in manifest["reports"]] == [
        ("01_overview", "failed"), ("02_budget", "ok")]
    assert "FAILED: no report" in (s3 / "index.html").read_text(encoding="utf-8")

    # fixed: the report comes back and the failed notebook goes away
    result = _run(project, parameters={"fail": False}, only=["01"])
    assert result.ok
    assert _built(result) == [("S3", "01_overview"), ("S4", "01_overview")]
    assert (s3 / "01_overview.html").is_file() and not (s3 / "01_overview.FAILED.ipynb").exists()


def test_undeclared_parameter_is_refused_before_anything_runs(project):
    with pytest.raises(BatchUsageError) as caught:
        _run(project, parameters={"fail": False, "show_names": True})
    message = str(caught.value)
    assert "\n" not in message
    assert message == ("refusing to run: 01_overview.ipynb does not declare show_names in its cell "
                       "tagged 'parameters'; 02_budget.ipynb does not declare show_names in its cell "
                       "tagged 'parameters'")
    assert not project["reports"].exists()


@pytest.mark.slow
def test_a_registered_python3_kernel_elsewhere_is_not_used(project, tmp_path, monkeypatch):
    # A user's "python3" kernelspec pointing at another interpreter must not run the reports.
    fake = tmp_path / "jupyter" / "kernels" / "python3"
    fake.mkdir(parents=True)
    (fake / "kernel.json").write_text(json.dumps({
        "argv": ["/nonexistent/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "other", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    result = run_batch(["S3"], project["data"], project["notebooks"], project["reports"], jobs=1,
                       parameters={"fail": False}, only=["01_overview"])
    assert result.ok, result.summary()
    headline = json.loads((project["reports"] / "S3" / "01_overview.headline.json").read_text())
    assert headline["executable"] == sys.executable


@pytest.mark.slow
def test_a_cell_timeout_is_a_failure_that_names_the_cell(tmp_path):
    notebooks, data = tmp_path / "notebooks", tmp_path / "data"
    notebooks.mkdir()
    write_data(data)
    slow = _notebook([_parameters_cell(), nbformat.v4.new_code_cell("x = 1"),
                      nbformat.v4.new_code_cell("import time\ntime.sleep(60)")])
    nbformat.write(slow, notebooks / "01_slow.ipynb")
    result = run_batch(["S3"], data, notebooks, tmp_path / "reports", jobs=1, execution_timeout=1)
    [failure] = result.failed
    assert (failure.notebook, failure.cell_index, failure.ename) == ("01_slow", 2, "CellTimeoutError")
    assert failure.failed_notebook == tmp_path / "reports" / "S3" / "01_slow.FAILED.ipynb"
    assert not (tmp_path / "reports" / "S3" / "01_slow.html").exists()
