"""``clusnet``: validate data, write the sample, run the period reports, build figures.

Exit codes: 0 ok (rule findings allowed) · 1 schema errors (validate) or failed
notebooks (run) · 2 unusable input or bad usage (one clear line, no traceback) · 130
interrupted (Ctrl-C): what was left unbuilt is listed, and the next run builds it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clusnet_analysis import __version__, config
from clusnet_analysis.cli.request import Request, UsageError  # noqa: F401  (UsageError re-exported)

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _inside(path: Path, root: Path) -> bool:
    """True when path (symbolic links followed) lies in root; for `clusnet collect`'s own checks."""
    from clusnet_analysis.cli.request import _within

    try:
        return _within(path, root)
    except OSError:
        return False


def _fail(message: str, code: int = EXIT_UNUSABLE) -> int:
    print(f"clusnet: error: {message}", file=sys.stderr)
    return code


def _format_table(df, columns: list[str], limit: int | None = None) -> str:
    rows = df[columns].head(limit) if limit else df[columns]
    cells = [[str(c) for c in columns]] + [["" if v is None or v != v else str(v) for v in r]
                                           for r in rows.itertuples(index=False)]
    widths = [min(max(len(r[i]) for r in cells), 70) for i in range(len(columns))]
    lines = []
    for j, r in enumerate(cells):
        lines.append("  " + "  ".join(v[:70].ljust(w) for v, w in zip(r, widths)).rstrip())
        if j == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_validation_outputs(ds, out_dir: Path, show_names: bool = False) -> list[Path]:
    """errors.csv, findings.csv, findings_by_rule.csv, quarantine/<table>.csv, summary.json.

    Every CSV is for a person with a spreadsheet: text that would run as a formula is
    neutralised (see publish.files.spreadsheet_safe). Each file is written atomically.
    """
    from clusnet_analysis.publish.files import atomic_write_bytes, json_text, write_csv_for_people
    from clusnet_analysis.privacy import hide_personal_values, without_personal_data
    from clusnet_analysis.rules.checks import summarise

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    def write_csv(df, name):
        written.append(write_csv_for_people(out_dir / name, df))

    errors = ds.errors if show_names else hide_personal_values(ds.errors)
    write_csv(errors, "errors.csv")
    write_csv(ds.findings, "findings.csv")
    by_rule = summarise(ds.findings, ds.programme)
    write_csv(by_rule, "findings_by_rule.csv")
    qdir = out_dir / "quarantine"
    for old in qdir.glob("*.csv") if qdir.is_dir() else []:
        old.unlink()
    for table, q in sorted(ds.quarantine.items()):
        q = q if show_names else without_personal_data(q)
        write_csv(q.reset_index(), f"quarantine/{table}.csv")
    summary = {
        "data_dir": str(ds.data_dir), "synthetic": ds.synthetic, "programme": ds.programme.id,
        "package_version": __version__, "input_fingerprint": ds.fingerprint,
        "rows_read": ds.rows_read, "rows_valid": {t: len(df) for t, df in ds.tables.items()},
        "schema_errors": ds.error_count, "rows_quarantined": ds.quarantined_count,
        "findings_by_rule": {r: int(n) for r, n in ds.findings["rule_id"].value_counts().sort_index().items()},
        "rules_off": by_rule.loc[by_rule["status"] == "off", "rule_id"].tolist(),
        "contains_personal_data": bool(show_names),
    }
    path = out_dir / "summary.json"
    atomic_write_bytes(path, json_text(summary).encode("utf-8"))
    written.append(path)
    written.append(write_validation_index(ds, out_dir))
    return written


