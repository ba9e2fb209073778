"""FRP: every facial region masked at the same ratio (CRFR-P without the covered region)."""
from __future__ import annotations

import torch

from fsfm_bench.bases.masking import MaskingResult, MaskingStrategy, empty_focus

from .patches import group_membership, owner_counts, owners, patch_label_bits
from .regions import NUM_GROUPS
from .sampling import pick, pick_per_owner, random_ranks, round_half_even


def fix_drift(mask: torch.Tensor, k: int, removable: torch.Tensor, generator,
              exempt: torch.Tensor | None = None) -> torch.Tensor:
    """Bring every row of ``mask`` to exactly ``k`` True: mask random unmasked patches when short,
    unmask random masked patches of ``removable`` when over (``removable`` excludes what must stay
    masked, e.g. the covered region)."""
    drift = k - mask.sum(1)
    candidates = torch.where((drift > 0)[:, None], ~mask, removable)
    ranks = random_ranks(mask.shape[0], mask.shape[1], generator, mask.device)
    return mask ^ pick(candidates, drift.abs(), ranks)


class FRPMasking(MaskingStrategy):
    """FRP: each of FSFM's 8 region groups (owned by list order) masked at ratio K/N, then exactly K.

    Per sample: every patch is owned by the first group that touches it; group h gets
    round(|T_h| * K / N) of its patches masked at random (half to even); the rounding drift is
    fixed by masking or unmasking random patches. No region is covered, so ``focus`` is empty.
    """

    name = "frp"

    def _sample(self, maps: torch.Tensor, k: int, generator, region) -> MaskingResult:
        members = group_membership(patch_label_bits(maps, self.patch_size))
        batch, _, num = members.shape
        owner = owners(members)
        quota = round_half_even(owner_counts(owner, NUM_GROUPS) * k,
                                torch.full((1, 1), num, device=maps.device))
        mask = pick_per_owner(owner, quota, random_ranks(batch, num, generator, maps.device))
        mask = fix_drift(mask, k, mask, generator)
        return MaskingResult(mask, empty_focus(mask))
