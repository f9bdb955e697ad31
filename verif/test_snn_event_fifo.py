"""snn_event_fifo: zero skip, complete-image count and replay, against the images themselves.

Images (random pixels, about 70 % zeros, some with a nonzero last pixel) stream in with random
gaps. A reader does what snn_engine does: when ``img_ready`` is high it passes over the image
``PASSES`` times (``rewind``, then ``rd`` every cycle, or with random pauses, until ``e_last``;
the last pass with ``release_pass``), and every pass must return exactly the image's entries
in order: each nonzero pixel as (index, pixel), and the last pixel (even when 0) with
``last = 1``; the entry count per image is ``icespike.rtlsim.nnz_pixels`` plus the zero last
pixel, as the cycle model counts it. A full FIFO (``DEPTH == N_IN``) must refuse pixels
(``s_ready`` low) without losing any, and ``img_ready`` must equal, in every cycle, whether a
complete image is held: it rises the third cycle after an image's last pixel is accepted and
falls the cycle after the last entry of the last image held appears in its release pass.
"""

from __future__ import annotations

import random

import cocotb
import numpy as np
import pytest
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge
from cocotb.utils import get_sim_time

import mutants
from icespike import rtlsim
from simrun import Mismatches, matrix, read_unsigned, rtl, run, start_clock, tb_params, tb_seed

PASSES = 3


def images(rng: np.random.Generator, n: int, n_in: int) -> np.ndarray:
    x = rng.integers(1, 256, size=(n, n_in))
    x[rng.random((n, n_in)) < 0.7] = 0
    x[::3, -1] = rng.integers(1, 256, size=len(x[::3]))  # every third image ends nonzero
    return x


def expected_entries(img: np.ndarray) -> list[tuple[int, int, int]]:
    """(last, pixel, index) of the image's FIFO entries."""
    n_in = len(img)
    out = [(int(i == n_in - 1), int(img[i]), int(i)) for i in range(n_in) if img[i] != 0 or i == n_in - 1]
    want = int(rtlsim.nnz_pixels(img[None])[0] + (img[-1] == 0))
    assert len(out) == want
    return out


