"""Programme rules are data: the CLUSNET file, clear errors for a broken file, and a second programme.

The second programme is a made-up Nordic twin-city staff placement scheme (seed 003's
kind of work): four partner cities with their own ids, a 900 EUR cap, 3-day visits,
2 officers per city, periods P1/P2 in 2012, reports in Swedish of at most 4 pages,
only municipality staff, and its own themes. Nothing in the package is changed to
apply it: the data directory simply carries it as ``programme.toml``.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import re
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pandas as pd
import pytest

from clusnet_analysis import config
from clusnet_analysis.cli import app as cli
from clusnet_analysis.ingest import dataset
from clusnet_analysis.ingest.tables import TABLES
from clusnet_analysis.rules.programme import (NO_CLUSTER_MODEL, SWITCHABLE_KEYS, Period, ProgrammeError,
                                              load_cluster_model, load_programme, programme_for,
                                              programme_from_data)
from clusnet_analysis.rules.programme_schema import KNOWN_KEYS

from clusnet_testdata import write_data, write_table


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    # dataset.load caches by content; keep the tests' caches out of the project.
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")


# ------------------------------------------------------------------ CLUSNET
def test_clusnet_rules_from_the_bundled_file():
    p = load_programme()
    assert p.id == "clusnet"
    assert p.source_file == config.DEFAULT_PROGRAMME_FILE
    assert p.cap_eur == 1550.0
    assert p.partner_cities == ("LYO", "BCN", "MUC", "DTM", "LEJ", "MAN", "HEL", "BUD", "GOT", "EIN")
    assert p.officers_per_city == 3
    assert p.eligible_employer_types == ("city",)
    assert p.max_concurrent_per_city == 1
    assert p.visit_days == 5
    assert p.period_ids == ("S3", "S4", "S5")
    assert p.periods == (
        Period("S3", "Semester 3 (Jul-Dec 2009)", dt.date(2009, 7, 1), dt.date(2009, 12, 31)),
        Period("S4", "Semester 4 (Jan-Jun 2010)", dt.date(2010, 1, 1), dt.date(2010, 6, 30)),
        Period("S5", "Semester 5 (Jul-Dec 2010)", dt.date(2010, 7, 1), dt.date(2010, 12, 31)),
    )
    assert (p.window_start, p.window_end) == (dt.date(2009, 7, 1), dt.date(2010, 12, 31))
    assert p.reference_eur == {"travel": 600.0, "accommodation": 600.0, "meals": 250.0,
                               "local_transport": 100.0, "insurance": 0.0, "other": 0.0}
    assert p.reference_total_eur == 1550.0   # 600 + 120 x 5 + 25 x 10 + 100
    assert p.report_max_pages == 8 and p.report_language == "en"
    assert p.themes == ("research", "education", "capital", "policy", "firm_to_firm",
                        "cluster_to_cluster", "global")
    assert p.theme_labels["firm_to_firm"] == "Firm-to-firm gap"
    assert p.phase_threshold == 0.8
    assert p.period("S4").start == dt.date(2010, 1, 1)
    with pytest.raises(KeyError, match="unknown period 'S6'; known: S3, S4, S5"):
        p.period("S6")


def test_a_data_dir_without_its_own_rules_uses_clusnet(tmp_path):
    assert programme_for(tmp_path).id == "clusnet"


# ------------------------------------------------------------------ broken files
CLUSNET_TOML = config.DEFAULT_PROGRAMME_FILE.read_text(encoding="utf-8")


def _write(tmp_path, text: str, name="rules.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file(tmp_path):
    with pytest.raises(ProgrammeError, match=r"nope\.toml: programme file not found"):
        load_programme(tmp_path / "nope.toml")


def test_bad_toml(tmp_path):
    path = _write(tmp_path, CLUSNET_TOML.replace('id = "clusnet"', 'id = clusnet'))
    with pytest.raises(ProgrammeError, match=r"rules\.toml: not valid TOML"):
        load_programme(path)


def test_toml_not_saved_as_utf8(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_bytes(CLUSNET_TOML.replace('name = "CLUSNET staff exchange programme"',
                                          'name = "Vänorter Västerås"').encode("cp1252"))
    with pytest.raises(ProgrammeError, match=r"rules\.toml: not valid TOML \(the file must be saved as UTF-8\)"):
        load_programme(path)


def test_a_folder_is_not_a_programme_file(tmp_path):
    with pytest.raises(ProgrammeError, match="cannot read programme file"):
        load_programme(tmp_path)


@pytest.mark.parametrize("line, setting, hint", [
    ("cap_eur = 1550      # maximum per exchange, all categories together", "budget.cap_eur",
     "a number, or false for no cap"),
    ("officers_per_city = 3", "participants.officers_per_city", "a number, or false for no quota"),
    ('language = "en"', "reports.language", 'a language code such as "en", or false'),
    ("days = 5            # in-situ visit length, first and last day included", "visit.days",
     "a number of days, { min = 1, max = 4 } or false"),
])
def test_a_missing_setting_is_named_and_never_switches_a_rule_off(tmp_path, line, setting, hint):
    assert line in CLUSNET_TOML
    path = _write(tmp_path, CLUSNET_TOML.replace(line, ""))
    with pytest.raises(ProgrammeError) as err:
        load_programme(path)
    assert str(err.value) == f"{path}: `{setting}`: missing: this setting is required ({hint})"


# Each bad programme file: (case, [(text in clusnet.toml, replacement)], key, problem as a regex).
# APPEND adds the replacement at the end of the file.
APPEND = None
BAD_KEYS = [
    # unknown keys: refused, with a close known key when there is one
    ("unknown table", [(APPEND, "\n[visits]\ndays = 5\n")], "visits", r"unknown key; did you mean `visit`\?"),
    ("typo in a key", [("cap_eur = 1550", "cap_euro = 1550")], "budget.cap_euro",
     r"unknown key; did you mean `budget.cap_eur`\?"),
    ("key in the wrong table", [("cap_eur = 1550", "cap_eur = 1550\nmax_pages = 8")], "budget.max_pages",
     r"unknown key; did you mean `reports.max_pages`\?"),
    ("typo in a period", [('label = "Semester 4 (Jan-Jun 2010)"', 'lable = "Semester 4 (Jan-Jun 2010)"')],
     "periods.lable", r"unknown key \(in \[\[periods\]\] number 2, id S4\); did you mean `periods.label`\?"),
    ("typo in the visit range", [("days = 5 ", "days = { min = 1, maxi = 4 } ")], "visit.days.maxi",
     r"unknown key; did you mean `visit.days.max`\?"),
    ("unknown key with nothing close", [("[reports]\n", '[reports]\ncolour = "blue"\n')], "reports.colour",
     r"unknown key; known keys here: max_pages, language, agenda_before_visit, report_required$"),
    # the cap
    ("negative cap", [("cap_eur = 1550", "cap_eur = -5")], "budget.cap_eur",
     r"must be more than 0, or false to switch the rule off; got -5$"),
    ("zero cap", [("cap_eur = 1550", "cap_eur = 0")], "budget.cap_eur", r"must be more than 0, .*; got 0$"),
    ("cap = true", [("cap_eur = 1550", "cap_eur = true")], "budget.cap_eur",
     r"true is not a limit: write a number, or false to switch the rule off$"),
    ("cap as text", [("cap_eur = 1550", 'cap_eur = "1.550 EUR"')], "budget.cap_eur",
     r'must be a number, or false to switch the rule off, not text \("1.550 EUR"\)$'),
    ("text with a line break", [("cap_eur = 1550", 'cap_eur = "15\\n50"')], "budget.cap_eur",
     r'not text \("15\\n50"\)$'),
    ("infinite cap", [("cap_eur = 1550", "cap_eur = inf")], "budget.cap_eur", r"must be a finite number, got inf$"),
    # participants
    ("zero officer quota", [("officers_per_city = 3", "officers_per_city = 0")], "participants.officers_per_city",
     r"must be 1 or more, or false to switch the rule off; got 0$"),
    ("fractional officer quota", [("officers_per_city = 3", "officers_per_city = 2.5")],
     "participants.officers_per_city", r"must be a whole number, got 2.5$"),
    ("max_concurrent_per_city 0", [("max_concurrent_per_city = 1", "max_concurrent_per_city = 0")],
     "participants.max_concurrent_per_city", r"must be 1 or more, or false to switch the rule off; got 0$"),
    ("max_concurrent_per_city as text", [("max_concurrent_per_city = 1", 'max_concurrent_per_city = "one"')],
     "participants.max_concurrent_per_city", r'not text \("one"\)$'),
    ("duplicate partner city", [('"EIN"]', '"EIN", "LYO"]')], "participants.partner_cities",
     r'"LYO" is listed twice$'),
    ("no partner cities", [('partner_cities = ["LYO", "BCN", "MUC", "DTM", "LEJ", "MAN", "HEL", "BUD", "GOT", "EIN"]',
                            "partner_cities = []")], "participants.partner_cities", r"must not be empty$"),
    ("lead city not a partner", [('lead_city = "LYO"', 'lead_city = "STO"')], "programme.lead_city",
     r'"STO" is not one of `participants.partner_cities`$'),
    ("employer types not a list", [('eligible_employer_types = ["city"]', 'eligible_employer_types = "city"')],
     "participants.eligible_employer_types", r'must be a list in square brackets, e.g. \["a", "b"\], not "city"$'),
    # window and periods
    ("window ends before it starts", [("[window]\nstart = 2009-07-01\nend = 2010-12-31",
                                       "[window]\nstart = 2009-07-01\nend = 2009-01-01")],
     "window.end", r"the window ends \(2009-01-01\) before it starts \(2009-07-01\)$"),
    ("window start not a date", [("[window]\nstart = 2009-07-01", '[window]\nstart = "July 2009"')], "window.start",
     r'must be a date written YYYY-MM-DD, not "July 2009"$'),
    ("overlapping periods", [("start = 2010-01-01", "start = 2009-12-01")], "periods",
     r"periods S3 \(2009-07-01 to 2009-12-31\) and S4 \(2009-12-01 to 2010-06-30\) overlap; "
     r"a visit must fall in one period only$"),
    ("period outside the window", [('label = "Semester 5 (Jul-Dec 2010)"\nstart = 2010-07-01\nend = 2010-12-31',
                                    'label = "Semester 5 (Jul-Dec 2010)"\nstart = 2010-07-01\nend = 2011-06-30')],
     "periods.end", r"period S5: 2010-07-01 to 2011-06-30 is not inside the window 2009-07-01 to 2010-12-31$"),
    ("period ending before it starts", [("end = 2009-12-31", "end = 2009-06-30")], "periods.end",
     r"period S3: ends \(2009-06-30\) before it starts \(2009-07-01\)$"),
    ("period start not a date", [("start = 2010-01-01", "start = 2010")], "periods.start",
     r"period S4: must be a date written YYYY-MM-DD, not 2010$"),
    ("period without a start", [("start = 2010-01-01\n", "")], "periods.start",
     r"missing: this setting is required \(period S4\)$"),
    ("duplicate period ids", [('id = "S5"', 'id = "S4"')], "periods.id",
     r'period ids must be unique; "S4" is used 2 times$'),
    ("reserved period id", [('id = "S5"', 'id = "final"')], "periods.id",
     r'"final" is reserved and cannot be a period id \("final" and "all" are report names\)$'),
    # visit length
    ("zero days", [("days = 5 ", "days = 0 ")], "visit.days", r"must be 1 or more, or false to switch the rule off; got 0$"),
    ("min more than max", [("days = 5 ", "days = { min = 4, max = 1 } ")], "visit.days",
     r"min \(4\) is more than max \(1\)$"),
    ("range without max", [("days = 5 ", "days = { min = 1 } ")], "visit.days.max",
     r"missing: a range needs both min and max, e.g. days = \{ min = 1, max = 4 \}$"),
    ("range min zero", [("days = 5 ", "days = { min = 0, max = 4 } ")], "visit.days.min", r"must be 1 or more; got 0$"),
    ("days = true", [("days = 5 ", "days = true ")], "visit.days",
     r"true is not a limit: write a whole number, or false to switch the rule off$"),
    ("days as text", [("days = 5 ", 'days = "5 days" ')], "visit.days", r'not text \("5 days"\)$'),
    ("visit as a value", [("[visit]\ndays = 5            # in-situ visit length, first and last day included\n"
                           "nights = 5\n", ""), ("[programme]", "visit = 5\n[programme]")], "visit",
     r"must be a table \(\[visit\]\), not 5$"),
    # budget and categories
    ("category listed twice", [('"insurance", "other"]', '"insurance", "other", "meals"]')], "expenses.categories", r'"meals" is listed twice$'),
    ("negative reference cost", [("meals = 250", "meals = -250")], "budget.reference_eur.meals",
     r"must be 0 or more; got -250$"),
    ("reference cost for an unknown category", [("other = 0\n", "other = 0\nflowers = 20\n")],
     "budget.reference_eur.flowers", r'reference cost for "flowers", which is not in `expenses.categories`$'),
    # reports
    ("zero pages", [("max_pages = 8", "max_pages = 0")], "reports.max_pages",
     r"must be 1 or more, or false to switch the rule off; got 0$"),
    ("pages as text", [("max_pages = 8", 'max_pages = "8"')], "reports.max_pages", r'not text \("8"\)$'),
    ("language not a code", [('language = "en"', 'language = "English"')], "reports.language",
     r'must be a two-letter language code such as "en", or false to switch the rule off; got "English"$'),
    ("agenda rule as text", [("agenda_before_visit = true", 'agenda_before_visit = "yes"')],
     "reports.agenda_before_visit", r'must be true or false, not "yes"$'),
    # themes and the cluster model
    ("themes and labels of different lengths", [(', "Global gap"]', "]")], "themes.labels",
     r"6 labels for 7 theme ids; give one label per id, in the same order$"),
    ("threshold zero", [("threshold = 0.8", "threshold = 0")], "cluster_model.threshold", r"must be more than 0; got 0$"),
    ("threshold above one", [("threshold = 0.8", "threshold = 1.5")], "cluster_model.threshold",
     r"must be 1 or less; got 1.5$"),
    ("threshold as a boolean", [("threshold = 0.8", "threshold = true")], "cluster_model.threshold",
     r"must be a number, not true$"),
    ("missing cluster model file", [('currency = "EUR"\n', 'currency = "EUR"\ncluster_model = "nope.toml"\n')],
     "programme.cluster_model", r'cluster model file "nope.toml" not found \(looked in .* and .*\)$'),
    # [programme]
    ("unknown optional table", [('currency = "EUR"\n', 'currency = "EUR"\ntables = ["practices", "budget"]\n')],
     "programme.tables",
     r'"budget" is not an optional table; the optional tables are clusters, assessments, practices, links$'),
    ("a required table as optional", [('currency = "EUR"\n', 'currency = "EUR"\ntables = ["exchanges"]\n')],
     "programme.tables", r'"exchanges" is not an optional table \(always used\)'),
    ("links without clusters", [('currency = "EUR"\n', 'currency = "EUR"\ntables = ["links"]\n')], "programme.tables",
     r'"links" needs "clusters" \(links refer to clusters\)$'),
    ("currency not a code", [('currency = "EUR"\n', 'currency = "euro"\n')], "programme.currency",
     r'must be a three-letter currency code such as "EUR"; got "euro"$'),
    ("title not text", [('currency = "EUR"\n', 'currency = "EUR"\ntitle = 5\n')], "programme.title",
     r"must be text in quotes, not 5$"),
    ("id with spaces", [('id = "clusnet"', 'id = "my programme"')], "programme.id",
     r'must be letters, digits, _ . - \(no spaces\); got "my programme"$'),
]


def _bad_programme(tmp_path, edits) -> Path:
    text = CLUSNET_TOML
    for old, new in edits:
        if old is APPEND:
            text += new
        else:
            assert text.count(old) == 1, old   # the case edits what it means to
            text = text.replace(old, new)
    return _write(tmp_path, text)


@pytest.mark.parametrize("edits, key, problem", [c[1:] for c in BAD_KEYS], ids=[c[0] for c in BAD_KEYS])
def test_each_bad_key_is_refused_with_file_key_and_problem(tmp_path, edits, key, problem):
    path = _bad_programme(tmp_path, edits)
    with pytest.raises(ProgrammeError) as err:
        load_programme(path)
    prefix = f"{path}: `{key}`: "
    assert str(err.value).startswith(prefix), str(err.value)
    assert re.search(problem, str(err.value)[len(prefix):]), str(err.value)


@pytest.mark.parametrize("edits, key, problem", [c[1:] for c in BAD_KEYS], ids=[c[0] for c in BAD_KEYS])
def test_each_bad_key_exits_2_with_one_line(tmp_path, capsys, edits, key, problem):
    path = _bad_programme(tmp_path, edits)
    data = write_data(tmp_path / "data")
    code = cli.main(["validate", "--data", str(data), "--programme", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    prefix = f"clusnet: error: {path}: `{key}`: "
    assert err.startswith(prefix), err
    assert re.search(problem, err[len(prefix):].rstrip("\n")), err
    assert not (tmp_path / "out").exists()


def test_the_budget_eligibility_and_report_structure_keys_are_known(tmp_path):
    """Keys other work reads: accepted by the strict key check (their values are checked there)."""
    text = CLUSNET_TOML.replace("cap_eur = 1550", 'cap_eur = 1550\nprogramme_budget_eur = 46500\n'
                                'conversion_month = "start_date"')
    text += '\n[budget.allocation_eur]\nLYO = 4650\nBCN = 4650\n\n[eligibility]\nextra_ineligible_rules = []\n'
    p = load_programme(_write(tmp_path, text))
    assert p.raw["budget"]["allocation_eur"] == {"LYO": 4650, "BCN": 4650}
    assert p.report_structure is not None and p.report_structure.sections   # the bundled [report_structure]


def test_every_known_key_is_in_the_design():
    assert set(KNOWN_KEYS) >= {
        "programme.title", "programme.tables", "programme.cluster_model", "participants.officers_per_city",
        "participants.max_concurrent_per_city", "visit.days", "visit.days.min", "visit.days.max", "budget.cap_eur",
        "budget.programme_budget_eur", "budget.conversion_month", "budget.allocation_eur",
        "budget.reference_eur", "reports.max_pages", "reports.language", "reports.agenda_before_visit",
        "reports.report_required", "eligibility.extra_ineligible_rules", "report_structure"}


# ------------------------------------------------------------------ off, ranges, defaults
OFF_TOML = (CLUSNET_TOML
            .replace("cap_eur = 1550 ", "cap_eur = false ")
            .replace("officers_per_city = 3", "officers_per_city = false")
            .replace("max_concurrent_per_city = 1", "max_concurrent_per_city = false")
            .replace("days = 5 ", "days = false ")
            .replace("max_pages = 8", "max_pages = false")
            .replace('language = "en"', "language = false")
            .replace("agenda_before_visit = true", "agenda_before_visit = false")
            .replace("report_required = true", "report_required = false"))


def test_false_switches_each_rule_off(tmp_path):
    p = load_programme(_write(tmp_path, OFF_TOML))
    assert p.switched_off == set(SWITCHABLE_KEYS)
    assert all(p.is_off(k) for k in SWITCHABLE_KEYS)
    assert (p.cap_eur, p.officers_per_city, p.max_concurrent_per_city, p.visit_days_min, p.visit_days_max,
            p.visit_days, p.report_max_pages, p.report_language, p.agenda_before_visit, p.report_required) == (
        None, None, None, None, None, None, None, None, False, False)
    on = load_programme()
    assert on.switched_off == frozenset() and not on.is_off("visit.days")
    with pytest.raises(KeyError, match="cannot be switched off"):
        on.is_off("window.start")


@pytest.mark.parametrize("days, expected", [
    ("5", (5, 5, 5)), ("{ min = 1, max = 4 }", (1, 4, None)), ("{ min = 3, max = 3 }", (3, 3, 3)),
    ("4.0", (4, 4, 4)),
])
def test_visit_days_exact_or_a_range(tmp_path, days, expected):
    p = load_programme(_write(tmp_path, CLUSNET_TOML.replace("days = 5 ", f"days = {days} ")))
    assert (p.visit_days_min, p.visit_days_max, p.visit_days) == expected


def test_missing_optional_keys_take_their_documented_defaults(tmp_path):
    text = (CLUSNET_TOML.replace("max_concurrent_per_city = 1", "").replace("agenda_before_visit = true", "")
            .replace("report_required = true", "").replace("threshold = 0.8", ""))
    p = load_programme(_write(tmp_path, text))
    assert p.max_concurrent_per_city == 1 and p.agenda_before_visit and p.report_required
    assert p.phase_threshold == 0.8
    assert p.title == p.name == "CLUSNET staff exchange programme"
    assert p.tables == ("clusters", "assessments", "practices", "links")
    assert p.cluster_model_file == config.CLUSTER_MODEL_FILE
    assert p.switched_off == frozenset()


def test_title_and_the_tables_used(tmp_path):
    text = CLUSNET_TOML.replace('currency = "EUR"\n', 'currency = "EUR"\ntitle = "Staff exchanges 2009-2010"\n\n'
                                'tables = ["practices"]\n')
    p = load_programme(_write(tmp_path, text))
    assert p.title == "Staff exchanges 2009-2010"
    assert p.tables == ("practices",)
    assert [t for t in TABLES if p.uses(t)] == ["cities", "officers", "exchanges", "expenses", "fx_rates",
                                                 "practices"]
    with pytest.raises(KeyError, match="unknown table 'budget'"):
        p.uses("budget")
    none = load_programme(_write(tmp_path, CLUSNET_TOML.replace('currency = "EUR"\n', 'currency = "EUR"\ntables = []\n'),
                                 "none.toml"))
    assert none.tables == () and not none.uses("practices") and none.uses("exchanges")
    assert none.cluster_model_file is None
    assert load_cluster_model(none) is NO_CLUSTER_MODEL


# ------------------------------------------------------------------ the cluster model file
MODEL_TOML = """\
[model]
name = "Two-step model"

