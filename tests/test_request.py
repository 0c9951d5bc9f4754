"""One guard for paths: every command, every way a path is given (flag, environment, default,
symbolic link), refused with one line and exit 2 when an output would land in the data folder.

Nothing runs before the refusal: the data folder is byte-identical afterwards and no report
folder appears.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from argparse import Namespace
from pathlib import Path

import pytest

from clusnet_analysis import config
from clusnet_analysis.cli import app as cli
from clusnet_analysis.cli.request import Request, UsageError

from clusnet_testdata import write_data

COMMANDS = ["validate", "run", "figures"]


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def layout(tmp_path, monkeypatch):
    """root/ (the data root) with root/sample (a data directory), and nothing set in the environment."""
    root = tmp_path / "root"
    data = write_data(root / "sample")
    monkeypatch.delenv("CLUSNET_DATA_DIR", raising=False)
    monkeypatch.delenv("CLUSNET_REPORTS_DIR", raising=False)
    monkeypatch.delenv("CLUSNET_PROGRAMME_FILE", raising=False)
    monkeypatch.setattr(config, "DATA_DIR", root)
    monkeypatch.setattr(config, "SAMPLE_DATA_DIR", data)
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path / "reports")
    return {"root": root, "data": data, "tmp": tmp_path, "before": _hashes(root)}


def _refused(layout, capsys, argv, *, link=False) -> str:
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("clusnet: error: "), err
    assert err.rstrip().endswith("raw data is never written"), err
    assert "Traceback" not in err
    if link:
        assert "symbolic link" in err, err
    assert _hashes(layout["root"]) == layout["before"]           # nothing written into the data
    assert not list(layout["root"].rglob("*.html")) and not list(layout["root"].rglob("*.csv.tmp"))
    return err


def _args(command: str, data: Path | None) -> list[str]:
    extra = ["--period", "S3"] if command == "run" else []
    return [command, *(["--data", str(data)] if data else []), *extra]


# ------------------------------------------------------------------ the four routes, per command
@pytest.mark.parametrize("command", COMMANDS)
def test_flag_data_folder_holding_the_reports_folder_is_refused(layout, capsys, monkeypatch, command):
    """--data names a folder, and the reports folder lies inside it."""
    monkeypatch.setattr(config, "REPORTS_DIR", layout["data"] / "reports")
    err = _refused(layout, capsys, _args(command, layout["data"]))
    assert f"{layout['data'] / 'reports'}" in err
    assert not (layout["data"] / "reports").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_environment_reports_folder_inside_the_data_is_refused(layout, capsys, monkeypatch, command):
    monkeypatch.setenv("CLUSNET_REPORTS_DIR", str(layout["data"] / "reports"))
    err = _refused(layout, capsys, _args(command, layout["data"]))
    assert "CLUSNET_REPORTS_DIR" in err
    assert not (layout["data"] / "reports").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_environment_data_root_holding_the_reports_folder_is_refused(layout, capsys, monkeypatch, command):
    """CLUSNET_DATA_DIR=root: the default data directory is root/sample, reports root/reports."""
    monkeypatch.setenv("CLUSNET_DATA_DIR", str(layout["root"]))
    monkeypatch.setenv("CLUSNET_REPORTS_DIR", str(layout["root"] / "reports"))
    _refused(layout, capsys, _args(command, None))
    assert not (layout["root"] / "reports").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_default_reports_folder_inside_the_data_root_is_refused(layout, capsys, monkeypatch, command):
    """No flag, no environment: the defaults themselves put the reports inside the data root."""
    monkeypatch.setattr(config, "REPORTS_DIR", layout["root"] / "reports")
    _refused(layout, capsys, _args(command, None))
    assert not (layout["root"] / "reports").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_reports_folder_symlinked_into_the_data_is_refused(layout, capsys, monkeypatch, command):
    link = layout["tmp"] / "innocent-looking-reports"
    link.symlink_to(layout["data"], target_is_directory=True)
    monkeypatch.setenv("CLUSNET_REPORTS_DIR", str(link))
    _refused(layout, capsys, _args(command, layout["data"]), link=True)


def test_validate_output_flag_into_the_data_is_refused(layout, capsys, monkeypatch):
    monkeypatch.setattr(config, "REPORTS_DIR", layout["tmp"])
    _refused(layout, capsys, ["validate", "--data", str(layout["data"]), "--out", str(layout["data"] / "v")])


@pytest.mark.parametrize("command, sub", [("validate", "validation"), ("figures", "figures")])
def test_output_subfolder_symlinked_into_the_data_is_refused(layout, capsys, monkeypatch, command, sub):
    """reports/ is fine, but reports/validation or reports/figures is a link into the data."""
    reports = layout["tmp"] / "reports"
    reports.mkdir()
    (reports / sub).symlink_to(layout["data"], target_is_directory=True)
    _refused(layout, capsys, [command, "--data", str(layout["data"])], link=True)


def test_run_period_folder_symlinked_into_the_data_is_refused(layout, capsys):
    reports = layout["tmp"] / "reports"
    reports.mkdir()
    (reports / "S3").symlink_to(layout["data"], target_is_directory=True)
    _refused(layout, capsys, ["run", "--data", str(layout["data"]), "--period", "S3"], link=True)


def test_cache_inside_the_data_is_refused(layout, capsys, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", layout["data"] / ".cache")
    err = _refused(layout, capsys, ["validate", "--data", str(layout["data"])])
    assert "cache folder" in err and not (layout["data"] / ".cache").exists()


# ------------------------------------------------------------------ sample: never over real data
@pytest.fixture
def real_data(layout):
    return layout["data"]          # table files, no SYNTHETIC.txt marker


def test_sample_flag_over_real_data_is_refused(layout, capsys, real_data):
    err = cli.main(["sample", "--out", str(real_data)]), capsys.readouterr().err
    assert err[0] == 2 and "holds data files that are not a synthetic sample" in err[1]
    assert err[1].count("\n") == 1
    assert _hashes(layout["root"]) == layout["before"]


def test_sample_environment_and_default_over_real_data_are_refused(layout, capsys, monkeypatch):
    assert cli.main(["sample"]) == 2                       # default: config.DATA_DIR/sample
    monkeypatch.setenv("CLUSNET_DATA_DIR", str(layout["root"]))
    monkeypatch.setattr(config, "DATA_DIR", layout["tmp"] / "elsewhere")
    assert cli.main(["sample"]) == 2                       # environment: $CLUSNET_DATA_DIR/sample
    err = capsys.readouterr().err
    assert err.count("clusnet: error:") == 2 and "not a synthetic sample" in err
    assert _hashes(layout["root"]) == layout["before"]


def test_sample_through_a_symlink_to_real_data_is_refused(layout, capsys, real_data):
    link = layout["tmp"] / "new-sample"
    link.symlink_to(real_data, target_is_directory=True)
    assert cli.main(["sample", "--out", str(link)]) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert _hashes(layout["root"]) == layout["before"]


def test_sample_may_replace_an_earlier_sample(layout, capsys):
    out = layout["tmp"] / "s"
    assert cli.main(["sample", "--out", str(out)]) == 0
    assert cli.main(["sample", "--out", str(out)]) == 0   # it carries the synthetic marker
    capsys.readouterr()


# ------------------------------------------------------------------ the request itself
def test_request_resolves_each_folder_and_says_how_it_was_given(layout, monkeypatch):
    programme = layout["tmp"] / "rules.toml"
    shutil.copy(config.DEFAULT_PROGRAMME_FILE, programme)
    monkeypatch.setenv("CLUSNET_REPORTS_DIR", str(layout["tmp"] / "r"))
    request = Request.from_args("figures", Namespace(data=str(layout["data"]), programme=str(programme)))
    assert (request.data_dir, request.reports_dir, request.out) == (
        layout["data"], layout["tmp"] / "r", layout["tmp"] / "r" / "figures")
    assert request.programme_file == programme
    assert request.routes["data directory"] == "flag"
    assert request.routes["reports folder"] == "environment variable CLUSNET_REPORTS_DIR"
    assert request.routes["programme file"] == "flag"
    from clusnet_analysis.publish.provenance import input_fingerprint

    assert request.fingerprint == input_fingerprint(layout["data"], programme)["fingerprint"]
    default = Request.from_args("run", Namespace(data=None, programme=None))
    assert default.data_dir == layout["data"] and default.routes["data directory"] == "default"
    assert default.programme_file == config.DEFAULT_PROGRAMME_FILE


@pytest.mark.parametrize("command", ["run", "figures", "validate"])
def test_missing_programme_file_is_one_line(layout, capsys, monkeypatch, command):
    monkeypatch.setattr(config, "REPORTS_DIR", layout["tmp"] / "reports")
    code = cli.main([command, "--data", str(layout["data"]), "--programme", str(layout["tmp"] / "no.toml")])
    err = capsys.readouterr().err
    assert code == 2 and err == f"clusnet: error: {layout['tmp'] / 'no.toml'}: no such programme file\n"


def test_missing_data_directory_is_a_usage_error(layout):
    with pytest.raises(UsageError, match="no such data directory"):
        Request.from_args("run", Namespace(data=str(layout["tmp"] / "nope"), programme=None))


def test_no_other_module_checks_paths_against_the_data_folder():
    """The guard lives in one place: the old per-command checks are gone."""
    package = Path(cli.__file__).resolve().parents[1]
    offenders = [p.relative_to(package).as_posix() for p in package.rglob("*.py")
                 if "raw data is never written" in p.read_text(encoding="utf-8")
                 and p.name != "request.py"]
    assert offenders == []
    assert not hasattr(cli, "_check_output_dir")
    from clusnet_analysis.cli import run

    assert not hasattr(run, "_reports_root")
    assert os.environ.get("CLUSNET_PROGRAMME_FILE") is None


@pytest.mark.slow
def test_run_programme_flag_reaches_the_stamps_and_the_notebooks(tmp_path):
    """`clusnet run --programme FILE`: the fingerprint covers FILE and every kernel loads it."""
    import json
    import subprocess
    import sys

    from runner_fixtures import clusnet_env, write_tiny_notebooks

    write_tiny_notebooks(tmp_path / "notebooks")
    rules = tmp_path / "rules.toml"
    shutil.copy(config.DEFAULT_PROGRAMME_FILE, rules)
    result = subprocess.run([sys.executable, "-m", "clusnet_analysis", "run", "--period", "S3", "--jobs", "1",
                             "--data", str(config.SAMPLE_DATA_DIR), "--programme", str(rules)],
                            env=clusnet_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "reports" / "S3"
    headline = json.loads((folder / "01_first.headline.json").read_text())
    assert headline["programme_file"] == str(rules)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["inputs"]["programme_file"] == str(rules)


def test_a_relative_data_folder_gives_an_absolute_programme_file(tmp_path, monkeypatch):
    """`make report DATA=data/mobility`: the kernels run in notebooks/, so a relative rules path broke them."""
    data = tmp_path / "project" / "data" / "other"
    shutil.copytree(config.SAMPLE_DATA_DIR, data)
    (data / "programme.toml").write_text(config.DEFAULT_PROGRAMME_FILE.read_text(encoding="utf-8"),
                                         encoding="utf-8")
    monkeypatch.chdir(tmp_path / "project")
    monkeypatch.setenv("CLUSNET_REPORTS_DIR", str(tmp_path / "project" / "reports"))
    request = Request.from_args("run", Namespace(data="data/other", programme=None))
    assert request.programme_file.is_absolute()
    assert request.programme_file == (data / "programme.toml").resolve()
    given = Request.from_args("run", Namespace(data="data/other", programme="data/other/programme.toml"))
    assert given.programme_file == (data / "programme.toml").resolve()
