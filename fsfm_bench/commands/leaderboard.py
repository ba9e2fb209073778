"""``fsfm-bench leaderboard build [results=leaderboards/results/] [out=leaderboards/] [reported=true] [figures=true] [--maintainer]``.

Collects every ``result_*.json`` under ``results`` (default ``leaderboards/results/`` under the
output root, where runs write them: see :func:`fsfm_bench.paths.output_root`), validates each (an invalid
one is reported and skipped), merges seeds and writes per protocol Markdown, CSV, LaTeX, HTML and
JSON tables plus seaborn figures into ``out``, atomically (a killed build leaves the old tables).
Inside the fsfm-bench checkout the defaults are the user folder's, so that the committed boards
change only on purpose: ``--maintainer`` rebuilds the checkout's own ``leaderboards/``.
"""
from __future__ import annotations

import argparse
import sys

from ..config import bool_option
from ..errors import UsageError, did_you_mean
from ..paths import output_root, source_tree

KEYS = ("results", "out", "reported", "figures")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["build"], help="build: rebuild every protocol's tables")
    parser.add_argument("options", nargs="*", metavar="key=value",
                        help="results=DIR (default leaderboards/results/), out=DIR (default leaderboards/), "
                             "reported=true|false, figures=true|false")
    parser.add_argument("--maintainer", action="store_true",
                        help="rebuild the committed boards of the fsfm-bench checkout (its leaderboards/)")


def main(args: argparse.Namespace) -> int:
    from ..config import parse_overrides
    from ..results.leaderboard import build

    opts = parse_overrides(args.options)
    for key in opts:
        if key not in KEYS:
            raise UsageError(f"unknown option {key!r} for `leaderboard build`." + did_you_mean(key, KEYS))
    root = _maintainer_root() if args.maintainer else output_root()
    results = opts["results"] if "results" in opts else root / "leaderboards" / "results"
    out = opts["out"] if "out" in opts else root / "leaderboards"
    report = build(str(results), str(out),
                   reported=bool_option(opts, "reported", True), figures=bool_option(opts, "figures", True))
    for path, message in report.skipped:
        print(f"skipped {path}: {message}", file=sys.stderr)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    for ref, folder in report.protocols.items():
        print(f"{ref}: {folder}/leaderboard.md (.csv .tex .html .json, figures/)")
    print(f"{len(report.used)} result(s) used, {len(report.superseded)} superseded by same-seed reruns, "
          f"{len(report.skipped)} skipped; index: {report.out_dir}/index.md")
    return 0


def _maintainer_root():
    tree = source_tree()
    if tree is None:
        raise UsageError("--maintainer rebuilds the committed boards of an fsfm-bench checkout, and this "
                         "fsfm-bench is not installed from one; pass results=DIR out=DIR instead")
    return tree