[[phases]]
id = "start"
order = 1
name = "Getting started"
[[phases.results]]
id = "ST-1"
text = "A first meeting was held"

[[phases]]
id = "growth"
order = 2
name = "Growing"
[[phases.results]]
id = "GR-1"
text = "Members pay a fee"
"""


def test_the_cluster_model_file_is_named_by_the_programme(tmp_path):
    (tmp_path / "two_steps.toml").write_text(MODEL_TOML, encoding="utf-8")
    p = load_programme(_write(tmp_path, CLUSNET_TOML.replace(
        'currency = "EUR"\n', 'currency = "EUR"\ncluster_model = "two_steps.toml"\n')))
    assert p.cluster_model_file == tmp_path / "two_steps.toml"   # beside the programme file first
    m = load_cluster_model(p)
    assert m.phase_labels == {"start": "Getting started", "growth": "Growing"}
    assert m.phase_label("growth") == "Growing" and m.criterion_ids == ("ST-1", "GR-1")
    # The bundled programme's labels come from the bundled model file.
    assert load_cluster_model(load_programme()).phase_labels == {
        "initiation": "Initiation", "pilot": "Pilot", "establishment": "Establishment",
        "sustainability": "Sustainability"}


def test_a_broken_cluster_model_file_is_named(tmp_path):
    (tmp_path / "two_steps.toml").write_text(MODEL_TOML.replace('name = "Growing"\n', ""), encoding="utf-8")
    p = load_programme(_write(tmp_path, CLUSNET_TOML.replace(
        'currency = "EUR"\n', 'currency = "EUR"\ncluster_model = "two_steps.toml"\n')))
    with pytest.raises(ProgrammeError) as err:
        load_cluster_model(p)
    assert str(err.value) == (f"{tmp_path / 'two_steps.toml'}: `phases.name`: missing: this setting is required "
                              "(phase growth)")


def test_the_data_dir_model_file_is_used_by_the_dataset(tmp_path):
    data = write_data(tmp_path / "data", assessments=[], practices=[dict(
        practice_id="P1", exchange_id="X1", title="Joint purchasing", theme="research", phase="growth",
        transferability="3", cluster_id="C1")])
    (data / "two_steps.toml").write_text(MODEL_TOML, encoding="utf-8")
    (data / "programme.toml").write_text(CLUSNET_TOML.replace(
        'currency = "EUR"\n', 'currency = "EUR"\ncluster_model = "two_steps.toml"\n'), encoding="utf-8")
    ds = dataset.load(data)
    assert ds.model.phase_ids == ("start", "growth")
    assert ds.error_count == 0 and ds.tables["practices"]["phase"].tolist() == ["growth"]


# ------------------------------------------------------------------ tables a programme does not use
def test_tables_the_programme_does_not_use_are_not_read(tmp_path):
    """tables = []: practices.csv is present but not read (a note says so); absent files are no news."""
    data = write_data(tmp_path / "data", clusters=None, assessments=None, links=None, practices=[dict(
        practice_id="P1", exchange_id="X1", title="t", theme="not a theme", transferability="9")])
    (data / "programme.toml").write_text(CLUSNET_TOML.replace('currency = "EUR"\n', 'currency = "EUR"\ntables = []\n'),
                                         encoding="utf-8")
    ds = dataset.load(data)
    assert ds.error_count == 0
    assert ds.notes == ["practices: practices.csv is not read: the programme does not use this table "
                        "(`programme.tables`)"]
    assert ds.rows_read["practices"] == 0 and ds.tables["practices"].empty
    assert ds.model is NO_CLUSTER_MODEL
    summary = ds.table_summary().set_index("table")
    assert summary["used"].to_dict() == {"cities": True, "officers": True, "exchanges": True, "expenses": True,
                                         "fx_rates": True, "clusters": False, "assessments": False,
                                         "practices": False, "links": False}


def test_a_used_optional_table_may_be_absent(tmp_path):
    data = write_data(tmp_path / "data", clusters=None, assessments=None, links=None, practices=None)
    ds = dataset.load(data)   # the bundled programme uses all four: each gets a note, nothing fails
    assert ds.error_count == 0
    assert ds.notes == [f"{t}: no file supplied; treated as empty" for t in ("clusters", "assessments",
                                                                             "practices", "links")]


# ------------------------------------------------------------------ a second programme
NORDIC_TOML = """\
[programme]
id = "nordic_twins"
name = "Nordic twin-city staff placements"
currency = "EUR"

