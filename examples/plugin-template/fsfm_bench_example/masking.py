"""A deterministic masking strategy: mask the K patches nearest the image centre."""
from __future__ import annotations

import torch


def build_center_masking(mask_ratio: float = 0.75, patch_size: int = 16, **_):
    """Centre-first masking: the K = int(N * ratio) patches closest to the centre are masked."""

    def mask_fn(parsing_maps: torch.Tensor, generator: torch.Generator | None = None):
        batch, height, width = parsing_maps.shape
        rows, cols = height // patch_size, width // patch_size
        n = rows * cols
        k = int(n * mask_ratio)
        r = torch.arange(rows, device=parsing_maps.device).float() - (rows - 1) / 2
        c = torch.arange(cols, device=parsing_maps.device).float() - (cols - 1) / 2
        dist = (r[:, None] ** 2 + c[None, :] ** 2).flatten()
        order = torch.argsort(dist, stable=True)[:k]
        mask = torch.zeros(batch, n, dtype=torch.bool, device=parsing_maps.device)
        mask[:, order] = True
        return mask, torch.zeros_like(mask)

    return mask_fn
