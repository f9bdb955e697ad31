"""icespike.nir and ``icespike nir``: graphs built with the nir API the way the exporters write
them, round trips, refusals, and the committed snnTorch fixture (no torch needed)."""

from __future__ import annotations

import json
from pathlib import Path

import nir
import numpy as np
import pytest

from icespike import golden
from icespike import nir as inir
from icespike.checkpoint import load_checkpoint
from icespike.cli import main
from icespike.data import load_mnist
from icespike.export import engine_params
from icespike.formats import weight_format
from icespike.network import IntLayer, IntNetwork

FIXTURE = Path(__file__).parent / "data" / "snntorch_784_128_10.nir"
FIXTURE_INFO = json.loads(FIXTURE.with_suffix(".json").read_text())
DT = 1e-4  # snnTorch's export uses dt = 1e-4


def snntorch_graph(h=16, o=10, *, beta=0.9, thr=1.0, bias=True, seed=0, neuron="LIF", n_in=784, extra=None):
    """A graph as snnTorch 1.0's export_to_nir writes a Linear -> Leaky -> Linear network:
    Affine (Linear without bias), LIF with tau = dt/(1-beta), r = tau/dt, per-neuron arrays."""
    rng = np.random.default_rng(seed)
    w0 = rng.normal(0, 0.05, (h, n_in))
    w1 = rng.normal(0, 0.3, (o, h))
    beta_a = np.broadcast_to(np.asarray(beta, float), (h,)).copy()
    thr_a = np.broadcast_to(np.asarray(thr, float), (h,)).copy()
    tau = DT / (1 - beta_a)
    if neuron == "LIF":
        lif = nir.LIF(tau=tau, r=tau / DT, v_leak=np.zeros(h), v_threshold=thr_a, v_reset=np.zeros(h))
    elif neuron == "CubaLIF":  # snnTorch's Synaptic with alpha = 0: tau_syn = dt, w_in = tau_syn/dt
        lif = nir.CubaLIF(
            tau_syn=np.full(h, DT),
            tau_mem=tau,
            r=tau / DT,
            v_leak=np.zeros(h),
            v_threshold=thr_a,
            v_reset=np.zeros(h),
            w_in=np.ones(h),
        )
    else:
        lif = neuron
    fc1 = nir.Affine(weight=w0, bias=rng.normal(0, 0.1, h)) if bias else nir.Linear(weight=w0)
    fc2 = nir.Affine(weight=w1, bias=rng.normal(0, 0.1, o)) if bias else nir.Linear(weight=w1)
    nodes = {
        "input": nir.Input(input_type={"input": np.array([n_in])}),
        "0": fc1,
        "1": lif,
        "2": fc2,
        "output": nir.Output(output_type={"output": np.array([o])}),
    }
    edges = [("input", "0"), ("0", "1"), ("1", "2"), ("2", "output")]
    if extra:
        extra(nodes, edges)
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=extra is None)


def test_leak_shift_nearest_beta():
    assert inir.leak_shift_for(0.9375) == (4, 0.0)
    k, err = inir.leak_shift_for(0.9)
    assert k == 3 and err == pytest.approx(0.025)
    assert inir.leak_shift_for(1.0) == (0, 0.0)
    assert inir.leak_shift_for(0.5)[0] == 1


def test_snntorch_style_graph_maps_onto_the_contract():
    g = snntorch_graph(beta=0.9375, thr=0.8)
    imp = inir.map_graph(g)
    assert imp.sizes == [784, 16, 10]
    assert imp.leak_shift == 4 and imp.report["beta_error_max"] == pytest.approx(0, abs=1e-9)
    assert imp.threshold == pytest.approx(0.8)
    assert imp.reset == "subtract" and imp.timesteps == 16
    assert imp.biases is not None
    net = inir.to_model(imp, 8).to_int_network()
    assert net.has_bias and net.layers[0].leak_shift == 4