[participants]
partner_cities = ["VAS", "TAM", "ODE", "DRM"]
officers_per_city = 2
eligible_employer_types = ["municipality"]
max_concurrent_per_city = 1

[window]
start = 2012-01-01
end = 2012-12-31

[[periods]]
id = "P1"
label = "Spring 2012"
start = 2012-01-01
end = 2012-06-30

[[periods]]
id = "P2"
label = "Autumn 2012"
start = 2012-07-01
end = 2012-12-31

[visit]
days = 3

[budget]
cap_eur = 900
[budget.reference_eur]
travel = 400
accommodation = 300
meals = 150
other = 50

[expenses]
categories = ["travel", "accommodation", "meals", "other"]

[reports]
max_pages = 4
language = "sv"

[themes]
ids = ["welfare", "culture", "youth", "climate"]
labels = ["Välfärd", "Kultur", "Ungdom", "Klimat"]
"""

NORDIC = {
    "cities": [
        dict(city_id="VAS", name="Västerås", country="SE", currency="SEK"),
        dict(city_id="TAM", name="Tampere", country="FI", currency="EUR"),
        dict(city_id="ODE", name="Odense", country="DK", currency="DKK"),
        dict(city_id="DRM", name="Drammen", country="NO", currency="NOK"),
    ],
    "officers": [
        dict(officer_id="OV1", home_city="VAS", employer_type="municipality", name="Åsa Berg"),
        dict(officer_id="OV2", home_city="VAS", employer_type="municipality", name="Per Ek"),
        dict(officer_id="OT1", home_city="TAM", employer_type="municipality", name="Aino Virtanen"),
        dict(officer_id="OO1", home_city="ODE", employer_type="municipality", name="Søren Holm"),
        dict(officer_id="OD1", home_city="DRM", employer_type="municipality", name="Kari Dahl"),
    ],
    # NX1: 3 days, 500 EUR, in P1 -> nothing to report.
    # NX2: 5 days -> visit_length.
    # NX3: 3 days, 950 EUR -> over_cap.
    # NX4: 3 days, exactly 900 EUR (6,750 NOK at 7.5) -> nothing to report.
    "exchanges": [
        dict(exchange_id="NX1", officer_id="OV1", host_city="TAM", start_date="2012-03-05",
             end_date="2012-03-07", status="validated", agenda_sent_date="2012-02-20",
             report_received_date="2012-03-30", report_pages="4", report_language="sv"),
        dict(exchange_id="NX2", officer_id="OO1", host_city="DRM", start_date="2012-04-16",
             end_date="2012-04-20", status="validated", agenda_sent_date="2012-04-01",
             report_received_date="2012-05-02", report_pages="3", report_language="sv"),
        dict(exchange_id="NX3", officer_id="OT1", host_city="VAS", start_date="2012-09-10",
             end_date="2012-09-12", status="submitted", agenda_sent_date="2012-09-01",
             report_received_date="2012-10-01", report_pages="2", report_language="sv"),
        dict(exchange_id="NX4", officer_id="OD1", host_city="ODE", start_date="2012-10-01",
             end_date="2012-10-03", status="submitted", agenda_sent_date="2012-09-20",
             report_received_date="2012-10-20", report_pages="4", report_language="sv"),
    ],
    "expenses": [
        dict(expense_id="NE1", exchange_id="NX1", category="travel", amount="2610", currency="SEK"),
        dict(expense_id="NE2", exchange_id="NX1", category="accommodation", amount="1740", currency="SEK"),
        dict(expense_id="NE3", exchange_id="NX2", category="travel", amount="744", currency="DKK"),
        dict(expense_id="NE4", exchange_id="NX3", category="travel", amount="500", currency="EUR"),
        dict(expense_id="NE5", exchange_id="NX3", category="accommodation", amount="300", currency="EUR"),
        dict(expense_id="NE6", exchange_id="NX3", category="meals", amount="150", currency="EUR"),
        dict(expense_id="NE7", exchange_id="NX4", category="travel", amount="6750", currency="NOK"),
    ],
    "fx_rates": [
        dict(month="2012-03", currency="SEK", units_per_eur="8.7"),
        dict(month="2012-04", currency="DKK", units_per_eur="7.44"),
        dict(month="2012-10", currency="NOK", units_per_eur="7.5"),
    ],
    "practices": [
        dict(practice_id="NP1", exchange_id="NX1", title="Youth summer jobs", theme="youth", transferability="4"),
        dict(practice_id="NP2", exchange_id="NX4", title="Elderly care robots", theme="welfare", transferability="3"),
    ],
}


def write_nordic(directory, practices=None):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "programme.toml").write_text(NORDIC_TOML, encoding="utf-8")
    for name, rows in NORDIC.items():
        rows = practices if (name == "practices" and practices is not None) else rows
        write_table(directory / f"{name}.csv", rows, list(dict.fromkeys(c for r in rows for c in r)))
    return directory


def test_second_programme_loads_from_its_file(tmp_path):
    p = load_programme(write_nordic(tmp_path / "nordic") / "programme.toml")
    assert p.id == "nordic_twins"
    assert p.partner_cities == ("VAS", "TAM", "ODE", "DRM")
    assert (p.cap_eur, p.visit_days, p.officers_per_city, p.report_max_pages, p.report_language) == (
        900.0, 3, 2, 4, "sv")
    assert p.period_ids == ("P1", "P2")
    assert p.periods[1] == Period("P2", "Autumn 2012", dt.date(2012, 7, 1), dt.date(2012, 12, 31))
    assert p.eligible_employer_types == p.known_employer_types == ("municipality",)
    assert p.expense_categories == ("travel", "accommodation", "meals", "other")
    assert p.themes == ("welfare", "culture", "youth", "climate")
    assert p.theme_labels["welfare"] == "Välfärd"
    assert p.reference_total_eur == 900.0
    assert p.phase_threshold == 0.8   # default when the file has no [cluster_model]


def test_dataset_load_applies_the_data_dirs_own_rules(tmp_path):
    ds = dataset.load(write_nordic(tmp_path / "nordic"))
    assert ds.programme.id == "nordic_twins"
    assert ds.error_count == 0
    assert sorted(zip(ds.findings["rule_id"], ds.findings["subject_id"])) == [
        ("over_cap", "NX3"), ("visit_length", "NX2")]
    over = ds.findings.set_index("rule_id").loc["over_cap"]
    assert over["message"] == "costs 950.00 EUR, more than the cap of 900 EUR per exchange (50.00 EUR over)"
    assert over["limit"] == "900"
    length = ds.findings.set_index("rule_id").loc["visit_length"]
    assert length["message"] == "visit of 5 days; the programme's visits last 3 days"
    # Its own periods, its own categories, its own currencies.
    assert ds.exchanges.set_index("exchange_id")["period"].to_dict() == {
        "NX1": "P1", "NX2": "P1", "NX3": "P2", "NX4": "P2"}
    costs = ds.costs.set_index("exchange_id")
    assert list(costs.columns[6:]) == ["travel", "accommodation", "meals", "other", "total_eur",
                                       "unconverted_lines"]
    assert costs["total_eur"].to_dict() == {"NX1": 500.0, "NX2": 100.0, "NX3": 950.0, "NX4": 900.0}
    # Reports in Swedish pass (CLUSNET would want English); 4 pages is the limit and passes.
    assert "report_language" not in set(ds.findings["rule_id"])
    assert "report_too_long" not in set(ds.findings["rule_id"])


def test_second_programme_has_its_own_theme_vocabulary(tmp_path):
    practices = NORDIC["practices"] + [dict(practice_id="NP3", exchange_id="NX1", title="Lab vouchers",
                                            theme="research", transferability="2")]
    ds = dataset.load(write_nordic(tmp_path / "nordic", practices=practices))
    assert ds.errors[["file", "row", "column", "value", "problem"]].values.tolist() == [
        ["practices.csv", 4, "theme", "research", "research is not a known best-practice theme"]]
    assert ds.tables["practices"]["theme"].tolist() == ["youth", "welfare"]


def test_cli_validate_applies_the_data_dirs_own_rules(tmp_path, capsys):
    practices = NORDIC["practices"] + [dict(practice_id="NP3", exchange_id="NX1", title="Lab vouchers",
                                            theme="research", transferability="2")]
    data = write_nordic(tmp_path / "nordic", practices=practices)
    out = tmp_path / "out"
    code = cli.main(["validate", "--data", str(data), "--out", str(out)])
    stdout = capsys.readouterr().out
    assert code == 1   # one schema error: the CLUSNET theme "research"
    assert "rules: Nordic twin-city staff placements, programme.toml" in stdout
    assert "research is not a known best-practice theme" in stdout
    findings = pd.read_csv(out / "findings.csv")
    assert sorted(zip(findings["rule_id"], findings["subject_id"])) == [
        ("over_cap", "NX3"), ("visit_length", "NX2")]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["programme"] == "nordic_twins"
    assert summary["findings_by_rule"] == {"over_cap": 1, "visit_length": 1}


def test_cli_programme_option_overrides_the_data_dir(tmp_path, capsys):
    """--programme with a broken file: exit 2, one line, no traceback."""
    data = write_nordic(tmp_path / "nordic")
    bad = _write(tmp_path, NORDIC_TOML.replace('id = "P2"', 'id = "final"'))
    code = cli.main(["validate", "--data", str(data), "--programme", str(bad), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("clusnet: error: ") and err.count("\n") == 1
    assert f"{bad}: `periods.id`: \"final\" is reserved and cannot be a period id" in err


def test_an_outside_cluster_model_file_is_part_of_the_input_fingerprint(tmp_path):
    """A programme file given with --programme may name a model file beside it: a change there rebuilds."""
    from clusnet_analysis.publish.provenance import input_fingerprint

    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "two_steps.toml").write_text(MODEL_TOML, encoding="utf-8")
    rules = _write(rules_dir, CLUSNET_TOML.replace('currency = "EUR"\n',
                                                   'currency = "EUR"\ncluster_model = "two_steps.toml"\n'))
    data = write_data(tmp_path / "data")
    before = input_fingerprint(data, rules)["fingerprint"]
    assert input_fingerprint(data, rules)["fingerprint"] == before
    (rules_dir / "two_steps.toml").write_text(MODEL_TOML.replace("Growing", "Grown up"), encoding="utf-8")
    assert input_fingerprint(data, rules)["fingerprint"] != before


# ------------------------------------------------------------------ any value, anywhere
def _paths(value, path=()):
    """Every place in the parsed file where a value sits: (key, …) with list positions as ints."""
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*path, i))


CLUSNET_DATA = tomllib.loads(CLUSNET_TOML)
PLACES = [p for p in _paths(CLUSNET_DATA) if p]
TOML_SCALARS = st.one_of(
    st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["", " ", "a\nb", "S3", "final", "LYO", "en", "EUR", "2010-01-01"]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)))
TOML_VALUES = st.recursive(TOML_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(min_size=1, max_size=8), st.sampled_from(["min", "max", "a\nb", "id"])),
                    inner, max_size=3)), max_leaves=8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(place=st.sampled_from(PLACES), value=TOML_VALUES)
def test_any_value_anywhere_loads_or_is_refused_in_one_line(place, value):
    """Whatever a hand puts at any key, the loader returns a programme or a ProgrammeError naming a key."""
    data = copy.deepcopy(CLUSNET_DATA)
    target = data
    for step in place[:-1]:
        target = target[step]
    target[place[-1]] = value
    source = Path("rules.toml")
    try:
        programme_from_data(data, source)
    except ProgrammeError as exc:
        assert str(exc).startswith("rules.toml: `") and "\n" not in str(exc), str(exc)


def test_a_reference_to_a_table_the_programme_does_not_use_is_not_checked(tmp_path):
    """tables = ["practices"]: a practice's cluster_id is kept as written, not "unknown cluster"."""
    data = write_data(tmp_path / "data", clusters=None, assessments=None, links=None)   # practice P1 names C1
    (data / "programme.toml").write_text(CLUSNET_TOML.replace(
        'currency = "EUR"\n', 'currency = "EUR"\ntables = ["practices"]\n'), encoding="utf-8")
    ds = dataset.load(data)
    assert ds.error_count == 0 and ds.notes == []
    assert ds.tables["practices"]["cluster_id"].tolist() == ["C1"]
