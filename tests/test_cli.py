"""``clusnet validate`` and ``clusnet sample``: exit codes, messages, outputs, immutable raw data.

Exit codes: 0 ok (rule findings allowed), 1 schema errors, 2 unusable input or bad usage
(one line on stderr, no traceback).
"""
from __future__ import annotations

import hashlib
import json
import shutil

import pandas as pd
import pytest
from clusnet_testdata import EXPENSES, OFFICERS, expense, write_data

from clusnet_analysis import config
from clusnet_analysis.cli import app as cli
from clusnet_analysis.sample import PLANTED_FINDINGS, REPLICATED_ID_COLUMNS, TABLES


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")


def hashes(directory):
    return {p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def bad_data(tmp_path):
    """BASE with two bad expense lines (rows 6, 7) and one bad officer (row 7)."""
    return write_data(tmp_path / "data",
                      officers=OFFICERS + [dict(officer_id="O9", home_city="ROM", employer_type="city",
                                                name="Kovács Bálint")],
                      expenses=EXPENSES + [expense("E5", amount="abc"), expense("E6", currency="€")])


# ------------------------------------------------------------------ exit codes
def test_validate_sample_exits_0_with_findings(tmp_path, capsys):
    out = tmp_path / "out"
    before = hashes(config.SAMPLE_DATA_DIR)
    code = cli.main(["validate", "--data", str(config.SAMPLE_DATA_DIR), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert "SYNTHETIC SAMPLE DATA" in captured.out
    assert "Schema errors: none" in captured.out
    assert f"Rule findings: {len(PLANTED_FINDINGS)}" in captured.out
    assert "Drafts listed, not counted in totals: X029, X030" in captured.out
    assert captured.err == ""
    assert hashes(config.SAMPLE_DATA_DIR) == before
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["schema_errors"], summary["rows_quarantined"], summary["synthetic"]) == (0, 0, True)
    assert summary["rows_read"]["exchanges"] == summary["rows_valid"]["exchanges"] == 31
    assert sum(summary["findings_by_rule"].values()) == len(PLANTED_FINDINGS)
    assert not list(out.glob("quarantine/*.csv"))


def test_validate_with_schema_errors_exits_1_and_shows_each_problem(tmp_path, capsys):
    code = cli.main(["validate", "--data", str(bad_data(tmp_path)), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.out + captured.err
    assert "Schema errors: 3 problem(s); 3 row(s) quarantined" in captured.out
    lines = captured.out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split() == ["file", "row", "column", "value", "problem"])
    assert [line.split(None, 4) for line in lines[header + 2: header + 5]] == [
        ["officers.csv", "7", "home_city", "ROM", "unknown city ROM"],
        ["expenses.csv", "6", "amount", "abc", "is not a number"],
        ["expenses.csv", "7", "currency", "€", "has the wrong form: expected ISO 4217 code, e.g. EUR, GBP, HUF, SEK"],
    ]
    assert "Kovács Bálint" not in captured.out


def test_max_errors_limits_the_screen_not_the_file(tmp_path, capsys):
    out = tmp_path / "out"
    code = cli.main(["validate", "--data", str(bad_data(tmp_path)), "--out", str(out), "--max-errors", "1"])
    stdout = capsys.readouterr().out
    assert code == 1
    assert f"  ... 2 more in {out / 'errors.csv'}" in stdout
    assert len(pd.read_csv(out / "errors.csv")) == 3


def test_missing_data_dir_exits_2_with_one_line(tmp_path, capsys):
    missing = tmp_path / "no-such-dir"
    code = cli.main(["validate", "--data", str(missing), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == f"clusnet: error: {missing}: no such data directory\n"
    assert captured.out == ""
    assert not (tmp_path / "out").exists()


def test_unusable_file_exits_2_naming_it(tmp_path, capsys):
    data = write_data(tmp_path / "data")
    (data / "fx_rates.csv").write_bytes(bytes(range(256)) * 4)
    code = cli.main(["validate", "--data", str(data), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith(f"clusnet: error: {data / 'fx_rates.csv'}: not a readable CSV file")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


@pytest.mark.parametrize("where", ["inside", "same", "parent"])
def test_output_overlapping_the_data_dir_exits_2(tmp_path, capsys, where):
    data = write_data(tmp_path / "data")
    before = hashes(data)
    out = {"inside": data / "reports", "same": data, "parent": tmp_path}[where]
    code = cli.main(["validate", "--data", str(data), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith("clusnet: error: output folder ")
    assert captured.err.rstrip().endswith("raw data is never written")
    assert hashes(data) == before
    assert not (data / "reports").exists()


def test_bad_usage_exits_2(tmp_path, capsys):
    code = cli.main(["sample", "--out", str(tmp_path / "s"), "--scale", "0"])
    assert code == 2
    assert capsys.readouterr().err == "clusnet: error: --scale must be 1 or more\n"
    with pytest.raises(SystemExit) as exc:
        cli.main(["validate", "--no-such-option"])
    assert exc.value.code == 2


# ------------------------------------------------------------------ outputs
def test_outputs_written(tmp_path, capsys):
    data = bad_data(tmp_path)
    before = hashes(data)
    out = tmp_path / "out"
    assert cli.main(["validate", "--data", str(data), "--out", str(out)]) == 1
    capsys.readouterr()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "errors.csv", "findings.csv", "findings_by_rule.csv", "index.html", "quarantine/expenses.csv",
        "quarantine/officers.csv", "summary.json"]
    errors = pd.read_csv(out / "errors.csv", dtype=str)
    assert list(errors.columns) == ["file", "row", "column", "value", "problem", "table", "check"]
    assert errors[["file", "row", "column", "value"]].values.tolist() == [
        ["officers.csv", "7", "home_city", "ROM"], ["expenses.csv", "6", "amount", "abc"],
        ["expenses.csv", "7", "currency", "€"]]
    q = pd.read_csv(out / "quarantine" / "expenses.csv", dtype=str)
    assert q[["row", "expense_id", "amount", "problems"]].values.tolist() == [
        ["6", "E5", "abc", "amount: is not a number"],
        ["7", "E6", "100", "currency: has the wrong form: expected ISO 4217 code, e.g. EUR, GBP, HUF, SEK"]]
    findings = pd.read_csv(out / "findings.csv")
    assert findings.empty and list(findings.columns)[:4] == ["rule_id", "severity", "subject_type", "subject_id"]
    by_rule = pd.read_csv(out / "findings_by_rule.csv")
    assert len(by_rule) == 16 and by_rule["findings"].sum() == 0   # every rule listed
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["rows_read"]["expenses"] == 6 and summary["rows_valid"]["expenses"] == 4
    assert (summary["schema_errors"], summary["rows_quarantined"]) == (3, 3)
    assert summary["contains_personal_data"] is False
    assert hashes(data) == before   # raw data untouched, no cache or output inside it


def test_rerun_after_fixing_the_data_clears_old_quarantine_files(tmp_path, capsys):
    data = bad_data(tmp_path)
    out = tmp_path / "out"
    assert cli.main(["validate", "--data", str(data), "--out", str(out)]) == 1
    write_data(data)   # the city sends corrected files
    assert cli.main(["validate", "--data", str(data), "--out", str(out)]) == 0
    capsys.readouterr()
    assert not list(out.glob("quarantine/*.csv"))
    assert pd.read_csv(out / "errors.csv").empty


# ------------------------------------------------------------------ sample
def _rows(directory, name):
    return len(pd.read_csv(directory / f"{name}.csv", dtype=str))


def test_sample_scale_2_writes_twice_the_rows(tmp_path, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    assert cli.main(["sample", "--out", str(one)]) == 0
    assert cli.main(["sample", "--out", str(two), "--scale", "2"]) == 0
    stdout = capsys.readouterr().out
    assert f"Wrote synthetic sample (clusnet, scale 2, seed 2009) to {two}" in stdout
    for name in TABLES:
        factor = 2 if name in REPLICATED_ID_COLUMNS else 1
        assert _rows(two, name) == factor * _rows(one, name), name
    assert _rows(two, "exchanges") == 62
    ids = pd.read_csv(two / "exchanges.csv", dtype=str)["exchange_id"]
    assert ids.is_unique and ids.iloc[0] == "X001-000000" and ids.iloc[-1] == "X031-000001"
    assert "scale: 2" in (two / "SYNTHETIC.txt").read_text(encoding="utf-8")


def test_sample_scale_1_is_the_bundled_sample(tmp_path, capsys):
    assert cli.main(["sample", "--out", str(tmp_path / "s")]) == 0
    capsys.readouterr()
    assert hashes(tmp_path / "s") == hashes(config.SAMPLE_DATA_DIR)


def test_validate_a_copy_of_the_sample_leaves_it_byte_identical(tmp_path, capsys):
    data = tmp_path / "sample"
    shutil.copytree(config.SAMPLE_DATA_DIR, data)
    before = hashes(data)
    assert cli.main(["validate", "--data", str(data), "--out", str(tmp_path / "out")]) == 0
    assert cli.main(["validate", "--data", str(data), "--out", str(tmp_path / "out")]) == 0   # cached run
    capsys.readouterr()
    assert hashes(data) == before


# ------------------------------------------------------------------ clusnet run: the schema-error gate
def _sample_with_a_schema_error(tmp_path):
    """A copy of the bundled sample whose first expense line has the amount "abc"."""
    data = tmp_path / "data"
    shutil.copytree(config.SAMPLE_DATA_DIR, data)
    lines = (data / "expenses.csv").read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(",")
    assert fields[3] == "295.96"
    fields[3] = "abc"
    lines[1] = ",".join(fields)
    (data / "expenses.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return data


def _files(folder):
    """Files in folder, except the reports-folder lock every run takes (it holds nothing)."""
    if not folder.exists():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and p.name != ".clusnet.lock")


def test_run_refuses_data_with_schema_errors_before_running_anything(tmp_path, monkeypatch, capsys):
    from clusnet_analysis.publish import batch

    reports = tmp_path / "reports"
    monkeypatch.setattr(config, "REPORTS_DIR", reports)
    monkeypatch.setenv("CLUSNET_REPORTS_DIR", str(reports))
    calls = []
    monkeypatch.setattr(batch, "run_batch", lambda *args, **kwargs: calls.append(kwargs))
    data = _sample_with_a_schema_error(tmp_path)
    # The second time the counts come from the summary kept beside the dataset cache: still refused,
    # and the errors themselves still listed.
    for attempt in (1, 2):
        code = cli.main(["run", "--period", "S3", "--data", str(data)])
        captured = capsys.readouterr()
        assert code == 1, attempt
        assert calls == []
        assert _files(reports) == []
        assert f"Schema errors: 1 problem(s) in {data}; nothing was built." in captured.err
        assert "expenses.csv  2    amount  abc    is not a number" in captured.err
        assert "build from the valid rows with --allow-invalid" in captured.err
        assert "Traceback" not in captured.err
    assert len(list((config.CACHE_DIR / "datasets").glob("*.gate.json"))) == 1


def test_run_with_allow_invalid_builds_with_the_incomplete_data_banner(tmp_path, monkeypatch, capsys):
    from clusnet_analysis.publish import batch

    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path / "reports")
    monkeypatch.setenv("CLUSNET_REPORTS_DIR", str(tmp_path / "reports"))
    calls = []

    class Done:
        failed = []

        def summary(self):
            return "built"

    monkeypatch.setattr(batch, "run_batch", lambda *args, **kwargs: calls.append((args, kwargs)) or Done())
    data = _sample_with_a_schema_error(tmp_path)
    assert cli.main(["run", "--period", "S3", "--data", str(data), "--allow-invalid", "--jobs", "1"]) == 0
    capsys.readouterr()
    [(args, kwargs)] = calls
    assert args[0] == ["S3"]
    assert kwargs["banner"] == ("SYNTHETIC SAMPLE DATA: not real programme records · "
                                "INCOMPLETE DATA: 1 row(s) with schema errors excluded (--allow-invalid)")
    assert kwargs["parameters"] == {"show_names": False, "allow_invalid": True}
    # no exchange reports checked yet; after a check, its findings file is part of every report's stamp
    assert kwargs["extra_stamp"] == {"exchange_report_findings": None}
    findings = tmp_path / "reports" / "exchange_reports" / "findings.csv"
    findings.parent.mkdir(parents=True)
    findings.write_text("rule_id,exchange_id\nreport_language,X001\n", encoding="utf-8")
    assert cli.main(["run", "--period", "S3", "--data", str(data), "--allow-invalid", "--jobs", "1"]) == 0
    assert calls[1][1]["banner"] == kwargs["banner"]   # the second time from the cached counts
    assert calls[1][1]["extra_stamp"] == {
        "exchange_report_findings": hashlib.sha256(findings.read_bytes()).hexdigest()[:16]}


@pytest.mark.slow
def test_run_through_the_cli_gates_invalid_data_and_marks_every_page(tmp_path, monkeypatch, capsys):
    """The real thing for one period: refused (exit 1, nothing built), then built with the banner everywhere."""
    reports = tmp_path / "reports"
    monkeypatch.setattr(config, "REPORTS_DIR", reports)
    monkeypatch.setenv("CLUSNET_REPORTS_DIR", str(reports))
    data = _sample_with_a_schema_error(tmp_path)
    assert cli.main(["run", "--period", "S3", "--data", str(data), "--jobs", "2"]) == 1
    assert _files(reports) == []

    assert cli.main(["run", "--period", "S3", "--data", str(data), "--jobs", "2", "--allow-invalid"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    pages = sorted(reports.rglob("*.html"))
    assert [p.relative_to(reports).as_posix() for p in pages] == [
        "S3/01_data_quality.html", "S3/02_cross_city.html", "S3/03_budget.html", "S3/04_best_practices.html",
        "S3/05_cluster_phases.html", "S3/06_cluster_links.html", "S3/07_synthesis.html", "S3/index.html",
        "index.html"]
    unmarked = [p.relative_to(reports).as_posix() for p in pages
                if "INCOMPLETE DATA" not in p.read_text(encoding="utf-8")]
    assert unmarked == []
