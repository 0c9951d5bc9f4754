"""What a section is: named tables, figures, key numbers and short readings.

A *section* is everything one report area shows for one period view. Every
consumer takes its facts from the same section object: the notebook displays
it, the headline file stores its key numbers, ``clusnet figures`` saves its
figures and ``tables.xlsx`` its tables. So a number can never differ between a
page, a headline file and a figure.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from clusnet_analysis.sections.labels import column_label


@dataclass(frozen=True)
class KeyNumber:
    """One headline fact: a value with its unit and the scope it covers."""

    id: str          # machine key, e.g. "exchanges"
    label: str       # reader's words, e.g. "Exchanges"
    value: float | int | None
    unit: str        # "exchanges", "EUR", "%", "clusters" ...
    scope: str       # scope id: "this_period", "cumulative", a period id, "outside", "total", "snapshot"
    scope_label: str  # reader's words for the scope, e.g. "this period (<the period's label>)"

    @property
    def key(self) -> str:
        return f"{self.id}.{self.scope}"

    def text(self) -> str:
        """The value as a reader sees it, with its unit."""
        return format_value(self.value, self.unit)

    def as_dict(self) -> dict:
        value = self.value
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float):
            value = round(value, 6)
        return {"id": self.id, "label": self.label, "value": value, "unit": self.unit,
                "scope": self.scope, "scope_label": self.scope_label}


def format_value(value, unit: str) -> str:
    """``1234.5, "EUR"`` -> ``"1,234.50 EUR"``; ``0.42, "%"`` -> ``"42 %"``; counts with their noun."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if unit == "EUR":
        return f"{value:,.2f} EUR"
    if unit == "%":
        return f"{100 * value:,.0f} %"
    if isinstance(value, float) and not float(value).is_integer():
        return f"{value:,.2f} {unit}".strip()
    if int(value) == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return f"{int(value):,} {unit}".strip()


@dataclass(frozen=True)
class Highlight:
    """Cells of one column that are exceptions, with the word that marks them."""

    column: str
    mask: tuple[bool, ...]   # one flag per table row
    word: str                # e.g. "over cap": shown in the cell, never colour alone
    meaning: str             # one line under the table: what the mark means


@dataclass
class Table:
    """A named table. ``frame`` keeps machine column ids; readers see :meth:`for_reader`."""

    id: str                  # file-name friendly, e.g. "flows_this_period"
    title: str               # caption, with its scope
    frame: pd.DataFrame
    note: str = ""           # one line under the table (units, scope, ties ...)
    highlights: list[Highlight] = field(default_factory=list)
    index: bool = False      # show the frame's index (city x city matrices)
    percent_columns: tuple[str, ...] = ()  # shares 0..1 shown as %
    area: str = ""           # the section it belongs to (set by sections.build): names its CSV file

    def for_reader(self) -> pd.DataFrame:
        """The frame with human column headers (and index name)."""
        out = self.frame.rename(columns=column_label)
        if self.index:
            out.index = out.index.rename(column_label(out.index.name) if out.index.name else None)
            out.columns = out.columns.rename(None)
        return out

    def highlight(self, column: str, mask, word: str, meaning: str) -> Table:
        mask = tuple(bool(x) for x in pd.Series(mask).fillna(False).astype(bool))
        if len(mask) != len(self.frame):
            raise ValueError(f"highlight for {column}: {len(mask)} flags for {len(self.frame)} rows")
        if any(mask):
            self.highlights.append(Highlight(column, mask, word, meaning))
        return self


@dataclass
class FigureSpec:
    """A figure, built on demand (rendering is the slow part) and described for alt text."""

    id: str                  # file name without suffix, e.g. "01_flows_between_cities"
    title: str
    build: Callable          # () -> matplotlib Figure
    alt: str                 # one sentence for readers who cannot see the image


@dataclass
class Section:
    """Everything one report area shows for one period view."""

    area: str                # "cross_city"
    title: str               # "Cross-city comparison"
    period: str
    key_numbers: list[KeyNumber] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[FigureSpec] = field(default_factory=list)
    readings: list[str] = field(default_factory=list)   # short plain sentences (no markup)

    def number(self, id: str, scope: str):
        """The value of key number ``id`` in ``scope`` (KeyError if the section has none)."""
        for k in self.key_numbers:
            if k.id == id and k.scope == scope:
                return k.value
        raise KeyError(f"{self.area} has no key number {id!r} for scope {scope!r}")

    def table(self, id: str) -> Table:
        for t in self.tables:
            if t.id == id:
                return t
        raise KeyError(f"{self.area} has no table {id!r}; tables: {', '.join(t.id for t in self.tables)}")

    def figure(self, id: str) -> FigureSpec:
        for f in self.figures:
            if f.id == id:
                return f
        raise KeyError(f"{self.area} has no figure {id!r}")

    def headline(self) -> dict:
        """The key numbers as JSON-able data: what ``NN_name.headline.json`` stores."""
        return {"area": self.area, "title": self.title, "period": self.period,
                "key_numbers": [k.as_dict() for k in self.key_numbers],
                "figures": [f.id for f in self.figures],
                "tables": [t.id for t in self.tables]}
