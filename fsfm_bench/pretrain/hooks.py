"""Hooks of FSFM pretraining: the per-iteration learning-rate schedule and the EMA target update.

Both derive their value from ``runner.iter`` alone (no hidden state), so a resumed run continues
exactly where an uninterrupted one would be.
"""
from __future__ import annotations

import math

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from ..registry import HOOKS


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


def warmup_cosine(epoch: float, base_lr: float, warmup_epochs: float, horizon_epochs: float,
                  min_lr: float = 0.0) -> float:
    """MAE/FSFM schedule in (fractional) epochs: linear from 0 over the warm-up, then a
    half-cosine from ``base_lr`` to ``min_lr`` reached at ``horizon_epochs`` (may exceed the run's
    length: the released ViT-B is epoch 400 of an 800-epoch cosine)."""
    if epoch < warmup_epochs:
        return base_lr * epoch / warmup_epochs
    span = max(horizon_epochs - warmup_epochs, 1e-12)
    progress = min((epoch - warmup_epochs) / span, 1.0)
    return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * progress))


def ema_momentum(it: int, total: int, base: float = 0.996) -> float:
    """BYOL schedule: ``1 - (1 - base) (1 + cos(pi it / T)) / 2``, from ``base`` to 1."""
    return 1.0 - (1.0 - base) * (math.cos(math.pi * min(it, total) / max(total, 1)) + 1.0) / 2.0


def _iters_per_epoch(runner) -> int:
    return max(len(runner.train_dataloader), 1)


@HOOKS.register_module()
class WarmupCosineLrHook(Hook):
    """Sets every param group's lr before each micro-batch (updated at accumulation boundaries,
    as the official engine does), from the fractional epoch ``iter / iters_per_epoch``."""

    priority = "HIGHEST"  # before RuntimeInfoHook records the lr it logs

    def __init__(self, warmup_epochs: float = 40, horizon_epochs: float = 800, min_lr: float = 0.0,
                 accum_iter: int = 1):
        self.warmup_epochs, self.horizon_epochs = float(warmup_epochs), float(horizon_epochs)
        self.min_lr, self.accum_iter = float(min_lr), max(int(accum_iter), 1)

    def lr_at(self, it: int, iters_per_epoch: int, base_lr: float) -> float:
        it = (it // self.accum_iter) * self.accum_iter
        return warmup_cosine(it / iters_per_epoch, base_lr, self.warmup_epochs,
                             self.horizon_epochs, self.min_lr)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        optim = runner.optim_wrapper.optimizer
        ipe = _iters_per_epoch(runner)
        for group in optim.param_groups:
            base = group.setdefault("initial_lr", group["lr"])
            group["lr"] = self.lr_at(runner.iter, ipe, base) * group.get("lr_scale", 1.0)


@HOOKS.register_module()
class EMATargetHook(Hook):
    """After EVERY micro-batch: ``target <- m target + (1 - m) online`` for each target tensor,
    m cosine from ``momentum`` to 1 over ``horizon_epochs`` x iterations per epoch."""

    priority = "NORMAL"

    def __init__(self, momentum: float = 0.996, horizon_epochs: float = 800):
        self.momentum, self.horizon_epochs = float(momentum), float(horizon_epochs)

    def total_iters(self, runner) -> int:
        return int(round(self.horizon_epochs * _iters_per_epoch(runner)))

    @staticmethod
    @torch.no_grad()
    def update(model, m: float) -> None:
        pairs = _unwrap(model).ema_pairs()
        if pairs:
            targets = [t for t, _ in pairs]
            onlines = [o.detach().to(t.dtype) for t, o in pairs]
            torch._foreach_lerp_(targets, onlines, 1.0 - m)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        m = ema_momentum(runner.iter, self.total_iters(runner), self.momentum)
        self.update(runner.model, m)
        runner.message_hub.update_scalar("train/ema_momentum", m)
