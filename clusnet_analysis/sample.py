"""Deterministic synthetic sample of CLUSNET programme records.

The sample is fictional but realistic: ten partner cities plus Stockholm,
three officers per city, about thirty staff exchanges over the reporting
periods S3-S5, their expenses in the home city's currency, monthly exchange
rates, cluster assessments against the cluster model, best practices and
inter-cluster links.

It deliberately breaks each programme rule exactly once (see
``PLANTED_FINDINGS``) so that validation, notebooks and reports always have
something to show, and so that tests can check that every breach is found
and nothing else is.

The schedule and every planted breach are fixed by hand; the random generator
(``numpy.random.default_rng(seed)``) only varies amounts, dates inside safe
bounds, scores and practices. So the planted findings hold for any seed, except
``over_allocation``, which follows from the amounts: with the default seed Lyon
and Eindhoven (four exchanges each) spend about 106 % of their allocation.

``write_sample(out_dir, scale=N)`` replicates the base sample N times with
suffixed ids for benchmarks (about a million exchanges at N=35000).
"""
from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from clusnet_analysis import config
from clusnet_analysis.ingest.io import TABLES as ALL_TABLES
from clusnet_analysis.ingest.schemas import column_kinds
from clusnet_analysis.publish.files import atomic_write_bytes
from clusnet_analysis.rules.programme import load_cluster_model, load_programme

DEFAULT_SEED = 2009

# Column order and dtypes of the raw tables, from the schemas (the users' contract).
# Dates are kept as ISO strings: these are the values as they appear in a CSV.
_CSV_DTYPES = {"number": "float64", "integer": "Int64"}
TABLE_COLUMNS: dict[str, dict[str, str]] = {
    table: {column: _CSV_DTYPES.get(kind, "str") for column, (kind, _) in column_kinds(table).items()}
    for table in ALL_TABLES
}
TABLES: tuple[str, ...] = tuple(TABLE_COLUMNS)

# Ids that get a copy suffix when the sample is scaled up (cities, fx rates,
# clusters and assessments are shared by all copies and written once).
REPLICATED_ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "officers": ("officer_id",),
    "exchanges": ("exchange_id", "officer_id", "group_visit_id"),
    "expenses": ("expense_id", "exchange_id"),
    "practices": ("practice_id", "exchange_id"),
    "links": ("link_id", "exchange_id"),
}

# ------------------------------------------------------------------- cities
# city_id, name, country, currency, lat, lon. STO (the research team's home)
# is in the table but is not a partner city.
CITIES = [
    ("LYO", "Lyon", "FR", "EUR", 45.7640, 4.8357),
    ("BCN", "Barcelona", "ES", "EUR", 41.3874, 2.1686),
    ("MUC", "Munich", "DE", "EUR", 48.1351, 11.5820),
    ("DTM", "Dortmund", "DE", "EUR", 51.5136, 7.4653),
    ("LEJ", "Leipzig", "DE", "EUR", 51.3397, 12.3731),
    ("MAN", "Manchester", "GB", "GBP", 53.4808, -2.2426),
    ("HEL", "Helsinki", "FI", "EUR", 60.1699, 24.9384),
    ("BUD", "Budapest", "HU", "HUF", 47.4979, 19.0402),
    ("GOT", "Gothenburg", "SE", "SEK", 57.7089, 11.9746),
    ("EIN", "Eindhoven", "NL", "EUR", 51.4416, 5.4697),
    ("STO", "Stockholm", "SE", "SEK", 59.3293, 18.0686),
]
_CITY = {c[0]: c for c in CITIES}

# Host price level relative to the programme's reference costs: accommodation
# and meals are dearer in MUC, HEL, MAN, LYO and cheaper in BUD, LEJ.
PRICE_LEVEL = {"LYO": 1.10, "BCN": 1.00, "MUC": 1.20, "DTM": 0.92, "LEJ": 0.80, "MAN": 1.15,
               "HEL": 1.18, "BUD": 0.70, "GOT": 1.05, "EIN": 0.98, "STO": 1.15}

# Cities whose administration buys travel insurance for each trip.
INSURING_CITIES = ("MAN", "HEL", "GOT", "EIN")

# ---------------------------------------------------------------- fx rates
# Monthly average units per EUR, Jan 2009 - Jun 2011 (plausible values close
# to the ECB averages of the time).
FX_MONTHLY = {
    "GBP": [0.918, 0.887, 0.919, 0.898, 0.887, 0.856, 0.860, 0.863, 0.891, 0.909, 0.899, 0.904,
            0.883, 0.879, 0.904, 0.875, 0.857, 0.851, 0.852, 0.850, 0.858, 0.877, 0.852, 0.851,
            0.853, 0.854, 0.868, 0.880, 0.877, 0.888],
    "HUF": [275.5, 294.5, 294.9, 291.0, 282.5, 280.1, 272.0, 270.1, 271.7, 266.9, 270.3, 271.8,
            268.7, 271.0, 265.9, 265.3, 276.4, 286.0, 284.0, 282.1, 282.2, 275.5, 275.3, 277.6,
            275.3, 271.2, 270.0, 265.3, 266.0, 268.1],
    "SEK": [10.62, 10.99, 10.98, 10.86, 10.59, 10.81, 10.80, 10.27, 10.20, 10.33, 10.35, 10.41,
            10.14, 10.03, 9.74, 9.63, 9.61, 9.53, 9.47, 9.55, 9.28, 9.22, 9.31, 9.05,
            9.02, 9.01, 9.03, 9.05, 9.04, 9.12],
}
FX_FIRST_MONTH = (2009, 1)
# Planted gap: no SEK rate for March 2010 (breach "missing_fx_rate").
FX_GAP = ("SEK", "2010-03")

