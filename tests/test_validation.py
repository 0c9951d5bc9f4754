"""Schema validation: every problem as a row a spreadsheet user can act on.

Each case adds rows to the small valid data set of ``clusnet_testdata`` and states the
exact error rows (file, spreadsheet row, column, value, problem). Row numbers: header
= 1, so BASE's officers O1..O5 are rows 2-6, exchange X1 row 2, expenses E1..E4 rows
2-5, fx rates rows 2-4, clusters C1/C2 rows 2-3; an added row comes right after.
"""
from __future__ import annotations

import pandas as pd
import pytest

from clusnet_analysis import config
from clusnet_analysis.cli import app as cli
from clusnet_analysis.ingest import dataset

from clusnet_testdata import (ASSESSMENTS, COLUMNS, EXCHANGES, EXPENSES, FX_RATES, LINKS, OFFICERS,
                              PRACTICES, exchange, expense, write_data, write_table)

SHOWN = ["file", "row", "column", "value", "problem"]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")


def errors_of(tmp_path, **tables) -> list[list]:
    ds = dataset.build(write_data(tmp_path / "data", **tables))
    return ds.errors[SHOWN].values.tolist()


def officer(officer_id, home_city="MUC", employer_type="city", name="Tobias Brückner"):
    return dict(officer_id=officer_id, home_city=home_city, employer_type=employer_type, name=name)


def practice(practice_id, theme="research", transferability="3", exchange_id="X1", phase="", cluster_id=""):
    return dict(practice_id=practice_id, exchange_id=exchange_id, title="Shared pilot plant", theme=theme,
                phase=phase, transferability=transferability, cluster_id=cluster_id)


def assessment(criterion_id="INI-2", score="1", cluster_id="C1", assessed_on="2009-10-01"):
    return dict(cluster_id=cluster_id, assessed_on=assessed_on, assessor="SU", criterion_id=criterion_id,
                score=score)


def link(link_id, from_cluster="C2", to_cluster="C1", kind="contact"):
    return dict(link_id=link_id, exchange_id="", from_cluster=from_cluster, to_cluster=to_cluster, kind=kind,
                created_on="2009-11-01")


def fx(month, currency, rate="0.9"):
    return dict(month=month, currency=currency, units_per_eur=rate)


def test_the_base_data_is_valid(tmp_path):
    ds = dataset.build(write_data(tmp_path / "data"))
    assert ds.error_count == 0 and ds.quarantine == {}
    assert ds.rows_read == {"cities": 7, "officers": 5, "exchanges": 1, "expenses": 4, "fx_rates": 3,
                            "clusters": 2, "assessments": 1, "practices": 1, "links": 1}


