"""icespike.export: engine weight images, net_params.vh, manifest, and the verifying loader."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil

import numpy as np
import pytest

from icespike import export as ex
from icespike import rtlsim
from icespike.cli import main
from icespike.formats import weight_format
from icespike.network import IntLayer, IntNetwork

ALL_BITS = (16, 8, 4, 2, 1)


def random_codes(rng: np.random.Generator, bits: int, shape) -> np.ndarray:
    """Random codes over the format's full hardware range (most negative code included)."""
    fmt = weight_format(bits)
    if bits == 1:
        return rng.choice(np.array([-1, 1], dtype=np.int64), size=shape)
    return rng.integers(fmt.qmin, fmt.qmax + 1, size=shape, dtype=np.int64)


def make_net(bits: int, sizes=(784, 128, 10), *, seed: int = 0, timesteps: int = 16, **hidden) -> IntNetwork:
    rng = np.random.default_rng(seed)
    q0 = random_codes(rng, bits, (sizes[1], sizes[0]))
    q1 = random_codes(rng, bits, (sizes[2], sizes[1]))
    hidden.setdefault("threshold", 1234)
    hidden.setdefault("leak_shift", 4)
    return IntNetwork([IntLayer(q0, bits, **hidden), IntLayer(q1, bits)], timesteps)


def rewrite_manifest(d, fn):
    """Apply ``fn`` to the manifest dict and write it back."""
    p = d / ex.MANIFEST
    m = json.loads(p.read_text())
    fn(m)
    p.write_text(json.dumps(m, indent=2))


def refresh_checksum(d, name):
    """Make the manifest agree with a deliberately changed file (so a deeper check must catch it)."""
    f = d / name

    def upd(m):
        m["files"][name]["sha256"] = hashlib.sha256(f.read_bytes()).hexdigest()
        m["files"][name]["bytes"] = f.stat().st_size

    rewrite_manifest(d, upd)


def edit_file(d, name, fn):
    """Rewrite file ``name`` of export ``d`` as ``fn(text)`` and make the manifest agree with it."""
    f = d / name
    f.write_text(fn(f.read_text()))
    refresh_checksum(d, name)