# ---------------------------------------------------------------- officers
# Fictional people. officer_id, home_city, employer_type, name, role.
OFFICERS = [
    ("O01", "LYO", "city", "Émilie Roux", "cluster policy officer"),
    ("O02", "LYO", "city", "Théo Garnier", "innovation manager"),
    ("O03", "LYO", "city", "Margaux Lefèvre", "economic development officer"),
    ("O04", "BCN", "city", "Jordi Puigdomènech", "cluster policy officer"),
    ("O05", "BCN", "city", "Núria Ferrer i Solà", "innovation manager"),
    ("O06", "BCN", "city", "Álvaro Ibáñez", "international relations officer"),
    ("O07", "MUC", "city", "Jürgen Weiß", "cluster policy officer"),
    ("O08", "MUC", "city", "Annegret Müller-Hößl", "business development manager"),
    ("O09", "MUC", "city", "Tobias Brückner", "innovation manager"),
    ("O10", "DTM", "city", "Dörte Schäfer", "economic development officer"),
    ("O11", "DTM", "city", "Kemal Öztürk", "cluster policy officer"),
    # Planted breach "ineligible_employer": university staff may not take part.
    ("O12", "DTM", "university", "Friederike Lübke", "research fellow, regional economics"),
    ("O13", "LEJ", "city", "Maik Görlitzer", "cluster policy officer"),
    ("O14", "LEJ", "city", "Susann Wächter", "innovation manager"),
    ("O15", "LEJ", "city", "Ulrike Fröhlich", "international relations officer"),
    ("O16", "MAN", "city", "Siobhan O'Rourke", "cluster policy officer"),
    ("O17", "MAN", "city", "Rajesh Bhattacharya", "business development manager"),
    ("O18", "MAN", "city", "Gemma Clough", "innovation manager"),
    ("O19", "HEL", "city", "Aino Mäkelä", "cluster policy officer"),
    ("O20", "HEL", "city", "Jussi Häkkinen", "innovation manager"),
    ("O21", "HEL", "city", "Päivi Sjöberg", "economic development officer"),
    ("O22", "BUD", "city", "Erdős Zsófia", "cluster policy officer"),
    ("O23", "BUD", "city", "Kovács Bálint", "innovation manager"),
    ("O24", "BUD", "city", "Szűcs Réka", "international relations officer"),
    ("O25", "GOT", "city", "Åsa Lindström", "cluster policy officer"),
    ("O26", "GOT", "city", "Örjan Bäckström", "innovation manager"),
    ("O27", "GOT", "city", "Linnéa Sjögren", "business development manager"),
    ("O28", "EIN", "city", "Sanne van den Bergh", "cluster policy officer"),
    ("O29", "EIN", "city", "Daniëlle Kuipers", "innovation manager"),
    ("O30", "EIN", "city", "Joël Verhoeven", "economic development officer"),
    # Planted breach "officer_quota": Eindhoven registered a fourth officer.
    ("O31", "EIN", "city", "Maarten Brouwer", "cluster policy officer"),
]
_OFFICER_HOME = {o[0]: o[1] for o in OFFICERS}

