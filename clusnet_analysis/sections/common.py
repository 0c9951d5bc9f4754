"""Helpers every section uses: numbers per scope, tables with one column per scope."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from clusnet_analysis.analysis.periods import counted  # noqa: F401  (the one definition, used by the sections)
from clusnet_analysis.sections.base import KeyNumber
from clusnet_analysis.sections.view import PeriodView


def per_scope(view: PeriodView, df: pd.DataFrame, fn: Callable[[pd.DataFrame], object],
              column: str = "period") -> dict[str, object]:
    """``fn`` applied to the rows of each scope of the view: {scope id: value}."""
    return {scope.id: fn(scope.select(df, column)) for scope in view.scopes}


def numbers(view: PeriodView, id: str, label: str, unit: str, values: dict[str, object]) -> list[KeyNumber]:
    """One key number per scope, from :func:`per_scope`'s result."""
    return [KeyNumber(id, label, values[s.id], unit, s.id, s.label) for s in view.scopes if s.id in values]


def one_number(view: PeriodView, id: str, label: str, unit: str, value, scope: str | None = None) -> KeyNumber:
    """A key number for one scope (default: the view's main scope: cumulative or the final total)."""
    s = view.scope(scope) if scope else view.main_scope
    return KeyNumber(id, label, value, unit, s.id, s.label)


def snapshot_number(view: PeriodView, id: str, label: str, unit: str, value) -> KeyNumber:
    """A key number about everything the view knows (files, drafts, the snapshot's findings)."""
    scope_label = "all the data" if view.is_final else f"records up to the end of {view.period}"
    return KeyNumber(id, label, value, unit, "snapshot", scope_label)


def scope_columns(view: PeriodView, df: pd.DataFrame, by: str, value: Callable[[pd.DataFrame], pd.Series],
                  order: list, column: str = "period") -> pd.DataFrame:
    """A table with one row per ``by`` value (in ``order``) and one column per scope.

    ``value(rows)`` returns a Series indexed by ``by`` values; missing values are 0.
    Column headers are the scopes' labels ("this period (P2)", "P1", "total" ...).
    """
    out = pd.DataFrame(index=pd.Index(order, name=by))
    for scope in view.scopes:
        out[scope.label] = value(scope.select(df, column)).reindex(order).fillna(0).to_numpy()
    return out


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def scoped(sentence: str, scope: str) -> str:
    """A figure's one-sentence description (a plots ``describe_*`` helper) with the scope it covers."""
    return f"{sentence.rstrip('.')}; scope: {scope}."
