"""Fasking-I: MARLIN's facial-region-guided masking (Cai et al., CVPR 2023) on single images.

MARLIN builds the *visible* set instead of the masked one, from a priority queue of LaPa label
groups: background first, then skin, then the five facial components (right eye+brow, left
eye+brow, nose, mouth, hair) in a random order drawn per sample. Labels are added one at a time
(the patches touching the label become visible) until the visible set holds at least N - K
patches; then N - K of them are kept uniformly at random and everything else is masked. So the
facial components are masked first and background/skin are what the encoder mostly sees. MARLIN
does this per tubelet of a video; on an image it is one frame, hence "-I". No region is covered
as a whole, so ``focus`` is empty.
"""
from __future__ import annotations

import torch

from fsfm_bench.bases.masking import MaskingResult, MaskingStrategy, empty_focus

from .patches import patch_label_bits
from .sampling import pick, random_ranks

FIXED_FIRST = (0, 1)                                    # background, skin: kept visible first
COMPONENTS = ((2, 4), (3, 5), (6,), (7, 8, 9), (10,))   # right eye+brow, left eye+brow, nose, mouth, hair
_WIDTH = max(len(c) for c in COMPONENTS)


class FaskingIMasking(MaskingStrategy):
    """Fasking-I (MARLIN's Fasking on images): keep background, skin, then random facial parts visible.

    Per sample: visible candidates grow label by label along [0, 1, perm(components)] until they
    hold >= N - K patches; N - K random candidates stay visible, the other K are masked.
    """

    name = "fasking_i"

    def _sample(self, maps: torch.Tensor, k: int, generator, region) -> MaskingResult:
        bits = patch_label_bits(maps, self.patch_size).long()
        batch, num = bits.shape
        device = maps.device
        table = torch.tensor([list(c) + [-1] * (_WIDTH - len(c)) for c in COMPONENTS], device=device)
        order = random_ranks(batch, len(COMPONENTS), generator, device)          # a permutation per row
        steps = torch.cat([torch.tensor(FIXED_FIRST, device=device).expand(batch, -1),
                           table[order].reshape(batch, -1)], dim=1)              # [B, S] labels, -1 = none
        touched = ((bits[:, None, :] >> steps.clamp_min(0)[:, :, None]) & 1).bool()
        touched &= (steps >= 0)[:, :, None]                                      # [B, S, N]
        grown = touched.to(torch.uint8).cummax(dim=1).values.bool()              # visible set after each step
        sizes = grown.sum(2)
        keep = num - k
        stop = (sizes < keep).sum(1, keepdim=True)                               # first step reaching N - K
        candidates = grown.gather(1, stop[:, :, None].expand(-1, 1, num)).squeeze(1)
        visible = pick(candidates, torch.full((batch,), keep, device=device),
                       random_ranks(batch, num, generator, device))
        mask = ~visible
        return MaskingResult(mask, empty_focus(mask))
