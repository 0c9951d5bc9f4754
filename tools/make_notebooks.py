"""Write the report notebooks (without outputs) from one description, so all stay thin and alike.

Run: python tools/make_notebooks.py  (rewrites notebooks/*.ipynb; commit the result)
"""
from __future__ import annotations

import json
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

PARAMETERS = '''\
period = "final"        # S3, S4, S5 or final
data_dir = None         # None: the bundled synthetic sample (clusnet_analysis.config.SAMPLE_DATA_DIR)
headline_path = None    # where the batch run saves the key numbers (JSON); None: don't save
show_names = False      # internal runs only: show officer names
allow_invalid = False   # build from the valid rows when the data has schema errors'''


def setup(area: str, inline: bool = True) -> str:
    return ((("%matplotlib inline\n\n") if inline else "")
            + "from clusnet_analysis import sections\n"
            "from clusnet_analysis.publish import display as show\n\n"
            "view = sections.start(period, data_dir, show_names=show_names, allow_invalid=allow_invalid,\n"
            "                      headline_path=headline_path)\n"
            f'section = sections.build(view, "{area}")\n'
            "show.header(view, section)\n"
            "show.key_numbers(section)\n"
            "show.readings(section)")


def tables(*ids: str) -> str:
    return "\n".join(f'show.show_table(section.table("{i}"), view)' for i in ids)


def figures(*ids: str) -> str:
    return "\n".join(f'show.show_figure(section.figure("{i}"), view)' for i in ids)


def finish(name: str) -> str:
    return f'show.save_headline(view, section)\nshow.provenance(view, "{name}")'


