"""ram_sdp: simple dual-port RAM (EBR-inferable) with $readmemh initialisation.

Every cycle the testbench drives a random write (we, waddr, wdata) and a random read (re,
raddr) and compares rdata with a model memory: rdata shows mem[raddr] one cycle after a
read and holds otherwise. Contents come from INIT_FILE (a hex file written by the pytest
side, the format icespike's exporter writes) or from earlier writes; a read of a word never
written, or of the address written in the same cycle (undefined on the EBR), is not compared.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import cocotb
import pytest
from cocotb.triggers import FallingEdge, ReadOnly

from simrun import (
    SIM_BUILD_DIR,
    Mismatches,
    matrix,
    read_unsigned,
    rtl,
    run,
    start_clock,
    tb_params,
    tb_seed,
    tb_txns,
    tier_txns,
)


def read_hex(path: str, width: int) -> dict[int, int]:
    words = [int(line.split("//")[0], 16) for line in Path(path).read_text().split() if line.strip()]
    return {a: w & ((1 << width) - 1) for a, w in enumerate(words)}


def write_hex(path: Path, words: list[int], width: int) -> None:
    digits = (width + 3) // 4
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")  # atomic: parallel workers may write it too
    tmp.write_text("".join(f"{w:0{digits}x}\n" for w in words))
    os.replace(tmp, path)


@cocotb.test()
async def random_traffic(dut):
    """Random writes and reads (reads of preloaded or written words compared every cycle)."""
    p = tb_params()
    width, depth = int(p["DATA_W"]), int(p["DEPTH"])
    init = os.environ.get("ICESPIKE_INIT_FILE", "")
    mem: dict[int, int] = read_hex(init, width) if init else {}
    rng = random.Random(tb_seed())
    await start_clock(dut)
    mm = Mismatches(f"ram_sdp {p}")
    rdata = None  # model of the read register: None until a defined read
    # first read back every preloaded word, then random traffic
    script = [(0, 0, 0, 1, a) for a in sorted(mem)]
    n_random = tb_txns()
    for cycle in range(len(script) + n_random + 2):
        await FallingEdge(dut.clk)
        if cycle < len(script):
            we, waddr, wdata, re, raddr = script[cycle]
        elif cycle < len(script) + n_random:
            we = int(rng.random() < 0.5)
            re = int(rng.random() < 0.6)
            waddr = rng.randrange(depth)
            # reads favour addresses that hold data
            raddr = rng.choice(list(mem)) if mem and rng.random() < 0.8 else rng.randrange(depth)
            wdata = rng.choice((0, (1 << width) - 1, rng.getrandbits(width)))
        else:
            we, waddr, wdata, re, raddr = 0, 0, 0, 0, 0
        dut.we.value, dut.waddr.value, dut.wdata.value = we, waddr, wdata
        dut.re.value, dut.raddr.value = re, raddr
        await ReadOnly()
        if rdata is not None:
            mm.check(cycle, "rdata", read_unsigned(dut.rdata), rdata)
        if re:
            rdata = None if (we and waddr == raddr) else mem.get(raddr)
        if we:
            mem[waddr] = wdata
    mm.assert_none()


PARAM_SETS = {
    "d16x256": {"DATA_W": 16, "DEPTH": 256},
    "d8x512_init": {"DATA_W": 8, "DEPTH": 512, "_init": 1},
    "d2x2048_init": {"DATA_W": 2, "DEPTH": 2048, "_init": 1},  # ternary codes
    "d36x100": {"DATA_W": 36, "DEPTH": 100},  # not a power of two
}


@pytest.mark.parametrize(
    "sim,tier,name,params",
    matrix(PARAM_SETS, fast=["d16x256", "d8x512_init", "d2x2048_init"], fast_verilator=["d8x512_init"]),
)
def test_ram_sdp(sim, tier, name, params):
    params = dict(params)
    env = {"ICESPIKE_TXNS": tier_txns(tier)}
    if params.pop("_init", 0):
        width, depth = params["DATA_W"], params["DEPTH"]
        rng = random.Random(f"{name}")
        words = [rng.getrandbits(width) for _ in range(depth)]
        hexfile = SIM_BUILD_DIR / "ram_sdp" / f"init-{name}.hex"
        write_hex(hexfile, words, width)
        params["INIT_FILE"] = f'"{hexfile}"'
        env["ICESPIKE_INIT_FILE"] = str(hexfile)
    run("ram_sdp", rtl("ram_sdp"), "test_ram_sdp", sim=sim, parameters=params, extra_env=env)
