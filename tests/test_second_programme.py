"""A second realistic programme: staff mobility between 48 countries (``programmes/mobility.toml``).

Countries as cities, visits of 1 to 4 days, yearly periods, two cost categories, no quota,
no limit on colleagues away at once, no report rules, none of the optional tables. Its
data set comes from ``clusnet_analysis.sample_mobility`` (about 9,500 visits). Validation
must pass (exit 0) with exactly the planted findings and no word of the bundled programme.
Then each rule's on, off and range form under this programme, on small hand-made frames.
"""
from __future__ import annotations

import json
import re
import tomllib

import pandas as pd
import pytest

from clusnet_analysis import config
from clusnet_analysis.cli import app as cli
from clusnet_analysis.ingest.io import RawTable
from clusnet_analysis.ingest.transforms import exchange_costs, exchanges_view, expenses_eur
from clusnet_analysis.ingest.validation import parse_table
from clusnet_analysis.rules.checks import check_rules, summarise
from clusnet_analysis.rules.programme import load_programme
from clusnet_analysis.sample import CITIES as SAMPLE_CITIES
from clusnet_analysis.sample_mobility import PLANT_COUNTS, PROGRAMME_FILE, generate

MOBILITY = load_programme(PROGRAMME_FILE)


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    """The data set written by `clusnet sample --programme mobility`, then `clusnet validate` on it."""
    root = tmp_path_factory.mktemp("mobility")
    data, out = root / "data", root / "reports" / "validation"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(config, "CACHE_DIR", root / "cache")
        mp.setattr(config, "REPORTS_DIR", root / "reports")
        mp.setenv("CLUSNET_REPORTS_DIR", str(root / "reports"))
        assert cli.main(["sample", "--programme", "mobility", "--out", str(data)]) == 0
        import contextlib
        import io

        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            code = cli.main(["validate", "--data", str(data), "--out", str(out)])
    return dict(data=data, out=out, code=code, stdout=stdout.getvalue(), sample=generate())


def test_the_data_set_has_the_shape_of_the_second_programme(validated):
    data = validated["data"]
    assert sorted(p.name for p in data.iterdir()) == [
        "SYNTHETIC.txt", "cities.csv", "exchanges.csv", "expenses.csv", "fx_rates.csv", "officers.csv",
        "programme.toml"]   # no practices, clusters, assessments or links
    assert (data / "programme.toml").read_bytes() == PROGRAMME_FILE.read_bytes()
    assert "SYNTHETIC DATA" in (data / "SYNTHETIC.txt").read_text(encoding="utf-8")
    cities = pd.read_csv(data / "cities.csv", dtype=str, keep_default_na=False)
    partners = cities[cities["city_id"].isin(MOBILITY.partner_cities)]
    assert len(partners) == len(MOBILITY.partner_cities) == 48
    assert (partners["city_id"] == partners["country"]).all()   # countries as cities, ISO codes
    exchanges = pd.read_csv(data / "exchanges.csv", dtype=str)
    assert 9000 <= len(exchanges) <= 10000
    expenses = pd.read_csv(data / "expenses.csv", dtype=str)
    assert set(expenses["category"]) == {"travel", "accommodation"}
    fx = pd.read_csv(data / "fx_rates.csv", dtype=str)
    foreign = set(expenses["currency"]) - {"EUR"}
    assert len(foreign) >= 20 and foreign <= set(fx["currency"])
    days = (pd.to_datetime(exchanges["end_date"]) - pd.to_datetime(exchanges["start_date"])).dt.days + 1
    long_ = set(exchanges.loc[days > 4, "exchange_id"])
    assert days.min() == 1 and long_ == {s for r, s in validated["sample"].planted if r == "visit_length"}
    assert MOBILITY.period_ids == ("Y2014", "Y2015", "Y2016")
    start = pd.to_datetime(exchanges["start_date"])
    inside = start.between("2014-01-01", "2016-12-31")
    assert start[inside].dt.year.value_counts().min() > 2500   # every year has its visits