SPECS = {
    "01_data_quality": ("data_quality", "Data quality", [
        ("md", "What could be read from the cities' spreadsheets, what was set aside and why, and which programme "
               "rules the recorded exchanges break. Read this before trusting the numbers in the other reports."),
        ("md", "## Rows read\n\nOne line per input table: the rows read, the rows that passed every check and the "
               "rows set aside. Rows set aside stay out of every figure of every report until the city corrects "
               "them and sends the file again."),
        ("code", tables("rows_read")),
        ("md", "## Schema errors\n\nEach line is one problem a city can fix in its spreadsheet: the file, the "
               "spreadsheet row (the header is row 1), the column, the value found and what is wrong with it. Rows "
               "that only refer to a rejected row (the expenses of a rejected exchange, say) are set aside too, so "
               "that no total mixes complete and incomplete records."),
        ("code", "for table in section.tables:\n    if table.id == \"schema_errors\" or table.id.startswith(\"quarantine_\"):\n        show.show_table(table, view)"),
        ("md", "## Programme rules\n\nFindings are not errors in the files: the rows are valid but break a "
               "programme rule (the cap per exchange, the eligibility window …) or need a second look. Every rule "
               "is listed, with zero where nothing was found."),
        ("code", tables("findings_by_rule", "findings")),
        ("md", "## Drafts\n\nDraft exchanges are listed here but left out of every total, figure and rule until "
               "the city submits them. Officers appear under their pseudonym."),
        ("code", tables("drafts")),
    ]),
    "02_cross_city": ("cross_city", "Cross-city comparison", [
        ("md", "Which partner cities sent officers to which, how many of each city's officer places were used, and "
               "how far the exchanges knit the partner cities together. One exchange is one officer's visit: a "
               "group visit of three officers counts as three exchanges. Drafts are left out everywhere."),
        ("md", "## Who visited whom\n\nRows are home cities (they send the officer and pay), columns host cities "
               "(they receive). A city outside the partnership appears after the partner cities when an exchange "
               "went there."),
        ("code", figures("01_flows_between_cities") + "\n" + tables("flows")),
        ("md", "## Sent and hosted\n\nExchanges per city, by the period the visit started in."),
        ("code", tables("exchanges_sent", "exchanges_hosted")),
        ("md", "## Officer places used\n\nEach partner city has a fixed number of officer places. A share above "
               "100 % means more officers went than the city has places for."),
        ("code", tables("places_used")),
        ("md", "## How well the cities are connected\n\nA pair of partner cities is *connected* when at least one "
               "exchange went either way, and *reciprocal* when exchanges went both ways."),
        ("code", tables("pairs")),
    ]),
    "03_budget": ("budget", "Budget use", [
        ("md", "How much of the exchange budget has been claimed, how much of it an auditor can accept, and what "
               "is still open. *Claimed* is every exchange that is not a draft. *Eligible* leaves out the exchanges "
               "a programme rule excludes (a visit outside the window, to a city that is not a partner, to the "
               "officer's own city, or by an officer whose employer is not eligible). *Reimbursable* is the eligible "
               "and validated claims, each up to the cap; *pending* is the eligible claims not yet validated or not "
               "yet converted to EUR. Going over the cap does not make an exchange ineligible: the part above it is "
               "not reimbursed. The home city pays, so amounts are charged to the home city."),
        ("code", tables("overview", "amounts_by_period")),
        ("md", "## Monitoring tables\n\nThe reimbursable amount per reporting period against each city's "
               "allocation and each cost category's budget; beside each period, the part validated by the end of "
               "that period."),
        ("code", tables("by_city", "by_category")),
        ("md", "## Where each city's claims stand"),
        ("code", figures("02_budget_by_city")),
        ("md", "## Exchanges not (yet) reimbursed\n\nWith the reason: the rule that makes an exchange ineligible, "
               "or what is still missing for a pending one."),
        ("code", tables("not_reimbursed", "over_cap")),
        ("md", "## Cost per exchange by category\n\nThe mean cost of an exchange in each category against the "
               "programme's reference amounts. The dashed line over the total is the cap per exchange."),
        ("code", figures("03_budget_by_category") + "\n" + tables("cost_per_exchange")),
        ("md", "## Cost level by host city\n\nExpenses must fit the living standard of the visited country: the "
               "median cost per day of the exchanges each city hosted, against the programme's median."),
        ("code", "if any(t.id == \"cost_level\" for t in section.tables):\n    " + tables("cost_level")),
        ("md", "## Audit ledger\n\nEvery expense line with its amount, currency, exchange rate and rate month, then "
               "each exchange's cap cut, eligibility and status. The same ledger is a sheet of the final report's "
               "tables.xlsx and a CSV."),
        ("code", tables("audit_ledger")),
    ]),
    "04_best_practices": ("practices", "Best practices", [
        ("md", "What the officers brought home: the practices they saw on their visits, the themes these address, "
               "which practices several officers reported independently, and which cities learnt from which."),
        ("md", "## Most transferable\n\nThe practices the officers rated easiest to transfer to their own city."),
        ("code", tables("top_practices")),
        ("md", "## Themes by host city"),
        ("code", figures("04_practice_themes_by_host") + "\n" + tables("themes_by_host")),
        ("md", "## Reported by several exchanges\n\nThe same practice seen at the same host city by officers on "
               "different exchanges: independent confirmation, and a practice worth a closer look."),
        ("code", tables("reported_by_several")),
        ("md", "## Who learns from whom"),
        ("code", tables("who_learns")),
        ("md", "## Themes covered per home city\n\nA low share shows where a city's officers could look next."),
        ("code", tables("theme_coverage")),
        ("md", "## Every practice"),
        ("code", tables("inventory")),
    ]),
    "05_cluster_phases": ("phases", "Cluster phases", [
        ("md", "Where each partner city's cluster initiatives stand in the four-phase cluster model, what each still "
               "has to achieve to complete its phase, which support the model recommends, and which clusters moved "
               "between assessments. An assessor scores each cluster on the model's result criteria (0 not met, "
               "1 partly met, 2 fully met); all scores of one cluster on one day form an assessment round, and the "
               "latest round gives its current phase."),
        ("md", "## Phase by city"),
        ("code", figures("05_cluster_phases_by_city") + "\n" + tables("phase_by_city")),
        ("md", "## Each cluster: what is missing\n\nThe criteria are explained in the last table; the support "
               "that fits each phase follows."),
        ("code", tables("latest_placement", "support_per_phase")),
        ("md", "## Movement between assessments"),
        ("code", tables("movement")),
        ("md", "## The model's result criteria"),
        ("code", tables("criteria")),
    ]),
    "06_cluster_links": ("links", "Links between clusters", [
        ("md", "Officers' visits lead to contacts, follow-up visits and joint projects between clusters. A link "
               "belongs to the period in which it was created."),
        ("code", figures("06_inter_cluster_links")),
        ("md", "## The network\n\n*Connected groups* are groups of clusters reachable through links (clusters "
               "without any link are not counted); a large group means the links form one network rather than "
               "separate pairs."),
        ("code", tables("network", "links_per_city", "links_by_kind")),
    ]),
}

