"""Host client of the board's UART protocol (docs/board.md), over any pyserial URL.

``BoardClient("/dev/ttyUSB1")`` talks to an iCEBreaker; ``BoardClient("socket://127.0.0.1:PORT")``
to the simulated board of :mod:`icespike.board.sim`, through the same code. Every request is
one frame and waits for one reply; a reply with a status other than OK raises
:class:`BoardError` (its ``status`` says which), a reply that does not arrive in time raises
:class:`BoardTimeout`.

:func:`stream_images` is the comparison ``board run`` and ``board sim`` make: every test image
classified by the board, every class and score compared with :mod:`icespike.golden`.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import serial

from .. import golden
from ..export import engine_params
from ..network import IntNetwork
from .image import NET_HEADER_BYTES, ImageError, header_for, parse_network_image
from .protocol import (
    MAX_LOAD_CHUNK,
    PIXELS,
    Classified,
    Cmd,
    Frame,
    FrameTimeout,
    Info,
    ProtocolError,
    SelftestResult,
    State,
    Status,
    encode_request,
    parse_classify,
    parse_info,
    parse_load_end,
    parse_selftest,
    read_reply,
    status_text,
)

__all__ = [
    "DEFAULT_BAUD",
    "BoardError",
    "BoardTimeout",
    "BoardUnreachable",
    "BoardClient",
    "check_board_runs",
    "stream_images",
]

DEFAULT_BAUD = 3_000_000


class BoardError(RuntimeError):
    """The board answered a request with an error status (``status``)."""

    def __init__(self, cmd: int, status: int, message: str | None = None):
        self.cmd = cmd
        self.status = status
        name = Cmd(cmd).name if cmd in tuple(Cmd) else f"command {cmd:#04x}"
        super().__init__(message or f"board refused {name}: {status_text(status)}")


class BoardTimeout(OSError):
    """No (complete) reply arrived in time: no board, wrong port or baud, or a hung board."""


class BoardUnreachable(OSError):
    """The serial port or URL cannot be opened."""


class BoardClient:
    """One connection to a board. Use as a context manager or call :meth:`close`.

    ``url``: a serial device or any pyserial URL (``socket://HOST:PORT``, ``loop://``).
    ``timeout``: seconds to wait for each reply (SELFTEST adds ``per_image_s`` per image).
    """

    def __init__(
        self,
        url: str,
        *,
        baud: int = DEFAULT_BAUD,
        timeout: float = 2.0,
        per_image_s: float = 0.01,
        port=None,
    ):
        self.url = url
        self.timeout = float(timeout)
        self.per_image_s = float(per_image_s)
        if port is not None:
            self.port = port
        else:
            try:
                self.port = serial.serial_for_url(url, baudrate=baud, timeout=min(self.timeout, 0.5))
            except (serial.SerialException, ValueError, OSError) as e:
                raise BoardUnreachable(f"cannot open board port {url}: {e}") from None

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        self.port.close()

    def __enter__(self) -> BoardClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def write_raw(self, data: bytes) -> None:
        """Send bytes as they are (tests send malformed frames this way)."""
        try:
            self.port.write(bytes(data))
            self.port.flush()
        except (serial.SerialException, OSError) as e:
            raise BoardUnreachable(f"{self.url}: write failed: {e}") from None

    def read_reply(self, timeout: float | None = None) -> Frame:
        """Wait for the next reply frame (bytes before its sync byte are skipped)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)

        def read(n: int) -> bytes:
            while True:
                try:
                    got = self.port.read(n)
                except (serial.SerialException, OSError) as e:
                    raise BoardUnreachable(f"{self.url}: read failed: {e}") from None
                if got or time.monotonic() >= deadline:
                    return got

        try:
            frame, _ = read_reply(read)
        except FrameTimeout as e:
            raise BoardTimeout(f"{self.url}: no reply from the board: {e}") from None
        return frame

    def request(self, cmd: int, payload: bytes = b"", *, timeout: float | None = None) -> Frame:
        """Send one request frame and return the board's reply frame (any status)."""
        self.write_raw(encode_request(cmd, payload))
        frame = self.read_reply(timeout)
        if frame.cmd != int(cmd):
            raise ProtocolError(f"board answered command {frame.cmd:#04x} to command {int(cmd):#04x}")
        return frame

    def call(self, cmd: int, payload: bytes = b"", *, timeout: float | None = None) -> bytes:
        """:meth:`request`, raising BoardError unless the status is OK; returns the payload."""
        frame = self.request(cmd, payload, timeout=timeout)
        if frame.status != Status.OK:
            raise BoardError(cmd, frame.status)
        return frame.payload

    # ------------------------------------------------------------------ commands
    def info(self, timeout: float | None = None) -> Info:
        return parse_info(self.call(Cmd.INFO, timeout=timeout))

    def wait_ready(self, timeout_s: float = 30.0, attempt_s: float = 1.0) -> Info:
        """INFO until the board answers and has left the booting state (a board reading its flash
        after configuration or a reset does not listen yet); returns the last INFO."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                info = self.info(timeout=attempt_s)
                if info.state != State.BOOTING:
                    return info
            except (BoardTimeout, ProtocolError, BoardError):
                if time.monotonic() > deadline:
                    raise
                self.port.reset_input_buffer()  # a late or partial answer to an earlier attempt
            if time.monotonic() > deadline:
                return info

    def classify(self, pixels, n_out: int | None = None) -> Classified:
        """Class, scores and engine cycles of one image (784 pixels 0..255)."""
        x = np.asarray(pixels).reshape(-1)
        if x.size != PIXELS or x.dtype.kind not in "iu" or x.min() < 0 or x.max() > 255:
            raise ValueError(f"an image is {PIXELS} integer pixels 0..255")
        return parse_classify(self.call(Cmd.CLASSIFY, x.astype(np.uint8).tobytes()), n_out)

    def load(self, image: bytes, *, chunk: int = MAX_LOAD_CHUNK) -> int:
        """Write a network image into the board's RAM (LOAD_BEGIN, LOAD_DATA..., LOAD_END).

        The image is checked here first (ImageError), the board checks it again. Returns the
        CRC-32 the board computed, which must equal the header's.
        """
        if not 1 <= chunk <= MAX_LOAD_CHUNK:
            raise ValueError(f"LOAD_DATA chunks are 1..{MAX_LOAD_CHUNK} bytes, got {chunk}")
        h, _, _ = parse_network_image(image)
        self.call(Cmd.LOAD_BEGIN, image[:NET_HEADER_BYTES])
        payload = image[NET_HEADER_BYTES:]
        for i in range(0, len(payload), chunk):
            self.call(Cmd.LOAD_DATA, payload[i : i + chunk])
        crc = parse_load_end(self.call(Cmd.LOAD_END))
        if crc != h.payload_crc:
            raise ProtocolError(f"board computed CRC-32 {crc:#010x}, the image has {h.payload_crc:#010x}")
        return crc

    def selftest(self, n: int) -> SelftestResult:
        """Classify the first ``n`` test images stored in flash on the board itself."""
        if not 0 <= n < 1 << 32:
            raise ValueError(f"SELFTEST takes 0..2^32-1 images, got {n}")
        r = parse_selftest(
            self.call(Cmd.SELFTEST, struct.pack("<I", n), timeout=self.timeout + n * self.per_image_s)
        )
        if r.n != n:
            raise ProtocolError(f"SELFTEST of {n} images answered for {r.n}")
        return r


# ------------------------------------------------------------------------------------ runs
def check_board_runs(info: Info, net: IntNetwork, image: bytes) -> None:
    """Raise ValueError unless the board is ready and runs exactly ``net`` (header and CRC)."""
    if info.state != State.READY:
        raise ValueError(
            f"board is not ready (state {info.state_name}, last error {status_text(info.last_error)})"
        )
    want = header_for(engine_params(net))
    bad = want.mismatches(info.header)
    if bad:
        raise ValueError("the board's bitstream was built for another network: " + ", ".join(bad))
    h, _, _ = parse_network_image(image)
    if info.network_crc != h.payload_crc:
        raise ImageError(
            f"the board runs network CRC-32 {info.network_crc:#010x}, this network is "
            f"{h.payload_crc:#010x} (flash it, or load it with --load)"
        )


@dataclass
class RunResult:
    images: int
    mismatches: int
    accuracy: float
    golden_accuracy: float
    images_per_s: float
    seconds: float
    cycles_mean: float
    first_mismatches: list


def stream_images(
    client: BoardClient,
    net: IntNetwork,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """CLASSIFY every image on the board and compare class and all scores with the golden model."""
    x = np.asarray(images).reshape(len(images), -1)
    y = np.asarray(labels)
    g = golden.run(net, x)
    n_out = net.layers[-1].n_out
    preds = np.zeros(len(x), np.int64)
    bad: list = []
    cycles = []
    t0 = time.perf_counter()
    for i in range(len(x)):
        r = client.classify(x[i], n_out)
        preds[i] = r.cls
        cycles.append(r.cycles)
        want = tuple(int(v) for v in g.scores[i])
        if r.cls != int(g.predictions[i]) or r.scores != want:
            bad.append(
                {"image": i, "board_class": r.cls, "golden_class": int(g.predictions[i]),
                 "board_scores": list(r.scores), "golden_scores": list(want)}
            )  # fmt: skip
        if progress:
            progress(i + 1)
    dt = time.perf_counter() - t0
    return RunResult(
        images=len(x),
        mismatches=len(bad),
        accuracy=golden.accuracy(preds, y),
        golden_accuracy=golden.accuracy(g.predictions, y),
        images_per_s=len(x) / dt if dt > 0 else float("inf"),
        seconds=dt,
        cycles_mean=float(np.mean(cycles)) if cycles else float("nan"),
        first_mismatches=bad[:5],
    )
