#!/usr/bin/env python3
"""Mutation score of the Python contract modules (mutmut), one module at a time.

    python scripts/mutate_py.py [golden fixed quant formats network export checkpoint] [--diffs]

For each module a scratch copy of ``model/icespike`` (as ``src/icespike``) and ``tests/`` is made under
``build/mutate-py/<module>/`` with a ``[tool.mutmut]`` section naming that module and the
test files that cover it; ``mutmut run`` then mutates the module and runs, per mutant, the
covering tests (fast tier, hypothesis profile "ci": reproducible). The script prints one
line per module (killed / mutants, survivors, wall time), the survivors' names (``--diffs``:
and their diffs), and
a total, and writes ``build/mutate-py/summary.json``. Survivors that are equivalent mutants
are listed with their reasons in docs/verification.md ("Python mutation score").
Exits 1 if a run fails (not if mutants survive: the score is a report).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "build" / "mutate-py"

# module -> the test files that exercise it (its own tests plus the contract and loader tests)
TESTS = {
    "fixed": ["tests/test_fixed.py"],
    "formats": ["tests/test_formats.py", "tests/test_contract.py"],
    "quant": ["tests/test_quant.py"],
    "network": ["tests/test_contract.py", "tests/test_golden.py"],
    "golden": ["tests/test_golden.py"],
    "export": ["tests/test_export.py", "tests/test_contract.py", "tests/test_loader_fuzz.py"],
    "checkpoint": ["tests/test_checkpoint.py", "tests/test_loader_fuzz.py"],
}


# Left out of mutation runs: end-to-end runs (MNIST training, the CLI, the committed models, the
# benchmark script) that cover the contract modules only through the unit-tested functions and
# would cost minutes per mutant.
SKIP_K = (
    "not test_bench_script_golden_section and not test_export_of_a_trained_checkpoint"
    " and not test_cli_sim_rejects_bad_options and not test_resume_gives_the_same_weights"
    " and not test_cli_train_small and not test_cli_eval_json"
)


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(s) for s in items) + "]"


def prepare(module: str) -> Path:
    """The scratch directory for one module's run: sources, tests and a mutmut config."""
    wd = OUT / module
    if wd.exists():
        shutil.rmtree(wd)
    wd.mkdir(parents=True)
    # mutmut names mutants after the module path with a leading "src." removed: a src/ layout
    # makes them "icespike.<module>...", the names the tests import
    shutil.copytree(
        REPO / "model" / "icespike", wd / "src" / "icespike", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(REPO / "tests", wd / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    for d in ("rtl", "models"):  # tests read the engine's sources and the committed checkpoints
        (wd / d).symlink_to(REPO / d)
    tests = [t for t in TESTS[module] if (REPO / t).is_file()]
    pyproject = (REPO / "pyproject.toml").read_text()
    pyproject += (
        "\n[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f'only_mutate = ["src/icespike/{module}.py"]\n'
        f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
        "pytest_add_cli_args = "
        f"{_toml_list(['-p', 'no:xdist', '-p', 'no:cacheprovider', '-m', 'not slow', '-q', '-k', SKIP_K])}\n"
        "use_git_change_detection = false\n"
        'also_copy = ["rtl", "models"]\n'
    )
    (wd / "pyproject.toml").write_text(pyproject)
    return wd


def run_module(module: str, env: dict, show_diffs: bool) -> dict:
    wd = prepare(module)
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    menv = dict(env)
    t0 = time.perf_counter()
    log = wd / "mutmut.log"
    with log.open("w") as f:
        rc = subprocess.run(
            [mutmut, "run", "--max-children", "1"], cwd=wd, env=menv, stdout=f, stderr=f
        ).returncode
    wall = time.perf_counter() - t0
    if rc != 0:
        tail = log.read_text().splitlines()[-15:]
        raise SystemExit(
            f"mutate-py: mutmut run on {module} failed (exit {rc}); see {log}:\n" + "\n".join(tail)
        )
    subprocess.run([mutmut, "export-cicd-stats"], cwd=wd, env=menv, capture_output=True, check=True)
    stats = json.loads((wd / "mutants" / "mutmut-cicd-stats.json").read_text())
    res = subprocess.run([mutmut, "results"], cwd=wd, env=menv, capture_output=True, text=True, check=True)
    survivors = []
    for ln in res.stdout.splitlines():
        name, _, status = ln.strip().rpartition(": ")
        if name and status in ("survived", "no tests", "timeout", "suspicious"):
            diff = ""
            if show_diffs:
                diff = subprocess.run(
                    [mutmut, "show", name], cwd=wd, env=menv, capture_output=True, text=True
                ).stdout
            survivors.append({"name": name, "status": status, "diff": diff})
    tested = int(stats["total"]) - int(stats.get("skipped", 0))
    killed = int(stats["killed"]) + int(stats.get("timeout", 0))
    return {
        "module": module,
        "mutants": tested,
        "killed": killed,
        "score": killed / tested if tested else float("nan"),
        "wall_s": round(wall, 1),
        "stats": stats,
        "survivors": survivors,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", default=list(TESTS), help=f"modules (default: {' '.join(TESTS)})")
    ap.add_argument("--diffs", action="store_true", help="print each survivor's diff (mutmut show)")
    args = ap.parse_args(argv)
    bad = [m for m in args.modules if m not in TESTS]
    if bad:
        ap.error(f"unknown module(s) {bad}; choose from {list(TESTS)}")
    env = dict(os.environ)
    env.setdefault("ICESPIKE_DATA", str(REPO / "data" / "mnist"))
    env["HYPOTHESIS_PROFILE"] = "ci"
    env["ICESPIKE_PROGRESS"] = "0"
    env.setdefault("ICESPIKE_FUZZ_EXAMPLES", "10")  # loader fuzzing: fewer cases per mutant
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for m in args.modules:
        r = run_module(m, env, args.diffs)
        rows.append(r)
        print(
            f"mutate-py: {m}: {r['killed']} of {r['mutants']} mutants killed "
            f"({100 * r['score']:.1f}%), {len(r['survivors'])} survivors, {r['wall_s']:.0f} s",
            flush=True,
        )
        for s in r["survivors"]:
            print(f"  {s['status']}: {s['name']}")
            for ln in s["diff"].splitlines():
                if ln.startswith(("+ ", "- ", "+\t", "-\t")) or (
                    ln[:1] in "+-" and ln[:3] not in ("+++", "---")
                ):
                    print(f"      {ln.rstrip()}")
    killed = sum(r["killed"] for r in rows)
    total = sum(r["mutants"] for r in rows)
    wall = sum(r["wall_s"] for r in rows)
    (OUT / "summary.json").write_text(json.dumps(rows, indent=1) + "\n")
    print(
        f"mutate-py: {killed} of {total} mutants killed ({100 * killed / max(total, 1):.1f}%) in {wall:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
