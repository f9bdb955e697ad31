"""The seed API (icespike.qat): QuantizedSNNLayer, quantize_aware_train_step, TernaryWeights."""

from __future__ import annotations

import numpy as np
import pytest

from icespike.formats import quant_qmax
from icespike.qat import QuantizedSNNLayer, TernaryWeights, quantize_aware_train_step, tau_to_leak_shift


def test_defaults_match_the_seed():
    layer = QuantizedSNNLayer()
    assert (layer.n_inputs, layer.n_neurons, layer.weight_bits) == (784, 128, 8)
    assert layer.threshold == 1.0 and layer.tau_mem == 20.0
    assert layer.leak_shift == 4 and layer.beta == 0.9375  # tau 20 -> k = round(log2 20) = 4
    assert layer.weights.shape == (128, 784)
    assert tau_to_leak_shift(1.0) == 0 and tau_to_leak_shift(2.9) == 2 and tau_to_leak_shift(64) == 6


@pytest.mark.parametrize("bits", [16, 8, 4])
def test_export_weights_on_grid(bits):
    layer = QuantizedSNNLayer(64, 32, weight_bits=bits)
    hw = layer.export_weights()
    s = layer.scale
    codes = hw / s
    assert np.allclose(codes, np.round(codes), atol=1e-9)
    assert np.abs(np.round(codes)).max() == quant_qmax(bits)
    assert len(np.unique(hw)) <= 2 * quant_qmax(bits) + 1
    assert np.array_equal(np.round(codes).astype(np.int64), layer.quantized_codes())


def test_export_weights_ternary_and_binary():
    t = QuantizedSNNLayer(100, 20, weight_bits=2)
    hw = t.export_weights()
    assert set(np.unique(hw).tolist()) == {-t.scale, 0.0, t.scale}
    b = QuantizedSNNLayer(100, 20, weight_bits=1)
    assert set(np.unique(b.export_weights()).tolist()) == {-b.scale, b.scale}


def test_fixed_qmn_scale():
    layer = QuantizedSNNLayer(50, 10, weight_bits=8, scale="fixed")
    assert layer.scale == 1 / 16  # Q4.4
    hw = layer.export_weights()
    assert np.allclose(hw * 16, np.round(hw * 16))


@pytest.mark.parametrize("bits", [16, 8, 4, 2, 1])
def test_training_step_lowers_loss_batch(bits):
    rng = np.random.default_rng(bits)
    layer = QuantizedSNNLayer(40, 10, weight_bits=bits, timesteps=8, seed=1)
    x = rng.normal(size=(32, 40))
    labels = rng.integers(0, 10, 32)
    first = quantize_aware_train_step(layer, x, labels, lr=0.05)
    for _ in range(60):
        r = quantize_aware_train_step(layer, x, labels, lr=0.05)
    assert r["loss"] < 0.7 * first["loss"]
    assert r["output"].shape == (32, 10) and np.all((r["output"] >= 0) & (r["output"] <= 1))
    assert first["grad_norm"] > 0 and np.isfinite(first["grad_norm"])
    assert r["accuracy"] > first["accuracy"]


def test_single_sample_and_rate_target():
    layer = QuantizedSNNLayer()
    rng = np.random.default_rng(0)
    x = rng.normal(size=784).astype(np.float32)
    target = np.zeros(128, np.float32)
    target[42] = 1.0
    w0 = layer.weights.copy()
    r = quantize_aware_train_step(layer, x, target, lr=0.01)
    assert r["output"].shape == (128,)
    assert set(r) >= {"loss", "grad_norm", "output"}
    assert r["loss"] == pytest.approx(float(((r["output"] - target) ** 2).sum()))
    step = np.sqrt(((layer.weights - w0) ** 2).sum())
    assert step == pytest.approx(0.01 * r["grad_norm"], rel=1e-9)  # a real SGD step of the reported gradient
    r2 = quantize_aware_train_step(layer, x, target, lr=0.01)
    assert r2["loss"] < r["loss"]


def test_ste_gradient_reaches_weights_that_quantise_to_zero():
    """Through the STE, latent weights whose ternary code is 0 still get a gradient."""
    layer = QuantizedSNNLayer(30, 5, weight_bits=2, timesteps=4, seed=3)
    zero = layer.quantized_codes() == 0
    assert zero.any()
    w0 = layer.weights.copy()
    x = np.random.default_rng(1).normal(size=(16, 30))
    quantize_aware_train_step(layer, x, np.arange(16) % 5, lr=0.1)
    assert np.any(layer.weights[zero] != w0[zero])


