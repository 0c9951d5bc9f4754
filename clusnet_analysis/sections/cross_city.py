"""Cross-city comparison: who visited whom, places used, how far the cities are connected."""
from __future__ import annotations

import pandas as pd

from clusnet_analysis.analysis import crosscity
from clusnet_analysis.analysis.order import city_order
from clusnet_analysis.plots.flows import describe_flow_matrix
from clusnet_analysis.sections.base import FigureSpec, Section, Table
from clusnet_analysis.sections.budget import ineligible_marks
from clusnet_analysis.sections.common import (
    counted,
    numbers,
    one_number,
    per_scope,
    scope_columns,
    scoped,
)
from clusnet_analysis.sections.view import PeriodView

TITLE = "Cross-city comparison"


def cross_city(view: PeriodView) -> Section:
    prog = view.programme
    section = Section("cross_city", TITLE, view.period)
    ex = counted(view.exchanges)
    main = view.main_scope
    main_rows = main.select(ex)

    section.key_numbers += numbers(view, "exchanges", "Exchanges", "exchanges", per_scope(view, ex, len))
    section.key_numbers += numbers(view, "person_days", "Person-days away from home", "person-days",
                                   per_scope(view, ex, lambda r: int(r["duration_days"].sum())))
    summary = crosscity.network_summary(main_rows, prog)
    section.key_numbers.append(one_number(view, "connected_pair_share", "Partner pairs connected", "%",
                                          float(summary["connected_share"].iloc[0])))
    section.key_numbers.append(one_number(view, "officers_sent", "Officers who went", "officers",
                                          int(main_rows["officer_id"].nunique())))

    cities = city_order(prog, ex["home_city"], ex["host_city"])
    sent = scope_columns(view, ex, "home_city", lambda r: r.groupby("home_city").size(), cities)
    hosted = scope_columns(view, ex, "host_city", lambda r: r.groupby("host_city").size(), cities)
    sent.index.name = hosted.index.name = "city"
    section.tables.append(Table("exchanges_sent", "Exchanges sent, by home city", sent.astype("int64"), index=True,
                                note="Counted by the period the visit started in."))
    section.tables.append(Table("exchanges_hosted", "Exchanges hosted, by host city", hosted.astype("int64"),
                                index=True))

    flow = crosscity.flow_matrix(main_rows, prog)
    flow.index.name = "home city ↓ / host city →"
    section.tables.append(Table("flows", f"Exchanges home → host, {main.label}", flow, index=True,
                                note="Rows: home city (sends and pays). Columns: host city (receives)."))

    quota = crosscity.quota_use(main_rows, prog)
    quota = quota.loc[quota["home_city"].isin(prog.partner_cities)].reset_index(drop=True)
    quota = quota.rename(columns={"officers_quota": "officer_places", "quota_use_share": "quota_use"})
    t = Table("places_used", f"Officer places used, {main.label}", quota, percent_columns=("quota_use",),
              note="Only partner cities have officer places.")
    t.highlight("quota_use", quota["quota_use"] > 1, "over quota",
                "more officers went than the city has places for")
    section.tables.append(t)

    network = pd.concat([crosscity.network_summary(s.select(ex), prog).assign(scope=s.label)
                         for s in view.scopes], ignore_index=True)
    network = network.loc[:, ["scope", *[c for c in network.columns if c != "scope"]]]
    section.tables.append(Table("pairs", "How well the partner cities are connected", network,
                                percent_columns=("connected_share", "reciprocal_share"),
                                note="Connected: at least one exchange either way. Reciprocal: both ways."))

    marks = ineligible_marks(view)
    ineligible = main_rows.loc[main_rows["exchange_id"].isin(marks.index),
                               ["exchange_id", "home_city", "host_city", "start_date", "period"]]
    ineligible = ineligible.assign(period=ineligible["period"].astype(object).fillna("outside the periods"),
                                   ineligibility_reason=ineligible["exchange_id"].map(marks)).reset_index(drop=True)
    if len(ineligible):
        section.tables.append(Table(
            "ineligible_exchanges", f"Exchanges counted above that break an eligibility rule, {main.label}",
            ineligible, note="They took place, so they count in the flows and places above; the budget pages "
                             "leave their money out."))

    section.figures.append(FigureSpec(
        "01_flows_between_cities", f"Exchanges home → host, {main.label}",
        lambda: _flows_figure(flow, f"Exchanges home → host, {main.label}: {view.label}"),
        alt=scoped(describe_flow_matrix(flow), main.label) + " Darker cells mean more exchanges."))
    n_connected = int(summary["connected_pairs"].iloc[0])
    section.readings.append(
        f"{len(main_rows):,} exchanges ({int(main_rows['duration_days'].sum()):,} person-days), {main.label}. "
        f"They connect {n_connected} of the {int(summary['partner_pairs'].iloc[0])} possible pairs of partner "
        f"cities; in {int(summary['reciprocal_pairs'].iloc[0])} pairs officers travelled both ways."
        + (f" {len(ineligible):,} of these exchanges break an eligibility rule: they count here, not in the "
           "budget, and the cross-city report lists them with the reason." if len(ineligible) else ""))
    return section


def _flows_figure(flow, title):
    from clusnet_analysis.plots.flows import flow_matrix_figure

    return flow_matrix_figure(flow.rename_axis(index="home_city"), title=title)
