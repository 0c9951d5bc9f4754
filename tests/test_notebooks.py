"""The report notebooks: committed clean and thin; once built, their pages, headlines and figures agree.

Fast tests read the notebooks as files. Slow tests use the suite's one full build
(``sample_build`` in conftest.py: every period of a copy of the sample, then the
final figures and tables) and check that what each page shows, what its headline
file stores and what ``clusnet figures`` writes are the same facts.

Counted by hand from data/sample/exchanges.csv: S3 has 8 counted exchanges
(X001–X008), S4 12 (X009–X020), S5 8 (X021–X028; X029 and X030 are drafts), and
X031 (January 2011) is after the window: 29 counted exchanges in all.
"""
from __future__ import annotations

import ast
import base64
import json
import re
from pathlib import Path

import nbformat
import pytest

from clusnet_analysis import sections
from clusnet_analysis.ingest.dataset import load
from clusnet_analysis.publish.provenance import input_fingerprint

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
AREAS = {
    "01_data_quality": "data_quality",
    "02_cross_city": "cross_city",
    "03_budget": "budget",
    "04_best_practices": "practices",
    "05_cluster_phases": "phases",
    "06_cluster_links": "links",
    "07_synthesis": "synthesis",
}
PARAMETERS = {"period": "final", "data_dir": None, "headline_path": None, "show_names": False,
              "allow_invalid": False}
PERIODS = ("S3", "S4", "S5", "final")
IDENTIFIER = re.compile(r"\b[a-z]+_[a-z_]+\b")


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)


def _code(nb) -> str:
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")


# ------------------------------------------------------------------ committed notebooks (fast)
def test_one_notebook_per_report_area():
    assert sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb")) == sorted(AREAS)


@pytest.mark.parametrize("name", AREAS)
def test_notebook_is_valid_and_committed_without_outputs(name):
    nb = _read(name)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "clusnet"   # the project's kernel (make install registers it)
    assert nb.metadata["clusnet"]["area"] == AREAS[name]
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: outputs committed"
        assert "papermill" not in cell.metadata


@pytest.mark.parametrize("name", AREAS)
def test_parameters_cell_declares_exactly_the_five_parameters(name):
    import papermill

    nb = _read(name)
    assert [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])] == [1]
    tree = ast.parse(nb.cells[1].source)
    assert {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body} == PARAMETERS
    assert list(papermill.inspect_notebook(str(NOTEBOOKS_DIR / f"{name}.ipynb"))) == list(PARAMETERS)


@pytest.mark.parametrize("name", AREAS)
def test_notebook_is_thin_and_shows_its_section(name):
    code = _code(_read(name))
    assert "view = sections.start(period, data_dir" in code
    if AREAS[name] != "synthesis":
        assert f'section = sections.build(view, "{AREAS[name]}")' in code
    assert "show.save_headline(view, section)" in code
    assert f'show.provenance(view, "{name}")' in code
    for forbidden in (".groupby(", ".pivot", ".merge(", "crosstab", "to_html", "HTML(", "plt.", "fig ="):
        assert forbidden not in code, f"{name} uses {forbidden}: move it into the package"


