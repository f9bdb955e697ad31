"""iCE40 synthesis flow: Yosys ``synth_ice40`` + nextpnr-ice40, with machine-readable reports.

One call of :func:`run` synthesises one top for one device and writes ``<out_dir>/report.json``
(plus the Yosys script, logs, netlists and the nextpnr report). Cell counts come from Yosys
``stat -json``; Fmax, utilisation and the critical path from nextpnr's ``--report``. Nothing in a
report is typed by hand: :func:`markdown_table` turns the JSON files into the tables of
``build/reports/`` and :func:`update_readme` copies one between the ``<!-- synth-table -->``
markers of README.md.

Before any tool runs, :func:`memory_fit` decides from the numbers whether a network's weights
can fit the device's on-chip memory at all, so a configuration that cannot fit costs no tool time.

The package, one module per step of the flow (everything public is importable from here):

- ``devices``: the iCE40 parts (:class:`Device`, :func:`device`), memory primitives, :class:`SynthError`
- ``fit``: fit rules from numbers (:func:`memory_fit`, :func:`engine_memory_plan`,
  :func:`engine_memories`, :func:`cells_fit`)
- ``tools``: finding, versioning and running Yosys / nextpnr / icepack (:func:`tool_command`)
- ``parse``: the tools' JSON reports (:func:`parse_yosys_stat`, :func:`parse_nextpnr_report`)
- ``flow``: one run from sources to report (:func:`run`, :func:`yosys_script`, :func:`write_report`)
- ``tables``: markdown tables and generated sections between markers (:func:`markdown_table`)
- ``engine``: the network engine from an export directory (:func:`synth_engine`, :func:`cycle_model`)
"""

from .devices import (
    DEVICES,
    EBR_BITS,
    EBR_SHAPES,
    ROOT,
    SPRAM_BITS,
    SPRAM_WIDTH,
    SPRAM_WORDS,
    SYNTH_DIR,
    Device,
    SynthError,
    device,
)
from .engine import (
    ENGINE_SOURCES,
    TOP_ENGINE,
    cycle_model,
    cycle_summary,
    engine_cells,
    engine_sources,
    rtl_closure,
    synth_engine,
)
from .fit import (
    cells_fit,
    ebr_blocks,
    ebr_or_logic,
    engine_memories,
    engine_memory_plan,
    memory_fit,
    network_weight_bits,
)
from .flow import YS_TEMPLATE, not_fitting_report, run, write_report, yosys_script
from .parse import parse_nextpnr_report, parse_yosys_stat
from .tables import (
    README_BEGIN,
    README_END,
    collect_reports,
    markdown_table,
    replace_between_markers,
    update_readme,
)
from .tools import tool_command, tool_versions

__all__ = [
    "DEVICES",
    "EBR_BITS",
    "EBR_SHAPES",
    "ENGINE_SOURCES",
    "README_BEGIN",
    "README_END",
    "ROOT",
    "SPRAM_BITS",
    "SPRAM_WIDTH",
    "SPRAM_WORDS",
    "SYNTH_DIR",
    "TOP_ENGINE",
    "YS_TEMPLATE",
    "Device",
    "SynthError",
    "cells_fit",
    "collect_reports",
    "cycle_model",
    "cycle_summary",
    "device",
    "ebr_blocks",
    "ebr_or_logic",
    "engine_memories",
    "engine_cells",
    "engine_memory_plan",
    "engine_sources",
    "markdown_table",
    "memory_fit",
    "network_weight_bits",
    "not_fitting_report",
    "parse_nextpnr_report",
    "parse_yosys_stat",
    "replace_between_markers",
    "rtl_closure",
    "run",
    "synth_engine",
    "tool_command",
    "tool_versions",
    "update_readme",
    "write_report",
    "yosys_script",
]
