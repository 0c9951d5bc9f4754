"""Pandera schemas: one ``DataFrameModel`` per table — the users' contract.

Types are parsed by :mod:`clusnet_analysis.parsing` (decimal commas, several
date formats) *before* validation, driven by the dtypes declared here, because
pandera's own coercion is an order of magnitude slower on millions of rows and
reports less precisely. The checks here are the per-table rules; rules that
need another table or the programme file (unknown city, unknown category…)
live in :mod:`clusnet_analysis.validation`, and programme rules in
:mod:`clusnet_analysis.rules`.
"""
from __future__ import annotations

from functools import lru_cache, partial

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

# Shared field definitions.
Id = partial(pa.Field, unique=True, description="identifier, unique in its table")
Ref = partial(pa.Field, description="identifier of a row in another table")
OptionalRef = partial(pa.Field, nullable=True, description="identifier of a row in another table, or empty")
Text = partial(pa.Field, nullable=True)
# Codes are read case-insensitively (a spreadsheet's "eur" is EUR): parsing applies metadata["case"].
UPPER, LOWER = {"case": "upper"}, {"case": "lower"}
Currency = partial(pa.Field, str_matches=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR, GBP, HUF, SEK",
                   metadata=UPPER)
Date = partial(pa.Field, description="date: YYYY-MM-DD, DD.MM.YYYY, DD/MM/YYYY or YYYY.MM.DD")

EXCHANGE_STATUSES = ["draft", "submitted", "validated"]

# Row checks across columns, and the column a spreadsheet user should look at.
END_BEFORE_START = "end_date is before start_date"
SELF_LINK = "a link must join two different clusters"
ROW_CHECK_COLUMNS = {END_BEFORE_START: "end_date", SELF_LINK: "to_cluster"}
from clusnet_analysis.ingest.codes import LINK_KINDS  # noqa: E402  (one definition)


class _Base(pa.DataFrameModel):
    class Config:
        strict = False      # extra columns are allowed and kept ("you may add columns")
        coerce = False      # parsing.py has already typed every column


class Cities(_Base):
    city_id: Series[str] = Id(title="City", description="short code of the city, used by every other table")
    name: Series[str] = pa.Field(title="City name", description="the city's name")
    country: Series[str] = pa.Field(str_matches=r"^[A-Z]{2}$", description="ISO 3166 alpha-2", metadata=UPPER,
                                    title="Country")
    currency: Series[str] = Currency(title="Currency the city pays in")
    lat: Series[float] = pa.Field(ge=-90, le=90, nullable=True, title="Latitude",
                                  description="degrees north, for maps")
    lon: Series[float] = pa.Field(ge=-180, le=180, nullable=True, title="Longitude",
                                  description="degrees east, for maps")

    class Config:
        name = "cities"
        description = "every city named anywhere in the data: partner cities and any other host"


class Officers(_Base):
    officer_id: Series[str] = Id(title="Officer", description="code of the officer, unique across all cities")
    home_city: Series[str] = Ref(title="Home city", description="the city that employs and sends the officer")
    employer_type: Series[str] = pa.Field(metadata=LOWER, title="Employer type",
                                          description="who employs the officer")
    name: Series[str] = pa.Field(description="personal data: never shown in reports", title="Officer name")
    role: Series[str] = Text(title="Role", description="the officer's job title")

    class Config:
        name = "officers"
        description = "the officers each city registered for the programme"


class Exchanges(_Base):
    exchange_id: Series[str] = Id(title="Exchange", description="code of the visit, one row per visit")
    officer_id: Series[str] = Ref(title="Officer", description="the visiting officer (officers table)")
    host_city: Series[str] = Ref(title="Host city", description="the city visited (cities table)")
    start_date: Series[pa.DateTime] = Date(title="First day", description="first day of the visit")
    end_date: Series[pa.DateTime] = Date(title="Last day", description="last day of the visit (included)")
    status: Series[str] = pa.Field(isin=EXCHANGE_STATUSES, metadata=LOWER, title="Status",
                                   description="draft (left out of totals), submitted or validated")
    group_visit_id: Series[str] = OptionalRef(title="Group visit",
                                              description="same code for officers hosted together, or empty")
    agenda_sent_date: Series[pa.DateTime] = Date(nullable=True, title="Agenda sent",
                                                 description="day the final agenda was sent to the coordinator")
    report_received_date: Series[pa.DateTime] = Date(nullable=True, title="Report received",
                                                     description="day the visit report was received")
    report_pages: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1, le=1000, title="Report pages",
                                                   description="length of the visit report")
    report_language: Series[str] = pa.Field(nullable=True, str_matches=r"^[a-z]{2}$",
                                            description="ISO 639-1 code, e.g. en", metadata=LOWER,
                                            title="Report language")
    validated_on: Series[pa.DateTime] = Date(nullable=True, title="Validated on",
                                             description="day the claim was validated (optional)")

    @pa.dataframe_check(error=END_BEFORE_START)
    def end_not_before_start(cls, df: pd.DataFrame) -> Series[bool]:
        return ~(df["end_date"] < df["start_date"])

    class Config:
        name = "exchanges"
        description = "one row per visit"