# (name, tables that pass, tables that fail, the failing case's error rows)
CASES = [
    ("wrong type",
     dict(expenses=EXPENSES + [expense("E5", amount="12,50")]),
     dict(expenses=EXPENSES + [expense("E5", amount="abc")]),
     [["expenses.csv", 6, "amount", "abc", "is not a number"]]),
    ("wrong whole number",
     dict(exchanges=EXCHANGES + [exchange("X2", report_pages="8,0")]),
     dict(exchanges=EXCHANGES + [exchange("X2", report_pages="5,5")]),
     [["exchanges.csv", 3, "report_pages", "5,5", "is not a whole number"]]),
    ("empty required cell",
     dict(exchanges=[exchange(group_visit_id="", report_language="")]),       # optional cells may be empty
     dict(exchanges=EXCHANGES + [exchange("X2", host_city="")]),
     [["exchanges.csv", 3, "host_city", "", "is empty but required"]]),
    ("unknown city",
     dict(officers=OFFICERS + [officer("O6", home_city="MUC")]),
     dict(officers=OFFICERS + [officer("O6", home_city="ROM")]),
     [["officers.csv", 7, "home_city", "ROM", "unknown city ROM"]]),
    ("unknown host city",
     dict(exchanges=EXCHANGES + [exchange("X2", host_city="STO")]),   # in the cities table, not a partner: a rule
     dict(exchanges=EXCHANGES + [exchange("X2", host_city="ROM")]),
     [["exchanges.csv", 3, "host_city", "ROM", "unknown city ROM"]]),
    ("unknown officer",
     dict(exchanges=EXCHANGES + [exchange("X2", officer_id="O5")]),
     dict(exchanges=EXCHANGES + [exchange("X2", officer_id="O99")]),
     [["exchanges.csv", 3, "officer_id", "O99", "unknown officer O99"]]),
    ("unknown exchange",
     dict(expenses=EXPENSES + [expense("E5", exchange_id="X1")]),
     dict(expenses=EXPENSES + [expense("E5", exchange_id="X99")]),
     [["expenses.csv", 6, "exchange_id", "X99", "unknown exchange X99"]]),
    ("unknown cluster",
     dict(links=LINKS + [link("L2", to_cluster="C1")]),
     dict(links=LINKS + [link("L2", to_cluster="C9")]),
     [["links.csv", 3, "to_cluster", "C9", "unknown cluster C9"]]),
    ("unknown cluster in an assessment",
     dict(assessments=ASSESSMENTS + [assessment(cluster_id="C2")]),
     dict(assessments=ASSESSMENTS + [assessment(cluster_id="C9")]),
     [["assessments.csv", 3, "cluster_id", "C9", "unknown cluster C9"]]),
    ("duplicate id: both rows",
     dict(expenses=EXPENSES + [expense("E5")]),
     dict(expenses=EXPENSES + [expense("E1")]),
     [["expenses.csv", 2, "expense_id", "E1", "duplicate value: must be unique in the file"],
      ["expenses.csv", 6, "expense_id", "E1", "duplicate value: must be unique in the file"]]),
    ("bad date",
     dict(exchanges=EXCHANGES + [exchange("X2", start_date="28.02.2010", end_date="2010.03.04.")]),
     dict(exchanges=EXCHANGES + [exchange("X2", start_date="31.02.2010", end_date="2010-03-04")]),
     [["exchanges.csv", 3, "start_date", "31.02.2010", "is not a date (YYYY-MM-DD or DD.MM.YYYY)"]]),
    ("negative amount",
     dict(expenses=EXPENSES + [expense("E5", amount="0")]),
     dict(expenses=EXPENSES + [expense("E5", amount="-5")]),
     [["expenses.csv", 6, "amount", "-5", "must be 0 or more (negative values are not allowed)"]]),
    ("status not in the list",
     dict(exchanges=EXCHANGES + [exchange("X2", status="draft")]),
     dict(exchanges=EXCHANGES + [exchange("X2", status="approved")]),
     [["exchanges.csv", 3, "status", "approved", "must be one of: draft, submitted, validated"]]),
    ("currency code",
     dict(expenses=EXPENSES + [expense("E5", currency="GBP")]),
     dict(expenses=EXPENSES + [expense("E5", currency="EURO")]),
     [["expenses.csv", 6, "currency", "EURO",
       "has the wrong form: expected ISO 4217 code, e.g. EUR, GBP, HUF, SEK"]]),
    ("employer type not known",
     dict(officers=OFFICERS + [officer("O6", employer_type="university")]),   # known, not eligible: a rule
     dict(officers=OFFICERS + [officer("O6", employer_type="freelancer")]),
     [["officers.csv", 7, "employer_type", "freelancer", "freelancer is not a known employer type"]]),
    ("category not in the programme",
     dict(expenses=EXPENSES + [expense("E5", category="insurance")]),
     dict(expenses=EXPENSES + [expense("E5", category="gifts")]),
     [["expenses.csv", 6, "category", "gifts", "gifts is not a known expense category"]]),
    ("theme not in the programme",
     dict(practices=PRACTICES + [practice("P2", theme="cluster_to_cluster")]),
     dict(practices=PRACTICES + [practice("P2", theme="tourism")]),
     [["practices.csv", 3, "theme", "tourism", "tourism is not a known best-practice theme"]]),
    ("phase not in the cluster model",
     dict(practices=PRACTICES + [practice("P2", phase="sustainability")]),
     dict(practices=PRACTICES + [practice("P2", phase="mature")]),
     [["practices.csv", 3, "phase", "mature", "mature is not a known cluster phase"]]),
    ("criterion not in the cluster model",
     dict(assessments=ASSESSMENTS + [assessment("SUS-7")]),
     dict(assessments=ASSESSMENTS + [assessment("XYZ-1")]),
     [["assessments.csv", 3, "criterion_id", "XYZ-1", "XYZ-1 is not a known cluster-model criterion"]]),
    ("score 3",
     dict(assessments=ASSESSMENTS + [assessment(score="0")]),
     dict(assessments=ASSESSMENTS + [assessment(score="3")]),
     [["assessments.csv", 3, "score", "3", "must be one of: 0, 1, 2"]]),
    ("same criterion scored twice on one day",
     dict(assessments=ASSESSMENTS + [assessment("INI-1", assessed_on="2010-10-01")]),   # repeated later: fine
     dict(assessments=ASSESSMENTS + [assessment("INI-1", assessed_on="01.10.2009")]),
     [["assessments.csv", 2, "assessed_on", "2009-10-01", "duplicate row: this combination must be unique"],
      ["assessments.csv", 2, "cluster_id", "C1", "duplicate row: this combination must be unique"],
      ["assessments.csv", 2, "criterion_id", "INI-1", "duplicate row: this combination must be unique"],
      ["assessments.csv", 3, "assessed_on", "01.10.2009", "duplicate row: this combination must be unique"],
      ["assessments.csv", 3, "cluster_id", "C1", "duplicate row: this combination must be unique"],
      ["assessments.csv", 3, "criterion_id", "INI-1", "duplicate row: this combination must be unique"]]),
    ("transferability 0",
     dict(practices=PRACTICES + [practice("P2", transferability="1"), practice("P3", transferability="5")]),
     dict(practices=PRACTICES + [practice("P2", transferability="0"), practice("P3", transferability="6")]),
     [["practices.csv", 3, "transferability", "0", "must be 1 or more"],
      ["practices.csv", 4, "transferability", "6", "must be 5 or less"]]),
    ("end before start",
     dict(exchanges=EXCHANGES + [exchange("X2", start_date="2009-09-07", end_date="2009-09-07")]),
     dict(exchanges=EXCHANGES + [exchange("X2", start_date="2009-09-11", end_date="2009-09-07")]),
     [["exchanges.csv", 3, "end_date", "2009-09-07", "end_date is before start_date"]]),
    ("link from a cluster to itself",
     dict(links=LINKS + [link("L2", "C2", "C1")]),
     dict(links=LINKS + [link("L2", "C1", "C1")]),
     [["links.csv", 3, "to_cluster", "C1", "a link must join two different clusters"]]),
    ("link kind",
     dict(links=LINKS + [link("L2", kind="joint_project")]),
     dict(links=LINKS + [link("L2", kind="friendship")]),
     [["links.csv", 3, "kind", "friendship",
       "must be one of: contact, follow_up_visit, joint_project, other"]]),
    ("duplicate (month, currency) fx row",
     dict(fx_rates=FX_RATES + [fx("2009-10", "GBP"), fx("2009-09", "NOK", "8.2")]),
     dict(fx_rates=FX_RATES + [fx("09/2009", "GBP", "0.91")]),
     [["fx_rates.csv", 2, "currency", "GBP", "duplicate row: this combination must be unique"],
      ["fx_rates.csv", 2, "month", "2009-09", "duplicate row: this combination must be unique"],
      ["fx_rates.csv", 5, "currency", "GBP", "duplicate row: this combination must be unique"],
      ["fx_rates.csv", 5, "month", "09/2009", "duplicate row: this combination must be unique"]]),
    ("fx month and rate",
     dict(fx_rates=FX_RATES + [fx("2009.10", "GBP", "0,88")]),
     dict(fx_rates=FX_RATES + [fx("2009-13", "GBP"), fx("2009-10", "GBP", "0")]),
     [["fx_rates.csv", 5, "month", "2009-13", "is not a month (YYYY-MM)"],
      ["fx_rates.csv", 6, "units_per_eur", "0", "must be more than 0"]]),
]


