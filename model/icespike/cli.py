"""The ``icespike`` command line: one subcommand per step of the flow.

Subcommands live in ``icespike.commands.<name>`` (see that package's docstring). Every command,
including ones added later, fails the same way, with no code of its own:

- one line ``icespike: error: <message>`` on stderr; with ``--json`` also one JSON document
  ``{"error": <message>, "command": <name or null>, "exit_code": <code>}`` on stdout;
- exit code 2 for anything the user can cause: bad options and arguments (argparse's messages,
  without the usage block), bad files or data (:data:`USER_ERRORS`);
- exit code 3 for an internal error (a bug): the same line, naming the exception type;
- exit code 130 on Ctrl-C (``icespike: interrupted``).

``ICESPIKE_DEBUG=1`` (any value but empty or ``0``) also prints the Python traceback on stderr
before that line; exit codes and the JSON document stay the same.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
import traceback
import zipfile

from . import __version__, progress
from .commands import COMMANDS, UserError, add_json_option
from .synth.devices import SynthError

EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3
EXIT_INTERRUPTED = 130

# Exceptions that mean "bad input" (files, options, data, a tool refusing a design), not a bug
# in icespike. DataError and ArithmeticError_ are ValueError subclasses; JSONDecodeError is one too.
USER_ERRORS = (UserError, ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile, SynthError)


class UsageError(UserError):
    """Bad options or arguments on the command line (argparse's message, without the usage block)."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse that raises :class:`UsageError` instead of printing its usage block and exiting.

    Subcommand parsers inherit the class (``add_subparsers`` uses the parent's class), so every
    command's argument errors take the one error path of :func:`main`.
    """

    def error(self, message: str):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def load_commands(subparsers) -> list[str]:
    """Register every command module that exists; returns the names registered.

    A missing module is skipped; any other import problem (a bug) propagates.
    """
    found = []
    for name in COMMANDS:
        modname = f"{__package__}.commands.{name}"
        if importlib.util.find_spec(modname) is None:
            continue
        module = importlib.import_module(modname)
        module.register(subparsers)
        found.append(name)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="icespike",
        description="Quantisation-aware training of spiking networks and their bit-exact iCE40 hardware.",
    )
    parser.add_argument("--version", action="version", version=f"icespike {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    load_commands(sub)
    for name, p, depth in _command_parsers(sub):
        # Nested commands (``icespike board build``): ``--json`` is accepted at every level;
        # below the first its default is suppressed so that it cannot undo an earlier ``--json``.
        add_json_option(p, suppress_default=depth > 0)
        if depth > 0:  # also when the nested command added its own --json (add_parser)
            p._option_string_actions["--json"].default = argparse.SUPPRESS
        if _subparsers(p) is None and p.get_default("func") is None:
            raise RuntimeError(f"command {name!r} did not set func with set_defaults(func=...)")
    return parser


def _subparsers(parser: argparse.ArgumentParser):
    """The subparsers action of ``parser``, or None."""
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _command_parsers(sub, prefix: str = "", depth: int = 0):
    """(name, parser, depth) of every command and nested subcommand under ``sub``."""
    for name, p in sub.choices.items():
        yield prefix + name, p, depth
        inner = _subparsers(p)
        if inner is not None:
            yield from _command_parsers(inner, f"{prefix}{name} ", depth + 1)


def error_message(exc: BaseException) -> str:
    """One-line message for a user error."""
    if isinstance(exc, KeyError):
        key = exc.args[0] if exc.args else "?"
        msg = f"missing entry {key!r}"
    elif isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        msg = f"{exc.filename}: {exc.strerror}"
    else:
        msg = str(exc) or type(exc).__name__
    return " ".join(msg.split())


def _argv_command(argv: list[str]) -> tuple[str | None, bool]:
    """The command named in ``argv`` (None if none) and whether ``--json`` was given.

    Read from the raw arguments, so that an error while parsing them is reported in the form
    the user asked for.
    """
    words = argv[: argv.index("--")] if "--" in argv else argv
    command = next((w for w in words if not w.startswith("-")), None)
    return (command if command in COMMANDS else None), "--json" in words


def fail(message: str, *, code: int, command: str | None, json_mode: bool) -> int:
    """Report an error the one way every command does (see the module docstring); returns ``code``."""
    if json_mode:
        doc = {"error": message, "command": command, "exit_code": code}
        try:
            sys.stdout.write(json.dumps(doc) + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            pass
    print(f"icespike: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``icespike`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("ICESPIKE_DEBUG", "") not in ("", "0")
    command, json_mode = _argv_command(argv)
    try:
        args, extra = build_parser().parse_known_args(argv)
        command = getattr(args, "command", None) or command
        if extra:
            raise UsageError(f"unrecognized arguments: {' '.join(extra)} (see `icespike {command} --help`)")
        json_mode = bool(getattr(args, "json", False))
        progress.configure(json_mode=json_mode)
        if getattr(args, "func", None) is None:  # a nested command given without its subcommand
            raise UsageError(f"{command} needs a subcommand (see `icespike {command} --help`)")
        rc = args.func(args)
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        print("icespike: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into a command that closed early (e.g. `| head`): not an error.
        # Point stdout at /dev/null so that the flush at interpreter exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the one error path of every command
        if debug:
            traceback.print_exc()
        if isinstance(exc, USER_ERRORS):
            return fail(error_message(exc), code=EXIT_USER_ERROR, command=command, json_mode=json_mode)
        msg = (
            f"internal error: {type(exc).__name__}: {error_message(exc)} "
            "(a bug in icespike; ICESPIKE_DEBUG=1 shows the traceback)"
        )
        return fail(msg, code=EXIT_INTERNAL_ERROR, command=command, json_mode=json_mode)
    return 0 if rc is None else int(rc)


if __name__ == "__main__":
    sys.exit(main())
