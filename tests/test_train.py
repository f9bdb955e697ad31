"""Network-level QAT trainer (icespike.train): loss falls, and the training forward pass is the
integer golden model exactly (predictions, scores, spikes), including saturation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from icespike import fixed, golden
from icespike.checkpoint import load_checkpoint
from icespike.data import load_mnist
from icespike.train import SNNModel, TrainConfig, Trainer, _augment, cross_entropy

BITS = ("float", 16, 8, 4, 2, 1)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist()


@pytest.fixture(scope="module")
def small(mnist):
    x = mnist.train_images[:1024].reshape(1024, -1)
    y = mnist.train_labels[:1024]
    tx = mnist.test_images[:1000].reshape(1000, -1)
    ty = mnist.test_labels[:1000]
    return x, y, tx, ty


def _trained(bits, small, epochs=1, hidden=(64,), **kw):
    x, y, _, _ = small
    cfg = TrainConfig(bits=bits, epochs=epochs, hidden=hidden, timesteps=kw.pop("timesteps", 8), **kw)
    cfg.validate()
    m = SNNModel(
        [784, *cfg.hidden, 10],
        cfg.bits,
        timesteps=cfg.timesteps,
        leak_shift=cfg.leak_shift,
        reset=cfg.reset,
        rng=np.random.default_rng(cfg.seed),
    )
    tr = Trainer(m, cfg)
    hist = [tr.train_epoch(x, y) for _ in range(epochs)]
    return m, hist


@pytest.mark.parametrize("bits", ["float", 8, 2, 1])
def test_loss_falls(bits, small):
    _, hist = _trained(bits, small, epochs=3)
    assert hist[-1]["loss"] < 0.75 * hist[0]["loss"]
    assert hist[-1]["train_accuracy"] > hist[0]["train_accuracy"]


@pytest.mark.parametrize("bits", [16, 8, 4, 2, 1])
def test_training_forward_equals_golden_model_exactly(bits, small):
    m, _ = _trained(bits, small)
    _, _, tx, _ = small
    scores, cache = m.forward(tx, keep=True)
    net = m.to_int_network()
    g = golden.run(net, tx, trace=True)
    assert np.array_equal(scores.astype(np.int64), g.scores)  # every integer score, not just the argmax
    assert np.array_equal(np.argmax(scores, axis=1), g.predictions)
    assert np.array_equal(m.predict(tx), g.predictions)
    # spikes at every time step of every hidden neuron
    assert np.array_equal(cache.spikes[0].transpose(1, 0, 2).astype(np.int64), g.spikes[0])
    # membrane before reset: golden reports it after reset
    th = net.layers[0].threshold
    v3 = cache.v2[0] - cache.spikes[0] * th
    assert np.array_equal(v3.transpose(1, 0, 2).astype(np.int64), g.membranes[0])


def test_float_model_matches_its_q16_export(small):
    m, _ = _trained("float", small)
    _, _, tx, _ = small
    g = golden.run(m.to_int_network(), tx)
    agree = float((m.predict(tx) == g.predictions).mean())
    # unrounded vs rounded q16 codes: a difference needs a near-tie of two scores
    assert agree >= 0.999


def test_two_hidden_layers_equal_golden(small):
    m, hist = _trained(2, small, hidden=(48, 24))
    _, _, tx, _ = small
    scores, _ = m.forward(tx)
    g = golden.run(m.to_int_network(), tx)
    assert np.array_equal(scores.astype(np.int64), g.scores)
    assert np.isfinite(hist[0]["loss"])


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_saturation_and_reset_modes_match_golden(reset, small):
    """No leak, weights all positive and a threshold at the top of the membrane range:
    the membrane saturates at 2^(MEM_W-1)-1, exactly as the golden model clamps it."""
    _, _, tx, _ = small
    w0 = np.full((16, 784), 0.01)
    w1 = np.random.default_rng(0).normal(size=(10, 16))
    m = SNNModel([784, 16, 10], 8, timesteps=64, leak_shift=0, reset=reset, weights=[w0, w1], theta_f=[1e9])
    qr = m.quantize()
    th = m.int_thresholds(qr)[0]
    hi = fixed.signed_range(m.mem_widths[0])[1]
    assert th == hi  # clamped to the top of the range
    scores, cache = m.forward(tx[:50], keep=True)
    assert cache.sat[0] is not None and cache.sat[0].any()
    assert cache.v2[0].max() == hi
    g = golden.run(m.to_int_network(), tx[:50], trace=True)
    assert np.array_equal(cache.spikes[0].transpose(1, 0, 2).astype(np.int64), g.spikes[0])
    assert np.array_equal(scores.astype(np.int64), g.scores)
    # the backward pass runs through saturated steps
    loss, g_logits = cross_entropy(m.logits(scores, cache.qr), np.zeros(50, np.int64))
    gw, gt = m.backward(cache, g_logits)
    assert all(np.all(np.isfinite(a)) for a in gw) and np.isfinite(gt[0])


def test_threshold_gradient_points_downhill(small):
    """A step of the float threshold against its BPTT gradient lowers the measured loss."""
    x, y, _, _ = small
    m = SNNModel([784, 32, 10], 8, timesteps=8, rng=np.random.default_rng(1))
    loss0, _, _, gt = m.loss_and_grads(x[:256], y[:256].astype(np.int64))
    step = 0.05 * m.theta_f[0] * -np.sign(gt[0])
    m.theta_f[0] += step
    loss1, _, _, _ = m.loss_and_grads(x[:256], y[:256].astype(np.int64))
    assert loss1 < loss0


def test_augment_shifts_images():
    rng = np.random.default_rng(0)
    img = np.zeros((3, 784), np.uint8)
    img[:, 14 * 28 + 14] = 200
    out = _augment(img, 2, rng)
    assert out.shape == img.shape and out.dtype == img.dtype
    assert (out.sum(axis=1) == 200).all()  # a centre pixel stays inside the frame


def test_config_validation():
    for bad in (
        dict(bits=3),
        dict(epochs=-1),
        dict(timesteps=0),
        dict(timesteps=300),
        dict(hidden=()),
        dict(hidden=(0,)),
        dict(lr=float("nan")),
        dict(lr=-1.0),
        dict(reset="hold"),
        dict(leak_shift=-1),
        dict(scale="fixed", bits=2),
        dict(schedule="step"),
        dict(augment=9),
    ):
        with pytest.raises(ValueError):
            TrainConfig(**bad).validate()
    with pytest.raises(ValueError, match="shape"):
        SNNModel([784, 16, 10], 8).forward(np.zeros((2, 100), np.uint8))
    with pytest.raises(ValueError, match="NaN"):
        SNNModel([4, 3, 2], 8, weights=[np.full((3, 4), np.nan), np.ones((2, 3))])
    assert TrainConfig.from_dict(TrainConfig(bits=2).to_dict()).bits == 2


MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.mark.parametrize("name", ["float", "q16", "q8", "q4", "ternary", "binary"])
def test_committed_model_training_forward_equals_golden_on_test_set(name, mnist):
    """Every committed model: the trainer's evaluation and the golden model agree on all 10,000
    test images (exactly for quantised models; the float model against its q16 export)."""
    path = MODELS / f"mnist-784-128-10-{name}.npz"
    if not path.is_file():
        pytest.skip(f"{path.name} not trained yet (python scripts/models.py)")
    ck = load_checkpoint(path)
    x = mnist.test_images.reshape(len(mnist.test_images), -1)
    g = golden.run(ck.to_int_network(), x)
    if name == "float":
        agree = float((ck.model().predict(x) == g.predictions).mean())
        assert agree >= 0.999
    else:
        scores, _ = ck.model().forward(x)
        assert np.array_equal(scores.astype(np.int64), g.scores)


@pytest.mark.parametrize("bits", [16, 8, 2, 1])
def test_biases_are_learned_and_forward_equals_golden(bits, small):
    """QAT with biases in both layers (two hidden layers): biases move, loss falls, and the
    training forward pass still equals the golden model score for score."""
    x, y, tx, _ = small
    rng = np.random.default_rng(3)
    m = SNNModel(
        [784, 48, 24, 10],
        bits,
        timesteps=6,
        biases=[rng.normal(0, 0.2, 48), rng.normal(0, 0.2, 24), np.zeros(10)],
        rng=rng,
    )
    b_before = [b.copy() for b in m.biases]
    tr = Trainer(m, TrainConfig(bits=bits, epochs=2, hidden=(48, 24), timesteps=6))
    hist = [tr.train_epoch(x, y) for _ in range(2)]
    assert hist[-1]["loss"] < hist[0]["loss"]
    assert all(not np.array_equal(a, b) for a, b in zip(b_before, m.biases))
    scores, _ = m.forward(tx)
    net = m.to_int_network()
    assert net.has_bias and any(np.any(lay.bias != 0) for lay in net.layers)
    assert np.array_equal(scores.astype(np.int64), golden.run(net, tx).scores)


def test_bias_gradient_matches_finite_difference(small):
    """d loss / d bias of the float model (no rounding): the analytic gradient equals a central difference."""
    x, y, _, _ = small
    rng = np.random.default_rng(5)
    m = SNNModel([784, 16, 10], "float", timesteps=4, biases=[rng.normal(0, 0.3, 16), rng.normal(0, 0.3, 10)])
    xb, yb = x[:64], y[:64].astype(np.int64)
    _, _, gw, _ = m.loss_and_grads(xb, yb)
    g_out = gw[3]  # output-layer bias: the loss is smooth in it (no spike depends on it)
    for o in (0, 7):
        m.biases[1][o] += 1e-3
        lp = m.loss_and_grads(xb, yb)[0]
        m.biases[1][o] -= 2e-3
        lm = m.loss_and_grads(xb, yb)[0]
        m.biases[1][o] += 1e-3
        assert g_out[o] == pytest.approx((lp - lm) / 2e-3, rel=1e-3, abs=1e-6)
