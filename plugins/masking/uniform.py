"""MAE's masking: K patches uniformly at random per sample, whatever the face looks like."""
from __future__ import annotations

import torch

from fsfm_bench.bases.masking import MaskingResult, MaskingStrategy, empty_focus

from .sampling import random_ranks


class RandomMasking(MaskingStrategy):
    """MAE: mask K = int(N * ratio) patches uniformly at random (the maps only give B and N)."""

    name = "random"

    def _sample(self, maps: torch.Tensor, k: int, generator, region) -> MaskingResult:
        batch = maps.shape[0]
        num = (maps.shape[1] // self.patch_size) * (maps.shape[2] // self.patch_size)
        mask = random_ranks(batch, num, generator, maps.device) < k
        return MaskingResult(mask, empty_focus(mask))
