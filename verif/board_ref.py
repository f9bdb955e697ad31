"""Reference values for the board RTL tests: the one place the tests take CRCs from.

CRC-32 is ``zlib.crc32`` (CRC-32/ISO-HDLC). CRC-8/SMBUS is the host protocol's frame check;
its definition belongs to ``icespike.board.protocol`` and is taken from there when that module
exists, so the RTL is checked against the very function the host client uses.
"""

from __future__ import annotations

import zlib

try:  # the host protocol's definition when present
    from icespike.board.protocol import crc8 as _crc8
except ImportError:  # pragma: no cover - until icespike.board exists
    _crc8 = None


def crc32(data: bytes) -> int:
    """CRC-32/ISO-HDLC of ``data`` (zlib.crc32)."""
    return zlib.crc32(bytes(data)) & 0xFFFFFFFF


def crc8(data: bytes) -> int:
    """CRC-8/SMBUS of ``data``: poly 0x07, init 0, not reflected, xorout 0."""
    if _crc8 is not None:
        return int(_crc8(bytes(data)))
    c = 0
    for b in bytes(data):
        c ^= b
        for _ in range(8):
            c = ((c << 1) ^ 0x07) & 0xFF if c & 0x80 else (c << 1) & 0xFF
    return c


assert crc8(b"123456789") == 0xF4 and crc32(b"123456789") == 0xCBF43926  # catalogue check values
