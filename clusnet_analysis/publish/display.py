"""What every report notebook does, so the notebooks stay thin.

``start(...)`` loads the data for a period (refusing invalid data unless
allowed), ``banner`` / ``provenance`` show where the numbers come from,
``show`` displays a table with every data value HTML-escaped, ``say`` writes
prose with escaped values, and ``write_headline`` saves the key numbers as JSON
(for tests and the final synthesis).
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from clusnet_analysis import __version__, config
from clusnet_analysis.analysis.periods import FINAL, check_period, period_label, periods_up_to, select_period
from clusnet_analysis.ingest.dataset import Dataset, load
from clusnet_analysis.publish.files import atomic_write_bytes, json_text


class InvalidDataError(RuntimeError):
    """The data has schema errors and the run did not allow building from the valid rows."""


@dataclass
class Period:
    """One report's view of the data: this period and cumulative to its end."""
    ds: Dataset
    period: str
    label: str
    parameters: dict = field(default_factory=dict)

    @property
    def programme(self):
        return self.ds.programme

    @property
    def end_date(self) -> pd.Timestamp:
        if self.period == FINAL:
            return pd.Timestamp(max(p.end for p in self.programme.periods))
        return pd.Timestamp(self.programme.period(self.period).end)

    @property
    def start_date(self) -> pd.Timestamp:
        if self.period == FINAL:
            return pd.Timestamp(min(p.start for p in self.programme.periods))
        return pd.Timestamp(self.programme.period(self.period).start)

    def this_period(self, df: pd.DataFrame, column: str = "period") -> pd.DataFrame:
        return select_period(df, self.programme, self.period, cumulative=False, column=column)

    def cumulative(self, df: pd.DataFrame, column: str = "period") -> pd.DataFrame:
        return select_period(df, self.programme, self.period, cumulative=True, column=column)

    def assessments_until_end(self) -> pd.DataFrame:
        a = self.ds.tables["assessments"]
        return a[a["assessed_on"] <= self.end_date]

    @property
    def periods_covered(self) -> list[str]:
        return periods_up_to(self.programme, self.period)


def start(period: str = FINAL, data_dir: str | None = None, *, show_names: bool = False,
          allow_invalid: bool = False, **parameters) -> Period:
    """Load the data for one report. Refuses data with schema errors unless ``allow_invalid``."""
    ds = load(data_dir or config.SAMPLE_DATA_DIR, show_names=show_names)
    return for_dataset(ds, period, allow_invalid=allow_invalid, **parameters)


def for_dataset(ds: Dataset, period: str = FINAL, *, allow_invalid: bool = False, **parameters) -> Period:
    """One report's view of an already loaded dataset (same checks as :func:`start`)."""
    check_period(ds.programme, period)
    if ds.error_count and not allow_invalid:
        raise InvalidDataError(
            f"{ds.error_count} schema error(s) in {ds.data_dir}; run `clusnet validate --data {ds.data_dir}` "
            "to see them, or use the valid rows only (allow_invalid=True here, --allow-invalid for clusnet run)")
    params = {"period": period, "data_dir": str(ds.data_dir), "show_names": ds.show_names,
              "allow_invalid": allow_invalid, **parameters}
    return Period(ds=ds, period=period, label=period_label(ds.programme, period), parameters=params)


# ---------------------------------------------------------------- display helpers
def _display(obj) -> None:
    try:
        from IPython.display import display
    except ImportError:  # plain Python: nothing to show
        return
    display(obj)


def _html(text: str):
    from IPython.display import HTML

    return HTML(text)


