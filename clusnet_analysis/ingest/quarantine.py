"""Counting what validation set aside; kept light so loading a cached dataset never imports pandera."""
from __future__ import annotations

import pandas as pd


class ErrorCounts:
    """``error_count`` and ``quarantined_count`` for anything with ``errors`` and ``quarantine``."""
    errors: pd.DataFrame
    quarantine: dict[str, pd.DataFrame]

    @property
    def error_count(self) -> int:
        return len(self.errors)

    @property
    def quarantined_count(self) -> int:
        return int(sum(len(q) for q in self.quarantine.values()))
