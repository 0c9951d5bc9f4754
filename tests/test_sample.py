"""The synthetic sample: deterministic, complete, and broken exactly where planned."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from clusnet_analysis import sample
from clusnet_analysis.rules.programme import load_cluster_model, load_programme
from clusnet_analysis.sample import PLANTED_FINDINGS, generate_tables, write_sample
from clusnet_testdata import COLUMNS

CONTRACT_COLUMNS = COLUMNS   # the hand-written contract the tests share
REPLICATED = ("officers", "exchanges", "expenses", "practices", "links")


@pytest.fixture(scope="module")
def tables():
    return generate_tables()


@pytest.fixture(scope="module")
def programme():
    return load_programme()


def _read(directory, name, like: pd.DataFrame) -> pd.DataFrame:
    return pd.read_csv(directory / f"{name}.csv", dtype=dict(like.dtypes), keep_default_na=True)


# ------------------------------------------------------------------ writing
def test_write_is_byte_identical_across_runs(tmp_path):
    first = write_sample(tmp_path / "a")
    second = write_sample(tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second] == [
        "cities.csv", "officers.csv", "exchanges.csv", "expenses.csv", "fx_rates.csv",
        "clusters.csv", "assessments.csv", "practices.csv", "links.csv", "SYNTHETIC.txt"]
    for a, b in zip(first, second):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_csv_format(tmp_path):
    write_sample(tmp_path)
    raw = (tmp_path / "practices.csv").read_bytes()
    assert b"\r" not in raw
    assert raw.startswith(b"practice_id,exchange_id,title,")
    assert b'"R&D ""open lab"" vouchers"' in raw
    assert "Jürgen Weiß".encode("utf-8") in (tmp_path / "officers.csv").read_bytes()
    note = (tmp_path / "SYNTHETIC.txt").read_text(encoding="utf-8")
    assert "clusnet_analysis.sample" in note and "seed: 2009" in note and "scale: 1" in note
    assert "fictional" in note


def test_scale_1_reads_back_as_the_base_sample(tmp_path, tables):
    write_sample(tmp_path, scale=1)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(_read(tmp_path, name, frame), frame, obj=name)


def test_scale_3_replicates_with_suffixed_ids(tmp_path, tables):
    write_sample(tmp_path, scale=3)
    read = {name: _read(tmp_path, name, frame) for name, frame in tables.items()}
    for name in ("cities", "fx_rates", "clusters", "assessments"):
        pd.testing.assert_frame_equal(read[name], tables[name], obj=name)
    for name in REPLICATED:
        assert len(read[name]) == 3 * len(tables[name]), name
        id_column = sample.REPLICATED_ID_COLUMNS[name][0]
        assert read[name][id_column].is_unique, name
    assert len(read["exchanges"]) == 93 and len(read["expenses"]) == 3 * 138

    exchanges, officers = read["exchanges"], read["officers"]
    assert exchanges.loc[16, "exchange_id"] == "X017-000000"
    assert exchanges.loc[31 + 16, "exchange_id"] == "X017-000001"
    assert exchanges.loc[31 + 16, "officer_id"] == "O20-000001"
    assert set(exchanges["officer_id"]) <= set(officers["officer_id"])
    assert set(read["expenses"]["exchange_id"]) == set(exchanges["exchange_id"])
    assert set(read["practices"]["exchange_id"]) <= set(exchanges["exchange_id"])
    assert set(read["links"]["exchange_id"].dropna()) <= set(exchanges["exchange_id"])
    # Each copy keeps its own group visit; suffix follows the copy of the exchange.
    groups = exchanges.dropna(subset=["group_visit_id"])
    assert sorted(groups["group_visit_id"].value_counts().to_dict().items()) == [
        ("G01-000000", 3), ("G01-000001", 3), ("G01-000002", 3)]
    assert (groups["exchange_id"].str[-7:] == groups["group_visit_id"].str[-7:]).all()
    # Copy suffix of a referencing row matches the referenced row.
    merged = read["expenses"].merge(exchanges, on="exchange_id")
    assert (merged["expense_id"].str[-7:] == merged["officer_id"].str[-7:]).all()
    # Everything except the ids is the base sample repeated.
    base = tables["expenses"].drop(columns=["expense_id", "exchange_id"])
    again = read["expenses"].drop(columns=["expense_id", "exchange_id"]).iloc[2 * 138:]
    pd.testing.assert_frame_equal(again.reset_index(drop=True), base)


@pytest.mark.parametrize("scale", [0, -1, 2.5, "3"])
def test_scale_must_be_a_whole_number_of_at_least_1(tmp_path, scale):
    with pytest.raises(ValueError, match="scale must be a whole number of at least 1"):
        write_sample(tmp_path, scale=scale)
    assert not list(tmp_path.iterdir())


def test_seed_changes_values_not_planted_structure(tables):
    other = generate_tables(seed=7)
    assert not other["expenses"]["amount"].equals(tables["expenses"]["amount"])
    for name in ("cities", "officers", "fx_rates", "clusters"):
        pd.testing.assert_frame_equal(other[name], tables[name])
    # Every planted breach holds for any seed. Being over an allocation depends on the amounts:
    # with seed 2009 Lyon and Eindhoven are over; another seed may put either of them (the
    # only cities with four exchanges) over or not, but no other city.
    found = _rule_findings(other, load_programme())
    assert [f for f in found if f[0] != "over_allocation"] == sorted(
        f for f in PLANTED_FINDINGS if f[0] != "over_allocation")
    assert {s for r, s in found if r == "over_allocation"} <= {"LYO", "EIN"}


# ------------------------------------------------------------------ content
def test_columns_are_the_contract(tables):
    assert list(tables) == list(CONTRACT_COLUMNS)
    for name, columns in CONTRACT_COLUMNS.items():
        assert list(tables[name].columns) == columns, name


def test_sizes(tables):
    assert {name: len(frame) for name, frame in tables.items()} == {
        "cities": 11, "officers": 31, "exchanges": 31, "expenses": 138, "fx_rates": 89,
        "clusters": 31, "assessments": 2 * 31 * 27, "practices": 74, "links": 25}


def test_officers_per_city(tables, programme):
    counts = tables["officers"]["home_city"].value_counts()
    assert counts.max() == 4 and counts["EIN"] == 4
    assert set(counts.index) == set(programme.partner_cities)
    assert (counts.drop("EIN") == 3).all()
    employers = tables["officers"].set_index("officer_id")["employer_type"]
    assert employers[employers != "city"].to_dict() == {"O12": "university"}
    assert counts["DTM"] == 3


def test_cities(tables, programme):
    cities = tables["cities"].set_index("city_id")
    assert list(cities.index) == list(programme.partner_cities) + ["STO"]
    assert cities.loc["STO", "currency"] == "SEK"
    assert cities["currency"].to_dict() == {
        "LYO": "EUR", "BCN": "EUR", "MUC": "EUR", "DTM": "EUR", "LEJ": "EUR", "MAN": "GBP",
        "HEL": "EUR", "BUD": "HUF", "GOT": "SEK", "EIN": "EUR", "STO": "SEK"}


def test_fx_rates_have_one_planted_gap(tables):
    fx = tables["fx_rates"]
    assert set(fx["currency"]) == {"GBP", "HUF", "SEK"}
    months = fx.groupby("currency")["month"].agg(list)
    assert len(months["GBP"]) == len(months["HUF"]) == 30 and len(months["SEK"]) == 29
    assert "2010-03" not in months["SEK"] and "2010-03" in months["GBP"]
    assert months["GBP"][0] == "2009-01" and months["GBP"][-1] == "2011-06"
    ranges = fx.groupby("currency")["units_per_eur"].agg(["min", "max"])
    assert 0.84 <= ranges.loc["GBP", "min"] and ranges.loc["GBP", "max"] <= 0.92
    assert 265 <= ranges.loc["HUF", "min"] and ranges.loc["HUF", "max"] <= 295
    assert 9.0 <= ranges.loc["SEK", "min"] and ranges.loc["SEK", "max"] <= 11.0


def test_exchange_schedule(tables, programme):
    ex = tables["exchanges"]
    assert ex["status"].value_counts().to_dict() == {"validated": 25, "submitted": 4, "draft": 2}
    starts = pd.to_datetime(ex["start_date"])
    ends = pd.to_datetime(ex["end_date"])
    # Mondays, except the planted overlapping start.
    assert list(ex.loc[starts.dt.day_of_week != 0, "exchange_id"]) == ["X016"]
    assert list(ex.loc[(ends - starts).dt.days != 4, "exchange_id"]) == ["X018"]
    periods = ex["start_date"].str[:7]
    assert (periods.between("2009-07", "2010-12") | (ex["exchange_id"] == "X031")).all()
    group = ex[ex["group_visit_id"] == "G01"].merge(tables["officers"], on="officer_id")
    assert len(group) == 3 and group["home_city"].nunique() == 3
    assert group["host_city"].nunique() == 1 and group["start_date"].nunique() == 1
    drafts = ex[ex["status"] == "draft"]
    assert drafts[["report_received_date", "report_pages", "report_language"]].isna().all().all()


def test_expense_totals_stay_in_a_plausible_range(tables):
    costs = _exchange_totals_eur(tables)
    assert costs.idxmax() == "X022" and costs["X022"] == pytest.approx(1720.0)
    others = costs.drop("X022")
    assert others.min() > 1000 and others.max() < 1500
    expenses = tables["expenses"]
    assert set(expenses["category"]) == {"travel", "accommodation", "meals", "local_transport",
                                          "insurance"}
    home_currency = (tables["exchanges"].merge(tables["officers"], on="officer_id")
                     .merge(tables["cities"], left_on="home_city", right_on="city_id")
                     .set_index("exchange_id")["currency"])
    other_currency = expenses[expenses["currency"] != expenses["exchange_id"].map(home_currency)]
    assert list(other_currency["expense_id"]) == ["E0063"]
    huf = expenses.loc[expenses["currency"] == "HUF", "amount"]
    assert (huf == huf.round()).all()


def test_host_price_level_shows_in_accommodation(tables):
    lines = tables["expenses"].merge(tables["exchanges"], on="exchange_id")
    lines = lines[(lines["category"] == "accommodation") & (lines["currency"] == "EUR")]
    per_night = (lines.groupby("host_city")["amount"].sum()
                 / lines.groupby("host_city")["quantity"].sum())
    assert per_night["MUC"] > per_night["BCN"] > per_night["BUD"]
    assert per_night["HEL"] > per_night["LEJ"]


def test_references_resolve(tables):
    officers = set(tables["officers"]["officer_id"])
    exchanges = tables["exchanges"]
    assert set(exchanges["officer_id"]) <= officers
    assert set(exchanges["host_city"]) <= set(tables["cities"]["city_id"])
    assert set(tables["expenses"]["exchange_id"]) == set(exchanges["exchange_id"])
    practices = tables["practices"].merge(exchanges, on="exchange_id")
    assert len(practices) == len(tables["practices"])
    assert "draft" not in set(practices["status"])
    assert practices.groupby("exchange_id").size().between(1, 4).all()
    clusters = tables["clusters"].set_index("cluster_id")["city"]
    with_cluster = practices.dropna(subset=["cluster_id"])
    assert (with_cluster["cluster_id"].map(clusters) == with_cluster["host_city"]).all()
    assert set(tables["practices"]["theme"]) <= set(load_programme().themes)
    assert set(tables["practices"]["phase"].dropna()) <= set(load_cluster_model().phase_ids)
    assert tables["practices"]["transferability"].between(1, 5).all()
    assert clusters.groupby(clusters).size().between(2, 4).all()


def test_practices_for_the_synthesis(tables):
    practices = tables["practices"].merge(tables["exchanges"], on="exchange_id")
    shared = practices[practices["title"] == "Joint cluster-management training academy"]
    assert set(shared.loc[shared["host_city"] == "MUC", "exchange_id"]) >= {"X010", "X011"}
    assert (practices["title"] == 'R&D "open lab" vouchers').sum() == 1
    assert not practices["title"].str.contains("<").any()
    # Uneven theme coverage: no two host cities have the same theme mix.
    mix = practices.groupby("host_city")["theme"].agg(lambda t: tuple(sorted(set(t))))
    assert mix.nunique() > 5


def test_links(tables):
    links = tables["links"].merge(tables["exchanges"], on="exchange_id", how="left")
    links = links.merge(tables["officers"][["officer_id", "home_city"]], on="officer_id", how="left")
    city = tables["clusters"].set_index("cluster_id")["city"]
    assert len(links) == 25 and links["exchange_id"].isna().sum() == 3
    assert set(links["kind"]) <= {"contact", "follow_up_visit", "joint_project", "other"}
    tied = links.dropna(subset=["exchange_id"])
    assert (tied["from_cluster"].map(city) == tied["home_city"]).all()
    assert (tied["to_cluster"].map(city) == tied["host_city"]).all()
    assert (tied["created_on"] > tied["end_date"]).all()
    assert (links["from_cluster"].map(city) != links["to_cluster"].map(city)).all()


def test_assessments_cover_every_criterion_twice(tables):
    model = load_cluster_model()
    assessments = tables["assessments"]
    per_cluster = assessments.groupby(["cluster_id", assessments["assessed_on"].str[:4]])
    assert per_cluster.size().eq(27).all() and per_cluster.ngroups == 2 * 31
    assert (per_cluster["criterion_id"].agg(lambda c: tuple(c)) == model.criterion_ids).all()
    assert set(assessments["score"]) == {0, 1, 2}
    names = set(tables["officers"]["name"])
    assert not set(assessments["assessor"]) & names
    assert set(assessments["assessor"]) == {"SU research team", "regional assessor"}
    assert assessments["evidence"].notna().any()


def test_assessment_phases_are_coherent_and_one_cluster_moves_down(tables):
    placed = _placements(tables["assessments"], criterion_met=lambda s: s == 2)
    by_points = _placements(tables["assessments"], criterion_met=None)
    pd.testing.assert_frame_equal(placed, by_points)  # same on both readings of 80 %
    order = {p: i for i, p in enumerate(load_cluster_model().phase_ids)}
    move = placed["2010"].map(order) - placed["2009"].map(order)
    assert move.between(-1, 1).all()
    assert (move == -1).sum() >= 1 and (move == 0).sum() > 5 and (move == 1).sum() > 5


# -------------------------------------------------- planted rule breaches
def test_planted_findings_are_exactly_the_breaches(tables, programme):
    assert len(PLANTED_FINDINGS) == len(set(PLANTED_FINDINGS)) == 17
    assert _rule_findings(tables, programme) == sorted(PLANTED_FINDINGS)


def test_planted_findings_constant():
    repeated = ("draft_excluded", "over_allocation")
    assert dict((rule, subject) for rule, subject in PLANTED_FINDINGS if rule not in repeated) == {
        "over_cap": "X022", "outside_window": "X031", "officer_quota": "EIN",
        "ineligible_employer": "O12", "concurrent_absence": "X016", "home_is_host": "X017",
        "visit_length": "X018", "agenda_not_sent": "X005", "report_missing": "X026",
        "report_too_long": "X024", "report_language": "X001", "missing_fx_rate": "E0063",
        "not_partner_city": "X027"}
    assert [s for r, s in PLANTED_FINDINGS if r == "draft_excluded"] == ["X029", "X030"]
    assert [s for r, s in PLANTED_FINDINGS if r == "over_allocation"] == ["LYO", "EIN"]


# ----------------------------------------------------------------- helpers
def _exchange_totals_eur(tables) -> pd.Series:
    lines = tables["expenses"].merge(tables["exchanges"][["exchange_id", "start_date"]],
                                     on="exchange_id")
    lines["month"] = lines["start_date"].str[:7]
    lines = lines.merge(tables["fx_rates"], on=["month", "currency"], how="left")
    lines.loc[lines["currency"] == "EUR", "units_per_eur"] = 1.0
    return (lines["amount"] / lines["units_per_eur"]).groupby(lines["exchange_id"]).sum()


def _placements(assessments, criterion_met) -> pd.DataFrame:
    """Phase per cluster and year: the first phase below the 80 % threshold."""
    model = load_cluster_model()
    phase_of = {c.id: c.phase for c in model.criteria}
    a = assessments.assign(phase=assessments["criterion_id"].map(phase_of),
                           year=assessments["assessed_on"].str[:4])
    if criterion_met is None:
        a["share"] = a["score"].astype(float) / model.max_score
    else:
        a["share"] = criterion_met(a["score"]).astype(float)
    share = a.groupby(["cluster_id", "year", "phase"])["share"].mean()
    placed = {}
    for (cluster_id, year), phases in share.groupby(level=[0, 1]):
        phases = phases.droplevel([0, 1])
        placed[(cluster_id, year)] = next(p for p in model.phase_ids if phases[p] < 0.8)
    return pd.Series(placed).unstack()


def _rule_findings(tables, programme) -> list[tuple[str, str]]:
    """A plain re-reading of the programme rules, to pin down the planted breaches."""
    found = []
    officers = tables["officers"]
    ex = tables["exchanges"].merge(officers[["officer_id", "home_city"]], on="officer_id")
    for draft in ex.loc[ex["status"] == "draft", "exchange_id"]:
        found.append(("draft_excluded", draft))
    ex = ex[ex["status"] != "draft"]
    start = pd.to_datetime(ex["start_date"])
    end = pd.to_datetime(ex["end_date"])
    window = (pd.Timestamp(programme.window_start), pd.Timestamp(programme.window_end))

    def add(rule, mask, frame=ex, column="exchange_id"):
        found.extend((rule, subject) for subject in frame.loc[mask, column])

    add("outside_window", (start < window[0]) | (start > window[1]))
    add("home_is_host", ex["home_city"] == ex["host_city"])
    add("not_partner_city", ~ex["host_city"].isin(programme.partner_cities))
    add("visit_length", (end - start).dt.days + 1 != programme.visit_days)
    agenda = pd.to_datetime(ex["agenda_sent_date"])
    add("agenda_not_sent", agenda.isna() | (agenda >= start))
    add("report_missing", ex["report_received_date"].isna())
    add("report_too_long", ex["report_pages"].fillna(0) > programme.report_max_pages)
    add("report_language", ex["report_language"].notna()
        & (ex["report_language"] != programme.report_language))
    for _city, trips in ex.assign(start=start, end=end).sort_values("start").groupby("home_city"):
        rows = list(trips.itertuples())
        for i, later in enumerate(rows):
            if any(earlier.end >= later.start for earlier in rows[:i]):
                found.append(("concurrent_absence", later.exchange_id))
    counts = officers["home_city"].value_counts()
    found.extend(("officer_quota", c) for c in counts.index[counts > programme.officers_per_city])
    add("ineligible_employer", ~officers["employer_type"].isin(programme.eligible_employer_types),
        officers, "officer_id")

    lines = tables["expenses"].merge(ex[["exchange_id", "start_date"]], on="exchange_id")
    lines["month"] = lines["start_date"].str[:7]
    lines = lines.merge(tables["fx_rates"], on=["month", "currency"], how="left")
    lines.loc[lines["currency"] == programme.currency, "units_per_eur"] = 1.0
    add("missing_fx_rate", lines["units_per_eur"].isna(), lines, "expense_id")
    totals = (lines["amount"] / lines["units_per_eur"]).groupby(lines["exchange_id"]).sum()
    found.extend(("over_cap", x) for x in totals.index[totals > programme.cap_eur])
    # Eligible spend per home city (not outside the window, partner host, not at home, eligible
    # employer) against officers_per_city x cap.
    employer = ex["officer_id"].map(officers.set_index("officer_id")["employer_type"])
    eligible = ex[(start >= window[0]) & (end <= window[1]) & ex["host_city"].isin(programme.partner_cities)
                  & (ex["home_city"] != ex["host_city"]) & employer.isin(programme.eligible_employer_types)]
    spend = eligible["exchange_id"].map(totals.round(2)).fillna(0).groupby(eligible["home_city"]).sum()
    found.extend(("over_allocation", c) for c in spend.index[spend > programme.officers_per_city * programme.cap_eur])
    assert dt.date.fromisoformat(tables["exchanges"]["start_date"].min()) >= programme.window_start
    return sorted(found)