def test_the_generator_is_deterministic(validated):
    again = generate()
    for name, frame in validated["sample"].tables.items():
        pd.testing.assert_frame_equal(frame, again.tables[name])
    written = pd.read_csv(validated["data"] / "expenses.csv", dtype=str)
    assert written["expense_id"].tolist() == again.tables["expenses"]["expense_id"].tolist()
    assert generate(seed=7).tables["exchanges"]["host_city"].tolist() != again.tables["exchanges"]["host_city"].tolist()


def test_validate_passes_with_exactly_the_planted_findings(validated):
    assert validated["code"] == 0
    findings = pd.read_csv(validated["out"] / "findings.csv", dtype=str)
    # an officer-level finding is repeated on each of that officer's exchanges; count it once per officer
    findings = findings.drop_duplicates(["rule_id", "subject_id"])
    pairs = list(zip(findings["rule_id"], findings["subject_id"]))
    assert sorted(pairs) == sorted(validated["sample"].planted)
    counts = findings["rule_id"].value_counts().to_dict()
    assert {r: counts[r] for r in PLANT_COUNTS} == PLANT_COUNTS
    assert 1 <= counts["missing_fx_rate"] <= 60   # one month's rate of one currency is missing
    assert set(counts) == set(PLANT_COUNTS) | {"missing_fx_rate"}
    assert "Schema errors: none" in validated["stdout"]
    assert "note:" not in validated["stdout"]   # unused tables are no news


def test_the_summary_says_which_rules_are_off(validated):
    by_rule = pd.read_csv(validated["out"] / "findings_by_rule.csv", dtype=str).set_index("rule_id")
    off = {"officer_quota", "concurrent_absence", "agenda_not_sent", "report_missing", "report_too_long",
           "report_language"}
    assert set(by_rule.index[by_rule["status"] == "off"]) == off
    assert (by_rule.loc[list(off), "findings"] == "0").all()
    assert by_rule.loc["visit_length", "limit"] == "visits of between 1 and 4 days"
    assert by_rule.loc["report_language", "limit"] == "off (`reports.language = false` in the programme file)"
    summary = json.loads((validated["out"] / "summary.json").read_text(encoding="utf-8"))
    assert summary["programme"] == "mobility" and set(summary["rules_off"]) == off
    assert "Rules switched off in the programme file:" in validated["stdout"]
    assert "(`participants.officers_per_city = false`)" in validated["stdout"]


def _bundled_programme_words() -> list[str]:
    """Words only the bundled programme may use: its name, cities, categories, themes, phases."""
    bundled = tomllib.loads(config.DEFAULT_PROGRAMME_FILE.read_text(encoding="utf-8"))
    model = tomllib.loads(config.CLUSTER_MODEL_FILE.read_text(encoding="utf-8"))
    words = ["CLUSNET", "Interreg", "innovation gap", "semester", "hotel"]
    words += [c[0] for c in SAMPLE_CITIES] + [c[1] for c in SAMPLE_CITIES]
    words += [c for c in bundled["expenses"]["categories"]   # "other" is also plain English
              if c not in MOBILITY.expense_categories and c != "other"]
    words += bundled["themes"]["labels"] + [p["name"] for p in model["phases"]]
    return words


def test_no_word_of_the_bundled_programme_in_what_the_user_reads(validated):
    texts = {
        "findings.csv": (validated["out"] / "findings.csv").read_text(encoding="utf-8"),
        "findings_by_rule.csv": (validated["out"] / "findings_by_rule.csv").read_text(encoding="utf-8"),
        "summary.json": (validated["out"] / "summary.json").read_text(encoding="utf-8"),
        "validate output": validated["stdout"],
    }
    words = _bundled_programme_words()
    assert "LYO" in words and "Lyon" in words and "meals" in words and "Initiation" in words
    for name, text in texts.items():
        for word in words:
            # Codes and CLUSNET match as written (the command is called clusnet); words in any case.
            flags = 0 if word.isupper() else re.IGNORECASE
            assert not re.search(rf"\b{re.escape(word)}\b", text, flags=flags), (name, word)


