"""``fsfm-bench config protocol=P backbone=B [recipe=R] [key=value ...]``: print the resolved config.

The same composition every run uses; handy to check an override before spending GPU hours.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("options", nargs="*", metavar="key=value",
                        help="protocol=, backbone=, recipe= select sections; other keys override")


def compose_config(args: argparse.Namespace):
    """The composed config (an ``mmengine.config.Config``) that this command prints."""
    from ..config import compose, parse_overrides

    options = parse_overrides(args.options)
    selectors = {k: options.pop(k) for k in ("protocol", "backbone", "recipe") if k in options}
    if not selectors:
        from ..errors import UsageError

        raise UsageError("name what to compose: protocol=P and/or backbone=B (recipe=R optional), "
                         "e.g. `fsfm-bench config protocol=cdfd backbone=fsfm`")
    return compose(**selectors, overrides=options)


def main(args: argparse.Namespace) -> int:
    from ..config import print_config

    print_config(compose_config(args))
    return 0
