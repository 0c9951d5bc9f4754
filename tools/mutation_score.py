"""Print the mutation score of the last `mutmut run` and the surviving mutants, per module.

Reads `mutmut results --all true` (one line per mutant: "name: status"). A mutant is
*killed* when a test failed (or it timed out: the tests noticed); it *survived* when every
test passed; "no tests" means no selected test calls the mutated function.
Score = killed / (killed + survived + no tests).
"""
from __future__ import annotations

import collections
import subprocess
import sys
from pathlib import Path

DETECTED = {"killed", "timeout", "caught by type check"}


def _module(mutant: str) -> str:
    # clusnet_analysis.analysis.budget.x_exchange_budget_check__mutmut_12 -> clusnet_analysis.analysis.budget
    head = mutant.split("__mutmut_")[0]
    return head.rsplit(".", 1)[0]


def main() -> int:
    mutmut = Path(sys.executable).with_name("mutmut")
    out = subprocess.run([str(mutmut), "results", "--all", "true"], capture_output=True, text=True, check=True).stdout
    statuses: dict[str, str] = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            statuses[name] = status
    if not statuses:
        print("No mutation results: run `make mutation` (mutmut run) first.")
        return 1
    per_module: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name, status in statuses.items():
        per_module[_module(name)]["killed" if status in DETECTED else status] += 1
    print(f"{'module':<42} {'mutants':>7} {'killed':>7} {'survived':>8} {'no tests':>8} {'score':>6}")
    total = collections.Counter()
    for module in sorted(per_module):
        c = per_module[module]
        total.update(c)
        scored = c["killed"] + c["survived"] + c["no tests"]
        score = f"{100 * c['killed'] / scored:5.1f}%" if scored else "   -"
        print(f"{module:<42} {sum(c.values()):>7} {c['killed']:>7} {c['survived']:>8} {c['no tests']:>8} {score:>6}")
    scored = total["killed"] + total["survived"] + total["no tests"]
    other = {k: v for k, v in total.items() if k not in ("killed", "survived", "no tests")}
    print(f"{'all':<42} {sum(total.values()):>7} {total['killed']:>7} {total['survived']:>8} "
          f"{total['no tests']:>8} {100 * total['killed'] / max(scored, 1):5.1f}%")
    if other:
        print("Not scored (not run to the end): " + ", ".join(f"{k} {v}" for k, v in sorted(other.items())))
    print(f"\nMutation score: {100 * total['killed'] / max(scored, 1):.1f} % of {scored} mutants killed")
    survivors = sorted(n for n, s in statuses.items() if s in ("survived", "no tests"))
    if survivors:
        print(f"\nSurviving mutants ({len(survivors)}); see one with `.venv/bin/mutmut show NAME`:")
        for name in survivors:
            print(f"  {name}  ({statuses[name]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
