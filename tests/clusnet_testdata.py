"""Small hand-made data directories for the data-layer tests.

``BASE`` is a tiny, fully valid CLUSNET data set (every table, one or two rows
each) whose answers are easy to work out by hand:

- cities LYO, BCN, MUC (EUR), MAN (GBP), BUD (HUF), GOT (SEK), STO (SEK, not a partner)
- officers O1, O2 (LYO), O3 (BCN), O4 (MAN), O5 (BUD), all employed by their city
- exchange X1: O1 (LYO) visits BCN, Mon 2009-09-07 to Fri 2009-09-11 (5 days),
  agenda sent 2009-08-20, report received 2009-10-01, 5 pages, in English
- expenses of X1 (EUR): travel 600, accommodation 600, meals 250, local transport 100 = 1,550
- fx rates for 2009-09: GBP 0.9, HUF 270, SEK 10
- clusters C1 (LYO), C2 (BCN); one assessment, one practice, one link

``write_data(dir, exchanges=[...], ...)`` writes the tables as CSV (UTF-8, ``,``)
with any table replaced; rows are dicts, so a test states only what it varies.
"""
from __future__ import annotations

import csv
from pathlib import Path

COLUMNS = {
    "cities": ["city_id", "name", "country", "currency", "lat", "lon"],
    "officers": ["officer_id", "home_city", "employer_type", "name", "role"],
    "exchanges": ["exchange_id", "officer_id", "host_city", "start_date", "end_date", "status",
                  "group_visit_id", "agenda_sent_date", "report_received_date", "report_pages",
                  "report_language", "validated_on"],
    "expenses": ["expense_id", "exchange_id", "category", "amount", "currency", "quantity", "description"],
    "fx_rates": ["month", "currency", "units_per_eur"],
    "clusters": ["cluster_id", "name", "city", "sector"],
    "assessments": ["cluster_id", "assessed_on", "assessor", "criterion_id", "score", "evidence"],
    "practices": ["practice_id", "exchange_id", "title", "description", "theme", "phase",
                  "transferability", "cluster_id"],
    "links": ["link_id", "exchange_id", "from_cluster", "to_cluster", "kind", "created_on"],
}

CITIES = [
    dict(city_id="LYO", name="Lyon", country="FR", currency="EUR", lat="45.76", lon="4.84"),
    dict(city_id="BCN", name="Barcelona", country="ES", currency="EUR", lat="41.39", lon="2.17"),
    dict(city_id="MUC", name="Munich", country="DE", currency="EUR", lat="48.14", lon="11.58"),
    dict(city_id="MAN", name="Manchester", country="GB", currency="GBP", lat="53.48", lon="-2.24"),
    dict(city_id="BUD", name="Budapest", country="HU", currency="HUF", lat="47.50", lon="19.04"),
    dict(city_id="GOT", name="Gothenburg", country="SE", currency="SEK", lat="57.71", lon="11.97"),
    dict(city_id="STO", name="Stockholm", country="SE", currency="SEK", lat="59.33", lon="18.07"),
]
OFFICERS = [
    dict(officer_id="O1", home_city="LYO", employer_type="city", name="Émilie Roux", role="cluster officer"),
    dict(officer_id="O2", home_city="LYO", employer_type="city", name="Théo Garnier", role=""),
    dict(officer_id="O3", home_city="BCN", employer_type="city", name="Jordi Puig", role=""),
    dict(officer_id="O4", home_city="MAN", employer_type="city", name="Gemma Clough", role=""),
    dict(officer_id="O5", home_city="BUD", employer_type="city", name="Szűcs Réka", role=""),
]


def exchange(exchange_id="X1", officer_id="O1", host_city="BCN", start_date="2009-09-07",
             end_date="2009-09-11", status="validated", group_visit_id="", agenda_sent_date="2009-08-20",
             report_received_date="2009-10-01", report_pages="5", report_language="en", validated_on="") -> dict:
    """One exchange row; defaults are a valid 5-day CLUSNET visit."""
    return dict(exchange_id=exchange_id, officer_id=officer_id, host_city=host_city, start_date=start_date,
                end_date=end_date, status=status, group_visit_id=group_visit_id,
                agenda_sent_date=agenda_sent_date, report_received_date=report_received_date,
                report_pages=report_pages, report_language=report_language, validated_on=validated_on)


