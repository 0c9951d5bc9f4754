"""Personal data at rest: the cache is owner-only, `make clean` removes it, the README says
what it holds; an interrupted `clusnet validate` leaves only whole files."""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from clusnet_analysis import config
from clusnet_analysis.cli import app as cli
from clusnet_analysis.ingest.dataset import load

from clusnet_testdata import write_data

ROOT = Path(__file__).resolve().parents[1]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_cache_folders_are_0700_and_files_0600_even_with_a_permissive_umask(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o777)
    os.chmod(cache, 0o777)                         # a cache root someone left wide open
    monkeypatch.setattr(config, "CACHE_DIR", cache)
    old = os.umask(0)
    try:
        load(write_data(tmp_path / "data"), show_names=True)
    finally:
        os.umask(old)
    folders = [cache, *(p for p in cache.rglob("*") if p.is_dir())]
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert files, "nothing was cached"
    assert {_mode(p) for p in folders} == {0o700}
    assert {_mode(p) for p in files} == {0o600}


def test_make_clean_removes_the_cache_and_the_readme_says_what_it_holds():
    makefile = (ROOT / "Makefile").read_text()
    clean = re.search(r"^clean:\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert re.search(r"rm -rf .*\s\.cache(\s|$)", clean)
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Data protection and provenance", 1)[1].split("\n## ", 1)[0]
    for needle in (".cache/", "officer names", "0700", "make clean", "remain personal data",
                   "spreadsheet", "symbolic link", "Ctrl-C", "LYO-"):
        assert needle in section, needle


def test_an_interrupted_validate_says_so_exits_130_and_leaves_only_whole_files(tmp_path, capsys, monkeypatch):
    """Ctrl-C while the validation files are written (simulated at the third file)."""
    from clusnet_analysis.publish import files

    real = files.write_if_changed
    calls = []

    def interrupted_write(path, data):
        calls.append(Path(path).name)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(path, data)

    monkeypatch.setattr(files, "write_if_changed", interrupted_write)
    out = tmp_path / "out"
    code = cli.main(["validate", "--data", str(write_data(tmp_path / "data")), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 130
    assert "Interrupted while writing" in err and err.rstrip().endswith("clusnet: error: interrupted (Ctrl-C)")
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["errors.csv", "findings.csv"]
    monkeypatch.setattr(files, "write_if_changed", real)
    assert cli.main(["validate", "--data", str(tmp_path / "data"), "--out", str(out)]) == 0
    assert {p.name for p in out.rglob("*") if p.is_file()} >= {"findings_by_rule.csv", "summary.json"}
