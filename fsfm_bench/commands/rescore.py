"""``fsfm-bench rescore RESULT [key=value ...]``: recompute metrics from a result's saved scores.

Keys: ``granularity`` (frame, video, image or a list), ``threshold_source`` (fixed_0.5 |
source_val_eer | target_eer), ``metrics`` (e.g. auc,eer,hter,tpr_at_fpr@0.001), ``bootstrap``
(resamples, 0 = none), ``confidence``, ``seed`` (bootstrap seed), ``targets``, ``out`` (a folder:
write the recomputed result there as a new result file that records what changed and where it
came from), ``json`` (true: print the results block as JSON instead of a table). The work is
:func:`fsfm_bench.results.rescore.rescore`; this module checks the options and prints.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..config import bool_option
from ..errors import UsageError, did_you_mean

KEYS = ("granularity", "threshold_source", "metrics", "bootstrap", "confidence", "seed", "targets", "out",
        "json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("result", help="a result_*.json file")
    parser.add_argument("options", nargs="*", metavar="key=value", help=", ".join(KEYS))


def _check_values(opts: dict) -> None:
    """Typed options: ``bootstrap=abc`` or ``json=maybe`` is a usage error, not a traceback or a guess."""
    for key in ("bootstrap", "seed"):
        if key in opts and (isinstance(opts[key], bool) or not isinstance(opts[key], int) or opts[key] < 0):
            raise UsageError(f"{key} must be a whole number >= 0, got {opts[key]!r}"
                             + (" (bootstrap=0 turns confidence intervals off)" if key == "bootstrap" else ""))
    if "confidence" in opts:
        c = opts["confidence"]
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0 < c < 1:
            raise UsageError(f"confidence must be a number between 0 and 1 (e.g. 0.95), got {c!r}")
    bool_option(opts, "json")
    if "out" in opts:
        out = Path(str(opts["out"]))
        if out.suffix.lower() == ".json" or out.is_file():
            raise UsageError(f"out={out} must be a folder: the new result gets its own unique "
                             "result_*.json name there, beside its scores")


def _conventions(opts: dict) -> dict:
    """The conventions to change, checked: unknown keys and bad values are usage errors."""
    for key in opts:
        if key not in KEYS:
            raise UsageError(f"unknown option {key!r} for `rescore`." + did_you_mean(key, KEYS))
    _check_values(opts)
    return {k: opts[k] for k in opts if k not in ("out", "json")}


def main(args: argparse.Namespace) -> int:
    import os

    from ..config import parse_overrides
    from ..results import new_result_from
    from ..results.rescore import rescore

    opts = parse_overrides(args.options)
    original, block, info = rescore(args.result, _conventions(opts))
    if opts.get("json"):
        print(json.dumps(block, indent=2))
    else:
        for target, by_gran in block.items():
            for gran, by_metric in by_gran.items():
                cells = []
                for name, e in by_metric.items():
                    ci = f" [{100 * e['ci']['low']:.2f}, {100 * e['ci']['high']:.2f}]" if e["ci"] else ""
                    cells.append(f"{name}={100 * e['value']:.2f}{ci}")
                print(f"{target:<10} {gran:<6} n={by_gran[gran][next(iter(by_metric))]['n']:<7} " + "  ".join(cells))
        for entry in (info.get("robustness") or {}).get("conditions", []):
            target, by_gran = next(iter(entry["results"].items()))
            gran, by_metric = next(iter(by_gran.items()))
            cells = "  ".join(f"{name}={100 * e['value']:.2f}" for name, e in by_metric.items())
            print(f"{entry['perturbation'] + ':' + str(entry['level']):<10} {target} {gran:<6} {cells}")
    if "out" in opts:
        path = new_result_from(original, args.result, block, info, Path(str(opts["out"])))
        print(f"wrote {os.fspath(path)}")
    return 0
