"""Every path the project uses, derived from the project root.

Nothing else in the package hard-codes a path. Environment variables let a
user point the tools elsewhere without editing code.
"""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJ_ROOT = PACKAGE_DIR.parent

DATA_DIR = Path(os.environ.get("CLUSNET_DATA_DIR", PROJ_ROOT / "data"))
SAMPLE_DATA_DIR = DATA_DIR / "sample"
REPORTS_DIR = Path(os.environ.get("CLUSNET_REPORTS_DIR", PROJ_ROOT / "reports"))
VALIDATION_DIR = REPORTS_DIR / "validation"
FIGURES_DIR = REPORTS_DIR / "figures"
NOTEBOOKS_DIR = Path(os.environ.get("CLUSNET_NOTEBOOKS_DIR", PROJ_ROOT / "notebooks"))
CACHE_DIR = Path(os.environ.get("CLUSNET_CACHE_DIR", PROJ_ROOT / ".cache"))

PROGRAMMES_DIR = PACKAGE_DIR / "programmes"
DEFAULT_PROGRAMME_FILE = PROGRAMMES_DIR / "clusnet.toml"
CLUSTER_MODEL_FILE = PACKAGE_DIR / "cluster_model.toml"

# A data directory may carry its own programme rules under this name.
PROGRAMME_FILENAME = "programme.toml"
# The sample generator leaves this marker so every output can say "synthetic".
SYNTHETIC_MARKER = "SYNTHETIC.txt"
