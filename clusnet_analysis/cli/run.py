"""``clusnet run`` and ``clusnet figures``: the period reports and the final figures.

Parameters are checked before anything runs (unknown period, unknown notebook
parameter, an output inside the data folder: refused with one line, exit 2); the
folders come from one :class:`~clusnet_analysis.cli.request.Request`. Both commands
hold the reports folder's lock: a second one waits, or refuses with ``--no-wait``.
Ctrl-C stops them, lists what was left unbuilt, and exits 130.
Data with schema errors is refused (exit 1) unless ``--allow-invalid``; rule
findings never block.
"""
from __future__ import annotations

import os
import sys

from clusnet_analysis import config
from clusnet_analysis.publish import batch
from clusnet_analysis.cli.app import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, _format_table
from clusnet_analysis.cli.request import PROGRAMME_ENV, Request, UsageError

# Set by the runner itself (period, data_dir, headline_path) or by its own options.
RESERVED_PARAMETERS = {*batch.RESERVED_PARAMETERS, "show_names", "allow_invalid"}


def _parse_params(items: list[str]) -> dict:
    params = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"--param needs NAME=VALUE, got {item!r}")
        name, value = item.split("=", 1)
        name = name.strip()
        if name in RESERVED_PARAMETERS:
            raise UsageError(f"--param {name} is set by clusnet run itself; use its own option")
        low = value.strip().lower()
        if low in ("true", "false"):
            params[name] = low == "true"
        else:
            try:
                params[name] = int(value)
            except ValueError:
                try:
                    params[name] = float(value)
                except ValueError:
                    params[name] = value
    return params


def _periods(requested: str, programme) -> list[str]:
    from clusnet_analysis.analysis.periods import period_order

    choices = period_order(programme)
    if requested == "all":
        return choices
    if requested not in choices:
        raise UsageError(f"unknown period {requested!r}; choose one of: {', '.join(choices)}, all")
    return [requested]


def _locked(request: Request, args):
    """The reports folder's lock: wait for another run (saying so), or refuse with --no-wait."""
    from clusnet_analysis.publish.lock import reports_lock

    return reports_lock(request.reports_dir, wait=not args.no_wait,
                        on_wait=lambda message: print(f"clusnet {request.command}: {message}",
                                                      file=sys.stderr, flush=True))


def _gate(ds, allow_invalid: bool, show_names: bool) -> str | None:
    """Refuse invalid data unless allowed; returns the banner for the index pages."""
    if ds.error_count and not allow_invalid:
        from clusnet_analysis.privacy import hide_personal_values   # pandas: only when there is data to show

        shown = ds.errors if show_names else hide_personal_values(ds.errors)
        print(f"Schema errors: {ds.error_count} problem(s) in {ds.data_dir}; nothing was built.", file=sys.stderr)
        print(_format_table(shown, ["file", "row", "column", "value", "problem"], limit=20), file=sys.stderr)
        print("Fix the data, or build from the valid rows with --allow-invalid.", file=sys.stderr)
        return None
    parts = []
    if ds.synthetic:
        parts.append("SYNTHETIC SAMPLE DATA: not real programme records")
    if ds.error_count:
        parts.append(f"INCOMPLETE DATA: {ds.quarantined_count} row(s) with schema errors excluded (--allow-invalid)")
    if show_names:
        parts.append("CONTAINS PERSONAL DATA (officer names): internal use only")
    return " · ".join(parts) if parts else ""


def cmd_run(args) -> int:
    request = Request.from_args("run", args)
    params = _parse_params(args.param)
    with _locked(request, args):
        return _run(request, args, params)


