"""The table names of the data contract (no heavy imports: the programme loader and
provenance use them)."""
from __future__ import annotations

TABLES = ("cities", "officers", "exchanges", "expenses", "fx_rates",
          "clusters", "assessments", "practices", "links")
#: Every programme uses these.
REQUIRED_TABLES = ("cities", "officers", "exchanges", "expenses", "fx_rates")
#: A programme declares which of these it uses (``programme.tables``).
OPTIONAL_TABLES = tuple(t for t in TABLES if t not in REQUIRED_TABLES)
