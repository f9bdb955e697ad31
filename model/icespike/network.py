"""The integer network: weight codes plus per-layer integer parameters.

This is what leaves Python for the hardware. Every width is derived here from the layer
sizes and formats so that no accumulator can overflow (docs/arithmetic.md, "Widths").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .fixed import ArithmeticError_, signed_range, signed_width
from .formats import weight_format

PIXEL_MAX = 255  # input pixels are unsigned 8-bit
RESET_MODES = ("subtract", "zero")


def _is_int(v) -> bool:
    """An integer that is not a bool (``True``, ``5.0`` and ``"5"`` are not integers here)."""
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


@dataclass
class IntLayer:
    """One layer of the integer network.

    codes: int64 array (n_out, n_in) of weight codes of ``bits`` precision.
    Hidden layers (``threshold`` is not None) are LIF neurons that spike; the last layer is
    a non-spiking, non-leaking integrator whose accumulated value is the class score.
    """

    codes: np.ndarray
    bits: int
    threshold: int | None = None
    leak_shift: int = 0
    reset: str = "subtract"
    mem_width: int | None = None  # saturating membrane width (hidden layers); derived if None
    bias: np.ndarray | None = None  # (n_out,) integer bias in current units, or None (no bias)

    @property
    def n_in(self) -> int:
        return int(self.codes.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.codes.shape[0])

    @property
    def is_output(self) -> bool:
        return self.threshold is None

    @property
    def has_bias(self) -> bool:
        return self.bias is not None


@dataclass
class IntNetwork:
    """A layered integer spiking network (input pixels -> hidden LIF layers -> output)."""

    layers: list[IntLayer]
    timesteps: int
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.validate()

    # ------------------------------------------------------------------ widths
    def input_max(self, li: int) -> int:
        """Largest value an input of layer ``li`` can take (255 for pixels, 1 for spikes)."""
        return PIXEL_MAX if li == 0 else 1

    def _weighted_max(self, li: int) -> int:
        """Largest |sum_i x_i * q_i| of layer ``li`` (its weighted input, without the bias)."""
        layer = self.layers[li]
        return self.input_max(li) * weight_format(layer.bits).max_abs * layer.n_in

    @property
    def has_bias(self) -> bool:
        """True if the layers carry biases (all of them do, or none: see :meth:`validate`)."""
        return self.layers[0].has_bias

    def bias_width(self, li: int) -> int:
        """Signed width of layer ``li``'s integer bias: that of its weighted input."""
        return signed_width(self._weighted_max(li))

    def bias_max(self, li: int) -> int:
        """Largest |bias| layer ``li`` can hold (0 for a network without biases)."""
        return -signed_range(self.bias_width(li))[0] if self.has_bias else 0

    def acc_width(self, li: int) -> int:
        """Signed width of layer ``li``'s per-time-step input current, bias included (never overflows)."""
        return signed_width(self._weighted_max(li) + self.bias_max(li))

    def mem_width(self, li: int) -> int:
        """Saturating membrane width of hidden layer ``li`` (acc width + 2 unless given)."""
        layer = self.layers[li]
        if layer.mem_width is not None:
            return int(layer.mem_width)
        return self.acc_width(li) + 2

    def score_width(self) -> int:
        """Signed width of the output scores: T steps of the last layer's current."""
        li = len(self.layers) - 1
        return signed_width(self.timesteps * (self._weighted_max(li) + self.bias_max(li)))

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].n_in] + [lay.n_out for lay in self.layers]

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise ValueError/ArithmeticError_ naming the problem if the network is illegal.

        This is the golden model's contract (docs/arithmetic.md, "Ranges"); what the RTL
        engine can run on top of it is checked at export (``icespike.export.check_engine``).
        """
        if not _is_int(self.timesteps) or not 1 <= int(self.timesteps) <= 255:
            raise ValueError(f"timesteps must be an integer in 1..255, got {self.timesteps!r}")
        self.timesteps = int(self.timesteps)
        if not isinstance(self.layers, (list, tuple)) or not all(
            isinstance(x, IntLayer) for x in self.layers
        ):
            raise ValueError("layers must be a list of IntLayer")
        if len(self.layers) < 2:
            raise ValueError("a network needs at least one hidden layer and an output layer")
        if any(lay.has_bias for lay in self.layers):  # biases in every layer or in none
            for lay in self.layers:
                if lay.bias is None:
                    lay.bias = np.zeros(np.asarray(lay.codes).shape[0], np.int64)
        for li, layer in enumerate(self.layers):
            name = f"layer {li}"
            c = np.asarray(layer.codes)
            if c.ndim != 2:
                raise ValueError(f"{name}: codes must be 2-D (n_out, n_in), got shape {c.shape}")
            if not np.issubdtype(c.dtype, np.integer):
                raise ArithmeticError_(f"{name}: codes must be integers, got dtype {c.dtype}")
            if 0 in c.shape:
                raise ValueError(
                    f"{name}: codes of shape {c.shape}: a layer needs at least one input and one output"
                )
            layer.codes = c.astype(np.int64)
            fmt = weight_format(layer.bits)
            fmt.check_codes(layer.codes, f"{name} weight codes")
            if li > 0 and layer.n_in != self.layers[li - 1].n_out:
                raise ValueError(
                    f"{name}: {layer.n_in} inputs but layer {li - 1} has {self.layers[li - 1].n_out} outputs"
                )
            if layer.has_bias:
                b = np.asarray(layer.bias)
                if b.shape != (layer.n_out,) or b.dtype.kind not in "iu":
                    raise ArithmeticError_(
                        f"{name}: bias must be {layer.n_out} integers, got shape {b.shape} dtype {b.dtype}"
                    )
                layer.bias = b.astype(np.int64)
                blo, bhi = signed_range(self.bias_width(li))
                if layer.bias.size and (int(layer.bias.min()) < blo or int(layer.bias.max()) > bhi):
                    raise ArithmeticError_(
                        f"{name}: bias outside [{blo}, {bhi}] (width {self.bias_width(li)}): "
                        f"min {int(layer.bias.min())}, max {int(layer.bias.max())}"
                    )
            last = li == len(self.layers) - 1
            if last:
                if layer.threshold is not None:
                    raise ValueError("the output layer is an integrator: its threshold must be None")
                if not _is_int(layer.leak_shift) or layer.leak_shift != 0:
                    raise ValueError(
                        f"the output layer is an integrator without leak: its leak_shift must be 0, got {layer.leak_shift!r}"
                    )
                if layer.mem_width is not None:
                    raise ValueError(
                        f"the output layer has no membrane: its mem_width must be None, got {layer.mem_width!r}"
                    )
                continue
            if layer.threshold is None:
                raise ValueError(f"{name}: a hidden layer needs an integer threshold")
            if layer.reset not in RESET_MODES:
                raise ValueError(f"{name}: reset must be one of {RESET_MODES}, got {layer.reset!r}")
            if layer.mem_width is not None and not _is_int(layer.mem_width):
                raise ValueError(f"{name}: mem_width must be an integer or None, got {layer.mem_width!r}")
            mw = self.mem_width(li)
            if not 2 <= mw <= 62:
                raise ValueError(f"{name}: membrane width {mw} outside 2..62")
            if not _is_int(layer.leak_shift) or not 0 <= int(layer.leak_shift) < mw:
                raise ValueError(
                    f"{name}: leak_shift must be an integer in 0..{mw - 1}, got {layer.leak_shift!r}"
                )
            layer.leak_shift = int(layer.leak_shift)
            if not _is_int(layer.threshold) or not 1 <= int(layer.threshold) <= signed_range(mw)[1]:
                raise ArithmeticError_(
                    f"{name}: threshold {layer.threshold!r} must be an integer in "
                    f"[1, {signed_range(mw)[1]}] (membrane width {mw})"
                )
            layer.threshold = int(layer.threshold)
        if self.score_width() > 62:
            raise ArithmeticError_("output score width exceeds 62 bits")
