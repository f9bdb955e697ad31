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


# ----------------------------------------------------------------------- network image (v1)
HEADER_BYTES = 48


def image_header(p, payload: bytes, *, flags: int = 0) -> bytes:
    """The 48-byte network-image header for engine parameters ``p`` (icespike.export.EngineParams)."""
    import struct

    w1_bytes = -(-p.W1_DATA_W // 8)
    head = struct.pack(
        "<4sHHHHHBBBBBBIIIB3xI",
        b"ISNN",
        1,
        HEADER_BYTES,
        p.N_IN,
        p.N_HID,
        p.N_OUT,
        p.CODE_W0,
        p.CODE_W1,
        p.T,
        p.LEAK_SHIFT,
        p.RESET_SUBTRACT,
        flags,
        p.THRESHOLD,
        p.W0_DEPTH,
        p.N_HID,
        w1_bytes,
        len(payload),
    )
    head += struct.pack("<I", crc32(payload))
    return head + struct.pack("<I", crc32(head))


def image_payload(net) -> bytes:
    """Payload of ``net``'s image: the w0 words (8 bytes LE each), then the w1 words (LE)."""
    from icespike.export import engine_params, pack_w0, pack_w1

    p = engine_params(net)
    w1_bytes = -(-p.W1_DATA_W // 8)
    return b"".join(w.to_bytes(8, "little") for w in pack_w0(net)) + b"".join(
        w.to_bytes(w1_bytes, "little") for w in pack_w1(net)
    )


def network_image(net) -> bytes:
    """The whole network image (header + payload) of an IntNetwork."""
    try:
        from icespike.board.image import network_image as _image  # the host side's definition
    except ImportError:
        _image = None
    if _image is not None:
        return bytes(_image(net))
    from icespike.export import engine_params

    payload = image_payload(net)
    return image_header(engine_params(net), payload) + payload


# ----------------------------------------------------------------------- frames and test block
def frame(cmd: int, payload: bytes = b"") -> bytes:
    """Host -> board frame: 0xA5, cmd, len (u16 LE), payload, CRC-8 over cmd..payload."""
    body = bytes([cmd]) + len(payload).to_bytes(2, "little") + bytes(payload)
    return b"\xa5" + body + bytes([crc8(body)])


def selftest_block(images, labels) -> bytes:
    """Test-image block: header (ISIM, 1, 16, count, pixels, 0), records (label, pixels), CRC-32."""
    import struct

    images = [bytes(int(v) for v in im) for im in images]
    recs = b"".join(bytes([int(lab)]) + im for lab, im in zip(labels, images))
    head = struct.pack("<4sHHIHH", b"ISIM", 1, 16, len(images), len(images[0]) if images else 0, 0)
    return head + recs + struct.pack("<I", crc32(recs))
