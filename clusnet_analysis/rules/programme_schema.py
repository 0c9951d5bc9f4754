"""The programme file's keys and the checks of their values.

Every key the programme file may hold is listed in :data:`KEYS`; anything else is
refused with a close-match suggestion, so a typo can never switch a rule off in
silence. The value readers below refuse nonsense (a negative cap, a string where a
number belongs, ``true`` where a limit belongs) with one line naming the file, the
key and the problem: ``<file>: `<key>`: <problem>``.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import re
import tomllib
from pathlib import Path
from typing import NoReturn


class ProgrammeError(ValueError):
    """The programme file (or the cluster model file it names) is missing, unreadable, incomplete or wrong."""


#: A table whose sub-keys are free (names chosen by the programme: cities, categories).
MAPPING = "mapping"
#: A table owned by other work and accepted with any sub-keys.
ANY = "any"

# key -> None (a value), a dict (a table: its keys), [dict] (an array of tables), MAPPING or ANY.
# A dict may also stand for "a value or a table of these keys" (visit.days = 5 or { min, max }).
KEYS: dict = {
    "programme": {"id": None, "name": None, "title": None, "lead_city": None, "currency": None,
                  "source": None, "tables": None, "cluster_model": None},
    "participants": {"partner_cities": None, "officers_per_city": None, "eligible_employer_types": None,
                     "known_employer_types": None, "max_concurrent_per_city": None},
    "window": {"start": None, "end": None},
    "periods": [{"id": None, "label": None, "start": None, "end": None}],
    "visit": {"days": {"min": None, "max": None}, "nights": None},
    "budget": {"cap_eur": None, "programme_budget_eur": None, "conversion_month": None,
               "allocation_eur": MAPPING, "reference_eur": MAPPING},
    "expenses": {"categories": None},
    "reports": {"max_pages": None, "language": None, "agenda_before_visit": None, "report_required": None},
    "themes": {"ids": None, "labels": None},
    "cluster_model": {"threshold": None},
    "eligibility": {"extra_ineligible_rules": None},
    "report_structure": ANY,
    "collection": {"send_to": None, "cities": ANY},
}


def _all_keys(spec=KEYS, prefix: str = "") -> list[str]:
    out = []
    for name, sub in spec.items():
        key = f"{prefix}{name}"
        out.append(key)
        if isinstance(sub, list):
            sub = sub[0]
        if isinstance(sub, dict):
            out += _all_keys(sub, key + ".")
    return out


KNOWN_KEYS: tuple[str, ...] = tuple(_all_keys())


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> str:
    """Control characters (a newline in a quoted key) escaped, so an error stays one line."""
    return _CONTROL.sub(lambda m: json.dumps(m.group())[1:-1], text)


def fail(source: Path, key: str, problem: str) -> NoReturn:
    raise ProgrammeError(f"{source}: `{_printable(key)}`: {_printable(problem)}")


def _suggestion(key: str, siblings: list[str]) -> str:
    parent, _, name = key.rpartition(".")
    close = difflib.get_close_matches(name, siblings, n=1, cutoff=0.6)
    if close:
        return f"; did you mean `{parent + '.' if parent else ''}{close[0]}`?"
    # The right name in the wrong table: `budget.max_pages` -> `reports.max_pages`.
    by_name = {k.rpartition(".")[2]: k for k in KNOWN_KEYS if "." in k}
    close = difflib.get_close_matches(name, list(by_name), n=1, cutoff=0.8)
    if close:
        return f"; did you mean `{by_name[close[0]]}`?"
    if siblings:
        return "; known keys here: " + ", ".join(siblings)
    return ""


def check_keys(data: dict, source: Path, spec: dict = KEYS, prefix: str = "", where: str = "") -> None:
    """Refuse the first unknown key, naming it and suggesting a close known one."""
    for name, value in data.items():
        key = f"{prefix}{name}"
        if name not in spec:
            fail(source, key, f"unknown key{where}{_suggestion(key, list(spec))}")
        sub = spec[name]
        if sub in (ANY, None):
            continue
        if sub == MAPPING:
            if isinstance(value, dict):
                for k, v in value.items():
                    if isinstance(v, (dict, list)):
                        fail(source, f"{key}.{k}", f"must be a number, not a {'table' if isinstance(v, dict) else 'list'}")
            continue
        if isinstance(sub, list):
            if isinstance(value, list):
                for i, item in enumerate(value, start=1):
                    if isinstance(item, dict):
                        label = f" (in [[{key}]] number {i}" + (f", id {item['id']}" if "id" in item else "") + ")"
                        check_keys(item, source, sub[0], key + ".", label)
            continue
        if isinstance(value, dict):
            check_keys(value, source, sub, key + ".", where)


def read_toml(source: Path, what: str) -> dict:
    try:
        with open(source, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ProgrammeError(f"{source}: {what} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProgrammeError(f"{source}: not valid TOML ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise ProgrammeError(f"{source}: not valid TOML (the file must be saved as UTF-8)") from exc
    except OSError as exc:  # a folder, no permission…
        raise ProgrammeError(f"{source}: cannot read {what} ({exc.strerror or exc})") from exc


# ------------------------------------------------------------------ values
def show(value) -> str:
    """A value as it is written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)   # TOML's basic string escapes
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)


