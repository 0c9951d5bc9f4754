"""``clusnet report-template`` and ``clusnet check-reports``: the exchange reports.

``check-reports`` exits 0 when the folder was checked, findings or not; a damaged or
password-protected report is a finding (``report_unreadable``, with one line on screen), so one bad
file never hides the others. Exit 2 (one line) for a folder that does not exist, a data directory
that cannot be used or a programme file without a report structure.
"""
from __future__ import annotations

from pathlib import Path

from clusnet_analysis.cli.app import EXIT_OK, UsageError, _format_table, _inside
from clusnet_analysis.cli.request import Request


def cmd_report_template(args) -> int:
    from clusnet_analysis.exchange_reports.common import structure_of
    from clusnet_analysis.exchange_reports.template import write_templates
    from clusnet_analysis.ingest.dataset import load

    request = Request.from_args("report-template", args)
    data_dir, out = request.data_dir, request.check_output(Path(args.out))
    ds = load(data_dir, request.programme_file, show_names=args.show_names)
    structure_of(ds.programme)   # a programme without a report structure is refused before writing
    try:
        written = write_templates(ds, out, None if args.all else args.exchange)
    except KeyError as exc:
        raise UsageError(f"no exchange {exc.args[0]} in {data_dir / 'exchanges'}") from exc
    print(f"Wrote {len(written)} report template(s) to {out}/" + (" (names of officers shown: internal use only)"
                                                                  if args.show_names else ""))
    if ds.synthetic:
        print("  SYNTHETIC SAMPLE DATA - not real programme records")
    return EXIT_OK


def cmd_check_reports(args) -> int:
    from clusnet_analysis.exchange_reports.check import RULES_BY_ID, check_reports
    from clusnet_analysis.exchange_reports.outputs import output_dir, write_outputs
    from clusnet_analysis.ingest.dataset import load

    request = Request.from_args("check-reports", args)
    report_dir, data_dir = Path(args.dir), request.data_dir
    if not report_dir.is_dir():
        raise UsageError(f"{report_dir}: no such folder of reports")
    out = request.check_output(output_dir(request.reports_dir))
    if _inside(out, report_dir):
        raise UsageError(f"the outputs ({out}) would go inside the folder of reports {report_dir}; "
                         "reports are only read: check a folder outside it")
    ds = load(data_dir, request.programme_file)
    result = check_reports(report_dir, ds)
    print(f"clusnet check-reports: {report_dir}  (exchanges from {data_dir}; structure from "
          f"{Path(ds.programme.source_file).name})")
    if len(result.files):
        shown = result.files.rename(columns={"report_file": "report", "exchange_id": "exchange",
                                             "pages_counted_by": "pages counted by",
                                             "practices_drafted": "practices drafted"})
        print(_format_table(shown, ["report", "exchange", "pages", "pages counted by", "language",
                                    "practices drafted", "findings"]))
    for row in result.findings[result.findings["rule_id"] == "report_unreadable"].itertuples():
        print(f"  cannot read {row.subject_id}: {row.message}")
    counts = result.findings["rule_id"].value_counts()
    print(f"\nReport findings: {len(result.findings)}")
    for rule_id in [r for r in RULES_BY_ID if r in counts]:
        rule = RULES_BY_ID[rule_id]
        print(f"  {rule.severity:<8} {rule_id:<18} {counts[rule_id]:>5}  {rule.description}")
    needed = int((result.updates["update_needed"] == "yes").sum()) if len(result.updates) else 0
    print(f"Practices drafted for review: {len(result.practices)}; exchanges whose report pages or language "
          f"could be updated: {needed}")
    written = write_outputs(result, out, ds)
    print(f"Wrote {len(written)} file(s) to {out}/ ({', '.join(p.name for p in written)})")
    return EXIT_OK


def add_commands(sub) -> None:
    t = sub.add_parser("report-template", help="write a pre-filled Word template (.docx) per exchange report")
    which = t.add_mutually_exclusive_group(required=True)
    which.add_argument("--exchange", action="append", metavar="ID", help="exchange id (repeat for several)")
    which.add_argument("--all", action="store_true", help="every exchange of the data")
    t.add_argument("--out", required=True, help="folder to write the templates into (not the data directory)")
    t.add_argument("--data", default=None, help="data directory (default: $CLUSNET_DATA_DIR/sample, the bundled sample)")
    t.add_argument("--programme", default=None, help="programme rules file (default: DATA/programme.toml or the bundled rules)")
    t.add_argument("--show-names", action="store_true", help="internal use: officer names beside the pseudonyms")
    t.set_defaults(func=cmd_report_template)

    c = sub.add_parser("check-reports", help="check received exchange reports (.docx, .pdf, .md) in a folder")
    c.add_argument("dir", help="folder of received reports (only read, never written)")
    c.add_argument("--data", default=None, help="data directory (default: $CLUSNET_DATA_DIR/sample, the bundled sample)")
    c.add_argument("--programme", default=None, help="programme rules file (default: DATA/programme.toml or the bundled rules)")
    c.set_defaults(func=cmd_check_reports)
