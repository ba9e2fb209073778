"""``fsfm-bench run protocol=P backbone=B [recipe=R] [seeds=0,1,2] [selection=...] [key=value ...]``

Fine-tunes backbone B on protocol P's sources, selects a checkpoint by the protocol's policy,
scores every target frame once (cached), writes a result file and rebuilds the leaderboard.

Shortcuts (top-level config keys): ``seeds=0,1,2``, ``selection=source_val|last|target_oracle``
(target_oracle peeks at the test set and is labelled so everywhere), ``target=M`` (protocols with
variants), ``checkpoint=PATH`` (backbone weights), ``threshold=...``, ``adapter=...``. Datasets:
``data.roots.<name>=PATH`` (or once in ~/.config/fsfm-bench/datasets.yaml). ``perturb=all`` (or
``GB``, ``GB:3,JPEG``) also scores the targets under robustness perturbations (docs/robustness.md).
``out=DIR``: where the relative ``runs/`` and ``leaderboards/`` go (default: the working directory, or
the user folder ``$FSFM_BENCH_HOME`` / ``~/.local/share/fsfm-bench`` when it is the fsfm-bench
checkout). ``--print-config`` shows the resolved config and its sha256 without running. Rerunning the
same command resumes.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("options", nargs="*", metavar="key=value",
                        help="protocol=, backbone= (required), recipe=, seeds=, selection=, target=, "
                             "checkpoint=, data.roots.NAME=PATH, out=DIR and any dotted config key")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or progress lines")


def _request(args: argparse.Namespace):
    """(composed config, ``out=`` or None) from the command line."""
    from ..config import compose, parse_overrides
    from ..errors import UsageError

    options = parse_overrides(args.options)
    selectors = {k: options.pop(k) for k in ("protocol", "backbone", "recipe") if k in options}
    out = options.pop("out", None)        # where relative runs/ and leaderboards/ go (not part of the config)
    for needed in ("protocol", "backbone"):
        if needed not in selectors:
            raise UsageError(f"fsfm-bench run needs {needed}=NAME (e.g. fsfm-bench run protocol=demo backbone=fsfm); "
                             f"see `fsfm-bench ls {needed}s`")
    return compose(**selectors, overrides=options), out


def compose_config(args: argparse.Namespace):
    """The config this command would run (what ``--print-config`` shows)."""
    return _request(args)[0]


def main(args: argparse.Namespace) -> int:
    cfg, out = _request(args)
    if getattr(args, "quiet", False):
        from ..progress import set_mode

        set_mode("off")
    import fsfm_bench.finetune  # noqa: F401  (Runner registrations)

    from ..protocols.run import run

    run(cfg.to_dict(), progress=not args.quiet, out=None if out is None else str(out))
    return 0
