"""Step 2 of a run: fine-tune one seed of a planned variant, or resume it; a finished seed is reused.

:func:`train_seed` is idempotent: the seed folder ``<variant dir>/seed<k>/`` is keyed by the plan,
so calling it again after a finished training only prunes leftover resume state and returns the
same checkpoint folder; after an interruption the Runner resumes from its last checkpoint.
:func:`select_checkpoint` then names the checkpoint the protocol's selection policy picked.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..io import atomic_write_json
from .spec import POLICY_LABELS

Log = Callable[[str], None]

#: how long the fine-tuning of a seed took, kept beside it so a rerun that reuses it still reports it
TRAIN_TIME_FILE = "train_time.json"

def train_wall_time(seed_dir: Path) -> float | None:
    path = seed_dir / TRAIN_TIME_FILE
    if not path.is_file():
        return None
    import json

    return float(json.loads(path.read_text(encoding="utf-8"))["train_wall_time_s"])

def finished(ckpt_dir: Path, policies: list[str]) -> bool:
    """Whether a seed's selection is complete; a missing or damaged record is not (the fine-tuning
    then resumes and rebuilds it from its checkpoint, or retrains: never a silent re-selection)."""
    from ..finetune.selection import read_record

    record = read_record(ckpt_dir / "selection.json")
    if record is None or not record.get("finished"):
        return False
    return all((ckpt_dir / f"{p}.pth").is_file() for p in policies)

def history(ckpt_dir: Path) -> list[dict[str, Any]]:
    from ..finetune.selection import read_record

    record = read_record(ckpt_dir / "selection.json")
    return record["history"] if record else []



def seed_dir(variant, seed: int) -> Path:
    """``<variant dir>/seed<k>``: where a seed trains (``train/``) and keeps its policy checkpoints."""
    return variant.dir / f"seed{seed}"


def train_seed(plan, variant, seed: int, *, rank: int = 0, log: Log = print) -> Path:
    """Fine-tune ``seed`` of ``variant`` (a :class:`~fsfm_bench.protocols.plan.VariantPlan` of
    ``plan``) unless already finished; return its checkpoint folder (one ``<policy>.pth`` per tracked policy)."""
    from ..finetune import train as ft_train

    started = time.time()
    protocol = variant.protocol
    sdir = seed_dir(variant, seed)
    ckpt_dir = sdir / "checkpoints"
    policies = list(plan.policies)
    if not finished(ckpt_dir, policies):
        log(f"fine-tuning {plan.backbone_name} on {protocol.ref} seed {seed} -> {sdir}")
        rcfg = ft_train.runner_config(
            plan.cfg, model_cfg=variant.model_cfg, train_file=str(variant.splits.train_file),
            val_file=str(variant.splits.val_file), work_dir=str(sdir / "train"), seed=seed, policies=policies,
            oracle_metric=protocol.selection["oracle_metric"],
            oracle_granularity=protocol.selection["oracle_granularity"], meta=variant.meta,
            selection=protocol.selection)
        ft_train.train(rcfg)
        atomic_write_json(sdir / TRAIN_TIME_FILE, {"train_wall_time_s": time.time() - started})
    else:
        log(f"fine-tuning {protocol.ref} seed {seed}: already finished ({ckpt_dir})")
        if rank == 0:            # a kill may have stopped the deletion of its resume state
            from ..training.checkpointing import prune_training_checkpoints

            prune_training_checkpoints(sdir / "train")
    return ckpt_dir


def select_checkpoint(protocol, ckpt_dir: Path, log: Log = print) -> Path:
    """The checkpoint the protocol's selection policy picked (its epoch/iter logged from ``selection.json``)."""
    from ..finetune.selection import choose

    pick = choose(history(ckpt_dir), protocol.policy, protocol.selection["oracle_metric"],
                  protocol.selection.get("oracle_ties", "earlier"))
    checkpoint = ckpt_dir / f"{protocol.policy}.pth"
    log(f"selected checkpoint ({POLICY_LABELS[protocol.policy]}): {checkpoint.name}"
        + (f" at epoch {pick['epoch']} / iter {pick['iter']}" if pick else ""))
    return checkpoint