@cocotb.test()
async def replay(dut):
    p = tb_params()
    n_in = int(p["N_IN"])
    rs = random.Random(tb_seed())
    x = images(np.random.default_rng(tb_seed()), 12, n_in)
    mm = Mismatches(f"snn_event_fifo {p}")
    await start_clock(dut)
    dut.rst.value = 1
    for s in ("s_valid", "s_data", "rd", "rewind", "release_pass"):
        getattr(dut, s).value = 0
    for _ in range(2):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    flat = [int(v) for v in x.reshape(-1)]
    sent = 0
    complete = 0  # images whose last pixel has been accepted
    refused = 0

    async def writer():
        nonlocal sent, complete, refused
        while sent < len(flat):
            await FallingEdge(dut.clk)
            v = 1 if rs.random() < 0.8 else 0
            dut.s_valid.value = v
            dut.s_data.value = flat[sent]
            await RisingEdge(dut.clk)
            if v and dut.s_ready.value == 1:
                sent += 1
                if sent % n_in == 0:
                    complete += 1
            elif v:
                refused += 1
        await FallingEdge(dut.clk)
        dut.s_valid.value = 0

    flag_errors: list[str] = []

    async def flag_monitor():
        """img_ready, every cycle, = (complete images held != 0): an image counts from the
        third cycle after the cycle its last pixel is accepted (written one cycle later, counted
        the next), and stops counting the cycle after its last entry appears in the release pass."""
        accepted = 0
        held = 0
        arriving = [0, 0, 0]  # images counted 1, 2, 3 cycles from now
        leaving = 0  # images counted off from the next cycle
        while sent < len(flat) or held or any(arriving):
            # mid-cycle, after the inputs of the next edge are driven: one cycle's values
            await FallingEdge(dut.clk)
            await ReadOnly()
            held += arriving.pop(0) - leaving
            arriving.append(0)
            flag = read_unsigned(dut.img_ready)
            if flag != int(held != 0) and len(flag_errors) < 8:
                flag_errors.append(f"{get_sim_time('ns')} ns: {held} complete images held, img_ready {flag}")
            if dut.s_valid.value == 1 and dut.s_ready.value == 1:
                accepted += 1
                arriving[2] += int(accepted % n_in == 0)
            leaving = int(dut.e_valid.value == 1 and dut.e_last.value == 1 and dut.release_pass.value == 1)

    cocotb.start_soon(writer())
    cocotb.start_soon(flag_monitor())
    for k in range(len(x)):
        want = expected_entries(x[k])
        for _ in range(20 * n_in):
            await RisingEdge(dut.clk)
            if dut.img_ready.value == 1:
                break
        else:
            mm.check(k, f"image {k} announced (img_ready)", False, True)
            break
        mm.check(k, f"image {k} announced after its last pixel", complete > k, True)
        for ps in range(PASSES):
            await FallingEdge(dut.clk)
            dut.rewind.value = 1
            dut.release_pass.value = int(ps == PASSES - 1)
            await FallingEdge(dut.clk)
            dut.rewind.value = 0
            got = []
            while True:
                # rd continuously, or with pauses in the odd passes
                dut.rd.value = 1 if (ps % 2 == 0 or rs.random() < 0.6) else 0
                await RisingEdge(dut.clk)
                await FallingEdge(dut.clk)
                if dut.e_valid.value == 1:
                    e = (read_unsigned(dut.e_last), read_unsigned(dut.e_pix), read_unsigned(dut.e_idx))
                    got.append(e)
                    if e[0] == 1:
                        break
                if len(got) > n_in:
                    break
            dut.rd.value = 0
            mm.check(k, f"image {k} pass {ps} entries", got, want)
            await FallingEdge(dut.clk)
            mm.check(k, f"image {k} pass {ps}: nothing after the last entry", read_unsigned(dut.e_valid), 0)
        await FallingEdge(dut.clk)
        dut.release_pass.value = 0
    mm.check(-1, "pixels accepted", sent, len(flat))
    mm.check(-1, "img_ready against the complete images held", flag_errors, [])
    # Every image released: the FIFO is empty again, so an image of DEPTH entries (every
    # pixel nonzero) must go in whole. A count that drifted (a write and a release in one
    # cycle miscounted) keeps it from ever accepting the last ones. The not-full flag may
    # drop a cycle early next to full, so each pixel gets a few cycles.
    depth = int(p["DEPTH"])
    taken = 0
    for _ in range(3 * depth):
        await FallingEdge(dut.clk)
        dut.s_valid.value = 1
        dut.s_data.value = 1 + taken % 255
        await RisingEdge(dut.clk)
        taken += int(dut.s_ready.value == 1)
        if taken == depth:
            break
    # Full now, nothing is read: one pixel more must be refused (a flag that falls one write
    # late takes it and overwrites the oldest entry).
    await FallingEdge(dut.clk)
    dut.s_data.value = 1
    await RisingEdge(dut.clk)
    over = int(dut.s_ready.value == 1)
    await FallingEdge(dut.clk)
    dut.s_valid.value = 0
    mm.check(-1, f"entries the emptied FIFO takes (of {depth})", taken, depth)
    mm.check(-1, "a pixel offered to the full FIFO is refused", over, 0)
    if int(p["DEPTH"]) == n_in:
        mm.check(-1, "a full FIFO refused pixels", refused > 0, True)
    mm.assert_none()


PARAM_SETS = {
    "n12_d16": {"N_IN": 12, "DEPTH": 16},
    "n16_d16": {"N_IN": 16, "DEPTH": 16},  # exactly one image fits: the FIFO fills
    "n784_d1024": {"N_IN": 784, "DEPTH": 1024},
}


@pytest.mark.parametrize(
    "sim,tier,name,params",
    matrix(PARAM_SETS, fast=["n12_d16", "n16_d16"], fast_verilator=[]),
)
def test_snn_event_fifo(sim, tier, name, params):
    run("snn_event_fifo", rtl("snn_event_fifo", "ram_sdp"), "test_snn_event_fifo", sim=sim, parameters=params)


@pytest.mark.icarus
def test_snn_event_fifo_catches_injected_bug():
    """The test fails when the FIFO frees an image's entries on every pass (no replay)."""
    res = run(
        "snn_event_fifo",
        mutants.sources("fifo_free_every_pass", "snn_event_fifo", "ram_sdp"),
        "test_snn_event_fifo",
        sim="icarus",
        parameters=PARAM_SETS["n16_d16"],
        check=False,
        tag="bug",
    )
    assert res.num_tests == 1 and res.num_failed == 1, res
