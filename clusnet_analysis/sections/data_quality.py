"""Data quality: rows read and set aside, schema errors, programme-rule findings, drafts."""
from __future__ import annotations

import pandas as pd

from clusnet_analysis.privacy import hide_personal_values, without_personal_data
from clusnet_analysis.rules.checks import RULES
from clusnet_analysis.sections.base import Section, Table
from clusnet_analysis.sections.common import numbers, per_scope, plural, snapshot_number
from clusnet_analysis.sections.labels import humanise_values, value_label
from clusnet_analysis.sections.view import PeriodView

TITLE = "Data quality"
FINDING_COLUMNS = ["rule_id", "severity", "exchange_id", "home_city", "period", "message"]


def rule_title(rule_id: str) -> str:
    """A rule's short name in words: ``over_cap`` -> "Over cap"."""
    text = value_label(rule_id)
    return text[:1].upper() + text[1:]


def findings_by_rule(view: PeriodView, findings: pd.DataFrame) -> pd.DataFrame:
    """Every rule (zero where nothing was found) with its findings per scope and in the snapshot."""
    rows = pd.DataFrame({"rule_id": [r.id for r in RULES], "severity": [r.severity for r in RULES],
                         "description": [r.description for r in RULES]})
    about_exchange = findings["exchange_id"].notna()
    for scope in view.scopes:
        counts = scope.select(findings.loc[about_exchange])
        rows[scope.label] = counts["rule_id"].value_counts().reindex(rows["rule_id"], fill_value=0).to_numpy()
    rows["About an officer or a city"] = (findings.loc[~about_exchange, "rule_id"]
                                          .value_counts().reindex(rows["rule_id"], fill_value=0).to_numpy())
    rows["rule_id"] = rows["rule_id"].map(rule_title)
    return rows.rename(columns={"description": "what_it_checks"})


def data_quality(view: PeriodView) -> Section:
    ds = view.ds
    section = Section("data_quality", TITLE, view.period)
    findings = view.findings
    exchange_findings = findings.loc[findings["rule_id"] != "draft_excluded"]
    section.key_numbers += [
        snapshot_number(view, "schema_errors", "Schema errors in the files", "errors", ds.error_count),
        snapshot_number(view, "rows_quarantined", "Rows set aside", "rows", ds.quarantined_count),
        snapshot_number(view, "findings", "Programme-rule findings", "findings", len(exchange_findings)),
        snapshot_number(view, "drafts", "Draft exchanges (not counted)", "exchanges", len(view.drafts)),
    ]
    section.key_numbers += numbers(view, "findings_dated", "Findings about exchanges", "findings",
                                   per_scope(view, exchange_findings.loc[exchange_findings["exchange_id"].notna()],
                                             len))

    summary = humanise_values(ds.table_summary(), coded=("table",))
    section.tables.append(Table("rows_read", "Rows read per input table (all the files as delivered)", summary,
                                note="Quarantined rows stay out of every figure until the city sends a "
                                     "corrected file."))
    errors = ds.errors if ds.show_names else hide_personal_values(ds.errors)
    section.tables.append(Table("schema_errors", "Schema errors (one line per problem; the header is row 1)",
                                errors.loc[:, ["file", "row", "column", "value", "problem"]]))
    for table, rows in sorted(ds.quarantine.items()):
        shown = rows if ds.show_names else without_personal_data(rows)
        section.tables.append(Table(f"quarantine_{table}", f"Rows set aside from {table} ({len(rows)})",
                                    shown.reset_index()))
    by_rule = findings_by_rule(view, exchange_findings)
    t = Table("findings_by_rule", "Findings per programme rule", by_rule,
              note="error: breaks a programme rule · warning: needs a look · info: for the record. "
                   "Counts by the period the visit started in.")
    scope_cols = [s.label for s in view.scopes]
    for column in (scope_cols[-1], "About an officer or a city"):
        t.highlight(column, (by_rule[column] > 0) & (by_rule["severity"] == "error"),
                    "rule broken", "an error-level rule is broken by at least one record")
    section.tables.append(t)
    listed = humanise_values(exchange_findings.loc[:, FINDING_COLUMNS], {"rule_id": {r.id: rule_title(r.id)
                                                                                     for r in RULES}})
    section.tables.append(Table("findings", "Every finding" + ("" if view.is_final else
                                                              f" (records up to the end of {view.period})"),
                                listed.reset_index(drop=True)))
    drafts = view.drafts.loc[:, ["exchange_id", "officer_pseudonym", "home_city", "host_city", "start_date",
                                 "end_date", "period"]]
    section.tables.append(Table("drafts", "Draft exchanges: listed, not counted", drafts.reset_index(drop=True),
                                note="Statuses are today's, not those at the end of the period."))
    section.readings.append(
        f"{plural(ds.error_count, 'schema error')} in the files; {plural(ds.quarantined_count, 'row')} set aside. "
        f"{plural(len(exchange_findings), 'programme-rule finding')} about the records "
        + ("of the whole programme" if view.is_final else f"up to the end of {view.period}")
        + f"; {plural(len(view.drafts), 'draft exchange')} listed but not counted.")
    _exchange_report_findings(view, section)
    return section


def _exchange_report_findings(view: PeriodView, section: Section) -> None:
    """The last check of the received exchange reports (``clusnet check-reports``), when there is one.

    Findings about an exchange follow the period of its visit, like every other finding; a report
    that matches no exchange has no date, so only the final report lists it.
    """
    from clusnet_analysis.exchange_reports import load_exchange_report_findings
    from clusnet_analysis.exchange_reports.check import RULES_BY_ID

    checked = load_exchange_report_findings(view.reports_dir)
    if checked is None:
        section.readings.append("The received exchange reports have not been checked yet, so their findings "
                                "(missing sections, length, language) are not in this report.")
        return
    about_exchange = checked["exchange_id"].notna()
    last = view.scopes[-1]
    shown = pd.concat([last.select(checked.loc[about_exchange]),
                       checked.loc[~about_exchange] if view.is_final else checked.iloc[:0]])
    words = {r: rule_title(r) for r in RULES_BY_ID}
    listed = humanise_values(shown.loc[:, FINDING_COLUMNS], {"rule_id": words}).reset_index(drop=True)
    section.key_numbers.append(snapshot_number(view, "exchange_report_findings",
                                               "Findings from the exchange reports", "findings", len(shown)))
    section.tables.append(Table("exchange_report_findings", "Findings from the received exchange reports",
                                listed, note="From the last check of the report files: headings against the "
                                             "common structure, length and language."))
    section.readings.append(f"The last check of the received exchange reports gave "
                            f"{plural(len(shown), 'finding')} for this report's records.")
