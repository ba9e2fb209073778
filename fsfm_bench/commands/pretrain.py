"""``fsfm-bench pretrain recipe=fsfm data=DATASET_OR_MANIFEST masking=crfr_p model=vit_base [k=v ...]``

Composes the recipe (configs/recipes/<recipe>.yaml) with ``key=value`` overrides, computes (or
reads from cache) the dataset mean/std, trains on mmengine's Runner (auto-resume from the work
dir; ``torchrun --nproc_per_node=N -m fsfm_bench pretrain ...`` for DDP) and exports the encoder
in the FSFM layout with its mean/std file and card under ``<work_dir>/export/``. The work is
:func:`fsfm_bench.pretrain.run.run_pretrain`; this module only reads the command line.

Shorthands: ``data=`` -> ``data.source``, ``masking=`` -> ``masking.name``, ``model=`` ->
``model.preset``, ``ssl=`` -> the algorithm (fsfm, mae), ``work_dir=`` -> ``work_dir``.
"""
from __future__ import annotations

import argparse
from typing import Any

SHORTHANDS = {"data": "data.source", "masking": "masking.name", "model": "model.preset"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("options", nargs="*", help="key=value: recipe=, data=, masking=, model=, "
                                                    "work_dir=, and any dotted recipe key")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or progress lines")


def split_options(options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``recipe=`` (default fsfm) and the other options with their shorthands spelt out."""
    recipe = str(options.pop("recipe", "fsfm"))
    out: dict[str, Any] = {}
    for key, value in options.items():
        out[SHORTHANDS.get(key, key)] = value
    return recipe, out


def _request(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    from ..config import parse_overrides
    from ..pretrain.run import compose_pretrain

    recipe, overrides = split_options(parse_overrides(args.options))
    return recipe, compose_pretrain(recipe, overrides)


def compose_config(args: argparse.Namespace) -> dict[str, Any]:
    """The config this command would run (what ``--print-config`` shows)."""
    return _request(args)[1]


def main(args: argparse.Namespace) -> int:
    from ..config import config_hash, save_config
    from ..pretrain.run import run_pretrain

    if getattr(args, "quiet", False):
        from ..progress import set_mode

        set_mode("off")
    recipe, cfg = _request(args)
    return run_pretrain(cfg, recipe, save=save_config, digest=config_hash)
