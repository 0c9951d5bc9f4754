"""``clusnet workbook``, ``clusnet collect`` and ``clusnet validate --workbooks``: collecting data from the cities.

Registered by :func:`add_commands` from :mod:`clusnet_analysis.cli.app`. Exit codes as
everywhere: 0 ok · 1 invalid data (conflicts, refused files, schema errors) · 2
unusable input or bad usage.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from clusnet_analysis.cli.app import EXIT_INVALID, EXIT_OK, EXIT_UNUSABLE, UsageError, _inside


def _programme(path: str | None):
    from clusnet_analysis.rules.programme import load_cluster_model, load_programme

    return load_programme(path), load_cluster_model()


def cmd_workbook(args) -> int:
    from clusnet_analysis.collect import spec, template

    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"--out must name an .xlsx file, got {out}")
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; name the workbook file, e.g. {out / 'workbook.xlsx'}")
    programme, model = _programme(args.programme)
    if args.city and args.city not in programme.partner_cities:
        raise UsageError(f"{args.city} is not a partner city of {programme.name}; "
                         f"choose one of: {', '.join(programme.partner_cities)}")
    template.write_workbook(out, template.build_workbook(programme, model, city=args.city))
    print(f"Wrote {out}: data-collection workbook for {programme.name}"
          + (f", prepared for city {args.city}" if args.city else "")
          + f" (template format {spec.TEMPLATE_FORMAT.rsplit(' ', 1)[-1]}, programme {programme.id} "
          f"version {spec.programme_hash(programme)})")
    return EXIT_OK


def cmd_collect(args) -> int:
    from clusnet_analysis.cli.app import _format_table, main as clusnet_main
    from clusnet_analysis.collect import merge

    in_dir, out = Path(args.folder), Path(args.out)
    if not in_dir.is_dir():
        raise UsageError(f"{in_dir}: no such folder")
    if _inside(out, in_dir):
        raise UsageError(f"output folder {out} is inside the input folder {in_dir}; nothing is written there")
    if out.exists() and not out.is_dir():
        raise UsageError(f"output {out} is a file, not a folder")
    merge.check_output(out)
    programme, _ = _programme(args.programme)
    collected = merge.collect(in_dir, programme)
    print(f"clusnet collect: {in_dir} -> {out}  (programme {programme.id})")
    for source in collected.sources:
        counts = ", ".join(f"{t} {len(f)}" for t, f in source.tables.items())
        print(f"  collected {source.label}" + (" (correction)" if source.correction else "") + f": {counts}")
    for label, reason in collected.refused:
        print(f"  REFUSED {label}: {reason}")
    for label, reason in collected.ignored:
        print(f"  ignored {label}: {reason}")
    for warning in collected.warnings:
        print(f"  warning: {warning}")
    if not collected.sources:
        raise UsageError(f"{in_dir}: no workbook or CSV folder could be collected")
    duplicates = {t: n for t, n in collected.duplicates.items() if n}
    replaced = {t: n for t, n in collected.replaced.items() if n}
    print("Rows written: " + ", ".join(f"{t} {len(f)}" for t, f in collected.tables.items()))
    print("Identical rows kept once: " + (", ".join(f"{t} {n}" for t, n in duplicates.items()) or "none"))
    if replaced:
        print("Rows replaced by a correction workbook: " + ", ".join(f"{t} {n}" for t, n in replaced.items()))
    merge.write_output(collected, out, Path(args.programme) if args.programme else None)
    code = EXIT_OK
    if len(collected.conflicts):
        print(f"\nConflicts: {len(collected.conflicts)} row(s) share a key with different content; "
              f"all of them are held back in {out / merge.CONFLICTS_FILE}:")
        print(_format_table(collected.conflicts, ["table", "key", "source_file", "source_row", "values"], limit=20))
        code = EXIT_INVALID
    if collected.refused:
        print(f"\n{len(collected.refused)} file(s) refused: their rows are not in {out}.")
        code = EXIT_INVALID
    print(f"\nValidating {out}:")
    validated = clusnet_main(["validate", "--data", str(out)])
    if validated == EXIT_UNUSABLE:
        return EXIT_UNUSABLE
    return max(code, validated)


def _validate_with_workbooks(validate, args) -> int:
    """``clusnet validate`` as usual, then one correction workbook per city into --workbooks."""
    if not args.workbooks:
        return validate(args)
    from clusnet_analysis.cli.request import Request

    request = Request.from_args("validate", args)   # the one guard for every path
    folder = request.check_output(Path(args.workbooks), "--workbooks folder")
    data_dir = request.data_dir
    code = validate(args)
    if code == EXIT_UNUSABLE:
        return code
    from clusnet_analysis.collect.corrections import write_corrections
    from clusnet_analysis.ingest.dataset import load

    ds = load(data_dir, request.programme_file, show_names=args.show_names)
    written = write_corrections(ds, folder, show_names=args.show_names)
    print(f"\nCorrection workbooks: {len(written)} in {folder}/"
          + (": " + ", ".join(p.name for p in written) if written else " (nothing to correct)"))
    return code


def add_commands(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("workbook", help="write the data-collection workbook (Excel) made from the programme file")
    w.add_argument("--out", required=True, help="the .xlsx file to write")
    w.add_argument("--programme", default=None, help="programme rules file (default: the bundled programme)")
    w.add_argument("--city", default=None, help="prepare it for one partner city (its row and officer rows)")
    w.set_defaults(func=cmd_workbook)

    c = sub.add_parser("collect", help="merge the cities' returned workbooks (or CSV folders) into one data directory")
    c.add_argument("folder", metavar="DIR", help="folder of returned workbooks (.xlsx) or CSV folders")
    c.add_argument("--out", required=True, help="data directory to write (not inside DIR)")
    c.add_argument("--programme", default=None, help="programme rules file (default: the bundled programme); "
                                                      "copied into the output as programme.toml")
    c.set_defaults(func=cmd_collect)

    v = sub.choices.get("validate")
    if v is not None:
        v.add_argument("--workbooks", default=None, metavar="DIR",
                       help="also write one correction workbook per city (its rejected rows and findings) here")
        validate = v.get_default("func")
        v.set_defaults(func=lambda args: _validate_with_workbooks(validate, args))