def test_the_sample_command_refuses_a_scale_for_the_second_programme(tmp_path, capsys):
    assert cli.main(["sample", "--programme", "mobility", "--scale", "2", "--out", str(tmp_path / "x")]) == 2
    assert "--scale applies to the bundled programme's sample only" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------------ rules under this programme, by hand
COLUMNS = {
    "cities": ["city_id", "name", "country", "currency"],
    "officers": ["officer_id", "home_city", "employer_type", "name"],
    "exchanges": ["exchange_id", "officer_id", "host_city", "start_date", "end_date", "status",
                  "agenda_sent_date", "report_received_date", "report_pages", "report_language"],
    "expenses": ["expense_id", "exchange_id", "category", "amount", "currency"],
    "fx_rates": ["month", "currency", "units_per_eur"],
}
CITIES = [dict(city_id="AT", name="Austria", country="AT", currency="EUR"),
          dict(city_id="HU", name="Hungary", country="HU", currency="HUF"),
          dict(city_id="US", name="United States", country="US", currency="USD")]
# Six Austrian staff (no quota), one Hungarian.
OFFICERS = ([dict(officer_id=f"A{i}", home_city="AT", employer_type="higher_education", name="N.N.")
             for i in range(1, 7)] + [dict(officer_id="H1", home_city="HU", employer_type="public_body", name="N.N.")])
FX = [dict(month="2015-03", currency="HUF", units_per_eur="300")]


def visit(exchange_id, officer_id="A1", host_city="HU", start="2015-03-02", end="2015-03-03", **extra):
    """A visit without agenda or report (this programme asks for neither)."""
    return dict(exchange_id=exchange_id, officer_id=officer_id, host_city=host_city, start_date=start,
                end_date=end, status="validated", **extra)


def line(expense_id, exchange_id, amount, currency="EUR", category="travel"):
    return dict(expense_id=expense_id, exchange_id=exchange_id, category=category, amount=amount,
                currency=currency)


def check(exchanges, expenses=(), officers=OFFICERS, programme=MOBILITY) -> pd.DataFrame:
    tables = {}
    rows = dict(cities=CITIES, officers=officers, exchanges=exchanges, expenses=list(expenses), fx_rates=FX)
    for name, columns in COLUMNS.items():
        frame = pd.DataFrame([[r.get(c, "") for c in columns] for r in rows[name]], columns=columns, dtype="str")
        frame = frame.where(frame != "")
        frame.index = pd.RangeIndex(2, 2 + len(frame))
        typed, errors, missing = parse_table(RawTable(name, f"{name}.csv", frame))
        assert not errors and not missing, (name, errors)
        tables[name] = typed
    view = exchanges_view(tables, programme)
    exp = expenses_eur(tables, programme, view)
    return check_rules(tables, programme, view, exp, exchange_costs(tables, programme, view, exp))


def pairs(findings):
    return list(zip(findings["rule_id"], findings["subject_id"]))


def test_visit_length_is_a_range_of_1_to_4_days():
    # 1 day (same start and end) and 4 days are the edges; 5 days is one too many.
    assert pairs(check([visit("V1", end="2015-03-02"), visit("V2", "A2", end="2015-03-05")])) == []
    f = check([visit("V1", end="2015-03-06")])
    assert pairs(f) == [("visit_length", "V1")]
    assert f["message"].iat[0] == "visit of 5 days; the programme's visits last between 1 and 4 days"
    assert f["limit"].iat[0] == "1..4"


def test_the_cap_is_on():
    assert pairs(check([visit("V1")], [line("E1", "V1", "1000"), line("E2", "V1", "150000", "HUF",
                                                                        "accommodation")])) == []   # 1,500.00
    f = check([visit("V1")], [line("E1", "V1", "1000.01"), line("E2", "V1", "150000", "HUF", "accommodation")])
    assert pairs(f) == [("over_cap", "V1")]
    assert f["message"].iat[0] == "costs 1,500.01 EUR, more than the cap of 1,500 EUR per exchange (0.01 EUR over)"


