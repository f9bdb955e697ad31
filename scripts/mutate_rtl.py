"""RTL mutation score (make mutate-rtl): every mutant of verif/mutants.py against its testbenches.

For each mutant the pytest selection it names runs with ICESPIKE_MUTANT=<name> (simrun.rtl then
serves the mutated copy of rtl/). The mutant is killed when the selection fails (pytest exit
code 1: tests ran and failed); a selection that cannot run (collection error, no tests) counts
as an error, not a kill. Prints one line per mutant and, last, "killed K of N".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "verif"))

import mutants  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument(
        "-k", dest="select", default="", help="only mutants whose name contains this (a,b: either)"
    )
    args = ap.parse_args(argv)
    wanted = args.select.split(",")
    chosen = [m for m in mutants.MUTANT_LIST if any(w in m.name for w in wanted)]
    if not chosen:
        print("mutate_rtl: error: no mutant selected", file=sys.stderr)
        return 2
    killed, errors = [], []
    t0 = time.monotonic()
    for m in chosen:
        mutants.apply(m.name)
        env = {**os.environ, mutants.ENV: m.name}
        t = time.monotonic()
        r = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *m.tests],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        secs = time.monotonic() - t
        if r.returncode == 1:
            killed.append(m.name)
            verdict = "killed"
        elif r.returncode == 0:
            verdict = "SURVIVED"
        else:
            errors.append(m.name)
            verdict = f"ERROR (pytest exit {r.returncode})"
        print(f"{verdict:<10} {m.name:<26} {secs:6.1f} s  {m.why}", flush=True)
    survivors = [m.name for m in chosen if m.name not in killed and m.name not in errors]
    if survivors:
        print(f"mutate_rtl: survivors: {', '.join(survivors)}")
    if errors:
        print(f"mutate_rtl: errors: {', '.join(errors)}")
    wall = time.monotonic() - t0
    print(f"mutate_rtl: killed {len(killed)} of {len(chosen)} RTL mutants ({wall:.0f} s)")
    return 0 if len(killed) == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
