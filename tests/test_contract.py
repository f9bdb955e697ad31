"""The contract's corners: what IntNetwork accepts, what export refuses (and why), the RTL's own checks.

Every refusal is one line naming the problem; the export refusals mirror the elaboration
checks of rtl/snn_engine.v, and an Icarus elaboration of the engine confirms each one.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from icespike import export as ex
from icespike import golden
from icespike.cli import main
from icespike.fixed import ArithmeticError_
from icespike.network import IntLayer, IntNetwork

RTL = Path(__file__).resolve().parents[1] / "rtl"


def net_of(sizes=(20, 4, 3), bits=2, *, timesteps=4, threshold=5, leak_shift=1, out=None, **hidden):
    """A network of ones (legal in every format) with the given sizes and hidden-layer fields."""
    layers = []
    for li in range(len(sizes) - 1):
        codes = np.ones((sizes[li + 1], sizes[li]), dtype=np.int64)
        if li == len(sizes) - 2:
            layers.append(IntLayer(codes, bits, **(out or {})))
        else:
            layers.append(IntLayer(codes, bits, threshold=threshold, leak_shift=leak_shift, **hidden))
    return IntNetwork(layers, timesteps)


# ------------------------------------------------------------------------------------ IntNetwork
@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(timesteps=True), ValueError, r"^timesteps must be an integer in 1\.\.255, got True$"),
        (dict(timesteps=4.0), ValueError, r"^timesteps must be an integer in 1\.\.255, got 4\.0$"),
        (dict(timesteps=0), ValueError, r"got 0$"),
        (dict(timesteps=256), ValueError, r"got 256$"),
        (dict(threshold=True), ArithmeticError_, r"^layer 0: threshold True must be an integer in \[1, "),
        (dict(threshold=5.0), ArithmeticError_, r"^layer 0: threshold 5\.0 must be an integer"),
        (dict(threshold="5"), ArithmeticError_, r"threshold '5' must be an integer"),
        (dict(threshold=0), ArithmeticError_, r"threshold 0 must be an integer in \[1, "),
        (
            dict(leak_shift=True),
            ValueError,
            r"^layer 0: leak_shift must be an integer in 0\.\.\d+, got True$",
        ),
        (dict(leak_shift=1.0), ValueError, r"leak_shift must be an integer in 0\.\.\d+, got 1\.0$"),
        (dict(leak_shift=-1), ValueError, r"got -1$"),
        (dict(mem_width=True), ValueError, r"^layer 0: mem_width must be an integer or None, got True$"),
        (dict(mem_width=8.0), ValueError, r"mem_width must be an integer or None, got 8\.0$"),
        (dict(mem_width=1), ValueError, r"^layer 0: membrane width 1 outside 2\.\.62$"),
        (dict(mem_width=63), ValueError, r"membrane width 63 outside 2\.\.62$"),
        (
            dict(reset="hold"),
            ValueError,
            r"^layer 0: reset must be one of \('subtract', 'zero'\), got 'hold'$",
        ),
        (
            dict(out=dict(leak_shift=4)),
            ValueError,
            r"^the output layer is an integrator without leak: its leak_shift must be 0, got 4$",
        ),
        (dict(out=dict(leak_shift=False)), ValueError, r"its leak_shift must be 0, got False$"),
        (
            dict(out=dict(mem_width=12)),
            ValueError,
            r"^the output layer has no membrane: its mem_width must be None, got 12$",
        ),
        (
            dict(out=dict(threshold=3)),
            ValueError,
            r"^the output layer is an integrator: its threshold must be None$",
        ),
        (
            dict(sizes=(20, 0, 3)),
            ValueError,
            r"^layer 0: codes of shape \(0, 20\): a layer needs at least one input and one output$",
        ),
        (dict(sizes=(20, 4, 0)), ValueError, r"^layer 1: codes of shape \(0, 4\)"),
        (dict(sizes=(0, 4, 3)), ValueError, r"^layer 0: codes of shape \(4, 0\)"),
    ],
)
def test_network_refuses_nonsense(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        net_of(**kwargs)


def test_network_refuses_non_layers_and_bool_codes():
    with pytest.raises(ValueError, match=r"^layers must be a list of IntLayer$"):
        IntNetwork([np.ones((2, 2)), np.ones((2, 2))], 4)
    with pytest.raises(ValueError, match=r"^layers must be a list of IntLayer$"):
        IntNetwork("ab", 4)
    with pytest.raises(ArithmeticError_, match=r"^layer 0: codes must be integers, got dtype bool$"):
        IntNetwork(
            [IntLayer(np.ones((2, 3), bool), 1, threshold=1), IntLayer(np.ones((2, 2), np.int64), 1)], 4
        )
    with pytest.raises(ValueError, match=r"unsupported weight_bits True"):
        IntNetwork(
            [IntLayer(np.ones((2, 3), np.int64), True, threshold=1), IntLayer(np.ones((2, 2), np.int64), 1)],
            4,
        )


def test_leak_shift_range_ends():
    """0..MEM_W-1 is the range: MEM_W - 1 is accepted, MEM_W refused (rtl/lif_neuron.v refuses it too)."""
    ok = net_of(mem_width=8, leak_shift=7)
    assert ok.layers[0].leak_shift == 7 and ok.mem_width(0) == 8
    with pytest.raises(ValueError, match=r"^layer 0: leak_shift must be an integer in 0\.\.7, got 8$"):
        net_of(mem_width=8, leak_shift=8)
    derived = net_of()  # 20 ternary inputs: acc width signed_width(255 * 1 * 20) = 14, membrane 16
    assert derived.mem_width(0) == 16
    net_of(leak_shift=15)
    with pytest.raises(ValueError, match=r"leak_shift must be an integer in 0\.\.15, got 16$"):
        net_of(leak_shift=16)


def test_threshold_range_ends():
    assert net_of(mem_width=8, threshold=127).layers[0].threshold == 127
    with pytest.raises(
        ArithmeticError_, match=r"threshold 128 must be an integer in \[1, 127\] \(membrane width 8\)"
    ):
        net_of(mem_width=8, threshold=128)
    assert net_of(threshold=np.int64(9)).layers[0].threshold == 9
    assert type(net_of(threshold=np.int64(9)).layers[0].threshold) is int


def test_score_width_limit():
    """T * maxcode * H: 255 steps of 4 outputs of -32768 need 1 + bit_length(255 * 32768 * 4) bits."""
    net = net_of(sizes=(20, 4, 3), bits=16, timesteps=255)
    assert net.score_width() == 1 + (255 * 32768 * 4).bit_length() == 26
    deep = net_of(sizes=(20, 4, 64, 3), bits=16, timesteps=255)  # the last layer's 64 inputs count
    assert deep.score_width() == 1 + (255 * 32768 * 64).bit_length() == 30


def test_zero_leak_means_no_leak():
    """k = 0 keeps the membrane (the literal v - (v >>> 0) would zero it): docs/arithmetic.md section 4."""
    net = IntNetwork(
        [
            IntLayer(np.ones((2, 1), np.int64), 8, threshold=100, leak_shift=0),
            IntLayer(np.ones((1, 2), np.int64), 8),
        ],
        timesteps=3,
    )
    r = golden.run(net, np.array([[40]]), trace=True)
    # 40, 80, 120 -> fires at step 3 and keeps 20: nothing leaked
    assert r.membranes[0][0, :, 0].tolist() == [40, 80, 20]
    assert r.spikes[0][0, :, 0].tolist() == [0, 0, 1]


# ------------------------------------------------------------------------------------ export refusals
def test_export_refuses_what_the_engine_refuses(tmp_path):
    # 2-2-2 ternary: ACC_W = signed_width(255 * 1 * 2) = 10 < 8 + 2 + 1
    small = net_of(sizes=(2, 2, 2), threshold=3)
    assert golden.run(small, np.array([[255, 255]])).scores.shape == (1, 2)  # the golden model runs it
    with pytest.raises(
        ex.ExportError, match=r"^the RTL engine cannot run this network: ACC_W 10 < 8 \+ CODE_W0 \+ 1 = 11"
    ):
        ex.export_network(small, tmp_path / "a")
    assert not (tmp_path / "a").exists()
    # the smallest ternary input count that fits: 255 * 4 = 1020 needs 11 bits
    assert ex.engine_params(net_of(sizes=(4, 2, 2), threshold=3)).ACC_W == 11
    with pytest.raises(
        ex.ExportError,
        match=r"^the RTL engine cannot run this network: the engine needs N_IN >= 1, N_HID >= 2 and N_OUT >= 1, got 20-1-3$",
    ):
        ex.export_network(net_of(sizes=(20, 1, 3)), tmp_path / "b")
    deep = net_of(sizes=(20, 4, 4, 4, 4, 4, 3))
    assert golden.run(deep, np.zeros((1, 20), np.int64)).scores.shape == (1, 3)
    with pytest.raises(
        ex.ExportError, match=r"^the RTL engine runs 1 to 4 hidden layers; this network has 5$"
    ):
        ex.export_network(deep, tmp_path / "c")
    assert not (tmp_path / "c").exists()
    ex.export_network(net_of(sizes=(20, 4, 4, 4, 4, 3)), tmp_path / "d")  # 4 hidden layers: written


def _params(**change) -> ex.EngineParams:
    return dataclasses.replace(ex.engine_params(net_of()), **change)


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(CODE_W0=3), r"code widths must be 1, 2, 4, 8 or 16, got CODE_W0=3 CODE_W1=2"),
        (dict(CODE_W1=3), r"code widths must be 1, 2, 4, 8 or 16, got CODE_W0=2 CODE_W1=3$"),
        (dict(N_HID=1), r"the engine needs N_IN >= 1, N_HID >= 2 and N_OUT >= 1, got 20-1-3"),
        (dict(N_OUT=0), r"the engine needs N_IN >= 1, N_HID >= 2 and N_OUT >= 1, got 20-4-0$"),
        (dict(N_IN=0, ACC_W=11), r"the engine needs N_IN >= 1, N_HID >= 2 and N_OUT >= 1, got 0-4-3$"),
        (dict(T=0), r"T must be 1\.\.255, got 0"),
        (dict(T=256), r"T must be 1\.\.255, got 256"),
        (dict(THRESHOLD=0), r"THRESHOLD 0 outside 1\.\.2\^\(MEM_W-1\)-1 \(MEM_W 16\)"),
        (dict(THRESHOLD=1 << 15), r"THRESHOLD 32768 outside"),
        (dict(MEM_W=1, THRESHOLD=1, LEAK_SHIFT=0), r"THRESHOLD 1 outside 1\.\.2\^\(MEM_W-1\)-1 \(MEM_W 1\)"),
        (dict(ACC_W=10), r"ACC_W 10 < 8 \+ CODE_W0 \+ 1 = 11: the layer-0 current"),
        (dict(SCORE_W=2), r"SCORE_W 2 < CODE_W1 \+ 1 = 3"),
        (dict(LEAK_SHIFT=16), r"LEAK_SHIFT 16 outside 0\.\.MEM_W-1 = 0\.\.15"),
        (dict(LEAK_SHIFT=-1), r"LEAK_SHIFT -1 outside"),
        (dict(RESET_SUBTRACT=2), r"RESET_SUBTRACT must be 0 or 1, got 2"),
    ],
)
def test_check_engine_each_rule(change, match):
    with pytest.raises(ex.ExportError, match="^the RTL engine cannot run this network: " + match):
        ex.check_engine(_params(**change))


def test_check_engine_boundaries_accepted():
    for change in (
        dict(T=1),
        dict(T=255),
        dict(N_HID=2, N_OUT=1, N_IN=1),
        dict(THRESHOLD=1),
        dict(THRESHOLD=(1 << 15) - 1),
        dict(ACC_W=11),
        dict(SCORE_W=3),
        dict(LEAK_SHIFT=0),
        dict(LEAK_SHIFT=15),
        dict(RESET_SUBTRACT=0),
        dict(MEM_W=2, THRESHOLD=1, LEAK_SHIFT=1),
    ):
        ex.check_engine(_params(**change))


@pytest.mark.icarus
def test_engine_elaboration_agrees_with_check_engine(tmp_path):
    """Icarus elaborates snn_engine with each parameter set: it stops exactly when check_engine refuses."""
    iverilog = shutil.which("iverilog")
    if iverilog is None:
        pytest.skip("iverilog not installed")
    cases = [
        dict(),
        dict(ACC_W=10),
        dict(ACC_W=11),
        dict(N_HID=1),
        dict(N_OUT=0),
        dict(T=0),
        dict(T=256),
        dict(THRESHOLD=0),
        dict(THRESHOLD=1 << 15),
        dict(THRESHOLD=(1 << 15) - 1),
        dict(SCORE_W=2),
        dict(SCORE_W=3),
        dict(CODE_W0=3),
    ]
    srcs = sorted(str(p) for p in RTL.glob("*.v"))
    for n, change in enumerate(cases):
        p = _params(**change)
        try:
            ex.check_engine(p)
            refused = False
        except ex.ExportError:
            refused = True
        args = [f"-Psnn_engine.{k}={v}" for k, v in p.verilog().items()]
        args += ["-Psnn_engine.W0_SPRAM=0", "-Psnn_engine.FIFO_DEPTH=32"]
        out = tmp_path / f"e{n}.vvp"
        b = subprocess.run(
            [iverilog, "-g2005", "-s", "snn_engine", "-o", str(out), *args, *srcs],
            capture_output=True,
            text=True,
        )
        if b.returncode != 0:  # a width of 0 or less is an elaboration error: the RTL refuses too
            assert refused, (change, b.stderr)
            continue
        r = subprocess.run(["vvp", "-n", str(out)], capture_output=True, text=True, timeout=60)
        stopped = "snn_engine:" in r.stdout
        assert stopped == refused, (change, r.stdout)


# ------------------------------------------------------------------------------------ training
def test_train_zero_epochs_refused(tmp_path, capsys):
    out = tmp_path / "z.npz"
    assert main(["train", "--bits", "2", "--epochs", "0", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == "icespike: error: epochs must be a positive integer, got 0\n"
    assert not out.exists() and not out.with_suffix(".json").exists()


# ------------------------------------------------------------------------------------ exact messages and range ends
def test_network_messages_and_range_ends(monkeypatch):
    assert net_of(timesteps=1).timesteps == 1 and net_of(timesteps=255).timesteps == 255
    assert net_of(mem_width=2, threshold=1, leak_shift=1).mem_width(0) == 2
    assert net_of(mem_width=62, threshold=(1 << 61) - 1).layers[0].threshold == (1 << 61) - 1
    one = np.ones((4, 20), np.int64)
    with pytest.raises(ValueError, match=r"^a network needs at least one hidden layer and an output layer$"):
        IntNetwork([IntLayer(one, 2)], 4)
    with pytest.raises(ValueError, match=r"^layer 0: codes must be 2-D \(n_out, n_in\), got shape \(3,\)$"):
        IntNetwork([IntLayer(np.ones(3, np.int64), 2, threshold=1), IntLayer(one, 2)], 4)
    with pytest.raises(ArithmeticError_, match=r"^layer 1 weight codes: value 2 is not a legal ternary code"):
        IntNetwork([IntLayer(one, 2, threshold=1), IntLayer(np.full((3, 4), 2, np.int64), 2)], 4)
    with pytest.raises(ValueError, match=r"^layer 2: 5 inputs but layer 1 has 4 outputs$"):
        IntNetwork(
            [
                IntLayer(np.ones((6, 20), np.int64), 2, threshold=1),
                IntLayer(np.ones((4, 6), np.int64), 2, threshold=1),
                IntLayer(np.ones((3, 5), np.int64), 2),
            ],
            4,
        )
    with pytest.raises(ValueError, match=r"^layer 1: 5 inputs but layer 0 has 4 outputs$"):
        IntNetwork([IntLayer(one, 2, threshold=1), IntLayer(np.ones((3, 5), np.int64), 2)], 4)
    with pytest.raises(ValueError, match=r"^layer 0: a hidden layer needs an integer threshold$"):
        IntNetwork([IntLayer(one, 2), IntLayer(np.ones((3, 4), np.int64), 2)], 4)
    # the score limit cannot be reached with T <= 255 and real sizes: check it on the width itself
    monkeypatch.setattr(IntNetwork, "score_width", lambda self: 62)
    net_of()
    monkeypatch.setattr(IntNetwork, "score_width", lambda self: 63)
    with pytest.raises(ArithmeticError_, match=r"^output score width exceeds 62 bits$"):
        net_of()


def test_biases_fill_in_range_ends_and_messages():
    """Biases in one layer give every other layer int64 zeros; each bias range end is legal,
    one past it is refused; bad shapes and dtypes are named."""
    plain = net_of((20, 4, 3))
    assert not plain.has_bias and plain.bias_max(0) == 0 and plain.bias_max(1) == 0
    net = net_of((20, 4, 3), bias=np.array([1, -2, 3, 0]))
    out = net.layers[1]
    assert net.has_bias and out.bias.dtype == np.int64 and out.bias.tolist() == [0, 0, 0]
    lo, hi = -(1 << (net.bias_width(0) - 1)), (1 << (net.bias_width(0) - 1)) - 1
    assert net.bias_max(0) == -lo and net.bias_max(1) == 1 << (net.bias_width(1) - 1)
    assert net_of((20, 4, 3), bias=np.array([lo, hi, 0, 0])).layers[0].bias.tolist() == [lo, hi, 0, 0]
    w = net.bias_width(0)
    for bad, mn, mx in (([lo - 1, 0, 0, 0], lo - 1, 0), ([0, hi + 1, 0, 0], 0, hi + 1)):
        with pytest.raises(
            ArithmeticError_,
            match=rf"^layer 0: bias outside \[{lo}, {hi}\] \(width {w}\): min {mn}, max {mx}$",
        ):
            net_of((20, 4, 3), bias=np.array(bad))
    with pytest.raises(
        ArithmeticError_, match=r"^layer 0: bias must be 4 integers, got shape \(3,\) dtype int64$"
    ):
        net_of((20, 4, 3), bias=np.array([1, 2, 3]))
    with pytest.raises(
        ArithmeticError_, match=r"^layer 0: bias must be 4 integers, got shape \(4,\) dtype float64$"
    ):
        net_of((20, 4, 3), bias=np.zeros(4))
