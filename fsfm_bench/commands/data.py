"""``fsfm-bench data verify|index|cards``: check and list a dataset copy through its adapter.

    fsfm-bench data verify dataset=NAME root=PATH [strict=true] [out=REPORT.json] [adapter options]
    fsfm-bench data index  dataset=NAME root=PATH [out=ITEMS.jsonl] [adapter options]
    fsfm-bench data cards                          (every dataset card: name, title, licence)

``verify`` exits 1 when the copy fails (something missing, an inconsistent layout file, counts
different from the card); ``index`` writes one JSON object per media item (atomically).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from ..config import bool_option
from ..errors import UsageError, did_you_mean

ACTIONS = ("verify", "index", "cards")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", help="verify | index | cards")
    parser.add_argument("options", nargs="*", help="dataset=NAME root=PATH [out=FILE] [strict=true] [adapter options]")


def _adapter(opts: dict[str, Any]):
    from ..plugins import entries, get

    name = opts.pop("dataset", None)
    if not name:
        raise UsageError("pass dataset=NAME (one of: " + ", ".join(e.name for e in entries("datasets")) + ")")
    adapter = get("datasets", str(name))()
    if opts.get("root") in (None, "") and hasattr(adapter, "default_root"):
        opts["root"] = str(adapter.default_root())       # datasets that ship with fsfm-bench (demo)
    if opts.get("root") in (None, ""):
        raise UsageError(f"pass root=PATH, the folder holding your copy of {name}")
    return adapter


def main(args: argparse.Namespace) -> int:
    from ..config import parse_overrides

    if args.action not in ACTIONS:
        raise UsageError(f"unknown data action {args.action!r}." + did_you_mean(args.action, ACTIONS))
    opts = parse_overrides(args.options)
    if args.action == "cards":
        return _cards()
    adapter = _adapter(opts)
    root = str(opts.pop("root"))
    out = opts.pop("out", None)
    if args.action == "verify":
        strict = bool_option(opts, "strict")
        opts.pop("strict", None)
        report = adapter.verify(root, strict=strict, **opts)
        print(report.format())
        if out:
            from ..io import atomic_write_json

            atomic_write_json(out, report.as_dict())
            print(f"report written to {out}")
        return 0 if report.ok else 1
    items = adapter.index(root, **opts)
    if out:
        from ..io import atomic_open

        with atomic_open(out, "w", encoding="utf-8") as handle:
            for item in items:
                handle.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")
    else:
        for item in items:
            sys.stdout.write(json.dumps(item.as_dict(), ensure_ascii=False) + "\n")
    summary = Counter((it.split, "fake" if it.label else "real") for it in items)
    text = ", ".join(f"{s} {summary[(s, 'real')]} real/{summary[(s, 'fake')]} fake"
                     for s in ("train", "val", "test") if summary[(s, "real")] + summary[(s, "fake")])
    print(f"{adapter.name}: {len(items)} items ({text or 'none'})" + (f" written to {out}" if out else ""),
          file=sys.stderr)
    return 0


def _cards() -> int:
    from ..data.cards import card_names, load_card

    for name in card_names():
        card = load_card(name)
        print(f"{name:<14} {card['title']}  [{card['licence']['name']}]  {card['obtain'].get('url', '')}")
    return 0
