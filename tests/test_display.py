"""Showing sections: escaped, complete tables; figures with alt text; headline files; the author's workbook."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from clusnet_analysis import config, sections
from clusnet_analysis.publish import display
from clusnet_analysis.publish.provenance import input_fingerprint
from clusnet_analysis.sections.base import Section, Table


@pytest.fixture
def shown(monkeypatch):
    out = []
    monkeypatch.setattr(display, "_display", lambda obj: out.append(obj.data if hasattr(obj, "data") else obj))
    return out


def test_tables_escape_every_cell_and_format_numbers(shown):
    frame = pd.DataFrame({"title": ["<script>alert(1)</script>"], "total_eur": [1234.5], "exchanges": [3],
                          "share": [0.425]})
    display.show_table(Table("t", "Costs <b>", frame, percent_columns=("share",)))
    html = shown[0]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Costs &lt;b&gt;" in html
    assert ">1,234.50<" in html and ">3<" in html and ">42 %<" in html
    assert ">Total (EUR)<" in html and ">Title<" in html


def test_a_highlight_carries_a_word_and_a_legend(shown):
    frame = pd.DataFrame({"city": ["LYO", "BCN"], "pct_of_budget": [1.06, 0.5]})
    table = Table("t", "Spend", frame, percent_columns=("pct_of_budget",))
    table.highlight("pct_of_budget", frame["pct_of_budget"] > 1, "over budget", "spend above the allocation")
    display.show_table(table)
    html = shown[0]
    assert html.count("▲ over budget") == 2                # in the cell, and in the legend line
    assert '106 % <b class="flag-word">▲ over budget</b>' in html
    assert "spend above the allocation" in html


def test_long_tables_scroll_and_very_long_ones_link_their_csv(shown, tmp_path):
    view = sections.start("S3", headline_path=str(tmp_path / "S3" / "01.headline.json"))
    display.show_table(Table("mid", "Thirty rows", pd.DataFrame({"n": range(30)})), view)
    assert '<div class="scroll">' in shown[-1] and shown[-1].count("<tr>") == 31
    display.show_table(Table("big", "Many rows", pd.DataFrame({"n": range(600)})), view)
    html = shown[-1]
    assert html.count("<tr>") == 1 + display.SHOWN_WHEN_SUMMARISED
    assert 'href="tables/big.csv"' in html and "The first 25 of 600 rows" in html
    lines = (tmp_path / "S3" / "tables" / "big.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 601 and lines[0] == "N"


def test_header_shows_banner_scope_and_city_key(shown):
    view = sections.start("final")
    display.header(view, sections.build(view, "cross_city"))
    html = shown[0]
    assert "<h1>Cross-city comparison – Final report (all periods)</h1>" in html
    assert "SYNTHETIC SAMPLE DATA" in html
    assert "<b>LYO</b> Lyon" in html and "<b>STO</b> Stockholm <i>(not a partner)</i>" in html
    assert "side by side" in html


def test_figures_are_images_with_alt_text(shown):
    view = sections.start("S3")
    spec = sections.build(view, "phases").figure("05_cluster_phases_by_city")
    display.show_figure(spec, view)
    assert 'src="data:image/png;base64,' in shown[0]
    assert f'alt="{spec.alt}"' in shown[0] and "clusters per city by phase" in spec.alt


def test_save_headline_writes_the_key_numbers(tmp_path):
    path = tmp_path / "S3" / "02.headline.json"
    view = sections.start("S3", headline_path=str(path))
    section = sections.build(view, "cross_city")
    display.save_headline(view, section)
    record = json.loads(path.read_text())
    assert record["period"] == "S3" and record["synthetic"] is True
    # the fingerprint of the data the numbers came from: the bundled sample and its rules
    assert record["input_fingerprint"] == input_fingerprint(config.SAMPLE_DATA_DIR)["fingerprint"]
    assert len(record["input_fingerprint"]) == 16
    exchanges = {(k["id"], k["scope"]): k["value"] for k in record["key_numbers"]}
    assert exchanges[("exchanges", "this_period")] == 8


def test_notebook_imports_stay_light():
    """Kernels start for every report: loading a cached dataset must not import pandera or papermill."""
    code = ("import sys; from clusnet_analysis import sections; from clusnet_analysis.publish import display; "
            "print(sorted(m for m in ('pandera', 'papermill', 'nbconvert') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_authors_workbook_is_readable_safe_and_byte_identical(tmp_path):
    from openpyxl import load_workbook

    from clusnet_analysis.publish.tables import write_workbook

    frame = pd.DataFrame({"title": ["=HYPERLINK(\"http://x\",\"y\")", "plain"], "total_eur": [-5.0, 10.25],
                          "start_date": pd.to_datetime(["2010-03-04", "2010-09-07"])})
    section = Section("practices", "Best practices", "final", tables=[Table("inventory", "Every practice", frame)])
    first = write_workbook([section], tmp_path / "a.xlsx", "Source: test", ["SYNTHETIC SAMPLE DATA"])
    second = write_workbook([section], tmp_path / "b.xlsx", "Source: test", ["SYNTHETIC SAMPLE DATA"])
    assert first.read_bytes() == second.read_bytes()
    # openpyxl stamps the time of saving: fixed, or two builds a second apart would differ
    import zipfile

    core = zipfile.ZipFile(first).read("docProps/core.xml").decode("utf-8")
    assert "2000-01-01T00:00:00Z</dcterms:modified>" in core
    wb = load_workbook(first)
    assert wb.sheetnames == ["Contents", "Every practice"]
    ws = wb["Every practice"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Every practice", None, None) and rows[1][0] == "Source: test"
    assert rows[2][0] == "SYNTHETIC SAMPLE DATA"
    assert rows[3] == ("Title", "Total (EUR)", "Start")
    assert rows[4][0] == "'=HYPERLINK(\"http://x\",\"y\")" and rows[4][1] == -5.0   # text defused, numbers stay
    assert ws.cell(5, 2).number_format == "#,##0.00" and ws.cell(5, 3).number_format == "yyyy-mm-dd"


def test_every_legend_of_every_figure_is_kept_whole_when_saved():
    from matplotlib.legend import Legend

    from clusnet_analysis.plots.style import _renderer

    view = sections.start("final")
    for area in sections.areas_for(view):
        for spec in sections.build(view, area).figures:
            fig = spec.build()
            renderer = _renderer(fig)
            saved = fig.get_tightbbox(renderer)
            legends = list(fig.legends) + [a for ax in fig.axes for a in ax.get_children() if isinstance(a, Legend)]
            for legend in legends:
                box = legend.get_window_extent(renderer).transformed(fig.dpi_scale_trans.inverted())
                assert saved.x0 - 1e-6 <= box.x0 and box.x1 <= saved.x1 + 1e-6, spec.id
                assert saved.y0 - 1e-6 <= box.y0 and box.y1 <= saved.y1 + 1e-6, spec.id


def test_a_table_longer_than_a_sheet_should_hold_is_a_csv_only(tmp_path, monkeypatch):
    from openpyxl import load_workbook

    from clusnet_analysis.publish import tables

    monkeypatch.setattr(tables, "MAX_SHEET_ROWS", 3)
    long = Table("audit_ledger", "Audit ledger", pd.DataFrame({"n": range(4)}), area="budget")
    at_limit = Table("overview", "Overview", pd.DataFrame({"n": range(3)}), area="budget")
    section = Section("budget", "Budget use", "final", tables=[long, at_limit])
    path = tables.write_workbook([section], tmp_path / "tables.xlsx", "Source: test", [])
    book = load_workbook(path)
    rows = list(book["Audit ledger"].iter_rows(values_only=True))
    assert rows[2][0].startswith("4 rows: too many for a sheet to be of use. The whole table is in "
                                 "tables/budget_audit_ledger.csv beside this workbook.")
    assert rows[-1] == ("N",)                                   # the header, and no row
    assert [r[0] for r in book["Overview"].iter_rows(values_only=True)][-3:] == [0, 1, 2]   # exactly at the limit


def test_the_workbook_does_not_carry_the_time_it_was_saved(tmp_path, monkeypatch):
    """openpyxl stamps docProps/core.xml with the saving time; two saves a second apart must match."""
    import datetime
    import types

    import openpyxl.writer.excel as excel

    from clusnet_analysis.publish.tables import write_workbook

    section = Section("practices", "Best practices", "final",
                      tables=[Table("inventory", "Every practice", pd.DataFrame({"n": [1]}))])
    first = write_workbook([section], tmp_path / "a.xlsx", "Source: test", []).read_bytes()

    class Later(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime(2031, 5, 6, 7, 8, 9, tzinfo=tz)

    monkeypatch.setattr(excel, "datetime", types.SimpleNamespace(datetime=Later, timezone=datetime.timezone))
    assert write_workbook([section], tmp_path / "b.xlsx", "Source: test", []).read_bytes() == first
