"""icespike.formats: code ranges, bit patterns, round trips and rejection of illegal codes."""

from __future__ import annotations

import re

import numpy as np
import pytest

from icespike import fixed
from icespike.fixed import ArithmeticError_
from icespike.formats import SUPPORTED_BITS, quant_qmax, weight_format

EXPECTED = {
    # bits: (name, code width, qmin, qmax, max_abs, quantiser qmax, qformat)
    16: ("q16", 16, -32768, 32767, 32768, 32767, "Q8.8"),
    8: ("q8", 8, -128, 127, 128, 127, "Q4.4"),
    4: ("q4", 4, -8, 7, 8, 7, "Q2.2"),
    2: ("ternary", 2, -1, 1, 1, 1, "ternary"),
    1: ("binary", 1, -1, 1, 1, 1, "binary"),
}


def legal_codes(bits: int) -> np.ndarray:
    f = weight_format(bits)
    if bits == 1:
        return np.array([-1, 1], dtype=np.int64)
    return np.arange(f.qmin, f.qmax + 1, dtype=np.int64)


def test_supported_bits():
    assert tuple(sorted(SUPPORTED_BITS, reverse=True)) == (16, 8, 4, 2, 1)


@pytest.mark.parametrize("bits", SUPPORTED_BITS)
def test_format_table(bits):
    f = weight_format(bits)
    name, cw, qmin, qmax, max_abs, qq, qfmt = EXPECTED[bits]
    assert (f.bits, f.name, f.code_width, f.qmin, f.qmax) == (bits, name, cw, qmin, qmax)
    assert f.max_abs == max_abs
    assert quant_qmax(bits) == qq
    assert f.qformat == qfmt
    assert f.multiplier_free == (bits <= 2)


@pytest.mark.parametrize("bits", SUPPORTED_BITS)
def test_encode_decode_round_trip(bits):
    f = weight_format(bits)
    q = legal_codes(bits)
    p = f.encode(q)
    assert p.dtype == np.int64
    assert p.min() >= 0 and p.max() < (1 << f.code_width)
    assert len(set(p.tolist())) == len(q)  # distinct codes, distinct patterns
    assert np.array_equal(f.decode(p), q)
    # 2-D arrays keep their shape
    rng = np.random.default_rng(bits)
    q2 = rng.choice(q, size=(7, 13))
    assert np.array_equal(f.decode(f.encode(q2)), q2)
    if bits >= 2:
        # multi-bit patterns are the codes' two's complement
        assert np.array_equal(p, fixed.to_twos(q, f.code_width))


@pytest.mark.parametrize("bits", [16, 8, 4])
def test_every_pattern_decodes(bits):
    f = weight_format(bits)
    pats = np.arange(1 << f.code_width, dtype=np.int64)
    codes = f.decode(pats)
    assert np.array_equal(codes, fixed.from_twos(pats, f.code_width))
    assert np.array_equal(f.encode(codes), pats)


def test_ternary_and_binary_patterns():
    t = weight_format(2)
    assert t.encode(np.array([0, 1, -1])).tolist() == [0b00, 0b01, 0b11]
    assert t.decode(np.array([0b00, 0b01, 0b11])).tolist() == [0, 1, -1]
    b = weight_format(1)
    assert b.encode(np.array([1, -1])).tolist() == [0, 1]
    assert b.decode(np.array([0, 1])).tolist() == [1, -1]


def test_illegal_ternary_pattern_raises():
    t = weight_format(2)
    with pytest.raises(ArithmeticError_, match=r"^ternary bit pattern 10 is illegal$"):
        t.decode(np.array([0, 1, 2, 3]))


@pytest.mark.parametrize(
    "bits, pattern", [(2, 4), (2, -1), (1, 2), (1, -1), (4, 16), (8, 256), (16, 1 << 16), (16, -1)]
)
def test_pattern_out_of_range_raises(bits, pattern):
    with pytest.raises(ArithmeticError_, match="bit pattern out of range"):
        weight_format(bits).decode(np.array([pattern]))


@pytest.mark.parametrize(
    "bits, code", [(2, 2), (2, -2), (1, 0), (1, 2), (4, 8), (4, -9), (8, 128), (8, -129), (16, 32768)]
)
def test_bad_codes_raise(bits, code):
    f = weight_format(bits)
    with pytest.raises(ArithmeticError_, match=f"value {code} is not a legal {f.name} code"):
        f.encode(np.array([0 if bits > 1 else 1, code, code]))
    with pytest.raises(ArithmeticError_, match="2 bad value"):
        f.check_codes(np.array([code, code]))


def test_float_codes_raise():
    with pytest.raises(ArithmeticError_, match="must be integers"):
        weight_format(8).check_codes(np.array([1.0, 2.0]))
    weight_format(8).check_codes(np.array([], dtype=np.int64))


@pytest.mark.parametrize("bad", [3, 0, 32, -1, 2.5, "8", None, True])
def test_weight_format_rejects_other_widths(bad):
    with pytest.raises(ValueError, match=r"allowed are 16, 8, 4, 2 \(ternary\), 1 \(binary\)") as e:
        weight_format(bad)
    assert repr(bad) in str(e.value)


@pytest.mark.parametrize("bits", SUPPORTED_BITS)
def test_encode_decode_narrow_dtypes_give_int64(bits):
    """Codes in int8/int16 and patterns in uint8/uint16 arrays: the results are int64 and exact."""
    f = weight_format(bits)
    codes = np.array([f.qmin if bits > 1 else -1, -1, 1, f.qmax], dtype=np.int16 if bits == 16 else np.int8)
    pat = f.encode(codes)
    assert pat.dtype == np.int64
    mask = (1 << f.code_width) - 1
    expect = [1, 1, 0, 0] if bits == 1 else [int(c) & mask for c in codes.tolist()]
    assert pat.tolist() == expect
    back = f.decode(np.array(expect, dtype=np.uint16 if bits == 16 else np.uint8))
    assert back.dtype == np.int64 and back.tolist() == codes.tolist()


def test_quant_qmax_each_format():
    assert [quant_qmax(b) for b in (16, 8, 4, 2, 1)] == [32767, 127, 7, 1, 1]


@pytest.mark.parametrize(
    "bits, code, rng",
    [
        (1, 0, "-1 or +1"),
        (2, 5, "-1, 0 or +1"),
        (4, 8, "-8..7"),
        (8, -129, "-128..127"),
        (16, 32768, "-32768..32767"),
    ],
)
def test_check_codes_full_message_single_value(bits, code, rng):
    f = weight_format(bits)
    msg = rf"^weight codes: value {code} is not a legal {f.name} code \({re.escape(rng)}\); 1 bad value\(s\)$"
    with pytest.raises(ArithmeticError_, match=msg):
        f.check_codes(np.array([code]))
    with pytest.raises(ArithmeticError_, match=r"^weight codes must be integers, got dtype bool$"):
        f.check_codes(np.array([True]))