def test_per_neuron_thresholds_fold_into_the_rows():
    thr = np.linspace(0.5, 2.0, 16)
    imp = inir.map_graph(snntorch_graph(thr=thr))
    assert imp.report["threshold_per_neuron_folded"]
    scale = imp.threshold / thr
    g = snntorch_graph(thr=thr)
    np.testing.assert_allclose(imp.weights[0], g.nodes["0"].weight * scale[:, None])
    np.testing.assert_allclose(imp.biases[0], g.nodes["0"].bias * scale)


def test_cubalif_without_synaptic_filter_maps():
    imp = inir.map_graph(snntorch_graph(neuron="CubaLIF", beta=0.875))
    assert imp.leak_shift == 3 and imp.report["neuron"] == "CubaLIF"


def test_if_maps_to_no_leak():
    g = snntorch_graph(neuron=nir.IF(r=np.ones(16), v_threshold=np.ones(16), v_reset=np.zeros(16)))
    assert inir.map_graph(g).leak_shift == 0


@pytest.mark.parametrize("bits", [16, 8, 4, 2, 1])
@pytest.mark.parametrize("bias", [True, False])
def test_round_trip_reproduces_the_integer_network(bits, bias, tmp_path):
    rng = np.random.default_rng(bits)
    fmt = weight_format(bits)
    codes = [rng.integers(fmt.qmin + 1 if bits > 1 else -1, fmt.qmax + 1, s) for s in ((24, 784), (10, 24))]
    if bits == 1:
        codes = [np.where(c >= 0, 1, -1) for c in codes]
    for c in codes:  # the max-abs scale needs the largest code present
        c.flat[0] = fmt.qmax
    b = [rng.integers(-500, 500, 24), rng.integers(-3, 4, 10)] if bias else [None, None]
    net = IntNetwork(
        [
            IntLayer(
                codes[0], bits, threshold=777, leak_shift=2 if bits != 4 else 0, reset="zero", bias=b[0]
            ),
            IntLayer(codes[1], bits, bias=b[1]),
        ],
        timesteps=7,
    )
    scales = [0.013, 0.21]
    path = tmp_path / "g.nir"
    nir.write(str(path), inir.to_graph(net, scales))
    imp = inir.read_graph(path)
    assert imp.timesteps == 7 and imp.reset == "zero"  # from the icespike metadata
    back = inir.to_model(imp, bits).to_int_network()
    for la, lb in zip(net.layers, back.layers):
        np.testing.assert_array_equal(la.codes, lb.codes)
        assert la.threshold == lb.threshold and la.leak_shift == lb.leak_shift
        if bias:
            np.testing.assert_array_equal(la.bias, lb.bias)
        else:
            assert not lb.has_bias
    assert engine_params(back) == engine_params(net)


def _conv(nodes, edges):
    """Input (1, 28, 28) -> Conv2d 3x3 -> Flatten -> the dense layers (a consistent graph)."""
    nodes["input"] = nir.Input(input_type={"input": np.array([1, 28, 28])})
    nodes["c"] = nir.Conv2d(
        input_shape=(28, 28),
        weight=np.zeros((1, 1, 3, 3)),
        stride=1,
        padding=1,
        dilation=1,
        groups=1,
        bias=np.zeros(1),
    )
    nodes["f"] = nir.Flatten(input_type={"input": np.array([1, 28, 28])}, start_dim=0)
    edges[0] = ("input", "c")
    edges += [("c", "f"), ("f", "0")]


def _recurrent(nodes, edges):
    nodes["rec"] = nir.Linear(weight=np.zeros((16, 16)))
    edges.append(("1", "rec"))
    edges.append(("rec", "1"))


def _second_layer(nodes, edges):
    nodes["3"] = nir.LIF(
        tau=np.full(10, 1e-3),
        r=np.full(10, 10.0),
        v_leak=np.zeros(10),
        v_threshold=np.ones(10),
        v_reset=np.zeros(10),
    )
    edges[-1] = ("2", "3")
    edges.append(("3", "output"))


