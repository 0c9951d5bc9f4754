"""Deterministic synthetic data set of a second programme: staff mobility between 48 countries.

The programme file is the bundled ``programmes/mobility.toml``: countries play the
part of cities (ISO 3166 codes as city ids), visits last 1 to 4 days, the periods
are the years 2014-2016, expenses are travel and accommodation only, there is no
officer quota, no limit on colleagues away at once, no report rules and none of
the optional tables. It is what a user of another programme brings, so it tests
the promise that such a programme needs a file, not code.

About 9,500 visits by about 5,000 staff members: travel paid in the home country's
currency (a distance band of the great-circle distance between capitals), one
night's accommodation per day after the first, paid in the host country's
currency at its price level; monthly exchange rates for the 29 currencies
involved, close to the yearly averages of the time. A handful of realistic
mistakes is planted (see :data:`PLANT_COUNTS`); every other visit keeps every rule,
so a validation lists exactly the planted findings (:attr:`MobilitySample.planted`).

``write_mobility_sample(out_dir, seed)`` writes one CSV per table, the programme
file as ``programme.toml`` and ``SYNTHETIC.txt``. Same seed, same bytes.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from clusnet_analysis import config
from clusnet_analysis.ingest.schemas import column_kinds
from clusnet_analysis.rules.programme import load_programme

DEFAULT_SEED = 2014
PROGRAMME_FILE = config.PROGRAMMES_DIR / "mobility.toml"
N_EXCHANGES = 9552
N_STAFF = 5000
TABLES = ("cities", "officers", "exchanges", "expenses", "fx_rates")

# code, name, currency, capital latitude, longitude, size (share of staff and visits),
# price level (accommodation, 1 = 90 EUR a night).
COUNTRIES = [
    ("AT", "Austria", "EUR", 48.21, 16.37, 3, 1.15), ("BE", "Belgium", "EUR", 50.85, 4.35, 3, 1.15),
    ("CY", "Cyprus", "EUR", 35.17, 33.36, 1, 0.95), ("DE", "Germany", "EUR", 52.52, 13.40, 10, 1.10),
    ("EE", "Estonia", "EUR", 59.44, 24.75, 1, 0.85), ("ES", "Spain", "EUR", 40.42, -3.70, 8, 1.00),
    ("FI", "Finland", "EUR", 60.17, 24.94, 2, 1.25), ("FR", "France", "EUR", 48.86, 2.35, 9, 1.20),
    ("GR", "Greece", "EUR", 37.98, 23.73, 3, 0.90), ("IE", "Ireland", "EUR", 53.35, -6.26, 2, 1.30),
    ("IT", "Italy", "EUR", 41.90, 12.50, 8, 1.10), ("LT", "Lithuania", "EUR", 54.69, 25.28, 1, 0.80),
    ("LU", "Luxembourg", "EUR", 49.61, 6.13, 1, 1.35), ("LV", "Latvia", "EUR", 56.95, 24.11, 1, 0.80),
    ("MT", "Malta", "EUR", 35.90, 14.51, 1, 0.95), ("NL", "Netherlands", "EUR", 52.37, 4.90, 4, 1.20),
    ("PT", "Portugal", "EUR", 38.72, -9.14, 3, 0.90), ("SI", "Slovenia", "EUR", 46.06, 14.51, 1, 0.90),
    ("SK", "Slovakia", "EUR", 48.15, 17.11, 2, 0.80), ("ME", "Montenegro", "EUR", 42.44, 19.26, 1, 0.70),
    ("BG", "Bulgaria", "BGN", 42.70, 23.32, 2, 0.65), ("CZ", "Czechia", "CZK", 50.08, 14.44, 3, 0.80),
    ("DK", "Denmark", "DKK", 55.68, 12.57, 2, 1.40), ("GB", "United Kingdom", "GBP", 51.51, -0.13, 8, 1.35),
    ("HR", "Croatia", "HRK", 45.81, 15.98, 1, 0.85), ("HU", "Hungary", "HUF", 47.50, 19.04, 3, 0.75),
    ("PL", "Poland", "PLN", 52.23, 21.01, 6, 0.75), ("RO", "Romania", "RON", 44.43, 26.10, 3, 0.70),
    ("SE", "Sweden", "SEK", 59.33, 18.07, 3, 1.30), ("IS", "Iceland", "ISK", 64.15, -21.94, 1, 1.50),
    ("LI", "Liechtenstein", "CHF", 47.14, 9.52, 1, 1.60), ("NO", "Norway", "NOK", 59.91, 10.75, 2, 1.50),
    ("CH", "Switzerland", "CHF", 46.95, 7.45, 3, 1.60), ("TR", "Turkey", "TRY", 39.93, 32.86, 5, 0.70),
    ("MK", "North Macedonia", "MKD", 42.00, 21.43, 1, 0.60), ("RS", "Serbia", "RSD", 44.79, 20.45, 1, 0.65),
    ("AL", "Albania", "ALL", 41.33, 19.82, 1, 0.60), ("BA", "Bosnia and Herzegovina", "BAM", 43.86, 18.41, 1, 0.60),
    ("UA", "Ukraine", "UAH", 50.45, 30.52, 2, 0.55), ("GE", "Georgia", "GEL", 41.72, 44.79, 1, 0.60),
    ("MD", "Moldova", "MDL", 47.01, 28.86, 1, 0.55), ("AM", "Armenia", "AMD", 40.18, 44.51, 1, 0.60),
    ("TN", "Tunisia", "TND", 36.81, 10.18, 1, 0.60), ("MA", "Morocco", "MAD", 34.02, -6.83, 1, 0.65),
    ("IL", "Israel", "ILS", 31.77, 35.21, 2, 1.30), ("EG", "Egypt", "EGP", 30.04, 31.24, 1, 0.60),
    ("JO", "Jordan", "JOD", 31.95, 35.93, 1, 0.85), ("LB", "Lebanon", "LBP", 33.89, 35.50, 1, 0.90),
    # In the cities table but not in the programme: a few visits go there by mistake.
    ("US", "United States", "USD", 38.91, -77.04, 0, 1.50), ("JP", "Japan", "JPY", 35.68, 139.69, 0, 1.40),
]
_COUNTRY = {c[0]: c for c in COUNTRIES}

# Units per EUR, yearly averages 2014, 2015, 2016 (close to the reference rates of the time).
FX_YEARLY = {
    "BGN": (1.9558, 1.9558, 1.9558), "CZK": (27.536, 27.279, 27.034), "DKK": (7.4548, 7.4587, 7.4452),
    "GBP": (0.8061, 0.7258, 0.8195), "HRK": (7.6344, 7.6137, 7.5333), "HUF": (308.71, 309.99, 311.44),
    "PLN": (4.1843, 4.1841, 4.3632), "RON": (4.4437, 4.4454, 4.4904), "SEK": (9.0985, 9.3535, 9.4689),
    "ISK": (154.86, 146.46, 133.59), "CHF": (1.2146, 1.0679, 1.0902), "NOK": (8.3544, 8.9496, 9.2906),
    "TRY": (2.9065, 3.0255, 3.3433), "MKD": (61.62, 61.61, 61.60), "RSD": (117.31, 120.73, 123.12),
    "ALL": (140.26, 139.74, 137.36), "BAM": (1.9558, 1.9558, 1.9558), "UAH": (15.72, 24.23, 28.29),
    "GEL": (2.35, 2.51, 2.60), "MDL": (18.63, 20.91, 22.07), "AMD": (547.6, 530.9, 528.3),
    "TND": (2.25, 2.17, 2.37), "MAD": (11.15, 10.82, 10.84), "ILS": (4.75, 4.31, 4.25),
    "EGP": (9.41, 8.53, 10.06), "JOD": (0.94, 0.79, 0.78), "LBP": (2000.0, 1672.0, 1669.0),
    "USD": (1.3285, 1.1095, 1.1069), "JPY": (140.31, 134.31, 120.20),
}
PEGGED = ("BGN", "BAM")                      # fixed to the euro: the same rate every month
WHOLE_UNITS = ("HUF", "ISK", "AMD", "LBP", "JPY", "RSD", "ALL", "MKD")   # claimed without decimals
YEARS = (2014, 2015, 2016)
# Planted gap in the rates: the month's PLN rate was never entered.
FX_GAP = ("PLN", "2016-03")

# Return-trip travel by great-circle distance between capitals (km -> EUR, upper bounds).
DISTANCE_BANDS = ((100, 20), (500, 180), (2000, 275), (3000, 360), (4000, 530), (8000, 820), (math.inf, 1100))
NIGHT_EUR = 90.0
DAYS = (1, 2, 3, 4)
DAY_WEIGHTS = (0.12, 0.33, 0.33, 0.22)
EMPLOYERS = ("higher_education", "public_body")
EMPLOYER_WEIGHTS = (0.8, 0.2)

#: How many of each mistake are planted (the rest of the data keeps every rule).
PLANT_COUNTS = {
    "over_cap": 5,            # a four-day visit at a luxury hotel
    "outside_window": 3,      # visits in January 2017, after the programme ended
    "ineligible_employer": 4,  # staff of a private company
    "home_is_host": 2,        # a "visit" to one's own country
    "not_partner_city": 4,    # visits to the United States or Japan
    "visit_length": 6,        # five-day visits
    "draft_excluded": 20,     # claims still in draft
}


@dataclass
class MobilitySample:
    tables: dict[str, pd.DataFrame]            # raw tables, values as in the CSV files
    planted: tuple[tuple[str, str], ...]       # (rule_id, subject_id) a validation must report


def _distance_km(a: str, b: str) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (_COUNTRY[a][3], _COUNTRY[a][4], _COUNTRY[b][3], _COUNTRY[b][4]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def travel_band_eur(home: str, host: str) -> float:
    km = _distance_km(home, host)
    return float(next(eur for limit, eur in DISTANCE_BANDS if km < limit))


def _months() -> list[str]:
    return [f"{y}-{m:02d}" for y in YEARS for m in range(1, 13)]


def _fx_rates(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for currency, yearly in FX_YEARLY.items():
        for month in _months():
            if (currency, month) == FX_GAP:
                continue
            mean = yearly[int(month[:4]) - YEARS[0]]
            rate = mean if currency in PEGGED else mean * (1 + 0.012 * rng.standard_normal())
            rows.append({"month": month, "currency": currency, "units_per_eur": round(rate, 4)})
    return pd.DataFrame(rows)


def _weekdays(start: dt.date, end: dt.date) -> list[dt.date]:
    days = (start + dt.timedelta(days=i) for i in range((end - start).days + 1))
    return [d for d in days if d.weekday() < 5]


def generate(seed: int = DEFAULT_SEED) -> MobilitySample:
    """The data set as raw tables, and the findings a validation must report."""
    programme = load_programme(PROGRAMME_FILE)
    partners = list(programme.partner_cities)
    missing = set(partners) - set(_COUNTRY)
    if missing:
        raise RuntimeError(f"{PROGRAMME_FILE.name}: partner countries without data: {sorted(missing)}")
    rng_staff, rng_visits, rng_costs, rng_fx = np.random.default_rng(seed).spawn(4)

    cities = pd.DataFrame([{"city_id": c, "name": n, "country": c, "currency": cur, "lat": lat, "lon": lon}
                           for c, n, cur, lat, lon, _, _ in COUNTRIES])

    # Staff: per country in proportion to its size, at least 3.
    size = np.array([_COUNTRY[c][5] for c in partners], dtype=float)
    per_country = np.maximum(3, np.round(N_STAFF * size / size.sum())).astype(int)
    homes = np.repeat(partners, per_country)
    employer = rng_staff.choice(EMPLOYERS, size=len(homes), p=EMPLOYER_WEIGHTS)
    officers = pd.DataFrame({
        "officer_id": [f"S{i:05d}" for i in range(1, len(homes) + 1)],
        "home_city": homes,
        "employer_type": employer,
        "name": [f"Staff member {i:05d}" for i in range(1, len(homes) + 1)],
        "role": np.where(employer == "higher_education", "academic or administrative staff", "civil servant"),
    })
    planted: list[tuple[str, str]] = []
    company = rng_staff.choice(len(officers), size=PLANT_COUNTS["ineligible_employer"], replace=False)
    officers.loc[company, "employer_type"] = "enterprise"
    officers.loc[company, "role"] = "company staff"
    planted += [("ineligible_employer", o) for o in officers.loc[company, "officer_id"]]

    # Visits: an officer (some travel more than once), a host weighted by size, a weekday start
    # (fewer in July, August and December), 1-4 days.
    n = N_EXCHANGES
    officer_pos = rng_visits.integers(0, len(officers), size=n)
    home = officers["home_city"].to_numpy()[officer_pos]
    host_weight = size ** 0.8
    host = np.empty(n, dtype=object)
    for i, h in enumerate(home):
        w = np.where(np.array(partners) == h, 0.0, host_weight)
        host[i] = partners[rng_visits.choice(len(partners), p=w / w.sum())]
    starts = _weekdays(dt.date(2014, 1, 6), dt.date(2016, 12, 16))
    season = np.array([{7: 0.7, 8: 0.3, 12: 0.6}.get(d.month, 1.0) for d in starts])
    start = [starts[i] for i in rng_visits.choice(len(starts), size=n, p=season / season.sum())]
    days = rng_visits.choice(DAYS, size=n, p=DAY_WEIGHTS).astype(int)
    status = np.full(n, "validated", dtype=object)
    late = np.array([s >= dt.date(2016, 10, 1) for s in start])
    status[late & (rng_visits.random(n) < 0.5)] = "submitted"
    night_eur = np.array([NIGHT_EUR * _COUNTRY[h][6] for h in host]) * rng_costs.uniform(0.8, 1.2, size=n)
    travel_eur = np.array([travel_band_eur(a, b) for a, b in zip(home, host)]) * rng_costs.uniform(0.55, 1.0, size=n)

    # Planted mistakes, each on its own visits (drawn without replacement).
    eur_home = np.array([_COUNTRY[h][2] == "EUR" for h in home])
    chosen = rng_visits.permutation(np.flatnonzero(eur_home & ~late))
    take = iter(chosen)
    plant = {}
    for rule in ("over_cap", "outside_window", "home_is_host", "not_partner_city", "visit_length"):
        plant[rule] = [next(take) for _ in range(PLANT_COUNTS[rule])]
    for i in plant["over_cap"]:
        days[i], night_eur[i], travel_eur[i] = 4, 330.0 + 10 * rng_costs.random(), 560.0
    for k, i in enumerate(plant["outside_window"]):
        start[i], days[i], status[i] = dt.date(2017, 1, 9) + dt.timedelta(days=7 * k), 3, "submitted"
        host[i] = next(p for p in ("AT", "DE", "FR") if p != home[i])
        night_eur[i] = NIGHT_EUR * _COUNTRY[host[i]][6]
    for i in plant["home_is_host"]:
        host[i], days[i], travel_eur[i] = home[i], 1, 20.0
    for k, i in enumerate(plant["not_partner_city"]):
        host[i], days[i] = ("US", "JP")[k % 2], 2
        travel_eur[i] = travel_band_eur(home[i], host[i]) * 0.8
        night_eur[i] = NIGHT_EUR * _COUNTRY[host[i]][6]
    for i in plant["visit_length"]:
        days[i], night_eur[i] = 5, min(night_eur[i], 110.0)
    planted_rows = {i for rows in plant.values() for i in rows}
    drafts = rng_visits.choice(np.setdiff1d(np.arange(n), list(planted_rows)), size=PLANT_COUNTS["draft_excluded"],
                               replace=False)
    status[drafts] = "draft"

    # Exchange ids in date order, as a programme office numbers them.
    order = sorted(range(n), key=lambda i: (start[i], officers["officer_id"].iat[officer_pos[i]]))
    ids = np.empty(n, dtype=object)
    for k, i in enumerate(order, start=1):
        ids[i] = f"M{k:05d}"
    end = [s + dt.timedelta(days=int(d) - 1) for s, d in zip(start, days)]
    exchanges = pd.DataFrame({
        "exchange_id": ids, "officer_id": officers["officer_id"].to_numpy()[officer_pos], "host_city": host,
        "start_date": [s.isoformat() for s in start], "end_date": [e.isoformat() for e in end], "status": status,
    }).iloc[order].reset_index(drop=True)
    planted += [(rule, ids[i]) for rule, rows in plant.items() for i in rows]
    planted += [("draft_excluded", ids[i]) for i in drafts]

    # Expenses: travel in the home currency, accommodation (days - 1 nights) in the host currency,
    # converted at the rate of the month the visit started.
    fx = _fx_rates(rng_fx)
    rate = {(m, c): r for m, c, r in fx.itertuples(index=False)}
    totals = np.zeros(n)
    lines = []
    for i in order:
        month = start[i].strftime("%Y-%m")
        for category, eur, country, quantity in (("travel", travel_eur[i], home[i], 1),
                                                 ("accommodation", night_eur[i] * (days[i] - 1), host[i],
                                                  days[i] - 1)):
            if quantity == 0:
                continue
            currency = _COUNTRY[country][2]
            # The claimant paid at the market rate, even in the month whose rate was never entered.
            units = 1.0 if currency == "EUR" else rate.get((month, currency),
                                                           FX_YEARLY[currency][int(month[:4]) - YEARS[0]])
            amount = round(eur * units, 0 if currency in WHOLE_UNITS else 2)
            totals[i] += amount / units
            description = (f"return trip {home[i]}-{host[i]}" if category == "travel"
                           else f"{quantity} night{'s' if quantity > 1 else ''} in {_COUNTRY[host[i]][1]}")
            lines.append((ids[i], category, amount, currency, quantity, description, month, status[i]))
    expenses = pd.DataFrame(lines, columns=["exchange_id", "category", "amount", "currency", "quantity",
                                            "description", "_month", "_status"])
    expenses.insert(0, "expense_id", [f"E{k:06d}" for k in range(1, len(expenses) + 1)])
    gap = ((expenses["currency"] == FX_GAP[0]) & (expenses["_month"] == FX_GAP[1])
           & (expenses["_status"] != "draft"))
    planted += [("missing_fx_rate", e) for e in expenses.loc[gap, "expense_id"]]
    expenses = expenses.drop(columns=["_month", "_status"])

    # Every visit that is not planted keeps the cap, with room for rounding.
    unplanted = np.setdiff1d(np.arange(n), plant["over_cap"])
    if totals[unplanted].max() > programme.cap_eur - 50:
        raise RuntimeError("an unplanted visit comes close to the cap; the cost recipe needs a look")
    tables = {"cities": cities, "officers": officers, "exchanges": exchanges, "expenses": expenses, "fx_rates": fx}
    for name, frame in tables.items():   # the columns of the data contract, in its order
        tables[name] = frame[[c for c in column_kinds(name) if c in frame.columns]]
    return MobilitySample(tables, tuple(sorted(planted)))


def _note(seed: int, sample: MobilitySample) -> str:
    counts: dict[str, int] = {}
    for rule, _ in sample.planted:
        counts[rule] = counts.get(rule, 0) + 1
    lines = [
        "SYNTHETIC DATA - not real records of any programme.",
        "",
        "Generated by clusnet_analysis.sample_mobility (write_mobility_sample).",
        f"seed: {seed}",
        f"programme: {PROGRAMME_FILE.name} (copied here as {config.PROGRAMME_FILENAME})",
        f"visits: {len(sample.tables['exchanges'])}, staff: {len(sample.tables['officers'])}, "
        f"expense lines: {len(sample.tables['expenses'])}",
        "",
        "Staff names are placeholders. Exchange rates are close to the yearly averages",
        "of 2014-2016, not official monthly rates.",
        "",
        "Planted findings (rule: how many):",
        *[f"  {rule}: {k}" for rule, k in sorted(counts.items())],
    ]
    return "\n".join(lines) + "\n"


def write_mobility_sample(out_dir: str | Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the data set (one CSV per table), its programme.toml and SYNTHETIC.txt; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sample = generate(seed)
    paths = []
    for name, frame in sample.tables.items():
        path = out / f"{name}.csv"
        path.write_bytes(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        paths.append(path)
    programme = out / config.PROGRAMME_FILENAME
    programme.write_bytes(PROGRAMME_FILE.read_bytes())
    note = out / config.SYNTHETIC_MARKER
    note.write_bytes(_note(seed, sample).encode("utf-8"))
    return [*paths, programme, note]
