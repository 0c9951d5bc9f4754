"""The notebook helpers: escaping, labels, figures shown once with provenance."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from matplotlib.figure import Figure

from clusnet_analysis import config
from clusnet_analysis.publish import display as report
from clusnet_analysis.publish.provenance import input_fingerprint


@pytest.mark.parametrize("name, label", [
    ("previously_reported_eur", "Previously reported (EUR)"),
    ("pct_of_budget", "% of budget"),
    ("units_per_eur", "Units per EUR"),
    ("exchange_id", "Exchange ID"),
    ("total", "Total"),
    ("LYO", "LYO"),          # codes stay as they are
    ("S3", "S3"),
    (3, 3),
])
def test_pretty_label(name, label):
    assert report.pretty_label(name) == label


def test_show_escapes_every_cell(monkeypatch):
    shown = []
    monkeypatch.setattr(report, "_display", lambda obj: shown.append(obj.data))
    report.show(pd.DataFrame({"title": ["<script>alert(1)</script>"], "amount_eur": [1234.5]}),
                caption="<b>caption</b>")
    html = shown[0]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;caption&lt;/b&gt;" in html
    assert "Amount (EUR)" in html and "1,234.50" in html


def test_say_escapes_values_not_the_template(monkeypatch):
    shown = []
    monkeypatch.setattr(report, "_display", lambda obj: shown.append(obj.data))
    report.say("<b>{n}</b> practices from {city}", n=3, city="<img src=x onerror=alert(1)>")
    assert shown == ["<p><b>3</b> practices from &lt;img src=x onerror=alert(1)&gt;</p>"]


def test_show_figure_adds_the_caption_once_and_closes(monkeypatch):
    p = report.start("S4")
    shown = []
    monkeypatch.setattr(report, "_display", shown.append)
    fig = Figure()
    fig.add_subplot().plot([1, 2], [3, 4])
    report.show_figure(fig, p)
    texts = [t.get_text() for t in fig.texts]
    assert shown == [fig] and len(texts) == 1
    assert p.ds.fingerprint == input_fingerprint(config.SAMPLE_DATA_DIR)["fingerprint"]
    assert f"input {p.ds.fingerprint}" in texts[0] and "SYNTHETIC SAMPLE DATA" in texts[0]


def test_start_refuses_invalid_data_unless_allowed(tmp_path):
    import shutil

    from clusnet_analysis import config
    data = tmp_path / "data"
    shutil.copytree(config.SAMPLE_DATA_DIR, data)
    text = (data / "expenses.csv").read_text().splitlines()
    text[1] = text[1].replace(",EUR", ",euro", 1) if ",EUR" in text[1] else text[1] + "x"
    (data / "expenses.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(report.InvalidDataError, match="schema error"):
        report.start("S4", str(data))
    p = report.start("S4", str(data), allow_invalid=True)
    assert p.ds.error_count >= 1


def test_write_headline_is_json_with_provenance(tmp_path):
    p = report.start("S3")
    path = tmp_path / "h.json"
    report.write_headline(str(path), p, {"share": float("nan"), "n": 3})
    record = json.loads(path.read_text())
    assert record["figures"] == {"share": None, "n": 3}
    assert record["period"] == "S3" and record["synthetic"] is True
    # the fingerprint of the data the numbers came from: the bundled sample and the CLUSNET rules
    assert record["input_fingerprint"] == input_fingerprint(config.SAMPLE_DATA_DIR)["fingerprint"]
    assert len(record["input_fingerprint"]) == 16


def test_notebook_imports_stay_light():
    """Kernels start for every report: loading a cached dataset must not import pandera or papermill."""
    import subprocess
    import sys

    code = ("import sys; from clusnet_analysis.sections import headlines; from clusnet_analysis.publish import display as report; "
            "print(sorted(m for m in ('pandera', 'papermill', 'nbconvert') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