# ---------------------------------------------------------------- clusters
# Fictional cluster initiatives, 2-4 per partner city.
CLUSTERS = [
    ("LYO-C1", "Rhône Life Sciences Cluster", "LYO", "biotech"),
    ("LYO-C2", "Lyon Clean Chemistry Network", "LYO", "cleantech"),
    ("LYO-C3", "Technical Textiles Rhône-Alpes", "LYO", "textiles"),
    ("LYO-C4", "Lyon Digital Images", "LYO", "creative industries"),
    ("BCN-C1", "Barcelona Media & Design Hub", "BCN", "creative industries"),
    ("BCN-C2", "Catalan Mobility Cluster", "BCN", "automotive"),
    ("BCN-C3", "Barcelona Health Tech", "BCN", "health"),
    ("MUC-C1", "Munich Automotive Network", "MUC", "automotive"),
    ("MUC-C2", "Bavarian Biotech Circle", "MUC", "biotech"),
    ("MUC-C3", "Munich ICT Forum", "MUC", "ICT"),
    ("DTM-C1", "Dortmund Logistics Alliance", "DTM", "logistics"),
    ("DTM-C2", "Ruhr Microsystems Network", "DTM", "materials"),
    ("DTM-C3", "Dortmund IT Security Cluster", "DTM", "ICT"),
    ("LEJ-C1", "Leipzig Energy & Environment", "LEJ", "cleantech"),
    ("LEJ-C2", "Leipzig Automotive Suppliers", "LEJ", "automotive"),
    ("LEJ-C3", "Leipzig Media Cluster", "LEJ", "creative industries"),
    ("MAN-C1", "Greater Manchester Digital", "MAN", "ICT"),
    ("MAN-C2", "Manchester Advanced Materials", "MAN", "materials"),
    ("MAN-C3", "Manchester Health Innovation", "MAN", "health"),
    ("HEL-C1", "Helsinki Cleantech Cluster", "HEL", "cleantech"),
    ("HEL-C2", "Helsinki Health & Wellbeing", "HEL", "health"),
    ("HEL-C3", "Helsinki Games & Media", "HEL", "creative industries"),
    ("BUD-C1", "Budapest Pharma Network", "BUD", "biotech"),
    ("BUD-C2", "Pannon ICT Cluster", "BUD", "ICT"),
    ("GOT-C1", "Göteborg Automotive Cluster", "GOT", "automotive"),
    ("GOT-C2", "West Sweden Logistics", "GOT", "logistics"),
    ("GOT-C3", "Göteborg Life Science", "GOT", "health"),
    ("GOT-C4", "Göteborg Creative Industries", "GOT", "creative industries"),
    ("EIN-C1", "Eindhoven High Tech Systems", "EIN", "ICT"),
    ("EIN-C2", "Eindhoven Design Network", "EIN", "creative industries"),
    ("EIN-C3", "Eindhoven Automotive Campus", "EIN", "automotive"),
]

# ---------------------------------------------------------------- exchanges
# The schedule is fixed by hand so that no two officers of one home city are
# away at overlapping dates (except the planted case) and each planted breach
# appears exactly once. Columns: exchange_id, officer_id, host_city, start
# (Mondays except the planted overlap), status, group_visit_id, plant.
EXCHANGE_PLAN = [
    # S3: Jul-Dec 2009
    ("X001", "O01", "BCN", "2009-09-07", "validated", None, "report_language"),
    ("X002", "O07", "HEL", "2009-09-14", "validated", None, None),
    ("X003", "O16", "EIN", "2009-09-21", "validated", None, None),
    ("X004", "O25", "MUC", "2009-10-05", "validated", None, None),
    ("X005", "O22", "LEJ", "2009-10-12", "validated", None, "agenda_not_sent"),
    ("X006", "O19", "LYO", "2009-11-09", "validated", None, None),
    ("X007", "O04", "GOT", "2009-11-16", "validated", None, None),
    ("X008", "O28", "DTM", "2009-11-23", "validated", None, None),
    # S4: Jan-Jun 2010
    ("X009", "O26", "HEL", "2010-01-25", "validated", None, None),
    ("X010", "O02", "MUC", "2010-02-08", "validated", "G01", None),
    ("X011", "O17", "MUC", "2010-02-08", "validated", "G01", None),
    ("X012", "O29", "MUC", "2010-02-08", "validated", "G01", None),
    ("X013", "O12", "GOT", "2010-02-22", "validated", None, None),
    ("X014", "O03", "GOT", "2010-03-15", "validated", None, "missing_fx_rate"),
    ("X015", "O05", "MAN", "2010-04-12", "validated", None, None),
    ("X016", "O06", "HEL", "2010-04-14", "validated", None, "concurrent_absence"),
    ("X017", "O20", "HEL", "2010-04-19", "validated", None, "home_is_host"),
    ("X018", "O14", "EIN", "2010-05-03", "validated", None, "visit_length"),
    ("X019", "O23", "DTM", "2010-05-17", "validated", None, None),
    ("X020", "O11", "LYO", "2010-06-07", "submitted", None, None),
    # S5: Jul-Dec 2010
    ("X021", "O31", "GOT", "2010-08-23", "validated", None, None),
    ("X022", "O09", "HEL", "2010-09-06", "validated", None, "over_cap"),
    ("X023", "O18", "BCN", "2010-09-13", "validated", None, None),
    ("X024", "O24", "EIN", "2010-09-20", "validated", None, "report_too_long"),
    ("X025", "O01", "LEJ", "2010-10-04", "validated", None, None),
    ("X026", "O27", "LYO", "2010-10-11", "validated", None, "report_missing"),
    ("X027", "O15", "STO", "2010-10-18", "submitted", None, "not_partner_city"),
    ("X028", "O30", "BUD", "2010-11-08", "submitted", None, None),
    ("X029", "O06", "LYO", "2010-12-06", "draft", None, None),
    ("X030", "O26", "BCN", "2010-12-13", "draft", None, None),
    # After the programme window (Jan 2011): breach "outside_window".
    ("X031", "O19", "BUD", "2011-01-17", "submitted", None, "outside_window"),
]

# Fixed expense lines of the over-cap exchange (EUR; total 1,720.00 > 1,550).
OVER_CAP_LINES = [("travel", 548.60, 1.0), ("accommodation", 760.00, 5.0),
                  ("meals", 315.00, 10.0), ("local_transport", 96.40, 1.0)]

