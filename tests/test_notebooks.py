"""The six report notebooks: committed clean and thin, and their headline numbers right.

Fast tests read the notebooks as files. Slow tests execute every notebook for
period S4 on the bundled sample with papermill (one kernel each, in parallel),
plus the data-quality notebook on a broken copy of the sample, and compare the
headline JSON each notebook writes with numbers counted here: straight from the
CSV files where that is simple, otherwise with the package's own functions.

S4 on the sample (counted by hand from data/sample/exchanges.csv): S3 has 8
exchanges (X001-X008), S4 has 12 (X009-X020), none of them drafts, so 20
exchanges cumulative; the two drafts (X029, X030) are in S5.
"""
from __future__ import annotations

import ast
import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from clusnet_analysis import config
from clusnet_analysis.ingest import dataset
from clusnet_analysis.rules import checks as rules
from clusnet_analysis.analysis import budget, crosscity, phases, practices
from clusnet_analysis.analysis.periods import select_period
from clusnet_analysis.publish.provenance import input_fingerprint

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
TITLES = {
    "01_data_quality": "Data quality",
    "02_cross_city": "Cross-city comparison",
    "03_budget": "Budget use",
    "04_best_practices": "Best practices",
    "05_cluster_phases": "Cluster phases",
    "06_final_synthesis": "Final report synthesis",
}
PARAMETERS = {"period": "final", "data_dir": None, "headline_path": None, "show_names": False,
              "allow_invalid": False}
PERIOD = "S4"
BROKEN = "01_data_quality_broken"  # the data-quality notebook on a copy of the sample with schema errors
SCRIPT = '<script>alert("x")</script> Joint purchasing'


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)


def _code(nb) -> str:
    return "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")


# ------------------------------------------------------------------ committed notebooks (fast)
def test_the_six_report_notebooks_are_there():
    assert sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb")) == sorted(TITLES)


@pytest.mark.parametrize("name", TITLES)
def test_notebook_is_valid_and_committed_without_outputs(name):
    nb = _read(name)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["kernelspec"]["display_name"] == "Python 3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: outputs committed"
            assert cell.execution_count is None, f"{name}: execution count committed"
        assert "papermill" not in cell.metadata
        assert "injected-parameters" not in cell.metadata.get("tags", [])


@pytest.mark.parametrize("name", TITLES)
def test_first_cell_is_a_markdown_title_and_a_sentence(name):
    first = _read(name).cells[0]
    assert first.cell_type == "markdown"
    title, *rest = first.source.splitlines()
    assert title == f"# {TITLES[name]}"
    assert "".join(rest).strip().endswith(".")


@pytest.mark.parametrize("name", TITLES)
def test_parameters_cell_declares_exactly_the_five_parameters(name):
    import papermill

    nb = _read(name)
    tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert tagged == [1]
    tree = ast.parse(nb.cells[1].source)
    declared = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body}
    assert all(isinstance(node, ast.Assign) for node in tree.body)
    assert list(declared) == list(PARAMETERS)
    assert declared == PARAMETERS
    # papermill (and the batch runner's guard) must read the same names; an "=" in a comment breaks that.
    assert list(papermill.inspect_notebook(str(NOTEBOOKS_DIR / f"{name}.ipynb"))) == list(PARAMETERS)


@pytest.mark.parametrize("name", TITLES)
def test_notebook_is_thin_and_uses_the_report_helpers(name):
    code = _code(_read(name))
    assert "p = report.start(period, data_dir, show_names=show_names, allow_invalid=allow_invalid)" in code
    assert "report.banner(p)" in code
    assert "report.write_headline(headline_path, p, headlines." in code
    assert f'report.provenance(p, "{name}")' in code
    for forbidden in (".groupby(", ".pivot", ".merge(", "crosstab", 'tables["officers"]', "to_html",
                      "Markdown(", "HTML("):
        assert forbidden not in code, f"{name} uses {forbidden}: move it into the package"
    # every figure is shown once, with its provenance caption, and freed: report.show_figure does all three
    assert "display(fig)" not in code
    assert code.count("fig = ") == code.count("report.show_figure(fig, p)")