def test_bad_input():
    for bits in (0, 3, 32, "8", 2.5):
        with pytest.raises(ValueError, match="allowed are 16, 8, 4, 2 \\(ternary\\), 1 \\(binary\\)"):
            QuantizedSNNLayer(weight_bits=bits)
    with pytest.raises(ValueError, match="tau_mem"):
        QuantizedSNNLayer(tau_mem=-5.0)
    with pytest.raises(ValueError, match="threshold"):
        QuantizedSNNLayer(threshold=-1.0)
    with pytest.raises(ValueError, match="threshold"):
        QuantizedSNNLayer(threshold=float("nan"))
    with pytest.raises(ValueError, match="n_inputs"):
        QuantizedSNNLayer(n_inputs=0)
    layer = QuantizedSNNLayer(20, 4)
    with pytest.raises(ValueError, match="shape"):
        quantize_aware_train_step(layer, np.zeros(21), np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        quantize_aware_train_step(layer, np.full(20, np.nan), np.zeros(4))
    with pytest.raises(ValueError, match="target"):
        quantize_aware_train_step(layer, np.zeros(20), np.zeros(5))
    with pytest.raises(ValueError, match="labels"):
        quantize_aware_train_step(layer, np.zeros((2, 20)), np.array([0, 9]))
    with pytest.raises(ValueError, match="lr"):
        quantize_aware_train_step(layer, np.zeros(20), np.zeros(4), lr=-0.1)
    with pytest.raises(ValueError, match="NaN"):
        layer.set_weights(np.full((4, 20), np.inf))
    with pytest.raises(ValueError, match="shape"):
        layer.set_weights(np.zeros((20, 4)))


def test_ternary_weights_quantize_sparsity_scale():
    tw = TernaryWeights(threshold_ratio=0.7)
    w = np.random.default_rng(0).normal(0, 0.1, (128, 784))
    t = tw.quantize(w)
    assert t.dtype == np.int32 and set(np.unique(t).tolist()) == {-1, 0, 1}
    delta = 0.7 * np.abs(w).mean()
    assert np.array_equal(t == 0, np.abs(w) <= delta)
    assert tw.sparsity(w) == pytest.approx((t == 0).mean())
    assert tw.scale(w) == pytest.approx(np.abs(w)[np.abs(w) > delta].mean())
    with pytest.raises(ValueError):
        TernaryWeights(threshold_ratio=0)
    with pytest.raises(ValueError, match="NaN"):
        tw.quantize(np.array([np.nan, 1.0]))


def test_ternary_pack_size_and_round_trip():
    tw = TernaryWeights()
    w = np.random.default_rng(1).normal(size=(128, 784))
    t = tw.quantize(w)
    packed = tw.pack(t)
    assert packed.dtype == np.uint8 and packed.nbytes == 25_088  # 2 bits per weight
    assert np.array_equal(tw.unpack(packed, t.shape), t)
    # the contract's patterns, 4 per byte, first code in the low bits: [+1, -1, 0, +1] -> 01 11 00 01
    assert tw.pack(np.array([1, -1, 0, 1])).tolist() == [0b01_00_11_01]
    odd = np.array([1, -1, 0, 1, -1])
    assert len(tw.pack(odd)) == 2 and np.array_equal(tw.unpack(tw.pack(odd), (5,)), odd)


def test_ternary_pack_bad_input():
    tw = TernaryWeights()
    with pytest.raises(ValueError):
        tw.pack(np.array([2, 0]))
    with pytest.raises(ValueError, match="integers"):
        tw.pack(np.array([0.5]))
    with pytest.raises(ValueError, match="illegal"):
        tw.unpack(np.array([0b10], np.uint8), (1,))
    with pytest.raises(ValueError, match="do not hold"):
        tw.unpack(np.zeros(3, np.uint8), (128,))
    with pytest.raises(ValueError, match="padding"):
        tw.unpack(np.array([0b01_00_00_00], np.uint8), (3,))
    with pytest.raises(ValueError, match="uint8"):
        tw.unpack(np.zeros(2, np.int64), (8,))
