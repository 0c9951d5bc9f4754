"""One meaning of "period": the view of the data a report is written from.

A period's report is a **snapshot at the end of its period**: it knows the
exchanges that started up to then (and their expenses, practices and drafts),
the assessments and links dated up to then, and the rule findings those
records give. Nothing later. Statuses (draft, submitted, validated) are
today's, not those at the period's end; the pages say so.

Inside the snapshot it shows two scopes: *this period* (visits that started in
it) and *cumulative* (from the first period to its end).

The final report looks at everything and shows the periods side by side:
one scope per period, then *outside the periods* (records dated in no
reporting period, such as a visit after the window) and the *total*.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from clusnet_analysis import config
from clusnet_analysis.analysis.periods import (
    FINAL,
    check_period,
    period_label,
    periods_up_to,
)
from clusnet_analysis.ingest.dataset import Dataset, load


class InvalidDataError(RuntimeError):
    """The data has schema errors and the run did not allow building from the valid rows."""


@dataclass(frozen=True)
class Scope:
    """A slice of the view's rows by reporting period."""

    id: str                      # "this_period", "cumulative", a period id, "outside", "total"
    label: str                   # reader's words
    periods: tuple[str, ...]     # period ids included
    outside_of: tuple[str, ...] = ()  # with the programme's period ids: also rows in none of them

    def select(self, df: pd.DataFrame, column: str = "period") -> pd.DataFrame:
        """Rows of this scope; ``column`` holds each row's period id (empty or "outside" = none)."""
        mask = df[column].isin(self.periods)
        if self.outside_of:
            mask = mask | ~df[column].isin(self.outside_of)
        return df.loc[mask.fillna(False).astype(bool)]