@pytest.mark.parametrize(
    "graph,words",
    [
        (lambda: snntorch_graph(extra=_conv), ["'c'", "Conv2d"]),
        (lambda: snntorch_graph(extra=_recurrent), ["'1'", "recurrent"]),
        (lambda: snntorch_graph(extra=_second_layer), ["'3'", "second hidden layer"]),
        (lambda: snntorch_graph(n_in=100), ["'input'", "784"]),
        (lambda: snntorch_graph(h=5000), ["'1'", "5000 hidden"]),
        (
            lambda: snntorch_graph(neuron=nir.LI(tau=np.ones(16), r=np.ones(16), v_leak=np.zeros(16))),
            ["'1'", "LI"],
        ),
        (
            lambda: snntorch_graph(
                neuron=nir.CubaLIF(
                    tau_syn=np.full(16, 2e-4),
                    tau_mem=np.full(16, 1e-3),
                    r=np.full(16, 10.0),
                    v_leak=np.zeros(16),
                    v_threshold=np.ones(16),
                    v_reset=np.zeros(16),
                    w_in=np.full(16, 2.0),
                )
            ),
            ["'1'", "synaptic"],
        ),
        (
            lambda: snntorch_graph(
                neuron=nir.LIF(
                    tau=np.full(16, 1e-3),
                    r=np.full(16, 10.0),
                    v_leak=np.full(16, 0.1),
                    v_threshold=np.ones(16),
                    v_reset=np.zeros(16),
                )
            ),
            ["'1'", "v_leak"],
        ),
    ],
    ids=["conv", "recurrent", "two-hidden", "input-100", "too-wide", "LI-hidden", "cubalif-filter", "v_leak"],
)
def test_refusals_name_the_node_and_the_reason(graph, words):
    with pytest.raises(inir.NIRError) as e:
        inir.map_graph(graph())
    msg = str(e.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, msg


def test_fixture_float_simulation_matches_snntorch():
    """icespike's float simulation of the committed snnTorch graph: within 0.5 point of snnTorch."""
    m = load_mnist()
    imp = inir.read_graph(FIXTURE)
    assert imp.report["biases"] and imp.leak_shift == 3
    acc = inir.float_accuracy(imp, m.test_images, m.test_labels)
    assert abs(acc - FIXTURE_INFO["test_accuracy"]) <= 0.005, (acc, FIXTURE_INFO["test_accuracy"])


def test_fixture_q8_ptq_within_one_point(tmp_path, capsys):
    out = tmp_path / "q8.npz"
    assert main(["nir", "import", str(FIXTURE), "--bits", "8", "--out", str(out), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert abs(r["golden_accuracy"] - FIXTURE_INFO["test_accuracy"]) <= 0.01, r
    assert abs(r["float_accuracy"] - FIXTURE_INFO["test_accuracy"]) <= 0.005, r
    ck = load_checkpoint(out)
    net = ck.to_int_network()
    m = load_mnist()
    assert golden.accuracy(golden.run(net, m.test_images).predictions, m.test_labels) == r["golden_accuracy"]
    assert ck.manifest["nir"]["mapping"]["leak_shift"] == 3
    # export to NIR and back: the same integer network
    g = tmp_path / "back.nir"
    assert main(["nir", "export", str(out), "--out", str(g), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["round_trip_identical"] is True
    # and the engine export takes the checkpoint unchanged
    assert main(["export", str(out), "--out", str(tmp_path / "exp"), "--json"]) == 0
    e = json.loads(capsys.readouterr().out)
    assert e["engine"]["HAS_BIAS"] == 1 and {"b0.hex", "b1.hex"} <= set(e["files"])


def test_cli_refusal_is_one_line(tmp_path, capsys):
    bad = tmp_path / "conv.nir"
    nir.write(str(bad), snntorch_graph(extra=_conv))
    assert main(["nir", "import", str(bad), "--bits", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("icespike: error: node 'c': Conv2d") and "\n" not in err
    junk = tmp_path / "junk.nir"
    junk.write_text("not hdf5")
    assert main(["nir", "import", str(junk), "--bits", "2"]) == 2
    assert "not a readable NIR graph" in capsys.readouterr().err


@pytest.mark.slow
def test_fixture_ternary_finetune_reaches_snntorch(tmp_path, capsys):
    out = tmp_path / "t.npz"
    assert (
        main(["nir", "import", str(FIXTURE), "--bits", "2", "--finetune", "2", "--out", str(out), "--json"])
        == 0
    )
    r = json.loads(capsys.readouterr().out)
    assert r["golden_accuracy"] >= FIXTURE_INFO["test_accuracy"], r


@pytest.mark.verilator
def test_fixture_through_the_rtl(tmp_path, capsys):
    """The imported q8 checkpoint (biases) through ``icespike sim``: 0 mismatches on 200 images."""
    out = tmp_path / "q8.npz"
    assert main(["nir", "import", str(FIXTURE), "--bits", "8", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["sim", str(out), "--images", "200", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["mismatches"] == 0 and s["cycle_model_mismatches"] == 0, s


def test_norse_style_graph():
    """norse.torch.utils.export_nir: LIFBoxCell -> LIF(tau = dt / tau_mem_inv, r = 1), Linear ->
    Affine (zero bias), LIBoxCell -> LI readout; dt 1e-3. Norse integrates dt * tau_mem_inv * (I - v)."""
    h, dt, inv = 16, 1e-3, 100.0  # Norse's defaults: beta = 1 - dt * tau_mem_inv = 0.9
    rng = np.random.default_rng(1)
    w0, w1 = rng.normal(0, 0.05, (h, 784)), rng.normal(0, 0.3, (10, h))
    g = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([784])}),
            "0": nir.Affine(weight=w0, bias=np.zeros(h)),
            "1": nir.LIF(tau=np.full(h, dt / inv), v_threshold=np.ones(h), v_leak=np.zeros(h), r=np.ones(h)),
            "2": nir.Affine(weight=w1, bias=np.zeros(10)),
            "3": nir.LI(tau=np.full(10, dt / 50.0), v_leak=np.zeros(10), r=np.ones(10)),
            "output": nir.Output(output_type={"output": np.array([10])}),
        },
        edges=[("input", "0"), ("0", "1"), ("1", "2"), ("2", "3"), ("3", "output")],
    )
    imp = inir.map_graph(g, exporter="norse")
    assert imp.report["beta"]["mean"] == pytest.approx(0.9)
    assert imp.leak_shift == 3 and imp.reset == "zero"
    np.testing.assert_allclose(imp.weights[0], w0 * 0.1)  # Norse's input gain dt * tau_mem_inv
    assert imp.biases is None  # all-zero biases: a bias-free network
    assert imp.report["readout"] == "LI" and imp.report["readout_beta"] == pytest.approx(0.95)
    # read with snnTorch's convention the same graph has beta 0 (dt = tau / r = tau): stated, not hidden
    assert inir.map_graph(g).report["beta"]["mean"] == pytest.approx(0.0)


def test_spikingjelly_style_graph_needs_its_dt():
    """SpikingJelly's LIFNode (tau = 2 steps, decay_input): LIF(tau = tau_steps * dt, r = 1)."""
    dt = 1e-3
    lif = nir.LIF(
        tau=np.full(16, 2 * dt),
        r=np.ones(16),
        v_leak=np.zeros(16),
        v_threshold=np.ones(16),
        v_reset=np.zeros(16),
    )
    g = snntorch_graph(neuron=lif)
    with pytest.raises(inir.NIRError, match="'1'.*--dt"):
        inir.map_graph(g, exporter="spikingjelly")
    imp = inir.map_graph(g, exporter="spikingjelly", dt=dt)
    assert imp.leak_shift == 1 and imp.report["input_gain"]["min"] == pytest.approx(0.5)


def test_a_bias_of_the_wrong_length_names_the_node():
    g = snntorch_graph()
    g.nodes["2"].bias = np.zeros(7)
    with pytest.raises(inir.NIRError, match=r"node '2': bias of shape \(7,\)"):
        inir.map_graph(g)
