"""Benchmark: `clusnet run` against two hand-made ways of building the same reports, on the sample.

Four timings, each into its own temporary folder with its own empty cache
(CLUSNET_CACHE_DIR), repeated --runs times (default 5); medians with the min-max spread:

1. naive   for every period and notebook, one after the other: the `papermill` CLI,
           then `jupyter nbconvert --to html --no-input` (what a hand-written Makefile does);
2. api     the same loop in one Python process: papermill.execute_notebook, then
           nbconvert's HTMLExporter(exclude_input=True) (a hand-written script);
3. full    `clusnet run --period all --force --reports DIR` (parallel, warm kernels);
4. no-op   `clusnet run --period all --reports DIR` again: nothing changed, nothing to do.

The targets are naive/full >= 8x and api/full >= 3.5x. Exits non-zero when the median
naive/full ratio is below --min-ratio (4), when the median no-op run takes --max-noop (2)
seconds or more, or when any step fails. `--runs 1` is the quick mode; `--baseline-runs N`
times the slow naive and api chains in only the first N runs.

    .venv/bin/python benchmarks/bench_batch.py [--runs 5] [--baseline-runs N] [--chains naive,api,full]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
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
CHAINS = ("naive", "api", "full")


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


def _fresh_env(work: Path, **extra: str) -> dict:
    """The environment of one timed chain: its own, empty cache folder."""
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    return dict(os.environ, CLUSNET_CACHE_DIR=str(cache), **extra)


def _headline(out_dir: Path, notebook: Path) -> Path:
    return out_dir / f"{notebook.stem}.headline.json"


def naive_chain(periods: list[str], notebooks: list[Path], data_dir: Path, out_root: Path,
                env: dict) -> float:
    papermill = _tool("papermill", ["-m", "papermill"])
    jupyter = _tool("jupyter", ["-m", "jupyter"])
    started = time.perf_counter()
    for period in periods:
        out_dir = out_root / period
        out_dir.mkdir(parents=True)
        for notebook in notebooks:
            executed = out_dir / notebook.name
            _run([*papermill, str(notebook), str(executed),
                  "-p", "period", period, "-p", "data_dir", str(data_dir),
                  "-p", "headline_path", str(_headline(out_dir, notebook)),
                  "--cwd", str(notebook.parent), "--no-progress-bar"],
                 env=env, label=f"papermill {period}/{notebook.name}")
            _run([*jupyter, "nbconvert", "--to", "html", "--no-input", str(executed),
                  "--output-dir", str(out_dir)],
                 env=env, label=f"nbconvert {period}/{notebook.name}")
    return time.perf_counter() - started


def api_chain(periods: list[str], notebooks: list[Path], data_dir: Path, out_root: Path) -> None:
    """The naive loop through the Python APIs, in this one process (run in a fresh subprocess)."""
    import papermill
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True)
    for period in periods:
        out_dir = out_root / period
        out_dir.mkdir(parents=True)
        for notebook in notebooks:
            executed = papermill.execute_notebook(
                str(notebook), str(out_dir / notebook.name), progress_bar=False, cwd=str(notebook.parent),
                parameters={"period": period, "data_dir": str(data_dir),
                            "headline_path": str(_headline(out_dir, notebook))})
            body, _resources = exporter.from_notebook_node(executed)
            (out_dir / f"{notebook.stem}.html").write_text(body, encoding="utf-8")


def _api_chain_in_subprocess(args, out_root: Path, env: dict) -> float:
    return _run([sys.executable, str(Path(__file__).resolve()), "--api-chain-into", str(out_root),
                 "--data", str(args.data.resolve()), "--notebooks", str(args.notebooks.resolve())],
                env=env, label="papermill + nbconvert API loop")


def _manifests(reports: Path) -> dict[str, bytes]:
    return {p.relative_to(reports).as_posix(): p.read_bytes() for p in sorted(reports.glob("*/manifest.json"))}


def _html_count(folder: Path) -> int:
    return len([p for p in folder.glob("*/*.html") if p.name != "index.html"])


def _clusnet_command(args, data_dir: Path, reports: Path, env: dict) -> list[str]:
    tool = _tool("clusnet", ["-c", "import sys; from clusnet_analysis.cli import main; sys.exit(main())"])
    command = [*tool, "run", "--period", "all"]
    # the reports folder: --reports when the CLI has it, CLUSNET_REPORTS_DIR in any case
    usage = subprocess.run([*tool, "run", "--help"], capture_output=True, text=True, env=env)
    if "--reports" in usage.stdout:
        command += ["--reports", str(reports)]
    if "--data" in usage.stdout:
        command += ["--data", str(data_dir)]
    return command + args.clusnet_arg


def _spread(values: list[float], digits: int = 1) -> str:
    if not values:
        return "-"
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.{digits}f}s"
    return f"{median:.{digits}f}s (min {min(values):.{digits}f}, max {max(values):.{digits}f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--runs", type=int, default=5, help="timed repetitions of each chain (1: quick mode)")
    parser.add_argument("--baseline-runs", type=int, default=None,
                        help="repetitions of the slow naive and api chains (default: --runs)")
    parser.add_argument("--chains", default=",".join(CHAINS),
                        help="which of naive,api,full to time (full includes the no-op run)")
    parser.add_argument("--clusnet-arg", action="append", default=[],
                        help="extra argument for `clusnet run` (repeatable), e.g. --clusnet-arg=--data=DIR")
    parser.add_argument("--min-ratio", type=float, default=4.0)
    parser.add_argument("--max-noop", type=float, default=2.0)
    parser.add_argument("--keep", action="store_true", help="keep the temporary output folders")
    parser.add_argument("--api-chain-into", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    data_dir = args.data.resolve()
    notebooks = discover_notebooks(args.notebooks.resolve())
    periods = period_order(programme_for(data_dir))
    if args.api_chain_into:  # the child process of the api chain
        api_chain(periods, notebooks, data_dir, args.api_chain_into)
        return 0
    chains = [c.strip() for c in args.chains.split(",") if c.strip()]
    baseline_runs = args.runs if args.baseline_runs is None else args.baseline_runs
    if not notebooks or args.runs < 1 or baseline_runs < 0 or set(chains) - set(CHAINS):
        sys.stderr.write("nothing to time (no notebooks, --runs below 1 or an unknown chain)\n")
        return 2
    runs = len(periods) * len(notebooks)
    print(f"{len(notebooks)} notebooks x {len(periods)} periods ({', '.join(periods)}) = {runs} reports; "
          f"{args.runs} run(s), {baseline_runs} of the baselines; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start")

    times: dict[str, list[float]] = {name: [] for name in (*CHAINS, "noop")}
    problems: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="clusnet-bench-"))
    try:
        for run in range(1, args.runs + 1):
            here = work / f"run{run}"
            here.mkdir()
            line = [f"run {run}:"]
            if "naive" in chains and run <= baseline_runs:
                seconds = naive_chain(periods, notebooks, data_dir, here / "naive", _fresh_env(here))
                times["naive"].append(seconds)
                line.append(f"naive {seconds:.1f}s")
                if _html_count(here / "naive") != runs:
                    problems.append(f"run {run}: the naive chain made {_html_count(here / 'naive')} HTML files")
            if "api" in chains and run <= baseline_runs:
                seconds = _api_chain_in_subprocess(args, here / "api", _fresh_env(here))
                times["api"].append(seconds)
                line.append(f"api {seconds:.1f}s")
                if _html_count(here / "api") != runs:
                    problems.append(f"run {run}: the API loop made {_html_count(here / 'api')} HTML files")
            if "full" in chains:
                reports = here / "clusnet"
                env = _fresh_env(here, CLUSNET_REPORTS_DIR=str(reports))
                command = _clusnet_command(args, data_dir, reports, env)
                seconds = _run([*command, "--force"], env=env, label="clusnet run --force")
                times["full"].append(seconds)
                if _html_count(reports) != runs:
                    problems.append(f"run {run}: clusnet run made {_html_count(reports)} HTML reports")
                before = _manifests(reports)
                noop = _run(command, env=env, label="clusnet run (no-op)")
                times["noop"].append(noop)
                line.append(f"full {seconds:.1f}s, no-op {noop:.2f}s")
                if not before:
                    problems.append("clusnet run wrote no manifest.json")
                elif _manifests(reports) != before:
                    problems.append(f"run {run}: the no-op run changed a manifest (it rebuilt something)")
            print("  ".join(line), f"(load {os.getloadavg()[0]:.2f})", flush=True)
            if not args.keep:
                shutil.rmtree(here, ignore_errors=True)

        print(f"\nmedians (min-max) over the runs, {time.strftime('%Y-%m-%d %H:%M %Z')}:")
        labels = {"naive": "(1) naive papermill + nbconvert CLI chain",
                  "api": "(2) papermill + nbconvert API loop, one process",
                  "full": "(3) clusnet run --period all --force",
                  "noop": "(4) clusnet run --period all (no-op)"}
        for name, label in labels.items():
            if times[name]:
                print(f"  {label:<48} {_spread(times[name], 2 if name == 'noop' else 1)}  "
                      f"[{len(times[name])} run(s)]")
        full = statistics.median(times["full"]) if times["full"] else None
        for name, target in (("naive", 8.0), ("api", 3.5)):
            if full and times[name]:
                ratio = statistics.median(times[name]) / full
                low, high = min(times[name]) / max(times["full"]), max(times[name]) / min(times["full"])
                verdict = "met" if ratio >= target else "NOT met"
                print(f"  {name}/full speed-up {ratio:5.1f}x (extremes {low:.1f}-{high:.1f}x); "
                      f"target >= {target:g}x {verdict}")
                if name == "naive" and ratio < args.min_ratio:
                    problems.append(f"speed-up {ratio:.1f}x is below {args.min_ratio:g}x")
        if times["noop"] and statistics.median(times["noop"]) >= args.max_noop:
            problems.append(f"no-op run took {statistics.median(times['noop']):.2f}s (limit {args.max_noop:g}s)")
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
