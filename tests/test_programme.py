"""Programme rules are data: the CLUSNET file, clear errors for a broken file, and a second programme.

The second programme is a made-up Nordic twin-city staff placement scheme (seed 003's
kind of work): four partner cities with their own ids, a 900 EUR cap, 3-day visits,
2 officers per city, periods P1/P2 in 2012, reports in Swedish of at most 4 pages,
only municipality staff, and its own themes. Nothing in the package is changed to
apply it: the data directory simply carries it as ``programme.toml``.
"""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from clusnet_analysis import config
from clusnet_analysis.cli import app as cli
from clusnet_analysis.ingest import dataset
from clusnet_analysis.rules.programme import Period, ProgrammeError, load_programme, programme_for

from clusnet_testdata import write_table


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


@pytest.mark.parametrize("line, setting", [
    ("cap_eur = 1550      # maximum per exchange, all categories together", "budget.cap_eur"),
    ("officers_per_city = 3", "participants.officers_per_city"),
    ('language = "en"', "reports.language"),
    ("days = 5            # in-situ visit length, first and last day included", "visit.days"),
])
def test_missing_setting_is_named(tmp_path, line, setting):
    assert line in CLUSNET_TOML
    path = _write(tmp_path, CLUSNET_TOML.replace(line, ""))
    with pytest.raises(ProgrammeError, match=rf"rules\.toml: missing setting \[{setting}\]"):
        load_programme(path)


def test_a_wrong_number_is_named(tmp_path):
    path = _write(tmp_path, CLUSNET_TOML.replace("cap_eur = 1550", 'cap_eur = "1.550 EUR"'))
    with pytest.raises(ProgrammeError, match=r"\[budget.cap_eur\] = '1.550 EUR' is not a number"):
        load_programme(path)


def test_final_is_a_reserved_period_id(tmp_path):
    path = _write(tmp_path, CLUSNET_TOML.replace('id = "S5"', 'id = "final"'))
    with pytest.raises(ProgrammeError, match="'final' and 'all' are reserved and cannot be period ids"):
        load_programme(path)


def test_period_ids_must_be_unique(tmp_path):
    path = _write(tmp_path, CLUSNET_TOML.replace('id = "S5"', 'id = "S4"'))
    with pytest.raises(ProgrammeError, match=r"period ids must be unique, got \['S3', 'S4', 'S4'\]"):
        load_programme(path)


def test_period_ending_before_it_starts(tmp_path):
    path = _write(tmp_path, CLUSNET_TOML.replace("end = 2009-12-31", "end = 2009-06-30"))
    with pytest.raises(ProgrammeError, match="period S3 ends before it starts"):
        load_programme(path)


def test_reference_cost_for_an_unknown_category(tmp_path):
    path = _write(tmp_path, CLUSNET_TOML.replace("other = 0\n", "other = 0\nflowers = 20\n"))
    with pytest.raises(ProgrammeError, match=r"reference costs for unknown categories \['flowers'\]"):
        load_programme(path)


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
    assert over["message"] == "total 950.00 EUR is over the cap of 900 EUR by 50.00 EUR"
    assert over["limit"] == "900"
    length = ds.findings.set_index("rule_id").loc["visit_length"]
    assert length["message"] == "visit lasts 5 days; the programme's visits last 3"
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
    assert "'final' and 'all' are reserved" in err
