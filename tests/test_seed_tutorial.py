"""The seed tutorial ("Tutorial 77: Quantisation-Aware Training") run as written, with only the
import line changed to ``icespike.qat``; every line it prints is checked against the truth.

The tutorial's multi-layer loop feeds every layer the same 784-pixel batch and labels; that
cannot work (layer 2 has 256 inputs), and it fails with a clear ValueError, which is tested.
Its export loop and its single-layer and ternary snippets work as documented.
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest

from icespike.data import load_mnist

SNIPPET_LAYER = """
import numpy as np
from icespike.qat import QuantizedSNNLayer, quantize_aware_train_step
layer = QuantizedSNNLayer(
n_inputs=784,
n_neurons=128,
weight_bits=8, # Q4.4 fixed-point during forward pass
threshold=1.0,
tau_mem=20.0,
)
# Forward pass quantises weights to 8-bit, but gradients flow through
# via STE (straight-through estimator)
x = np.random.randn(784).astype(np.float32)
target = np.zeros(128, dtype=np.float32)
target[42] = 1.0
result = quantize_aware_train_step(layer, x, target, lr=0.01)
print(f"Loss: {result['loss']:.4f}")
print(f"Gradient norm: {result['grad_norm']:.4f}")
# Export weights — already at target precision
hw_weights = layer.export_weights()
print(f"Weight range: [{hw_weights.min():.4f}, {hw_weights.max():.4f}]")
print(f"Unique values: {len(np.unique(hw_weights))}") # 256 for 8-bit
"""

SNIPPET_TERNARY = """
from icespike.qat import TernaryWeights
ternary = TernaryWeights(threshold_ratio=0.7)
# Quantise trained weights
weights = np.random.randn(128, 784) * 0.1
t_weights = ternary.quantize(weights)
print(f"Sparsity: {ternary.sparsity(weights):.1%}")
print(f"Unique values: {np.unique(t_weights)}") # [-1, 0, 1]
print(f"Memory: {weights.nbytes:,} → {t_weights.nbytes // 16:,} bytes (ternary packed)")
"""

SNIPPET_LOOP_BUILD = """
from icespike.qat import QuantizedSNNLayer, quantize_aware_train_step
# Build a multi-layer QAT network
layers = [
QuantizedSNNLayer(784, 256, weight_bits=8),
QuantizedSNNLayer(256, 128, weight_bits=8),
QuantizedSNNLayer(128, 10, weight_bits=8),
]
"""

SNIPPET_LOOP_TRAIN = """
# Train for multiple epochs
for epoch in range(10):
    total_loss = 0
    for x_batch, y_batch in dataloader:
        for layer in layers:
            result = quantize_aware_train_step(layer, x_batch, y_batch, lr=0.001)
            total_loss += result["loss"]
    print(f"Epoch {epoch}: loss={total_loss:.4f}")
"""

SNIPPET_LOOP_EXPORT = """
# Export — no post-training quantisation needed
for i, layer in enumerate(layers):
    hw = layer.export_weights()
    print(f"Layer {i}: {hw.shape}, {len(np.unique(hw))} unique values")
