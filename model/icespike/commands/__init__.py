"""Subcommands of the ``icespike`` CLI, one module per command.

A command module ``icespike.commands.<name>`` defines ``register(subparsers)``, which adds its
parser (use :func:`add_parser`, which gives it the common ``--json`` option) and sets
``func``, a callable ``func(args) -> int | None`` (None means exit code 0). ``icespike.cli``
loads the modules it finds; a command whose module does not exist yet is simply absent.

Errors a user can cause are raised as exceptions (ValueError and its subclasses such as
``icespike.data.DataError`` and ``icespike.fixed.ArithmeticError_``, OSError, KeyError,
:class:`UserError`); the CLI prints them as one line and exits with code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["COMMANDS", "HelpFormatter", "UserError", "add_json_option", "add_parser", "emit", "to_jsonable"]

# Commands in the order `icespike --help` lists them.
COMMANDS = ("data", "train", "eval", "export", "sim", "synth", "report", "board")


class UserError(Exception):
    """An error caused by the user's input; the CLI prints its message without a traceback."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Shows an option's default when it says something (not None/False) and the help does not already."""

    def _get_help_string(self, action):
        h = action.help or ""
        d = action.default
        if (
            "default" not in h.lower()
            and d is not None
            and d is not False
            and d is not argparse.SUPPRESS
            and (action.option_strings or action.nargs in ("?", "*"))
        ):
            h += " (default: %(default)s)"
        return h


def add_parser(
    subparsers, name: str, *, help: str, description: str | None = None
) -> argparse.ArgumentParser:
    """Add the parser of command ``name`` with the options every command shares (``--json``)."""
    p = subparsers.add_parser(
        name,
        help=help,
        description=description or help,
        formatter_class=HelpFormatter,
    )
    add_json_option(p)
    return p


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` the ``--json`` flag unless it already has it."""
    if "--json" not in parser._option_string_actions:
        parser.add_argument(
            "--json",
            action="store_true",
            help="print one machine-readable JSON document on stdout (progress and messages go to stderr)",
        )


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, paths, tuples and sets to plain JSON types (recursively)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def emit(args: argparse.Namespace, result: Any, text: Callable[[Any], str] | str | None = None) -> None:
    """Print a command's result: JSON with ``--json``, else ``text(result)`` (or ``text``)."""
    if getattr(args, "json", False):
        json.dump(to_jsonable(result), sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    else:
        out = text(result) if callable(text) else text
        if out is None:
            out = json.dumps(to_jsonable(result), indent=2)
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
    sys.stdout.flush()
