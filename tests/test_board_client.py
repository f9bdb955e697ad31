"""icespike.board.client and the `icespike board` commands against a board stand-in on a TCP socket.

The stand-in (FakeBoard) answers the protocol of docs/board.md from Python, classifying with
icespike.golden: it checks the host side (framing, timeouts, payload parsing, the comparison
`board run` makes, the CLI's errors) without a simulator. Whether the RTL answers the same way
is verif/test_board.py's job.
"""

from __future__ import annotations

import json
import socket
import struct
import threading

import numpy as np
import pytest

from icespike import golden
from icespike.board import build as bb
from icespike.board import protocol as pr
from icespike.board.client import BoardClient, BoardError, BoardTimeout, BoardUnreachable, stream_images
from icespike.board.image import (
    NET_HEADER_BYTES,
    ImageError,
    crc32,
    header_for,
    parse_header,
    parse_network_image,
    parse_test_block,
    split_flash,
)
from icespike.cli import main
from icespike.export import engine_params, load_export

CKPT = "models/mnist-784-128-10-ternary.npz"


class FakeBoard:
    """A socket server speaking the board protocol; classification by the golden model."""

    def __init__(self, build_dir, *, corrupt_scores: bool = False):
        self.net = load_export(build_dir / bb.EXPORT_SUBDIR)
        self.header = header_for(engine_params(self.net))
        net_img, tests = split_flash((build_dir / bb.FLASH_BIN).read_bytes())
        self.crc = parse_header(net_img).payload_crc
        self.tx, self.ty = parse_test_block(tests)
        self.corrupt_scores = corrupt_scores
        self.loading = None
        self.srv = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self.srv.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _ = self.srv.accept()
        f = conn.makefile("rb")
        while True:
            b = f.read(1)
            if not b:
                return
            if b[0] != pr.REQ_SYNC:
                continue
            hdr = f.read(3)
            cmd, n = struct.unpack("<BH", hdr)
            body = f.read(n + 1)
            status, payload = self._handle(cmd, hdr + body[:-1], body[-1], body[:-1])
            conn.sendall(pr.encode_reply(cmd, status, payload))

    def _handle(self, cmd, covered, crc, payload):
        if pr.crc8(covered) != crc:
            return pr.Status.BAD_CRC8, b""
        size = pr.request_payload_size(cmd)
        if size is None:
            return pr.Status.UNKNOWN_CMD, b""
        if not size[0] <= len(payload) <= size[1]:
            return pr.Status.BAD_LENGTH, b""
        if cmd == pr.Cmd.INFO:
            info = pr.Info(1, self.header, self.crc, pr.State.READY, 0, 48_000_000, 3_000_000)
            return pr.Status.OK, pr.info_payload(info)
        if cmd == pr.Cmd.CLASSIFY:
            g = golden.run(self.net, np.frombuffer(payload, np.uint8)[None, :])
            scores = tuple(int(v) for v in g.scores[0])
            if self.corrupt_scores:
                scores = (scores[0] + 1, *scores[1:])
            return pr.Status.OK, pr.classify_payload(pr.Classified(int(g.predictions[0]), scores, 2600))
        if cmd == pr.Cmd.LOAD_BEGIN:
            h = parse_header(payload)
            if h.mismatches(self.header):
                return pr.Status.SHAPE_MISMATCH, b""
            self.loading = (h, bytearray())
            return pr.Status.OK, b""
        if cmd == pr.Cmd.LOAD_DATA:
            self.loading[1].extend(payload)
            return pr.Status.OK, b""
        if cmd == pr.Cmd.LOAD_END:
            h, data = self.loading
            self.crc = crc32(bytes(data))
            return (pr.Status.OK if self.crc == h.payload_crc else pr.Status.IMAGE_CRC), struct.pack(
                "<I", self.crc
            )
        if cmd == pr.Cmd.SELFTEST:
            (n,) = struct.unpack("<I", payload)
            if n > len(self.tx):
                return pr.Status.SELFTEST_RANGE, b""
            p = golden.run(self.net, self.tx[:n]).predictions
            r = pr.SelftestResult(n, int((p == self.ty[:n]).sum()), 2600 * n, bytes(p.astype(np.uint8)))
            return pr.Status.OK, pr.selftest_payload(r)
        raise AssertionError(cmd)


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("board")
    assert main(["board", "build", CKPT, "--no-synth", "--test-images", "30", "--out", str(d)]) == 0
    return d


