"""Benchmark: the analyses and figures behind each report area, at sample scale 100 and 1000.

Times, in this process, the analysis functions and figure functions that the
cross-city, best-practice, cluster-phase and budget reports call (the synthesis
report calls the same ones), on ``clusnet sample --scale N`` data loaded with
``ingest.dataset.load``. Loading is timed apart and not counted in an area.
Figures are built and saved (PNG + SVG) as ``clusnet figures`` does.
The end-to-end ``clusnet run`` time is measured by ``bench_batch.py``.

Usage: python benchmarks/bench_scale.py [--scales 100 1000] [--repeat 5] [--data-dir DIR]

Each area is run ``--repeat`` times; the report gives the median and the spread
(min-max) of the wall-clock time, and the median CPU time of this process (less
sensitive to other work on a shared machine). Say so when quoting the numbers.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sample_dir(scale: int, base: Path) -> Path:
    out = base / f"scale-{scale}"
    if not (out / "exchanges.csv").is_file():
        from clusnet_analysis.sample import write_sample

        write_sample(out, scale=scale)
    return out


def areas(ds, period: str = "final"):
    """(area, function) pairs; each function runs that report area's analyses and figures once."""
    import matplotlib.pyplot as plt

    from clusnet_analysis.analysis import crosscity, links, phases, practices
    from clusnet_analysis.analysis.periods import counted, select_period
    from clusnet_analysis.plots.flows import flow_matrix_figure
    from clusnet_analysis.plots.network import link_network_figure
    from clusnet_analysis.plots.phases import phase_distribution_figure
    from clusnet_analysis.plots.practices import themes_by_host_figure
    from clusnet_analysis.plots.style import save_figure

    prog = ds.programme
    clusters = ds.tables["clusters"]
    out = Path(tempfile.mkdtemp(prefix="bench-scale-"))

    def figure(fig, name):
        save_figure(fig, out, name)
        plt.close(fig)

    def cross_city_tables():
        this = select_period(ds.exchanges, prog, period)
        cumulative = select_period(ds.exchanges, prog, period, cumulative=True)
        crosscity.flows(cumulative, prog)
        for frame in (this, cumulative):
            crosscity.flow_matrix(frame, prog)
            crosscity.sent_hosted(frame, prog)
            crosscity.network_summary(frame, prog)
        crosscity.quota_use(cumulative, prog)
        return cumulative

    def flows_area():
        cumulative = cross_city_tables()
        figure(flow_matrix_figure(crosscity.flow_matrix(cumulative, prog)), "flows")

    def links_area():
        view = links.links_view(ds.tables["links"], clusters, prog, ds.exchanges)
        links.period_network_summary(view, clusters, prog, period)
        links.cross_city_links(view)
        links.links_per_period(view, prog)
        graph = links.link_graph(links.select_links(view, prog, period, cumulative=True), clusters)
        links.links_per_city(graph, prog)
        links.links_per_cluster(graph)
        figure(link_network_figure(graph), "network")

    def practices_area():
        view = practices.practices_view(ds.tables["practices"], ds.exchanges)
        cumulative = counted(select_period(view, prog, period, cumulative=True))
        practices.theme_by_phase(cumulative, prog, ds.model)
        practices.most_transferable(cumulative, n=10)
        practices.reported_by_several(cumulative)
        practices.who_learns_from_whom(cumulative, prog)
        practices.gap_coverage(cumulative, prog)
        figure(themes_by_host_figure(practices.theme_by_host(cumulative, prog), prog.theme_labels), "themes")

    def phases_area():
        placements = phases.cluster_placements(ds.tables["assessments"], ds.model, prog, clusters=clusters)
        phases.phase_movement(placements)
        distribution = phases.phase_distribution(placements, ds.model, prog)
        figure(phase_distribution_figure(distribution, {p.id: p.name for p in ds.model.phases}), "phases")

    def budget_figure_area():
        # The budget analysis is being rewritten elsewhere: time its figure on today's by-city table.
        from clusnet_analysis.analysis import budget
        from clusnet_analysis.plots.budget import budget_by_city_figure

        figure(budget_by_city_figure(budget.interreg_table(ds.expenses, prog, period, by="home_city")),
               "budget")

    return [("cross-city: flows", flows_area), ("cross-city: cluster links", links_area),
            ("best practices", practices_area), ("cluster phases", phases_area),
            ("budget by city (figure)", budget_figure_area)]


def measure(scale: int, repeat: int, base: Path) -> dict:
    from clusnet_analysis.ingest.dataset import load

    data = sample_dir(scale, base)
    t = time.perf_counter()
    ds = load(data)
    load_s = time.perf_counter() - t
    result = {"scale": scale, "exchanges": len(ds.exchanges), "links": len(ds.tables["links"]),
              "practices": len(ds.tables["practices"]), "load_s": load_s, "areas": {}}
    for name, run in areas(ds):
        times, cpu = [], []
        for _ in range(repeat):
            gc.collect()
            t, c = time.perf_counter(), time.process_time()
            try:
                run()
            except Exception as exc:   # an area whose API moved is reported, not fatal
                result["areas"][name] = f"failed: {type(exc).__name__}: {exc}"
                break
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        else:
            result["areas"][name] = times
            result.setdefault("cpu", {})[name] = cpu
    return result


def report(results: list[dict]) -> None:
    print(f"\nMachine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end "
          "(shared machine: times are measured under load).")
    names = list(dict.fromkeys(n for r in results for n in r["areas"]))
    header = f"{'area':28}" + "".join(f" | scale {r['scale']:>5}: wall median (min-max) s, CPU s" for r in results)
    print(header)
    totals = {r["scale"]: 0.0 for r in results}
    cpu_totals = {r["scale"]: 0.0 for r in results}
    for name in names:
        line = f"{name:28}"
        for r in results:
            times = r["areas"].get(name)
            if isinstance(times, list):
                med = statistics.median(times)
                cpu = statistics.median(r["cpu"][name])
                totals[r["scale"]] += med
                cpu_totals[r["scale"]] += cpu
                line += f" | {med:>20.3f} ({min(times):.3f}-{max(times):.3f}) {cpu:>7.3f}"
            else:
                line += f" | {str(times)[:52]:>52}"
        print(line)
    print(f"{'sum of medians':28}" + "".join(f" | {totals[r['scale']]:>20.3f}{'':15} {cpu_totals[r['scale']]:>7.3f}"
                                             for r in results))
    for r in results:
        print(f"scale {r['scale']}: {r['exchanges']:,} exchanges, {r['practices']:,} practices, "
              f"{r['links']:,} links; load {r['load_s']:.1f} s (cached after the first run)")
    if len(results) >= 2:
        a, b = results[0], results[-1]
        rows = b["exchanges"] / a["exchanges"]
        time_ratio = totals[b["scale"]] / totals[a["scale"]] if totals[a["scale"]] else float("nan")
        print(f"rows x{rows:.1f} -> time x{time_ratio:.1f} (linear or better when time grows no faster than rows)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".cache" / "bench",
                        help="where scaled samples are written once and reused")
    args = parser.parse_args(argv)
    results = []
    for scale in args.scales:
        print(f"scale {scale} ...", flush=True)
        results.append(measure(scale, args.repeat, args.data_dir))
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