# The expense lines come in this order for every exchange, so expense ids do
# not depend on the seed.
_LINE_CATEGORIES = ("travel", "accommodation", "meals", "local_transport", "insurance")

# (rule_id, subject_id) the validator must report on the base sample.
PLANTED_FINDINGS: tuple[tuple[str, str], ...] = (
    ("over_cap", "X022"),
    ("outside_window", "X031"),
    ("officer_quota", "EIN"),
    ("ineligible_employer", "O12"),
    ("concurrent_absence", "X016"),
    ("home_is_host", "X017"),
    ("visit_length", "X018"),
    ("agenda_not_sent", "X005"),
    ("report_missing", "X026"),
    ("report_too_long", "X024"),
    ("report_language", "X001"),
    ("missing_fx_rate", "E0063"),
    ("not_partner_city", "X027"),
    ("draft_excluded", "X029"),
    ("draft_excluded", "X030"),
    # Not planted one by one: Lyon and Eindhoven spend a little more than their allocation
    # of 3 x 1,550 EUR on eligible exchanges (about 106 % each).
    ("over_allocation", "LYO"),
    ("over_allocation", "EIN"),
)

# ---------------------------------------------------------------- practices
# Best-practice catalogue per theme (the final report's innovation gaps).
PRACTICE_CATALOGUE: dict[str, list[tuple[str, str]]] = {
    "research": [
        ("Shared pilot plant for SMEs", "Firms rent time on a cluster-owned pilot line to test "
         "processes before investing."),
        ("University liaison officers placed in clusters", "Each university seconds a liaison "
         "officer to the cluster office one day a week."),
        ("Joint PhD positions with cluster firms", "Industrial PhD students split their time "
         "between a firm and a university lab."),
        ("Technology scouting service", "The cluster office screens patents and research results "
         "for member firms on request."),
    ],
    "education": [
        ("Cluster-specific vocational curriculum", "Vocational schools and cluster firms write "
         "the curriculum together and share teachers."),
        ("Summer school for cluster managers", "A yearly one-week course on cluster development "
         "for managers from the region."),
        ("Apprenticeship pool shared by SMEs", "Small firms that cannot train alone share "
         "apprentices through a common pool."),
        ("Industry-taught master's modules", "Engineers from member firms teach elective modules "
         "at the local university."),
    ],
    "capital": [
        ("Seed fund co-managed with the city", "A small seed fund where the city and private "
         "investors decide together."),
        ("Business-angel evenings at the cluster", "Start-ups pitch to business angels at monthly "
         "evenings hosted by the cluster."),
        ("Micro-grants for feasibility studies", "Grants of up to 10,000 EUR let SMEs test an idea "
         "before applying for larger funds."),
        ("Revolving loan fund for cleantech SMEs", "Repaid loans are lent again to the next "
         "firm; the city guarantees the first losses."),
    ],
    "policy": [
        ("City cluster strategy with annual review", "The council adopts a cluster strategy and "
         "reviews its indicators every year."),
        ("One-stop shop for cluster firms at city hall", "A single desk at city hall handles "
         "permits, funding questions and contacts."),
        ("Cluster board with city representation", "The city holds one seat on each cluster "
         "board, without a veto."),
        ("Innovation procurement by the city", "The city buys new solutions from cluster firms "
         "through pre-commercial procurement."),
    ],
    "firm_to_firm": [
        ("Supplier-day matchmaking", "Large firms present their purchasing needs; SMEs book "
         "short meetings."),
        ("Joint purchasing group for SMEs", "Member firms buy energy and services together "
         "to cut costs."),
        ("Open innovation challenges set by large firms", "Large firms publish technical "
         "challenges; SMEs and start-ups answer them."),
        ("Peer mentoring between managing directors", "Managing directors meet in small groups "
         "to work on each other's problems."),
    ],
    "cluster_to_cluster": [
        ("Cross-cluster innovation workshops", "Firms from two clusters meet to combine their "
         "technologies in new products."),
        ("Shared secretariat for neighbouring clusters", "Small clusters share one office, "
         "website and event calendar."),
        ("Inter-cluster project fund", "A fund that only pays for projects involving firms from "
         "at least two clusters."),
        ("Joint cluster-management training academy", "Cluster managers of the city train "
         "together and exchange staff for short periods."),
    ],
    "global": [
        ("Joint trade-fair pavilion", "Cluster firms exhibit under one city pavilion at "
         "international fairs."),
        ("Soft-landing office for foreign firms", "Foreign firms get a desk, contacts and "
         "advice for their first months."),
        ("International talent welcome centre", "One office helps foreign specialists and their "
         "families with permits, housing and schools."),
        ("Export mentoring by cluster veterans", "Experienced exporters coach first-time "
         "exporters in the cluster."),
    ],
}
# What each host city is known for: visitors there report these themes more
# often, so theme coverage differs between cities.
HOST_THEME_WEIGHTS = {
    "LYO": {"research": 5, "cluster_to_cluster": 4},
    "BCN": {"policy": 5, "global": 4},
    "MUC": {"research": 5, "firm_to_firm": 5},
    "DTM": {"firm_to_firm": 4, "education": 4},
    "LEJ": {"capital": 5, "policy": 3},
    "MAN": {"capital": 4, "policy": 4},
    "HEL": {"education": 5, "global": 5},
    "BUD": {"capital": 5, "education": 2},
    "GOT": {"cluster_to_cluster": 5, "global": 3},
    "EIN": {"research": 5, "firm_to_firm": 3, "cluster_to_cluster": 3},
    "STO": {"policy": 5},
}
# Practices fixed by hand: title reported by two visitors of the group visit
# ("reported by several visitors") and a title with an ampersand and quotes.
SHARED_PRACTICE = ("Joint cluster-management training academy", "cluster_to_cluster")
SHARED_PRACTICE_EXCHANGES = ("X010", "X011")
QUOTED_PRACTICE = ('R&D "open lab" vouchers', "research",
                   "SMEs get vouchers to spend on tests in university labs; the lab is paid "
                   "when the firm signs off the results.")
