"""Every test writes its reports and caches under its own tmp folder, never into the project."""
from __future__ import annotations

import pytest

from clusnet_analysis import config
from clusnet_analysis.rules.programme import load_cluster_model, load_programme


@pytest.fixture(autouse=True)
def _isolated_outputs(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path)
    monkeypatch.setattr(config, "VALIDATION_DIR", tmp_path / "validation")
    monkeypatch.setattr(config, "FIGURES_DIR", tmp_path / "figures")
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / ".cache")
    monkeypatch.setenv("CLUSNET_REPORTS_DIR", str(tmp_path))
    monkeypatch.setenv("CLUSNET_CACHE_DIR", str(tmp_path / ".cache"))


@pytest.fixture(scope="session")
def programme():
    """The bundled CLUSNET rules (a test module may override this with its own programme)."""
    return load_programme()


@pytest.fixture(scope="session")
def model():
    """The bundled cluster model."""
    return load_cluster_model()


# ------------------------------------------------------------------ one full build, shared
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_CLUSTER = "<b onmouseover=alert(2)>Bold cluster</b>"


def _rewrite_csv(path, edit) -> None:
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    edit(rows)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def tree_hashes(folder) -> dict[str, str]:
    import hashlib

    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def clusnet_cli(*args, env, check=True):
    """``python -m clusnet_analysis ARGS`` in a subprocess, as a user runs it."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "clusnet_analysis", *args], env=env, text=True,
                          capture_output=True, check=check, timeout=1200)


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory):
    """``make report`` once for the whole suite, on a copy of the sample with hostile free text.

    Two practice titles carry script and image tags (and the top transferability), a cluster
    name carries markup, an assessment's evidence an <img onerror>. The counts the tests check
    are those of the sample. Every period's reports, the final figures and tables are built.
    """
    import csv
    import os
    import shutil

    root = tmp_path_factory.mktemp("sample_build")
    data = root / "data"
    shutil.copytree(config.SAMPLE_DATA_DIR, data)

    def hostile_practices(rows):
        rows[0]["title"], rows[0]["transferability"] = HOSTILE_SCRIPT, "5"
        rows[1]["title"], rows[1]["transferability"] = HOSTILE_IMG, "5"

    def hostile_cluster(rows):
        rows[0]["name"] = HOSTILE_CLUSTER

    def hostile_evidence(rows):
        rows[0]["evidence"] = HOSTILE_IMG

    _rewrite_csv(data / "practices.csv", hostile_practices)
    _rewrite_csv(data / "clusters.csv", hostile_cluster)
    _rewrite_csv(data / "assessments.csv", hostile_evidence)
    before = tree_hashes(data)
    reports = root / "reports"
    env = {**os.environ, "CLUSNET_REPORTS_DIR": str(reports), "CLUSNET_CACHE_DIR": str(root / "cache")}
    clusnet_cli("validate", "--data", str(data), env=env)
    clusnet_cli("run", "--period", "all", "--data", str(data), "--jobs", "2", env=env)
    clusnet_cli("figures", "--data", str(data), env=env)
    with open(data / "officers.csv", encoding="utf-8") as fh:
        names = [row["name"] for row in csv.DictReader(fh)]
    return {"root": root, "data": data, "reports": reports, "env": env, "before": before, "names": names}
