"""The one ordering rule every table and figure follows: known values first, then anything else seen.

Known values come in the order the programme file (or the data contract) gives; values
the programme does not know are appended, sorted, so nothing is ever lost from a table.
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def known_first(known: Iterable, *seen: Iterable) -> list:
    """``known`` in its order, then every other value in ``seen`` (sorted; missing values skipped)."""
    known = list(known)
    extra = {v for values in seen for v in pd.Series(list(values), dtype=object).dropna()}
    return [*known, *sorted(extra - set(known), key=str)]


def city_order(programme, *seen: Iterable) -> list[str]:
    """Partner cities in programme order, then any other city seen (sorted)."""
    return known_first(programme.partner_cities if programme is not None else (), *seen)
