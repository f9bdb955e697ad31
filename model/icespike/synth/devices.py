"""The iCE40 parts the flow targets, their memory primitives, and the flow's error type."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SYNTH_DIR = ROOT / "synth"

EBR_BITS = 4096  # SB_RAM40_4K
SPRAM_BITS = 256 * 1024  # SB_SPRAM256KA: 16K words x 16 bits
SPRAM_WORDS = 16384
SPRAM_WIDTH = 16
# SB_RAM40_4K read/write organisations (depth, width)
EBR_SHAPES = ((256, 16), (512, 8), (1024, 4), (2048, 2))


class SynthError(RuntimeError):
    """A synthesis step failed or was asked something impossible; the message says which."""


@dataclass(frozen=True)
class Device:
    """An iCE40 part in one package, with its budgets and the flags that target it."""

    name: str
    part: str
    package: str
    nextpnr_flag: str
    logic_cells: int
    ebr: int
    spram: int
    dsp: int
    io: int
    pcf: str
    synth_flags: tuple[str, ...]

    @property
    def ebr_bits(self) -> int:
        return self.ebr * EBR_BITS

    @property
    def spram_bits(self) -> int:
        return self.spram * SPRAM_BITS

    @property
    def memory_bits(self) -> int:
        return self.ebr_bits + self.spram_bits


DEVICES: dict[str, Device] = {
    "up5k": Device(
        name="up5k",
        part="iCE40UP5K",
        package="sg48",
        nextpnr_flag="--up5k",
        logic_cells=5280,
        ebr=30,
        spram=4,
        dsp=8,
        io=39,
        pcf="up5k_sg48.pcf",
        synth_flags=("-dsp",),
    ),
    "hx8k": Device(
        name="hx8k",
        part="iCE40HX8K",
        package="ct256",
        nextpnr_flag="--hx8k",
        logic_cells=7680,
        ebr=32,
        spram=0,
        dsp=0,
        io=206,
        pcf="hx8k_ct256.pcf",
        synth_flags=(),
    ),
}


def device(name: str) -> Device:
    """The :class:`Device` called ``name`` (``up5k`` or ``hx8k``); anything else raises ValueError."""
    key = str(name).strip().lower()
    if key not in DEVICES:
        raise ValueError(f"unknown device {name!r}: choose one of {', '.join(DEVICES)}")
    return DEVICES[key]