# ------------------------------------------------------------------ executed notebooks (slow)
def _rows(data_dir: Path, table: str) -> list[dict]:
    with open(data_dir / f"{table}.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _write_rows(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _broken_copy(target: Path) -> Path:
    """The sample with two bad rows: an officer of an unknown city, a practice with HTML in its title."""
    shutil.copytree(config.SAMPLE_DATA_DIR, target)
    officers = _rows(target, "officers")
    officers[1]["home_city"] = "XXX"
    _write_rows(target / "officers.csv", officers)
    practices_rows = _rows(target, "practices")
    practices_rows[0].update(title=SCRIPT, theme="not_a_theme")
    _write_rows(target / "practices.csv", practices_rows)
    return target


def _run_period(data_dir: Path, reports: Path, parameters: dict, only=None) -> Path:
    """Execute notebooks for PERIOD with the package's own batch runner.

    Processes, one kernel each over Unix sockets, with start and cell timeouts: kernels
    started from threads over TCP can race for a port, and a kernel that dies at start
    leaves its client waiting forever.
    """
    from clusnet_analysis.publish.batch import run_batch

    result = run_batch([PERIOD], data_dir, NOTEBOOKS_DIR, reports, jobs=2, force=True, parameters=parameters,
                       only=only, start_timeout=120, execution_timeout=300)
    assert result.ok, result.summary()
    return reports / PERIOD


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """Every notebook executed once; name -> {"headline": dict, "outputs": all output text}."""
    root = tmp_path_factory.mktemp("notebook_runs")
    broken_dir = _broken_copy(root / "broken_data")
    sample = _run_period(config.SAMPLE_DATA_DIR, root / "reports", {"show_names": False, "allow_invalid": False})
    broken = _run_period(broken_dir, root / "broken_reports", {"show_names": False, "allow_invalid": True},
                         only=["01"])
    folders = {name: (sample, name) for name in TITLES}
    folders[BROKEN] = (broken, "01_data_quality")
    results = {}
    for name, (folder, notebook) in folders.items():
        executed = nbformat.read(folder / f"{notebook}.ipynb", as_version=4)
        texts = [json.dumps(cell.get("outputs", []), ensure_ascii=False) for cell in executed.cells]
        headline = json.loads((folder / f"{notebook}.headline.json").read_text(encoding="utf-8"))
        results[name] = {"headline": headline, "notebook": executed, "outputs": "\n".join(texts)}
    results["broken_dir"] = broken_dir
    return results


@pytest.fixture(scope="module")
def sample():
    ds = dataset.load(config.SAMPLE_DATA_DIR)
    programme = ds.programme
    s3, s4 = programme.period("S3"), programme.period("S4")
    exchanges = _rows(config.SAMPLE_DATA_DIR, "exchanges")
    drafts = {row["exchange_id"] for row in exchanges if row["status"] == "draft"}

    def within(day: str, start: dt.date, end: dt.date) -> bool:
        return start <= dt.date.fromisoformat(day) <= end

    cumulative = [r for r in exchanges
                  if r["exchange_id"] not in drafts and within(r["start_date"], s3.start, s4.end)]
    this_period = [r for r in cumulative if within(r["start_date"], s4.start, s4.end)]
    return {
        "ds": ds, "programme": programme, "drafts": drafts, "s3": s3, "s4": s4, "within": within,
        "cumulative_ids": {r["exchange_id"] for r in cumulative},
        "this_period_ids": {r["exchange_id"] for r in this_period},
        "person_days": sum((dt.date.fromisoformat(r["end_date"]) - dt.date.fromisoformat(r["start_date"])).days + 1
                           for r in cumulative),
    }


def _figures(runs, name) -> dict:
    record = runs[name]["headline"]
    assert record["period"] == PERIOD
    assert record["synthetic"] is True
    return record["figures"]


@pytest.mark.slow
def test_every_notebook_ran_and_wrote_its_headline(runs):
    for name in [*TITLES, BROKEN]:
        record = runs[name]["headline"]
        data_dir = runs["broken_dir"] if name == BROKEN else config.SAMPLE_DATA_DIR
        assert record["input_fingerprint"] == input_fingerprint(data_dir)["fingerprint"]
        outputs = runs[name]["outputs"]
        assert "SYNTHETIC SAMPLE DATA" in outputs
        assert "Provenance." in outputs
        assert '"output_type": "error"' not in outputs
        assert "Traceback" not in outputs


@pytest.mark.slow
def test_data_quality_headline(runs, sample):
    ds = sample["ds"]
    figures = _figures(runs, "01_data_quality")
    assert figures["schema_errors"] == 0
    assert figures["rows_quarantined"] == 0
    assert figures["findings_total"] == len(ds.findings)
    assert figures["findings_this_period"] == int((ds.findings["period"] == PERIOD).sum())
    summary = rules.summarise(ds.findings)
    assert figures["findings_by_rule"] == dict(zip(summary["rule_id"], summary["findings"].astype(int)))
    assert figures["drafts"] == len(sample["drafts"]) == 2


@pytest.mark.slow
def test_cross_city_headline(runs, sample):
    ds, programme = sample["ds"], sample["programme"]
    figures = _figures(runs, "02_cross_city")
    assert figures["exchanges_this_period"] == len(sample["this_period_ids"]) == 12
    assert figures["exchanges_cumulative"] == len(sample["cumulative_ids"]) == 20
    assert figures["person_days_cumulative"] == sample["person_days"]
    cumulative = select_period(ds.exchanges, programme, PERIOD, cumulative=True)
    assert figures["connected_pair_share_cumulative"] == pytest.approx(
        crosscity.connected_pair_share(cumulative, programme), abs=1e-6)
    # links created from the start of S3 to the end of S4, not tied to a draft, between two clusters
    expected_links = [row for row in _rows(config.SAMPLE_DATA_DIR, "links")
                      if sample["within"](row["created_on"], sample["s3"].start, sample["s4"].end)
                      and row["exchange_id"] not in sample["drafts"] and row["from_cluster"] != row["to_cluster"]]
    assert figures["links_cumulative"] == len(expected_links)


@pytest.mark.slow
def test_budget_headline(runs, sample):
    ds, programme = sample["ds"], sample["programme"]
    figures = _figures(runs, "03_budget")
    table = budget.interreg_table(ds.expenses, programme, PERIOD, by="home_city")
    total = table.set_index("home_city").loc[budget.TOTAL]
    lines = ds.expenses.loc[ds.expenses["counted"] & ds.expenses["period"].isin(["S3", "S4"])]
    this_period = lines.loc[lines["period"] == PERIOD]
    assert figures["total_so_far_eur"] == pytest.approx(total["total_so_far_eur"], abs=1e-5)
    assert figures["total_so_far_eur"] == pytest.approx(lines["amount_eur"].sum(), abs=1e-5)
    assert figures["this_period_eur"] == pytest.approx(this_period["amount_eur"].sum(), abs=1e-5)
    assert figures["budget_eur"] == programme.officers_per_city * len(programme.partner_cities) * programme.cap_eur
    assert figures["pct_of_budget"] == pytest.approx(100 * figures["total_so_far_eur"] / figures["budget_eur"],
                                                     abs=1e-5)
    costs = select_period(ds.costs, programme, PERIOD, cumulative=True)
    assert figures["total_so_far_eur"] == pytest.approx(
        budget.programme_total(costs, programme)["spent_eur"].item(), abs=0.01)
    findings = ds.findings
    over_cap_findings = findings.loc[(findings["rule_id"] == "over_cap") & findings["period"].isin(["S3", "S4"])]
    assert figures["exchanges_over_cap"] == len(over_cap_findings) == 0  # the sample's one is in S5
    assert figures["unconverted_lines"] == int(lines["amount_eur"].isna().sum()) == 1


@pytest.mark.slow
def test_best_practices_headline(runs, sample):
    ds, programme = sample["ds"], sample["programme"]
    figures = _figures(runs, "04_best_practices")
    rows = _rows(config.SAMPLE_DATA_DIR, "practices")
    assert figures["practices_cumulative"] == sum(r["exchange_id"] in sample["cumulative_ids"] for r in rows)
    assert figures["practices_this_period"] == sum(r["exchange_id"] in sample["this_period_ids"] for r in rows)
    view = select_period(practices.practices_view(ds.tables["practices"], ds.exchanges), programme, PERIOD,
                         cumulative=True)
    assert figures["practices_reported_by_several"] == len(practices.reported_by_several(view))
    assert figures["mean_coverage_share"] == pytest.approx(
        practices.gap_coverage(view, programme)["coverage_share"].mean(), abs=1e-6)


@pytest.mark.slow
def test_cluster_phases_headline(runs, sample):
    ds, programme = sample["ds"], sample["programme"]
    figures = _figures(runs, "05_cluster_phases")
    scored = [r for r in _rows(config.SAMPLE_DATA_DIR, "assessments")
              if dt.date.fromisoformat(r["assessed_on"]) <= sample["s4"].end]
    assert figures["clusters_assessed"] == len({r["cluster_id"] for r in scored})
    assert sum(figures["clusters_per_phase"].values()) == figures["clusters_assessed"]
    assert list(figures["clusters_per_phase"]) == sorted(ds.model.phase_ids)  # every phase, zeros included
    assessments = ds.tables["assessments"]
    until_end = assessments.loc[assessments["assessed_on"] <= pd.Timestamp(sample["s4"].end)]
    placements = phases.cluster_placements(until_end, ds.model, programme, clusters=ds.tables["clusters"])
    latest = phases.latest_placements(placements)
    assert figures["clusters_per_phase"] == latest["phase"].value_counts().reindex(
        sorted(ds.model.phase_ids), fill_value=0).to_dict()
    # one assessment round per cluster up to the end of S4 (the second is in October 2010): no movement yet
    rounds = {(r["cluster_id"], r["assessed_on"]) for r in scored}
    assert len(rounds) == figures["clusters_assessed"]
    assert figures["moved_up"] == figures["moved_down"] == 0


@pytest.mark.slow
def test_final_synthesis_headline_is_the_union_of_the_others(runs):
    union = {}
    for name in [n for n in TITLES if n != "06_final_synthesis"]:
        union.update(_figures(runs, name))
    assert _figures(runs, "06_final_synthesis") == union


@pytest.mark.slow
def test_no_officer_name_in_any_output(runs):
    names = [row["name"] for row in _rows(config.SAMPLE_DATA_DIR, "officers")]
    assert len(names) == 31
    for name in [*TITLES, BROKEN]:
        outputs = runs[name]["outputs"]
        leaked = [n for n in names if n in outputs]
        assert leaked == [], f"{name} shows officer names"


@pytest.mark.slow
def test_data_values_are_escaped(runs):
    # practice P051 (exchange X018, S4) is titled: R&D "open lab" vouchers
    html_outputs = [o["data"]["text/html"] for cell in runs["04_best_practices"]["notebook"].cells
                    for o in cell.get("outputs", []) if "text/html" in o.get("data", {})]
    assert any("R&amp;D" in html for html in html_outputs)
    assert not any("R&D" in html for html in html_outputs)


@pytest.mark.slow
def test_data_quality_on_broken_data_lists_errors_and_hides_names(runs):
    broken = dataset.load(runs["broken_dir"])
    figures = _figures(runs, BROKEN)
    assert figures["schema_errors"] == broken.error_count > 0
    assert figures["rows_quarantined"] == broken.quarantined_count > 0
    html = "\n".join(o["data"]["text/html"] for cell in runs[BROKEN]["notebook"].cells
                     for o in cell.get("outputs", []) if "text/html" in o.get("data", {}))
    assert "INCOMPLETE DATA" in html
    assert "unknown city XXX" in html
    assert "officers: 1 row(s) quarantined" in html
    assert "&lt;script&gt;alert" in html and "<script>alert" not in html
    hidden_name = _rows(config.SAMPLE_DATA_DIR, "officers")[1]["name"]  # the quarantined officer
    assert hidden_name not in runs[BROKEN]["outputs"]