class Expenses(_Base):
    expense_id: Series[str] = Id(title="Expense", description="code of the expense line")
    exchange_id: Series[str] = Ref(title="Exchange", description="the visit the money was spent on (exchanges table)")
    category: Series[str] = pa.Field(metadata=LOWER, title="Cost category", description="what the money paid for")
    amount: Series[float] = pa.Field(ge=0, description="in `currency`; negative amounts are not allowed",
                                     title="Amount")
    currency: Series[str] = Currency(title="Currency paid in")
    quantity: Series[float] = pa.Field(nullable=True, ge=0, title="Quantity",
                                       description="how many units (nights, trips ...) the amount covers")
    description: Series[str] = Text(title="Description", description="what was bought, in a few words")

    class Config:
        name = "expenses"
        description = "one row per expense line of a visit, in the currency paid"


class FxRates(_Base):
    month: Series[str] = pa.Field(str_matches=r"^\d{4}-\d{2}$", description="YYYY-MM",
                                  metadata={"kind": "month"}, title="Month")
    currency: Series[str] = Currency(title="Currency")
    units_per_eur: Series[float] = pa.Field(gt=0, title="Units per euro",
                                            description="how many units of the currency one euro buys that month")

    class Config:
        name = "fx_rates"
        description = "monthly exchange rates for every currency other than the euro"
        unique = ["month", "currency"]


class Clusters(_Base):
    cluster_id: Series[str] = Id(title="Cluster", description="code of the cluster initiative")
    name: Series[str] = pa.Field(title="Cluster name", description="the cluster initiative's name")
    city: Series[str] = Ref(title="City", description="the city the cluster is in (cities table)")
    sector: Series[str] = Text(title="Sector", description="the cluster's industry, in a word or two")

    class Config:
        name = "clusters"
        description = "the cluster initiatives visits and assessments refer to"


class Assessments(_Base):
    cluster_id: Series[str] = Ref(title="Cluster", description="the cluster assessed (clusters table)")
    assessed_on: Series[pa.DateTime] = Date(title="Assessed on", description="day of the assessment")
    assessor: Series[str] = Text(title="Assessor", description="who scored it (a team or role, not a person's name)")
    criterion_id: Series[str] = Ref(title="Criterion", description="the cluster model's result criterion scored")
    score: Series[pd.Int64Dtype] = pa.Field(isin=[0, 1, 2], description="0 not met, 1 partly, 2 fully",
                                            title="Score")
    evidence: Series[str] = Text(title="Evidence", description="the document or fact behind the score")

    class Config:
        name = "assessments"
        description = "one row per cluster, assessment day and criterion"
        unique = ["cluster_id", "assessed_on", "criterion_id"]


class Practices(_Base):
    practice_id: Series[str] = Id(title="Practice", description="code of the best practice")
    exchange_id: Series[str] = Ref(title="Exchange", description="the visit where it was seen (exchanges table)")
    title: Series[str] = pa.Field(title="Title", description="the practice in a few words")
    description: Series[str] = Text(title="Description", description="what it is and how it works")
    theme: Series[str] = pa.Field(metadata=LOWER, title="Theme", description="the programme theme it addresses")
    phase: Series[str] = pa.Field(nullable=True, metadata=LOWER, title="Cluster phase",
                                  description="the cluster-model phase it helps with, or empty")
    transferability: Series[pd.Int64Dtype] = pa.Field(ge=1, le=5, title="Transferability",
                                                      description="1 hard to transfer ... 5 easy to transfer")
    cluster_id: Series[str] = OptionalRef(title="Cluster", description="the cluster it belongs to, or empty")

    class Config:
        name = "practices"
        description = "best practices seen on visits"


class Links(_Base):
    link_id: Series[str] = Id(title="Link", description="code of the link between two clusters")
    exchange_id: Series[str] = OptionalRef(title="Exchange", description="the visit that led to it, or empty")
    from_cluster: Series[str] = Ref(title="From cluster", description="one cluster (clusters table)")
    to_cluster: Series[str] = Ref(title="To cluster", description="the other cluster (clusters table)")
    kind: Series[str] = pa.Field(isin=list(LINK_KINDS), metadata=LOWER, title="Kind of link",
                                 description="what the two clusters did together")
    created_on: Series[pa.DateTime] = Date(title="Created on", description="day the link started")

    @pa.dataframe_check(error=SELF_LINK)
    def not_a_self_link(cls, df: pd.DataFrame) -> Series[bool]:
        return df["from_cluster"] != df["to_cluster"]

    class Config:
        name = "links"
        description = "links between clusters that visits started"


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "cities": Cities, "officers": Officers, "exchanges": Exchanges, "expenses": Expenses,
    "fx_rates": FxRates, "clusters": Clusters, "assessments": Assessments,
    "practices": Practices, "links": Links,
}

# Which column identifies a row of each table in messages and findings.
ID_COLUMNS = {
    "cities": "city_id", "officers": "officer_id", "exchanges": "exchange_id", "expenses": "expense_id",
    "fx_rates": None, "clusters": "cluster_id", "assessments": None, "practices": "practice_id",
    "links": "link_id",
}


