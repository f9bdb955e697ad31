"""The board's UART protocol: frames, CRC-8, command and status codes, reply payloads.

docs/board.md is the specification; this module is its one implementation on the host.

Host -> board: ``0xA5, cmd u8, len u16, payload[len], crc8``.
Board -> host: ``0x5A, cmd u8 (echo), status u8, len u16, payload[len], crc8``.
``crc8`` is CRC-8/SMBUS (poly 0x07, init 0, no reflection, xorout 0) over every byte after
the sync byte up to the end of the payload. Multi-byte fields are little-endian.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass

from .image import NET_HEADER_BYTES, NetHeader, parse_header

__all__ = [
    "REQ_SYNC",
    "REP_SYNC",
    "PROTO_VERSION",
    "MAX_LOAD_CHUNK",
    "PIXELS",
    "Cmd",
    "Status",
    "State",
    "ProtocolError",
    "FrameTimeout",
    "Frame",
    "crc8",
    "encode_request",
    "encode_reply",
    "decode_request",
    "decode_reply",
    "read_reply",
    "Info",
    "Classified",
    "SelftestResult",
    "parse_info",
    "parse_classify",
    "parse_load_end",
    "parse_selftest",
]

REQ_SYNC = 0xA5
REP_SYNC = 0x5A
PROTO_VERSION = 1
MAX_LOAD_CHUNK = 4096
PIXELS = 784
MAX_LEN = 0xFFFF


class Cmd(enum.IntEnum):
    INFO = 0x01
    CLASSIFY = 0x02
    LOAD_BEGIN = 0x03
    LOAD_DATA = 0x04
    LOAD_END = 0x05
    SELFTEST = 0x06


class Status(enum.IntEnum):
    OK = 0
    BAD_CRC8 = 1
    BAD_LENGTH = 2
    UNKNOWN_CMD = 3
    TIMEOUT = 4
    SHAPE_MISMATCH = 5
    BAD_MAGIC_OR_VERSION = 6
    IMAGE_CRC = 7
    NOT_READY = 8
    BAD_SEQUENCE = 9
    SELFTEST_RANGE = 10


STATUS_TEXT = {
    Status.OK: "ok",
    Status.BAD_CRC8: "the frame's CRC-8 was wrong",
    Status.BAD_LENGTH: "wrong payload length for this command, or a network image too long or too short",
    Status.UNKNOWN_CMD: "unknown command",
    Status.TIMEOUT: "the frame stopped arriving (more than 1 ms between bytes)",
    Status.SHAPE_MISMATCH: "the network image's shape or parameters differ from the bitstream's",
    Status.BAD_MAGIC_OR_VERSION: "the network image has a bad magic, format version or header size",
    Status.IMAGE_CRC: "the network image's header CRC-32 or payload CRC-32 does not match",
    Status.NOT_READY: "no valid network is loaded",
    Status.BAD_SEQUENCE: "LOAD_DATA or LOAD_END without LOAD_BEGIN",
    Status.SELFTEST_RANGE: "more self-test images asked for than the flash holds (or its test block is invalid)",
}


class State(enum.IntEnum):
    BOOTING = 0
    READY = 1
    ERROR = 2


def status_text(code: int) -> str:
    """``NAME (meaning)`` of a status code, or ``unknown status N``."""
    try:
        s = Status(code)
    except ValueError:
        return f"unknown status {code}"
    return f"{s.name} ({STATUS_TEXT[s]})"


class ProtocolError(ValueError):
    """A frame or reply payload is malformed (bad sync, CRC-8, length or field)."""


class FrameTimeout(ProtocolError):
    """Fewer bytes than a frame needs arrived before the timeout."""


def crc8(data: bytes, crc: int = 0) -> int:
    """CRC-8/SMBUS: poly 0x07, init 0x00, not reflected, xorout 0 (check("123456789") = 0xF4)."""
    for b in bytes(data):
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


@dataclass(frozen=True)
class Frame:
    """A decoded frame: ``status`` is None for a request (host -> board)."""

    cmd: int
    payload: bytes
    status: int | None = None


def _check_len(payload: bytes) -> bytes:
    payload = bytes(payload)
    if len(payload) > MAX_LEN:
        raise ProtocolError(f"payload of {len(payload)} bytes exceeds the 16-bit length field")
    return payload


def encode_request(cmd: int, payload: bytes = b"") -> bytes:
    """The bytes of a host -> board frame."""
    payload = _check_len(payload)
    if not 0 <= int(cmd) <= 0xFF:
        raise ProtocolError(f"command {cmd} is not a byte")
    body = struct.pack("<BH", int(cmd), len(payload)) + payload
    return bytes([REQ_SYNC]) + body + bytes([crc8(body)])


def encode_reply(cmd: int, status: int, payload: bytes = b"") -> bytes:
    """The bytes of a board -> host frame (for tests and simulation checks)."""
    payload = _check_len(payload)
    body = struct.pack("<BBH", int(cmd), int(status), len(payload)) + payload
    return bytes([REP_SYNC]) + body + bytes([crc8(body)])


def _decode(data: bytes, sync: int, hdr: struct.Struct, what: str) -> tuple[tuple, bytes]:
    data = bytes(data)
    if not data:
        raise ProtocolError(f"empty {what} frame")
    if data[0] != sync:
        raise ProtocolError(f"{what} frame starts with {data[0]:#04x}, not the sync byte {sync:#04x}")
    if len(data) < 1 + hdr.size + 1:
        raise ProtocolError(f"{what} frame of {len(data)} bytes is shorter than its header and CRC")
    fields_ = hdr.unpack_from(data, 1)
    n = fields_[-1]
    want = 1 + hdr.size + n + 1
    if len(data) != want:
        raise ProtocolError(f"{what} frame is {len(data)} bytes, its length field {n} needs {want}")
    body = data[1:-1]
    if crc8(body) != data[-1]:
        raise ProtocolError(f"{what} frame CRC-8 {data[-1]:#04x}, computed {crc8(body):#04x}")
    return fields_, data[1 + hdr.size : -1]


_REQ_HDR = struct.Struct("<BH")
_REP_HDR = struct.Struct("<BBH")


def decode_request(data: bytes) -> Frame:
    """Parse one complete host -> board frame; ProtocolError names the defect."""
    (cmd, _n), payload = _decode(data, REQ_SYNC, _REQ_HDR, "request")
    return Frame(cmd, payload)


def decode_reply(data: bytes) -> Frame:
    """Parse one complete board -> host frame; ProtocolError names the defect."""
    (cmd, status, _n), payload = _decode(data, REP_SYNC, _REP_HDR, "reply")
    return Frame(cmd, payload, status)


def read_reply(read: Callable[[int], bytes], *, max_skip: int = 1 << 16) -> tuple[Frame, int]:
    """Read one reply frame through ``read(n)`` (returns at most n bytes, b"" on timeout).

    Bytes before the sync byte are skipped (at most ``max_skip``). Returns the frame and the
    number of bytes skipped. Raises FrameTimeout when ``read`` runs dry, ProtocolError on a
    bad CRC-8.
    """

    def exactly(n: int, what: str) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = read(n - len(buf))
            if not chunk:
                raise FrameTimeout(f"timed out waiting for {what} ({len(buf)} of {n} bytes arrived)")
            buf += chunk
        return buf

    skipped = 0
    while True:
        b = exactly(1, "a reply")
        if b[0] == REP_SYNC:
            break
        skipped += 1
        if skipped > max_skip:
            raise ProtocolError(f"{skipped} bytes without a reply sync byte")
    hdr = exactly(_REP_HDR.size, "the reply header")
    n = _REP_HDR.unpack(hdr)[2]
    rest = exactly(n + 1, f"a reply payload of {n} bytes")
    return decode_reply(bytes([REP_SYNC]) + hdr + rest), skipped


# ------------------------------------------------------------------------------------ reply payloads
_INFO = struct.Struct("<H48sIBBII")


@dataclass(frozen=True)
class Info:
    """The INFO reply: what the bitstream was built for and what it runs."""

    proto_version: int
    header: NetHeader  # the parameters the bitstream was built for (CRC fields zero)
    network_crc: int  # payload CRC-32 of the loaded network, 0 if none
    state: int  # State
    last_error: int  # Status of the last error
    clock_hz: int
    baud: int

    @property
    def state_name(self) -> str:
        try:
            return State(self.state).name.lower()
        except ValueError:
            return f"unknown ({self.state})"


def parse_info(payload: bytes) -> Info:
    payload = bytes(payload)
    if len(payload) != _INFO.size:
        raise ProtocolError(f"INFO reply payload is {len(payload)} bytes, expected {_INFO.size}")
    ver, hdr, crc, state, err, clk, baud = _INFO.unpack(payload)
    if ver != PROTO_VERSION:
        raise ProtocolError(f"board speaks protocol version {ver}, this host {PROTO_VERSION}")
    try:
        h = parse_header(hdr, check_crc=False)
    except ValueError as e:
        raise ProtocolError(f"INFO reply carries a malformed network header: {e}") from None
    if state not in tuple(State):
        raise ProtocolError(f"INFO reply state {state} is not 0 (booting), 1 (ready) or 2 (error)")
    if clk == 0 or baud == 0:
        raise ProtocolError(f"INFO reply clock {clk} Hz or baud {baud} is zero")
    return Info(ver, h, crc, state, err, clk, baud)


def info_payload(info: Info) -> bytes:
    """The INFO reply payload of ``info`` (inverse of :func:`parse_info`)."""
    return _INFO.pack(
        info.proto_version, info.header.pack(crcs=False), info.network_crc, info.state,
        info.last_error, info.clock_hz, info.baud,
    )  # fmt: skip


@dataclass(frozen=True)
class Classified:
    """The CLASSIFY reply: class, the n_out scores and the engine cycles."""

    cls: int
    scores: tuple[int, ...]
    cycles: int


def parse_classify(payload: bytes, n_out: int | None = None) -> Classified:
    """Parse a CLASSIFY reply payload (``n_out`` scores when given, else from its length)."""
    payload = bytes(payload)
    if len(payload) < 9 or (len(payload) - 5) % 4:
        raise ProtocolError(f"CLASSIFY reply payload of {len(payload)} bytes is not 1 + 4*n_out + 4")
    k = (len(payload) - 5) // 4
    if n_out is not None and k != n_out:
        raise ProtocolError(f"CLASSIFY reply carries {k} scores, the network has {n_out} outputs")
    cls = payload[0]
    scores = struct.unpack_from(f"<{k}i", payload, 1)
    (cycles,) = struct.unpack_from("<I", payload, 1 + 4 * k)
    if cls >= k:
        raise ProtocolError(f"CLASSIFY reply class {cls} is not below the {k} outputs")
    return Classified(cls, tuple(scores), cycles)


def classify_payload(c: Classified) -> bytes:
    """Inverse of :func:`parse_classify`."""
    return bytes([c.cls]) + struct.pack(f"<{len(c.scores)}iI", *c.scores, c.cycles)


def parse_load_end(payload: bytes) -> int:
    """The CRC-32 the board computed over the loaded payload."""
    payload = bytes(payload)
    if len(payload) != 4:
        raise ProtocolError(f"LOAD_END reply payload is {len(payload)} bytes, expected 4")
    return struct.unpack("<I", payload)[0]


@dataclass(frozen=True)
class SelftestResult:
    """The SELFTEST reply: images run, every class, how many matched their label, engine cycles."""

    n: int
    correct: int
    cycles: int
    classes: bytes


def parse_selftest(payload: bytes) -> SelftestResult:
    """``u32 N, N class bytes, u32 correct, u64 total engine cycles`` (classes stream first)."""
    payload = bytes(payload)
    if len(payload) < 16:
        raise ProtocolError(f"SELFTEST reply payload is {len(payload)} bytes, shorter than 16")
    (n,) = struct.unpack_from("<I", payload, 0)
    if len(payload) != 16 + n:
        raise ProtocolError(f"SELFTEST reply says {n} images but carries {len(payload) - 16} classes")
    classes = payload[4 : 4 + n]
    correct, cycles = struct.unpack_from("<IQ", payload, 4 + n)
    if correct > n:
        raise ProtocolError(f"SELFTEST reply says {correct} of {n} images correct")
    return SelftestResult(n, correct, cycles, bytes(classes))


def selftest_payload(r: SelftestResult) -> bytes:
    """Inverse of :func:`parse_selftest`."""
    return struct.pack("<I", r.n) + bytes(r.classes) + struct.pack("<IQ", r.correct, r.cycles)


def request_payload_size(cmd: int) -> tuple[int, int] | None:
    """(min, max) request payload bytes of a known command, None for an unknown one."""
    sizes = {
        Cmd.INFO: (0, 0),
        Cmd.CLASSIFY: (PIXELS, PIXELS),
        Cmd.LOAD_BEGIN: (NET_HEADER_BYTES, NET_HEADER_BYTES),
        Cmd.LOAD_DATA: (1, MAX_LOAD_CHUNK),
        Cmd.LOAD_END: (0, 0),
        Cmd.SELFTEST: (4, 4),
    }
    try:
        return sizes[Cmd(cmd)]
    except ValueError:
        return None
