"""Every test writes its reports and caches under its own tmp folder, never into the project."""
from __future__ import annotations

import pytest

from clusnet_analysis import config


@pytest.fixture(autouse=True)
def _isolated_outputs(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "REPORTS_DIR", tmp_path)
    monkeypatch.setattr(config, "VALIDATION_DIR", tmp_path / "validation")
    monkeypatch.setattr(config, "FIGURES_DIR", tmp_path / "figures")
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / ".cache")
    monkeypatch.setenv("CLUSNET_REPORTS_DIR", str(tmp_path))
    monkeypatch.setenv("CLUSNET_CACHE_DIR", str(tmp_path / ".cache"))