def test_no_officer_quota_and_any_number_away_at_once():
    # All six Austrian staff away on the same two days: neither rule exists in this programme.
    six = [visit(f"V{i}", f"A{i}") for i in range(1, 7)]
    assert pairs(check(six)) == []
    s = summarise(check(six), MOBILITY).set_index("rule_id")
    assert s.loc[["officer_quota", "concurrent_absence"], "status"].tolist() == ["off", "off"]


def test_the_report_rules_are_off():
    # No agenda, no report; a report of 40 pages in German: nothing to say under this programme.
    f = check([visit("V1"), visit("V2", "A2", report_received_date="2015-04-01", report_pages="40",
                                  report_language="de")])
    assert pairs(f) == []
    s = summarise(f, MOBILITY).set_index("rule_id")
    assert s.loc[["agenda_not_sent", "report_missing", "report_too_long", "report_language"], "status"].tolist() == [
        "off"] * 4


def test_the_rules_that_stay_on():
    f = check([visit("V1", host_city="US"), visit("V2", "A2", host_city="AT"),
               visit("V3", "A3", start="2017-01-09", end="2017-01-10"),
               visit("V4", "A4", start="2015-04-06", end="2015-04-07")],
              [line("E1", "V4", "30000", "HUF", "accommodation")],   # no HUF rate for April 2015
              officers=OFFICERS + [dict(officer_id="C1", home_city="AT", employer_type="enterprise", name="N.N.")])
    assert pairs(f) == [("outside_window", "V3"), ("ineligible_employer", "C1"), ("home_is_host", "V2"),
                        ("not_partner_city", "V1"), ("missing_fx_rate", "E1")]
    assert f.set_index("rule_id").loc["ineligible_employer", "message"] == (
        "employer type 'enterprise' is not eligible (allowed: higher_education, public_body)")


# ------------------------------------------------------------------ reports left out
def test_areas_without_their_tables_are_left_out_with_a_reason():
    from clusnet_analysis.sections import AREAS, areas_left_out

    left_out = areas_left_out(load_programme(PROGRAMME_FILE))
    assert left_out == {
        "practices": "not built: the programme file does not use the practices table",
        "phases": "not built: the programme file does not use the clusters table and the assessments table",
        "links": "not built: the programme file does not use the clusters table and the links table",
    }
    assert areas_left_out(load_programme(config.DEFAULT_PROGRAMME_FILE)) == {}
    assert set(AREAS) - set(left_out) == {"data_quality", "cross_city", "budget"}


def test_the_plan_leaves_those_notebooks_out_and_the_index_says_why(tmp_path):
    from clusnet_analysis.cli.run import site_for
    from clusnet_analysis.publish.batch import plan_batch
    from clusnet_analysis.publish.html import period_index_html
    from clusnet_analysis.publish.plan import _prepare

    data = tmp_path / "data"
    assert cli.main(["sample", "--programme", "mobility", "--out", str(data)]) == 0
    site = site_for(load_programme(PROGRAMME_FILE))
    notebooks = config.PROJ_ROOT / "notebooks"
    planned = plan_batch(["Y2014"], data, notebooks, tmp_path / "reports", site=site)
    assert [name for _, name in planned] == ["01_data_quality", "02_cross_city", "03_budget", "07_synthesis"]
    plan = _prepare(["Y2014"], data, notebooks, tmp_path / "reports", None, None, None, None, site)
    assert sorted(plan.left_out) == ["04_best_practices", "05_cluster_phases", "06_cluster_links"]
    page = period_index_html("Y2014", [], site=site,
                             left_out=[(plan.title_of("Y2014", n), r) for n, r in plan.left_out.items()])
    assert ('<li class="left-out">Best practices <span class="note">– not built: the programme file does not '
            'use the practices table</span></li>') in page
    # the bundled programme leaves nothing out
    full = _prepare(["S3"], config.SAMPLE_DATA_DIR, notebooks, tmp_path / "r2", None, None, None, None,
                    site_for(load_programme(config.DEFAULT_PROGRAMME_FILE)))
    assert full.left_out == {} and len(full.tasks) == 7
