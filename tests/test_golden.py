"""icespike.golden against a slow per-neuron reference built on icespike.fixed.lif_step.

The reference walks every image, time step and neuron with Python integers and calls
``fixed.lif_step`` for each neuron update, so the vectorised golden model is checked against
the contract's scalar definition (same functions, no second copy of the arithmetic).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from icespike import fixed, golden
from icespike.fixed import ArithmeticError_
from icespike.formats import SUPPORTED_BITS
from icespike.network import IntLayer, IntNetwork


# ------------------------------------------------------------------------------------ reference
def reference_run(net: IntNetwork, images) -> dict:
    """Per-image, per-step, per-neuron loop; returns plain nested lists."""
    x = np.asarray(images).reshape(len(images), -1).tolist()
    hidden, out = net.layers[:-1], net.layers[-1]
    T = net.timesteps
    rows = [lay.codes.tolist() for lay in net.layers]
    # each layer's bias, added to its current at every step (zeros without biases)
    bias = [lay.bias.tolist() if lay.has_bias else [0] * lay.n_out for lay in net.layers]
    res = {
        "currents": [[] for _ in hidden],
        "membranes": [[] for _ in hidden],
        "spikes": [[] for _ in hidden],
        "out_currents": [],
        "scores": [],
        "predictions": [],
    }
    for pix in x:
        v = [[0] * lay.n_out for lay in hidden]
        i0 = [sum(p * c for p, c in zip(pix, row)) + b for row, b in zip(rows[0], bias[0])]  # once per image
        score = [0] * out.n_out
        per = {k: [[] for _ in hidden] for k in ("currents", "membranes", "spikes")}
        ocs = []
        for _t in range(T):
            inp = None
            for li, lay in enumerate(hidden):
                cur = (
                    i0
                    if li == 0
                    else [sum(c for c, s in zip(row, inp) if s) + b for row, b in zip(rows[li], bias[li])]
                )
                spikes = []
                for j in range(lay.n_out):
                    v[li][j], s = fixed.lif_step(
                        v[li][j],
                        cur[j],
                        lay.threshold,
                        leak_shift=lay.leak_shift,
                        mem_width=net.mem_width(li),
                        reset=lay.reset,
                    )
                    spikes.append(s)
                per["currents"][li].append(list(cur))
                per["membranes"][li].append(list(v[li]))
                per["spikes"][li].append(spikes)
                inp = spikes
            oc = [sum(c for c, s in zip(row, inp) if s) + b for row, b in zip(rows[-1], bias[-1])]
            score = [a + b for a, b in zip(score, oc)]
            ocs.append(oc)
        for k in per:
            for li in range(len(hidden)):
                res[k][li].append(per[k][li])
        res["out_currents"].append(ocs)
        res["scores"].append(score)
        res["predictions"].append(score.index(max(score)))  # first maximum = lowest index
    return res


def assert_same(name, got, expect):
    got = np.asarray(got)
    expect = np.asarray(expect, dtype=np.int64)
    assert got.shape == expect.shape, f"{name}: shape {got.shape} != {expect.shape}"
    bad = np.argwhere(got != expect)
    assert bad.size == 0, (
        f"{name}: {len(bad)} of {got.size} values differ; first at {bad[0].tolist()}: "
        f"golden {got[tuple(bad[0])]} reference {expect[tuple(bad[0])]}"
    )


def check_against_reference(net, images):
    r = golden.run(net, images, trace=True)
    ref = reference_run(net, images)
    nh = len(net.layers) - 1
    for li in range(nh):
        assert_same(f"layer {li} currents", r.currents[li], ref["currents"][li])
        assert_same(f"layer {li} membranes", r.membranes[li], ref["membranes"][li])
        assert_same(f"layer {li} spikes", r.spikes[li], ref["spikes"][li])
    assert_same("out_currents", r.out_currents, ref["out_currents"])
    assert_same("scores", r.scores, ref["scores"])
    assert_same("predictions", r.predictions, ref["predictions"])
    return r


def check_consistency(net, images, r):
    n, T = len(images), net.timesteps
    for li, lay in enumerate(net.layers[:-1]):
        for arr in (r.currents[li], r.membranes[li], r.spikes[li]):
            assert arr.shape == (n, T, lay.n_out) and arr.dtype == np.int64
        assert np.array_equal(r.spike_counts[li], r.spikes[li].sum(axis=1))
        assert set(np.unique(r.spikes[li]).tolist()) <= {0, 1}
        lo, hi = fixed.signed_range(net.mem_width(li))
        assert r.membranes[li].min() >= lo and r.membranes[li].max() <= hi
    # layer 0 current is computed once per image: constant over the time steps
    assert np.array_equal(r.currents[0], np.repeat(r.currents[0][:, :1], T, axis=1))
    n_out = net.layers[-1].n_out
    assert r.out_currents.shape == (n, T, n_out) and r.out_scores.shape == (n, T, n_out)
    assert np.array_equal(r.scores, r.out_currents.sum(axis=1))
    assert np.array_equal(r.out_scores, np.cumsum(r.out_currents, axis=1))
    assert np.array_equal(r.out_scores[:, -1], r.scores)
    # the class: the first index holding the maximum score, found without argmax
    first_max = [min(i for i, x in enumerate(row) if x == max(row)) for row in r.scores.tolist()]
    assert r.predictions.tolist() == first_max
    # without traces: the same answers
    q = golden.run(net, images, trace=False)
    assert np.array_equal(q.predictions, r.predictions) and np.array_equal(q.scores, r.scores)
    for a, b in zip(q.spike_counts, r.spike_counts):
        assert np.array_equal(a, b)
    assert q.currents == [] and q.membranes == [] and q.spikes == []
    assert q.out_currents is None and q.out_scores is None


# ------------------------------------------------------------------------------------ random networks
@pytest.mark.parametrize("leak_shift", [0, 3])
@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("bits", SUPPORTED_BITS)
def test_golden_matches_reference(bits, reset, leak_shift, make_net):
    rng = np.random.default_rng(1000 * bits + 10 * leak_shift + (reset == "zero"))
    images = rng.integers(0, 256, size=(6, 48), dtype=np.int64)
    images[:, rng.random(48) < 0.3] = 0  # MNIST-like zero pixels
    net = make_net(rng, bits, [48, 14, 6], timesteps=9, reset=reset, leak_shift=leak_shift, images=images)
    # put the threshold exactly on one neuron's positive layer-0 current: its membrane lands on
    # v == threshold at step 0 (the fire comparison is >=, so it must spike there)
    i0 = images @ net.layers[0].codes.T
    pos = np.sort(i0[i0 > 0])
    net.layers[0].threshold = int(pos[len(pos) // 2])
    net.validate()
    r = check_against_reference(net, images)
    check_consistency(net, images, r)
    th = net.layers[0].threshold
    at = r.currents[0][:, 0] == th
    assert at.any() and np.all(r.spikes[0][:, 0][at] == 1)
    assert np.all(r.spikes[0][:, 0][(r.currents[0][:, 0] == th - 1)] == 0)
    # the case is informative: neurons both fire and stay silent
    s = r.spikes[0]
    assert 0 < s.sum() < s.size


@pytest.mark.parametrize("bits", [2, 8])
def test_golden_two_hidden_layers(bits, make_net):
    rng = np.random.default_rng(77 + bits)
    images = rng.integers(0, 256, size=(5, 30), dtype=np.int64)
    net = make_net(rng, bits, [30, 12, 9, 4], timesteps=7, reset="subtract", leak_shift=2, images=images)
    r = check_against_reference(net, images)
    check_consistency(net, images, r)
    assert r.spikes[1].sum() > 0


@pytest.mark.parametrize("bits", [2, 16])
def test_golden_on_mnist_images(mnist, bits, make_net):
    rng = np.random.default_rng(5 + bits)
    images = mnist.test_images[:3]
    net = make_net(rng, bits, [784, 20, 10], timesteps=6, leak_shift=4, images=images)
    r = check_against_reference(net, images)
    check_consistency(net, images, r)


def test_batches_concatenate(make_net):
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(11, 20), dtype=np.int64)
    net = make_net(rng, 4, [20, 8, 6, 5], timesteps=5, images=images)  # two hidden layers
    whole = golden.run(net, images, trace=True, batch_size=100)
    parts = golden.run(net, images, trace=True, batch_size=3)
    assert whole.spikes[0].sum() > 0 and whole.spikes[1].sum() > 0
    for name in ("predictions", "scores", "out_currents", "out_scores"):
        assert getattr(parts, name).shape[0] == 11
        assert np.array_equal(getattr(whole, name), getattr(parts, name)), name
    for name in ("spike_counts", "currents", "membranes", "spikes"):
        assert len(getattr(whole, name)) == len(getattr(parts, name)) == 2, name
        for a, b in zip(getattr(whole, name), getattr(parts, name)):
            assert a.shape[0] == 11 and np.array_equal(a, b), name
    quiet = golden.run(net, images, trace=False, batch_size=3)
    assert np.array_equal(quiet.scores, whole.scores) and len(quiet.spike_counts) == 2
    assert quiet.currents == [] and quiet.membranes == [] and quiet.spikes == []
    assert quiet.out_currents is None and quiet.out_scores is None


def test_single_image_and_28x28_shapes(mnist, make_net):
    rng = np.random.default_rng(9)
    net = make_net(rng, 2, [784, 10, 10], timesteps=4, images=mnist.test_images[:4])
    a = golden.run(net, mnist.test_images[:4])
    b = golden.run(net, mnist.test_images[:4].reshape(4, 784))
    assert np.array_equal(a.scores, b.scores)
    c = golden.run(net, mnist.test_images[0].reshape(784))
    assert np.array_equal(c.scores, a.scores[:1])
    e = golden.run(net, np.zeros((0, 784), dtype=np.uint8))
    assert e.predictions.shape == (0,) and e.scores.shape == (0, 10)


# ------------------------------------------------------------------------------------ directed cases
def tiny_net(hidden_codes, out_codes, *, threshold, bits=8, mem_width=None, timesteps=6, reset="subtract"):
    hid = IntLayer(
        codes=np.array(hidden_codes, dtype=np.int64),
        bits=bits,
        threshold=threshold,
        reset=reset,
        mem_width=mem_width,
    )
    out = IntLayer(codes=np.array(out_codes, dtype=np.int64), bits=bits)
    return IntNetwork(layers=[hid, out], timesteps=timesteps)


def test_membrane_saturates_in_one_step():
    # I = +300 and -300 into an 8-bit membrane: +127 then fires (127 - 100 = 27), and -128 without wrapping
    net = tiny_net([[3, 0], [-3, 0]], [[1, 0]], threshold=100, mem_width=8)
    images = np.array([[100, 0]])
    r = check_against_reference(net, images)
    assert r.currents[0][0, 0].tolist() == [300, -300]
    assert r.membranes[0][0, :, 0].tolist() == [27] * 6  # not 200, 400, ...
    assert r.spikes[0][0, :, 0].tolist() == [1] * 6
    assert r.membranes[0][0, :, 1].tolist() == [-128] * 6  # saturated, never wrapped positive
    assert r.spikes[0][0, :, 1].tolist() == [0] * 6


def test_membrane_saturates_over_time_at_default_width():
    # Most negative current of a 4-input q8 layer: 4 * 255 * -128 = -130560, membrane width 18 + 2 = 20
    net = tiny_net([[-128] * 4], [[1]], threshold=1, timesteps=8)
    assert net.acc_width(0) == 18 and net.mem_width(0) == 20
    lo = fixed.signed_range(20)[0]
    r = check_against_reference(net, np.full((1, 4), 255))
    expect = [max(-130560 * (t + 1), lo) for t in range(8)]
    assert r.membranes[0][0, :, 0].tolist() == expect
    assert expect[-1] == lo and expect[2] > lo  # reached the end of the range, only after a few steps


@pytest.mark.parametrize("reset, expect", [("subtract", [5, 10, 15, 20]), ("zero", [0, 0, 0, 0])])
def test_reset_modes_directed(reset, expect):
    # current 25, threshold 20: subtract keeps the excess, zero drops it
    net = tiny_net([[1]], [[1]], threshold=20, timesteps=4, reset=reset)
    r = check_against_reference(net, np.array([[25]]))
    assert r.membranes[0][0, :, 0].tolist() == expect
    assert r.spikes[0][0, :, 0].tolist() == [1, 1, 1, 1]


@pytest.mark.parametrize(
    "pixel, membranes, spikes",
    [
        (20, [0, 0, 0, 0], [1, 1, 1, 1]),  # v == threshold at every step: fires, subtracts to 0
        (19, [19, 18, 17, 16], [0, 1, 1, 1]),  # 19 < 20; 38 fires (-> 18); 37 -> 17; 36 -> 16
        (21, [1, 2, 3, 4], [1, 1, 1, 1]),
    ],
)
def test_fire_at_equality_directed(pixel, membranes, spikes):
    net = tiny_net([[1]], [[1]], threshold=20, timesteps=4)
    r = check_against_reference(net, np.array([[pixel]]))
    assert r.membranes[0][0, :, 0].tolist() == membranes
    assert r.spikes[0][0, :, 0].tolist() == spikes


def test_tie_break_lowest_index():
    # the hidden neuron fires every step; output codes tie at classes 2 and 5
    net = tiny_net([[1]], [[0], [1], [3], [-2], [2], [3]], threshold=1, timesteps=5)
    r = check_against_reference(net, np.array([[255]]))
    assert r.scores[0].tolist() == [0, 5, 15, -10, 10, 15]
    assert r.predictions.tolist() == [2]
    # all scores equal: class 0
    net0 = tiny_net([[1]], [[0]] * 10, threshold=1)
    assert golden.run(net0, np.array([[255]])).predictions.tolist() == [0]
    assert golden.argmax_lowest(np.array([[1, 7, 7], [-3, -3, -4], [0, 0, 0]])).tolist() == [1, 0, 0]


def test_lif_fast_equals_lif_step():
    rng = np.random.default_rng(11)
    for mw in (4, 9, 21, 36):
        lo, hi = fixed.signed_range(mw)
        v = rng.integers(lo, hi + 1, size=(40, 30), dtype=np.int64)
        v[0] = lo
        v[1] = hi
        cur = rng.integers(3 * lo, 3 * hi, size=(40, 30), dtype=np.int64)
        th = int(rng.integers(1, hi + 1))
        for reset in ("subtract", "zero"):
            for k in (0, 1, mw - 1):
                a = golden._lif_fast(v, cur, th, k, mw, reset)
                b = fixed.lif_step(v, cur, th, leak_shift=k, mem_width=mw, reset=reset)
                assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_exact_matmul_switches_to_integers_above_2_53():
    """Below 2**53 the float64 product is exact; above it the integer path must be taken."""
    a = np.array([[(1 << 53) + 1]], dtype=np.int64)
    one = np.array([[1]], dtype=np.int64)
    assert golden.exact_matmul(a, one, (1 << 53) + 1).tolist() == [[(1 << 53) + 1]]
    assert golden.exact_matmul(a - 2, one, (1 << 53) - 1).tolist() == [[(1 << 53) - 1]]
    assert golden.exact_matmul(a - 2, one, (1 << 53) - 1).dtype == np.int64


def test_exact_matmul_integer_path():
    rng = np.random.default_rng(2)
    a = rng.integers(-(1 << 30), 1 << 30, size=(4, 5), dtype=np.int64)
    b = rng.integers(-(1 << 30), 1 << 30, size=(3, 5), dtype=np.int64)
    got = golden.exact_matmul(a, b, 1 << 63)
    expect = [[sum(int(x) * int(y) for x, y in zip(ra, rb)) for rb in b] for ra in a]
    assert got.tolist() == expect


def test_accuracy():
    assert golden.accuracy(np.array([1, 2, 3]), np.array([1, 0, 3])) == 2 / 3
    assert golden.accuracy(np.array([4]), np.array([4])) == 1.0
    assert np.isnan(golden.accuracy(np.array([]), np.array([])))
    with pytest.raises(ValueError, match=r"^predictions \(2,\) and labels \(3,\) differ in shape$"):
        golden.accuracy(np.array([1, 2]), np.array([1, 2, 3]))


# ------------------------------------------------------------------------------------ widths (docs table)
@pytest.mark.parametrize(
    "bits, widths", [(2, (19, 21, 9, 13)), (8, (26, 28, 16, 20)), (16, (34, 36, 24, 28))]
)
def test_widths_match_contract_table(bits, widths):
    """docs/arithmetic.md section 6 for 784-128-10 at T=16."""
    codes0 = np.zeros((128, 784), dtype=np.int64)
    codes1 = np.zeros((10, 128), dtype=np.int64)
    if bits == 1:
        codes0 += 1
        codes1 += 1
    net = IntNetwork(
        [IntLayer(codes0, bits, threshold=1), IntLayer(codes1, bits)],
        timesteps=16,
    )
    assert (net.acc_width(0), net.mem_width(0), net.acc_width(1), net.score_width()) == widths


# ------------------------------------------------------------------------------------ bad inputs
@pytest.fixture
def small_net(make_net):
    return make_net(np.random.default_rng(4), 2, [16, 6, 3], timesteps=3)


@pytest.mark.parametrize(
    "images, match",
    [
        (np.full((2, 16), 256), r"^pixels must be in 0\.\.255, got min 256, max 256$"),
        (np.full((2, 16), -1), r"^pixels must be in 0\.\.255, got min -1, max -1$"),
        (np.zeros((2, 16), dtype=np.float64), r"^images must be integer pixels 0\.\.255, got dtype float64$"),
        (np.full((2, 16), np.nan), r"got dtype float64"),
        (np.zeros((2, 16), dtype=bool), r"got dtype bool"),
        (np.zeros((2, 15), dtype=np.uint8), r"^images must have shape \(N, 16\), got \(2, 15\)$"),
        (np.zeros((2, 2, 4, 2), dtype=np.uint8), r"^images must have shape \(N, 16\), got \(2, 2, 4, 2\)$"),
        (np.array(["a"] * 16), r"got dtype <U1"),
    ],
)
def test_bad_images_raise(small_net, images, match):
    with pytest.raises(ValueError, match=match):
        golden.run(small_net, images)


def test_bad_networks_raise():
    ok0 = np.zeros((4, 3), dtype=np.int64)
    ok1 = np.zeros((2, 4), dtype=np.int64)
    cases = [
        (dict(layers=[IntLayer(ok0, 2, threshold=0), IntLayer(ok1, 2)]), ArithmeticError_, "threshold 0"),
        (
            dict(layers=[IntLayer(ok0, 2, threshold=5), IntLayer(ok1, 2, threshold=3)]),
            ValueError,
            "integrator",
        ),
        (dict(layers=[IntLayer(ok0, 2, threshold=5), IntLayer(ok1[:, :3], 2)]), ValueError, "3 inputs"),
        (dict(layers=[IntLayer(ok0 + 2, 2, threshold=5), IntLayer(ok1, 2)]), ArithmeticError_, "ternary"),
        (dict(layers=[IntLayer(ok0 * 1.0, 8, threshold=5), IntLayer(ok1, 8)]), ArithmeticError_, "dtype"),
        (dict(layers=[IntLayer(ok0, 3, threshold=5), IntLayer(ok1, 3)]), ValueError, "allowed are"),
        (dict(layers=[IntLayer(ok0, 2, threshold=5, reset="hold"), IntLayer(ok1, 2)]), ValueError, "reset"),
        (dict(layers=[IntLayer(ok1, 2)]), ValueError, "at least one hidden layer"),
    ]
    for kwargs, exc, match in cases:
        with pytest.raises(exc, match=match):
            IntNetwork(timesteps=4, **kwargs)
    with pytest.raises(ValueError, match="timesteps"):
        IntNetwork([IntLayer(ok0, 2, threshold=5), IntLayer(ok1, 2)], timesteps=0)


# ------------------------------------------------------------------------------------ benchmark script
def test_bench_script_golden_section(tmp_path):
    """scripts/bench.py runs its golden section end to end and writes the JSON it prints."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "bench.py"
    cmd = [sys.executable, str(script), "--only", "golden", "--images", "40", "--repeats", "1"]
    p = subprocess.run([*cmd, "--out", str(tmp_path), "--json"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    printed = json.loads(p.stdout)["golden"]
    written = json.loads((tmp_path / "golden.json").read_text())
    assert printed == written
    assert [r["bits"] for r in written["rows"]] == list(SUPPORTED_BITS)
    assert all(r["images_per_s"] > 0 and len(r["runs_s"]) == 1 for r in written["rows"])
    assert written["images"] == 40 and written["timesteps"] == 16 and written["sizes"] == [784, 128, 10]
    bad = subprocess.run([*cmd[:2], "--only", "nonexistent"], capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "unknown section(s) nonexistent" in bad.stderr


@pytest.mark.parametrize("bits", [2, 8])
def test_golden_with_biases_matches_reference(bits, make_net):
    """Biases of both signs in every layer, up to the limits of their width, added at every step."""
    rng = np.random.default_rng(500 + bits)
    images = rng.integers(0, 256, size=(5, 24), dtype=np.int64)
    net = make_net(rng, bits, [24, 10, 7, 4], timesteps=6, leak_shift=1, images=images)
    for li, lay in enumerate(net.layers):
        lim = -fixed.signed_range(net.bias_width(li))[0]  # the largest |bias| the layer holds
        lay.bias = rng.integers(-lim // 4, lim // 4 + 1, size=lay.n_out)
        lay.bias[0], lay.bias[-1] = -(lim // 4), lim // 4  # both signs present
    net.validate()
    assert net.has_bias
    r = check_against_reference(net, images)
    check_consistency(net, images, r)
    # the bias moves the current by exactly its value (not by its negative, not by nothing)
    base = images @ net.layers[0].codes.T
    assert np.array_equal(r.currents[0][:, 0], base + net.layers[0].bias)
    assert 0 < r.spikes[0].sum() < r.spikes[0].size


def test_bias_directed():
    """One hidden neuron, current 3 * pixel + 5 at every step; the output adds its bias at every step."""
    hid = IntLayer(codes=np.array([[3]]), bits=8, threshold=20, bias=np.array([5]))
    out = IntLayer(codes=np.array([[2], [-1]]), bits=8, bias=np.array([-3, 4]))
    net = IntNetwork(layers=[hid, out], timesteps=3)
    r = golden.run(net, np.array([[5]]), trace=True)
    assert r.currents[0][0, :, 0].tolist() == [20, 20, 20]  # 15 + 5, not 10 or 15
    assert r.spikes[0][0, :, 0].tolist() == [1, 1, 1]  # v = 20 >= 20 each step, then reset to 0
    assert r.out_currents[0].tolist() == [[-1, 3], [-1, 3], [-1, 3]]  # [2 - 3, -1 + 4]
    assert r.scores.tolist() == [[-3, 9]] and r.predictions.tolist() == [1]


# ------------------------------------------------------------------------------------ types, defaults, guards
def test_result_types_defaults_and_two_batches(make_net):
    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, size=(12, 20), dtype=np.int64).astype(np.uint8)
    net = make_net(rng, 8, [20, 8, 5], timesteps=4, images=images)
    r = golden.run(net, images, trace=True)
    for a in (r.predictions, r.scores, r.out_currents, r.out_scores, *r.spike_counts):
        assert a.dtype == np.int64
    plain = golden.run(net, images)  # trace is off by default
    assert plain.currents == [] and plain.out_currents is None and plain.out_scores is None
    two = golden.run(net, images, batch_size=6)  # exactly two batches
    assert np.array_equal(two.scores, r.scores) and np.array_equal(two.predictions, r.predictions)
    assert golden.check_images(images, 20).dtype == np.int64
    # argmax over the last axis of any rank: the class at every time step of the running scores
    per_step = golden.argmax_lowest(r.out_scores)
    assert per_step.shape == (12, 4) and per_step.dtype == np.int64
    assert per_step[:, -1].tolist() == r.predictions.tolist()
    assert golden.argmax_lowest(np.array([[[1, 3], [5, 2]]])).tolist() == [[1, 0]]


def test_width_guards_name_the_value(monkeypatch, make_net):
    """The widths are proven; if a width were wrong the golden model says which value left its range."""
    net = tiny_net([[100]], [[7]], threshold=10, mem_width=20)
    monkeypatch.setattr(IntNetwork, "acc_width", lambda self, li: 8)
    with pytest.raises(
        ArithmeticError_,
        match=r"^layer 0 current out of the signed 8-bit range \[-128, 127\]: min 25500, max 25500$",
    ):
        golden.run(net, np.array([[255]]))
    monkeypatch.undo()
    monkeypatch.setattr(IntNetwork, "score_width", lambda self: 4)
    with pytest.raises(
        ArithmeticError_, match=r"^output score out of the signed 4-bit range \[-8, 7\]: min 42, max 42$"
    ):
        golden.run(net, np.array([[255]]))


def test_accuracy_of_nothing_is_nan_without_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(golden.accuracy(np.array([], np.int64), np.array([], np.int64)))