def write_validation_index(ds, out_dir: Path) -> Path:
    """A page for readers: rows per table, schema errors and findings per rule, with links to the CSV files."""
    import html

    from clusnet_analysis.publish.files import write_if_changed
    from clusnet_analysis.publish.html import _page
    from clusnet_analysis.sections.data_quality import rule_title
    from clusnet_analysis.rules.checks import RULES

    counts = ds.findings["rule_id"].value_counts()
    rows = "".join(f"<tr><td>{html.escape(t)}</td><td>{ds.rows_read.get(t, 0):,}</td><td>{len(df):,}</td>"
                   f"<td>{len(ds.quarantine.get(t, ())):,}</td></tr>" for t, df in ds.tables.items())
    rules = "".join(f"<tr><td>{html.escape(rule_title(r.id))}</td><td>{html.escape(r.severity)}</td>"
                    f"<td>{int(counts.get(r.id, 0)):,}</td><td>{html.escape(r.description)}</td></tr>" for r in RULES)
    title = f"Validation – {getattr(ds.programme, 'title', None) or ds.programme.name}"
    body = ['<nav><a href="../index.html">All reports</a></nav>', f"<h1>{html.escape(title)}</h1>",
            f"<p>{ds.error_count:,} schema errors; {ds.quarantined_count:,} rows set aside; "
            f"{len(ds.findings):,} programme-rule findings. Files: <a href=\"errors.csv\">errors.csv</a>, "
            '<a href="findings.csv">findings.csv</a>, <a href="findings_by_rule.csv">findings_by_rule.csv</a>, '
            'the folder quarantine/ and <a href="summary.json">summary.json</a>.</p>',
            "<h2>Rows per table</h2><table><tr><th>Table</th><th>Rows read</th><th>Valid rows</th>"
            f"<th>Rows set aside</th></tr>{rows}</table>",
            "<h2>Findings per rule</h2><table><tr><th>Rule</th><th>Severity</th><th>Findings</th>"
            f"<th>What it checks</th></tr>{rules}</table>"]
    banner = "SYNTHETIC SAMPLE DATA: not real programme records" if ds.synthetic else None
    path = out_dir / "index.html"
    write_if_changed(path, _page(title, body, banner))
    return path


def cmd_validate(args) -> int:
    from clusnet_analysis.ingest.dataset import load
    from clusnet_analysis.privacy import hide_personal_values
    from clusnet_analysis.rules.checks import RULES, RULES_BY_ID, rule_is_off
    from clusnet_analysis.sections.data_quality import rule_title

    request = Request.from_args("validate", args)
    data_dir, out = request.data_dir, request.out
    ds = load(data_dir, request.programme_file, show_names=args.show_names)
    print(f"clusnet validate: {data_dir}  (rules: {ds.programme.name}, {Path(ds.programme.source_file).name})")
    if ds.synthetic:
        print("  SYNTHETIC SAMPLE DATA - not real programme records")
    print("Rows read: " + ", ".join(f"{t} {n}" for t, n in ds.rows_read.items() if n or t in ds.files))
    for note in ds.notes:
        print(f"  note: {note}")
    if ds.error_count:
        print(f"\nSchema errors: {ds.error_count} problem(s); {ds.quarantined_count} row(s) quarantined")
        shown = ds.errors if args.show_names else hide_personal_values(ds.errors)
        print(_format_table(shown, ["file", "row", "column", "value", "problem"], limit=args.max_errors))
        if ds.error_count > args.max_errors:
            print(f"  ... {ds.error_count - args.max_errors} more in {out / 'errors.csv'}")
    else:
        print("Schema errors: none")
    counts = ds.findings["rule_id"].value_counts()
    print(f"\nRule findings: {len(ds.findings)}")
    for rule_id in [r for r in RULES_BY_ID if r in counts]:
        rule = RULES_BY_ID[rule_id]
        print(f"  {rule.severity:<8} {rule_title(rule_id):<20} {counts[rule_id]:>6}  {rule.description}")
    off = [r for r in RULES if rule_is_off(r, ds.programme)]
    if off:
        print("Rules switched off in the programme file:")
        for rule in off:
            print(f"  {rule.description} (`{rule.setting} = false`)")
    drafts = ds.exchanges.loc[~ds.exchanges["counted"], "exchange_id"].tolist()
    if drafts:
        print(f"Drafts listed, not counted in totals: {', '.join(drafts[:20])}" + (" ..." if len(drafts) > 20 else ""))
    try:
        written = write_validation_outputs(ds, out, show_names=args.show_names)
    except KeyboardInterrupt:
        print(f"\nInterrupted while writing {out}/: files already there are complete (each is written "
              "whole or not at all); run clusnet validate again to write the rest.", file=sys.stderr)
        raise
    print(f"\nWrote {len(written)} file(s) to {out}/ (errors.csv, findings.csv, quarantine/, summary.json)")
    return EXIT_INVALID if ds.error_count else EXIT_OK


