"""``fsfm-bench plugins [--json] [--load] [--write-index]``: each plugin, its distribution and version,
and what it registers.

Plugins with an index file are listed from it without being imported; ``--load`` imports every
plugin (and reports one that fails to); ``--write-index`` imports them and writes each package's
``fsfm_bench_index.json`` (see :mod:`fsfm_bench.plugin_index`)."""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list of plugin objects")
    parser.add_argument("--load", action="store_true", help="import every plugin, even those with an index")
    parser.add_argument("--write-index", action="store_true",
                        help="import every plugin and write its fsfm_bench_index.json (for plugin authors)")


def main(args: argparse.Namespace) -> int:
    from ..plugins import declared_plugins, load_plugins

    if args.write_index:
        return _write_indexes(load_plugins())
    infos = load_plugins() if args.load else declared_plugins()
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


def _write_indexes(infos) -> int:
    import sys

    from ..plugin_index import index_document, package_dir, write_index
    from ..plugins import get_entry

    for info in infos:
        if info.error:
            print(f"{info.name}: not indexed, it did not load ({info.error})", file=sys.stderr)
            continue
        if package_dir(info.module) is None:
            print(f"{info.name}: not indexed, {info.module} is not a package folder", file=sys.stderr)
            continue
        module = sys.modules[info.module]
        registers = {kind: {name: get_entry(kind, name).description for name in names}
                     for kind, names in info.registers.items()}
        try:
            path = write_index(index_document(info.module, info.version, str(module.fsfm_bench_api), registers))
        except OSError as exc:
            print(f"{info.name}: index not written ({exc})", file=sys.stderr)
            continue
        print(f"{info.name}: {path}")
    return 0
