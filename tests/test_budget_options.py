"""Budget keys of the programme file: programme budget, allocations, conversion month, extra ineligible rules."""
from __future__ import annotations

import dataclasses

import pytest

from clusnet_analysis import config
from clusnet_analysis.rules.programme import (ProgrammeError, city_allocations, ineligible_rules, load_programme,
                                              programme_budget)

BUNDLED = config.DEFAULT_PROGRAMME_FILE.read_text(encoding="utf-8")


def programme_with(tmp_path, budget: str = "", tail: str = ""):
    """The bundled CLUSNET file with lines added to [budget] and tables added at the end."""
    text = BUNDLED.replace("[budget]\n", "[budget]\n" + budget + "\n", 1) + "\n" + tail
    path = tmp_path / "programme.toml"
    path.write_text(text, encoding="utf-8")
    return load_programme(path)


def test_defaults_derive_allocations_and_budget():
    p = load_programme()
    assert (p.programme_budget_eur, p.allocation_eur, p.conversion_month, p.extra_ineligible_rules) == (
        None, {}, "start_date", ())
    # officers_per_city x cap = 3 x 1,550 for each of the 10 partner cities; STO has none
    assert city_allocations(p) == {c: 4650.0 for c in p.partner_cities}
    assert "STO" not in city_allocations(p)
    assert programme_budget(p) == 46500.0
    assert ineligible_rules(p) == ("outside_window", "not_partner_city", "home_is_host", "ineligible_employer")


def test_written_values(tmp_path):
    p = programme_with(tmp_path, budget='programme_budget_eur = 50000\nconversion_month = "validated_on"',
                       tail='[budget.allocation_eur]\nLYO = 6000\nBUD = 3000.5\n\n'
                            '[eligibility]\nextra_ineligible_rules = ["visit_length", "home_is_host"]\n')
    assert p.programme_budget_eur == 50000.0 and programme_budget(p) == 50000.0
    allocations = city_allocations(p)
    assert (allocations["LYO"], allocations["BUD"], allocations["BCN"]) == (6000.0, 3000.5, 4650.0)
    assert p.conversion_month == "validated_on"
    # a rule that is always one is not repeated
    assert p.extra_ineligible_rules == ("visit_length",)
    assert ineligible_rules(p)[-1] == "visit_length"


def test_budget_defaults_to_the_sum_of_allocations(tmp_path):
    p = programme_with(tmp_path, tail="[budget.allocation_eur]\nLYO = 1000\n")
    assert programme_budget(p) == 1000 + 9 * 4650


def test_no_quota_means_no_derived_allocation():
    p = dataclasses.replace(load_programme(), officers_per_city=False)
    assert city_allocations(p) == {} and programme_budget(p) is None
    p = dataclasses.replace(p, allocation_eur={"HEL": 2000.0})
    assert city_allocations(p) == {"HEL": 2000.0} and programme_budget(p) == 2000.0
    assert city_allocations(dataclasses.replace(load_programme(), cap_eur=None)) == {}


@pytest.mark.parametrize("budget, tail, message", [
    ("programme_budget_eur = -1", "", r"budget.programme_budget_eur: must be more than 0, not -1"),
    ("programme_budget_eur = 0", "", r"budget.programme_budget_eur: must be more than 0"),
    ('programme_budget_eur = "lots"', "", r"\[budget.programme_budget_eur\] = 'lots' is not a number"),
    ("", "[budget.allocation_eur]\nSTO = 1000\n",
     r"budget.allocation_eur.STO: STO is not a partner city .*only partner cities have allocations"),
    ("", "[budget.allocation_eur]\nLYO = -5\n", r"budget.allocation_eur.LYO: an allocation cannot be negative"),
    ("allocation_eur = 5", "", r"budget.allocation_eur: must be a table of partner city = amount in EUR"),
    ("conversion_month = 3", "", r"budget.conversion_month: must be \"start_date\" or the name of a date column"),
    ("", '[eligibility]\nextra_ineligible_rules = ["visit_lenght"]\n',
     r"eligibility.extra_ineligible_rules: unknown rule 'visit_lenght'"),
    ("", '[eligibility]\nextra_ineligible_rules = ["over_cap"]\n',
     r"over_cap cannot make an exchange ineligible: going over the cap only limits what is reimbursed"),
    ("", '[eligibility]\nextra_ineligible_rules = ["missing_fx_rate"]\n', r"leaves its exchange pending"),
    ("", '[eligibility]\nextra_ineligible_rules = ["officer_quota"]\n',
     r"officer_quota is about a city, not an exchange"),
    ("", '[eligibility]\nextra_ineligible_rules = "visit_length"\n', r"must be a list of rule ids"),
])
def test_wrong_values_are_refused_naming_the_key(tmp_path, budget, tail, message):
    with pytest.raises(ProgrammeError, match=message) as err:
        programme_with(tmp_path, budget=budget, tail=tail)
    assert str(err.value).startswith(str(tmp_path / "programme.toml") + ": ")


# ---------------------------------------------------------------- the conversion month in the data
def _converted(programme, **columns):
    from clusnet_testdata import exchange, expense
    from test_rules import typed_tables

    from clusnet_analysis.ingest.transforms import exchange_costs, exchanges_view, expenses_eur

    tables = typed_tables(exchanges=[exchange(officer_id="O4")], expenses=[expense("E1", "X1", "travel", "90", "GBP")])
    for name, value in columns.items():
        tables["exchanges"][name] = value          # an extra column, as text, the way validation keeps it
    view = exchanges_view(tables, programme)
    lines = expenses_eur(tables, programme, view)
    return lines, exchange_costs(tables, programme, view, lines)


def test_an_extra_date_column_sets_the_month():
    by_claim = dataclasses.replace(load_programme(), conversion_month="claimed_on")
    lines, costs = _converted(by_claim, claimed_on="28.09.2009")        # 2009-09 has a GBP rate of 0.9
    assert (lines["month"].iat[0], lines["amount_eur"].iat[0]) == ("2009-09", 100.0)
    lines, costs = _converted(by_claim, claimed_on="2009-10-02")        # no GBP rate for 2009-10
    assert lines["month"].iat[0] == "2009-10" and costs["unconverted_lines"].iat[0] == 1
    lines, costs = _converted(by_claim, claimed_on="not a date")        # no month: not converted
    assert lines["month"].isna().iat[0] and costs["unconverted_lines"].iat[0] == 1


def test_a_missing_conversion_column_is_an_input_error():
    from clusnet_analysis.ingest.io import InputError

    with pytest.raises(InputError, match=r"budget.conversion_month: the exchanges table has no column 'claimed_on'"):
        _converted(dataclasses.replace(load_programme(), conversion_month="claimed_on"))