QUOTED_PRACTICE_EXCHANGE = "X018"

from clusnet_analysis.ingest.codes import LINK_KINDS  # noqa: E402  (one definition)
LINK_KIND_WEIGHTS = (0.45, 0.25, 0.18, 0.12)
LINKS_WITH_EXCHANGE = 22
LINKS_WITHOUT_EXCHANGE = 3

# ---------------------------------------------------------------- assessments
ASSESSMENT_ROUNDS = ("2009-10-15", "2010-10-15")
ASSESSORS = ("SU research team", "regional assessor")
EVIDENCE_DOCUMENTS = {
    "initiation": ("Pre-study report", "Action plan", "Stakeholder analysis",
                   "Process leadership group minutes"),
    "pilot": ("Network rules agreed by members", "Cluster website and newsletter",
              "Steering group minutes", "Financing model agreed with members"),
    "establishment": ("Member survey", "Annual report", "Joint R&D project portfolio",
                      "Regional co-financing agreement"),
    "sustainability": ("Long-term financing agreement", "International partnership agreements",
                       "Strategy review", "External evaluation"),
}


# ====================================================================== helpers
def _date(iso: str) -> dt.date:
    return dt.date.fromisoformat(iso)


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _frame(table: str, rows: list[dict]) -> pd.DataFrame:
    """A raw table with the contract's columns, in order, with CSV-like dtypes."""
    columns = TABLE_COLUMNS[table]
    data = {col: pd.Series([row.get(col) for row in rows], dtype=dtype)
            for col, dtype in columns.items()}
    return pd.DataFrame(data, columns=list(columns))


def _distance_km(a: str, b: str) -> float:
    lat1, lon1 = map(math.radians, _CITY[a][4:6])
    lat2, lon2 = map(math.radians, _CITY[b][4:6])
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _fx_table() -> dict[tuple[str, str], float]:
    rates = {}
    year, month = FX_FIRST_MONTH
    for currency, values in FX_MONTHLY.items():
        y, m = year, month
        for value in values:
            rates[(currency, f"{y:04d}-{m:02d}")] = value
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return rates


# ====================================================================== tables
def _cities() -> pd.DataFrame:
    keys = ("city_id", "name", "country", "currency", "lat", "lon")
    return _frame("cities", [dict(zip(keys, c)) for c in CITIES])


def _officers() -> pd.DataFrame:
    keys = ("officer_id", "home_city", "employer_type", "name", "role")
    return _frame("officers", [dict(zip(keys, o)) for o in OFFICERS])


def _fx_rates() -> pd.DataFrame:
    rows = [{"month": month, "currency": currency, "units_per_eur": value}
            for (currency, month), value in _fx_table().items() if (currency, month) != FX_GAP]
    return _frame("fx_rates", rows)


def _clusters() -> pd.DataFrame:
    keys = ("cluster_id", "name", "city", "sector")
    return _frame("clusters", [dict(zip(keys, c)) for c in CLUSTERS])


def _exchanges(rng: np.random.Generator, programme) -> pd.DataFrame:
    rows = []
    for exchange_id, officer_id, host, start_iso, status, group, plant in EXCHANGE_PLAN:
        start = _date(start_iso)
        days = programme.visit_days + 2 if plant == "visit_length" else programme.visit_days
        end = start + dt.timedelta(days=days - 1)
        row = {"exchange_id": exchange_id, "officer_id": officer_id, "host_city": host,
               "start_date": start.isoformat(), "end_date": end.isoformat(), "status": status,
               "group_visit_id": group}
        # Draw every value for every exchange so that one plant does not shift
        # the random stream of the others.
        agenda_days = int(rng.integers(7, 31))
        report_days = int(rng.integers(10, 46))
        pages = int(rng.integers(3, programme.report_max_pages + 1))
        row["agenda_sent_date"] = (start - dt.timedelta(days=agenda_days)).isoformat()
        if plant == "agenda_not_sent":
            row["agenda_sent_date"] = (start + dt.timedelta(days=2)).isoformat()
        if status != "draft" and plant != "report_missing":
            row["report_received_date"] = (end + dt.timedelta(days=report_days)).isoformat()
            row["report_pages"] = programme.report_max_pages + 3 if plant == "report_too_long" else pages
            row["report_language"] = "fr" if plant == "report_language" else programme.report_language
        if status == "validated":
            # The controller validates two weeks after the report (or a month after the visit
            # when no report came); no random draw, so the other columns do not move.
            received = row.get("report_received_date")
            validated = (_date(received) + dt.timedelta(days=14)) if received else end + dt.timedelta(days=30)
            row["validated_on"] = validated.isoformat()
        rows.append(row)
    return _frame("exchanges", rows)


