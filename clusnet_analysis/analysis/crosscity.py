"""Cross-city comparison: who sent officers where, and how well the network is knit.

Every function takes the *exchanges view* (``transforms.exchanges_view``; needs
``exchange_id, officer_id, home_city, host_city, duration_days, counted``) and
the :class:`Programme`. Only counted rows are used: drafts stay out. To report
one period, filter first, e.g.
``select_period(view, programme, "S4", cumulative=True)``.

One row of the view is one officer's visit, so a group visit of three officers
counts as three exchanges (and three times its days as person-days).

Cities are always listed in ``programme.partner_cities`` order. A city that is
not a partner city but occurs in the data (a data error the loader reports) is
appended after them, sorted, so that no exchange disappears from a total.
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from clusnet_analysis.rules.programme import Programme
from clusnet_analysis.analysis.order import city_order
from clusnet_analysis.analysis.periods import counted


# ---------------------------------------------------------------- flows
def flows(exchanges: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Home → host flows for every ordered pair of cities (zeros included).

    Columns: ``home_city, host_city, exchanges, person_days``.
    ``person_days`` is the sum of ``duration_days`` (first and last day counted).
    Rows: home city, then host city, both in programme order.
    """
    ex = counted(exchanges)
    cities = city_order(programme, ex["home_city"], ex["host_city"])
    grid = pd.MultiIndex.from_product([cities, cities], names=["home_city", "host_city"])
    totals = (
        ex.assign(duration_days=ex["duration_days"].astype("Float64"))
        .groupby(["home_city", "host_city"])
        .agg(exchanges=("exchange_id", "size"), person_days=("duration_days", "sum"))
    )
    out = totals.reindex(grid, fill_value=0).reset_index()
    return out.astype({"exchanges": "int64", "person_days": "int64"})


def flow_matrix(exchanges: pd.DataFrame, programme: Programme, value: str = "exchanges") -> pd.DataFrame:
    """Square matrix: rows = home city (sends), columns = host city (receives).

    ``value`` is ``"exchanges"`` or ``"person_days"``. All partner cities appear
    as rows and columns in programme order, zeros filled. The index is named
    ``home_city``, the columns ``host_city``; ``matrix.attrs["value"]`` records
    what the cells count (the figure uses it for its labels).
    """
    if value not in ("exchanges", "person_days"):
        raise ValueError(f"value must be 'exchanges' or 'person_days', not {value!r}")
    long = flows(exchanges, programme)
    cities = list(dict.fromkeys(long["home_city"]))
    matrix = (
        long.pivot(index="home_city", columns="host_city", values=value)
        .reindex(index=cities, columns=cities)
    )
    matrix.index.name = "home_city"
    matrix.columns.name = "host_city"
    matrix.attrs["value"] = value
    return matrix


