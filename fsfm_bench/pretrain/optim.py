"""Optimiser pieces: the official AdamW parameter groups, a CPU autocast wrapper, a DDP wrapper
that keeps the non-finite-loss rule.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from mmengine.model import MMDistributedDataParallel, is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIMIZERS

from ..registry import MODEL_WRAPPERS, OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS


def weight_decay_groups(model: torch.nn.Module, weight_decay: float
                        ) -> tuple[list[dict], list[str], list[str]]:
    """timm ``add_weight_decay`` rule: no decay for 1-D tensors and biases; frozen tensors (fixed
    position tables, the EMA target) are in neither group. Returns groups and the two name lists."""
    decay, no_decay, names_d, names_nd = [], [], [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim <= 1 or name.endswith(".bias"):
            no_decay.append(p)
            names_nd.append(name)
        else:
            decay.append(p)
            names_d.append(name)
    groups = [dict(params=no_decay, weight_decay=0.0), dict(params=decay, weight_decay=weight_decay)]
    return groups, names_d, names_nd


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class FsfmOptimWrapperConstructor:
    """Builds ``optimizer`` over :func:`weight_decay_groups` and wraps it in ``type``."""

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: dict | None = None):
        self.cfg = dict(optim_wrapper_cfg)

    def __call__(self, model: torch.nn.Module) -> OptimWrapper:
        model = model.module if is_model_wrapper(model) else model
        cfg = dict(self.cfg)
        opt_cfg = dict(cfg.pop("optimizer"))
        groups, _, _ = weight_decay_groups(model, opt_cfg.get("weight_decay", 0.0))
        opt_cfg["params"] = groups
        optimizer = OPTIMIZERS.build(opt_cfg)
        wrapper_type = cfg.pop("type", "OptimWrapper")
        return OPTIM_WRAPPERS.build(dict(type=wrapper_type, optimizer=optimizer, **cfg))


@OPTIM_WRAPPERS.register_module()
class CpuAmpOptimWrapper(OptimWrapper):
    """bf16 autocast on the CPU (mmengine's AmpOptimWrapper refuses CPUs; bf16 needs no scaler)."""

    def __init__(self, dtype: str = "bfloat16", **kwargs):
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(device_type="cpu", dtype=self.cast_dtype):
            yield


@MODEL_WRAPPERS.register_module()
class FsfmDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's DDP wrapper with the pretraining step of :mod:`fsfm_bench.pretrain.step`."""

    def train_step(self, data, optim_wrapper):
        from .step import guarded_train_step

        return guarded_train_step(self, self.module, data, optim_wrapper)