def cmd_sample(args) -> int:
    if args.scale < 1:
        raise UsageError("--scale must be 1 or more")
    request = Request.from_args("sample", args)
    if args.programme == "mobility":
        from clusnet_analysis.sample_mobility import DEFAULT_SEED, write_mobility_sample

        if args.scale != 1:
            raise UsageError("--scale applies to the bundled programme's sample only, not to --programme mobility")
        seed = DEFAULT_SEED if args.seed is None else args.seed
        paths = write_mobility_sample(request.out, seed=seed)
    else:
        from clusnet_analysis.sample import DEFAULT_SEED, write_sample

        seed = DEFAULT_SEED if args.seed is None else args.seed
        paths = write_sample(request.out, scale=args.scale, seed=seed)
    print(f"Wrote synthetic sample ({args.programme}, scale {args.scale}, seed {seed}) to {request.out}: "
          + ", ".join(p.name for p in paths))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clusnet", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"clusnet_analysis {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a data directory: schema errors and programme-rule findings")
    v.add_argument("--data", default=None, help="data directory (default: $CLUSNET_DATA_DIR/sample, the bundled sample)")
    v.add_argument("--programme", default=None,
                   help="programme rules file (default: $CLUSNET_PROGRAMME_FILE, DATA/programme.toml or the bundled rules)")
    v.add_argument("--out", default=None,
                   help=f"output folder inside the reports folder (default: {config.VALIDATION_DIR})")
    v.add_argument("--max-errors", type=int, default=50, help="errors printed (all are written)")
    v.add_argument("--show-names", action="store_true", help="internal use: keep officer names in outputs")
    v.set_defaults(func=cmd_validate)

    s = sub.add_parser("sample", help="write the synthetic sample data")
    s.add_argument("--out", default=None,
                   help="folder to write the CSV files into (default: $CLUSNET_DATA_DIR/sample); "
                        "a folder holding real data is refused")
    s.add_argument("--scale", type=int, default=1, help="N times more exchanges (for benchmarks)")
    s.add_argument("--seed", type=int, default=None, help="random seed (default: the generator's own)")
    s.add_argument("--programme", choices=("clusnet", "mobility"), default="clusnet",
                   help="which programme's data set: the bundled one (default), or a second programme of "
                        "48 countries with its own programme.toml")
    s.set_defaults(func=cmd_sample)

    _add_run_commands(sub)
    from clusnet_analysis.cli import collect   # workbook, collect, validate --workbooks

    collect.add_commands(sub)
    from clusnet_analysis.cli import exchange_reports
    exchange_reports.add_commands(sub)
    return parser


def _add_run_commands(sub) -> None:
    try:
        from clusnet_analysis.cli import run as runner
    except ImportError:
        return
    runner.add_commands(sub)


def main(argv: list[str] | None = None) -> int:
    from clusnet_analysis.ingest.errors import InputError
    from clusnet_analysis.publish.lock import FolderBusy
    from clusnet_analysis.rules.programme import ProgrammeError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        return _fail(str(exc), EXIT_UNUSABLE)
    except (InputError, ProgrammeError, FolderBusy) as exc:
        return _fail(str(exc), EXIT_UNUSABLE)
    except KeyboardInterrupt:
        return _fail("interrupted (Ctrl-C)", EXIT_INTERRUPTED)


if __name__ == "__main__":  # run as a file: delegate, so exception classes are the package's own
    from clusnet_analysis.cli.app import main as _main

    sys.exit(_main())