def esc(value) -> str:
    """HTML-escaped text of any value (data never becomes markup)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def say(template: str, **values) -> None:
    """Show a paragraph; ``{name}`` placeholders are filled with escaped values.

    The template itself is the notebook author's text and may use <b>, <i>.
    """
    _display(_html("<p>" + template.format(**{k: esc(v) for k, v in values.items()}) + "</p>"))


def heading(text: str, level: int = 3) -> None:
    _display(_html(f"<h{level}>{esc(text)}</h{level}>"))


def pretty_label(name):
    """Column name for a reader: previously_reported_eur -> "Previously reported (EUR)".

    Names that are not lower-case words (city codes, period ids) are left as they are.
    """
    if not isinstance(name, str) or not name.islower():
        return name
    words = name.split("_")
    shown = []
    for i, word in enumerate(words):
        if word == "eur":
            shown.append("(EUR)" if i == len(words) - 1 and words[i - 1:i] != ["per"] else "EUR")
        elif word == "pct":
            shown.append("%")
        elif word in ("id", "fx"):
            shown.append(word.upper())
        else:
            shown.append(word)
    text = " ".join(shown)
    return text[:1].upper() + text[1:]


def show(df: pd.DataFrame, caption: str | None = None, max_rows: int = 60, index: bool = False,
         float_format: str = "{:,.2f}", pretty: bool = True) -> None:
    """A table with every cell escaped (titles or names with HTML show as text).

    Column names are shown for a reader ("Previously reported (EUR)") unless ``pretty=False``.
    """
    if df is None:
        return
    body = df.head(max_rows)
    if pretty:
        body = body.rename(columns=pretty_label)
    formatters = {c: (lambda v, f=float_format: "" if pd.isna(v) else f.format(v))
                  for c in body.columns if pd.api.types.is_float_dtype(body[c])}
    table = body.to_html(index=index, escape=True, border=0, na_rep="", formatters=formatters,
                         classes="clusnet-table")
    more = f"<p><i>{len(df) - max_rows} more rows not shown.</i></p>" if len(df) > max_rows else ""
    cap = f"<p><b>{esc(caption)}</b></p>" if caption else ""
    _display(_html(cap + table + more))


def banner(p: Period) -> None:
    """Period title, plus prominent warnings: synthetic data, excluded rows, personal data."""
    ds = p.ds
    parts = [f"<h2>{esc(ds.programme.name)}: {esc(p.label)}</h2>"]
    style = "padding:0.6em 1em;margin:0.4em 0;border-radius:4px;font-weight:bold;"
    if ds.synthetic:
        parts.append(f'<div style="{style}background:#fff3cd;border:2px solid #E69F00;">'
                     "SYNTHETIC SAMPLE DATA: generated for demonstration, not real programme records.</div>")
    if ds.error_count:
        parts.append(f'<div style="{style}background:#f8d7da;border:2px solid #D55E00;">'
                     f"INCOMPLETE DATA: {ds.quarantined_count} row(s) with {ds.error_count} schema error(s) "
                     "were excluded from every figure in this report (see the data quality report).</div>")
    if ds.show_names:
        parts.append(f'<div style="{style}background:#f8d7da;border:2px solid #D55E00;">'
                     "CONTAINS PERSONAL DATA: officer names shown. Internal use only; do not publish.</div>")
    _display(_html("\n".join(parts)))


def provenance_text(p: Period, notebook: str | None = None) -> str:
    ds = p.ds
    params = ", ".join(f"{k}={v}" for k, v in sorted(p.parameters.items()) if k not in ("headline_path",))
    return (f"Input fingerprint {ds.fingerprint} (data files + rules file {Path(ds.programme.source_file).name}); "
            f"clusnet_analysis {__version__}; parameters: {params}"
            + (f"; notebook {notebook}" if notebook else ""))


def provenance(p: Period, notebook: str | None = None) -> None:
    files = "".join(f"<li>{esc(name)}: <code>{esc(h[:16])}</code></li>"
                    for name, h in sorted(p.ds.provenance.get("files", {}).items()))
    _display(_html(f'<div style="font-size:0.85em;color:#444;border-top:1px solid #ccc;margin-top:1em;">'
                   f"<b>Provenance.</b> {esc(provenance_text(p, notebook))}"
                   f"<details><summary>Input files</summary><ul>{files}</ul></details></div>"))


def figure_caption(p: Period) -> str:
    """Provenance under every figure, on screen and in saved files."""
    ds = p.ds
    return (f"{ds.programme.name} · {p.label} · input {ds.fingerprint} · clusnet_analysis {__version__}"
            f" · period={p.period}" + (" · SYNTHETIC SAMPLE DATA" if ds.synthetic else "")
            + (" · CONTAINS PERSONAL DATA" if ds.show_names else ""))


def show_figure(fig, p: Period) -> None:
    """Show a figure once, with its provenance caption, then free it."""
    # Just below the figure's edge: the inline display crops to everything drawn, so the
    # caption shows under the axes without an extra layout pass (saved files use add_caption).
    fig.text(0.01, 0.0, figure_caption(p), fontsize=6, color="#555555", ha="left", va="top")
    _display(fig)
    import matplotlib.pyplot as plt

    plt.close(fig)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value


def write_headline(path: str | None, p: Period, figures: dict) -> dict:
    """Save key numbers (with provenance) as JSON; no-op without a path (interactive use)."""
    record = {"period": p.period, "input_fingerprint": p.ds.fingerprint, "package_version": __version__,
              "synthetic": p.ds.synthetic, "figures": _jsonable(figures)}
    if path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, json_text(record).encode("utf-8"))
    return record
