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
