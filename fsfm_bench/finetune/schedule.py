"""The fine-tuning lr schedule and batch plan of the official recipes, as mmengine parts.

Why a scheduler of our own: the official fine-tuning schedule (docs/protocol-fidelity.md, "lr
schedule") sets, at fractional epoch ``t``, a base lr of ``lr * t / W`` during a warm-up of ``W``
epochs that starts at exactly 0, then a half cosine from ``lr`` down to ``min_lr``; every parameter
group gets that base lr times its layer-decay scale -- the floor included, so the bottom layers end
at ``min_lr * scale``, not at ``min_lr``. mmengine's ``LinearLR`` cannot start at 0 (its chainable
form divides by the start factor) and ``CosineAnnealingLR(eta_min=...)`` gives every group the same
absolute floor. :class:`WarmupCosineLR` computes the closed form per group from the group's own
initial lr, so both the warm-up origin and the floor are named recipe settings:

``finetune.warmup_start``  fraction of the peak lr the warm-up starts from (official: 0.0);
``finetune.lr_floor``      ``per_group`` (official: min_lr times the group's layer-decay scale) or
                           ``absolute`` (every group ends at min_lr; the @1 protocols).

Why a batch plan: the paper's deepfake run is 32 images per GPU on 2 GPUs, an lr computed from that
global batch of 64. ``finetune.global_batch`` fixes the global batch whatever the launch: a run on
fewer processes accumulates gradients over ``global / (per-process batch * processes)`` steps, and
the lr is ``blr * global / 256`` (:func:`batch_plan`), so a result does not depend on how it was
launched. ``global_batch: null`` keeps the @1 behaviour (lr scales with the processes present).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from ..errors import UsageError
from ..registry import PARAM_SCHEDULERS

FLOORS = ("per_group", "absolute")


def schedule_factor(t: float, warmup: float, total: float, floor_ratio: float, warmup_start: float = 0.0) -> float:
    """Fraction of the peak lr at (fractional) step ``t``: linear warm-up, then half cosine to ``floor_ratio``."""
    if warmup > 0 and t < warmup:
        return warmup_start + (1.0 - warmup_start) * t / warmup
    span = max(total - warmup, 1e-12)
    progress = min(max((t - warmup) / span, 0.0), 1.0)
    return floor_ratio + (1.0 - floor_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


@PARAM_SCHEDULERS.register_module()
class WarmupCosineLR(_ParamScheduler):
    """Closed-form warm-up + half-cosine lr, per parameter group (see the module docstring).

    Args:
        warmup: warm-up length in steps (epochs when ``by_epoch``; converted with the Runner's
            ``convert_to_iter_based``).
        total: schedule length in the same unit.
        min_lr: the floor (absolute lr of a group whose layer-decay scale is 1).
        peak_lr: the lr of a scale-1 group; with ``floor="per_group"`` each group's floor is
            ``min_lr / peak_lr`` times its own initial lr (= ``min_lr * lr_scale``).
        floor: ``per_group`` or ``absolute``.
        warmup_start: fraction of each group's peak lr at step 0.
    """

    def __init__(self, optimizer, *, warmup: float, total: float, min_lr: float, peak_lr: float,
                 floor: str = "per_group", warmup_start: float = 0.0, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = True, verbose: bool = False) -> None:
        if floor not in FLOORS:
            raise UsageError(f"finetune.lr_floor must be one of {', '.join(FLOORS)}, got {floor!r}")
        if not 0.0 <= float(warmup_start) <= 1.0:
            raise UsageError(f"finetune.warmup_start must be in [0, 1], got {warmup_start!r}")
        self.warmup, self.total = float(warmup), float(total)
        self.min_lr, self.peak_lr = float(min_lr), float(peak_lr)
        self.floor, self.warmup_start = floor, float(warmup_start)
        super().__init__(optimizer, param_name="lr", begin=begin, end=end, last_step=last_step,
                         by_epoch=by_epoch, verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, warmup: float, total: float, begin: int = 0, end: int = INF,
                              by_epoch: bool = True, epoch_length: int | None = None, **kwargs):
        """Epoch-based arguments -> an iteration-based scheduler (mmengine's ``convert_to_iter_based``)."""
        assert by_epoch and epoch_length, "convert_to_iter_based needs an epoch-based config and epoch_length"
        end = end if end == INF else int(end * epoch_length)
        return cls(*args, warmup=warmup * epoch_length, total=total * epoch_length, begin=int(begin * epoch_length),
                   end=end, by_epoch=False, **kwargs)

    def _floor_ratio(self, base_value: float) -> float:
        if self.floor == "per_group":
            return self.min_lr / self.peak_lr if self.peak_lr > 0 else 0.0
        return self.min_lr / base_value if base_value > 0 else 0.0

    def _get_value(self) -> list[float]:
        t = float(self.last_step)
        return [base * schedule_factor(t, self.warmup, self.total, self._floor_ratio(base), self.warmup_start)
                for base in self.base_values]


@dataclass(frozen=True)
class BatchPlan:
    """How one optimiser step is made: per-process batch, accumulation steps, processes, and the lr."""

    per_process: int
    accumulate: int
    world_size: int
    lr: float

    @property
    def global_batch(self) -> int:
        return self.per_process * self.accumulate * self.world_size


def batch_plan(ft: dict[str, Any], world_size: int) -> BatchPlan:
    """The batch plan of a recipe's ``finetune`` section on ``world_size`` processes.

    With ``global_batch`` set, the per-process batch is ``batch_size`` and the missing factor is
    made up by gradient accumulation; the global batch must be a multiple of ``batch_size *
    world_size``. The lr is ``blr * global / 256`` when ``scale_lr`` is on, else ``blr``.
    """
    per = int(ft["batch_size"])
    world = max(1, int(world_size))
    blr = float(ft["blr"])
    scale = bool(ft.get("scale_lr", True))
    wanted = ft.get("global_batch")
    if wanted is None:
        return BatchPlan(per, 1, world, blr * per * world / 256 if scale else blr)
    wanted = int(wanted)
    if wanted < 1 or wanted % (per * world):
        raise UsageError(f"finetune.global_batch={wanted} is not a multiple of batch_size={per} x {world} "
                         f"process(es); launch on a divisor of {max(1, wanted // per)} processes or set "
                         "finetune.batch_size to a divisor of the global batch")
    return BatchPlan(per, wanted // (per * world), world, blr * wanted / 256 if scale else blr)
