"""icespike.board.protocol: frames, CRC-8/SMBUS, reply payloads (docs/board.md)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from icespike.board import protocol as pr
from icespike.board.image import header_for
from icespike.export import engine_params
from test_board_image import NET


def crc8_bitwise_reference(data: bytes) -> int:
    """CRC-8/SMBUS by its definition: polynomial division of the message times x^8 by x^8+x^2+x+1."""
    reg = 0
    for bit in [(b >> (7 - i)) & 1 for b in data for i in range(8)] + [0] * 8:
        top = reg >> 7
        reg = ((reg << 1) | bit) & 0xFF
        if top:
            reg ^= 0x07
    return reg


def test_crc8_catalogue_check_value():
    assert pr.crc8(b"123456789") == 0xF4  # reveng catalogue: CRC-8/SMBUS check
    assert pr.crc8(b"") == 0


@given(st.binary(max_size=64))
def test_crc8_matches_polynomial_division(data):
    assert pr.crc8(data) == crc8_bitwise_reference(data)


def test_request_layout():
    f = pr.encode_request(pr.Cmd.SELFTEST, struct.pack("<I", 20))
    assert f == bytes([0xA5, 0x06, 0x04, 0x00, 20, 0, 0, 0, pr.crc8(f[1:-1])])
    r = pr.encode_reply(pr.Cmd.INFO, pr.Status.NOT_READY)
    assert r == bytes([0x5A, 0x01, 0x08, 0x00, 0x00, pr.crc8(r[1:-1])])


@given(cmd=st.integers(0, 255), payload=st.binary(max_size=300))
def test_request_roundtrip(cmd, payload):
    assert pr.decode_request(pr.encode_request(cmd, payload)) == pr.Frame(cmd, payload)


@given(cmd=st.integers(0, 255), status=st.integers(0, 255), payload=st.binary(max_size=300))
def test_reply_roundtrip(cmd, status, payload):
    assert pr.decode_reply(pr.encode_reply(cmd, status, payload)) == pr.Frame(cmd, payload, status)


@given(payload=st.binary(max_size=40), data=st.data())
def test_any_single_byte_corruption_is_refused(payload, data):
    f = bytearray(pr.encode_reply(2, 0, payload))
    pos = data.draw(st.integers(0, len(f) - 1))
    f[pos] ^= data.draw(st.integers(1, 255))
    with pytest.raises(pr.ProtocolError):
        pr.decode_reply(bytes(f))


@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_protocol_error(data):
    for decode in (pr.decode_request, pr.decode_reply):
        try:
            decode(data)
        except pr.ProtocolError:
            pass


def test_decode_errors_named():
    good = pr.encode_request(1)
    with pytest.raises(pr.ProtocolError, match="sync"):
        pr.decode_request(b"\x00" + good[1:])
    with pytest.raises(pr.ProtocolError, match="CRC-8"):
        pr.decode_request(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(pr.ProtocolError, match="length field"):
        pr.decode_request(good + b"\0")
    with pytest.raises(pr.ProtocolError, match="shorter"):
        pr.decode_request(good[:3])
    with pytest.raises(pr.ProtocolError, match="empty"):
        pr.decode_reply(b"")
    with pytest.raises(pr.ProtocolError, match="16-bit"):
        pr.encode_request(1, bytes(70000))


def reader(data: bytes, chunk: int = 3):
    buf = bytearray(data)

    def read(n):
        out = bytes(buf[: min(n, chunk)])
        del buf[: len(out)]
        return out

    return read


@given(junk=st.binary(max_size=20).filter(lambda b: 0x5A not in b), payload=st.binary(max_size=50))
def test_read_reply_skips_junk_and_reassembles(junk, payload):
    frame, skipped = pr.read_reply(reader(junk + pr.encode_reply(6, 0, payload) + b"\xff"))
    assert frame == pr.Frame(6, payload, 0) and skipped == len(junk)


@given(cut=st.integers(0, 12))
def test_read_reply_timeout_on_truncation(cut):
    f = pr.encode_reply(2, 0, b"12345678")
    with pytest.raises(pr.FrameTimeout):
        pr.read_reply(reader(f[:cut]))


def test_read_reply_gives_up_on_endless_junk():
    with pytest.raises(pr.ProtocolError, match="without a reply sync"):
        pr.read_reply(reader(bytes(100)), max_skip=50)


# ------------------------------------------------------------------------------- payloads
INFO = pr.Info(1, header_for(engine_params(NET)), 0x1234ABCD, pr.State.READY, 0, 48_000_000, 3_000_000)


def test_info_roundtrip():
    p = pr.info_payload(INFO)
    assert len(p) == 64 and p[2:50] == INFO.header.pack(crcs=False)
    assert pr.parse_info(p) == INFO
    assert INFO.state_name == "ready"


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda p: p[:-1], "64"),
        (lambda p: b"\x02\x00" + p[2:], "protocol version 2"),
        (lambda p: p[:2] + b"XSNN" + p[6:], "malformed network header"),
        (lambda p: p[:54] + b"\x07" + p[55:], "state 7"),
        (lambda p: p[:56] + bytes(4) + p[60:], "zero"),
    ],
)
def test_info_defects(change, message):
    with pytest.raises(pr.ProtocolError, match=message):
        pr.parse_info(change(pr.info_payload(INFO)))


def test_classify_roundtrip_and_defects():
    c = pr.Classified(3, tuple(range(-5, 5)), 2674)
    p = pr.classify_payload(c)
    assert len(p) == 45 and pr.parse_classify(p, 10) == c
    assert struct.unpack_from("<i", p, 1)[0] == -5
    with pytest.raises(pr.ProtocolError, match="1 \\+ 4\\*n_out"):
        pr.parse_classify(p[:-1])
    with pytest.raises(pr.ProtocolError, match="outputs"):
        pr.parse_classify(p, 9)
    with pytest.raises(pr.ProtocolError, match="class 10"):
        pr.parse_classify(bytes([10]) + p[1:])


def test_selftest_and_load_end():
    r = pr.SelftestResult(3, 2, 8000, bytes([7, 2, 1]))
    assert pr.parse_selftest(pr.selftest_payload(r)) == r
    p = pr.selftest_payload(r)
    assert p == bytes([3, 0, 0, 0, 7, 2, 1, 2, 0, 0, 0]) + struct.pack("<Q", 8000)  # classes first
    with pytest.raises(pr.ProtocolError, match="carries 2"):
        pr.parse_selftest(p[:-1])
    with pytest.raises(pr.ProtocolError, match="3 of 2"):
        pr.parse_selftest(pr.selftest_payload(pr.SelftestResult(2, 3, 0, b"\0\0")))
    assert pr.parse_load_end(struct.pack("<I", 0xDEADBEEF)) == 0xDEADBEEF
    with pytest.raises(pr.ProtocolError):
        pr.parse_load_end(b"\0")


@given(st.binary(max_size=80))
def test_payload_parsers_fuzz(data):
    for parse in (pr.parse_info, pr.parse_classify, pr.parse_selftest, pr.parse_load_end):
        try:
            parse(data)
        except pr.ProtocolError:
            pass


def test_status_text_and_sizes():
    assert pr.status_text(7).startswith("IMAGE_CRC")
    assert pr.status_text(99) == "unknown status 99"
    assert pr.request_payload_size(pr.Cmd.CLASSIFY) == (784, 784)
    assert pr.request_payload_size(0x7F) is None
