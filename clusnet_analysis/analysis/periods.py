"""Reporting periods shared by every analysis.

A programme's reporting periods (for example half-years) come from the
programme file, in programme order. ``"final"`` is the closing report: every
counted row, whether or not it falls inside a period.

Each period view shows "this period" (rows of that period only) and
"cumulative" (all periods up to and including it). For ``"final"`` both are
everything.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from clusnet_analysis.rules.programme import Programme

if TYPE_CHECKING:  # period ids and labels are asked for before any table is loaded (a no-op run)
    import pandas as pd

#: The closing, cumulative report.
FINAL = "final"


def period_order(programme: Programme) -> list[str]:
    """Period ids in programme order, then ``"final"``; e.g. ``["P1", "P2", "P3", "final"]``."""
    return [*programme.period_ids, FINAL]


def check_period(programme: Programme, period: str) -> str:
    """Return ``period`` if the programme knows it, else raise a ValueError naming the choices."""
    choices = period_order(programme)
    if period not in choices:
        raise ValueError(
            f"unknown reporting period {period!r}; choose one of: {', '.join(choices)}"
        )
    return period


def periods_up_to(programme: Programme, period: str) -> list[str]:
    """Period ids from the first up to and including ``period`` (all of them for ``"final"``)."""
    check_period(programme, period)
    ids = list(programme.period_ids)
    if period == FINAL:
        return ids
    return ids[: ids.index(period) + 1]


def period_label(programme: Programme, period: str) -> str:
    """Readable label for titles: the programme's label, or "Final report (all periods)"."""
    check_period(programme, period)
    if period == FINAL:
        return "Final report (all periods)"
    return programme.period(period).label


def _require_column(df: pd.DataFrame, column: str) -> None:
    if column not in df.columns:
        raise ValueError(
            f"the table has no {column!r} column (columns: {', '.join(map(str, df.columns))})"
        )


def select_period(
    df: pd.DataFrame,
    programme: Programme,
    period: str,
    cumulative: bool = False,
    column: str = "period",
) -> pd.DataFrame:
    """Rows of one reporting period.

    - ``period`` one of ``period_order(programme)``; anything else raises ValueError.
    - ``cumulative=False``: rows whose ``column`` equals ``period``.
    - ``cumulative=True``: rows of every period up to and including ``period``,
      in programme order (the second period's cumulative = first + second).
    - ``"final"``: every row, including rows outside every period (both ways);
      such rows are real activity and must show up in the closing report.

    Drafts are not removed here; combine with :func:`counted`. The original
    index and row order are kept.
    """
    check_period(programme, period)
    if period == FINAL:
        return df.copy()
    _require_column(df, column)
    wanted = periods_up_to(programme, period) if cumulative else [period]
    return df.loc[df[column].isin(wanted)].copy()


def counted(df: pd.DataFrame) -> pd.DataFrame:
    """Rows that count (``counted == True``): drafts stay out of every total.

    A missing value in ``counted`` is treated as not counted.
    """
    _require_column(df, "counted")
    return df.loc[df["counted"].eq(True).fillna(False).astype(bool)].copy()
