"""Benchmark: load, validate, convert to EUR and check every rule on ~1M exchanges.

Target (issue 2): <= 10 s and <= 3 GB peak memory on a 2-core machine, cost linear
in rows. Usage: python benchmarks/bench_data.py [--scale 32258] [--linearity]

The scaled sample (the bundled one replicated N times, ~5 expense lines per
exchange) is written once to .cache/bench/ and reused. Each measurement runs in a
fresh process so peak RSS is that of one load alone.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from clusnet_analysis.ingest.dataset import build
ds = build(sys.argv[1])
elapsed = time.perf_counter() - t0
print(json.dumps({
    "seconds": elapsed,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "exchanges": ds.rows_read["exchanges"], "expenses": ds.rows_read["expenses"],
    "rows_total": sum(ds.rows_read.values()), "errors": ds.error_count, "findings": len(ds.findings),
    "unconverted": int(ds.expenses["amount_eur"].isna().sum()),
}))
"""


def sample_dir(scale: int) -> Path:
    out = ROOT / ".cache" / "bench" / f"scale-{scale}"
    if not (out / "expenses.csv").is_file():
        from clusnet_analysis.sample import write_sample

        t = time.perf_counter()
        write_sample(out, scale=scale)
        print(f"  wrote scale-{scale} sample in {time.perf_counter() - t:.1f} s -> {out}")
    return out


# The target covers exchanges with their expense lines; the officers, cities, fx
# rates and clusters they refer to come along. Practices and links (2.4x and
# 0.8x the exchanges in the scaled sample) are measured only with --all-tables.
CORE_TABLES = ("cities", "officers", "exchanges", "expenses", "fx_rates", "clusters", "assessments")


def core_dir(scale: int) -> Path:
    full = sample_dir(scale)
    core = full.parent / f"scale-{scale}-core"
    core.mkdir(exist_ok=True)
    for table in CORE_TABLES:
        link = core / f"{table}.csv"
        if not link.exists():
            link.symlink_to(full / f"{table}.csv")
    return core


def measure(scale: int, all_tables: bool = False) -> dict:
    data = sample_dir(scale) if all_tables else core_dir(scale)
    res = subprocess.run([sys.executable, "-c", CHILD, str(data)], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # The sample has 31 exchanges: 32,258 copies = 999,998 exchanges with ~4.45M expense lines.
    ap.add_argument("--scale", type=int, default=32258, help="copies of the sample (32258 = 1.0M exchanges)")
    ap.add_argument("--linearity", action="store_true", help="also measure 1/4 and 1/2 of the scale")
    ap.add_argument("--all-tables", action="store_true", help="also load practices and links")
    ap.add_argument("--repeat", type=int, default=3, help="runs at the full scale; the median is judged")
    args = ap.parse_args()
    scales = [args.scale // 4, args.scale // 2] if args.linearity else []
    results = []
    for scale in scales + [args.scale] * max(args.repeat, 1):
        r = measure(scale, args.all_tables)
        results.append((scale, r))
        print(f"scale {scale:>6}: {r['exchanges']:>9,} exchanges, {r['expenses']:>9,} expense lines, "
              f"{r['rows_total']:>10,} rows in {r['seconds']:.2f} s = {r['rows_total'] / r['seconds']:,.0f} rows/s "
              f"({r['exchanges'] / r['seconds']:,.0f} exchanges/s), peak {r['peak_rss_mb']:,.0f} MB, "
              f"{r['findings']:,} findings, {r['errors']} schema errors", flush=True)
    if args.linearity:
        per_row = [r["seconds"] / r["rows_total"] * 1e6 for _, r in results[:3]]
        print("microseconds per row at 1/4, 1/2, 1x: " + ", ".join(f"{p:.2f}" for p in per_row)
              + "  (linear when roughly constant)")
    full = [r for scale, r in results if scale == args.scale]
    seconds = statistics.median(r["seconds"] for r in full)
    peak = max(r["peak_rss_mb"] for r in full)
    ok = seconds <= 10 and peak <= 3072
    print(f"median of {len(full)}: {seconds:.2f} s (min {min(r['seconds'] for r in full):.2f}, "
          f"max {max(r['seconds'] for r in full):.2f}), peak memory {peak:,.0f} MB")
    print(("PASS" if ok else "FAIL") + ": target <= 10 s and <= 3,072 MB for ~1M exchanges")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
