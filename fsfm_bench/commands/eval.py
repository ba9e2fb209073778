"""``fsfm-bench eval protocol=P checkpoint=PATH [seed=0] [perturb=all] [key=value ...]``

Evaluates a model already fine-tuned by fsfm-bench (a ``checkpoints/<policy>.pth`` file of a run,
which describes its own backbone and adapter) on protocol P's targets: scores every target frame
once (cached), writes a result file (selection policy = the one that chose the checkpoint) and
rebuilds the leaderboard. Nothing is trained, and only the datasets it scores need a root (the
targets, plus the validation data when the threshold is source_val_eer). The result cites the
initial weights the checkpoint was fine-tuned from, as the run's own result does. ``perturb=``
also scores the targets under robustness perturbations (docs/robustness.md).
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("options", nargs="*", metavar="key=value",
                        help="protocol= and checkpoint= (required), seed=, target=, perturb= (all, GB, GB:3, ...), "
                             "data.roots.NAME=PATH, out=DIR (where runs/ and leaderboards/ go), ...")


def _request(args: argparse.Namespace):
    """(composed config, checkpoint, seed, ``out=`` or None) from the command line."""
    from ..config import compose, int_option, parse_overrides
    from ..errors import UsageError

    options = parse_overrides(args.options)
    protocol = options.pop("protocol", None)
    checkpoint = options.pop("checkpoint", None)
    seed = int_option(options, "seed", 0, minimum=0)
    recipe = options.pop("recipe", None)
    out = options.pop("out", None)        # where relative runs/ and leaderboards/ go (not part of the config)
    if not protocol or not checkpoint:
        raise UsageError("fsfm-bench eval needs protocol=NAME and checkpoint=PATH (a fine-tuned checkpoint, e.g. "
                         "runs/<protocol>/<backbone>/<hash>/seed0/checkpoints/source_val.pth)")
    from ..finetune.model import read_finetuned_checkpoint

    # composed with the backbone the checkpoint was fine-tuned from: the result's config is then the
    # run's own (the leaderboard keeps a run's evaluations on its row)
    backbone = read_finetuned_checkpoint(str(checkpoint))["meta"]["model"]["backbone"]["type"]
    cfg = compose(protocol=protocol, backbone=None if ":" in backbone else backbone, recipe=recipe,
                  overrides=options)     # a `module:attr` backbone has no config section to compose
    return cfg, str(checkpoint), seed, out


def compose_config(args: argparse.Namespace):
    """The config this command would evaluate with (what ``--print-config`` shows)."""
    return _request(args)[0]


def main(args: argparse.Namespace) -> int:
    from ..protocols.evaluate import evaluate

    cfg, checkpoint, seed, out = _request(args)
    evaluate(cfg.to_dict(), checkpoint, seed=seed, out=None if out is None else str(out))
    return 0

