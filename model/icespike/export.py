"""Export an integer network to the network engine's files, and read such a directory back.

An export directory holds (docs/engine.md, section 2):

* ``w0.hex``  layer-0 weight image: ``N_IN * WPR`` 64-bit words, the ``N_HID`` codes of input
  pixel ``i`` in words ``i*WPR .. i*WPR+WPR-1``, neuron ``j`` in lane ``j % LANES`` of word
  ``i*WPR + j // LANES`` (``LANES = 64 // CODE_W0``);
* ``w1.hex``  output-layer weights: ``N_HID`` words of ``N_OUT * CODE_W1`` bits, the codes of
  hidden neuron ``j``'s column in word ``j``, output ``o`` at bits ``[o*CODE_W1 +: CODE_W1]``;
* ``b0.hex``, ``b1.hex`` (networks with biases only, ``HAS_BIAS = 1``): the hidden layer's
  ``N_HID`` integer biases as ``ACC_W``-bit and the output layer's ``N_OUT`` biases as
  ``SCORE_W``-bit two's-complement words, neuron ``j`` on line ``j``;
* ``net_params.vh``  every engine parameter as a `` `define SNN_<NAME> `` macro;
* ``manifest.json``  the network's integer parameters, the engine parameters, and the size and
  SHA-256 of every file.

:func:`load_export` verifies all of it and rebuilds the :class:`~icespike.network.IntNetwork`;
any file whose checksum, size, word width or parameters disagree raises :class:`ExportError`
naming the file and the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .formats import weight_format
from .network import IntLayer, IntNetwork

__all__ = [
    "WORD_W",
    "EngineParams",
    "ExportError",
    "engine_params",
    "check_engine",
    "derived_params",
    "pack_w0",
    "pack_w1",
    "unpack_w0",
    "unpack_w1",
    "pack_biases",
    "unpack_biases",
    "write_hex",
    "read_hex",
    "render_params_vh",
    "parse_params_vh",
    "export_network",
    "load_export",
    "load_network",
    "is_export_dir",
]

WORD_W = 64  # layer-0 weight word width: four SB_SPRAM256KA side by side
FORMAT_NAME = "icespike-export"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PARAMS_VH = "net_params.vh"
W0_HEX = "w0.hex"
W1_HEX = "w1.hex"
B0_HEX = "b0.hex"
B1_HEX = "b1.hex"


class ExportError(ValueError):
    """An export directory (or a network to export) does not match what the engine expects."""


def _clog2(n: int) -> int:
    """Smallest w with 2**w >= n (0 for n <= 1), as Verilog's $clog2."""
    return (int(n) - 1).bit_length() if n > 1 else 0


@dataclass(frozen=True)
class EngineParams:
    """The network engine's parameters for one network (the Verilog parameters of snn_engine)."""

    N_IN: int
    N_HID: int
    N_OUT: int
    T: int
    CODE_W0: int
    CODE_W1: int
    ACC_W: int
    MEM_W: int
    SCORE_W: int
    THRESHOLD: int
    LEAK_SHIFT: int
    RESET_SUBTRACT: int
    HAS_BIAS: int
    # derived (the RTL derives them the same way; exported for wrappers and loaders)
    LANES: int
    WPR: int
    W0_DEPTH: int
    W0_AW: int
    W1_DEPTH: int
    W1_DATA_W: int
    CLS_W: int
    HID_AW: int

    def verilog(self) -> dict[str, int]:
        """The parameters snn_engine takes (without the derived ones and file names)."""
        keys = (
            "N_IN N_HID N_OUT T CODE_W0 CODE_W1 ACC_W MEM_W SCORE_W THRESHOLD LEAK_SHIFT RESET_SUBTRACT HAS_BIAS"
        ).split()
        return {k: getattr(self, k) for k in keys}

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_manifest(cls, eng: dict) -> EngineParams:
        """From a manifest's ``engine`` section (``HAS_BIAS`` 0 when absent: exports before biases)."""
        return cls(**{k: int(eng.get(k, 0) if k == "HAS_BIAS" else eng[k]) for k in cls.__dataclass_fields__})


