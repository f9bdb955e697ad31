"""icespike.board.image: network image, test-image block and flash.bin bytes (docs/board.md)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from icespike.board import image as im
from icespike.export import engine_params, pack_w0, pack_w1
from icespike.network import IntLayer, IntNetwork
from random_codes import random_codes


def small_net(bits: int = 2, sizes=(784, 40, 10), seed: int = 0, threshold: int = 300) -> IntNetwork:
    rng = np.random.default_rng(seed)
    return IntNetwork(
        [
            IntLayer(random_codes(rng, bits, (sizes[1], sizes[0])), bits, threshold=threshold, leak_shift=4),
            IntLayer(random_codes(rng, bits, (sizes[2], sizes[1])), bits),
        ],
        timesteps=8,
    )


NET = small_net()
IMAGE = im.network_image(NET)


@pytest.mark.parametrize("bits", (16, 8, 4, 2, 1))
def test_image_holds_the_export_words(bits):
    net = small_net(bits, sizes=(784, 24, 10), seed=bits)
    data = im.network_image(net)
    h, w0, w1 = im.parse_network_image(data, expect=engine_params(net))
    p = engine_params(net)
    assert w0 == pack_w0(net) and w1 == pack_w1(net)
    assert (h.n_in, h.n_hid, h.n_out, h.code_w0, h.code_w1, h.T) == (784, 24, 10, p.CODE_W0, p.CODE_W1, 8)
    assert h.threshold == p.THRESHOLD and h.leak_shift == 4 and h.reset_subtract == 1
    assert len(data) == 48 + 8 * p.W0_DEPTH + -(-p.W1_DATA_W // 8) * p.W1_DEPTH
    # the spec's byte offsets, read independently of the struct
    assert data[:4] == b"ISNN" and struct.unpack_from("<HH", data, 4) == (1, 48)
    assert struct.unpack_from("<I", data, 44)[0] == zlib.crc32(data[:44])
    assert struct.unpack_from("<I", data, 40)[0] == zlib.crc32(data[48:])
    assert int.from_bytes(data[48:56], "little") == w0[0]


def test_header_pack_parse_roundtrip_and_info_form():
    h = im.parse_header(IMAGE)
    assert h.pack() == IMAGE[:48]
    zeroed = h.pack(crcs=False)
    assert zeroed[40:48] == bytes(8)
    with pytest.raises(im.ImageError, match="header CRC"):
        im.parse_header(zeroed)
    assert im.parse_header(zeroed, check_crc=False).shape_fields() == h.shape_fields()


@pytest.mark.parametrize(
    "offset,value,message",
    [
        (0, ord("X"), "magic"),
        (4, 2, "version"),
        (6, 40, "header size"),
        (8, 0, "header CRC"),  # any change of a field without fixing the CRC
    ],
)
def test_header_defects_named(offset, value, message):
    bad = bytearray(IMAGE)
    bad[offset] = value
    with pytest.raises(im.ImageError, match=message):
        im.parse_network_image(bytes(bad))


def _with_field(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    """Change one header field and repair the header CRC, so a deeper check must catch it."""
    b = bytearray(data)
    struct.pack_into(fmt, b, offset, value)
    struct.pack_into("<I", b, 44, zlib.crc32(bytes(b[:44])))
    return bytes(b)


@pytest.mark.parametrize(
    "offset,fmt,value,message",
    [
        (19, "<B", 1, "flags"),
        (14, "<B", 3, "code_w0"),
        (15, "<B", 0, "code_w1"),
        (16, "<B", 0, "T = 0"),
        (18, "<B", 2, "reset_subtract"),
        (20, "<I", 0, "threshold"),
        (24, "<I", 1, "w0_words"),
        (28, "<I", 3, "w1_words"),
        (32, "<B", 9, "w1_word_bytes"),
        (33, "<B", 1, "bytes 33..35"),
        (36, "<I", 5, "payload_bytes"),
        (40, "<I", 5, "payload CRC"),
        (10, "<H", 0, "empty layer"),
    ],
)
def test_field_defects_named_after_crc_repair(offset, fmt, value, message):
    with pytest.raises(im.ImageError, match=message):
        im.parse_network_image(_with_field(IMAGE, offset, fmt, value))


def test_shape_mismatch_against_the_bitstream():
    other = small_net(sizes=(784, 40, 10), threshold=301)
    with pytest.raises(im.ImageError, match="threshold 300 .image. vs 301"):
        im.parse_network_image(IMAGE, expect=engine_params(other))
    im.parse_network_image(IMAGE, expect=engine_params(NET))


def test_length_defects():
    with pytest.raises(im.ImageError, match="header is 47 bytes"):
        im.parse_network_image(IMAGE[:47])
    with pytest.raises(im.ImageError, match="its header says"):
        im.parse_network_image(IMAGE[:-1])
    with pytest.raises(im.ImageError, match="its header says"):
        im.parse_network_image(IMAGE + b"\0")


def test_w1_word_wider_than_outputs():
    net = small_net(bits=2, sizes=(784, 8, 3))  # 6 bits of w1 in a 1-byte word: 2 spare bits
    data = bytearray(im.network_image(net))
    data[-1] |= 0x80
    payload = bytes(data[48:])
    struct.pack_into("<I", data, 40, zlib.crc32(payload))
    struct.pack_into("<I", data, 44, zlib.crc32(bytes(data[:44])))
    with pytest.raises(im.ImageError, match="wider than 6 bits"):
        im.parse_network_image(bytes(data))


BLOCK = im.test_block(np.arange(2 * 784).reshape(2, 784) % 256, np.array([3, 7]))
PARSERS = {"network image": (IMAGE, im.parse_network_image), "test-image block": (BLOCK, im.parse_test_block)}


@pytest.mark.parametrize("what", sorted(PARSERS))
@given(data=st.data(), flip=st.integers(1, 255))
def test_every_single_byte_corruption_is_refused(what, data, flip):
    good, parse = PARSERS[what]
    bad = bytearray(good)
    bad[data.draw(st.integers(0, len(good) - 1))] ^= flip
    with pytest.raises(im.ImageError):
        parse(bytes(bad))


@pytest.mark.parametrize("what", sorted(PARSERS))
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_give_image_error_only(what, data):
    with pytest.raises(im.ImageError):
        PARSERS[what][1](data)


@given(prefix=st.integers(0, 47), tail=st.binary(min_size=0, max_size=60))
def test_header_fuzz_one_error_type(prefix, tail):
    data = IMAGE[:prefix] + tail
    try:
        im.parse_header(data)
    except im.ImageError:
        pass


def test_model_image_fits_the_flash_slot():
    from icespike.export import load_network

    for name in ("ternary", "binary"):
        data = im.network_image(load_network(f"models/mnist-784-128-10-{name}.npz"))
        assert len(data) <= im.FLASH_NET_MAX


def test_image_too_big_for_slot():
    big = small_net(bits=16, sizes=(784, 200, 10))  # 313,600 bytes of layer 0 > 0x40000
    with pytest.raises(im.ImageError, match="flash slot"):
        im.network_image(big)


# ------------------------------------------------------------------------------- test-image block
def _imgs(n=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 784), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def test_test_block_roundtrip_and_layout():
    x, y = _imgs()
    blk = im.test_block(x.reshape(5, 28, 28), y)
    assert len(blk) == 16 + 5 * 785 + 4
    assert blk[:4] == b"ISIM" and struct.unpack_from("<HHIHH", blk, 4) == (1, 16, 5, 784, 0)
    assert blk[16] == y[0] and blk[17 : 17 + 784] == x[0].tobytes()
    x2, y2 = im.parse_test_block(blk)
    assert (x2 == x).all() and (y2 == y).all()


def test_test_block_bad_input():
    x, y = _imgs()
    with pytest.raises(im.ImageError, match="shape"):
        im.test_block(x.reshape(-1), y)
    short = im.test_block(x[:, :700], y)  # another pixel count is a block, not the board's
    with pytest.raises(im.ImageError, match="has 700 pixels per image, the board takes 784"):
        im.parse_test_block(short)
    assert im.parse_test_block(short, pixels=700)[0].shape == (len(x), 700)
    with pytest.raises(im.ImageError, match="labels"):
        im.test_block(x, y[:3])


# ------------------------------------------------------------------------------- flash.bin
def test_flash_layout(tmp_path):
    x, y = _imgs(3)
    blk = im.test_block(x, y)
    path = im.write_flash(tmp_path / "flash.bin", IMAGE, blk)
    data = path.read_bytes()
    assert len(data) == im.FLASH_NET_MAX + len(blk)
    assert data[: len(IMAGE)] == IMAGE
    assert set(data[len(IMAGE) : im.FLASH_NET_MAX]) == {0xFF}
    assert data[im.FLASH_TEST_OFFSET - im.FLASH_NET_OFFSET :] == blk
    assert im.split_flash(data) == (IMAGE, blk)
    assert (im.FLASH_NET_OFFSET, im.FLASH_TEST_OFFSET) == (0x100000, 0x140000)


def test_flash_split_refuses_a_corrupt_network():
    x, y = _imgs(1)
    data = bytearray(im.flash_bytes(IMAGE, im.test_block(x, y)))
    data[100] ^= 1
    with pytest.raises(im.ImageError, match="payload CRC"):
        im.split_flash(bytes(data))


def test_all_mnist_test_images_fit(mnist):
    blk_bytes = 16 + len(mnist.test_images) * 785 + 4
    assert im.FLASH_TEST_OFFSET + blk_bytes <= im.FLASH_SIZE


def test_a_network_with_biases_is_refused():
    """Format version 1 has no bias section: a biased network gets one clear error, no image."""
    rng = np.random.default_rng(3)
    net = IntNetwork(
        [
            IntLayer(rng.integers(-1, 2, (40, 784)), 2, threshold=900, bias=rng.integers(-50, 50, 40)),
            IntLayer(rng.integers(-1, 2, (10, 40)), 2, bias=rng.integers(-5, 5, 10)),
        ],
        4,
    )
    with pytest.raises(im.ImageError, match=r"format version 1 carries no biases"):
        im.network_image(net)


def test_image_refuses_more_than_one_hidden_layer():
    rng = np.random.default_rng(0)
    net = IntNetwork(
        [
            IntLayer(random_codes(rng, 2, (16, 784)), 2, threshold=300),
            IntLayer(random_codes(rng, 2, (8, 16)), 2, threshold=3),
            IntLayer(random_codes(rng, 2, (10, 8)), 2),
        ],
        16,
    )
    with pytest.raises(
        im.ImageError, match=r"^network image format version 1 carries one hidden layer; this network has 2$"
    ):
        im.network_image(net)
