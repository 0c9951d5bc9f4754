"""The project's own promises: conda and pip agree, the Makefile sets itself up, CI runs make test."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _requirement(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_matches_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_deps = dict(_requirement(d) for d in pyproject["dependencies"])
    pip_deps.update(_requirement(d) for d in pyproject["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_deps = dict(_requirement(d) for d in env["dependencies"] if isinstance(d, str))
    conda_deps.pop("python")
    conda_deps.pop("pip")
    assert conda_deps == pip_deps
    assert any(isinstance(d, dict) and "-e ." in d.get("pip", []) for d in env["dependencies"])


def test_every_dependency_has_a_lower_bound():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert all(">=" in d for d in deps), deps


def test_makefile_installs_itself_and_ci_runs_make_test():
    makefile = (ROOT / "Makefile").read_text()
    # every target that runs Python depends on the install stamp, which creates .venv with pip
    for target in ("report", "test", "validate", "figures", "lab", "run"):
        assert re.search(rf"^{target}: \$\(STAMP\)", makefile, re.M), target
    assert "-m venv $(VENV)" in makefile and 'pip install --quiet -e ".[test]"' in makefile
    assert ".DEFAULT_GOAL := help" in makefile
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_readme_documents_commands_and_contract():
    readme = (ROOT / "README.md").read_text()
    for needle in ("make report", "make test", "clusnet validate", "clusnet run", "exchange_id",
                   "Data protection and provenance", "programme.toml"):
        assert needle in readme, needle
    assert "PLACEHOLDER" not in readme
