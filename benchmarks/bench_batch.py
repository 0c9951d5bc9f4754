"""Benchmark: the naive papermill + nbconvert chain against `clusnet run`, on the sample data.

Three timings, each into its own temporary folder:

1. naive   for every period and notebook, one after the other: the `papermill` CLI,
           then `jupyter nbconvert --to html --no-input` (what a hand-written Makefile does);
2. full    `clusnet run --period all --force --reports DIR` (parallel, one kernel each);
3. no-op   `clusnet run --period all --reports DIR` again: nothing changed, nothing to do.

Exits non-zero when full is not at least --min-ratio (4) times faster than naive, when
the no-op run takes --max-noop (2) seconds or more, or when any step fails.

    .venv/bin/python benchmarks/bench_batch.py [--data data/sample] [--clusnet-arg=--data=...]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from clusnet_analysis.publish.batch import discover_notebooks  # noqa: E402
from clusnet_analysis.rules.programme import programme_for  # noqa: E402

try:  # what `clusnet run --period all` means: programme periods, then "final"
    from clusnet_analysis.analysis.periods import period_order  # noqa: E402
except ImportError:  # pragma: no cover - older layout
    def period_order(programme):
        return [*programme.period_ids, "final"]

BIN = Path(sys.executable).parent


def _tool(script: str, module_fallback: list[str]) -> list[str]:
    """The console script beside this interpreter, else `python -m ...`."""
    candidate = BIN / script
    return [str(candidate)] if candidate.exists() else [sys.executable, *module_fallback]


def _run(command: list[str], env: dict | None = None, label: str = "") -> float:
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        sys.stderr.write(f"FAILED ({completed.returncode}): {label or ' '.join(command)}\n")
        sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-4000:] + "\n")
        raise SystemExit(2)
    return seconds


def naive_chain(periods: list[str], notebooks: list[Path], data_dir: Path, out_root: Path) -> float:
    papermill = _tool("papermill", ["-m", "papermill"])
    jupyter = _tool("jupyter", ["-m", "jupyter"])
    started = time.perf_counter()
    for period in periods:
        out_dir = out_root / period
        out_dir.mkdir(parents=True)
        for notebook in notebooks:
            executed = out_dir / notebook.name
            headline = out_dir / f"{notebook.stem}.headline.json"
            _run([*papermill, str(notebook), str(executed),
                  "-p", "period", period, "-p", "data_dir", str(data_dir),
                  "-p", "headline_path", str(headline),
                  "--cwd", str(notebook.parent), "--no-progress-bar"],
                 label=f"papermill {period}/{notebook.name}")
            _run([*jupyter, "nbconvert", "--to", "html", "--no-input", str(executed),
                  "--output-dir", str(out_dir)],
                 label=f"nbconvert {period}/{notebook.name}")
    return time.perf_counter() - started


def _manifests(reports: Path) -> dict[str, bytes]:
    return {p.relative_to(reports).as_posix(): p.read_bytes() for p in sorted(reports.glob("*/manifest.json"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--clusnet-arg", action="append", default=[],
                        help="extra argument for `clusnet run` (repeatable), e.g. --clusnet-arg=--data=DIR")
    parser.add_argument("--min-ratio", type=float, default=4.0)
    parser.add_argument("--max-noop", type=float, default=2.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary output folders")
    args = parser.parse_args(argv)

    data_dir = args.data.resolve()
    notebooks = discover_notebooks(args.notebooks.resolve())
    periods = period_order(programme_for(data_dir))
    if not notebooks:
        sys.stderr.write(f"no notebooks in {args.notebooks}\n")
        return 2
    runs = len(periods) * len(notebooks)
    print(f"{len(notebooks)} notebooks x {len(periods)} periods ({', '.join(periods)}) = {runs} reports")

    work = Path(tempfile.mkdtemp(prefix="clusnet-bench-"))
    try:
        naive_seconds = naive_chain(periods, notebooks, data_dir, work / "naive")
        naive_html = len(list((work / "naive").glob("*/*.html")))
        print(f"naive papermill + nbconvert chain: {naive_seconds:7.1f}s  ({naive_html} HTML files)")

        reports = work / "clusnet"
        env = dict(os.environ, CLUSNET_REPORTS_DIR=str(reports))
        tool = _tool("clusnet", ["-c", "import sys; from clusnet_analysis.cli import main; sys.exit(main())"])
        clusnet = [*tool, "run", "--period", "all"]
        # the reports folder: --reports when the CLI has it, CLUSNET_REPORTS_DIR in any case
        usage = subprocess.run([*tool, "run", "--help"], capture_output=True, text=True, env=env)
        if "--reports" in usage.stdout:
            clusnet += ["--reports", str(reports)]
        if "--data" in usage.stdout:
            clusnet += ["--data", str(data_dir)]
        clusnet += args.clusnet_arg
        full_seconds = _run([*clusnet, "--force"], env=env, label="clusnet run --force")
        full_html = len([p for p in reports.glob("*/*.html") if p.name != "index.html"])
        print(f"clusnet run --period all --force:  {full_seconds:7.1f}s  ({full_html} HTML reports)")

        before = _manifests(reports)
        noop_seconds = _run(clusnet, env=env, label="clusnet run (no-op)")
        print(f"clusnet run --period all (no-op):  {noop_seconds:7.2f}s")
        ratio = naive_seconds / full_seconds
        print(f"speed-up over the naive chain:     {ratio:7.1f}x")

        problems = []
        if full_html != runs or naive_html != runs:
            problems.append(f"expected {runs} HTML reports, naive made {naive_html}, clusnet {full_html}")
        if not before:
            problems.append("clusnet run wrote no manifest.json")
        elif _manifests(reports) != before:
            problems.append("the no-op run changed a manifest (it rebuilt something)")
        if ratio < args.min_ratio:
            problems.append(f"speed-up {ratio:.1f}x is below {args.min_ratio:g}x")
        if noop_seconds >= args.max_noop:
            problems.append(f"no-op run took {noop_seconds:.2f}s (limit {args.max_noop:g}s)")
        for problem in problems:
            print(f"FAIL: {problem}")
        if args.keep:
            print(f"outputs kept in {work}")
        return 1 if problems else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
