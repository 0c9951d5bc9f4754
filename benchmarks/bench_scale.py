"""Benchmark: `clusnet run --period final --force` on `clusnet sample --scale N`, and where its time goes.

Targets (2-core machine): at most 15 s at scale 100 and 30 s at scale 1000.

1. end to end (the target): for each scale, `clusnet sample --scale N` writes the data once
   (not timed); then `clusnet run --period final --force --data DIR` runs --repeat times (at
   least 3), each with a fresh, empty reports folder and cache folder
   (CLUSNET_REPORTS_DIR, CLUSNET_CACHE_DIR), so nothing is reused between runs. The report
   gives the median and the spread (min-max) of the wall-clock time, and the load average
   (`uptime`) before and after each run: the machine is shared, and other work moves the times.
2. breakdown (where the time goes), once per scale in this process, through the sections
   layer the pages use: loading the data (fresh cache, then from the cache as each notebook
   kernel after the first does), then per report page a fresh ``sections.for_dataset(ds,
   "final")`` view (every notebook has its own), the section's build, each figure rendered as
   the page embeds it (``publish.display.figure_png``) and its tables as the page shows them
   (``publish.display.show_table``). The pages run in parallel (one kernel per job), so the
   end-to-end time is not the sum of the breakdown.

Usage: python benchmarks/bench_scale.py [--scales 100 1000] [--repeat 3] [--no-breakdown] [--keep]

Exits 1 when a scale misses its target (or a run fails), 0 otherwise.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
BIN = Path(sys.executable).parent
#: Seconds allowed for `clusnet run --period final --force`, per sample scale.
TARGETS = {100: 15.0, 1000: 30.0}


def _clusnet() -> list[str]:
    """The `clusnet` console script beside this interpreter, else the same command through Python."""
    script = BIN / "clusnet"
    return [str(script)] if script.exists() else [sys.executable, "-m", "clusnet_analysis"]


def _env(**extra: str) -> dict:
    """This environment, with this checkout first on the import path: the code measured is this one."""
    path = os.environ.get("PYTHONPATH")
    return dict(os.environ, PYTHONPATH=str(ROOT) + (os.pathsep + path if path else ""), **extra)


def _check(completed: subprocess.CompletedProcess, label: str) -> None:
    if completed.returncode != 0:
        sys.stderr.write(f"FAILED ({completed.returncode}): {label}\n"
                         + completed.stdout[-3000:] + completed.stderr[-3000:] + "\n")
        raise SystemExit(2)


def load_average() -> str:
    """The three load averages as `uptime` prints them."""
    try:
        out = subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout
        return out.rsplit("load average:", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError, IndexError):
        one, five, fifteen = os.getloadavg()
        return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def write_sample(scale: int, work: Path) -> Path:
    out = work / f"sample-{scale}"
    _check(subprocess.run([*_clusnet(), "sample", "--scale", str(scale), "--out", str(out)],
                          capture_output=True, text=True, env=_env()), f"clusnet sample --scale {scale}")
    return out


def end_to_end(data: Path, work: Path, repeat: int) -> list[dict]:
    """`clusnet run --period final --force`, each run with its own fresh reports and cache folders."""
    runs = []
    for i in range(repeat):
        run_dir = work / f"run-{data.name}-{i}"
        env = _env(CLUSNET_REPORTS_DIR=str(run_dir / "reports"), CLUSNET_CACHE_DIR=str(run_dir / "cache"))
        command = [*_clusnet(), "run", "--period", "final", "--force", "--data", str(data)]
        before = load_average()
        started = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - started
        _check(completed, " ".join(command))
        pages = [p for p in (run_dir / "reports" / "final").glob("*.html")]
        # the run's own progress lines: "[k/n] final/<notebook> built in <s>s" (kernel start to saved page)
        page_seconds = {name: float(t) for name, t in re.findall(r"final/(\S+) built in ([0-9.]+)s", completed.stdout)}
        runs.append({"seconds": seconds, "load_before": before, "load_after": load_average(), "pages": len(pages),
                     "page_seconds": page_seconds})
        print(f"  run {i + 1}: {seconds:6.1f} s  ({len(pages)} HTML pages; load average before {before}, "
              f"after {runs[-1]['load_after']})", flush=True)
        shutil.rmtree(run_dir, ignore_errors=True)
    return runs


def breakdown(data: Path, work: Path) -> list[tuple[str, float]]:
    """Seconds per step of the final report's pages, in this process, through the sections layer."""
    import matplotlib

    matplotlib.use("Agg")
    from clusnet_analysis import config, sections
    from clusnet_analysis.ingest.dataset import load
    from clusnet_analysis.publish import display as show
    from clusnet_analysis.publish.figures import build_tables

    show._display = lambda obj: None   # pages are built as in a kernel; nothing to print here
    config.CACHE_DIR = work / f"cache-{data.name}"   # fresh: the first kernel's load parses the files
    steps: list[tuple[str, float]] = []

    def timed(name, function):
        started = time.perf_counter()
        value = function()
        steps.append((name, time.perf_counter() - started))
        return value

    ds = timed("load, fresh cache (first page)", lambda: load(data))
    timed("load from the cache (every other page)", lambda: load(data))
    for area in sections.areas_for(sections.for_dataset(ds, "final")):
        out = work / f"pages-{data.name}" / area
        out.mkdir(parents=True, exist_ok=True)
        view = sections.for_dataset(ds, "final", headline_path=str(out / "headline.json"))
        section = timed(f"{area}: build", lambda: sections.build(view, area))
        for spec in section.figures:
            timed(f"{area}: figure {spec.id}", lambda: show.figure_png(spec, view))
        timed(f"{area}: {len(section.tables)} tables shown",
              lambda: [show.show_table(table, view) for table in section.tables])
    out = work / f"pages-{data.name}" / "synthesis"
    out.mkdir(parents=True, exist_ok=True)
    view = sections.for_dataset(ds, "final", headline_path=str(out / "headline.json"))
    parts = timed("synthesis: build (every area again)", lambda: sections.build_all(view))
    parts.pop("synthesis")
    timed("synthesis: every area's figures", lambda: [show.figure_png(f, view) for p in parts.values()
                                                      for f in p.figures])
    timed("synthesis: tables.xlsx and tables/", lambda: build_tables(view, out))
    return steps


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=sorted(TARGETS))
    parser.add_argument("--repeat", type=int, default=3, help="end-to-end runs per scale (at least 3)")
    parser.add_argument("--no-breakdown", action="store_true", help="time the end-to-end runs only")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args(argv)
    if args.repeat < 3:
        parser.error("--repeat must be at least 3 (the report gives a median and its spread)")

    work = Path(tempfile.mkdtemp(prefix="clusnet-bench-scale-"))
    results, problems = [], []
    try:
        print(f"{os.cpu_count()} cores; load average at the start {load_average()}", flush=True)
        for scale in args.scales:
            data = write_sample(scale, work)
            exchanges = sum(1 for _ in (data / "exchanges.csv").open(encoding="utf-8")) - 1
            print(f"scale {scale} ({exchanges:,} exchanges): clusnet run --period final --force, "
                  f"{args.repeat} runs", flush=True)
            runs = end_to_end(data, work, args.repeat)
            steps = [] if args.no_breakdown else breakdown(data, work)
            results.append((scale, exchanges, runs, steps))
        for scale, exchanges, runs, steps in results:
            seconds = [r["seconds"] for r in runs]
            median = statistics.median(seconds)
            target = TARGETS.get(scale)
            verdict = ("no target" if target is None else
                       f"target <= {target:g} s {'met' if median <= target else 'MISSED'}")
            print(f"\nscale {scale} ({exchanges:,} exchanges): median {median:.1f} s "
                  f"(min-max {min(seconds):.1f}-{max(seconds):.1f} s, {len(seconds)} runs); {verdict}")
            print("  load average (1, 5, 15 min) before each run: " + "; ".join(r["load_before"] for r in runs))
            middle = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
            if middle["page_seconds"]:
                print("  per page in the median run (parallel, so they overlap): " + ", ".join(
                    f"{name} {t:.1f} s" for name, t in middle["page_seconds"].items()))
            if target is not None and median > target:
                problems.append(f"scale {scale}: median {median:.1f} s is above the target of {target:g} s")
            if any(r["pages"] == 0 for r in runs):
                problems.append(f"scale {scale}: a run wrote no HTML page")
            if steps:
                print("  where the time goes (one process, pages one after the other):")
                for name, step in steps:
                    print(f"    {name:52} {step:7.2f} s")
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
