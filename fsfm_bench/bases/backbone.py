"""The backbone contract (:class:`fsfm_bench.contracts.BackboneProtocol`), implemented once over timm models.

``ViTBackbone`` wraps a timm ``VisionTransformer`` (kept at ``.vit``); ``CNNBackbone`` wraps a timm
CNN. Both give tokens from ``forward_features`` ([B, prefix + N, D]; CNNs [B, H*W, C]), pooled
features from ``pool``, and a layer id per parameter for layer-wise lr decay. Pooling follows FSFM's
fine-tuning: ``global_pool="avg"`` averages the patch tokens and applies a fresh LayerNorm
(``fc_norm``) while the pretrained final ``norm`` is dropped; ``"token"`` takes the cls token after
the final norm. timm implements exactly that split when built with ``global_pool="avg"``.
"""
from __future__ import annotations

import re
from typing import Any

import torch
from torch import nn

from fsfm_bench.errors import UsageError

_STEM = re.compile(r"^(cls_token|pos_embed|reg_token|patch_embed|norm_pre|mask_token|pos_drop|patch_drop)\b")
_BLOCK = re.compile(r"^blocks\.(\d+)\.")


def _relative(name: str, anchor: str) -> str:
    """``backbone.vit.blocks.0.x`` -> ``blocks.0.x``: names may come from any enclosing module."""
    if name.startswith(anchor + "."):
        return name[len(anchor) + 1:]
    idx = name.find(f".{anchor}.")
    return name[idx + len(anchor) + 2:] if idx >= 0 else name


class BackboneBase(nn.Module):
    """Attributes every backbone carries (docs/plugins.md, "Backbones")."""

    embed_dim: int
    patch_size: int | None
    num_prefix_tokens: int
    input_size: int
    num_layers: int
    global_pool: str

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.mean = tuple(float(v) for v in mean)
        self.std = tuple(float(v) for v in std)
        self.load_report = None        # fsfm_bench.checkpoints.LoadReport when weights were loaded
        self.checkpoint_info: dict[str, Any] = {}   # path, sha256, card: for result provenance
        # factory options that rebuild this module WITHOUT its checkpoint (the arch and sizes a card
        # chose): a fine-tuned checkpoint records them, so eval/predict rebuild the same model
        self.rebuild_kwargs: dict[str, Any] = {}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.forward_features(x))

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, global_pool={self.global_pool!r}, "
                f"num_layers={self.num_layers}, mean={self.mean}, std={self.std}")


class ViTBackbone(BackboneBase):
    """A timm VisionTransformer behind the backbone contract."""

    def __init__(self, vit: nn.Module, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__(mean, std)
        self.vit = vit
        self.global_pool = vit.global_pool
        self.embed_dim = int(vit.embed_dim)
        self.patch_size = int(vit.patch_embed.patch_size[0])
        self.num_prefix_tokens = int(vit.num_prefix_tokens)
        self.input_size = int(vit.patch_embed.img_size[0])
        self.num_layers = len(vit.blocks)

    @property
    def fc_norm(self) -> nn.Module:
        return self.vit.fc_norm

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.vit.forward_features(x)

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.vit.forward_head(tokens, pre_logits=True)

    def layer_id(self, name: str) -> int:
        """0 = patch_embed/cls/pos (and CLIP's norm_pre), i+1 = blocks.i, num_layers+1 = norm/fc_norm/head."""
        rel = _relative(name, "vit")
        match = _BLOCK.match(rel)
        if match:
            return int(match.group(1)) + 1
        if _STEM.match(rel):
            return 0
        return self.num_layers + 1

    def no_weight_decay(self) -> set[str]:
        return {f"vit.{n}" for n in ("pos_embed", "cls_token", "reg_token", "dist_token")}


class CNNBackbone(BackboneBase):
    """A timm CNN (Xception, EfficientNet) behind the backbone contract; tokens are feature-map cells.

    Pooling is the CNNs' own global average pooling (``fc_norm`` is an Identity: these baselines are
    fine-tuned as their benchmarks do, without a LayerNorm they never had).
    """

    def __init__(self, net: nn.Module, mean: tuple[float, ...], std: tuple[float, ...], input_size: int,
                 global_pool: str = "avg"):
        super().__init__(mean, std)
        if global_pool != "avg":
            raise UsageError(f"CNN backbones pool by global average only (global_pool=avg), got {global_pool!r}")
        from timm.models._manipulate import group_parameters

        self.net = net
        self.global_pool = "avg"
        self.embed_dim = int(net.num_features)
        self.patch_size = None
        self.num_prefix_tokens = 0
        self.input_size = int(input_size)
        self.fc_norm = nn.Identity()
        groups = group_parameters(net, net.group_matcher(coarse=False))
        order = sorted(groups)
        self.num_layers = max(len(order) - 2, 0)
        self._layer_of = {p: min(i, self.num_layers + 1) for i, g in enumerate(order) for p in groups[g]}

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        fmap = self.net.forward_features(x)            # [B, C, H, W]
        return fmap.flatten(2).transpose(1, 2)         # [B, H*W, C]

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.fc_norm(tokens.mean(dim=1))

    def layer_id(self, name: str) -> int:
        """timm's own parameter grouping (stem = 0, one id per stage/block, head last)."""
        return self._layer_of.get(_relative(name, "net"), self.num_layers + 1)