def column_kinds(table: str) -> dict[str, tuple[str, bool]]:
    """``{column: (kind, required)}`` with kind in text|number|integer|date|month, from the schema."""
    schema = MODELS[table].to_schema()
    kinds = {}
    for name, col in schema.columns.items():
        dtype = str(col.dtype)
        if (col.metadata or {}).get("kind") == "month":
            kind = "month"
        elif dtype.startswith("datetime64"):
            kind = "date"
        elif dtype == "Int64":
            kind = "integer"
        elif dtype.startswith("float"):
            kind = "number"
        else:
            kind = "text"
        kinds[name] = (kind, not col.nullable)
    return kinds


def column_cases(table: str) -> dict[str, str]:
    """``{column: "upper" | "lower"}`` for code columns read case-insensitively."""
    schema = MODELS[table].to_schema()
    return {name: col.metadata["case"] for name, col in schema.columns.items()
            if (col.metadata or {}).get("case")}


def empty_frame(table: str) -> pd.DataFrame:
    """A correctly typed frame with no rows (for an optional table that was not supplied)."""
    dtypes = {"text": "str", "month": "str", "number": "float64", "integer": "Int64", "date": "datetime64[ns]"}
    return pd.DataFrame({c: pd.Series(dtype=dtypes[k]) for c, (k, _) in column_kinds(table).items()})


def not_duplicated(values: pd.Series) -> pd.Series:
    """True for each value that occurs once (missing values pass; "required" catches them)."""
    import numpy as np

    if values.dtype == "str":
        return _not_duplicated_text(values)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    present = codes >= 0
    if len(uniques) == int(present.sum()):
        return pd.Series(True, index=values.index)
    counts = np.bincount(codes[present], minlength=len(uniques))
    duplicated = np.zeros(len(values), dtype=bool)
    duplicated[present] = counts[codes[present]] > 1
    return pd.Series(~duplicated, index=values.index)


def _not_duplicated_text(values: pd.Series) -> pd.Series:
    """:func:`not_duplicated` for text: a 64-bit hash of each value, sorted; only values whose
    hash occurs twice are compared as text (:func:`_not_duplicated_sorted`).

    Exact: equal hashes are only candidates. On 4.5 million expense ids with no duplicate the
    hashes and their sort take a fifth of sorting the text, and no hash table is built
    (hashing them into one took several hundred MB).
    """
    import numpy as np

    from clusnet_analysis.ingest._arrow import as_arrow, contiguous, text_hashes

    arr = contiguous(as_arrow(values))
    if len(arr) < 2:
        return pd.Series(True, index=values.index)
    hashes = text_hashes(arr)
    present = np.flatnonzero(arr.is_valid().to_numpy(zero_copy_only=False)) if arr.null_count else None
    hv = hashes if present is None else hashes[present]
    ordered = np.sort(hv)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(repeated):
        return pd.Series(True, index=values.index)
    candidates = np.flatnonzero(np.isin(hv, repeated))
    if present is not None:
        candidates = present[candidates]
    result = np.ones(len(arr), dtype=bool)
    result[candidates] = _not_duplicated_sorted(
        pd.Series(values.iloc[candidates].to_numpy(), dtype="str")).to_numpy()
    return pd.Series(result, index=values.index)


def _not_duplicated_sorted(values: pd.Series) -> pd.Series:
    """:func:`not_duplicated` for text by sorting the text and comparing neighbours (exact, slow)."""
    import numpy as np
    import pyarrow.compute as pc

    from clusnet_analysis.ingest._arrow import as_arrow

    arr = as_arrow(values)
    n = len(arr)
    if n < 2:
        return pd.Series(True, index=values.index)
    order = pc.sort_indices(arr)   # missing values last; they never equal anything
    ordered = pc.take(arr, order)
    same = pc.fill_null(pc.equal(ordered.slice(1), ordered.slice(0, n - 1)), False).to_numpy(zero_copy_only=False)
    if not same.any():
        return pd.Series(True, index=values.index)
    dup_sorted = np.zeros(n, dtype=bool)
    dup_sorted[1:] |= same      # equal to the one before
    dup_sorted[:-1] |= same     # equal to the one after
    duplicated = np.empty(n, dtype=bool)
    duplicated[order.to_numpy(zero_copy_only=False)] = dup_sorted
    return pd.Series(~duplicated, index=values.index)


UNIQUE_CHECK_NAME = "unique_id"


@lru_cache(maxsize=None)
def validation_schema(table: str) -> pa.DataFrameSchema:
    """The model's schema, with id uniqueness checked by hashing (``pd.factorize``).

    Same rule as ``unique=True``, about five times faster on millions of text ids
    than pandera's default, which goes through Arrow's ``unique``.
    """
    schema = MODELS[table].to_schema()
    for name, column in schema.columns.items():
        if column.unique:
            check = pa.Check(not_duplicated, name=UNIQUE_CHECK_NAME,
                             error="duplicate value: must be unique in the file")
            schema = schema.update_column(name, unique=False, checks=[*column.checks, check])
    return schema
