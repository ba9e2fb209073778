"""``fsfm-bench ls KIND``: registered names of one kind with a one-line description each.

Answered from the plugins' index files when they have them (no plugin module, no torch imported:
see :mod:`fsfm_bench.plugin_index`), else by loading the plugins."""
from __future__ import annotations

import argparse

from ..hookspecs import KIND_HOOKS

#: accepted spellings of each kind
ALIASES = {"backbone": "backbones", "masks": "masking", "mask": "masking", "protocol": "protocols",
           "dataset": "datasets", "adapter": "adapters", "detector": "detectors", "parser": "parsers",
           "forgery": "forgeries", "metric": "metrics",
           "perturbation": "perturbations", "perturb": "perturbations"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", help="one of: " + ", ".join(KIND_HOOKS))


def main(args: argparse.Namespace) -> int:
    from ..plugins import declared_entries

    kind = ALIASES.get(args.kind, args.kind)
    found = declared_entries(kind)       # UsageError with suggestions for an unknown kind
    if not found:
        print(f"(no {kind} registered)")
        return 0
    width = max(len(e.name) for e in found)
    for entry in found:
        owner = "" if entry.plugin.builtin else f"  [{entry.plugin.distribution}]"
        print(f"{entry.name:<{width}}  {entry.description}{owner}")
    return 0
