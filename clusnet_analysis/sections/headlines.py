"""The key numbers of each report, computed once in the package.

Each notebook saves its area's numbers (``report.write_headline``); the final
synthesis saves all of them; tests compare them with the data.
"""
from __future__ import annotations

from clusnet_analysis.analysis import budget, crosscity, links, phases, practices
from clusnet_analysis.analysis.periods import counted
from clusnet_analysis.publish.display import Period
from clusnet_analysis.rules.checks import summarise


def data_quality(p: Period) -> dict:
    ds = p.ds
    return {
        "schema_errors": ds.error_count,
        "rows_quarantined": ds.quarantined_count,
        "findings_total": len(ds.findings),
        "findings_this_period": len(p.this_period(ds.findings)),
        "findings_by_rule": summarise(ds.findings).set_index("rule_id")["findings"].to_dict(),
        "drafts": int((~ds.exchanges["counted"]).sum()),
    }


def cross_city(p: Period) -> dict:
    ds, programme = p.ds, p.programme
    cumulative = p.cumulative(ds.exchanges)
    clusters = ds.tables["clusters"]
    links_all = links.links_view(ds.tables["links"], clusters, programme, ds.exchanges)
    network = links.period_network_summary(links_all, clusters, programme, p.period).set_index("scope")
    return {
        "exchanges_this_period": len(counted(p.this_period(ds.exchanges))),
        "exchanges_cumulative": len(counted(cumulative)),
        "person_days_cumulative": crosscity.flows(cumulative, programme)["person_days"].sum(),
        "connected_pair_share_cumulative": crosscity.connected_pair_share(cumulative, programme),
        "links_cumulative": network.loc["cumulative", "links"],
    }


def budget_use(p: Period) -> dict:
    ds, programme = p.ds, p.programme
    programme_row = (budget.interreg_table(ds.expenses, programme, p.period, by="home_city")
                     .set_index("home_city").loc[budget.TOTAL])
    check = budget.exchange_budget_check(p.cumulative(ds.costs), programme)
    return {
        "this_period_eur": programme_row["this_period_eur"],
        "total_so_far_eur": programme_row["total_so_far_eur"],
        "budget_eur": programme_row["budget_eur"],
        "pct_of_budget": programme_row["pct_of_budget"],
        "exchanges_over_cap": int(check["over_cap"].sum()),
        "unconverted_lines": int(programme_row["unconverted_lines"]),
    }


def best_practices(p: Period) -> dict:
    ds, programme = p.ds, p.programme
    view = practices.practices_view(ds.tables["practices"], ds.exchanges)
    cumulative = p.cumulative(view)
    return {
        "practices_this_period": len(counted(p.this_period(view))),
        "practices_cumulative": len(counted(cumulative)),
        "practices_reported_by_several": len(practices.reported_by_several(cumulative)),
        "mean_coverage_share": practices.gap_coverage(cumulative, programme)["coverage_share"].mean(),
    }


def cluster_phases(p: Period) -> dict:
    ds, programme = p.ds, p.programme
    placements = phases.cluster_placements(p.assessments_until_end(), ds.model, programme,
                                           clusters=ds.tables["clusters"])
    movement = phases.phase_movement(placements)
    return {
        "clusters_assessed": len(phases.latest_placements(placements)),
        "clusters_per_phase": phases.phase_distribution(placements, ds.model, programme).sum().to_dict(),
        "moved_up": int((movement["direction"] == "up").sum()),
        "moved_down": int((movement["direction"] == "down").sum()),
    }


def synthesis(p: Period) -> dict:
    """Every area's numbers: what the final synthesis report saves."""
    return {**data_quality(p), **cross_city(p), **budget_use(p), **best_practices(p), **cluster_phases(p)}