SYNTHESIS = ("07_synthesis", "Period synthesis", [
    ("code", "%matplotlib inline\n\n"
             "from clusnet_analysis import sections\n"
             "from clusnet_analysis.publish import display as show\n"
             "from clusnet_analysis.publish.figures import build_tables\n\n"
             "view = sections.start(period, data_dir, show_names=show_names, allow_invalid=allow_invalid,\n"
             "                      headline_path=headline_path)\n"
             "parts = sections.build_all(view)\n"
             "section = parts.pop(\"synthesis\")\n"
             "show.header(view, section)\n"
             "show.key_numbers(section)"),
    ("md", "The key numbers, figures and readings of every report on one page; the reports themselves hold the "
           "tables behind them."),
    ("code", "for part in parts.values():\n"
             "    show.heading(part.title)\n"
             "    show.readings(part)\n"
             "    for figure in part.figures:\n"
             "        show.show_figure(figure, view)"),
    ("md", "## The author's tables\n\nEvery table of the reports, one sheet each, with human headings and a "
           "source line: `tables.xlsx` beside this report, and one CSV per table in `tables/`."),
    ("code", "if headline_path:\n"
             "    workbook = build_tables(view, show.output_folder(view))\n"
             "    show.say(\"Written: <a href='{name}'>{name}</a> and the folder tables/.\", name=workbook.name)"),
])


def cell(kind: str, source: str, index: int, tags=()) -> dict:
    lines = source.split("\n")
    c = {"cell_type": "markdown" if kind == "md" else "code", "id": f"c{index:02d}",
         "metadata": {"tags": list(tags)} if tags else {},
         "source": [line + "\n" for line in lines[:-1]] + [lines[-1]]}
    if kind != "md":
        c["execution_count"] = None
        c["outputs"] = []
    return c


def notebook(name: str, area: str | None, title: str, body: list, final_title: str | None = None) -> dict:
    cells = [cell("md", f"# {title}", 0, tags=("remove-cell",)),
             cell("code", PARAMETERS, 1, tags=("parameters",))]
    if area is not None:
        cells.append(cell("code", setup(area), 2))
    for i, (kind, source) in enumerate(body, start=3):
        cells.append(cell(kind, source, i))
    cells.append(cell("code", finish(name), len(cells) + 1))
    meta = {"kernelspec": {"display_name": "Python (clusnet_analysis)", "language": "python", "name": "clusnet"},
            "language_info": {"name": "python"},
            "clusnet": {"area": area or "synthesis", **({"final_title": final_title} if final_title else {})}}
    return {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}


def main() -> None:
    for old in NOTEBOOKS.glob("*.ipynb"):
        old.unlink()
    for name, (area, title, body) in SPECS.items():
        nb = notebook(name, area, title, body)
        (NOTEBOOKS / f"{name}.ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    name, title, body = SYNTHESIS
    nb = notebook(name, None, title, body, final_title="Final report synthesis")
    (NOTEBOOKS / f"{name}.ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
