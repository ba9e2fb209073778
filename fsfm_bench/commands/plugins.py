"""``fsfm-bench plugins [--json]``: each plugin, its distribution and version, and what it registered."""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list of plugin objects")


def main(args: argparse.Namespace) -> int:
    from ..plugins import load_plugins

    infos = load_plugins()
    if args.json:
        print(json.dumps([info.as_json() for info in infos], indent=2))
        return 0
    for info in infos:
        origin = "built-in" if info.builtin else "third-party"
        print(f"{info.name}  ({info.distribution} {info.version}, {origin})")
        if info.error:
            print(f"    SKIPPED: {info.error}")
        for kind, names in sorted(info.registers.items()):
            print(f"    {kind}: {', '.join(sorted(names))}")
        if not info.registers and not info.error:
            print("    (registers nothing)")
    return 0
