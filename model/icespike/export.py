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
    "hidden_layout",
    "MAX_HIDDEN_LAYERS",
    "LAYER_VECTORS",
    "pack_layer_vector",
    "unpack_layer_vector",
    "verilog_literal",
    "SIZED_PARAMS",
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
    # depth: hidden layers 1..N_LAYERS-1, one entry per layer (empty for one hidden layer);
    # exported only when N_LAYERS > 1, so a one-hidden-layer export is unchanged
    N_LAYERS: int = 1
    N_HID_L: tuple[int, ...] = ()
    ACC_W_L: tuple[int, ...] = ()
    MEM_W_L: tuple[int, ...] = ()
    THRESHOLD_L: tuple[int, ...] = ()
    LEAK_SHIFT_L: tuple[int, ...] = ()
    RESET_SUBTRACT_L: tuple[int, ...] = ()

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        """Neurons of every hidden layer, layer 0 first."""
        return (self.N_HID, *self.N_HID_L)

    def verilog(self) -> dict[str, int]:
        """The parameters snn_engine takes (without the derived ones and file names).

        With more than one hidden layer, ``N_LAYERS`` and the packed per-layer vectors
        (:data:`LAYER_VECTORS`, :func:`pack_layer_vector`) too.
        """
        keys = (
            "N_IN N_HID N_OUT T CODE_W0 CODE_W1 ACC_W MEM_W SCORE_W THRESHOLD LEAK_SHIFT RESET_SUBTRACT HAS_BIAS"
        ).split()
        out = {k: getattr(self, k) for k in keys}
        if self.N_LAYERS > 1:
            out["N_LAYERS"] = self.N_LAYERS
            out.update({k: pack_layer_vector(k, getattr(self, k)) for k in LAYER_VECTORS})
        return out

    def as_dict(self) -> dict:
        """Every field; the depth fields only for more than one hidden layer (vectors as lists)."""
        d = asdict(self)
        for k in ("N_LAYERS", *LAYER_VECTORS):
            if self.N_LAYERS == 1:
                del d[k]
            elif k != "N_LAYERS":
                d[k] = list(d[k])
        return d

    @classmethod
    def from_manifest(cls, eng: dict) -> EngineParams:
        """From a manifest's ``engine`` section (``HAS_BIAS`` 0 and one hidden layer when absent)."""
        return cls(**{k: _engine_field(eng, k) for k in cls.__dataclass_fields__})


MAX_HIDDEN_LAYERS = 4
# packed per-layer parameters of hidden layers 1..3: name -> bits per layer; layer l sits at
# [BITS*(l-1) +: BITS] of a (MAX_HIDDEN_LAYERS-1)*BITS-bit Verilog vector (unused layers 0)
LAYER_VECTORS = {
    "N_HID_L": 16,
    "ACC_W_L": 8,
    "MEM_W_L": 8,
    "THRESHOLD_L": 64,
    "LEAK_SHIFT_L": 8,
    "RESET_SUBTRACT_L": 1,
}
# width of every sized Verilog parameter (the others are plain integers)
SIZED_PARAMS = {"THRESHOLD": 64, **{k: (MAX_HIDDEN_LAYERS - 1) * w for k, w in LAYER_VECTORS.items()}}


def pack_layer_vector(name: str, values) -> int:
    """The Verilog vector of per-layer parameter ``name`` (layers 1.. at ascending bit offsets)."""
    bits = LAYER_VECTORS[name]
    out = 0
    for i, v in enumerate(values):
        if not 0 <= int(v) < 1 << bits:
            raise ExportError(f"{name}: layer {i + 1} value {v} does not fit {bits} bits")
        out |= int(v) << (bits * i)
    return out


def unpack_layer_vector(name: str, packed: int, n: int) -> tuple[int, ...]:
    """Inverse of :func:`pack_layer_vector` for ``n`` layers."""
    bits = LAYER_VECTORS[name]
    return tuple((int(packed) >> (bits * i)) & ((1 << bits) - 1) for i in range(n))