@pytest.mark.parametrize("passing, failing, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_schema_rule(tmp_path, passing, failing, expected):
    assert errors_of(tmp_path / "pass", **passing) == []
    assert errors_of(tmp_path / "fail", **failing) == expected


def test_missing_required_column_makes_the_table_unusable(tmp_path):
    data = write_data(tmp_path / "data")
    write_table(data / "exchanges.csv", EXCHANGES, [c for c in COLUMNS["exchanges"] if c != "host_city"])
    ds = dataset.build(data)
    first = ds.errors.iloc[0]
    assert (first["file"], first["row"], first["column"]) == ("exchanges.csv", 1, "host_city")
    assert first["problem"].startswith("required column 'host_city' is missing (found: exchange_id, officer_id, ")
    assert ds.quarantine["exchanges"]["problems"].tolist() == ["table unusable: required column missing"]
    assert len(ds.tables["exchanges"]) == 0
    # The exchange exists in the file, so its children read "has its own errors", not "unknown".
    assert ds.errors.loc[ds.errors["file"] == "expenses.csv", "problem"].unique().tolist() == [
        "exchange X1 has its own errors (quarantined), so this row cannot be used"]


def test_optional_columns_may_be_left_out(tmp_path):
    data = write_data(tmp_path / "data")
    write_table(data / "exchanges.csv", EXCHANGES, COLUMNS["exchanges"][:6])   # no group, agenda, report columns
    ds = dataset.build(data)
    assert ds.error_count == 0
    assert ds.tables["exchanges"]["report_pages"].dtype == "Int64"
    assert ds.tables["exchanges"]["agenda_sent_date"].isna().all()


def test_extra_columns_are_kept(tmp_path):
    data = write_data(tmp_path / "data")
    write_table(data / "exchanges.csv", [dict(EXCHANGES[0], contact_person_host="desk 3")],
                COLUMNS["exchanges"] + ["contact_person_host"])
    ds = dataset.build(data)
    assert ds.error_count == 0
    assert ds.tables["exchanges"]["contact_person_host"].tolist() == ["desk 3"]


def test_reference_to_a_quarantined_parent_cascades(tmp_path):
    ds = dataset.build(write_data(
        tmp_path / "data",
        officers=OFFICERS + [officer("O9", home_city="ROM")],                   # row 7: unknown city
        exchanges=EXCHANGES + [exchange("X2", officer_id="O9")],                # row 3: its officer is out
        expenses=EXPENSES + [expense("E5", exchange_id="X2")],                  # row 6: its exchange is out
        practices=PRACTICES + [practice("P2", exchange_id="X2")],               # row 3
    ))
    assert ds.errors[SHOWN].values.tolist() == [
        ["officers.csv", 7, "home_city", "ROM", "unknown city ROM"],
        ["exchanges.csv", 3, "officer_id", "O9",
         "officer O9 has its own errors (quarantined), so this row cannot be used"],
        ["expenses.csv", 6, "exchange_id", "X2",
         "exchange X2 has its own errors (quarantined), so this row cannot be used"],
        ["practices.csv", 3, "exchange_id", "X2",
         "exchange X2 has its own errors (quarantined), so this row cannot be used"],
    ]
    assert {t: q.index.tolist() for t, q in ds.quarantine.items()} == {
        "officers": [7], "exchanges": [3], "expenses": [6], "practices": [3]}
    assert ds.tables["exchanges"]["exchange_id"].tolist() == ["X1"]


def test_all_problems_of_a_row_are_listed(tmp_path):
    ds = dataset.build(write_data(
        tmp_path / "data", expenses=EXPENSES + [expense("E5", exchange_id="X99", amount="-3", category="gifts")]))
    assert ds.errors[["row", "column"]].values.tolist() == [[6, "amount"], [6, "category"], [6, "exchange_id"]]
    assert ds.quarantine["expenses"].loc[6, "problems"] == (
        "amount: must be 0 or more (negative values are not allowed); "
        "category: gifts is not a known expense category; exchange_id: unknown exchange X99")


# ------------------------------------------------------------------ quarantine: nothing silently dropped
MESSY = dict(
    cities=None,   # placeholder replaced below (a duplicated city id)
    officers=OFFICERS + [officer("O9", home_city="XXX"), officer("O8", employer_type="freelancer"),
                         officer("O7", name="")],
    exchanges=EXCHANGES + [exchange("X2", officer_id="O9"), exchange("X3", officer_id="O99"),
                           exchange("X4", start_date="31.02.2010"), exchange("X5", status="approved"),
                           exchange("X6", start_date="2009-09-11", end_date="2009-09-07"), exchange("X1"),
                           exchange("X7", host_city="ROM"), exchange("X8", report_pages="5.5"),
                           exchange("X9", officer_id="O3", host_city="LYO")],
    expenses=EXPENSES + [expense("E5", amount="abc"), expense("E6", amount="-5"), expense("E7", category="gifts"),
                         expense("E8", exchange_id="X2"), expense("E9", exchange_id="X99"),
                         expense("E10", currency="EURO"), expense("E11", exchange_id="X9")],
    fx_rates=FX_RATES + [fx("2009-09", "GBP", "0.91"), fx("2009-13", "GBP"), fx("2009-10", "GBP", "0")],
    assessments=ASSESSMENTS + [assessment("XYZ-1", score="3"), assessment(cluster_id="C9")],
    practices=PRACTICES + [practice("P2", theme="tourism", transferability="0"), practice("P3", phase="mature"),
                           practice("P4", exchange_id="X9")],
    links=LINKS + [link("L2", "C1", "C1"), link("L3", kind="friendship"), link("L4")],
)
MESSY.pop("cities")


def test_quarantine_keeps_and_counts_every_bad_row(tmp_path):
    ds = dataset.build(write_data(tmp_path / "data", **MESSY))
    valid = {t: len(df) for t, df in ds.tables.items()}
    quarantined = {t: len(ds.quarantine.get(t, [])) for t in ds.tables}
    assert ds.rows_read == {"cities": 7, "officers": 8, "exchanges": 10, "expenses": 11, "fx_rates": 6,
                            "clusters": 2, "assessments": 3, "practices": 4, "links": 4}
    for table, n in ds.rows_read.items():
        assert valid[table] + quarantined[table] == n, table
    # Only the rows with a problem are out: X1 is duplicated, so its expenses, practice and link go too.
    assert ds.tables["exchanges"]["exchange_id"].tolist() == ["X9"]
    assert ds.tables["expenses"]["expense_id"].tolist() == ["E11"]
    assert ds.tables["practices"]["practice_id"].tolist() == ["P4"]
    assert ds.tables["links"]["link_id"].tolist() == ["L4"]
    assert quarantined == {"cities": 0, "officers": 3, "exchanges": 9, "expenses": 10, "fx_rates": 4,
                           "clusters": 0, "assessments": 2, "practices": 3, "links": 3}
    # Every quarantined row is one with an error, keeps its cells as read, and says why.
    for table, q in ds.quarantine.items():
        err_rows = set(ds.errors.loc[ds.errors["table"] == table, "row"])
        assert set(q.index) == err_rows, table
        assert q["problems"].str.len().gt(0).all(), table
    assert ds.quarantine["expenses"].loc[6, "amount"] == "abc"
    assert ds.quarantined_count == 34


def test_validate_writes_quarantine_without_officer_names(tmp_path, capsys):
    data = write_data(tmp_path / "data", officers=OFFICERS + [officer("O9", home_city="XXX", name="Réka Szűcs")])
    out = tmp_path / "out"
    assert cli.main(["validate", "--data", str(data), "--out", str(out)]) == 1
    stdout = capsys.readouterr().out
    q = pd.read_csv(out / "quarantine" / "officers.csv", dtype=str)
    assert list(q.columns) == ["row", "officer_id", "home_city", "employer_type", "role", "problems"]
    assert q[["row", "officer_id", "problems"]].values.tolist() == [["7", "O9", "home_city: unknown city XXX"]]
    everything = stdout + "".join(p.read_text(encoding="utf-8") for p in out.rglob("*.*"))
    assert "Réka Szűcs" not in everything and "Émilie Roux" not in everything


def test_show_names_keeps_them_for_internal_use(tmp_path, capsys):
    data = write_data(tmp_path / "data", officers=OFFICERS + [officer("O9", home_city="XXX", name="Réka Szűcs")])
    out = tmp_path / "out"
    assert cli.main(["validate", "--data", str(data), "--out", str(out), "--show-names"]) == 1
    capsys.readouterr()
    q = pd.read_csv(out / "quarantine" / "officers.csv", dtype=str)
    assert q["name"].tolist() == ["Réka Szűcs"]


def test_empty_name_error_does_not_show_a_value(tmp_path, capsys):
    data = write_data(tmp_path / "data", officers=OFFICERS + [officer("O9", name="")])
    out = tmp_path / "out"
    assert cli.main(["validate", "--data", str(data), "--out", str(out)]) == 1
    capsys.readouterr()
    errors = pd.read_csv(out / "errors.csv", dtype=str, keep_default_na=False)
    assert errors[SHOWN].values.tolist() == [
        ["officers.csv", "7", "name", "(personal data hidden)", "is empty but required"]]


def test_codes_are_read_case_insensitively(tmp_path):
    """A spreadsheet's "eur", "Validated", "Travel" or "EN" are the codes EUR, validated, travel, en."""
    data = write_data(tmp_path / "data",
                      exchanges=EXCHANGES + [exchange("X2", status="Validated", report_language="EN")],
                      expenses=EXPENSES + [expense("E5", exchange_id="X2", currency="eur", category="Travel")])
    ds = dataset.build(data)
    assert ds.error_count == 0
    x2 = ds.tables["exchanges"].set_index("exchange_id").loc["X2"]
    assert (x2["status"], x2["report_language"]) == ("validated", "en")
    e5 = ds.tables["expenses"].set_index("expense_id").loc["E5"]
    assert (e5["currency"], e5["category"]) == ("EUR", "travel")


# ------------------------------------------------------------------ duplicate ids, found by hashing
def test_duplicate_text_ids_are_exact_even_when_every_hash_collides(monkeypatch):
    """Equal hashes are only candidates: with a hash that is the same for every value, the answer
    is still the exact one (both copies of a repeated id flagged, missing ids never)."""
    import numpy as np

    from clusnet_analysis.ingest import _arrow, schemas

    values = pd.Series(["E1", "E2", None, "E1", "é€", "E3", None, "é€", "E10"], dtype="str",
                       index=[2, 3, 4, 5, 6, 7, 8, 9, 10])
    expected = [False, True, True, False, False, True, True, False, True]
    assert schemas.not_duplicated(values).tolist() == expected
    assert schemas.not_duplicated(values).index.tolist() == values.index.tolist()
    monkeypatch.setattr(_arrow, "text_hashes", lambda arr: np.zeros(len(arr), dtype=np.uint64))
    assert schemas.not_duplicated(values).tolist() == expected
    assert schemas.not_duplicated(pd.Series(["A", "B", "C"], dtype="str")).tolist() == [True, True, True]


def test_text_hashes_tell_values_apart_and_agree_on_equal_ones():
    import pyarrow as pa

    from clusnet_analysis.ingest._arrow import text_hashes

    # lengths around the 8-byte steps, a value that is another's prefix, trailing zero bytes, accents
    values = ["", "a", "a\x00", "abcdefg", "abcdefgh", "abcdefghi", "abcdefgh\x00", "E0001-000000",
              "E0001-000001", "E0002-000000", "é", "e", "x" * 40, "x" * 41, None]
    h = text_hashes(pa.array(values, type=pa.large_string()))
    assert len(set(h[:-1].tolist())) == len(values) - 1   # all different
    assert h[-1] == h[0]                                   # missing hashes like ""
    again = text_hashes(pa.chunked_array([pa.array(values[7:], type=pa.large_string()),
                                          pa.array(values[:7], type=pa.large_string())]))
    assert again.tolist() == h[7:].tolist() + h[:7].tolist()      # chunks and slices hash alike
    assert text_hashes(pa.array(values, type=pa.large_string()).slice(8, 3)).tolist() == h[8:11].tolist()


def test_lookups_found_by_validation_are_those_the_derived_tables_would_find(tmp_path):
    """Each exchange's officer and each expense line's exchange are looked up once, while checking
    references, and handed to the derived tables: after quarantine they must still point at the
    right rows (a position off by one would give an expense line another exchange's month and city)."""
    from clusnet_analysis.ingest._arrow import positions
    from clusnet_analysis.ingest.io import read_inputs
    from clusnet_analysis.ingest.validation import validate
    from clusnet_analysis.rules.programme import load_cluster_model, load_programme

    data = write_data(
        tmp_path / "data",
        officers=[officer("O9", home_city="ROM")] + OFFICERS + [officer("O8", employer_type="???")],
        exchanges=[exchange("X0", officer_id="O9"), exchange("X3", officer_id="O5"), exchange("X2", officer_id="O8")]
        + EXCHANGES + [exchange("X4", officer_id="O3"), exchange("X5", officer_id="")],
        expenses=[expense("E0", exchange_id="X0"), expense("E9", exchange_id="X4"), expense("E8", exchange_id="X1",
                  amount="abc")] + EXPENSES + [expense("E7", exchange_id="X3"), expense("E6", exchange_id="X9")],
    )
    programme = load_programme()
    result = validate(read_inputs(data), programme, load_cluster_model(programme))
    tables = result.tables
    assert tables["exchanges"]["exchange_id"].tolist() == ["X3", "X1", "X4"]
    assert tables["expenses"]["expense_id"].tolist() == ["E9", "E1", "E2", "E3", "E4", "E7"]
    officer_pos = result.lookups[("exchanges", "officer_id")]
    exchange_pos = result.lookups[("expenses", "exchange_id")]
    assert officer_pos.tolist() == positions(tables["officers"]["officer_id"], tables["exchanges"]["officer_id"]).tolist()
    assert exchange_pos.tolist() == positions(tables["exchanges"]["exchange_id"], tables["expenses"]["exchange_id"]).tolist()
    assert tables["officers"]["officer_id"].iloc[officer_pos].tolist() == ["O5", "O1", "O3"]
    assert tables["exchanges"]["exchange_id"].iloc[exchange_pos].tolist() == ["X4", "X1", "X1", "X1", "X1", "X3"]
    ds = dataset.build(data)
    assert ds.exchanges["home_city"].tolist() == ["BUD", "LYO", "BCN"]
    assert ds.expenses.set_index("expense_id")["exchange_id"].to_dict() == {
        "E9": "X4", "E1": "X1", "E2": "X1", "E3": "X1", "E4": "X1", "E7": "X3"}