def test_the_notebooks_are_the_generators_output():
    """tools/make_notebooks.py writes them: a hand edit would be lost at the next generation."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOKS_DIR.parent / "tools" / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, (area, title, body) in module.SPECS.items():
        expected = json.dumps(module.notebook(name, area, title, body), indent=1, ensure_ascii=False) + "\n"
        assert (NOTEBOOKS_DIR / f"{name}.ipynb").read_text(encoding="utf-8") == expected, name


# ------------------------------------------------------------------ built reports (slow)
def _executed(build, period, name) -> nbformat.NotebookNode:
    return nbformat.read(build["reports"] / period / f"{name}.ipynb", as_version=4)


def _outputs_text(nb) -> str:
    return "\n".join(json.dumps(cell.get("outputs", []), ensure_ascii=False) for cell in nb.cells)


def _embedded_pngs(nb) -> list[tuple[bytes, str]]:
    found = []
    for match in re.finditer(r'src=\\"data:image/png;base64,([A-Za-z0-9+/=]+)\\" alt=\\"([^"\\]*)\\"',
                             _outputs_text(nb)):
        found.append((base64.b64decode(match.group(1)), match.group(2)))
    return found


@pytest.fixture(scope="module")
def views(sample_build):
    ds = load(sample_build["data"], use_cache=False)
    return {p: sections.for_dataset(ds, p) for p in PERIODS}


@pytest.mark.slow
@pytest.mark.parametrize("period", PERIODS)
def test_every_notebook_ran_cleanly(sample_build, period):
    for name in AREAS:
        text = _outputs_text(_executed(sample_build, period, name))
        assert '"output_type": "error"' not in text and "Traceback" not in text, name
        assert "SYNTHETIC SAMPLE DATA" in text and "Provenance." in text, name
        stored = json.loads((sample_build["reports"] / period / f"{name}.headline.json").read_text())
        # the numbers came from this data: the fingerprint of the build's own input folder
        assert stored["input_fingerprint"] == input_fingerprint(sample_build["data"])["fingerprint"], name


@pytest.mark.slow
@pytest.mark.parametrize("period", PERIODS)
def test_headline_files_hold_the_sections_key_numbers(sample_build, views, period):
    for name, area in AREAS.items():
        stored = json.loads((sample_build["reports"] / period / f"{name}.headline.json").read_text())
        assert stored["period"] == period and stored["area"] == area
        expected = sections.build(views[period], area).headline()
        assert stored["key_numbers"] == json.loads(json.dumps(expected["key_numbers"])), (period, name)


@pytest.mark.slow
@pytest.mark.parametrize("period", PERIODS)
def test_figures_on_the_pages_are_the_figure_files(sample_build, views, period, tmp_path):
    """Every figure a notebook shows is byte for byte the PNG that clusnet figures writes for it."""
    from clusnet_analysis.publish.figures import build_figures

    out = sample_build["reports"] / "figures" if period == "final" else tmp_path / "figures"
    if period != "final":
        build_figures(views[period], out)
    files = {p.stem: p.read_bytes() for p in out.glob("*.png")}
    assert len(files) == 6
    shown = {}
    for name, area in AREAS.items():
        for png, alt in _embedded_pngs(_executed(sample_build, period, name)):
            matches = [stem for stem, data in files.items() if data == png]
            assert matches, f"{period}/{name} shows a figure that is not a figure file"
            assert alt and "No description" not in alt
            shown.setdefault(matches[0], set()).add(area)
    assert set(shown) == set(files)                       # every figure file is shown ...
    assert all("synthesis" in areas for areas in shown.values())  # ... and again, the same, in the synthesis


@pytest.mark.slow
def test_headline_numbers_match_a_recount_of_the_csv_files(sample_build):
    def number(period, name, id, scope):
        stored = json.loads((sample_build["reports"] / period / f"{name}.headline.json").read_text())
        return next(k["value"] for k in stored["key_numbers"] if k["id"] == id and k["scope"] == scope)

    assert number("S4", "02_cross_city", "exchanges", "this_period") == 12
    assert number("S4", "02_cross_city", "exchanges", "cumulative") == 20
    assert [number("final", "02_cross_city", "exchanges", s) for s in ("S3", "S4", "S5", "outside", "total")] == \
        [8, 12, 8, 1, 29]
    # S5's claims are what the final report gives for S5: 10,702.30 EUR; the visit after the window is apart
    assert number("S5", "03_budget", "claimed", "this_period") == pytest.approx(10702.30)
    assert number("final", "03_budget", "claimed", "S5") == pytest.approx(10702.30)
    assert number("final", "03_budget", "claimed", "total") == pytest.approx(38486.67)
    assert number("S5", "03_budget", "claimed", "cumulative") == pytest.approx(38486.67 - 1231.49)
    assert number("final", "03_budget", "reimbursable", "total") == pytest.approx(29459.23)


@pytest.mark.slow
def test_a_semester_shows_nothing_dated_after_its_end(sample_build):
    """S4 ends on 30 June 2010: the over-cap visit X022 (Sept 2010) and the December drafts are later."""
    text = _outputs_text(_executed(sample_build, "S4", "01_data_quality"))
    for later in ("X022", "X029", "X030", "X031"):
        assert later not in text
    budget = json.loads((sample_build["reports"] / "S4" / "03_budget.headline.json").read_text())
    assert {k["id"]: k["value"] for k in budget["key_numbers"]}["exchanges_over_cap"] == 0
    assert "Statuses (draft, submitted, validated) are today" in _outputs_text(_executed(sample_build, "S4",
                                                                                         "03_budget"))


def _pages(build):
    return sorted(build["reports"].glob("*/0*.html"))


@pytest.mark.slow
def test_no_page_shows_an_identifier_as_a_header(sample_build):
    problems = []
    for page in _pages(sample_build):
        text = page.read_text(encoding="utf-8")
        for header in re.findall(r"<th[^>]*>(.*?)</th>", text, flags=re.S):
            if IDENTIFIER.search(re.sub(r"<[^>]+>", "", header)):
                problems.append((page.name, header))
        for caption in re.findall(r'class="table-title"><b>(.*?)</b>', text):
            if IDENTIFIER.search(caption):
                problems.append((page.name, caption))
    assert problems == []


@pytest.mark.slow
def test_every_page_has_its_own_title_a_navigation_bar_and_alt_texts(sample_build):
    titles = {}
    for page in _pages(sample_build):
        text = page.read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", text).group(1)
        assert title not in titles, f"{page} and {titles.get(title)} share the title {title!r}"
        titles[title] = page
        # the bar's attributes may come in either order (the HTML is re-serialised when it is rendered)
        assert re.search(r'<nav [^>]*class="clusnet-nav"', text), page
        assert 'href="../index.html"' in text
        assert 'href="../figures/index.html"' in text and 'href="../validation/index.html"' in text
        assert "No description has been provided" not in text
        # no coded value (local_transport, firm_to_firm) in a table cell: a reader sees words
        coded = {c for c in re.findall(r'<td[^>]*>([^<]*)</td>', text) if re.fullmatch(r"[a-z]+(_[a-z]+)+", c)}
        assert not coded, (page, sorted(coded))
        assert "City codes:" in text and "@media print" in text
    assert len(titles) == 4 * 7


@pytest.mark.slow
def test_the_synthesis_is_named_for_its_period_and_opens_with_key_numbers(sample_build):
    for period, title in (("S3", "Period synthesis"), ("final", "Final report synthesis")):
        text = (sample_build["reports"] / period / "07_synthesis.html").read_text(encoding="utf-8")
        assert f"<h1>{title}" in text
        assert text.index("Key numbers") < text.index("What this shows")
        index = (sample_build["reports"] / period / "index.html").read_text(encoding="utf-8")
        assert title in index
        assert ("Final report synthesis" in index) == (period == "final")


@pytest.mark.slow
def test_the_final_report_writes_the_authors_tables(sample_build):
    final = sample_build["reports"] / "final"
    assert (final / "tables.xlsx").is_file()
    csvs = sorted(p.name for p in (final / "tables").glob("*.csv"))
    assert "budget_by_city.csv" in csvs and "practices_inventory.csv" in csvs
    # a page's "whole table" link and the tables folder name a table once: <area>_<table>.csv
    assert "budget_audit_ledger.csv" in csvs and "audit_ledger.csv" not in csvs
    assert all(name.split("_", 1)[0] in {"data", "cross", "budget", "practices", "phases", "links", "synthesis"}
               for name in csvs), csvs
    manifest = json.loads((final / "manifest.json").read_text())
    assert "tables.xlsx" in {o["path"] for o in manifest["outputs"]}


@pytest.mark.slow
def test_a_run_with_nothing_to_rebuild_loads_no_table_and_imports_no_pandas(sample_build):
    """The no-op run answers from stamps and the counts kept beside the dataset cache: nothing is
    rebuilt, and neither pandas nor numpy is imported (their import alone is most of a second)."""
    import subprocess
    import sys

    probe = ("import sys; from clusnet_analysis.cli import main; "
             f"code = main(['run', '--period', 'all', '--data', {str(sample_build['data'])!r}, '--jobs', '2']); "
             "print('exit', code, 'heavy', sorted(m for m in ('pandas', 'numpy', 'pyarrow', 'matplotlib', 'pandera') "
             "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], env=sample_build["env"], text=True, capture_output=True,
                         check=True, timeout=120).stdout
    assert "0 built, 28 up to date, 0 failed" in out
    assert out.splitlines()[-1] == "exit 0 heavy []"