@pytest.mark.parametrize("bits", ALL_BITS)
def test_roundtrip_784_128_10(bits, tmp_path):
    net = make_net(bits, seed=bits)
    man = ex.export_network(net, tmp_path)
    back = ex.load_export(tmp_path)
    assert np.array_equal(back.layers[0].codes, net.layers[0].codes)
    assert np.array_equal(back.layers[1].codes, net.layers[1].codes)
    assert back.timesteps == net.timesteps
    assert back.layers[0].threshold == net.layers[0].threshold
    assert back.layers[0].leak_shift == net.layers[0].leak_shift
    assert back.layers[0].reset == net.layers[0].reset
    p = ex.engine_params(net)
    assert ex.engine_params(back) == p
    # widths: the table of docs/arithmetic.md section 6 (784-128-10, T = 16)
    table = {16: (34, 36, 28), 8: (26, 28, 20), 4: (22, 24, 16), 2: (19, 21, 13), 1: (19, 21, 13)}
    assert (p.ACC_W, p.MEM_W, p.SCORE_W) == table[bits]
    code_w = {16: 16, 8: 8, 4: 4, 2: 2, 1: 1}[bits]
    assert p.LANES == 64 // code_w and p.WPR == -(-128 // p.LANES) and p.W0_DEPTH == 784 * p.WPR
    assert man["files"]["w0.hex"]["words"] == p.W0_DEPTH
    lines = (tmp_path / "w0.hex").read_text().split()
    assert len(lines) == p.W0_DEPTH and all(len(s) == 16 for s in lines)
    lines1 = (tmp_path / "w1.hex").read_text().split()
    assert len(lines1) == 128 and all(len(s) == -(-10 * code_w // 4) for s in lines1)
    for name in ("w0.hex", "w1.hex", "net_params.vh"):
        assert man["files"][name]["sha256"] == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()


def test_ternary_word_count_matches_the_card():
    # 32 ternary codes per 64-bit word: 784 * 128 / 32 = 3136 words, the dense bound of the card
    p = ex.engine_params(make_net(2))
    assert p.W0_DEPTH == 3136 and rtlsim.dense_bound_cycles(p) == 3136


@pytest.mark.parametrize("bits", ALL_BITS)
def test_layout_places_each_code_where_the_rtl_reads_it(bits):
    net = make_net(bits, sizes=(20, 70, 3), seed=3)
    p = ex.engine_params(net)
    w0 = ex.pack_w0(net)
    w1 = ex.pack_w1(net)
    fmt_mask = (1 << p.CODE_W0) - 1
    rng = np.random.default_rng(0)
    for _ in range(200):
        i, j = int(rng.integers(20)), int(rng.integers(70))
        word = w0[i * p.WPR + j // p.LANES]
        pat = (word >> ((j % p.LANES) * p.CODE_W0)) & fmt_mask
        q = int(net.layers[0].codes[j, i])
        assert pat == (int(q < 0) if bits == 1 else q & fmt_mask)
    for j in range(70):
        for o in range(3):
            pat = (w1[j] >> (o * p.CODE_W1)) & fmt_mask
            q = int(net.layers[1].codes[o, j])
            assert pat == (int(q < 0) if bits == 1 else q & fmt_mask)
    # padding lanes of the last word of each row are zero
    if 70 % p.LANES:
        used = 70 % p.LANES
        for i in range(20):
            assert w0[i * p.WPR + p.WPR - 1] >> (used * p.CODE_W0) == 0


def test_params_vh_holds_every_parameter(tmp_path):
    net = make_net(2, reset="zero", leak_shift=0, threshold=77)
    ex.export_network(net, tmp_path)
    vh = ex.parse_params_vh((tmp_path / "net_params.vh").read_text())
    p = ex.engine_params(net)
    for k, v in p.as_dict().items():
        assert vh[k] == v
    assert vh["RESET_SUBTRACT"] == 0 and vh["LEAK_SHIFT"] == 0 and vh["THRESHOLD"] == 77
    assert vh["W0_FILE"] == "w0.hex" and vh["W1_FILE"] == "w1.hex"


def test_rejects_networks_the_engine_cannot_run():
    rng = np.random.default_rng(0)

    def deep(sizes, bits, **kw):
        layers = [
            IntLayer(random_codes(rng, b, (n, m)), b, threshold=5, **kw)
            for n, m, b in zip(sizes[1:-1], sizes[:-2], bits)
        ]
        layers.append(IntLayer(random_codes(rng, bits[-1], (sizes[-1], sizes[-2])), bits[-1]))
        return IntNetwork(layers, 4)

    with pytest.raises(
        ex.ExportError, match=r"^the RTL engine runs 1 to 4 hidden layers; this network has 5$"
    ):
        ex.engine_params(deep((30, 8, 8, 8, 8, 8, 4), (2,) * 6))
    with pytest.raises(
        ex.ExportError,
        match=r"^the RTL engine stores all hidden layers with one code width; this network's hidden "
        r"layers have code widths \[2, 8\]$",
    ):
        ex.engine_params(deep((30, 16, 8, 4), (2, 8, 2)))
    with pytest.raises(
        ex.ExportError,
        match=r"^the RTL engine adds biases only with one hidden layer; this network has 2 hidden layers and biases$",
    ):
        net = deep((30, 16, 8, 4), (2, 2, 2))
        net.layers[0].bias = np.zeros(16, np.int64)
        net.validate()
        ex.engine_params(net)
    # the output layer may have its own code width, with any depth
    assert ex.engine_params(deep((30, 16, 8, 4), (2, 2, 8))).CODE_W1 == 8


def deep_net(bits: int, sizes=(784, 256, 128, 10), *, seed: int = 0, timesteps: int = 16) -> IntNetwork:
    """A random network with len(sizes) - 2 hidden layers, per-layer LIF parameters all different."""
    rng = np.random.default_rng(seed)
    layers = []
    for li, (m, n) in enumerate(zip(sizes[:-2], sizes[1:-1])):
        layers.append(
            IntLayer(
                random_codes(rng, bits, (n, m)),
                bits,
                threshold=1234 if li == 0 else 5 + li,
                leak_shift=(4 + li) % 6,
                reset=("subtract", "zero")[li % 2],
                mem_width=None if li != 1 else 30,
            )
        )
    layers.append(IntLayer(random_codes(rng, bits, (sizes[-1], sizes[-2])), bits))
    return IntNetwork(layers, timesteps)


@pytest.mark.parametrize("bits", ALL_BITS)
def test_deep_roundtrip_and_layout(bits, tmp_path):
    """Up to 4 hidden layers: w0.hex is every hidden layer, layer 0 first, each in layer 0's row
    layout; w1.hex the output layer; the per-layer parameters in the manifest and net_params.vh;
    load_export gives the same network back."""
    sizes = (40, 70, 33, 9, 5) if bits != 16 else (40, 20, 33, 5)
    net = deep_net(bits, sizes, seed=bits)
    man = ex.export_network(net, tmp_path)
    back = ex.load_export(tmp_path)
    assert back.sizes == net.sizes
    for a, b in zip(back.layers, net.layers):
        assert np.array_equal(a.codes, b.codes)
        assert (a.bits, a.threshold, a.leak_shift, a.mem_width) == (
            b.bits,
            b.threshold,
            b.leak_shift,
            b.mem_width,
        )
        assert a.reset == b.reset or a.is_output
    p = ex.engine_params(net)
    assert ex.engine_params(back) == p
    n = len(sizes) - 2
    assert p.N_LAYERS == n and p.hidden_sizes == sizes[1:-1] and p.W1_DEPTH == sizes[-2]
    assert p.ACC_W_L == tuple(net.acc_width(li) for li in range(1, n))
    assert p.MEM_W_L == tuple(net.mem_width(li) for li in range(1, n))
    assert p.THRESHOLD_L == tuple(5 + li for li in range(1, n))
    assert p.RESET_SUBTRACT_L == tuple(1 - li % 2 for li in range(1, n))
    assert p.HID_AW == max(1, (max(sizes[1:-1]) - 1).bit_length())
    # layout: layer l's code of (row r, neuron j) in word base_l + r*WPR_l + j // LANES
    w0 = ex.pack_w0(net)
    layout = ex.hidden_layout(p)
    assert [x[0] for x in layout][0] == 0 and len(w0) == p.W0_DEPTH == sum(r * w for _, r, w, _ in layout)
    mask = (1 << p.CODE_W0) - 1
    rng = np.random.default_rng(1)
    for li, (base, rows, wpr, k) in enumerate(layout):
        assert (rows, k, wpr) == (sizes[li], sizes[li + 1], -(-sizes[li + 1] // p.LANES))
        for _ in range(100):
            r, j = int(rng.integers(rows)), int(rng.integers(k))
            pat = (w0[base + r * wpr + j // p.LANES] >> ((j % p.LANES) * p.CODE_W0)) & mask
            q = int(net.layers[li].codes[j, r])
            assert pat == (int(q < 0) if bits == 1 else q & mask)
    assert (tmp_path / "w1.hex").read_text().split() == [
        f"{w:0{-(-p.W1_DATA_W // 4)}x}" for w in ex.pack_w1(net)
    ]
    # net_params.vh: the packed vectors, layer l at [BITS*(l-1) +: BITS]
    vh = ex.parse_params_vh((tmp_path / "net_params.vh").read_text())
    assert vh["N_LAYERS"] == n
    for name, width in ex.LAYER_VECTORS.items():
        assert vh[name] == sum(v << (width * i) for i, v in enumerate(getattr(p, name)))
    text = (tmp_path / "net_params.vh").read_text()
    assert f"`define SNN_N_HID_L 48'h{ex.pack_layer_vector('N_HID_L', p.N_HID_L):012x}" in text
    assert "`define SNN_THRESHOLD_L 192'h" in text and "`define SNN_RESET_SUBTRACT_L 3'h" in text
    assert man["engine"]["N_HID_L"] == list(sizes[2:-1])
    assert man["files"]["w0.hex"]["role"] == "hidden-layer weights (layer 0 first)"


def test_deep_loader_rejects_a_bad_per_layer_field(tmp_path):
    net = deep_net(2, (30, 40, 20, 4))
    ex.export_network(net, tmp_path)
    man = json.loads((tmp_path / ex.MANIFEST).read_text())
    cases = [
        (
            lambda m: m["engine"].update(N_HID_L=[21]),
            r"derived engine parameters do not follow .*: W1_DEPTH 20 \(follows: 21\)$",
        ),
        (
            lambda m: m["engine"].update(N_LAYERS=3),
            r"N_LAYERS 3 and its per-layer vectors do not describe the 2",
        ),
        (
            lambda m: m["engine"].update(THRESHOLD_L=[5.0]),
            r"engine\.THRESHOLD_L must be an integer, got 5\.0",
        ),
        (lambda m: m["engine"].update(MEM_W_L=7), r"engine\.MEM_W_L must be a list of integers, got 7"),
        (
            lambda m: m["network"]["layers"][1].update(mem_width=29),
            r"do not match the network they describe: \{'MEM_W_L': \(\[30\], \[29\]\)\}$",
        ),
        (
            lambda m: m["network"]["layers"].pop(1),
            r"N_LAYERS 2 and its per-layer vectors do not describe the 1",
        ),
    ]
    for edit, match in cases:
        m = json.loads(json.dumps(man))
        edit(m)
        (tmp_path / ex.MANIFEST).write_text(json.dumps(m))
        with pytest.raises(ex.ExportError, match=match):
            ex.load_export(tmp_path)
    # the vectors of net_params.vh are checked against the manifest too
    (tmp_path / ex.MANIFEST).write_text(json.dumps(man))
    vh = (
        (tmp_path / "net_params.vh")
        .read_text()
        .replace("SNN_LEAK_SHIFT_L 24'h000005", "SNN_LEAK_SHIFT_L 24'h000001")
    )
    (tmp_path / "net_params.vh").write_text(vh)
    refresh_checksum(tmp_path, "net_params.vh")
    with pytest.raises(ex.ExportError, match=r"net_params\.vh: SNN_LEAK_SHIFT_L = 1, manifest says 5"):
        ex.load_export(tmp_path)


def test_deep_rules_of_check_engine():
    p = ex.engine_params(deep_net(2, (30, 40, 20, 4)))
    for change, match in [
        (dict(ACC_W_L=(20,)), r"layer 1: ACC_W_L 20 outside 2\.\.ACC_W = 14"),
        (dict(N_HID_L=(1,)), r"layer 1: N_HID_L 1 outside 2\.\.65535"),
        (dict(THRESHOLD_L=(0,)), r"layer 1: THRESHOLD_L 0 outside 1\.\.2\^\(MEM_W_L-1\)-1 \(MEM_W_L 30\)"),
        (dict(LEAK_SHIFT_L=(30,)), r"layer 1: LEAK_SHIFT_L 30 outside 0\.\.MEM_W_L-1 = 0\.\.29"),
        (dict(RESET_SUBTRACT_L=(2,)), r"layer 1: RESET_SUBTRACT_L must be 0 or 1, got 2"),
        (dict(N_LAYERS=5), r"N_LAYERS must be 1\.\.4, got 5"),
        (dict(HAS_BIAS=1), r"biases need N_LAYERS = 1"),
    ]:
        with pytest.raises(ex.ExportError, match="^the RTL engine cannot run this network: " + match):
            ex.check_engine(dataclasses.replace(p, **change))


@pytest.fixture
def exported(tmp_path):
    net = make_net(2, sizes=(50, 40, 10), seed=5)
    d = tmp_path / "exp"
    ex.export_network(net, d)
    return net, d


def test_loader_rejects_a_changed_file(exported):
    _, d = exported
    lines = (d / "w0.hex").read_text().splitlines()
    lines[3] = "0" * 16 if lines[3] != "0" * 16 else "1" + "0" * 15
    (d / "w0.hex").write_text("\n".join(lines) + "\n")
    with pytest.raises(
        ex.ExportError,
        match=r"w0\.hex: SHA-256 [0-9a-f]{16}\.\.\. does not match the manifest \([0-9a-f]{16}\.\.\.\)$",
    ):
        ex.load_export(d)


def test_loader_rejects_a_size_mismatch(exported):
    _, d = exported
    with open(d / "w1.hex", "a") as f:
        f.write("00000\n")
    with pytest.raises(ex.ExportError, match="size"):
        ex.load_export(d)
    refresh_checksum(d, "w1.hex")  # consistent manifest, but one word too many for the engine
    with pytest.raises(ex.ExportError, match="words"):
        ex.load_export(d)


def test_loader_rejects_a_wrong_word_width(exported):
    _, d = exported
    lines = (d / "w1.hex").read_text().splitlines()
    (d / "w1.hex").write_text("\n".join("0" + s for s in lines) + "\n")
    refresh_checksum(d, "w1.hex")
    with pytest.raises(
        ex.ExportError, match=r"w1\.hex: line 1 is not a 20-bit word of 5 hex digits: '0[0-9a-f]{5}'$"
    ):
        ex.load_export(d)


def test_loader_rejects_an_illegal_ternary_pattern(exported):
    _, d = exported
    lines = (d / "w0.hex").read_text().splitlines()
    lines[0] = lines[0][:-1] + "2"  # lane 0 pattern 10
    (d / "w0.hex").write_text("\n".join(lines) + "\n")
    refresh_checksum(d, "w0.hex")
    with pytest.raises(ex.ExportError, match="illegal"):
        ex.load_export(d)


def test_loader_rejects_params_vh_that_disagree(exported):
    _, d = exported
    f = d / "net_params.vh"
    f.write_text(f.read_text().replace("`define SNN_T 16", "`define SNN_T 8"))
    refresh_checksum(d, "net_params.vh")
    with pytest.raises(ex.ExportError, match=r"net_params\.vh: SNN_T = 8, manifest says 16$"):
        ex.load_export(d)


def test_loader_rejects_a_bit_width_mismatch(exported):
    _, d = exported

    def set_bits(m):
        m["network"]["layers"][0]["bits"] = 4

    rewrite_manifest(d, set_bits)
    with pytest.raises(
        ex.ExportError,
        match=r"manifest\.json: bit widths 4/2 need code widths 4/2, engine parameters say CODE_W0=2 CODE_W1=2$",
    ):
        ex.load_export(d)


def test_loader_rejects_engine_params_that_do_not_match_the_network(exported):
    _, d = exported

    def set_thr(m):
        m["network"]["layers"][0]["threshold"] = 999

    rewrite_manifest(d, set_thr)
    with pytest.raises(
        ex.ExportError,
        match=r"manifest\.json: engine parameters do not match the network they describe: \{'THRESHOLD': \(1234, 999\)\}$",
    ):
        ex.load_export(d)


def test_loader_checks_the_rtl_parameters(exported):
    net, d = exported
    p = ex.engine_params(net)
    assert ex.load_export(d, expect=p).sizes == net.sizes
    with pytest.raises(
        ex.ExportError, match=r"exp: export does not match the RTL parameters \(MEM_W: RTL 30, files 17\)$"
    ):
        ex.load_export(d, expect={"MEM_W": 30, "N_IN": p.N_IN})


def test_loader_missing_pieces(exported, tmp_path):
    _, d = exported
    (d / "w1.hex").unlink()
    with pytest.raises(ex.ExportError, match=r"exp: missing w1\.hex$"):
        ex.load_export(d)
    (d / ex.MANIFEST).write_text("{not json")
    with pytest.raises(
        ex.ExportError,
        match=r"manifest\.json: not valid JSON \(Expecting property name enclosed in double quotes: line 1 column 2 \(char 1\)\)$",
    ):
        ex.load_export(d)
    with pytest.raises(ex.ExportError, match=r"nowhere: no manifest\.json \(not an export directory\)$"):
        ex.load_export(tmp_path / "nowhere")
    with pytest.raises(ex.ExportError, match=r"nothing\.npz: no such checkpoint file or export directory$"):
        ex.load_network(tmp_path / "nothing.npz")


def test_cycle_model_and_bounds():
    net = make_net(2)
    p = ex.engine_params(net)
    x = np.zeros((3, 784), dtype=np.int64)
    x[1, 10] = 5  # one nonzero pixel, last pixel zero
    x[2, :] = 1  # all pixels, last pixel nonzero
    c = rtlsim.cycle_model(p, x)
    # ternary, LANES 16 (default), P_LIF 1: 8 groups in 9 rounds; accumulation E + 5 cycles
    # (E = nonzero pixels + a zero last pixel's entry), LIF 16 * 16 + 1; then TAIL 3, ARG 21, OUT 1
    tail = 3 + 21 + 1
    assert c.tolist() == [6 + 7 * 257 + 257 + tail, 7 + 7 * 257 + 257 + tail, 789 * 8 + 257 + tail]
    assert rtlsim.bound_cycles(p, x).tolist() == [0, 4, 3136]
    q8 = ex.engine_params(make_net(8))
    # q8: LANES 8, 16 groups, accumulation E + 6 (the multiplier stage), LIF 16 * 8 + 1
    assert rtlsim.cycle_model(q8, x[:1]).tolist() == [7 + 15 * 129 + 129 + tail]
    # LANES 32, P_LIF 2: 4 groups, LIF 16 * 16 + 1
    assert rtlsim.cycle_model(p, x[:1], 2, 32).tolist() == [6 + 3 * 257 + 257 + tail]
    with pytest.raises(ValueError, match="pixels"):
        rtlsim.cycle_model(p, np.zeros((1, 10)))


def test_cli_export_from_an_export_dir(exported, tmp_path, capsys):
    net, d = exported
    out = tmp_path / "again"
    assert main(["export", str(d), "--out", str(out), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["engine"]["N_HID"] == 40 and r["files"]["w0.hex"]["words"] == 50 * 2
    back = ex.load_export(out)
    assert np.array_equal(back.layers[0].codes, net.layers[0].codes)
    # a bad input gives a one-line error and exit code 2
    shutil.rmtree(out)
    assert main(["export", str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert "no such checkpoint" in capsys.readouterr().err


def test_cli_sim_rejects_bad_options(exported, capsys):
    _, d = exported
    assert main(["sim", str(d), "--images", "0"]) == 2
    assert "--images must be >= 1" in capsys.readouterr().err
    assert main(["sim", str(d), "--images", "5", "--offset", "9999"]) == 2
    assert "exceeds the 10000 test images" in capsys.readouterr().err
    assert main(["sim", str(d), "--images", "1", "--gap", "100"]) == 2
    assert "--gap must be 0..99" in capsys.readouterr().err
    # 50 inputs: the export does not fit the 784-pixel MNIST images
    assert main(["sim", str(d), "--images", "1"]) == 2
    assert "images must have shape (N, 50)" in capsys.readouterr().err


def test_lif_lanes_must_divide_the_hidden_layer():
    p = ex.engine_params(make_net(2))
    x = np.zeros((1, 784), dtype=np.int64)
    for bad in (0, 3, 16, 64, 128):  # LANES 16: at most 8 LIF lanes
        with pytest.raises(ValueError, match="LIF lanes"):
            rtlsim.cycle_model(p, x, bad)
    assert rtlsim.cycle_model(p, x, 4)[0] == 6 + 7 * 65 + 65 + 3 + 21 + 1


def test_accumulation_lanes_must_divide_the_word():
    p = ex.engine_params(make_net(2))  # ternary: 32 codes per weight word
    x = np.zeros((1, 784), dtype=np.int64)
    for bad in (0, 1, 3, 12, 64):
        with pytest.raises(ValueError, match="accumulation lanes"):
            rtlsim.cycle_model(p, x, 1, bad)
    assert rtlsim.default_lanes(p) == 16
    assert rtlsim.default_lanes(ex.engine_params(make_net(8))) == 8
    assert rtlsim.default_lanes(ex.engine_params(make_net(16))) == 4
    assert rtlsim.default_lanes(ex.engine_params(make_net(1, (784, 6, 10)))) == 8  # 2^clog2(6)


@pytest.mark.parametrize("name", ["ternary", "q8"])
def test_export_of_a_trained_checkpoint(name, tmp_path, capsys):
    """`icespike export` of a committed checkpoint gives back the very network it holds."""
    from pathlib import Path

    from icespike import golden
    from icespike.checkpoint import load_checkpoint
    from icespike.data import load_mnist

    ck = Path(__file__).resolve().parents[1] / "models" / f"mnist-784-128-10-{name}.npz"
    if not ck.is_file():
        pytest.skip(f"{ck} not committed")
    out = tmp_path / name
    assert main(["export", str(ck), "--out", str(out), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["source"] == str(ck)
    net = load_checkpoint(ck).to_int_network()
    back = ex.load_network(out)
    for a, b in zip(net.layers, back.layers):
        assert np.array_equal(a.codes, b.codes) and a.bits == b.bits and a.threshold == b.threshold
    x = load_mnist().test_images[:200]
    assert np.array_equal(golden.run(net, x).scores, golden.run(back, x).scores)


@pytest.mark.parametrize("bits", [8, 2])
def test_biases_round_trip_through_the_export(bits, tmp_path):
    net = make_net(bits, (784, 40, 10), timesteps=5)
    rng = np.random.default_rng(bits)
    h, o = net.layers
    lo0, hi0 = -(1 << (net.bias_width(0) - 1)), (1 << (net.bias_width(0) - 1)) - 1
    b0 = rng.integers(-5000, 5000, 40)
    b0[:2] = [lo0, hi0]  # both ends of the bias range
    b1 = rng.integers(-(1 << (net.bias_width(1) - 1)), 1 << (net.bias_width(1) - 1), 10)
    biased = IntNetwork(
        [
            IntLayer(h.codes, bits, threshold=h.threshold, leak_shift=h.leak_shift, bias=b0),
            IntLayer(o.codes, bits, bias=b1),
        ],
        5,
    )
    assert biased.acc_width(0) == net.acc_width(0) + 1  # the bias widens the current by one bit
    man = ex.export_network(biased, tmp_path / "e")
    assert man["engine"]["HAS_BIAS"] == 1 and set(man["files"]) >= {ex.B0_HEX, ex.B1_HEX}
    back = ex.load_export(tmp_path / "e")
    assert np.array_equal(back.layers[0].bias, b0) and np.array_equal(back.layers[1].bias, b1)
    assert "`define SNN_HAS_BIAS 1" in (tmp_path / "e" / ex.PARAMS_VH).read_text()
    # bias-free: HAS_BIAS 0, no bias files, the same widths as before biases existed
    man0 = ex.export_network(net, tmp_path / "n")
    assert man0["engine"]["HAS_BIAS"] == 0 and ex.B0_HEX not in man0["files"]
    # a bias out of its range is refused
    with pytest.raises(ValueError, match="bias outside"):
        IntNetwork(
            [IntLayer(h.codes, bits, threshold=5, bias=np.full(40, hi0 + 1)), IntLayer(o.codes, bits)], 5
        )


def test_loader_rejects_a_wrong_listed_width(exported):
    _, d = exported
    rewrite_manifest(d, lambda m: m["files"]["w1.hex"].update(width=21))
    with pytest.raises(
        ex.ExportError,
        match=r"manifest\.json: w1\.hex listed as 40 x 21 bits, the engine parameters need 40 x 20$",
    ):
        ex.load_export(d)
    rewrite_manifest(d, lambda m: m["files"]["w1.hex"].update(width=20, words=41))
    with pytest.raises(
        ex.ExportError, match=r"w1\.hex listed as 41 x 20 bits, the engine parameters need 40 x 20$"
    ):
        ex.load_export(d)


@pytest.mark.parametrize("macro", ["W0_AW", "HID_AW", "W1_FILE"])
def test_loader_rejects_a_missing_params_macro(exported, macro):
    _, d = exported
    f = d / "net_params.vh"
    f.write_text("".join(ln for ln in f.read_text().splitlines(True) if f"SNN_{macro} " not in ln))
    refresh_checksum(d, "net_params.vh")
    with pytest.raises(ex.ExportError, match=rf"net_params\.vh: SNN_{macro} = None, manifest says "):
        ex.load_export(d)


@pytest.mark.parametrize("field", ["W0_AW", "HID_AW", "CLS_W", "LANES", "WPR", "W0_DEPTH", "W1_DATA_W"])
def test_loader_rejects_derived_params_that_do_not_follow(exported, field):
    """A derived parameter changed consistently in the manifest and the header is still refused."""
    _, d = exported
    old = json.loads((d / ex.MANIFEST).read_text())["engine"][field]
    f = d / "net_params.vh"
    f.write_text(f.read_text().replace(f"`define SNN_{field} {old}\n", f"`define SNN_{field} {old + 1}\n"))
    refresh_checksum(d, "net_params.vh")
    rewrite_manifest(d, lambda m: m["engine"].update({field: old + 1}))
    with pytest.raises(ex.ExportError) as e:
        ex.load_export(d)
    msg = f"manifest.json: derived engine parameters do not follow from the sizes and code widths: {field} {old + 1} (follows: {old})"
    assert str(e.value).endswith(msg)


def test_derived_widths_are_verilog_clog2():
    """W0_AW, HID_AW, CLS_W: snn_engine's ``(X > 2) ? $clog2(X) : 1``, computed here with math.log2."""
    import math

    def vlog(x):
        return math.ceil(math.log2(x)) if x > 2 else 1

    for n_in, n_hid, n_out in [(4, 2, 1), (5, 3, 2), (9, 64, 3), (10, 65, 4), (33, 128, 5), (784, 129, 10)]:
        rng = np.random.default_rng(n_in)
        net = IntNetwork(
            [
                IntLayer(rng.integers(-1, 2, (n_hid, n_in)), 2, threshold=7),
                IntLayer(rng.integers(-1, 2, (n_out, n_hid)), 2),
            ],
            4,
        )
        p = ex.engine_params(net)
        wpr = math.ceil(n_hid / 32)
        assert (p.LANES, p.WPR, p.W0_DEPTH) == (32, wpr, n_in * wpr)
        assert (p.W0_AW, p.HID_AW, p.CLS_W) == (vlog(n_in * wpr), vlog(n_hid), vlog(n_out))


def test_loader_rejects_nonzero_padding_lanes(exported):
    _, d = exported  # 40 ternary neurons: word 1 of each row uses lanes 0..7 of 32
    lines = (d / "w0.hex").read_text().splitlines()
    lines[1] = "4" + lines[1][1:]  # lane 31 of row 0, word 1: pattern 01
    (d / "w0.hex").write_text("\n".join(lines) + "\n")
    refresh_checksum(d, "w0.hex")
    with pytest.raises(
        ex.ExportError, match=r"w0\.hex: row 0: the unused lanes after code 39 hold nonzero bits"
    ):
        ex.load_export(d)


def test_export_files_of_a_tiny_network_by_hand(tmp_path):
    """Every byte of a 4-2-3 export, worked out by hand from docs/engine.md section 2."""
    net = IntNetwork(
        [
            IntLayer(np.array([[1, -1, 0, 1], [0, 1, 1, -1]]), 2, threshold=300, leak_shift=2, reset="zero"),
            IntLayer(np.array([[1, -1], [-1, 1], [0, 1]]), 8),
        ],
        3,
        meta={"k": (1, 2), "obj": object},
    )
    m = ex.export_network(net, tmp_path, source="unit")
    # w0: pixel i's word holds neuron j's 2-bit pattern at bits 2j (01 = +1, 11 = -1)
    assert (
        tmp_path / "w0.hex"
    ).read_text() == "0000000000000001\n0000000000000007\n0000000000000004\n000000000000000d\n"
    # w1: hidden j's word holds output o's 8-bit code at bits 8o
    assert (tmp_path / "w1.hex").read_text() == "00ff01\n0101ff\n"
    engine = dict(N_IN=4, N_HID=2, N_OUT=3, T=3, CODE_W0=2, CODE_W1=8, ACC_W=11, MEM_W=13, SCORE_W=11)
    engine.update(THRESHOLD=300, LEAK_SHIFT=2, RESET_SUBTRACT=0, HAS_BIAS=0, LANES=32, WPR=1, W0_DEPTH=4)
    engine.update(W0_AW=2)
    engine.update(W1_DEPTH=2, W1_DATA_W=24, CLS_W=2, HID_AW=1)
    vh = [
        "// Generated by `icespike export`: parameters of snn_engine for this network.",
        "// Do not edit; re-export instead. File names are relative to the export directory.",
        *[f"`define SNN_{k} {v}" for k, v in engine.items()],
        '`define SNN_W0_FILE "w0.hex"',
        '`define SNN_W1_FILE "w1.hex"',
        '`define SNN_B0_FILE ""',  # no biases: no bias files
        '`define SNN_B1_FILE ""',
    ]
    assert (tmp_path / "net_params.vh").read_text() == "\n".join(vh) + "\n"
    assert json.loads(json.dumps(m)) == json.loads((tmp_path / "manifest.json").read_text())
    m = json.loads((tmp_path / "manifest.json").read_text())
    files = {k: {kk: vv for kk, vv in v.items() if kk != "sha256"} for k, v in m.pop("files").items()}
    assert files == {
        "w0.hex": {"role": "layer-0 weights", "words": 4, "width": 64, "bytes": 68},
        "w1.hex": {"role": "output-layer weights", "words": 2, "width": 24, "bytes": 14},
        "net_params.vh": {"role": "Verilog parameters", "bytes": len("\n".join(vh)) + 1},
    }
    layer0 = {
        "bits": 2,
        "threshold": 300,
        "leak_shift": 2,
        "reset": "zero",
        "mem_width": 13,
        "mem_width_given": False,
    }
    assert m == {
        "format": "icespike-export",
        "version": 1,
        "source": "unit",
        "network": {"sizes": [4, 2, 3], "timesteps": 3, "layers": [layer0, {"bits": 8}], "biases": False},
        "engine": engine,
        "meta": {"k": [1, 2], "obj": "<class 'object'>"},
    }
    assert ex.engine_params(net).verilog() == {k: engine[k] for k in list(engine)[:13]}
    back = ex.load_export(tmp_path)
    assert back.meta == {"k": [1, 2], "obj": "<class 'object'>"} and back.layers[0].reset == "zero"


def test_loader_manifest_structure_messages(exported, tmp_path):
    net, d = exported
    given = make_net(2, sizes=(50, 40, 10), seed=5, mem_width=20)
    ex.export_network(given, tmp_path / "given")
    assert ex.load_export(tmp_path / "given").layers[0].mem_width == 20  # the override comes back
    assert ex.load_export(d).layers[0].mem_width is None
    man = json.loads((d / ex.MANIFEST).read_text())
    cases = [
        (lambda m: m.update(format="other"), r"manifest\.json: not an icespike-export manifest$"),
        (lambda m: m.update(engine=[1]), r"manifest\.json: field engine must be an object, got list$"),
        (
            lambda m: m["network"]["layers"].__setitem__(1, 8),
            r"field network\.layers\[1\] must be an object, got int$",
        ),
        (lambda m: m["files"].__setitem__("w1.hex", "x"), r"manifest\.json: does not list w1\.hex$"),
        (
            lambda m: m["network"]["layers"][0].update(threshold=5.0),
            r"manifest\.json: network section malformed or illegal \(threshold must be an integer, got 5\.0\)$",
        ),
        (
            lambda m: m["network"]["layers"][0].update(mem_width_given=1),
            r"malformed or illegal \(mem_width_given must be true or false, got 1\)$",
        ),
        (lambda m: m.update(meta=[1]), r"malformed or illegal \(meta must be an object, got list\)$"),
        (
            lambda m: m["network"].update(sizes=[50, 40, 11]),
            r"network section \(sizes \[50, 40, 11\], mem_width 17\) does not describe the weight files \(\[50, 40, 10\], 17\)$",
        ),
        (
            lambda m: m["network"]["layers"][0].update(mem_width=18),
            r"network section \(sizes \[50, 40, 10\], mem_width 18\) does not describe the weight files \(\[50, 40, 10\], 17\)$",
        ),
        (
            lambda m: m["engine"].update(T=True),
            r"engine parameters incomplete or malformed \(engine\.T must be an integer, got True\)$",
        ),
        (lambda m: m.update(version=2), r"manifest\.json: format version 2, this loader reads 1$"),
        (lambda m: m.pop("files"), r"manifest\.json: missing or malformed field 'files'$"),
        (lambda m: m.update(files=[1]), r"manifest\.json: field files must be an object, got list$"),
        (
            lambda m: m["network"]["layers"].__setitem__(0, "x"),
            r"manifest\.json: field network\.layers\[0\] must be an object, got str$",
        ),
        (
            lambda m: m["files"]["w1.hex"].update(bytes=5),
            r"exp/w1\.hex: size \d+ bytes, manifest says 5$",
        ),
        (
            lambda m: m["network"]["layers"][0].update(bits="2"),
            r"manifest\.json: layer bit widths missing or unsupported \(bits must be an integer, got '2'\)$",
        ),
        (
            lambda m: m["network"]["layers"][1].update(bits=2.0),
            r"manifest\.json: layer bit widths missing or unsupported \(bits must be an integer, got 2\.0\)$",
        ),
        (
            lambda m: m["network"]["layers"][0].update(leak_shift="4"),
            r"network section malformed or illegal \(leak_shift must be an integer, got '4'\)$",
        ),
        (
            lambda m: m["network"].update(timesteps=16.0),
            r"network section malformed or illegal \(timesteps must be an integer, got 16\.0\)$",
        ),
        (
            lambda m: m["network"]["layers"][0].update(mem_width_given=True, mem_width="17"),
            r"network section malformed or illegal \(mem_width must be an integer, got '17'\)$",
        ),
        (
            lambda m: m["engine"].update(CODE_W0=3),
            r"manifest\.json: CODE_W0 3 is not a code width \(1, 2, 4, 8, 16\)$",
        ),
        (
            lambda m: m["engine"].update(WPR=3, HID_AW=9),
            r"do not follow from the sizes and code widths: WPR 3 \(follows: 2\), HID_AW 9 \(follows: 6\)$",
        ),
    ]
    for edit, match in cases:
        m = json.loads(json.dumps(man))
        edit(m)
        (d / ex.MANIFEST).write_text(json.dumps(m))
        with pytest.raises(ex.ExportError, match=match):
            ex.load_export(d)
    (d / ex.MANIFEST).write_text("[1, 2]")
    with pytest.raises(ex.ExportError, match=r"manifest\.json: not an icespike-export manifest$"):
        ex.load_export(d)


def test_engine_params_from_manifest_and_is_export_dir(exported, tmp_path):
    net, d = exported
    eng = json.loads((d / ex.MANIFEST).read_text())["engine"]
    p = ex.engine_params(net)
    assert ex.EngineParams.from_manifest(eng) == p
    old = {k: v for k, v in eng.items() if k != "HAS_BIAS"}  # an export written before biases
    assert ex.EngineParams.from_manifest(old) == p and p.HAS_BIAS == 0
    with pytest.raises(TypeError, match=r"^engine\.T must be an integer, got '7'$"):
        ex.EngineParams.from_manifest({**eng, "T": "7"})
    with pytest.raises(TypeError, match=r"^engine\.HAS_BIAS must be an integer, got True$"):
        ex.EngineParams.from_manifest({**eng, "HAS_BIAS": True})
    with pytest.raises(KeyError, match=r"^'WPR'$"):
        ex.EngineParams.from_manifest({k: v for k, v in eng.items() if k != "WPR"})
    assert ex.is_export_dir(d) and not ex.is_export_dir(tmp_path / "nowhere")
    assert not ex.is_export_dir(d / ex.MANIFEST)  # a file, not a directory
    (tmp_path / "empty").mkdir()
    assert not ex.is_export_dir(tmp_path / "empty")
    (tmp_path / "odd" / ex.MANIFEST).mkdir(parents=True)  # manifest.json that is a directory
    assert not ex.is_export_dir(tmp_path / "odd")


# ------------------------------------------------------------------------------------ every check, every message
@pytest.fixture
def biased(tmp_path):
    """A 50-40-10 ternary export with biases (HAS_BIAS = 1), positive ones near the top of their range."""
    net = make_net(2, sizes=(50, 40, 10), seed=6)
    h, o = net.layers
    b0 = np.arange(40, dtype=np.int64) - 20
    b0[0] = (1 << (net.bias_width(0) - 1)) - 1  # the largest: its top bit below the sign is 1
    b1 = np.arange(10, dtype=np.int64) - 5
    b1[-1] = (1 << (net.bias_width(1) - 1)) - 1
    net = IntNetwork(
        [IntLayer(h.codes, 2, threshold=h.threshold, leak_shift=4, bias=b0), IntLayer(o.codes, 2, bias=b1)],
        16,
    )
    d = tmp_path / "bexp"
    ex.export_network(net, d)
    return net, d


def test_biased_export_manifest_and_round_trip(biased):
    net, d = biased
    man = json.loads((d / ex.MANIFEST).read_text())
    p = ex.engine_params(net)
    assert man["network"]["biases"] is True and p.HAS_BIAS == 1 and p.RESET_SUBTRACT == 1
    files = {
        k: {kk: vv for kk, vv in v.items() if kk not in ("sha256", "bytes")} for k, v in man["files"].items()
    }
    assert files["b0.hex"] == {"role": "hidden-layer biases", "words": 40, "width": p.ACC_W}
    assert files["b1.hex"] == {"role": "output-layer biases", "words": 10, "width": p.SCORE_W}
    back = ex.load_export(d)
    assert np.array_equal(back.layers[0].bias, net.layers[0].bias)
    assert np.array_equal(back.layers[1].bias, net.layers[1].bias)
    assert back.layers[0].bias[0] > 0 and back.layers[1].bias[-1] > 0  # the largest stay positive
    b0, b1 = ex.unpack_biases([], [], p)
    assert b0.dtype == np.int64 and b1.dtype == np.int64 and b0.size == b1.size == 0
    # two's complement words: only the top bit makes a word negative
    w, v = p.ACC_W, p.SCORE_W
    b0, b1 = ex.unpack_biases(
        [1 << (w - 2), 1 << (w - 1), (1 << w) - 1], [(1 << (v - 1)) - 1, 1 << (v - 1)], p
    )
    assert b0.tolist() == [1 << (w - 2), -(1 << (w - 1)), -1] and b1.tolist() == [
        (1 << (v - 1)) - 1,
        -(1 << (v - 1)),
    ]


def test_biased_export_checks_the_bias_files(biased):
    _, d = biased
    text = (d / "b0.hex").read_text()
    lines = text.splitlines()
    lines[5] = "0" * len(lines[5]) if set(lines[5]) != {"0"} else "0" * (len(lines[5]) - 1) + "1"
    (d / "b0.hex").write_text("\n".join(lines) + "\n")  # same size, other content
    with pytest.raises(
        ex.ExportError, match=r"bexp/b0\.hex: SHA-256 [0-9a-f]{16}\.\.\. does not match the manifest"
    ):
        ex.load_export(d)
    (d / "b0.hex").write_text(text)
    (d / "b1.hex").unlink()
    with pytest.raises(ex.ExportError, match=r"bexp: missing b1\.hex$"):
        ex.load_export(d)


def test_biased_export_checks_the_listed_shapes_and_header(biased, tmp_path):
    _, d = biased
    keep = tmp_path / "keep"
    shutil.copytree(d, keep)
    rewrite_manifest(d, lambda m: m["files"]["w1.hex"].update(width=21))
    with pytest.raises(
        ex.ExportError, match=r"w1\.hex listed as 40 x 21 bits, the engine parameters need 40 x 20$"
    ):
        ex.load_export(d)
    for macro in ("B0_FILE", "B1_FILE"):
        shutil.rmtree(d)
        shutil.copytree(keep, d)
        name = "b0.hex" if macro == "B0_FILE" else "b1.hex"
        edit_file(
            d,
            "net_params.vh",
            lambda t, old=f'`define SNN_{macro} "{name}"', new=f'`define SNN_{macro} ""': t.replace(old, new),
        )
        with pytest.raises(
            ex.ExportError, match=rf"net_params\.vh: SNN_{macro} = '', manifest says '{name}'$"
        ):
            ex.load_export(d)


def test_export_without_has_bias_loads_as_before_biases(exported):
    net, d = exported
    rewrite_manifest(d, lambda m: m["engine"].pop("HAS_BIAS"))
    back = ex.load_export(d)
    assert not back.has_bias and np.array_equal(back.layers[0].codes, net.layers[0].codes)
    rewrite_manifest(d, lambda m: m["engine"].pop("WPR"))
    with pytest.raises(
        ex.ExportError, match=r"manifest\.json: engine parameters incomplete or malformed \('WPR'\)$"
    ):
        ex.load_export(d)


def test_loader_rtl_mismatches_listed_whole(exported):
    net, d = exported
    p = ex.engine_params(net)
    with pytest.raises(
        ex.ExportError,
        match=r"exp: export does not match the RTL parameters \(T: RTL 8, files 16, MEM_W: RTL 30, files 17\)$",
    ):
        ex.load_export(d, expect={"T": 8, "MEM_W": 30, "N_IN": p.N_IN})


def test_loader_names_the_output_weight_file(exported):
    _, d = exported
    edit_file(
        d, "w1.hex", lambda t: t[: t.index("\n") - 1] + "2" + t[t.index("\n") :]
    )  # output 0: pattern 10
    with pytest.raises(ex.ExportError, match=r"^\S*exp/w1\.hex: .*illegal"):
        ex.load_export(d)


def test_hex_files_and_header_directly(tmp_path):
    f = tmp_path / "x.hex"
    ex.write_hex(f, [0, 15, 7], 4)
    assert f.read_text() == "0\nf\n7\n"
    for bad, shown in ((16, "0x10"), (-1, "-0x1")):
        with pytest.raises(ex.ExportError, match=rf"^{re.escape(str(f))}: word {shown} does not fit 4 bits$"):
            ex.write_hex(f, [1, bad], 4)
    f.write_text("0A\nfF\n")  # $readmemh reads either case
    assert ex.read_hex(f, 8, 2) == [10, 255]
    f.write_text("3f\n40\n")
    with pytest.raises(ex.ExportError, match=rf"^{re.escape(str(f))}: line 2 value 40 exceeds 6 bits$"):
        ex.read_hex(f, 6, 2)
    f.write_text("z" * 50 + "\n")
    with pytest.raises(ex.ExportError, match=rf"line 1 is not a 8-bit word of 2 hex digits: '{'z' * 40}'$"):
        ex.read_hex(f, 8, 1)
    f.write_bytes(b"00\n\xff1\n")
    with pytest.raises(ex.ExportError, match=rf"^{re.escape(str(f))}: not an ASCII text file \(byte 3\)$"):
        ex.read_hex(f, 8, 2)
    assert ex.parse_params_vh('`define SNN_A "Xw.hexX"\n`define SNN_B 7\nother\n') == {"A": "Xw.hexX", "B": 7}
    with pytest.raises(ex.ExportError, match=r"^net_params\.vh: SNN_T is not an integer: 'abc'$"):
        ex.parse_params_vh("`define SNN_T abc\n")


def test_packing_helpers_directly(exported):
    net, _ = exported
    p = ex.engine_params(net)
    words = ex.pack_w0(net)
    (codes,) = ex.unpack_w0(words, p, 2)  # one array per hidden layer
    assert codes.dtype == np.int64 and np.array_equal(codes, net.layers[0].codes)
    with pytest.raises(ex.ExportError, match=r"^expected 100 words, got 99$"):
        ex.unpack_w0(words[:-1], p, 2)
    assert ex._clog2(0) == 0 and ex._clog2(1) == 0 and ex._clog2(2) == 1 and ex._clog2(3) == 2
    assert ex.derived_params(2, 2, 1, 2, 2)["W0_AW"] == 1 and ex.derived_params(1, 2, 1, 2, 2)["W0_AW"] == 1
    assert ex.derived_params(3, 2, 1, 2, 2)["W0_AW"] == 2


def test_check_engine_lists_every_problem():
    net = make_net(2, sizes=(50, 40, 10))
    p = dataclasses.replace(ex.engine_params(net), HAS_BIAS=2, T=0)
    with pytest.raises(
        ex.ExportError,
        match=r"^the RTL engine cannot run this network: T must be 1\.\.255, got 0; HAS_BIAS must be 0 or 1, got 2$",
    ):
        ex.check_engine(p)


def test_export_creates_parent_directories_and_an_indented_manifest(tmp_path):
    net = make_net(2, sizes=(50, 40, 10))
    m = ex.export_network(net, tmp_path / "a" / "b" / "c")
    text = (tmp_path / "a" / "b" / "c" / ex.MANIFEST).read_text()
    assert text == json.dumps(m, indent=2) + "\n"


def test_load_network_reads_a_checkpoint(tmp_path, monkeypatch):
    import sys

    from icespike.checkpoint import load_checkpoint, save_checkpoint
    from icespike.train import SNNModel

    p = save_checkpoint(tmp_path / "c.npz", SNNModel([6, 4, 3], 2, timesteps=3, rng=np.random.default_rng(0)))
    net = ex.load_network(p)
    ref = load_checkpoint(p).to_int_network()
    assert all(np.array_equal(a.codes, b.codes) for a, b in zip(net.layers, ref.layers))
    assert net.layers[0].threshold == ref.layers[0].threshold
    monkeypatch.setitem(sys.modules, "icespike.checkpoint", None)  # the import fails
    with pytest.raises(
        ex.ExportError,
        match=rf"^{re.escape(str(p))}: reading checkpoints needs icespike\.checkpoint, which is not available$",
    ):
        ex.load_network(p)