def _run(request: Request, args, params: dict) -> int:
    from clusnet_analysis.analysis.periods import period_label
    from clusnet_analysis.exchange_reports import exchange_report_findings_fingerprint
    from clusnet_analysis.publish.batch import BatchInterrupted, BatchUsageError, run_batch
    from clusnet_analysis.ingest.gate import gate_summary

    data_dir, reports = request.data_dir, request.reports_dir
    # The counts the check needs, without loading the tables when they were loaded before.
    ds = gate_summary(data_dir, request.programme_file, show_names=args.show_names)
    if ds.error_count and not args.allow_invalid and not hasattr(ds, "errors"):
        from clusnet_analysis.ingest.dataset import load   # the refusal lists the errors themselves

        ds = load(data_dir, request.programme_file, show_names=args.show_names)
    periods = _periods(args.period, ds.programme)
    for period in periods:
        request.period_folder(period)
    banner = _gate(ds, args.allow_invalid, args.show_names)
    if banner is None:
        return EXIT_INVALID
    jobs = args.jobs or os.cpu_count() or 1
    print(f"clusnet run: {', '.join(periods)} from {data_dir} into {reports}/ ({jobs} job(s))", flush=True)
    # The notebooks' kernels load the data themselves: they must use the same rules file.
    previous = os.environ.get(PROGRAMME_ENV)
    os.environ[PROGRAMME_ENV] = str(request.programme_file)
    try:
        result = run_batch(
            periods, data_dir, config.NOTEBOOKS_DIR, reports, jobs=jobs, force=args.force,
            parameters={"show_names": bool(args.show_names), "allow_invalid": bool(args.allow_invalid), **params},
            programme_file=request.programme_file,
            on_progress=lambda msg: print("  " + msg, flush=True),
            banner=banner or None,
            period_labels={p: period_label(ds.programme, p) for p in periods},
            site=site_for(ds.programme),
            # the data-quality report shows the last check of the exchange reports: a new check rebuilds
            extra_stamp={"exchange_report_findings": exchange_report_findings_fingerprint(reports)},
        )
    except BatchUsageError as exc:
        raise UsageError(str(exc)) from exc
    except BatchInterrupted as stop:
        print(stop.describe(), file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    finally:
        if previous is None:
            os.environ.pop(PROGRAMME_ENV, None)
        else:
            os.environ[PROGRAMME_ENV] = previous
    print(result.summary())
    if result.failed:
        print(f"{len(result.failed)} report(s) failed; the others were built. See the .FAILED.ipynb files.",
              file=sys.stderr)
        return EXIT_INVALID
    print(f"Open {reports / 'index.html'}")
    return EXIT_OK


def site_for(programme):
    """Page titles and navigation: the programme's title and every reporting period, final last."""
    from clusnet_analysis.analysis.periods import period_label, period_order
    from clusnet_analysis.publish.html import Site
    from clusnet_analysis.sections import areas_left_out

    return Site(title=getattr(programme, "title", None) or programme.name,
                periods=tuple((p, period_label(programme, p)) for p in period_order(programme)),
                left_out=tuple(areas_left_out(programme).items()))


def cmd_figures(args) -> int:
    request = Request.from_args("figures", args)
    with _locked(request, args):
        return _figures(request, args)


def _figures(request: Request, args) -> int:
    from clusnet_analysis.ingest.dataset import load
    from clusnet_analysis.publish.figures import build_figures, build_tables, figures_dir
    from clusnet_analysis.sections import for_dataset

    ds = load(request.data_dir, request.programme_file, show_names=args.show_names)
    _periods(args.period, ds.programme)
    if args.period == "all":
        raise UsageError("figures are built for one period (default: final)")
    if _gate(ds, args.allow_invalid, args.show_names) is None:
        return EXIT_INVALID
    # The dataset loaded for the check above serves the figures too.
    view = for_dataset(ds, args.period, allow_invalid=args.allow_invalid)
    out = request.check_output(figures_dir(args.period, request.reports_dir))
    tables = request.period_folder("final") if args.period == "final" else None
    done: list[str] = []
    figures_complete = False
    try:
        written = build_figures(view, out, site=site_for(ds.programme), on_progress=done.append)
        figures_complete = True
        print(f"Wrote {len(written)} figure files to {out}/ (PNG 200 dpi and SVG, alt texts, index.html, "
              "manifest.json)", flush=True)
        if tables is not None:
            workbook = tables / "tables.xlsx"
            if not workbook.is_file():
                # the final synthesis writes the same tables (and lists them in its manifest) when it runs
                workbook = build_tables(view, tables)
            print(f"The report's tables: {workbook} (one sheet per table) and {workbook.parent / 'tables'}/")
    except KeyboardInterrupt:
        if not figures_complete:
            # An older manifest would vouch for figures that may have changed since: drop it.
            (out / "manifest.json").unlink(missing_ok=True)
        print(f"\nInterrupted: {len(done)} figure(s) finished in {out}/ before Ctrl-C"
              + ("" if tables is None else f"; the tables in {tables}/ may be from an earlier run")
              + ". Each file is written whole or not at all; run clusnet figures again to finish.",
              file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    return EXIT_OK


def add_commands(sub) -> None:
    r = sub.add_parser("run", help="build the period reports (papermill + HTML)")
    r.add_argument("--period", default="all", help="a period id of the programme file, final or all (default: all)")
    r.add_argument("--data", default=None, help="data directory (default: $CLUSNET_DATA_DIR/sample, the bundled sample)")
    r.add_argument("--programme", default=None,
                   help="programme rules file (default: $CLUSNET_PROGRAMME_FILE, DATA/programme.toml or the bundled rules)")
    r.add_argument("--jobs", type=int, default=None, help="notebooks run at once (default: number of cores)")
    r.add_argument("--force", action="store_true", help="rebuild even when outputs are up to date")
    r.add_argument("--allow-invalid", action="store_true",
                   help="build from the valid rows when the data has schema errors (reports say so)")
    r.add_argument("--show-names", action="store_true", help="internal use: show officer names (marked)")
    r.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="extra notebook parameter (must be declared by every notebook)")
    r.add_argument("--no-wait", action="store_true",
                   help="refuse at once (exit 2) when another clusnet command is using the reports folder")
    r.set_defaults(func=cmd_run)

    f = sub.add_parser("figures", help="build the final report's figures into reports/figures/")
    f.add_argument("--data", default=None, help="data directory (default: $CLUSNET_DATA_DIR/sample, the bundled sample)")
    f.add_argument("--programme", default=None,
                   help="programme rules file (default: $CLUSNET_PROGRAMME_FILE, DATA/programme.toml or the bundled rules)")
    f.add_argument("--period", default="final", help="period the figures cover (default: final)")
    f.add_argument("--allow-invalid", action="store_true", help="build from the valid rows despite schema errors")
    f.add_argument("--show-names", action="store_true", help="internal use: officer names (marked)")
    f.add_argument("--no-wait", action="store_true",
                   help="refuse at once (exit 2) when another clusnet command is using the reports folder")
    f.set_defaults(func=cmd_figures)
