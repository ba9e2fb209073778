"""``fsfm-bench ls KIND``: registered names of one kind with a one-line description each."""
from __future__ import annotations

import argparse

from ..registry import PLUGIN_REGISTRIES

#: accepted spellings of each kind
ALIASES = {"backbone": "backbones", "masks": "masking", "mask": "masking", "protocol": "protocols",
           "dataset": "datasets", "adapter": "adapters", "detector": "detectors", "parser": "parsers",
           "forgery": "forgeries", "metric": "metrics", "transform": "transforms",
           "perturbation": "perturbations", "perturb": "perturbations"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", help="one of: " + ", ".join(PLUGIN_REGISTRIES))


def main(args: argparse.Namespace) -> int:
    from ..plugins import entries

    kind = ALIASES.get(args.kind, args.kind)
    found = entries(kind)       # UsageError with suggestions for an unknown kind
    if not found:
        print(f"(no {kind} registered)")
        return 0
    width = max(len(e.name) for e in found)
    for entry in found:
        owner = "" if entry.plugin.builtin else f"  [{entry.plugin.distribution}]"
        print(f"{entry.name:<{width}}  {entry.description}{owner}")
    return 0
