"""icespike.fixed: cross-checked against fxpmath, and property-tested against exact rational math."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from fxpmath import Fxp
from hypothesis import assume, given
from hypothesis import strategies as st

from icespike import fixed
from icespike.fixed import ArithmeticError_

RNG_SEED = 20240601
N_RANDOM = 20_000

# fxpmath's names for the contract's rounding rules (its 'around' is half to even and its
# default 'trunc' rounds toward zero: neither is on the hardware path).
FXP_FLOOR = "floor"
FXP_HALF_UP = "nearest_posinf"  # alias 'SC_RND': ties toward +inf


def fxp_int(values: np.ndarray, *, n_word: int, rounding: str = "trunc", overflow: str = "saturate"):
    """Raw integer of fxpmath's signed n_word-bit, 0-fraction-bit conversion of ``values``."""
    f = Fxp(values, signed=True, n_word=n_word, n_frac=0, rounding=rounding, overflow=overflow)
    return np.asarray(f.val, dtype=np.int64)


def wide_ints(rng, n, bits=40):
    """Random int64 values spread over many magnitudes (both signs, small and large)."""
    mag = rng.integers(0, bits, size=n)
    return (rng.integers(-(1 << 62), 1 << 62, size=n, dtype=np.int64) >> (62 - mag)).astype(np.int64)


# ------------------------------------------------------------------------------- fxpmath cross-checks
@pytest.mark.parametrize("width", [2, 4, 8, 13, 16, 21, 28, 36])
def test_saturate_matches_fxpmath(width):
    rng = np.random.default_rng(RNG_SEED + width)
    x = wide_ints(rng, N_RANDOM, bits=width + 6)
    expect = fxp_int(x.astype(np.float64), n_word=width, overflow="saturate")
    got = fixed.saturate(x, width)
    assert np.array_equal(got, expect), f"{int((got != expect).sum())} of {x.size} differ"
    lo, hi = fixed.signed_range(width)
    # the random set reaches both ends, so the comparison covers both saturation directions
    assert (got == lo).any() and (got == hi).any() and ((got > lo) & (got < hi)).any()


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4, 7, 8, 12])
def test_floor_shift_matches_fxpmath_floor(k):
    rng = np.random.default_rng(RNG_SEED + 100 + k)
    x = wide_ints(rng, N_RANDOM, bits=44)
    expect = fxp_int(x.astype(np.float64) / 2.0**k, n_word=48, rounding=FXP_FLOOR)
    got = fixed.floor_shift(x, k)
    assert np.array_equal(got, expect), f"{int((got != expect).sum())} of {x.size} differ"


@pytest.mark.parametrize("k", [1, 2, 3, 4, 7, 8, 12])
def test_round_half_up_shift_matches_fxpmath_nearest_posinf(k):
    rng = np.random.default_rng(RNG_SEED + 200 + k)
    x = wide_ints(rng, N_RANDOM, bits=44)
    # add exact halves of both signs so the tie rule is exercised
    halves = (rng.integers(-(1 << 20), 1 << 20, size=2000, dtype=np.int64) << k) + (1 << (k - 1))
    x = np.concatenate([x, halves])
    expect = fxp_int(x.astype(np.float64) / 2.0**k, n_word=48, rounding=FXP_HALF_UP)
    got = fixed.round_half_up_shift(x, k)
    assert np.array_equal(got, expect), f"{int((got != expect).sum())} of {x.size} differ"
    # fxpmath's 'around' (half to even) is a different rule: it must disagree on some halves
    even = fxp_int(halves.astype(np.float64) / 2.0**k, n_word=48, rounding="around")
    assert (even != fixed.round_half_up_shift(halves, k)).any()


def test_leak_matches_fxpmath():
    rng = np.random.default_rng(RNG_SEED + 300)
    v = wide_ints(rng, N_RANDOM, bits=36)
    for k in (1, 2, 4, 6):
        expect = v - fxp_int(v.astype(np.float64) / 2.0**k, n_word=48, rounding=FXP_FLOOR)
        assert np.array_equal(fixed.leak(v, k), expect)
    assert np.array_equal(fixed.leak(v, 0), v)