@dataclass
class PeriodView:
    """The data one report is written from (see the module text)."""

    ds: Dataset
    period: str
    parameters: dict = field(default_factory=dict)

    # ------------------------------------------------------------ the period
    @property
    def programme(self):
        return self.ds.programme

    @property
    def model(self):
        return self.ds.model

    @property
    def is_final(self) -> bool:
        return self.period == FINAL

    @property
    def reports_dir(self) -> Path:
        """The reports folder this report is written into (its headline file's grandparent), else the default."""
        headline = self.parameters.get("headline_path")
        return Path(headline).parent.parent if headline else Path(config.REPORTS_DIR)

    @property
    def label(self) -> str:
        return period_label(self.programme, self.period)

    @property
    def end_date(self) -> pd.Timestamp:
        """Last day the view knows about (the window's end for the final report is not a cut-off)."""
        if self.is_final:
            return pd.Timestamp.max
        return pd.Timestamp(self.programme.period(self.period).end)

    @property
    def periods_covered(self) -> list[str]:
        return periods_up_to(self.programme, self.period)

    @cached_property
    def scopes(self) -> list[Scope]:
        """The scopes every key number and table of this view is given for, in reading order."""
        ids = tuple(self.programme.period_ids)
        if self.is_final:
            return [*(Scope(p, p, (p,)) for p in ids),
                    Scope("outside", "outside the periods", (), outside_of=ids),
                    Scope("total", "total", ids, outside_of=ids)]
        upto = tuple(self.periods_covered)
        return [Scope("this_period", f"this period ({self.period})", (self.period,)),
                Scope("cumulative", f"cumulative ({upto[0]}–{self.period})" if len(upto) > 1
                      else f"cumulative ({self.period})", upto)]

    @property
    def main_scope(self) -> Scope:
        """The scope a single headline number refers to: cumulative, or the final total."""
        return self.scopes[-1]

    def scope(self, id: str) -> Scope:
        for s in self.scopes:
            if s.id == id:
                return s
        raise KeyError(f"no scope {id!r} in the {self.period} view")

    # ------------------------------------------------------------ the snapshot
    def _known_exchange_ids(self) -> pd.Series:
        ex = self.ds.exchanges
        return ex.loc[ex["start_date"] <= self.end_date, "exchange_id"]

    @cached_property
    def exchanges(self) -> pd.DataFrame:
        """Exchanges that started up to the end of the period (drafts included, ``counted`` False)."""
        return self._by_exchange(self.ds.exchanges)

    def _by_exchange(self, df: pd.DataFrame) -> pd.DataFrame:
        if self.is_final:
            return df
        return df.loc[df["exchange_id"].isin(self._known_exchange_ids())]

    @cached_property
    def expenses(self) -> pd.DataFrame:
        return self._by_exchange(self.ds.expenses)

    @cached_property
    def costs(self) -> pd.DataFrame:
        return self._by_exchange(self.ds.costs)

    @cached_property
    def counted_exchanges(self) -> pd.DataFrame:
        return self.exchanges.loc[self.exchanges["counted"].astype(bool)]

    @cached_property
    def drafts(self) -> pd.DataFrame:
        return self.exchanges.loc[~self.exchanges["counted"].astype(bool)]

    def table(self, name: str) -> pd.DataFrame:
        """An input table as the view knows it: dated rows up to the end of the period.

        Practices follow their exchange; assessments and links their own date.
        """
        df = self.ds.tables[name]
        if self.is_final:
            return df
        if name in ("exchanges", "expenses", "practices"):
            return df.loc[df["exchange_id"].isin(self._known_exchange_ids())]
        if name == "assessments":
            return df.loc[df["assessed_on"] <= self.end_date]
        if name == "links":
            return df.loc[df["created_on"] <= self.end_date]
        return df

    @cached_property
    def findings(self) -> pd.DataFrame:
        """Programme-rule findings of the snapshot: the rules run again on what the view knows.

        Findings about officers or cities (the officer quota, say) are judged on the
        records of the snapshot too, so a period's report never shows a later breach.
        """
        if self.is_final:
            return self.ds.findings
        from clusnet_analysis.rules.checks import check_rules

        tables = dict(self.ds.tables)
        tables["exchanges"] = self.table("exchanges")
        tables["expenses"] = self.table("expenses")
        return check_rules(tables, self.programme, self.exchanges, self.expenses, self.costs)

    # ------------------------------------------------------------ helpers
    def city_names(self) -> dict[str, str]:
        cities = self.ds.tables["cities"]
        return dict(zip(cities["city_id"], cities["name"]))

    def city_key(self) -> list[tuple[str, str, bool]]:
        """(code, name, is partner) for every city that appears in the data, partners first."""
        names = self.city_names()
        partners = list(self.programme.partner_cities)
        seen = set(self.exchanges["home_city"].dropna()) | set(self.exchanges["host_city"].dropna())
        others = sorted(c for c in seen | set(names) if c not in partners)
        return ([(c, names.get(c, c), True) for c in partners]
                + [(c, names.get(c, c), False) for c in others if c in seen])


def start(period: str = FINAL, data_dir: str | None = None, *, show_names: bool = False,
          allow_invalid: bool = False, programme_file: str | None = None, **parameters) -> PeriodView:
    """Load the data and take one report's view of it. Refuses invalid data unless ``allow_invalid``."""
    ds = load(data_dir or config.SAMPLE_DATA_DIR, programme_file, show_names=show_names)
    return for_dataset(ds, period, allow_invalid=allow_invalid, **parameters)


def for_dataset(ds: Dataset, period: str = FINAL, *, allow_invalid: bool = False, **parameters) -> PeriodView:
    """One report's view of an already loaded dataset (same checks as :func:`start`)."""
    check_period(ds.programme, period)
    if ds.error_count and not allow_invalid:
        raise InvalidDataError(
            f"{ds.error_count} schema error(s) in {ds.data_dir}; run `clusnet validate --data {ds.data_dir}` "
            "to see them, or use the valid rows only (allow_invalid=True here, --allow-invalid for clusnet run)")
    params = {"period": period, "data_dir": str(ds.data_dir), "show_names": ds.show_names,
              "allow_invalid": allow_invalid, **parameters}
    return PeriodView(ds=ds, period=period, parameters=params)