def _expenses(rng: np.random.Generator, exchanges: pd.DataFrame, programme) -> pd.DataFrame:
    fx = _fx_table()
    currency_of = {c[0]: c[3] for c in CITIES}
    plan = {p[0]: p for p in EXCHANGE_PLAN}
    rows = []
    for ex in exchanges.itertuples(index=False):
        home = _OFFICER_HOME[ex.officer_id]
        host = ex.host_city
        plant = plan[ex.exchange_id][6]
        start, end = _date(ex.start_date), _date(ex.end_date)
        days = (end - start).days + 1
        level = PRICE_LEVEL[host]
        km = _distance_km(home, host)
        # Every exchange draws the same number of values, whatever its plant.
        u = rng.uniform(0.9, 1.1, size=4)
        extra = rng.uniform(0.0, 60.0)
        insurance = rng.uniform(18.0, 45.0)
        lines = {  # category -> (EUR amount, quantity)
            "travel": (min(max(150 + 0.25 * km, 220), 680) * u[0], 1.0),
            "accommodation": (110 * level * u[1] * days, float(days)),
            "meals": (25 * level * u[2] * 2 * days, float(2 * days)),
            "local_transport": (90 * level * u[3], 1.0),
        }
        if home in INSURING_CITIES:
            lines["insurance"] = (insurance, 1.0)
        # Keep totals inside 1,050-1,480 EUR by adjusting travel: host price
        # level still shows in accommodation and meals.
        total = sum(a for a, _ in lines.values())
        target = min(max(total, 1050 + extra), 1480 - extra)
        travel = max(lines["travel"][0] + target - total, 150.0)
        lines["travel"] = (travel, 1.0)
        if plant == "over_cap":
            lines = {cat: (amount, qty) for cat, amount, qty in OVER_CAP_LINES}

        currency = currency_of[home]
        rate = 1.0 if currency == "EUR" else fx[(currency, _month(start))]
        for category in _LINE_CATEGORIES:
            if category not in lines:
                continue
            amount_eur, quantity = lines[category]
            line_currency, line_rate = currency, rate
            if plant == "missing_fx_rate" and category == "local_transport":
                # Paid on the spot in the host's currency, in the month with no rate.
                line_currency, line_rate = "SEK", fx[FX_GAP]
            amount = amount_eur * line_rate
            amount = float(round(amount)) if line_currency == "HUF" else round(amount, 2)
            rows.append({"exchange_id": ex.exchange_id, "category": category, "amount": amount,
                         "currency": line_currency, "quantity": quantity,
                         "description": _expense_description(category, home, host, km, quantity)})
    for i, row in enumerate(rows, start=1):
        row["expense_id"] = f"E{i:04d}"
    return _frame("expenses", rows)


def _expense_description(category: str, home: str, host: str, km: float, quantity: float) -> str:
    home_name, host_name = _CITY[home][1], _CITY[host][1]
    if category == "travel":
        mode = "flight" if km > 600 else "train"
        return f"Return {mode} {home_name}–{host_name}"
    if category == "accommodation":
        return f"Hotel in {host_name}, {int(quantity)} nights"
    if category == "meals":
        return f"Meals, {int(quantity)} × per diem"
    if category == "local_transport":
        return f"Local transport in {host_name}"
    return "Travel insurance"


def _assessments(rng: np.random.Generator) -> pd.DataFrame:
    model = load_cluster_model()
    phases = model.phases
    n_clusters = len(CLUSTERS)
    # Phase the cluster is working on at each round (index into phases).
    first = rng.choice(len(phases), size=n_clusters, p=[0.25, 0.35, 0.3, 0.1])
    if (first >= 1).sum() < 2:  # need clusters that can move down
        first[:2] = 1
    step = rng.choice([0, 1], size=n_clusters, p=[0.45, 0.55])
    second = np.minimum(first + step, len(phases) - 1)
    # The model says development is not linear: two clusters slip back.
    can_drop = np.flatnonzero(first >= 1)
    for i in rng.choice(can_drop, size=2, replace=False):
        second[i] = first[i] - 1

    rows = []
    for round_no, (round_date, current) in enumerate(zip(ASSESSMENT_ROUNDS, (first, second))):
        year = _date(round_date).year
        for c, (cluster_id, *_rest) in enumerate(CLUSTERS):
            assessed_on = (_date(round_date) + dt.timedelta(days=int(rng.integers(-10, 11))))
            assessor = ASSESSORS[int(rng.integers(0, len(ASSESSORS)))]
            for p, phase in enumerate(phases):
                n = len(phase.results)
                scores = _phase_scores(rng, n, p, int(current[c]), model.max_score)
                for criterion, score in zip(phase.results, scores):
                    evidence = None
                    if rng.random() < 0.3:
                        document = EVIDENCE_DOCUMENTS.get(phase.id, ("Interview",))[
                            int(rng.integers(0, 4))]
                        evidence = (f"{document} ({year})" if score == model.max_score
                                    else f"{document} in preparation" if score > 0
                                    else "No evidence yet")
                    rows.append({"cluster_id": cluster_id, "assessed_on": assessed_on.isoformat(),
                                 "assessor": assessor, "criterion_id": criterion.id,
                                 "score": int(score), "evidence": evidence})
    return _frame("assessments", rows)