def sent_hosted(exchanges: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Per city: exchanges and person-days sent (as home city) and hosted (as host city).

    Columns: ``city, exchanges_sent, exchanges_hosted, person_days_sent,
    person_days_hosted, balance`` (balance = exchanges hosted − sent).
    """
    long = flows(exchanges, programme)
    cities = list(dict.fromkeys(long["home_city"]))
    sent = long.groupby("home_city")[["exchanges", "person_days"]].sum().reindex(cities)
    hosted = long.groupby("host_city")[["exchanges", "person_days"]].sum().reindex(cities)
    out = pd.DataFrame({
        "city": cities,
        "exchanges_sent": sent["exchanges"].to_numpy(),
        "exchanges_hosted": hosted["exchanges"].to_numpy(),
        "person_days_sent": sent["person_days"].to_numpy(),
        "person_days_hosted": hosted["person_days"].to_numpy(),
    })
    out["balance"] = out["exchanges_hosted"] - out["exchanges_sent"]
    return out


def quota_use(exchanges: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """How many of each home city's officer places were used.

    Only partner cities have places. Rows: partner cities in programme order, then
    any non-partner city that *sent* officers (a data error the rules report as
    not_partner_city), sorted; a city that only hosted is not listed (it has no
    places). Columns: ``home_city, partner`` (bool), ``exchanges_sent,
    officers_sent`` (distinct officers), ``officers_quota``
    (programme.officers_per_city; NaN for a non-partner city and when the programme
    has no officer quota), ``quota_use_share`` (officers_sent / officers_quota;
    above 1 means more officers than places), ``places_left`` (quota − sent, not
    below 0; NaN without a quota).
    """
    ex = counted(exchanges)
    cities = city_order(programme, ex["home_city"])
    per_city = ex.groupby("home_city").agg(
        exchanges_sent=("exchange_id", "size"), officers_sent=("officer_id", "nunique")
    ).reindex(cities, fill_value=0)
    out = per_city.rename_axis("home_city").reset_index().astype(
        {"exchanges_sent": "int64", "officers_sent": "int64"}
    )
    partner = out["home_city"].isin(programme.partner_cities)
    out.insert(1, "partner", partner)
    quota = programme.officers_per_city
    has_quota = quota is not None and not isinstance(quota, bool)
    quota_values = pd.Series(float(quota) if has_quota else np.nan, index=out.index).where(partner)
    out["officers_quota"] = quota_values.astype("Int64")
    out["quota_use_share"] = (out["officers_sent"] / quota_values).astype("float64")
    out["places_left"] = (quota_values - out["officers_sent"]).clip(lower=0).astype("Int64")
    return out


# ---------------------------------------------------------------- pairs
def reciprocity(exchanges: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Every unordered pair of partner cities: exchanges each way.

    Columns: ``city_a, city_b`` (city_a earlier in programme order),
    ``a_to_b, b_to_a`` (exchanges), ``connected`` (≥ 1 exchange either way),
    ``reciprocal`` (≥ 1 exchange each way). C(n, 2) rows for n partner cities,
    in programme order. Only partner cities form pairs.
    """
    counts = flows(exchanges, programme).set_index(["home_city", "host_city"])["exchanges"]
    pairs = pd.DataFrame(list(combinations(programme.partner_cities, 2)), columns=["city_a", "city_b"])
    pairs["a_to_b"] = counts.reindex(pd.MultiIndex.from_arrays([pairs["city_a"], pairs["city_b"]])).to_numpy()
    pairs["b_to_a"] = counts.reindex(pd.MultiIndex.from_arrays([pairs["city_b"], pairs["city_a"]])).to_numpy()
    pairs["connected"] = (pairs["a_to_b"] + pairs["b_to_a"]) > 0
    pairs["reciprocal"] = (pairs["a_to_b"] > 0) & (pairs["b_to_a"] > 0)
    return pairs


def connected_pair_share(exchanges: pd.DataFrame, programme: Programme) -> float:
    """Share of unordered partner pairs with at least one exchange (connected pairs / C(n, 2)).

    NaN when the programme has fewer than two partner cities.
    """
    pairs = reciprocity(exchanges, programme)
    return float(pairs["connected"].mean()) if len(pairs) else float("nan")


def reciprocal_share(exchanges: pd.DataFrame, programme: Programme) -> float:
    """Share of connected partner pairs that exchanged both ways. NaN when no pair is connected."""
    pairs = reciprocity(exchanges, programme)
    connected_pairs = pairs.loc[pairs["connected"]]
    return float(connected_pairs["reciprocal"].mean()) if len(connected_pairs) else float("nan")


def network_summary(exchanges: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """One row: how far the exchanges knit the partner cities together.

    Columns: ``partner_pairs`` (C(n, 2)), ``connected_pairs``, ``connected_share``
    (connected / partner pairs), ``reciprocal_pairs``, ``reciprocal_share``
    (reciprocal / connected pairs; NaN when none is connected).
    """
    pairs = reciprocity(exchanges, programme)
    n_pairs = len(pairs)
    n_connected = int(pairs["connected"].sum())
    n_reciprocal = int(pairs["reciprocal"].sum())
    return pd.DataFrame([{
        "partner_pairs": n_pairs,
        "connected_pairs": n_connected,
        "connected_share": n_connected / n_pairs if n_pairs else float("nan"),
        "reciprocal_pairs": n_reciprocal,
        "reciprocal_share": n_reciprocal / n_connected if n_connected else float("nan"),
    }])
