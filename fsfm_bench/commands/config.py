"""``fsfm-bench config protocol=P backbone=B [recipe=R] [key=value ...]``: print the resolved config.

The same composition every run uses; handy to check an override before spending GPU hours.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("options", nargs="*", metavar="key=value",
                        help="protocol=, backbone=, recipe= select sections; other keys override")


def main(args: argparse.Namespace) -> int:
    from .. import config
    from ..config import compose, parse_overrides, print_config

    options = parse_overrides(args.options)
    selectors = {k: options.pop(k) for k in ("protocol", "backbone", "recipe") if k in options}
    if not selectors:
        from ..errors import UsageError

        raise UsageError("name what to compose: protocol=P and/or backbone=B (recipe=R optional), "
                         "e.g. `fsfm-bench config protocol=cdfd backbone=fsfm`")
    config.PRINT_AND_EXIT = False      # this command prints anyway
    cfg = compose(**selectors, overrides=options)
    print_config(cfg)
    return 0