"""


def _run(code: str, ns: dict) -> list[str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(code, ns)  # noqa: S102 - the tutorial's own code
    return buf.getvalue().splitlines()


def test_quantized_layer_snippet_prints_the_truth():
    np.random.seed(0)  # noqa: NPY002 - the tutorial draws from the legacy global RNG
    ns: dict = {}
    lines = _run(SNIPPET_LAYER, ns)
    layer, result, x, target = ns["layer"], ns["result"], ns["x"], ns["target"]
    assert len(lines) == 4
    loss = float(re.fullmatch(r"Loss: (\S+)", lines[0]).group(1))
    gnorm = float(re.fullmatch(r"Gradient norm: (\S+)", lines[1]).group(1))
    # the loss is the squared error of the output spike rates against the one-hot target
    out = result["output"]
    assert out.shape == (128,)
    assert loss == pytest.approx(float(((out - target) ** 2).sum()), abs=5e-5)
    assert loss > 0 and gnorm > 0
    # the gradient norm is that of the step actually taken: the initial weights are seeded,
    # so a freshly built layer holds the weights before the step
    w_before = type(layer)(n_inputs=784, n_neurons=128, weight_bits=8, threshold=1.0, tau_mem=20.0).weights
    assert np.sqrt(((layer.weights - w_before) ** 2).sum()) == pytest.approx(
        0.01 * result["grad_norm"], rel=1e-9
    )
    assert gnorm == pytest.approx(result["grad_norm"], abs=5e-5)
    hw = ns["hw_weights"]
    lo, hi = re.fullmatch(r"Weight range: \[(\S+), (\S+)\]", lines[2]).groups()
    assert float(lo) == pytest.approx(hw.min(), abs=5e-5) and float(hi) == pytest.approx(hw.max(), abs=5e-5)
    n_unique = int(re.fullmatch(r"Unique values: (\d+)", lines[3]).group(1))
    assert n_unique == len(np.unique(hw))
    # on the 8-bit grid: at most 255 symmetric codes (the comment's "256" counts -128, never produced)
    assert n_unique <= 256
    codes = hw / layer.scale
    assert np.allclose(codes, np.round(codes), atol=1e-9) and np.abs(np.round(codes)).max() <= 127
    assert np.array_equal(np.round(codes).astype(np.int64), layer.quantized_codes())
    # "gradients flow through": a second step lowers the loss
    r2 = ns["quantize_aware_train_step"](layer, x, target, lr=0.01)
    assert r2["loss"] < result["loss"]


def test_ternary_snippet_prints_the_truth():
    np.random.seed(1)  # noqa: NPY002 - the tutorial draws from the legacy global RNG
    ns: dict = {"np": np}
    lines = _run(SNIPPET_TERNARY, ns)
    ternary, weights, t = ns["ternary"], ns["weights"], ns["t_weights"]
    assert len(lines) == 3
    sp = float(re.fullmatch(r"Sparsity: (\S+)%", lines[0]).group(1)) / 100
    assert sp == pytest.approx((t == 0).mean(), abs=5e-4)
    assert 0.3 < sp < 0.55  # TWN with r = 0.7 on Gaussian weights zeroes about 42%
    assert lines[1] == "Unique values: [-1  0  1]"
    m = re.fullmatch(r"Memory: ([\d,]+) → ([\d,]+) bytes \(ternary packed\)", lines[2])
    before, after = (int(g.replace(",", "")) for g in m.groups())
    assert before == weights.nbytes == 128 * 784 * 8
    packed = ternary.pack(t)
    assert after == packed.nbytes == 25_088  # the printed packed size is the real one
    assert np.array_equal(ternary.unpack(packed, t.shape), t)


def test_training_loop_snippet_fails_clearly_and_export_works():
    np.random.seed(2)  # noqa: NPY002 - the tutorial draws from the legacy global RNG
    mnist = load_mnist()
    x = mnist.train_images[:64].reshape(64, -1) / 255.0
    y = mnist.train_labels[:64].astype(np.int64)
    ns: dict = {"np": np, "dataloader": [(x[:32], y[:32]), (x[32:], y[32:])]}
    _run(SNIPPET_LOOP_BUILD, ns)
    # every layer gets the same 784-pixel batch: the 256-input second layer refuses it
    with pytest.raises(ValueError, match=r"\(batch, 256\)"):
        _run(SNIPPET_LOOP_TRAIN, ns)
    # the first layer did take its step before the failure
    lines = _run(SNIPPET_LOOP_EXPORT, ns)
    assert len(lines) == 3
    for i, (line, layer) in enumerate(zip(lines, ns["layers"])):
        m = re.fullmatch(r"Layer (\d): \((\d+), (\d+)\), (\d+) unique values", line)
        assert m and int(m.group(1)) == i
        assert (int(m.group(2)), int(m.group(3))) == (layer.n_neurons, layer.n_inputs)
        hw = layer.export_weights()
        assert int(m.group(4)) == len(np.unique(hw)) <= 255