def test_build_no_synth_report(build_dir, capsys):
    rep = json.loads((build_dir / bb.REPORT_JSON).read_text())
    for k in ("board", "fits", "lut4", "ebr", "spram", "dsp", "clock_mhz", "fmax_mhz", "timing_met",
              "engine_inferences_per_s", "uart_inferences_per_s", "bitstream", "flash_image"):  # fmt: skip
        assert k in rep
    assert rep["board"] == "icebreaker" and rep["bitstream"] is None and rep["synthesised"] is False
    # 789 request + 51 reply bytes at 10 bits per byte and 3 Mbaud, plus the engine at its clock
    clk = rep["clock_mhz"] * 1e6
    want = 1 / (840 * 10 / 3e6 + rep["cycles_per_inference"] / clk)
    assert rep["uart_inferences_per_s"] == pytest.approx(want, abs=0.06)
    assert rep["engine_inferences_per_s"] == pytest.approx(clk / rep["cycles_per_inference"], abs=0.06)
    net_img, tests = split_flash((build_dir / bb.FLASH_BIN).read_bytes())
    assert net_img == (build_dir / bb.NETWORK_BIN).read_bytes()
    assert len(parse_test_block(tests)[0]) == 30


def test_info_classify_load_selftest(build_dir):
    fb = FakeBoard(build_dir)
    with BoardClient(fb.url, timeout=5) as c:
        info = c.info()
        assert info.header.shape_fields() == fb.header.shape_fields() and info.state == pr.State.READY
        x = fb.tx[:3]
        g = golden.run(fb.net, x)
        r = c.classify(x[0], 10)
        assert r.cls == g.predictions[0] and r.scores == tuple(g.scores[0])
        img = (build_dir / bb.NETWORK_BIN).read_bytes()
        assert c.load(img, chunk=1000) == parse_network_image(img)[0].payload_crc
        s = c.selftest(5)
        assert s.n == 5 and list(s.classes) == list(golden.run(fb.net, fb.tx[:5]).predictions)
        with pytest.raises(BoardError, match="SELFTEST_RANGE") as e:
            c.selftest(31)
        assert e.value.status == pr.Status.SELFTEST_RANGE
        # malformed frames: error replies, then the link works
        c.write_raw(pr.encode_request(pr.Cmd.INFO)[:-1] + b"\x00")
        assert c.read_reply().status == pr.Status.BAD_CRC8
        assert c.request(pr.Cmd.CLASSIFY, bytes(10)).status == pr.Status.BAD_LENGTH
        assert c.request(0x7E).status == pr.Status.UNKNOWN_CMD
        bad = bytearray(img[:NET_HEADER_BYTES])
        bad[20] ^= 1  # threshold; header CRC repaired so the shape check must catch it
        bad[44:48] = struct.pack("<I", crc32(bytes(bad[:44])))
        assert c.request(pr.Cmd.LOAD_BEGIN, bytes(bad)).status == pr.Status.SHAPE_MISMATCH
        assert c.info().state == pr.State.READY
        with pytest.raises(ImageError):
            c.load(img[:-1])  # checked on the host before a byte is sent
        with pytest.raises(ValueError, match="784 integer pixels"):
            c.classify(np.zeros(783, np.uint8))


def test_stream_images_counts_score_mismatches(build_dir):
    fb = FakeBoard(build_dir, corrupt_scores=True)
    with BoardClient(fb.url, timeout=5) as c:
        r = stream_images(c, fb.net, fb.tx[:4], fb.ty[:4])
    assert r.images == 4 and r.mismatches == 4  # class right, one score off: still a mismatch
    assert r.first_mismatches[0]["board_scores"][0] == r.first_mismatches[0]["golden_scores"][0] + 1


