"""A tiny ViT backbone that honours fsfm-bench's backbone contract (see DESIGN.md, Contracts)."""
from __future__ import annotations

import torch
from timm.models.vision_transformer import VisionTransformer
from torch import nn


class ExampleViT(nn.Module):
    """A small timm ViT; tokens from forward_features, mean-pooled features from forward."""

    def __init__(self, img_size: int = 32, patch_size: int = 8, embed_dim: int = 64, depth: int = 2,
                 num_heads: int = 2, global_pool: str = "avg"):
        super().__init__()
        self.vit = VisionTransformer(img_size=img_size, patch_size=patch_size, embed_dim=embed_dim,
                                     depth=depth, num_heads=num_heads, num_classes=0, global_pool="")
        self.embed_dim, self.patch_size, self.input_size = embed_dim, patch_size, img_size
        self.num_prefix_tokens, self.num_layers = 1, depth
        self.mean, self.std = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
        self.global_pool = global_pool
        self.fc_norm = nn.LayerNorm(embed_dim) if global_pool == "avg" else nn.Identity()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.vit.forward_features(x)

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.global_pool == "avg":
            return self.fc_norm(tokens[:, self.num_prefix_tokens:].mean(dim=1))
        return tokens[:, 0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.forward_features(x))

    def layer_id(self, name: str) -> int:
        name = name.removeprefix("vit.")
        if name.startswith(("cls_token", "pos_embed", "patch_embed")):
            return 0
        if name.startswith("blocks."):
            return int(name.split(".")[1]) + 1
        return self.num_layers + 1


def build_example_vit(checkpoint: str | None = None, **kwargs) -> ExampleViT:
    """Example ViT (64-d, 2 blocks) for plugin authors to copy."""
    model = ExampleViT(**kwargs)
    if checkpoint is not None:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        model.load_state_dict(state.get("model", state))
    return model