def verilog_literal(name: str, value: int | str) -> str:
    """A parameter value as Verilog source: sized (``64'd..``, ``48'h..``) where the RTL needs it."""
    if isinstance(value, str):
        return f'"{value}"'
    if name in SIZED_PARAMS:
        w = SIZED_PARAMS[name]
        return f"{w}'d{int(value)}" if name == "THRESHOLD" else f"{w}'h{int(value):0{-(-w // 4)}x}"
    return str(int(value))


def engine_params(net: IntNetwork) -> EngineParams:
    """Derive the engine parameters of ``net``; raise ExportError if the engine cannot run it.

    The engine runs 1 to :data:`MAX_HIDDEN_LAYERS` hidden LIF layers followed by the output
    integrator. Layer 0 keeps the one-hidden-layer names (``N_HID``, ``ACC_W``, ``MEM_W``,
    ``THRESHOLD``, ...); hidden layers 1.. are the ``*_L`` tuples.
    """
    hidden, o = net.layers[:-1], net.layers[-1]
    if len(hidden) > MAX_HIDDEN_LAYERS:
        raise ExportError(
            f"the RTL engine runs 1 to {MAX_HIDDEN_LAYERS} hidden layers; this network has {len(hidden)}"
        )
    h = hidden[0]
    f0, f1 = weight_format(h.bits), weight_format(o.bits)
    widths = [weight_format(lay.bits).code_width for lay in hidden]
    if len(set(widths)) > 1:
        raise ExportError(
            f"the RTL engine stores all hidden layers with one code width; this network's hidden "
            f"layers have code widths {widths}"
        )
    if len(hidden) > 1 and net.has_bias:
        raise ExportError(
            f"the RTL engine adds biases only with one hidden layer; this network has {len(hidden)} "
            "hidden layers and biases"
        )
    later = range(1, len(hidden))
    depth = {}
    if len(hidden) > 1:
        depth = dict(
            N_LAYERS=len(hidden),
            N_HID_L=tuple(hidden[li].n_out for li in later),
            ACC_W_L=tuple(net.acc_width(li) for li in later),
            MEM_W_L=tuple(net.mem_width(li) for li in later),
            THRESHOLD_L=tuple(int(hidden[li].threshold) for li in later),
            LEAK_SHIFT_L=tuple(int(hidden[li].leak_shift) for li in later),
            RESET_SUBTRACT_L=tuple(1 if hidden[li].reset == "subtract" else 0 for li in later),
        )
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
        **derived_params(h.n_in, h.n_out, o.n_out, f0.code_width, f1.code_width, depth.get("N_HID_L", ())),
        **depth,
    )
    check_engine(p)
    return p


