"""Baseline for benchmarks/masking.py: CRFR-P written the plain way, one sample at a time.

This is the shape of FSFM's released collate (docs/method.md, "CRFR-P masking" and "Where the official code is slow": per-sample
Python loops with max-pooling over 224x224 maps): for each sample, one max-pool per region group, then one
``torch.randperm`` per group. Same algorithm as the batched ``crfr_p`` plugin (same groups,
ownership, half-to-even rounding, drift rule, |FR| >= K case); only the random draws differ. Kept
here, outside the product, so the speed-up the plugin claims is measured against something real.
"""
from __future__ import annotations

from fractions import Fraction

import torch
import torch.nn.functional as F

GROUP_LABELS = [(2, 3), (4, 5), (6,), (7, 8, 9), None, (10,), (1,), (0,)]   # None: boundary


def _patches(pm: torch.Tensor, labels: tuple[int, ...], patch_size: int) -> torch.Tensor:
    indicator = torch.zeros(pm.shape, dtype=torch.float32, device=pm.device)
    for label in labels:
        indicator += (pm == label).float()
    return F.max_pool2d(indicator[None, None], patch_size).flatten() > 0


def _group_patches(pm: torch.Tensor, group: int, patch_size: int) -> torch.Tensor:
    labels = GROUP_LABELS[group]
    if labels is None:
        return _patches(pm, (10, 0), patch_size) & _patches(pm, (1,), patch_size)
    return _patches(pm, labels, patch_size)


def _half_even(value: Fraction) -> int:
    return round(value)                         # Python rounds a Fraction half to even, exactly


def crfr_p_loop(maps: torch.Tensor, mask_ratio: float = 0.75, patch_size: int = 16,
                generator: torch.Generator | None = None, region: int | None = None):
    """(mask [B, N] bool, focus [B, N] bool) for maps [B, H, W], one sample at a time.

    Runs on the maps' device; ``generator`` must live on that device too (or be None).
    """
    device = maps.device
    num = (maps.shape[1] // patch_size) * (maps.shape[2] // patch_size)
    k_total = int(num * mask_ratio)
    if region is None:
        region = int(torch.randint(6, (1,), generator=generator, device=device))
    masks, focuses = [], []
    for pm in maps:                                   # the loop the batched plugin avoids
        covered = _group_patches(pm, region, patch_size)
        fr = int(covered.sum())
        k = k_total - fr
        if k >= 1:
            rate = Fraction(k, num - fr)
            mask = covered.clone()
            owned = covered.clone()
            for group in range(8):
                if group == region:
                    continue
                take = _group_patches(pm, group, patch_size) & ~owned
                idx = take.nonzero().flatten()
                n = _half_even(len(idx) * rate)
                chosen = idx[torch.randperm(len(idx), generator=generator, device=device)[:n]]
                mask[chosen] = True
                owned |= take
            drift = k_total - int(mask.sum())
            if drift > 0:
                idx = (~mask).nonzero().flatten()
                mask[idx[torch.randperm(len(idx), generator=generator, device=device)[:drift]]] = True
            elif drift < 0:
                idx = (mask & ~covered).nonzero().flatten()
                mask[idx[torch.randperm(len(idx), generator=generator, device=device)[:-drift]]] = False
            focus = covered
        else:
            mask = covered.clone()
            idx = covered.nonzero().flatten()
            mask[idx[torch.randperm(len(idx), generator=generator, device=device)[:-k]]] = False
            focus = mask
        masks.append(mask)
        focuses.append(focus)
    return torch.stack(masks), torch.stack(focuses)
