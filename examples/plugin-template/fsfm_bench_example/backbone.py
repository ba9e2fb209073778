"""A tiny ViT backbone that honours fsfm-bench's backbone contract (see fsfm-bench's docs/plugins.md, "Backbones")."""
from __future__ import annotations

import torch
from timm.models.vision_transformer import VisionTransformer
from torch import nn


class ExampleViT(nn.Module):
    """A small timm ViT; tokens from forward_features, pooled features from forward.

    Takes the standard kwargs fsfm-bench's fine-tuning recipe passes to every backbone
    (``img_size``, ``drop_path_rate``, ``global_pool``) and the timm overrides a rebuild from a
    fine-tuned checkpoint passes (``embed_dim``, ``depth``, ``num_heads``).
    """

    def __init__(self, img_size: int = 32, patch_size: int = 8, embed_dim: int = 64, depth: int = 2,
                 num_heads: int = 2, global_pool: str = "avg", drop_path_rate: float = 0.0):
        super().__init__()
        if global_pool not in ("avg", "token"):
            raise ValueError(f"example_vit: global_pool={global_pool!r}; use avg or token")
        self.vit = VisionTransformer(img_size=img_size, patch_size=patch_size, embed_dim=embed_dim,
                                     depth=depth, num_heads=num_heads, num_classes=0, global_pool="",
                                     drop_path_rate=drop_path_rate)
        self.embed_dim, self.patch_size, self.input_size = embed_dim, patch_size, img_size
        self.num_prefix_tokens, self.num_layers = 1, depth
        self.mean, self.std = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
        self.global_pool = global_pool
        self.fc_norm = nn.LayerNorm(embed_dim) if global_pool == "avg" else nn.Identity()

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.vit.forward_features(x)      # [B, 1 + N, D], after the final norm

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.global_pool == "avg":            # mean of the patch tokens, then a fresh LayerNorm
            return self.fc_norm(tokens[:, self.num_prefix_tokens:].mean(dim=1))
        return tokens[:, 0]                      # "token": the cls token after the final norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.forward_features(x))

    def layer_id(self, name: str) -> int:
        name = name.removeprefix("vit.")
        if name.startswith(("cls_token", "pos_embed", "patch_embed")):
            return 0
        if name.startswith("blocks."):
            return int(name.split(".")[1]) + 1
        return self.num_layers + 1


#: keyword arguments build_example_vit understands (the contract's standard ones + timm overrides)
KNOWN = ("img_size", "patch_size", "embed_dim", "depth", "num_heads", "global_pool", "drop_path_rate")
#: contract kwargs this backbone has no use for: accepted when unset (fsfm-bench passes them as null)
UNSET_ONLY = ("arch", "mean", "std", "trust_checkpoint")


def build_example_vit(checkpoint: str | None = None, **kwargs) -> ExampleViT:
    """Example ViT (64-d, 2 blocks) for plugin authors to copy.

    ``checkpoint``: None (random initialisation) or a file holding a state dict of this model, bare
    or under ``"model"`` (the FSFM layout), opened with ``weights_only=True`` (no code runs).
    """
    from pathlib import Path

    from fsfm_bench.errors import FsfmBenchError, UsageError

    for key in UNSET_ONLY:
        if kwargs.get(key) not in (None, False):
            raise UsageError(f"example_vit does not take {key}={kwargs[key]!r}; it is a fixed tiny ViT "
                             f"(size it with {', '.join(KNOWN)})")
        kwargs.pop(key, None)
    unknown = sorted(set(kwargs) - set(KNOWN))
    if unknown:
        raise UsageError(f"example_vit does not take {', '.join(unknown)}; it takes {', '.join(KNOWN)}")
    model = ExampleViT(**kwargs)
    if checkpoint in (None, ""):
        return model
    if checkpoint == "default":
        raise FsfmBenchError("example_vit has no released weights; pass checkpoint=PATH or no checkpoint")
    path = Path(checkpoint).expanduser()
    if not path.is_file():
        raise FsfmBenchError(f"example_vit: checkpoint {path} does not exist")
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("model", state) if isinstance(state, dict) else state
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
        raise FsfmBenchError(f"example_vit: {path} does not fit this model ({first})") from exc
    return model