def test_q88_mac_matches_fxpmath():
    """mac(shift=8, width=16) is fxpmath's Q8.8 product (rounded half up) added to a saturating Q8.8 acc."""
    rng = np.random.default_rng(RNG_SEED + 400)
    n = N_RANDOM
    acc = rng.integers(-32768, 32768, size=n, dtype=np.int64)
    a = rng.integers(-32768, 32768, size=n, dtype=np.int64)
    b = rng.integers(-32768, 32768, size=n, dtype=np.int64)
    # small operands too, so that many sums stay inside the range
    a[: n // 2] >>= 6
    b[: n // 2] >>= 6
    prod = Fxp((a * b).astype(np.float64) / 2.0**16, signed=True, n_word=40, n_frac=8, rounding=FXP_HALF_UP)
    total = Fxp(
        acc.astype(np.float64) / 256.0 + prod.get_val(), signed=True, n_word=16, n_frac=8, overflow="saturate"
    )
    expect = np.asarray(total.val, dtype=np.int64)
    got = fixed.mac(acc, a, b, shift=8, width=16)
    assert np.array_equal(got, expect), f"{int((got != expect).sum())} of {n} differ"
    assert (got == 32767).any() and (got == -32768).any()


# ------------------------------------------------------------------------------- properties
widths = st.integers(min_value=1, max_value=62)


@given(x=st.integers(min_value=-(1 << 62), max_value=(1 << 62) - 1), width=widths)
def test_saturate_is_clamp_and_never_wraps(x, width):
    lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
    y = fixed.saturate(x, width)
    assert isinstance(y, int)
    assert y == min(max(x, lo), hi)
    assert lo <= y <= hi
    # never wraps: the sign survives (a positive value never comes back negative, and vice versa)
    assert (y > 0) == (x > 0) or y == 0
    assert (y < 0) == (x < 0)
    if lo <= x <= hi:
        assert y == x


@given(x=st.integers(min_value=-(1 << 60), max_value=1 << 60), k=st.integers(min_value=0, max_value=40))
def test_floor_shift_is_floor_division(x, k):
    assert fixed.floor_shift(x, k) == math.floor(Fraction(x, 1 << k))


@given(x=st.integers(min_value=-(1 << 60), max_value=1 << 60), k=st.integers(min_value=0, max_value=40))
def test_round_half_up_shift_is_floor_plus_half(x, k):
    assert fixed.round_half_up_shift(x, k) == math.floor(Fraction(x, 1 << k) + Fraction(1, 2))


@given(q=st.integers(min_value=-(1 << 40), max_value=1 << 40), k=st.integers(min_value=1, max_value=16))
def test_round_half_up_shift_ties_go_up(q, k):
    x = (q << k) + (1 << (k - 1))  # exactly q + 1/2
    assert fixed.round_half_up_shift(x, k) == q + 1


def test_directed_rounding_values():
    # -2.5 -> -2, -3.5 -> -3, 2.5 -> 3, -0.5 -> 0 (half up); floor: -2.5 -> -3, -0.5 -> -1
    assert [fixed.round_half_up_shift(v, 1) for v in (-5, -7, 5, -1, 1)] == [-2, -3, 3, 0, 1]
    assert [fixed.floor_shift(v, 1) for v in (-5, -7, 5, -1, 1)] == [-3, -4, 2, -1, 0]
    assert fixed.floor_shift(-1, 20) == -1 and fixed.floor_shift(1, 20) == 0
    assert fixed.round_half_up_shift(-1 << 7, 8) == 0 and fixed.round_half_up_shift((-1 << 7) - 1, 8) == -1
    assert (
        fixed.round_half_up(-2.5) == -2 and fixed.round_half_up(2.5) == 3 and fixed.round_half_up(0.49) == 0
    )
    assert np.array_equal(fixed.round_half_up(np.array([-0.5, 0.5, 1.5])), [0, 1, 2])
    arr = fixed.floor_shift(np.array([-5, 5]), 1)
    assert isinstance(arr, np.ndarray) and arr.dtype == np.int64


@given(width=widths, data=st.data())
def test_twos_round_trip(width, data):
    lo, hi = fixed.signed_range(width)
    x = data.draw(st.integers(min_value=lo, max_value=hi))
    p = fixed.to_twos(x, width)
    assert 0 <= p < (1 << width)
    assert fixed.from_twos(p, width) == x
    assert (p >> (width - 1)) == (1 if x < 0 else 0)  # the top bit is the sign
    q = data.draw(st.integers(min_value=0, max_value=(1 << width) - 1))
    assert fixed.to_twos(fixed.from_twos(q, width), width) == q


def test_twos_arrays_and_range_errors():
    x = np.arange(-128, 128, dtype=np.int64)
    p = fixed.to_twos(x, 8)
    assert np.array_equal(p, np.where(x < 0, x + 256, x))
    assert np.array_equal(fixed.from_twos(p, 8), x)
    with pytest.raises(ArithmeticError_):
        fixed.to_twos(128, 8)
    with pytest.raises(ArithmeticError_):
        fixed.to_twos(-129, 8)
    with pytest.raises(ArithmeticError_):
        fixed.from_twos(256, 8)
    with pytest.raises(ArithmeticError_):
        fixed.from_twos(-1, 8)


@given(m=st.integers(min_value=0, max_value=(1 << 61)))
def test_signed_width_is_minimal(m):
    w = fixed.signed_width(m)
    lo, hi = fixed.signed_range(w)
    assert lo <= -m and m <= hi
    if w > 1:
        assert m > fixed.signed_range(w - 1)[1]


# ------------------------------------------------------------------------------- LIF step
@st.composite
def lif_case(draw):
    mem_width = draw(st.integers(min_value=2, max_value=40))
    lo, hi = fixed.signed_range(mem_width)
    v = draw(st.integers(min_value=lo, max_value=hi))
    current = draw(st.integers(min_value=4 * lo, max_value=4 * hi))
    threshold = draw(st.integers(min_value=1, max_value=hi))
    leak_shift = draw(st.integers(min_value=0, max_value=mem_width - 1))
    return v, current, threshold, leak_shift, mem_width


@given(case=lif_case(), reset=st.sampled_from(["subtract", "zero"]))
def test_lif_step_stays_in_range_and_resets(case, reset):
    v, current, threshold, k, mw = case
    lo, hi = fixed.signed_range(mw)
    v3, spike = fixed.lif_step(v, current, threshold, leak_shift=k, mem_width=mw, reset=reset)
    assert lo <= v3 <= hi
    assert spike in (0, 1)
    v1 = v - math.floor(Fraction(v, 1 << k)) if k else v
    v2 = min(max(v1 + current, lo), hi)
    assert spike == (v2 >= threshold)
    if spike == 0:
        assert v3 == v2 < threshold
    elif reset == "subtract":
        assert v3 == v2 - threshold and 0 <= v3 <= hi - threshold
    else:
        assert v3 == 0


@given(case=lif_case())
def test_leak_moves_toward_zero(case):
    v, _, _, k, _ = case
    v1 = fixed.leak(v, k)
    assert min(v, 0) <= v1 <= max(v, 0)


def test_lif_step_saturates_at_both_ends():
    mw = 8
    # positive saturation: 0 + 1000 -> 127, fires, subtract 100 -> 27 (not 900)
    assert fixed.lif_step(0, 1000, 100, leak_shift=0, mem_width=mw, reset="subtract") == (27, 1)
    assert fixed.lif_step(0, 1000, 100, leak_shift=0, mem_width=mw, reset="zero") == (0, 1)
    # negative saturation: stays at -128, never wraps to a positive membrane
    v = 0
    for _ in range(5):
        v, s = fixed.lif_step(v, -1000, 100, leak_shift=0, mem_width=mw, reset="subtract")
        assert (v, s) == (-128, 0)
    # leak of -128 by 2: -128 - (-32) = -96, plus -1000 -> -128
    assert fixed.lif_step(-128, -1000, 5, leak_shift=2, mem_width=mw, reset="zero") == (-128, 0)
    # threshold equal to the maximum fires exactly at saturation
    assert fixed.lif_step(0, 500, 127, leak_shift=0, mem_width=mw, reset="subtract") == (0, 1)
    assert fixed.lif_step(0, 126, 127, leak_shift=0, mem_width=mw, reset="subtract") == (126, 0)


def test_lif_step_vector_equals_scalar():
    rng = np.random.default_rng(RNG_SEED + 500)
    mw = 12
    lo, hi = fixed.signed_range(mw)
    v = rng.integers(lo, hi + 1, size=500, dtype=np.int64)
    cur = rng.integers(4 * lo, 4 * hi, size=500, dtype=np.int64)
    th = rng.integers(1, hi + 1, size=500, dtype=np.int64)
    for reset in ("subtract", "zero"):
        for k in (0, 3):
            vv, ss = fixed.lif_step(v, cur, th, leak_shift=k, mem_width=mw, reset=reset)
            for i in range(0, 500, 7):
                assert (int(vv[i]), int(ss[i])) == fixed.lif_step(
                    int(v[i]), int(cur[i]), int(th[i]), leak_shift=k, mem_width=mw, reset=reset
                )


def test_lif_step_rejects_bad_arguments():
    with pytest.raises(ValueError, match="reset"):
        fixed.lif_step(0, 1, 1, leak_shift=0, mem_width=8, reset="hold")
    with pytest.raises(ArithmeticError_, match="membrane"):
        fixed.lif_step(128, 1, 1, leak_shift=0, mem_width=8, reset="zero")
    with pytest.raises(ArithmeticError_, match="threshold"):
        fixed.lif_step(0, 1, 0, leak_shift=0, mem_width=8, reset="zero")
    with pytest.raises(ArithmeticError_, match="threshold"):
        fixed.lif_step(0, 1, 128, leak_shift=0, mem_width=8, reset="zero")
    with pytest.raises(TypeError, match="integer"):
        fixed.lif_step(np.array([0.5]), 1, 1, leak_shift=0, mem_width=8, reset="zero")


# ------------------------------------------------------------------------------- MAC and accumulators
def test_mac_saturates_at_both_ends():
    # Q8.8: 127.99... + 1.0 * 1.0 stays at the top; -128 + (-1.0 * 1.0) stays at the bottom
    assert fixed.mac(32767, 256, 256, shift=8, width=16) == 32767
    assert fixed.mac(32000, 32767, 32767, shift=8, width=16) == 32767
    assert fixed.mac(-32768, -256, 256, shift=8, width=16) == -32768
    assert fixed.mac(-32000, -32768, 32767, shift=8, width=16) == -32768
    # negative product halves round up: -0.5 LSB -> 0, -1.5 LSB -> -1
    assert fixed.mac(0, -128, 1, shift=8, width=16) == 0
    assert fixed.mac(0, -384, 1, shift=8, width=16) == -1
    assert fixed.mac(0, 384, 1, shift=8, width=16) == 2
    # shift 0: exact product
    assert fixed.mac(5, -7, 9, width=16) == 5 - 63


@given(
    acc=st.integers(min_value=-32768, max_value=32767),
    a=st.integers(min_value=-32768, max_value=32767),
    b=st.integers(min_value=-32768, max_value=32767),
)
def test_mac_q88_exact(acc, a, b):
    r = fixed.mac(acc, a, b, shift=8, width=16)
    exact = acc + math.floor(Fraction(a * b, 256) + Fraction(1, 2))
    assert r == min(max(exact, -32768), 32767)


def test_ternary_and_binary_accumulate():
    assert fixed.ternary_accumulate(10, 7, 1, width=8) == 17
    assert fixed.ternary_accumulate(10, 7, -1, width=8) == 3
    assert fixed.ternary_accumulate(10, 7, 0, width=8) == 10
    assert fixed.ternary_accumulate(120, 100, 1, width=8) == 127
    assert fixed.ternary_accumulate(-120, 100, -1, width=8) == -128
    assert fixed.binary_accumulate(0, 5, -1, width=8) == -5
    with pytest.raises(ArithmeticError_, match="ternary code"):
        fixed.ternary_accumulate(0, 1, 2, width=8)
    with pytest.raises(ArithmeticError_, match="binary code"):
        fixed.binary_accumulate(0, 1, 0, width=8)
    with pytest.raises(ArithmeticError_, match="accumulator"):
        fixed.ternary_accumulate(120, 100, 1, width=8, saturating=False)
    acc = np.array([0, 126, -127])
    assert np.array_equal(
        fixed.ternary_accumulate(acc, np.array([3, 3, 3]), np.array([1, 1, -1]), width=8), [3, 127, -128]
    )


# ------------------------------------------------------------------------------- width checks
def test_width_checks_raise():
    for bad in (0, 64, -3):
        with pytest.raises(ValueError, match="width"):
            fixed.signed_range(bad)
        with pytest.raises(ValueError, match="width"):
            fixed.unsigned_range(bad)
    with pytest.raises(
        ArithmeticError_, match=r"layer 0 current out of the signed 8-bit range \[-128, 127\]"
    ):
        fixed.check_signed(np.array([0, 200]), 8, "layer 0 current")
    with pytest.raises(ArithmeticError_, match="min -1"):
        fixed.check_unsigned(np.array([-1, 3]), 8, "pixel")
    fixed.check_signed(np.array([-128, 127]), 8)
    fixed.check_unsigned(np.array([0, 255]), 8)
    fixed.check_signed(np.array([], dtype=np.int64), 8)
    with pytest.raises(ValueError, match="shift"):
        fixed.floor_shift(3, -1)
    with pytest.raises(ValueError, match="shift"):
        fixed.round_half_up_shift(3, -1)
    with pytest.raises(ValueError):
        fixed.signed_width(-1)
    with pytest.raises(TypeError, match="integer array expected"):
        fixed.saturate(np.array([1.5]), 8)
    with pytest.raises(ArithmeticError_, match="uint64"):
        fixed.saturate(np.array([1 << 63], dtype=np.uint64), 8)
    with pytest.raises(ArithmeticError_, match="NaN"):
        fixed.round_half_up(float("nan"))
    assert np.array_equal(fixed.saturate(np.array([True, False]), 2), [1, 0])


@given(x=st.integers(min_value=-(1 << 40), max_value=1 << 40), width=st.integers(min_value=2, max_value=40))
def test_check_signed_agrees_with_range(x, width):
    lo, hi = fixed.signed_range(width)
    assume(x != 0)
    if lo <= x <= hi:
        fixed.check_signed(x, width)
    else:
        with pytest.raises(ArithmeticError_):
            fixed.check_signed(x, width)


# ------------------------------------------------------------------------------------ return types and messages
SCALAR_FUNCS = [
    (lambda x: fixed.saturate(x, 8), 300, 127),
    (lambda x: fixed.floor_shift(x, 2), -7, -2),
    (lambda x: fixed.round_half_up_shift(x, 2), -6, -1),
    (lambda x: fixed.to_twos(x, 8), -1, 255),
    (lambda x: fixed.from_twos(x, 8), 255, -1),
    (lambda x: fixed.leak(x, 2), -7, -5),
    (lambda x: fixed.mac(x, 3, 4, width=8), 120, 127),
    (lambda x: fixed.ternary_accumulate(x, 200, -1, width=8), -100, -128),
    (lambda x: fixed.binary_accumulate(x, 50, 1, width=8), 100, 127),
]


@pytest.mark.parametrize("i", range(len(SCALAR_FUNCS)))
def test_scalars_give_int_and_arrays_give_int64_arrays(i):
    """A Python or numpy scalar in gives a Python int out; an ndarray gives int64 numpy values (0-d: a numpy scalar)."""
    f, x, expect = SCALAR_FUNCS[i]
    for arg in (x, np.int64(x), np.int32(x)):
        got = f(arg)
        assert type(got) is int and got == expect
    if i < 6:  # the single-operand functions keep numpy's type for a 0-d array
        got = f(np.array(x))
        assert type(got) is not int and got.dtype == np.int64 and got.shape == () and int(got) == expect
    got = f(np.array([x, x]))
    assert isinstance(got, np.ndarray) and got.dtype == np.int64 and got.tolist() == [expect, expect]


@pytest.mark.parametrize("i", range(len(SCALAR_FUNCS)))
def test_lists_give_int64_arrays(i):
    """A list is an array, not a scalar: int64 values out, never a conversion to int."""
    f, x, expect = SCALAR_FUNCS[i]
    got = f([x, x, x])
    assert isinstance(got, np.ndarray) and got.dtype == np.int64 and got.tolist() == [expect] * 3


def test_lif_step_lists_and_0d_arrays_stay_arrays():
    kw = dict(leak_shift=1, mem_width=8, reset="subtract")
    v, s = fixed.lif_step([10, 8], [15, 15], 20, **kw)
    assert isinstance(v, np.ndarray) and isinstance(s, np.ndarray)
    assert v.tolist() == [0, 19] and s.tolist() == [1, 0]
    v, s = fixed.lif_step(np.array(10), 15, 20, **kw)
    assert type(v) is not int and type(s) is not int and v.shape == () and s.shape == ()
    assert (int(v), int(s)) == (0, 1)


def test_accumulate_without_saturation_returns_the_sum():
    got = fixed.ternary_accumulate(100, 27, 1, width=8, saturating=False)
    assert type(got) is int and got == 127  # the largest value that fits: no error, no clamp
    got = fixed.ternary_accumulate(np.int64(-100), 28, -1, width=8, saturating=False)
    assert type(got) is int and got == -128
    got = fixed.binary_accumulate(np.array([1, 2]), 3, np.array([1, -1]), width=8, saturating=False)
    assert got.dtype == np.int64 and got.tolist() == [4, -1]


def test_round_half_up_adds_the_half_in_float64():
    """floor(x + 0.5) in float64 whatever the input's float type: 0.49999997f + 0.5f rounds to 1.0 in float32."""
    x = np.float32(0.49999997)
    assert np.floor(x + np.float32(0.5)) == 1.0  # the float32 sum would give the wrong answer
    assert fixed.round_half_up(x) == 0
    assert fixed.round_half_up(np.array([x, -x], dtype=np.float32)).tolist() == [0, 0]


def test_int64_input_is_not_copied():
    """The golden model range-checks whole batches: an int64 array passes through as it is."""
    a = np.arange(5, dtype=np.int64)
    assert fixed._as_i64(a) is a
    b = np.array([True, False])
    assert fixed._as_i64(b).dtype == np.int64 and fixed._as_i64(b).tolist() == [1, 0]


def test_round_half_up_types_and_values():
    assert type(fixed.round_half_up(2.5)) is int and fixed.round_half_up(2.5) == 3
    assert (
        fixed.round_half_up(-2.5) == -2 and fixed.round_half_up(-0.5) == 0 and fixed.round_half_up(0.49) == 0
    )
    a = fixed.round_half_up(np.array([0.5, -1.5, 7.0]))
    assert a.dtype == np.int64 and a.tolist() == [1, -1, 7]
    with pytest.raises(ArithmeticError_, match=r"^cannot round NaN or infinity$"):
        fixed.round_half_up(np.array([1.0, np.inf]))


def test_as_i64_and_range_messages():
    got = fixed.saturate(np.array([True, False]), 4)
    assert got.dtype == np.int64 and got.tolist() == [1, 0]
    assert fixed.saturate(np.array([3], dtype=np.uint64), 4).dtype == np.int64
    big = np.array([np.iinfo(np.int64).max], dtype=np.uint64)
    assert fixed.floor_shift(big, 0).tolist() == [np.iinfo(np.int64).max]  # the largest uint64 that fits
    with pytest.raises(ArithmeticError_, match=r"^uint64 value does not fit int64$"):
        fixed.saturate(big + np.uint64(1), 8)
    with pytest.raises(TypeError, match=r"^integer array expected, got dtype float64$"):
        fixed.saturate(np.array([1.0]), 8)
    assert fixed.signed_range(1) == (-1, 0) and fixed.signed_range(63) == (-(1 << 62), (1 << 62) - 1)
    assert fixed.unsigned_range(1) == (0, 1) and fixed.unsigned_range(63) == (0, (1 << 63) - 1)
    for w in (0, 64):
        with pytest.raises(ValueError, match=rf"^signed width must be 1\.\.63, got {w}$"):
            fixed.signed_range(w)
        with pytest.raises(ValueError, match=rf"^unsigned width must be 1\.\.63, got {w}$"):
            fixed.unsigned_range(w)
    with pytest.raises(ValueError, match=r"^max_abs must be >= 0$"):
        fixed.signed_width(-1)
    assert [fixed.signed_width(m) for m in (0, 1, 2, 127, 128, 255, 256)] == [1, 2, 3, 8, 9, 9, 10]
    for f in (fixed.floor_shift, fixed.round_half_up_shift):
        with pytest.raises(ValueError, match=r"^shift must be >= 0$"):
            f(4, -1)
        assert f(5, 0) == 5
    with pytest.raises(
        ArithmeticError_, match=r"^value out of the signed 4-bit range \[-8, 7\]: min -9, max 3$"
    ):
        fixed.check_signed(np.array([-9, 3]), 4)
    with pytest.raises(
        ArithmeticError_, match=r"^value out of the unsigned 4-bit range \[0, 15\]: min 2, max 16$"
    ):
        fixed.check_unsigned(np.array([2, 16]), 4)
    fixed.check_signed(np.array([], dtype=np.int64), 4)
    fixed.check_unsigned(np.array([], dtype=np.int64), 4)


def test_lif_step_types_and_messages():
    v, s = fixed.lif_step(10, 15, 20, leak_shift=1, mem_width=8, reset="subtract")
    assert (type(v), type(s), v, s) == (int, int, 0, 1)  # 10 - 5 + 15 = 20 >= 20: fires, subtracts
    v, s = fixed.lif_step(np.int64(10), 15, 20, leak_shift=1, mem_width=8, reset="zero")
    assert (type(v), type(s), v, s) == (int, int, 0, 1)
    va, sa = fixed.lif_step(
        np.array([10, 8]), np.array([15, 15]), 20, leak_shift=1, mem_width=8, reset="subtract"
    )
    assert va.dtype == np.int64 and sa.dtype == np.int64 and va.tolist() == [0, 19] and sa.tolist() == [1, 0]
    with pytest.raises(
        ArithmeticError_, match=r"^membrane out of the signed 8-bit range \[-128, 127\]: min 200, max 200$"
    ):
        fixed.lif_step(200, 0, 20, leak_shift=1, mem_width=8, reset="subtract")
    with pytest.raises(ValueError, match=r"^reset must be 'subtract' or 'zero', got 'hold'$"):
        fixed.lif_step(0, 0, 20, leak_shift=1, mem_width=8, reset="hold")
    with pytest.raises(ArithmeticError_, match=r"^threshold must be in \[1, 127\]$"):
        fixed.lif_step(0, 0, 128, leak_shift=1, mem_width=8, reset="subtract")


def test_accumulate_codes_and_messages():
    assert fixed.ternary_accumulate(0, 5, -1, width=8) == -5
    with pytest.raises(ArithmeticError_, match=r"^ternary code must be -1, 0 or \+1$"):
        fixed.ternary_accumulate(0, 5, -2, width=8)
    with pytest.raises(ArithmeticError_, match=r"^ternary code must be -1, 0 or \+1$"):
        fixed.ternary_accumulate(0, 5, 2, width=8)
    with pytest.raises(ArithmeticError_, match=r"^binary code must be -1 or \+1$"):
        fixed.binary_accumulate(0, 5, 2, width=8)
    with pytest.raises(ArithmeticError_, match=r"^binary code must be -1 or \+1$"):
        fixed.binary_accumulate(0, 5, 0, width=8)
    assert fixed.binary_accumulate(100, 50, 1, width=8) == 127  # saturating by default
    with pytest.raises(ArithmeticError_, match=r"^ternary accumulator out of the signed 8-bit range"):
        fixed.binary_accumulate(100, 50, 1, width=8, saturating=False)
    assert fixed.binary_accumulate(np.array([1, 2]), 3, np.array([1, -1]), width=8).tolist() == [4, -1]