def expense(expense_id, exchange_id="X1", category="travel", amount="100", currency="EUR",
            quantity="1", description="") -> dict:
    return dict(expense_id=expense_id, exchange_id=exchange_id, category=category, amount=amount,
                currency=currency, quantity=quantity, description=description)


EXCHANGES = [exchange()]
EXPENSES = [
    expense("E1", category="travel", amount="600"),
    expense("E2", category="accommodation", amount="600", quantity="5"),
    expense("E3", category="meals", amount="250", quantity="10"),
    expense("E4", category="local_transport", amount="100"),
]
FX_RATES = [
    dict(month="2009-09", currency="GBP", units_per_eur="0.9"),
    dict(month="2009-09", currency="HUF", units_per_eur="270"),
    dict(month="2009-09", currency="SEK", units_per_eur="10"),
]
CLUSTERS = [
    dict(cluster_id="C1", name="Rhône Life Sciences", city="LYO", sector="biotech"),
    dict(cluster_id="C2", name="Barcelona Media Hub", city="BCN", sector="media"),
]
ASSESSMENTS = [dict(cluster_id="C1", assessed_on="2009-10-01", assessor="SU", criterion_id="INI-1",
                    score="2", evidence="")]
PRACTICES = [dict(practice_id="P1", exchange_id="X1", title="Joint purchasing", description="",
                  theme="research", phase="initiation", transferability="3", cluster_id="C1")]
LINKS = [dict(link_id="L1", exchange_id="X1", from_cluster="C1", to_cluster="C2", kind="contact",
              created_on="2009-10-01")]

BASE = {"cities": CITIES, "officers": OFFICERS, "exchanges": EXCHANGES, "expenses": EXPENSES,
        "fx_rates": FX_RATES, "clusters": CLUSTERS, "assessments": ASSESSMENTS, "practices": PRACTICES,
        "links": LINKS}


def write_table(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    columns = columns or (list(rows[0]) if rows else [])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in columns})
    return path


def write_data(directory: Path, **tables: list[dict]) -> Path:
    """Write BASE with the given tables replaced (``None`` leaves a table out)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, columns in COLUMNS.items():
        rows = tables.get(name, BASE[name])
        if rows is None:
            continue
        write_table(directory / f"{name}.csv", rows, columns)
    return directory


def programme_file(path: Path, **settings) -> Path:
    """The bundled CLUSNET programme file with some settings changed, written to ``path``.

    Settings are given as ``section__key=value`` (``budget__cap_eur=1000``,
    ``cluster_model__threshold=0.75``); the value is written as TOML (numbers as is).
    Every setting must exist in the bundled file, so a renamed key fails loudly here.
    """
    from clusnet_analysis import config

    wanted = {tuple(name.split("__")): value for name, value in settings.items()}
    section, lines, done = None, [], set()
    for line in config.DEFAULT_PROGRAMME_FILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            section = stripped.strip("[]")
        elif stripped.startswith("[["):
            section = None
        key = stripped.split("=", 1)[0].strip() if "=" in stripped and not stripped.startswith("#") else None
        if key and (section, key) in wanted:
            value = wanted[(section, key)]
            line = f"{key} = {value!r}" if isinstance(value, str) else f"{key} = {value}"
            done.add((section, key))
        lines.append(line)
    missing = set(wanted) - done
    assert not missing, f"no such settings in the programme file: {sorted(missing)}"
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def examples(n: int) -> int:
    """Hypothesis examples for a property test: ``n``, or 10 under ``make mutation``.

    Mutation testing runs the tests once per mutant (thousands of times); the property tests
    were most of its time. A mutant that survives 10 random examples is still reported.
    """
    import os

    return min(n, 10) if os.environ.get("CLUSNET_MUTATION") == "1" else n
