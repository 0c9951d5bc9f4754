"""Officer names are personal data: reports show stable pseudonyms instead.

A pseudonym is the home city code and the officer's rank within that city by
officer_id (``LYO-1``, ``LYO-2`` …): stable for the same officers table, readable
in a cross-city table, and impossible to reverse without the officers file.
"""
from __future__ import annotations

import pandas as pd

PERSONAL_COLUMNS = ("name",)


def officer_pseudonyms(officers: pd.DataFrame) -> pd.Series:
    """officer_id -> pseudonym."""
    if officers.empty:
        return pd.Series([], dtype="str", index=pd.Index([], dtype="str", name="officer_id"))
    ordered = officers[["officer_id", "home_city"]].sort_values(["home_city", "officer_id"], kind="stable")
    rank = ordered.groupby("home_city", sort=False).cumcount() + 1
    pseudonym = ordered["home_city"].astype("str") + "-" + rank.astype("str")
    return pd.Series(pseudonym.to_numpy(), index=pd.Index(ordered["officer_id"], name="officer_id"), dtype="str")


def officer_labels(officers: pd.DataFrame, show_names: bool = False) -> pd.Series:
    """What reports print for an officer: the pseudonym, or "pseudonym (name)" for internal runs."""
    labels = officer_pseudonyms(officers)
    if show_names and not officers.empty:
        names = officers.set_index("officer_id")["name"].reindex(labels.index)
        labels = labels + " (" + names.fillna("?").astype("str") + ")"
    return labels


def without_personal_data(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=[c for c in PERSONAL_COLUMNS if c in df.columns])