def engine_params(net: IntNetwork) -> EngineParams:
    """Derive the engine parameters of ``net``; raise ExportError if the engine cannot run it.

    The engine implements exactly one hidden LIF layer followed by the output integrator.
    """
    if len(net.layers) != 2:
        raise ExportError(
            f"the RTL engine runs one hidden layer; this network has {len(net.layers) - 1} hidden layers"
        )
    h, o = net.layers
    f0, f1 = weight_format(h.bits), weight_format(o.bits)
    p = EngineParams(
        N_IN=h.n_in,
        N_HID=h.n_out,
        N_OUT=o.n_out,
        T=int(net.timesteps),
        CODE_W0=f0.code_width,
        CODE_W1=f1.code_width,
        ACC_W=net.acc_width(0),
        MEM_W=net.mem_width(0),
        SCORE_W=net.score_width(),
        THRESHOLD=int(h.threshold),
        LEAK_SHIFT=int(h.leak_shift),
        RESET_SUBTRACT=1 if h.reset == "subtract" else 0,
        HAS_BIAS=1 if net.has_bias else 0,
        **derived_params(h.n_in, h.n_out, o.n_out, f0.code_width, f1.code_width),
    )
    check_engine(p)
    return p


def derived_params(n_in: int, n_hid: int, n_out: int, code_w0: int, code_w1: int) -> dict[str, int]:
    """The parameters snn_engine derives as localparams (widths ``(X > 2) ? $clog2(X) : 1``)."""
    lanes = WORD_W // code_w0
    wpr = -(-n_hid // lanes)
    w0_depth = n_in * wpr
    return {
        "LANES": lanes,
        "WPR": wpr,
        "W0_DEPTH": w0_depth,
        "W0_AW": max(1, _clog2(w0_depth)),
        "W1_DEPTH": n_hid,
        "W1_DATA_W": n_out * code_w1,
        "CLS_W": max(1, _clog2(n_out)),
        "HID_AW": max(1, _clog2(n_hid)),
    }


def check_engine(p: EngineParams) -> None:
    """Raise ExportError if ``rtl/snn_engine.v`` would refuse ``p`` at elaboration.

    One check per elaboration check of the engine (its ``initial`` block), in the same
    order, plus the leak-shift range of ``lif_neuron``. The options chosen at simulation or
    synthesis time (``P_LIF``, ``FIFO_DEPTH``, ``W0_SPRAM``) are checked where they are chosen.
    """
    widths = (1, 2, 4, 8, 16)
    problems = []
    if p.CODE_W0 not in widths or p.CODE_W1 not in widths:
        problems.append(f"code widths must be 1, 2, 4, 8 or 16, got CODE_W0={p.CODE_W0} CODE_W1={p.CODE_W1}")
    if p.N_HID < 2 or p.N_OUT < 1 or p.N_IN < 1:
        problems.append(
            f"the engine needs N_IN >= 1, N_HID >= 2 and N_OUT >= 1, got {p.N_IN}-{p.N_HID}-{p.N_OUT}"
        )
    if not 1 <= p.T <= 255:
        problems.append(f"T must be 1..255, got {p.T}")
    if p.MEM_W < 2 or not 1 <= p.THRESHOLD <= (1 << (p.MEM_W - 1)) - 1:
        problems.append(f"THRESHOLD {p.THRESHOLD} outside 1..2^(MEM_W-1)-1 (MEM_W {p.MEM_W})")
    if p.ACC_W < 8 + p.CODE_W0 + 1:
        problems.append(
            f"ACC_W {p.ACC_W} < 8 + CODE_W0 + 1 = {8 + p.CODE_W0 + 1}: the layer-0 current is narrower "
            f"than one pixel-by-code product; use more inputs or a wider code"
        )
    if p.SCORE_W < p.CODE_W1 + 1:
        problems.append(f"SCORE_W {p.SCORE_W} < CODE_W1 + 1 = {p.CODE_W1 + 1}")
    if not 0 <= p.LEAK_SHIFT < p.MEM_W:
        problems.append(f"LEAK_SHIFT {p.LEAK_SHIFT} outside 0..MEM_W-1 = 0..{p.MEM_W - 1}")
    if p.RESET_SUBTRACT not in (0, 1):
        problems.append(f"RESET_SUBTRACT must be 0 or 1, got {p.RESET_SUBTRACT}")
    if p.HAS_BIAS not in (0, 1):
        problems.append(f"HAS_BIAS must be 0 or 1, got {p.HAS_BIAS}")
    if problems:
        raise ExportError("the RTL engine cannot run this network: " + "; ".join(problems))


# ------------------------------------------------------------------------------------- packing
def _pack_rows(patterns: np.ndarray, code_w: int, per_word: int) -> list[int]:
    """Pack each row of ``patterns`` (R, K) into ``ceil(K/per_word)`` words, lane 0 in the LSBs."""
    rows, k = patterns.shape
    n_words = -(-k // per_word)
    padded = np.zeros((rows, n_words * per_word), dtype=np.int64)
    padded[:, :k] = patterns
    out: list[int] = []
    for r in range(rows):
        for w in range(n_words):
            word = 0
            lanes = padded[r, w * per_word : (w + 1) * per_word]
            for lane, p in enumerate(lanes.tolist()):
                word |= int(p) << (lane * code_w)
            out.append(word)
    return out


def pack_w0(net: IntNetwork) -> list[int]:
    """Layer-0 weight image: ``N_IN * WPR`` 64-bit words (Python ints), layout of docs/engine.md."""
    p = engine_params(net)
    fmt = weight_format(net.layers[0].bits)
    patterns = fmt.encode(net.layers[0].codes).T  # (N_IN, N_HID)
    return _pack_rows(patterns, p.CODE_W0, p.LANES)


def pack_w1(net: IntNetwork) -> list[int]:
    """Output-layer weight image: ``N_HID`` words of ``N_OUT * CODE_W1`` bits."""
    p = engine_params(net)
    fmt = weight_format(net.layers[1].bits)
    patterns = fmt.encode(net.layers[1].codes).T  # (N_HID, N_OUT)
    return _pack_rows(patterns, p.CODE_W1, p.N_OUT)


def _unpack_rows(words: list[int], rows: int, k: int, code_w: int, per_word: int) -> np.ndarray:
    n_words = -(-k // per_word)
    if len(words) != rows * n_words:
        raise ExportError(f"expected {rows * n_words} words, got {len(words)}")
    mask = (1 << code_w) - 1
    out = np.zeros((rows, n_words * per_word), dtype=np.int64)
    for idx, word in enumerate(words):
        r, w = divmod(idx, n_words)
        for lane in range(per_word):
            out[r, w * per_word + lane] = (word >> (lane * code_w)) & mask
    if np.any(out[:, k:]):
        r = int(np.nonzero(out[:, k:].any(axis=1))[0][0])
        raise ExportError(
            f"row {r}: the unused lanes after code {k - 1} hold nonzero bits (export writes zeros)"
        )
    return out[:, :k]


def unpack_w0(words: list[int], p: EngineParams, bits: int) -> np.ndarray:
    """Inverse of :func:`pack_w0`: (N_HID, N_IN) int64 codes."""
    pat = _unpack_rows(words, p.N_IN, p.N_HID, p.CODE_W0, p.LANES)
    return weight_format(bits).decode(pat).T.copy()


def unpack_w1(words: list[int], p: EngineParams, bits: int) -> np.ndarray:
    """Inverse of :func:`pack_w1`: (N_OUT, N_HID) int64 codes."""
    pat = _unpack_rows(words, p.N_HID, p.N_OUT, p.CODE_W1, p.N_OUT)
    return weight_format(bits).decode(pat).T.copy()


def pack_biases(net: IntNetwork) -> tuple[list[int], list[int]]:
    """Bias images (b0: ``ACC_W``-bit, b1: ``SCORE_W``-bit two's complement words), empty without biases."""
    if not net.has_bias:
        return [], []
    p = engine_params(net)
    return (
        [int(b) & ((1 << p.ACC_W) - 1) for b in net.layers[0].bias],
        [int(b) & ((1 << p.SCORE_W) - 1) for b in net.layers[1].bias],
    )


def unpack_biases(b0: list[int], b1: list[int], p: EngineParams) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`pack_biases`: the two int64 bias vectors."""

    def signed(words, w):
        return np.array([v - (1 << w) if v >> (w - 1) else v for v in words], np.int64)

    return signed(b0, p.ACC_W), signed(b1, p.SCORE_W)


# ------------------------------------------------------------------------------------- hex files
def write_hex(path: Path, words: list[int], width: int) -> None:
    """One word per line, ``ceil(width/4)`` hex digits, most significant first ($readmemh)."""
    digits = -(-width // 4)
    lines = []
    for w in words:
        if w < 0 or w >> width:
            raise ExportError(f"{path}: word {w:#x} does not fit {width} bits")
        lines.append(f"{w:0{digits}x}")
    Path(path).write_text("\n".join(lines) + "\n")


def _read_ascii(path: Path) -> str:
    try:
        return Path(path).read_bytes().decode("ascii")
    except UnicodeDecodeError as e:
        raise ExportError(f"{path}: not an ASCII text file (byte {e.start})") from None


def read_hex(path: Path, width: int, depth: int) -> list[int]:
    """Read a :func:`write_hex` file; raise ExportError on a wrong line count or word width."""
    digits = -(-width // 4)
    text = _read_ascii(path)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) != depth:
        raise ExportError(f"{path}: {len(lines)} words, the engine parameters need {depth}")
    out = []
    for n, ln in enumerate(lines, 1):
        if len(ln) != digits or not re.fullmatch(r"[0-9a-fA-F]+", ln):
            raise ExportError(
                f"{path}: line {n} is not a {width}-bit word of {digits} hex digits: {ln[:40]!r}"
            )
        v = int(ln, 16)
        if v >> width:
            raise ExportError(f"{path}: line {n} value {ln} exceeds {width} bits")
        out.append(v)
    return out


# ------------------------------------------------------------------------------------- net_params.vh
def render_params_vh(p: EngineParams, w0_file: str = W0_HEX, w1_file: str = W1_HEX) -> str:
    """The generated Verilog header: one `` `define SNN_<NAME> value`` per engine parameter."""
    lines = [
        "// Generated by `icespike export`: parameters of snn_engine for this network.",
        "// Do not edit; re-export instead. File names are relative to the export directory.",
    ]
    for k, v in p.as_dict().items():
        lines.append(f"`define SNN_{k} {int(v)}")
    lines.append(f'`define SNN_W0_FILE "{w0_file}"')
    lines.append(f'`define SNN_W1_FILE "{w1_file}"')
    lines.append(f'`define SNN_B0_FILE "{B0_HEX if p.HAS_BIAS else ""}"')
    lines.append(f'`define SNN_B1_FILE "{B1_HEX if p.HAS_BIAS else ""}"')
    return "\n".join(lines) + "\n"


def parse_params_vh(text: str) -> dict[str, int | str]:
    """Parse the macros of :func:`render_params_vh` back into a dict (names without SNN_)."""
    out: dict[str, int | str] = {}
    for ln in text.splitlines():
        m = re.fullmatch(r"\s*`define\s+SNN_(\w+)\s+(.+?)\s*", ln)
        if not m:
            continue
        name, val = m.groups()
        if val.startswith('"'):
            out[name] = val.strip('"')
        else:
            try:
                out[name] = int(val)
            except ValueError:
                raise ExportError(f"{PARAMS_VH}: SNN_{name} is not an integer: {val!r}") from None
    return out


# ------------------------------------------------------------------------------------- export
def _json_int(v, what: str) -> int:
    """A manifest integer: a JSON number without fraction, not true/false."""
    if not isinstance(v, int) or isinstance(v, bool):
        raise TypeError(f"{what} must be an integer, got {v!r}")
    return v


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _network_section(net: IntNetwork) -> dict:
    h, o = net.layers
    return {
        "sizes": net.sizes,
        "timesteps": int(net.timesteps),
        "layers": [
            {
                "bits": int(h.bits),
                "threshold": int(h.threshold),
                "leak_shift": int(h.leak_shift),
                "reset": h.reset,
                "mem_width": int(net.mem_width(0)),
                "mem_width_given": h.mem_width is not None,
            },
            {"bits": int(o.bits)},
        ],
        "biases": bool(net.has_bias),
    }


def _jsonable_meta(meta: dict) -> dict:
    out = {}
    for k, v in (meta or {}).items():
        try:
            json.dumps(v)
        except TypeError:
            v = str(v)
        out[str(k)] = v
    return out


def export_network(net: IntNetwork, out_dir: str | Path, *, source: str | None = None) -> dict:
    """Write ``net`` to ``out_dir`` (created if needed). Returns the manifest dict."""
    out = Path(out_dir)
    p = engine_params(net)
    out.mkdir(parents=True, exist_ok=True)
    write_hex(out / W0_HEX, pack_w0(net), WORD_W)
    write_hex(out / W1_HEX, pack_w1(net), p.W1_DATA_W)
    (out / PARAMS_VH).write_text(render_params_vh(p))
    files = {
        W0_HEX: {"role": "layer-0 weights", "words": p.W0_DEPTH, "width": WORD_W},
        W1_HEX: {"role": "output-layer weights", "words": p.W1_DEPTH, "width": p.W1_DATA_W},
        PARAMS_VH: {"role": "Verilog parameters"},
    }
    if p.HAS_BIAS:
        b0, b1 = pack_biases(net)
        write_hex(out / B0_HEX, b0, p.ACC_W)
        write_hex(out / B1_HEX, b1, p.SCORE_W)
        files[B0_HEX] = {"role": "hidden-layer biases", "words": p.N_HID, "width": p.ACC_W}
        files[B1_HEX] = {"role": "output-layer biases", "words": p.N_OUT, "width": p.SCORE_W}
    for name, entry in files.items():
        entry["bytes"] = (out / name).stat().st_size
        entry["sha256"] = _sha256(out / name)
    manifest = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "source": source,
        "network": _network_section(net),
        "engine": p.as_dict(),
        "files": files,
        "meta": _jsonable_meta(net.meta),
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def is_export_dir(path: str | Path) -> bool:
    """True if ``path`` is a directory holding a manifest.json."""
    return Path(path).is_dir() and (Path(path) / MANIFEST).is_file()


def load_export(directory: str | Path, *, expect: EngineParams | dict | None = None) -> IntNetwork:
    """Read an export directory back into an IntNetwork, verifying every file.

    Raises ExportError if the manifest is missing or malformed, a file is missing or its
    SHA-256 or size differs from the manifest, a hex file has the wrong number of words or
    word width, ``net_params.vh`` disagrees with the manifest, or (with ``expect``, the RTL's
    parameters) any engine parameter differs from what the RTL was built with.
    """
    d = Path(directory)
    mpath = d / MANIFEST
    if not mpath.is_file():
        raise ExportError(f"{d}: no {MANIFEST} (not an export directory)")
    try:
        man = json.loads(mpath.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExportError(f"{mpath}: not valid JSON ({e})") from None
    if not isinstance(man, dict) or man.get("format") != FORMAT_NAME:
        raise ExportError(f"{mpath}: not an {FORMAT_NAME} manifest")
    if man.get("version") != FORMAT_VERSION:
        raise ExportError(
            f"{mpath}: format version {man.get('version')!r}, this loader reads {FORMAT_VERSION}"
        )
    try:
        files = man["files"]
        eng = man["engine"]
        netsec = man["network"]
        l0, l1 = netsec["layers"]
    except (KeyError, TypeError, ValueError) as e:
        raise ExportError(f"{mpath}: missing or malformed field {e}") from None
    for what, v in (("files", files), ("engine", eng), ("network.layers[0]", l0), ("network.layers[1]", l1)):
        if not isinstance(v, dict):
            raise ExportError(f"{mpath}: field {what} must be an object, got {type(v).__name__}")
    has_bias = eng.get("HAS_BIAS", 0) == 1 and not isinstance(eng.get("HAS_BIAS"), bool)
    for name in (W0_HEX, W1_HEX, PARAMS_VH) + ((B0_HEX, B1_HEX) if has_bias else ()):
        if not isinstance(files.get(name), dict):
            raise ExportError(f"{mpath}: does not list {name}")
        f = d / name
        if not f.is_file():
            raise ExportError(f"{d}: missing {name}")
        size = f.stat().st_size
        if size != files[name].get("bytes"):
            raise ExportError(f"{f}: size {size} bytes, manifest says {files[name].get('bytes')}")
        digest = _sha256(f)
        if digest != files[name].get("sha256"):
            raise ExportError(
                f"{f}: SHA-256 {digest[:16]}... does not match the manifest ({str(files[name].get('sha256'))[:16]}...)"
            )
    try:
        p = EngineParams(
            **{
                k: _json_int(eng.get(k, 0) if k == "HAS_BIAS" else eng[k], f"engine.{k}")
                for k in EngineParams.__dataclass_fields__
            }
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ExportError(f"{mpath}: engine parameters incomplete or malformed ({e})") from None

    if p.CODE_W0 not in (1, 2, 4, 8, 16):
        raise ExportError(f"{mpath}: CODE_W0 {p.CODE_W0} is not a code width (1, 2, 4, 8, 16)")
    derived = derived_params(p.N_IN, p.N_HID, p.N_OUT, p.CODE_W0, p.CODE_W1)
    bad = {k: (getattr(p, k), v) for k, v in derived.items() if getattr(p, k) != v}
    if bad:
        desc = ", ".join(f"{k} {a} (follows: {b})" for k, (a, b) in bad.items())
        raise ExportError(
            f"{mpath}: derived engine parameters do not follow from the sizes and code widths: {desc}"
        )
    vh = parse_params_vh(_read_ascii(d / PARAMS_VH))
    files_vh = {"W0_FILE": W0_HEX, "W1_FILE": W1_HEX}
    files_vh.update(B0_FILE=B0_HEX if p.HAS_BIAS else "", B1_FILE=B1_HEX if p.HAS_BIAS else "")
    for k, v in {**p.as_dict(), **files_vh}.items():
        if vh.get(k) != v:
            raise ExportError(f"{d / PARAMS_VH}: SNN_{k} = {vh.get(k)!r}, manifest says {v!r}")

    try:
        bits0, bits1 = _json_int(l0["bits"], "bits"), _json_int(l1["bits"], "bits")
        f0, f1 = weight_format(bits0), weight_format(bits1)
    except (KeyError, TypeError, ValueError) as e:
        raise ExportError(f"{mpath}: layer bit widths missing or unsupported ({e})") from None
    if f0.code_width != p.CODE_W0 or f1.code_width != p.CODE_W1:
        raise ExportError(
            f"{mpath}: bit widths {bits0}/{bits1} need code widths {f0.code_width}/{f1.code_width}, "
            f"engine parameters say CODE_W0={p.CODE_W0} CODE_W1={p.CODE_W1}"
        )
    shapes = [(W0_HEX, WORD_W, p.W0_DEPTH), (W1_HEX, p.W1_DATA_W, p.W1_DEPTH)]
    if p.HAS_BIAS:
        shapes += [(B0_HEX, p.ACC_W, p.N_HID), (B1_HEX, p.SCORE_W, p.N_OUT)]
    for name, width, depth in shapes:
        if files[name].get("words") != depth or files[name].get("width") != width:
            raise ExportError(
                f"{mpath}: {name} listed as {files[name].get('words')} x {files[name].get('width')} bits, "
                f"the engine parameters need {depth} x {width}"
            )
    w0 = read_hex(d / W0_HEX, WORD_W, p.W0_DEPTH)
    w1 = read_hex(d / W1_HEX, p.W1_DATA_W, p.W1_DEPTH)
    try:
        codes0 = unpack_w0(w0, p, bits0)
    except ValueError as e:
        raise ExportError(f"{d / W0_HEX}: {e}") from None
    try:
        codes1 = unpack_w1(w1, p, bits1)
    except ValueError as e:
        raise ExportError(f"{d / W1_HEX}: {e}") from None
    bias0 = bias1 = None
    if p.HAS_BIAS:
        bias0, bias1 = unpack_biases(
            read_hex(d / B0_HEX, p.ACC_W, p.N_HID), read_hex(d / B1_HEX, p.SCORE_W, p.N_OUT), p
        )
    try:
        given = l0["mem_width_given"]
        if not isinstance(given, bool):
            raise TypeError(f"mem_width_given must be true or false, got {given!r}")
        meta = man.get("meta") or {}
        if not isinstance(meta, dict):
            raise TypeError(f"meta must be an object, got {type(meta).__name__}")
        net = IntNetwork(
            layers=[
                IntLayer(
                    codes=codes0,
                    bits=bits0,
                    threshold=_json_int(l0["threshold"], "threshold"),
                    leak_shift=_json_int(l0["leak_shift"], "leak_shift"),
                    reset=l0["reset"],
                    mem_width=_json_int(l0["mem_width"], "mem_width") if given else None,
                    bias=bias0,
                ),
                IntLayer(codes=codes1, bits=bits1, bias=bias1),
            ],
            timesteps=_json_int(netsec["timesteps"], "timesteps"),
            meta=dict(meta),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ExportError(f"{mpath}: network section malformed or illegal ({e})") from None
    if l0.get("mem_width") != net.mem_width(0) or netsec.get("sizes") != net.sizes:
        raise ExportError(
            f"{mpath}: network section (sizes {netsec.get('sizes')!r}, mem_width {l0.get('mem_width')!r}) "
            f"does not describe the weight files ({net.sizes}, {net.mem_width(0)})"
        )
    again = engine_params(net)
    if again != p:
        diff = {k: (v, getattr(again, k)) for k, v in p.as_dict().items() if getattr(again, k) != v}
        raise ExportError(f"{mpath}: engine parameters do not match the network they describe: {diff}")
    if expect is not None:
        exp = expect.as_dict() if isinstance(expect, EngineParams) else dict(expect)
        bad = {k: (exp[k], getattr(p, k)) for k in exp if k in p.as_dict() and getattr(p, k) != exp[k]}
        if bad:
            desc = ", ".join(f"{k}: RTL {a}, files {b}" for k, (a, b) in bad.items())
            raise ExportError(f"{d}: export does not match the RTL parameters ({desc})")
    return net


def load_network(path: str | Path) -> IntNetwork:
    """An IntNetwork from an export directory or a checkpoint file (via icespike.checkpoint)."""
    p = Path(path)
    if p.is_dir():
        return load_export(p)
    if not p.exists():
        raise ExportError(f"{p}: no such checkpoint file or export directory")
    try:
        from .checkpoint import load_checkpoint  # noqa: PLC0415 - optional module
    except ImportError:
        raise ExportError(
            f"{p}: reading checkpoints needs icespike.checkpoint, which is not available"
        ) from None
    return load_checkpoint(p).to_int_network()