def test_cli_run_and_selftest(build_dir, capsys):
    fb = FakeBoard(build_dir)
    rc = main(["board", "run", "--port", fb.url, "--net", str(build_dir), "--images", "6", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["images"] == 6 and out["mismatches"] == 0 and out["images_per_s"] > 0
    fb = FakeBoard(build_dir)
    rc = main(["board", "selftest", "--port", fb.url, "--net", str(build_dir), "--images", "10", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["images"] == 10 and out["mismatches"] == 0


def test_cli_run_refuses_another_network(build_dir, capsys):
    fb = FakeBoard(build_dir)
    fb.crc ^= 1
    rc = main(["board", "run", "--port", fb.url, "--net", str(build_dir), "--images", "2"])
    err = capsys.readouterr().err
    assert rc == 2 and "icespike: error: the board runs network CRC-32" in err


def test_no_board_on_the_port(capsys):
    srv = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    url = f"socket://127.0.0.1:{srv.getsockname()[1]}"
    with BoardClient(url, timeout=0.3) as c, pytest.raises(BoardTimeout, match="no reply"):
        c.info()
    with pytest.raises(BoardUnreachable, match="cannot open"):
        BoardClient("socket://127.0.0.1:1")
    rc = main(["board", "selftest", "--port", "/dev/ttyNOSUCH", "--images", "1"])
    assert rc == 2 and "icespike: error: cannot open board port /dev/ttyNOSUCH" in capsys.readouterr().err
    srv.close()


def test_loop_url_sees_its_own_request():
    with BoardClient("loop://", timeout=0.2) as c, pytest.raises(BoardTimeout):
        c.info()  # loop:// echoes the request (sync 0xA5), never a reply


# ------------------------------------------------------------------------------------ flash
def test_flash_errors(build_dir, tmp_path, monkeypatch, capsys):
    # no bitstream (built with --no-synth)
    assert main(["board", "flash", str(build_dir)]) == 2
    assert "no bitstream.bin" in capsys.readouterr().err
    d = tmp_path / "b"
    d.mkdir()
    (d / bb.FLASH_BIN).write_bytes((build_dir / bb.FLASH_BIN).read_bytes())
    (d / bb.BITSTREAM_BIN).write_bytes(b"\xff\x00\x00\xff" + bytes(100))
    # no programmer on PATH
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["board", "flash", str(d)]) == 2
    assert "no programmer found: install iceprog" in capsys.readouterr().err
    # a programmer that finds no board (what iceprog prints without an FTDI device)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "iceprog").write_text(
        "#!/bin/sh\necho 'init..'\necho \"Can't find iCE FTDI USB device (vendor_id 0x0403, device_id 0x6010 or 0x6014).\" >&2\n"
        "echo ABORT. >&2\nexit 2\n"
    )
    (fake / "iceprog").chmod(0o755)
    monkeypatch.setenv("PATH", str(fake))
    assert main(["board", "flash", str(d)]) == 2
    assert (
        "icespike: error: no board found: iceprog: Can't find iCE FTDI USB device" in capsys.readouterr().err
    )
    assert main(["board", "flash", str(d), "--dry-run", "--json"]) == 0
    cmds = json.loads(capsys.readouterr().out)["commands"]
    assert cmds[0].startswith("iceprog -o 0x0 ") and cmds[1] == f"iceprog -o 0x100000 {d / bb.FLASH_BIN}"
    # a corrupt flash image is refused before the programmer runs
    data = bytearray((d / bb.FLASH_BIN).read_bytes())
    data[60] ^= 1
    (d / bb.FLASH_BIN).write_bytes(bytes(data))
    assert main(["board", "flash", str(d), "--dry-run"]) == 2
    assert "payload CRC" in capsys.readouterr().err


def test_build_bad_inputs(tmp_path, capsys):
    assert main(["board", "build", "no/such.npz", "--no-synth", "--out", str(tmp_path)]) == 2
    assert "no such checkpoint" in capsys.readouterr().err
    assert main(["board", "build", CKPT, "--no-synth", "--test-images", "10001", "--out", str(tmp_path)]) == 2
    assert "--test-images must be 0..10000" in capsys.readouterr().err
