"""Layer-wise learning-rate decay (BEiT/MAE/FSFM fine-tuning) as an mmengine optimiser constructor.

Parameter group of a parameter = (layer id, decays?). Layer ids come from the backbone contract
(``backbone.layer_id(name)``: 0 = patch embedding/cls/pos, i + 1 = block i, num_layers + 1 =
final norm/head); adapter parameters get num_layers + 1. The lr scale is
``layer_decay ** (num_layers + 1 - layer_id)``. No weight decay for 1-D parameters (norms, biases)
nor for ``pos_embed``/``cls_token`` (FSFM's ``param_groups_lrd``).
"""
from __future__ import annotations

from typing import Any

import torch
from mmengine.optim import DefaultOptimWrapperConstructor

from ..registry import OPTIM_WRAPPER_CONSTRUCTORS

NO_DECAY_NAMES = ("pos_embed", "cls_token", "dist_token", "reg_token", "mask_token")


def param_groups_layer_decay(model: torch.nn.Module, base_lr: float, weight_decay: float,
                             layer_decay: float) -> list[dict[str, Any]]:
    """Groups for ``model.backbone`` + ``model.adapter`` (frozen parameters are left out)."""
    backbone = model.backbone
    num_layers = int(backbone.num_layers)
    groups: dict[tuple[int, bool], dict[str, Any]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if name.startswith("backbone."):
            layer = int(backbone.layer_id(name[len("backbone."):]))
        else:
            layer = num_layers + 1
        short = name.split(".")[-1]
        decay = not (param.ndim == 1 or short in NO_DECAY_NAMES or name.endswith(".bias"))
        key = (layer, decay)
        if key not in groups:
            scale = float(layer_decay) ** (num_layers + 1 - layer)
            groups[key] = {"params": [], "lr": base_lr * scale, "lr_scale": scale, "layer_id": layer,
                           "weight_decay": weight_decay if decay else 0.0}
        groups[key]["params"].append(param)
    return [groups[k] for k in sorted(groups)]


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``paramwise_cfg=dict(layer_decay=0.65)``; everything else as mmengine's default constructor."""

    def __call__(self, model: torch.nn.Module):
        from mmengine.model import is_model_wrapper
        from mmengine.registry import OPTIM_WRAPPERS, OPTIMIZERS

        if is_model_wrapper(model):
            model = model.module
        optim_wrapper_cfg = self.optim_wrapper_cfg.copy()
        optim_wrapper_cfg.setdefault("type", "OptimWrapper")
        optimizer_cfg = self.optimizer_cfg.copy()
        layer_decay = float(self.paramwise_cfg.get("layer_decay", 1.0))
        base_lr = float(optimizer_cfg["lr"])
        weight_decay = float(optimizer_cfg.pop("weight_decay", 0.0))
        optimizer_cfg["params"] = param_groups_layer_decay(model, base_lr, weight_decay, layer_decay)
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        return OPTIM_WRAPPERS.build(optim_wrapper_cfg, default_args=dict(optimizer=optimizer))
