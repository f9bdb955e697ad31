"""Quantiser properties (icespike.quant): grids, scale rules, STE, rounding, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from icespike.formats import quant_qmax, weight_format
from icespike.quant import Quantizer, bits_name, check_weights, parse_bits


def _w(seed=0, shape=(32, 50)):
    return np.random.default_rng(seed).normal(0, 0.1, shape)


@pytest.mark.parametrize("bits", [16, 8, 4])
def test_maxabs_grid_and_error(bits):
    w = _w(bits)
    r = Quantizer(bits)(w)
    qmax = quant_qmax(bits)
    assert r.scale == pytest.approx(np.abs(w).max() / qmax, rel=1e-15)
    assert np.array_equal(r.codes, np.round(r.codes))  # integers
    assert np.abs(r.codes).max() == qmax  # the largest weight hits the end of the grid
    assert np.all(np.abs(w - r.scale * r.codes) <= r.scale / 2 + 1e-15)
    weight_format(bits).check_codes(r.int_codes())
    assert len(np.unique(r.codes)) <= 2 * qmax + 1


def test_rounding_is_half_up_not_half_even():
    # s = 1 (max|w| = qmax): -2.5 -> -2, 2.5 -> 3, 0.5 -> 1, -0.5 -> 0 (np.round would give -2, 2, 0, -0)
    w = np.array([[-2.5, 2.5, 0.5, -0.5, 127.0]])
    r = Quantizer(8)(w)
    assert r.scale == 1.0
    assert r.codes.tolist() == [[-2.0, 3.0, 1.0, 0.0, 127.0]]


@pytest.mark.parametrize("bits,frac", [(16, 8), (8, 4), (4, 2)])
def test_fixed_qmn_scale_clips_and_masks(bits, frac):
    qmax = quant_qmax(bits)
    s = 2.0**-frac
    w = np.array([[0.0, s * 3, -s * 3, s * (qmax + 5), -s * (qmax + 5), s * 1.5]])
    r = Quantizer(bits, scale="fixed")(w)
    assert r.scale == s
    assert r.codes.tolist() == [[0, 3, -3, qmax, -qmax, 2]]
    assert r.mask.tolist() == [[True, True, True, False, False, True]]
    g = Quantizer.backward(np.ones_like(w), r)
    assert g.tolist() == [[1 / s, 1 / s, 1 / s, 0, 0, 1 / s]]


def test_ternary_twn_rule():
    w = _w(3)
    q = Quantizer(2, threshold_ratio=0.7)
    r = q(w)
    a = np.abs(w)
    delta = 0.7 * a.mean()
    assert set(np.unique(r.codes)) <= {-1.0, 0.0, 1.0}
    assert np.array_equal(r.codes == 0, a <= delta)
    assert np.array_equal(np.sign(w)[a > delta], r.codes[a > delta])
    assert r.scale == pytest.approx(a[a > delta].mean(), rel=1e-14)
    # a larger ratio gives more zeros
    assert (Quantizer(2, threshold_ratio=0.9)(w).codes == 0).sum() > (r.codes == 0).sum()


def test_binary_sign_and_mean_scale():
    w = np.array([[0.0, -0.2, 0.3, -1e-9]])
    r = Quantizer(1)(w)
    assert r.codes.tolist() == [[1, -1, 1, -1]]  # 0 maps to +1
    assert r.scale == pytest.approx(np.abs(w).mean())
    weight_format(1).check_codes(r.int_codes())


def test_float_mode_uses_q16_units_unrounded():
    w = _w(4)
    r = Quantizer("float")(w)
    assert r.scale == pytest.approx(np.abs(w).max() / 32767)
    assert np.allclose(r.codes * r.scale, w, rtol=0, atol=1e-15)
    assert not np.array_equal(r.codes, np.round(r.codes))
    ic = r.int_codes()
    weight_format(16).check_codes(ic)
    assert np.abs(ic - r.codes).max() <= 0.5
    assert Quantizer("float").export_bits == 16


def test_ste_is_gradient_over_scale():
    w = _w(5)
    for bits in ("float", 16, 8, 4, 2, 1):
        r = Quantizer(bits)(w)
        g = np.random.default_rng(1).normal(size=w.shape)
        # exactly the gradient divided by the scale (maxabs/ternary/binary never mask)
        assert r.mask is None
        assert np.array_equal(Quantizer.backward(g, r), g / r.scale)


def test_ste_mask_boundary_is_qmax_plus_half():
    """Fixed Qm.n: the gradient passes while |w/s| <= qmax + 0.5 (the last value that rounds into range)."""
    s = 2.0**-4  # q8, Q4.4
    x = np.array([[127.5, -127.5, 127.5 + 2**-10, -(127.5 + 2**-10), 128.0]])
    r = Quantizer(8, scale="fixed")(x * s)
    assert r.mask.tolist() == [[True, True, False, False, False]]
    assert Quantizer.backward(np.ones_like(x), r).tolist() == [[16.0, 16.0, 0.0, 0.0, 0.0]]


def test_ternary_threshold_tie_is_zero():
    """TWN keeps |w| > delta: a weight exactly on delta = r * mean|w| becomes 0."""
    w = np.array([[1.0, 3.0, -1.0, -3.0]])  # mean|w| = 2, delta = 0.5 * 2 = 1 exactly
    r = Quantizer(2, threshold_ratio=0.5)(w)
    assert r.codes.tolist() == [[0.0, 1.0, 0.0, -1.0]]
    assert r.scale == 3.0


def test_parse_bits_and_names():
    assert parse_bits("float") == "float"
    assert parse_bits("8") == 8 and parse_bits(8) == 8 and parse_bits("q8") == 8
    assert parse_bits("ternary") == 2 and parse_bits("binary") == 1
    assert [bits_name(b) for b in ("float", 16, 8, 4, 2, 1)] == [
        "float",
        "q16",
        "q8",
        "q4",
        "ternary",
        "binary",
    ]
    for bad in (3, "3", 32, "int8", True, None, 2.5):
        with pytest.raises(ValueError, match="allowed|unsupported"):
            parse_bits(bad)


def test_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        Quantizer(8)(np.array([[0.1, np.nan]]))
    with pytest.raises(ValueError, match="NaN"):
        Quantizer(2)(np.array([[0.1, np.inf]]))
    with pytest.raises(ValueError, match=r"^cannot quantise an all-zero weight matrix \(max\|w\| = 0\)$"):
        Quantizer(8)(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"^cannot binarise an all-zero weight matrix \(mean\|w\| = 0\)$"):
        Quantizer(1)(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"^ternary quantisation of an all-zero weight matrix$"):
        Quantizer(2)(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"^scale='fixed' \(Qm\.n\) exists only for 16, 8 and 4 bits$"):
        Quantizer(2, scale="fixed")
    with pytest.raises(ValueError, match=r"^unsupported scale mode 'learned': allowed are maxabs, fixed$"):
        Quantizer(8, scale="learned")
    for ok in (1.0, 1e-9, 0.5):
        assert Quantizer(2, threshold_ratio=ok).threshold_ratio == ok
    for bad in (0.0, 1.0 + 1e-12, 1.0 + 2e-12, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"^threshold_ratio must be in \(0, 1\], got "):
            Quantizer(2, threshold_ratio=bad)
    with pytest.raises(ValueError, match="threshold_ratio"):
        Quantizer(2, threshold_ratio=-0.1)
    with pytest.raises(ValueError, match="allowed are float, 16, 8, 4, 2"):
        Quantizer(3)
    with pytest.raises(ValueError, match="numeric"):
        Quantizer(8)(np.array([["a"]]))


def test_check_weights_ranks_and_messages():
    assert check_weights([[1, 2]]).dtype == np.float64
    assert check_weights(np.ones(3, bool), ndim=1).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match=r"^weights must be a 2-D array, got shape \(3,\)$"):
        check_weights(np.ones(3))
    with pytest.raises(ValueError, match=r"^w0 must be a 2-D array, got shape \(1, 1, 1\)$"):
        check_weights(np.ones((1, 1, 1)), "w0")
    with pytest.raises(ValueError, match=r"^weights is empty$"):
        check_weights(np.ones((0, 3)))
    assert check_weights(np.ones((1, 1))).shape == (1, 1)  # one weight is not empty
    with pytest.raises(ValueError, match=r"^weights must be numeric, got dtype <U1$"):
        check_weights(np.array([["a"]]))


def test_quantizer_takes_any_rank_and_quantize_dequantize():
    w = np.array([0.25, -0.5, 1.0])  # 1-D: the quantiser itself has no rank rule
    codes, s = Quantizer(8).quantize(w)
    assert codes.tolist() == [
        32,
        -63,
        127,
    ]  # 31.75 -> 32, -63.5 -> -63 (half up) and codes.dtype == np.int64 and s == 1.0 / 127
    r = Quantizer(4)(w.reshape(1, 1, 3))
    assert r.codes.tolist() == [[[2.0, -3.0, 7.0]]]
    assert np.allclose(r.dequantized(), [[[2 / 7, -3 / 7, 1.0]]], rtol=0, atol=1e-15)  # float side