OFF_HINT = ", or false to switch the rule off"


def number(value, key: str, source: Path, *, whole: bool = False, above: float | None = None,
           at_least: float | None = None, at_most: float | None = None, can_switch_off: bool = False):
    """A number (int when ``whole``), or None for an explicit ``false`` when the rule can be switched off."""
    hint = OFF_HINT if can_switch_off else ""
    what = "a whole number" if whole else "a number"
    if isinstance(value, bool):
        if value is False and can_switch_off:
            return None
        if can_switch_off:
            fail(source, key, f"true is not a limit: write {what}{hint}")
        fail(source, key, f"must be {what}, not {show(value)}")
    if isinstance(value, str):
        fail(source, key, f"must be {what}{hint}, not text ({show(value)})")
    if not isinstance(value, (int, float)):
        fail(source, key, f"must be {what}{hint}, not {show(value)}")
    if not math.isfinite(value):
        fail(source, key, f"must be a finite number, got {value}")
    if whole:
        if not float(value).is_integer():
            fail(source, key, f"must be a whole number, got {show(value)}")
        value = int(value)
    if above is not None and not value > above:
        fail(source, key, f"must be more than {above:g}{hint}; got {show(value)}")
    if at_least is not None and value < at_least:
        fail(source, key, f"must be {at_least:g} or more{hint}; got {show(value)}")
    if at_most is not None and value > at_most:
        fail(source, key, f"must be {at_most:g} or less; got {show(value)}")
    return value if whole else float(value)


def boolean(value, key: str, source: Path) -> bool:
    if not isinstance(value, bool):
        fail(source, key, f"must be true or false, not {show(value)}")
    return value


def text(value, key: str, source: Path, *, pattern: str | None = None, form: str | None = None,
         can_switch_off: bool = False) -> str | None:
    if value is False and can_switch_off:
        return None
    hint = OFF_HINT if can_switch_off else ""
    if not isinstance(value, str):
        fail(source, key, f"must be text in quotes{hint}, not {show(value)}")
    if not value.strip():
        fail(source, key, "must not be empty")
    if pattern is not None and not re.fullmatch(pattern, value):
        fail(source, key, f"must be {form}{hint}; got {show(value)}")
    return value


def text_list(value, key: str, source: Path, *, non_empty: bool = True, unique: bool = True) -> tuple[str, ...]:
    if not isinstance(value, list):
        fail(source, key, f'must be a list in square brackets, e.g. ["a", "b"], not {show(value)}')
    for item in value:
        if not isinstance(item, str) or not item.strip():
            fail(source, key, f"every entry must be non-empty text in quotes; got {show(item)}")
    if non_empty and not value:
        fail(source, key, "must not be empty")
    if unique:
        seen = set()
        for item in value:
            if item in seen:
                fail(source, key, f"{show(item)} is listed twice")
            seen.add(item)
    return tuple(value)


def date(value, key: str, source: Path, where: str = "") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    fail(source, key, f"{where}must be a date written YYYY-MM-DD, not {show(value)}")


def table(data: dict, key: str, source: Path, *, required: bool = True) -> dict:
    """The sub-table ``key`` of ``data`` ({} when optional and absent)."""
    name = key.rpartition(".")[2]
    if name not in data:
        if required:
            fail(source, key, f"missing: the file needs a [{key}] table")
        return {}
    value = data[name]
    if not isinstance(value, dict):
        fail(source, key, f"must be a table ([{key}]), not {show(value)}")
    return value


def required(data: dict, key: str, source: Path, hint: str = ""):
    name = key.rpartition(".")[2]
    if name not in data:
        fail(source, key, "missing: this setting is required" + (f" ({hint})" if hint else ""))
    return data[name]