def derived_params(
    n_in: int, n_hid: int, n_out: int, code_w0: int, code_w1: int, n_hid_l: tuple[int, ...] = ()
) -> dict[str, int]:
    """The parameters snn_engine derives as localparams (widths ``(X > 2) ? $clog2(X) : 1``).

    ``n_hid_l``: the sizes of hidden layers 1.. (empty for one hidden layer). ``WPR`` is layer
    0's words per input; ``W0_DEPTH`` counts the words of all hidden layers (:func:`hidden_layout`);
    ``W1_DEPTH`` is the last hidden layer's size; ``HID_AW`` indexes the largest hidden layer.
    """
    lanes = WORD_W // code_w0
    sizes = (n_hid, *n_hid_l)
    w0_depth = sum(rows * -(-k // lanes) for rows, k in zip((n_in, *sizes[:-1]), sizes))
    return {
        "LANES": lanes,
        "WPR": -(-n_hid // lanes),
        "W0_DEPTH": w0_depth,
        "W0_AW": max(1, _clog2(w0_depth)),
        "W1_DEPTH": sizes[-1],
        "W1_DATA_W": n_out * code_w1,
        "CLS_W": max(1, _clog2(n_out)),
        "HID_AW": max(1, _clog2(max(sizes))),
    }


def hidden_layout(p: EngineParams) -> list[tuple[int, int, int, int]]:
    """Where each hidden layer sits in w0.hex: ``(base word, rows, words per row, neurons)``.

    Layer 0 first (rows = ``N_IN`` pixels), then layer ``l`` (rows = the neurons of layer
    ``l-1``), each with layer 0's row layout: the codes of row ``r`` in words
    ``base + r*WPR_l ..``, neuron ``j`` in lane ``j % LANES`` of word ``base + r*WPR_l + j // LANES``.
    """
    out, base = [], 0
    sizes = p.hidden_sizes
    for rows, k in zip((p.N_IN, *sizes[:-1]), sizes):
        wpr = -(-k // p.LANES)
        out.append((base, rows, wpr, k))
        base += rows * wpr
    return out


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
    problems += _check_depth(p)
    if problems:
        raise ExportError("the RTL engine cannot run this network: " + "; ".join(problems))


def _check_depth(p: EngineParams) -> list[str]:
    """The depth rules of check_engine: hidden layers 1.. (none for one hidden layer)."""
    problems = []
    n = p.N_LAYERS - 1
    if not 1 <= p.N_LAYERS <= MAX_HIDDEN_LAYERS:
        return [f"N_LAYERS must be 1..{MAX_HIDDEN_LAYERS}, got {p.N_LAYERS}"]
    lengths = {k: len(getattr(p, k)) for k in LAYER_VECTORS}
    if any(v != n for v in lengths.values()):
        return [f"N_LAYERS {p.N_LAYERS} needs {n} entries per layer vector, got {lengths}"]
    if n and p.HAS_BIAS:
        problems.append("biases need N_LAYERS = 1")
    for li in range(1, p.N_LAYERS):
        n_hid, acc_w, mem_w, theta, k, rs = (getattr(p, f)[li - 1] for f in LAYER_VECTORS)
        if not 2 <= n_hid < 1 << LAYER_VECTORS["N_HID_L"]:
            problems.append(f"layer {li}: N_HID_L {n_hid} outside 2..65535")
        if not 2 <= acc_w <= p.ACC_W:
            problems.append(
                f"layer {li}: ACC_W_L {acc_w} outside 2..ACC_W = {p.ACC_W} (the accumulation lanes are "
                "ACC_W bits wide for every layer)"
            )
        if mem_w < 2 or not 1 <= theta <= (1 << (mem_w - 1)) - 1:
            problems.append(f"layer {li}: THRESHOLD_L {theta} outside 1..2^(MEM_W_L-1)-1 (MEM_W_L {mem_w})")
        if not 0 <= k < mem_w:
            problems.append(f"layer {li}: LEAK_SHIFT_L {k} outside 0..MEM_W_L-1 = 0..{mem_w - 1}")
        if rs not in (0, 1):
            problems.append(f"layer {li}: RESET_SUBTRACT_L must be 0 or 1, got {rs}")
    return problems


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
    """Hidden-layer weight image: ``W0_DEPTH`` 64-bit words (Python ints), layout of docs/engine.md.

    Every hidden layer, layer 0 first, each ``rows * WPR_l`` words (:func:`hidden_layout`).
    """
    p = engine_params(net)
    out: list[int] = []
    for lay in net.layers[:-1]:
        patterns = weight_format(lay.bits).encode(lay.codes).T  # (rows, neurons)
        out += _pack_rows(patterns, p.CODE_W0, p.LANES)
    return out


def pack_w1(net: IntNetwork) -> list[int]:
    """Output-layer weight image: ``W1_DEPTH`` (last hidden layer's size) words of ``N_OUT * CODE_W1`` bits."""
    p = engine_params(net)
    fmt = weight_format(net.layers[-1].bits)
    patterns = fmt.encode(net.layers[-1].codes).T  # (W1_DEPTH, N_OUT)
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


def unpack_w0(words: list[int], p: EngineParams, bits: int) -> list[np.ndarray]:
    """Inverse of :func:`pack_w0`: the codes of every hidden layer, (neurons, rows) int64 each."""
    if len(words) != p.W0_DEPTH:
        raise ExportError(f"expected {p.W0_DEPTH} words, got {len(words)}")
    out = []
    for li, (base, rows, wpr, k) in enumerate(hidden_layout(p)):
        try:
            pat = _unpack_rows(words[base : base + rows * wpr], rows, k, p.CODE_W0, p.LANES)
        except ExportError as e:
            raise ExportError(f"hidden layer {li}, {e}" if p.N_LAYERS > 1 else str(e)) from None
        out.append(weight_format(bits).decode(pat).T.copy())
    return out


def unpack_w1(words: list[int], p: EngineParams, bits: int) -> np.ndarray:
    """Inverse of :func:`pack_w1`: (N_OUT, W1_DEPTH) int64 codes."""
    pat = _unpack_rows(words, p.W1_DEPTH, p.N_OUT, p.CODE_W1, p.N_OUT)
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
        if k in LAYER_VECTORS:
            v = verilog_literal(k, pack_layer_vector(k, v))
        lines.append(f"`define SNN_{k} {v if isinstance(v, str) else int(v)}")
    lines.append(f'`define SNN_W0_FILE "{w0_file}"')
    lines.append(f'`define SNN_W1_FILE "{w1_file}"')
    lines.append(f'`define SNN_B0_FILE "{B0_HEX if p.HAS_BIAS else ""}"')
    lines.append(f'`define SNN_B1_FILE "{B1_HEX if p.HAS_BIAS else ""}"')
    return "\n".join(lines) + "\n"


def parse_params_vh(text: str) -> dict[str, int | str]:
    """Parse the macros of :func:`render_params_vh` back into a dict (names without SNN_).

    A sized hex vector (``48'h...``, the per-layer parameters) becomes its integer value.
    """
    out: dict[str, int | str] = {}
    for ln in text.splitlines():
        m = re.fullmatch(r"\s*`define\s+SNN_(\w+)\s+(.+?)\s*", ln)
        if not m:
            continue
        name, val = m.groups()
        vec = re.fullmatch(r"(\d+)'h([0-9a-fA-F]+)", val)
        if val.startswith('"'):
            out[name] = val.strip('"')
        elif vec:
            out[name] = int(vec.group(2), 16)
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
    hidden = [
        {
            "bits": int(h.bits),
            "threshold": int(h.threshold),
            "leak_shift": int(h.leak_shift),
            "reset": h.reset,
            "mem_width": int(net.mem_width(li)),
            "mem_width_given": h.mem_width is not None,
        }
        for li, h in enumerate(net.layers[:-1])
    ]
    return {
        "sizes": net.sizes,
        "timesteps": int(net.timesteps),
        "layers": [*hidden, {"bits": int(net.layers[-1].bits)}],
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
        W0_HEX: {
            "role": "layer-0 weights" if p.N_LAYERS == 1 else "hidden-layer weights (layer 0 first)",
            "words": p.W0_DEPTH,
            "width": WORD_W,
        },
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


def _engine_field(eng: dict, k: str):
    """One EngineParams field from a manifest's engine section (depth fields absent: one layer)."""
    if k in LAYER_VECTORS:
        v = eng.get(k, [])
        if not isinstance(v, list):
            raise TypeError(f"engine.{k} must be a list of integers, got {v!r}")
        return tuple(_json_int(x, f"engine.{k}") for x in v)
    if k in ("HAS_BIAS", "N_LAYERS"):
        return _json_int(eng.get(k, 0 if k == "HAS_BIAS" else 1), f"engine.{k}")
    return _json_int(eng[k], f"engine.{k}")


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
        lsec = netsec["layers"]
        if not isinstance(lsec, list) or len(lsec) < 2:
            raise ValueError("network.layers must list the hidden layers and the output layer")
    except (KeyError, TypeError, ValueError) as e:
        raise ExportError(f"{mpath}: missing or malformed field {e}") from None
    named = [(f"network.layers[{i}]", v) for i, v in enumerate(lsec)]
    for what, v in (("files", files), ("engine", eng), *named):
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
        p = EngineParams(**{k: _engine_field(eng, k) for k in EngineParams.__dataclass_fields__})
    except (KeyError, TypeError, ValueError) as e:
        raise ExportError(f"{mpath}: engine parameters incomplete or malformed ({e})") from None

    if p.CODE_W0 not in (1, 2, 4, 8, 16):
        raise ExportError(f"{mpath}: CODE_W0 {p.CODE_W0} is not a code width (1, 2, 4, 8, 16)")
    if p.N_LAYERS != len(lsec) - 1 or any(len(getattr(p, k)) != p.N_LAYERS - 1 for k in LAYER_VECTORS):
        raise ExportError(
            f"{mpath}: N_LAYERS {p.N_LAYERS} and its per-layer vectors do not describe the "
            f"{len(lsec) - 1} hidden layers of the network section"
        )
    derived = derived_params(p.N_IN, p.N_HID, p.N_OUT, p.CODE_W0, p.CODE_W1, p.N_HID_L)
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
        if k in LAYER_VECTORS:
            v = pack_layer_vector(k, v)
        if vh.get(k) != v:
            raise ExportError(f"{d / PARAMS_VH}: SNN_{k} = {vh.get(k)!r}, manifest says {v!r}")

    hid_sec, out_sec = lsec[:-1], lsec[-1]
    try:
        bits_h = [_json_int(lay["bits"], "bits") for lay in hid_sec]
        bits1 = _json_int(out_sec["bits"], "bits")
        fh, f1 = [weight_format(b) for b in bits_h], weight_format(bits1)
    except (KeyError, TypeError, ValueError) as e:
        raise ExportError(f"{mpath}: layer bit widths missing or unsupported ({e})") from None
    if any(f.code_width != p.CODE_W0 for f in fh) or f1.code_width != p.CODE_W1:
        bits = "/".join(map(str, (*bits_h, bits1)))
        need = "/".join(str(f.code_width) for f in (*fh, f1))
        raise ExportError(
            f"{mpath}: bit widths {bits} need code widths {need}, "
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
        codes_h = unpack_w0(w0, p, bits_h[0])
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
        meta = man.get("meta") or {}
        if not isinstance(meta, dict):
            raise TypeError(f"meta must be an object, got {type(meta).__name__}")
        hidden = []
        for li, lay in enumerate(hid_sec):
            given = lay["mem_width_given"]
            if not isinstance(given, bool):
                raise TypeError(f"mem_width_given must be true or false, got {given!r}")
            hidden.append(
                IntLayer(
                    codes=codes_h[li],
                    bits=bits_h[li],
                    threshold=_json_int(lay["threshold"], "threshold"),
                    leak_shift=_json_int(lay["leak_shift"], "leak_shift"),
                    reset=lay["reset"],
                    mem_width=_json_int(lay["mem_width"], "mem_width") if given else None,
                    bias=bias0 if li == 0 else None,
                )
            )
        net = IntNetwork(
            layers=[*hidden, IntLayer(codes=codes1, bits=bits1, bias=bias1)],
            timesteps=_json_int(netsec["timesteps"], "timesteps"),
            meta=dict(meta),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ExportError(f"{mpath}: network section malformed or illegal ({e})") from None
    listed = [lay.get("mem_width") for lay in hid_sec]
    widths = [net.mem_width(li) for li in range(len(hid_sec))]
    if listed != widths or netsec.get("sizes") != net.sizes:
        one = len(widths) == 1
        raise ExportError(
            f"{mpath}: network section (sizes {netsec.get('sizes')!r}, mem_width "
            f"{listed[0] if one else listed!r}) does not describe the weight files "
            f"({net.sizes}, {widths[0] if one else widths})"
        )
    again = engine_params(net)
    if again != p:
        have = again.as_dict()
        diff = {k: (v, have.get(k)) for k, v in p.as_dict().items() if have.get(k) != v}
        raise ExportError(f"{mpath}: engine parameters do not match the network they describe: {diff}")
    if expect is not None:
        exp = expect.as_dict() if isinstance(expect, EngineParams) else dict(expect)
        exp = {k: list(v) if isinstance(v, tuple) else v for k, v in exp.items()}
        have = p.as_dict()
        bad = {k: (exp[k], have[k]) for k in exp if k in have and have[k] != exp[k]}
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
