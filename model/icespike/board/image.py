"""The bytes a board boots from: network image, test-image block and the flash layout.

This module is the one definition of these byte formats (docs/board.md). Every multi-byte
field is little-endian; every CRC is CRC-32/ISO-HDLC (:func:`zlib.crc32`).

Network image (format version 1): a 48-byte header followed by the payload, the layer-0
words of ``w0.hex`` (8 bytes each) and then the output-layer words of ``w1.hex``
(``w1_word_bytes`` each, zero-extended). :func:`network_image` builds it from an
:class:`~icespike.network.IntNetwork` (through :mod:`icespike.export`, so the words are the
engine's own), :func:`parse_network_image` reads it back and raises :class:`ImageError`
naming the first defect found.

Test-image block: a 16-byte header, ``count`` records of a label byte and 784 pixels, and a
CRC-32 of all records (:func:`test_block`, :func:`parse_test_block`).

Flash (:data:`FLASH_NET_OFFSET` etc.): bitstream at 0, network image at 0x100000 (at most
0x40000 bytes), test-image block at 0x140000. ``flash.bin`` (:func:`flash_bytes`) holds
everything from 0x100000 on: the network image padded with 0xFF (erased flash) to 0x40000
bytes, then the test-image block.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..export import WORD_W, EngineParams, engine_params, pack_w0, pack_w1
from ..network import IntNetwork

__all__ = [
    "FLASH_BITSTREAM_OFFSET",
    "FLASH_NET_OFFSET",
    "FLASH_NET_MAX",
    "FLASH_TEST_OFFSET",
    "FLASH_SIZE",
    "NET_MAGIC",
    "NET_VERSION",
    "NET_HEADER_BYTES",
    "TEST_MAGIC",
    "TEST_VERSION",
    "TEST_HEADER_BYTES",
    "TEST_PIXELS",
    "TEST_RECORD_BYTES",
    "ImageError",
    "NetHeader",
    "crc32",
    "header_for",
    "network_image",
    "parse_header",
    "parse_network_image",
    "test_block",
    "parse_test_block",
    "flash_bytes",
    "split_flash",
    "write_flash",
]

# ------------------------------------------------------------------------------------ flash layout
FLASH_BITSTREAM_OFFSET = 0x000000
FLASH_NET_OFFSET = 0x100000
FLASH_NET_MAX = 0x40000
FLASH_TEST_OFFSET = FLASH_NET_OFFSET + FLASH_NET_MAX  # 0x140000
FLASH_SIZE = 16 * 1024 * 1024  # W25Q128 on the iCEBreaker
ERASED = 0xFF

# ------------------------------------------------------------------------------------ network image
NET_MAGIC = b"ISNN"
NET_VERSION = 1
NET_HEADER_BYTES = 48
_HDR = struct.Struct("<4sHHHHHBBBBBBIIIB3sII")  # bytes 0..43 without the header CRC
assert _HDR.size == 44
CODE_WIDTHS = (1, 2, 4, 8, 16)
W0_WORD_BYTES = WORD_W // 8

# ------------------------------------------------------------------------------------ test images
TEST_MAGIC = b"ISIM"
TEST_VERSION = 1
TEST_HEADER_BYTES = 16
TEST_PIXELS = 784
TEST_RECORD_BYTES = 1 + TEST_PIXELS
_TEST_HDR = struct.Struct("<4sHHIHH")
assert _TEST_HDR.size == TEST_HEADER_BYTES


class ImageError(ValueError):
    """A network image, test-image block or flash file is malformed or does not match."""


def crc32(data: bytes) -> int:
    """CRC-32/ISO-HDLC (reflected poly 0xEDB88320, init and xorout 0xFFFFFFFF)."""
    return zlib.crc32(data) & 0xFFFFFFFF


@dataclass(frozen=True)
class NetHeader:
    """The 48-byte header of a network image (docs/board.md, "Network image")."""

    n_in: int
    n_hid: int
    n_out: int
    code_w0: int
    code_w1: int
    T: int
    leak_shift: int
    reset_subtract: int
    flags: int
    threshold: int
    w0_words: int
    w1_words: int
    w1_word_bytes: int
    payload_bytes: int
    payload_crc: int

    def pack(self, *, crcs: bool = True) -> bytes:
        """The 48 header bytes; ``crcs=False`` zeroes both CRC fields (as INFO reports them)."""
        body = _HDR.pack(
            NET_MAGIC,
            NET_VERSION,
            NET_HEADER_BYTES,
            self.n_in,
            self.n_hid,
            self.n_out,
            self.code_w0,
            self.code_w1,
            self.T,
            self.leak_shift,
            self.reset_subtract,
            self.flags,
            self.threshold,
            self.w0_words,
            self.w1_words,
            self.w1_word_bytes,
            b"\0\0\0",
            self.payload_bytes,
            self.payload_crc if crcs else 0,
        )
        return body + struct.pack("<I", crc32(body) if crcs else 0)

    def shape_fields(self) -> dict[str, int]:
        """Every field the board compares with its bitstream's parameters (all but the CRC)."""
        d = asdict(self)
        del d["payload_crc"]
        return d

    def mismatches(self, other: NetHeader) -> list[str]:
        """``field: self value, other value`` for every shape field that differs."""
        a, b = self.shape_fields(), other.shape_fields()
        return [f"{k} {a[k]} (image) vs {b[k]}" for k in a if a[k] != b[k]]