def _phase_scores(rng: np.random.Generator, n: int, phase_index: int, current: int,
                  max_score: int) -> np.ndarray:
    """Scores coherent with the cluster's current phase.

    Earlier phases: at least 80% of criteria fully met (so also >= 80% of the
    maximum points); current phase: partly (at most half fully met, so below
    80% on either reading); later phases: mostly 0.
    """
    if phase_index < current:
        full = int(rng.integers(math.ceil(0.8 * n), n + 1))
        scores = np.array([max_score] * full + [1] * (n - full))
    elif phase_index == current:
        full = int(rng.integers(0, n // 2 + 1))
        partly = int(rng.integers(1, n - full + 1))
        scores = np.array([max_score] * full + [1] * partly + [0] * (n - full - partly))
    else:
        scores = np.where(rng.random(n) < 0.15, 1, 0)
    return rng.permutation(scores)


def _practices(rng: np.random.Generator, exchanges: pd.DataFrame, programme) -> pd.DataFrame:
    model = load_cluster_model()
    clusters_of = {}
    for cluster_id, _name, city, _sector in CLUSTERS:
        clusters_of.setdefault(city, []).append(cluster_id)
    descriptions = {title: text for items in PRACTICE_CATALOGUE.values() for title, text in items}
    rows = []
    for ex in exchanges.itertuples(index=False):
        if ex.status == "draft":
            continue
        host = ex.host_city
        count = int(rng.integers(1, 5))
        chosen: list[tuple[str, str]] = []  # (title, theme)
        if ex.exchange_id in SHARED_PRACTICE_EXCHANGES:
            chosen.append(SHARED_PRACTICE)
        if ex.exchange_id == QUOTED_PRACTICE_EXCHANGE:
            chosen.append(QUOTED_PRACTICE[:2])
        weights = np.array([HOST_THEME_WEIGHTS.get(host, {}).get(t, 1) for t in programme.themes],
                           dtype=float)
        while len(chosen) < count:
            theme = programme.themes[rng.choice(len(programme.themes), p=weights / weights.sum())]
            title = PRACTICE_CATALOGUE[theme][int(rng.integers(0, len(PRACTICE_CATALOGUE[theme])))][0]
            if title not in {t for t, _ in chosen}:
                chosen.append((title, theme))
        for title, theme in chosen:
            description = QUOTED_PRACTICE[2] if title == QUOTED_PRACTICE[0] else descriptions[title]
            phase = model.phase_ids[int(rng.integers(0, 4))] if rng.random() < 0.6 else None
            host_clusters = clusters_of.get(host, [])
            cluster_id = (host_clusters[int(rng.integers(0, len(host_clusters)))]
                          if host_clusters and rng.random() < 0.7 else None)
            rows.append({"exchange_id": ex.exchange_id, "title": title,
                         "description": f"{description} Seen in {_CITY[host][1]}.",
                         "theme": theme, "phase": phase,
                         "transferability": int(rng.integers(1, 6)), "cluster_id": cluster_id})
    for i, row in enumerate(rows, start=1):
        row["practice_id"] = f"P{i:03d}"
    return _frame("practices", rows)


def _links(rng: np.random.Generator, exchanges: pd.DataFrame) -> pd.DataFrame:
    clusters_of = {}
    for cluster_id, _name, city, _sector in CLUSTERS:
        clusters_of.setdefault(city, []).append(cluster_id)
    # Links come from real visits between two different partner cities.
    eligible = [ex for ex in exchanges.itertuples(index=False)
                if ex.status != "draft" and ex.host_city in clusters_of
                and ex.host_city != _OFFICER_HOME[ex.officer_id]]
    rows = []
    for i in rng.permutation(len(eligible)):
        if len(rows) >= LINKS_WITH_EXCHANGE:
            break
        ex = eligible[i]
        home = _OFFICER_HOME[ex.officer_id]
        for _ in range(int(rng.integers(1, 3))):
            if len(rows) >= LINKS_WITH_EXCHANGE:
                break
            created = _date(ex.end_date) + dt.timedelta(days=int(rng.integers(7, 151)))
            rows.append({"exchange_id": ex.exchange_id,
                         "from_cluster": rng.choice(clusters_of[home]),
                         "to_cluster": rng.choice(clusters_of[ex.host_city]),
                         "kind": LINK_KINDS[rng.choice(len(LINK_KINDS), p=LINK_KIND_WEIGHTS)],
                         "created_on": created.isoformat()})
    # A few links the cities reported without tying them to an exchange.
    cities = sorted(clusters_of)
    for _ in range(LINKS_WITHOUT_EXCHANGE):
        a, b = rng.choice(len(cities), size=2, replace=False)
        created = _date("2009-09-01") + dt.timedelta(days=int(rng.integers(0, 480)))
        rows.append({"exchange_id": None,
                     "from_cluster": rng.choice(clusters_of[cities[a]]),
                     "to_cluster": rng.choice(clusters_of[cities[b]]),
                     "kind": LINK_KINDS[rng.choice(len(LINK_KINDS), p=LINK_KIND_WEIGHTS)],
                     "created_on": created.isoformat()})
    rows.sort(key=lambda r: (r["created_on"], r["exchange_id"] or ""))
    for i, row in enumerate(rows, start=1):
        row["link_id"] = f"L{i:03d}"
        row["from_cluster"] = str(row["from_cluster"])
        row["to_cluster"] = str(row["to_cluster"])
    return _frame("links", rows)


def generate_tables(seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """The base sample as raw tables (values as they appear in the CSV files)."""
    programme = load_programme()
    # One generator per table so that changing one table's recipe does not
    # change the others.
    rngs = dict(zip(("exchanges", "expenses", "assessments", "practices", "links"),
                    np.random.default_rng(seed).spawn(5)))
    exchanges = _exchanges(rngs["exchanges"], programme)
    tables = {
        "cities": _cities(),
        "officers": _officers(),
        "exchanges": exchanges,
        "expenses": _expenses(rngs["expenses"], exchanges, programme),
        "fx_rates": _fx_rates(),
        "clusters": _clusters(),
        "assessments": _assessments(rngs["assessments"]),
        "practices": _practices(rngs["practices"], exchanges, programme),
        "links": _links(rngs["links"], exchanges),
    }
    return {name: tables[name] for name in TABLES}


# ====================================================================== writing
# Marks where a copy suffix goes; replaced in the CSV bytes, so scaling up is a
# byte-level replace per copy instead of rebuilding frames.
_MARK = "\x1f"


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _write_table(frame: pd.DataFrame, path: Path, id_columns: tuple[str, ...], scale: int) -> None:
    marked = frame.copy()
    for col in id_columns if scale > 1 else ():
        marked[col] = marked[col] + _MARK  # missing stays missing
    header, body = _csv_bytes(marked).split(b"\n", 1)
    mark = _MARK.encode()
    expected_marks = int(marked[list(id_columns)].notna().sum().sum()) if scale > 1 else 0
    if mark in header or body.count(mark) != expected_marks:
        raise RuntimeError(f"{path.name}: id columns are quoted or contain a separator")
    # Streamed to a hidden file beside the target, then renamed: an interrupted run never
    # leaves a half-written table under its final name (readers skip hidden files).
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as fh:
            fh.write(header + b"\n")
            if scale == 1 or not id_columns:  # shared tables are written once
                fh.write(body.replace(mark, b""))
            else:
                width = max(6, len(str(scale - 1)))
                batch = max(1, (4 << 20) // max(len(body), 1))  # about 4 MB per write
                for first in range(0, scale, batch):
                    fh.write(b"".join(body.replace(mark, f"-{copy:0{width}d}".encode())
                                      for copy in range(first, min(first + batch, scale))))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _synthetic_note(seed: int, scale: int) -> str:
    lines = [
        "SYNTHETIC DATA - not real CLUSNET records.",
        "",
        "Generated by clusnet_analysis.sample (write_sample).",
        f"seed: {seed}",
        f"scale: {scale}",
        "",
        "Officer names and cluster names are fictional; any resemblance to real",
        "persons or organisations is coincidental.",
        "",
    ]
    if scale == 1:
        lines.append("Planted rule breaches (rule_id, subject):")
        lines += [f"  {rule}: {subject}" for rule, subject in PLANTED_FINDINGS]
    else:
        lines.append(f"The base sample is repeated {scale} times; ids of officers, exchanges,")
        lines.append("expenses, practices and links carry a copy suffix such as -000042.")
    return "\n".join(lines) + "\n"


def write_sample(out_dir: str | Path = config.SAMPLE_DATA_DIR, scale: int = 1,
                 seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the sample as one CSV per table plus SYNTHETIC.txt; return the paths.

    ``scale`` repeats officers, exchanges, expenses, practices and links that
    many times (ids suffixed with the copy number) for benchmarks. Output is
    byte-identical for the same seed and scale.
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"scale must be a whole number of at least 1, got {scale!r}")
    scale = int(scale)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = generate_tables(seed)
    paths = []
    for name, frame in tables.items():
        path = out / f"{name}.csv"
        _write_table(frame, path, REPLICATED_ID_COLUMNS.get(name, ()), scale)
        paths.append(path)
    note = out / config.SYNTHETIC_MARKER
    atomic_write_bytes(note, _synthetic_note(seed, scale).encode("utf-8"))
    paths.append(note)
    return paths
