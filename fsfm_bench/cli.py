"""The ``fsfm-bench`` command.

Each subcommand lives in its own module under :mod:`fsfm_bench.commands` and is imported only when
it runs, so ``fsfm-bench plugins`` never pays for torch. A command module provides
``add_arguments(parser)`` and ``main(args) -> int``; ``key=value`` words are parsed by
:func:`fsfm_bench.config.parse_overrides`. A command that composes a config (:data:`CONFIG_COMMANDS`)
also provides ``compose_config(args)``: ``--print-config`` (anywhere on the line) prints what it
returns with its sha256 and exits without running the command.

Errors: a :class:`~fsfm_bench.errors.UsageError` exits 2, any other
:class:`~fsfm_bench.errors.FsfmBenchError` exits 1, each as one line on stderr; ``--debug`` shows
the traceback instead. Any other exception is a bug: one line naming it (exit 1), the traceback
with ``--debug``.
"""
from __future__ import annotations

import argparse
import importlib
import io
import sys
import warnings

from . import __version__
from .errors import FsfmBenchError, UsageError, did_you_mean

#: subcommand -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "plugins": ("fsfm_bench.commands.plugins", "list plugins and what each registered"),
    "ls": ("fsfm_bench.commands.ls", "list registered names of one kind"),
    "config": ("fsfm_bench.commands.config", "compose and print a resolved config"),
    "weights": ("fsfm_bench.commands.weights", "list released checkpoints, or verify a file against its card"),
    "leaderboard": ("fsfm_bench.commands.leaderboard", "build leaderboard tables and figures from result files"),
    "rescore": ("fsfm_bench.commands.rescore", "recompute a result's metrics from its saved scores"),
    "prepare": ("fsfm_bench.commands.prepare", "video/images -> face crops, parsing maps, manifest"),
    "pretrain": ("fsfm_bench.commands.pretrain", "pretrain an encoder (fsfm 3C or mae) on a manifest"),
    "data": ("fsfm_bench.commands.data", "verify a dataset copy against its card, or index it"),
    "run": ("fsfm_bench.commands.run", "fine-tune a backbone on a protocol, evaluate, write result + leaderboard"),
    "eval": ("fsfm_bench.commands.eval", "evaluate a fine-tuned checkpoint on a protocol's targets"),
    "predict": ("fsfm_bench.commands.predict", "score images or videos with a fine-tuned checkpoint"),
}


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (one line, exit 2) instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        prefix = "the following arguments are required: "
        if message.startswith(prefix):  # argparse also lists optional `key=value ...` lists; drop them
            optional = {a.metavar or a.dest for a in self._actions
                        if not a.option_strings and a.nargs in ("*", "?", argparse.REMAINDER)}
            names = [n for n in message[len(prefix):].split(", ") if n not in optional]
            message = prefix + ", ".join(names or message[len(prefix):].split(", "))
        raise UsageError(f"{self.prog}: {message}. See `{self.prog} --help`.")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fsfm-bench", description="Benchmark face security foundation models: prepare "
                     "data, pretrain, fine-tune, evaluate and compare on the FSFM protocols.",
                     epilog="Run `fsfm-bench COMMAND --help` for a command's key=value options.")
    parser.add_argument("--version", action="version", version=f"fsfm-bench {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--print-config", action="store_true",
                        help="print the resolved config and its sha256, then exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


CONFIG_COMMANDS = ("run", "eval", "pretrain", "config")     # the commands --print-config applies to
PRINT_CONFIG = "--print-config"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        argv.remove("--debug")
    print_only = PRINT_CONFIG in argv
    if print_only:
        argv = [word for word in argv if word != PRINT_CONFIG]
    else:
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        code = _dispatch(argv, debug, print_only)
        sys.stdout.flush()        # a closed pipe shows here, inside the handler below
        return code
    except FsfmBenchError as exc:
        if debug:
            raise
        print(f"fsfm-bench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("fsfm-bench: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`fsfm-bench ls backbones | head -1`): stop quietly, as `ls | head` does
        _silence_stdout()
        return 141
    except Exception as exc:  # noqa: BLE001 - the safety net: a bug is one line, not a traceback
        if debug:
            raise
        detail = " ".join(str(exc).split())
        detail = detail if len(detail) <= 300 else detail[:297] + "..."
        print(f"fsfm-bench: error: internal error ({type(exc).__name__}: {detail}); rerun with --debug for the "
              "traceback and please report it", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush raises no second BrokenPipeError."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass


def _dispatch(argv: list[str], debug: bool, print_only: bool = False) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        build_parser().print_help()
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"fsfm-bench {__version__}")
        return 0
    name = argv[0]
    if name not in COMMANDS:
        raise UsageError(f"unknown command {name!r}." + did_you_mean(name, COMMANDS)
                         + " See `fsfm-bench --help`.")
    if print_only and name not in CONFIG_COMMANDS:
        raise UsageError(f"--print-config applies to the commands that compose a config "
                         f"({', '.join(CONFIG_COMMANDS)}); `{name}` has none, so nothing was run")
    module = importlib.import_module(COMMANDS[name][0])
    parser = _Parser(prog=f"fsfm-bench {name}", description=COMMANDS[name][1])
    module.add_arguments(parser)
    if name in CONFIG_COMMANDS:             # for --help only: main() takes the flag off the line
        parser.add_argument(PRINT_CONFIG, action="store_true", help="print the resolved config and its sha256, "
                            "then exit without running")
    # `run protocol=demo --quiet seeds=0,1`: options may sit between key=value words. argparse's
    # intermixed parsing refuses parsers with REMAINDER/subcommand positionals: those parse plainly.
    intermixed = not any(a.nargs in (argparse.REMAINDER, argparse.PARSER) for a in parser._actions)
    args = parser.parse_intermixed_args(argv[1:]) if intermixed else parser.parse_args(argv[1:])
    args.debug = debug
    if print_only:
        from .config import print_config

        print_config(module.compose_config(args))
        return 0
    return int(module.main(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
