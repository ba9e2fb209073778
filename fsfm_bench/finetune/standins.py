"""A tiny backbone that honours the backbone contract, for tests, the benchmark and examples.

Referenced as ``backbone.type=fsfm_bench.finetune.standins:tiny_vit`` (any ``module:attr`` factory
works the same way), it lets the fine-tuning machinery run without any backbone plugin installed.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn


class TinyViT(nn.Module):
    """timm VisionTransformer with the contract's attributes (embed_dim, layer_id, pool, ...)."""

    def __init__(self, img_size: int = 32, patch_size: int = 8, embed_dim: int = 32, depth: int = 2,
                 num_heads: int = 2, drop_path_rate: float = 0.0, global_pool: str = "avg",
                 mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), **_: Any) -> None:
        super().__init__()
        from timm.models.vision_transformer import VisionTransformer

        self.vit = VisionTransformer(img_size=img_size, patch_size=patch_size, embed_dim=embed_dim,
                                     depth=depth, num_heads=num_heads, num_classes=0,
                                     global_pool=global_pool, drop_path_rate=drop_path_rate)
        self.embed_dim, self.patch_size, self.num_layers = embed_dim, patch_size, depth
        self.num_prefix_tokens = self.vit.num_prefix_tokens
        self.mean = tuple(mean) if mean is not None else (0.5, 0.5, 0.5)
        self.std = tuple(std) if std is not None else (0.5, 0.5, 0.5)
        self.input_size = img_size

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.vit.forward_features(x)

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.vit.forward_head(tokens, pre_logits=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.forward_features(x))

    def layer_id(self, name: str) -> int:
        name = name.removeprefix("vit.")
        if name.startswith(("cls_token", "pos_embed", "patch_embed", "reg_token")):
            return 0
        if name.startswith("blocks."):
            return int(name.split(".")[1]) + 1
        return self.num_layers + 1


def tiny_vit(checkpoint: str | None = None, **kwargs: Any) -> TinyViT:
    """Factory with the build_backbone signature; ``checkpoint`` is a plain state dict file."""
    model = TinyViT(**kwargs)
    if checkpoint:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        model.load_state_dict(state.get("model", state), strict=False)
    return model