def _w1_word_bytes(p: EngineParams) -> int:
    return -(-p.W1_DATA_W // 8)


def header_for(p: EngineParams, payload_crc: int = 0) -> NetHeader:
    """The header of a network with engine parameters ``p`` (what a bitstream accepts)."""
    wb = _w1_word_bytes(p)
    return NetHeader(
        n_in=p.N_IN,
        n_hid=p.N_HID,
        n_out=p.N_OUT,
        code_w0=p.CODE_W0,
        code_w1=p.CODE_W1,
        T=p.T,
        leak_shift=p.LEAK_SHIFT,
        reset_subtract=p.RESET_SUBTRACT,
        flags=0,
        threshold=p.THRESHOLD,
        w0_words=p.W0_DEPTH,
        w1_words=p.W1_DEPTH,
        w1_word_bytes=wb,
        payload_bytes=W0_WORD_BYTES * p.W0_DEPTH + wb * p.W1_DEPTH,
        payload_crc=payload_crc,
    )


def _payload(w0: list[int], w1: list[int], w1_word_bytes: int) -> bytes:
    out = bytearray()
    for w in w0:
        out += int(w).to_bytes(W0_WORD_BYTES, "little")
    for w in w1:
        out += int(w).to_bytes(w1_word_bytes, "little")
    return bytes(out)


def network_image(net: IntNetwork) -> bytes:
    """The network image of ``net``: header + payload (w0 words, then w1 words)."""
    p = engine_params(net)
    if p.N_LAYERS > 1:
        raise ImageError(
            f"network image format version 1 carries one hidden layer; this network has {p.N_LAYERS}"
        )
    if p.HAS_BIAS:
        raise ImageError(
            "network image format version 1 carries no biases (flag bit 0 is reserved for them): "
            "the board runs bias-free networks"
        )
    payload = _payload(pack_w0(net), pack_w1(net), _w1_word_bytes(p))
    hdr = header_for(p, crc32(payload))
    if len(payload) != hdr.payload_bytes:  # the two derivations of the size must agree
        raise ImageError(f"payload is {len(payload)} bytes, header says {hdr.payload_bytes}")
    image = hdr.pack() + payload
    if len(image) > FLASH_NET_MAX:
        raise ImageError(
            f"network image is {len(image):,} bytes; the flash slot at {FLASH_NET_OFFSET:#x} "
            f"holds {FLASH_NET_MAX:,}"
        )
    return image


def _check_preamble(what: str, got: tuple, want: tuple) -> None:
    """Magic, format version and header size of ``what``, each refused with its own message."""
    (magic, version, hbytes), (w_magic, w_version, w_hbytes) = got, want
    if magic != w_magic:
        raise ImageError(f"bad {what} magic {magic!r}, expected {w_magic!r}")
    if version != w_version:
        raise ImageError(f"{what} format version {version}, this reader knows {w_version}")
    if hbytes != w_hbytes:
        raise ImageError(f"{what} header size field {hbytes}, expected {w_hbytes}")


def parse_header(data: bytes, *, check_crc: bool = True) -> NetHeader:
    """Parse and check the first 48 bytes of a network image; ImageError names the defect.

    Checks, in order: length, magic, version, header size, header CRC (unless ``check_crc``
    is False: INFO reports headers with zeroed CRC fields), reserved bytes and flags, code
    widths, T and threshold, and that the word counts and payload size agree with the shape.
    """
    data = bytes(data)
    if len(data) < NET_HEADER_BYTES:
        raise ImageError(f"network image header is {len(data)} bytes, needs {NET_HEADER_BYTES}")
    vals = _HDR.unpack_from(data, 0)
    (magic, version, hbytes, n_in, n_hid, n_out, cw0, cw1, T, leak, reset, flags) = vals[:12]
    threshold, w0_words, w1_words, w1_wb, zero, payload_bytes, payload_crc = vals[12:]
    (hcrc,) = struct.unpack_from("<I", data, 44)
    _check_preamble("network image", (magic, version, hbytes), (NET_MAGIC, NET_VERSION, NET_HEADER_BYTES))
    if check_crc and hcrc != crc32(data[:44]):
        raise ImageError(
            f"network image header CRC {hcrc:#010x} does not match its bytes ({crc32(data[:44]):#010x})"
        )
    if zero != b"\0\0\0":
        raise ImageError(f"network image header bytes 33..35 must be zero, got {zero.hex()}")
    if flags != 0:
        raise ImageError(f"network image flags {flags:#04x}: no flag is defined in format version 1")
    for name, cw in (("code_w0", cw0), ("code_w1", cw1)):
        if cw not in CODE_WIDTHS:
            raise ImageError(f"network image {name} = {cw}, must be one of {CODE_WIDTHS}")
    if min(n_in, n_hid, n_out) < 1:
        raise ImageError(f"network image shape {n_in}-{n_hid}-{n_out} has an empty layer")
    if T < 1:
        raise ImageError("network image T = 0, needs at least one time step")
    if reset not in (0, 1):
        raise ImageError(f"network image reset_subtract = {reset}, must be 0 or 1")
    if threshold < 1:
        raise ImageError("network image threshold is 0, must be > 0")
    lanes = WORD_W // cw0
    want_w0 = n_in * -(-n_hid // lanes)
    want_wb = -(-(n_out * cw1) // 8)
    if w0_words != want_w0:
        raise ImageError(
            f"network image w0_words = {w0_words}, shape {n_in}x{n_hid} at {cw0} bits needs {want_w0}"
        )
    if w1_words != n_hid:
        raise ImageError(f"network image w1_words = {w1_words}, must equal n_hid = {n_hid}")
    if w1_wb != want_wb:
        raise ImageError(
            f"network image w1_word_bytes = {w1_wb}, {n_out} outputs at {cw1} bits need {want_wb}"
        )
    want_pb = W0_WORD_BYTES * w0_words + w1_wb * w1_words
    if payload_bytes != want_pb:
        raise ImageError(f"network image payload_bytes = {payload_bytes}, the word counts need {want_pb}")
    return NetHeader(
        n_in, n_hid, n_out, cw0, cw1, T, leak, reset, flags, threshold, w0_words, w1_words, w1_wb,
        payload_bytes, payload_crc,
    )  # fmt: skip


def parse_network_image(
    data: bytes, *, expect: EngineParams | NetHeader | None = None
) -> tuple[NetHeader, list[int], list[int]]:
    """Check a whole network image; return its header and the w0 and w1 words.

    Beyond :func:`parse_header`: the total length, the payload CRC, no w1 word wider than
    ``n_out * code_w1`` bits, and (with ``expect``, the parameters a bitstream was built for)
    every shape field equal, as the board checks it.
    """
    data = bytes(data)
    h = parse_header(data)
    want = NET_HEADER_BYTES + h.payload_bytes
    if len(data) != want:
        raise ImageError(f"network image is {len(data)} bytes, its header says {want}")
    payload = data[NET_HEADER_BYTES:]
    got = crc32(payload)
    if got != h.payload_crc:
        raise ImageError(f"network image payload CRC-32 {got:#010x}, header says {h.payload_crc:#010x}")
    if expect is not None:
        exp = header_for(expect) if isinstance(expect, EngineParams) else expect
        bad = h.mismatches(exp)
        if bad:
            raise ImageError("network image does not match the bitstream: " + ", ".join(bad))
    n0 = W0_WORD_BYTES * h.w0_words
    w0 = [int.from_bytes(payload[i : i + W0_WORD_BYTES], "little") for i in range(0, n0, W0_WORD_BYTES)]
    wb = h.w1_word_bytes
    w1 = [int.from_bytes(payload[i : i + wb], "little") for i in range(n0, len(payload), wb)]
    width = h.n_out * h.code_w1
    for k, w in enumerate(w1):
        if w >> width:
            raise ImageError(f"network image w1 word {k} = {w:#x} is wider than {width} bits")
    return h, w0, w1


# ------------------------------------------------------------------------------------ test images
def test_block(images, labels) -> bytes:
    """The test-image block of ``images`` ((N, P) or (N, 28, 28) uint8; P = 784 for MNIST, the
    engine's N_IN in general) and ``labels`` (N,)."""
    x = np.asarray(images)
    y = np.asarray(labels)
    if x.ndim == 3:
        x = x.reshape(len(x), -1)
    if x.ndim != 2 or not 1 <= x.shape[1] <= 0xFFFF:
        raise ImageError(f"test images must have shape (N, pixels), got {np.asarray(images).shape}")
    if y.shape != (len(x),):
        raise ImageError(f"{len(x)} test images but labels of shape {y.shape}")
    if x.size and (x.min() < 0 or x.max() > 255) or y.size and (y.min() < 0 or y.max() > 255):
        raise ImageError("test pixels and labels must be bytes (0..255)")
    records = np.concatenate([y.astype(np.uint8)[:, None], x.astype(np.uint8)], axis=1).tobytes()
    hdr = _TEST_HDR.pack(TEST_MAGIC, TEST_VERSION, TEST_HEADER_BYTES, len(x), x.shape[1], 0)
    return hdr + records + struct.pack("<I", crc32(records))


def parse_test_block(
    data: bytes, *, trailing: bool = False, pixels: int = TEST_PIXELS
) -> tuple[np.ndarray, np.ndarray]:
    """Check a test-image block; return (images (N, pixels) uint8, labels (N,) uint8).

    ``trailing=True`` allows bytes after the block's CRC (a block read from a flash file);
    ``pixels`` is what the board takes per image (784 for MNIST).
    """
    data = bytes(data)
    if len(data) < TEST_HEADER_BYTES:
        raise ImageError(f"test-image block is {len(data)} bytes, its header alone needs {TEST_HEADER_BYTES}")
    magic, version, hbytes, count, got_pixels, zero = _TEST_HDR.unpack_from(data, 0)
    _check_preamble(
        "test-image block", (magic, version, hbytes), (TEST_MAGIC, TEST_VERSION, TEST_HEADER_BYTES)
    )
    if got_pixels != pixels:
        raise ImageError(f"test-image block has {got_pixels} pixels per image, the board takes {pixels}")
    if zero != 0:
        raise ImageError(f"test-image block header bytes 14..15 must be zero, got {zero:#06x}")
    record = 1 + pixels
    n = TEST_HEADER_BYTES + count * record + 4
    if len(data) < n or (len(data) > n and not trailing):
        raise ImageError(f"test-image block is {len(data)} bytes, {count} images need {n}")
    records = data[TEST_HEADER_BYTES : n - 4]
    (crc,) = struct.unpack_from("<I", data, n - 4)
    if crc != crc32(records):
        raise ImageError(f"test-image block CRC-32 {crc32(records):#010x}, stored {crc:#010x}")
    arr = np.frombuffer(records, dtype=np.uint8).reshape(count, record)
    return arr[:, 1:].copy(), arr[:, 0].copy()


# ------------------------------------------------------------------------------------ flash.bin
def flash_bytes(net_image: bytes, tests: bytes) -> bytes:
    """``flash.bin``: the network image padded with 0xFF to 0x40000 bytes, then the test block."""
    if len(net_image) > FLASH_NET_MAX:
        raise ImageError(f"network image is {len(net_image):,} bytes, the slot holds {FLASH_NET_MAX:,}")
    room = FLASH_SIZE - FLASH_TEST_OFFSET
    if len(tests) > room:
        raise ImageError(
            f"test-image block is {len(tests):,} bytes, the flash has {room:,} after {FLASH_TEST_OFFSET:#x}"
        )
    return bytes(net_image) + bytes([ERASED]) * (FLASH_NET_MAX - len(net_image)) + bytes(tests)


def split_flash(data: bytes) -> tuple[bytes, bytes]:
    """Inverse of :func:`flash_bytes`: (network image, test-image block), both checked."""
    data = bytes(data)
    if len(data) < FLASH_NET_MAX + TEST_HEADER_BYTES:
        raise ImageError(
            f"flash image is {len(data):,} bytes, shorter than the network slot and a test header"
        )
    h = parse_header(data)
    net = data[: NET_HEADER_BYTES + h.payload_bytes]
    parse_network_image(net)
    tests = data[FLASH_NET_MAX:]
    parse_test_block(tests)
    return net, tests


def write_flash(path: str | Path, net_image: bytes, tests: bytes) -> Path:
    """Write ``flash.bin`` (see :func:`flash_bytes`) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(flash_bytes(net_image, tests))
    return path
