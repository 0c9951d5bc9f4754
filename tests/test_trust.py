"""Issue 4 end to end: one full build from a doctored copy of the sample, then look at every file.

The copy carries hostile free text (script tags in practice titles, a cluster name
with markup, evidence with an <img onerror>) so escaping is tested where it matters.
"""
from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path

import pytest

from clusnet_analysis import __version__
from conftest import HOSTILE_CLUSTER, HOSTILE_IMG, HOSTILE_SCRIPT, clusnet_cli, tree_hashes
from clusnet_analysis.publish.provenance import input_fingerprint

pytestmark = pytest.mark.slow

SCRIPT_TITLE = HOSTILE_SCRIPT
IMG_TITLE = HOSTILE_IMG
CLUSTER_NAME = HOSTILE_CLUSTER
_hashes = tree_hashes
_clusnet = clusnet_cli


@pytest.fixture
def build(sample_build):
    """The suite's one full build (tests/conftest.py)."""
    return sample_build


def _report_files(reports: Path) -> list[Path]:
    return [p for p in sorted(reports.rglob("*")) if p.is_file()]


def _forms(name: str) -> set[str]:
    """How a name could appear in a file: as is, HTML-escaped, JSON-escaped."""
    return {name, html.escape(name), json.dumps(name)[1:-1], json.dumps(name, ensure_ascii=False)[1:-1]}


def test_no_officer_name_in_any_report_file(build):
    files = _report_files(build["reports"])
    assert len(files) > 120          # 4 periods x (7 reports x 3 files + index + manifest), figures, tables
    leaks = []
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        for name in build["names"]:
            if any(form in text for form in _forms(name)):
                leaks.append((path.name, name))
    assert leaks == []


def test_names_appear_only_with_show_names(build, tmp_path):
    env = {**build["env"], "CLUSNET_REPORTS_DIR": str(tmp_path / "internal")}
    _clusnet("run", "--period", "S4", "--data", str(build["data"]), "--show-names", "--force", env=env)
    texts = {p.name: p.read_text(encoding="utf-8", errors="replace")
             for p in (tmp_path / "internal" / "S4").glob("*.html")}
    found = {name for name in build["names"] if any(any(f in t for f in _forms(name)) for t in texts.values())}
    assert found, "no officer name shown even with --show-names"
    assert all("CONTAINS PERSONAL DATA" in t for t in texts.values())


def test_hostile_free_text_is_escaped_in_every_html(build):
    pages = [p for p in _report_files(build["reports"]) if p.suffix == ".html"]
    assert len(pages) == 4 * 7 + 4 + 1 + 1 + 1  # reports, period indexes, top index, figures, validation
    escaped_script = html.escape(SCRIPT_TITLE, quote=False)
    seen_escaped = False
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert SCRIPT_TITLE not in text, page
        assert IMG_TITLE not in text, page
        assert CLUSTER_NAME not in text, page
        assert "onerror=alert" not in text.replace("onerror=alert(1)&gt;", ""), page
        seen_escaped |= escaped_script in text
        # readable offline: nothing loaded from the network
        assert '<script src="http' not in text and "cdn." not in text, page
    assert seen_escaped, "the hostile title should be shown, as text"


def test_data_directory_is_untouched(build):
    assert _hashes(build["data"]) == build["before"]


def test_manifests_match_the_files(build):
    reports = build["reports"]
    for period in ("S3", "S4", "S5", "final"):
        folder = reports / period
        manifest = json.loads((folder / "manifest.json").read_text())
        listed = {o["path"]: o["sha256"] for o in manifest["outputs"]}
        on_disk = {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                   for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"
                   and ".stamps" not in p.parts}
        assert listed == on_disk
        assert manifest["inputs"]["fingerprint"] == input_fingerprint(build["data"])["fingerprint"]
    figures = json.loads((reports / "figures" / "manifest.json").read_text())
    for out in figures["outputs"]:
        path = reports / "figures" / out["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == out["sha256"]


def test_every_report_and_figure_states_its_provenance(build):
    reports = build["reports"]
    fingerprint = json.loads((reports / "final" / "manifest.json").read_text())["inputs"]["fingerprint"]
    for page in reports.glob("*/0*.html"):
        text = page.read_text(encoding="utf-8")
        assert fingerprint in text and __version__ in text and "period=" in text, page
        assert "SYNTHETIC SAMPLE DATA" in text, page
    for svg in (reports / "figures").glob("*.svg"):
        assert fingerprint in svg.read_text(encoding="utf-8"), svg


def test_rebuilding_gives_identical_figures_and_tables(build):
    reports = build["reports"]
    figures_before = _hashes(reports / "figures")
    tables_before = _hashes(reports / "validation")
    _clusnet("figures", "--data", str(build["data"]), env=build["env"])
    _clusnet("validate", "--data", str(build["data"]), env=build["env"])
    assert _hashes(reports / "figures") == figures_before
    assert _hashes(reports / "validation") == tables_before


@pytest.mark.parametrize("args, message", [
    (["run", "--period", "S9"], "unknown period 'S9'"),
    (["run", "--period", "../../etc"], "unknown period"),
    (["run", "--param", "colour=red"], "colour"),
    (["validate", "--out", "/tmp/elsewhere"], "outside the reports folder"),
])
def test_bad_parameters_are_refused_before_anything_runs(build, tmp_path, args, message):
    env = {**build["env"], "CLUSNET_REPORTS_DIR": str(tmp_path / "r")}
    result = _clusnet(*args, "--data", str(build["data"]), env=env, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("clusnet: error:") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").rglob("*.html"))
