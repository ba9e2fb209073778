"""CRFR-R and CRFR-P: cover one facial region fully, then mask the rest (docs/method.md, "CRFR-P masking").

Both draw ONE region per batch (as FSFM's collate does) from the first six groups (brows, eyes,
nose, mouth, boundary, hair; never skin or background). FR = the patches touching that region.
When |FR| >= K the region alone fills the budget: K random FR patches stay masked and ``focus``
becomes the mask itself (the covered-region loss then covers all masked patches).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from fsfm_bench.bases.masking import MaskingResult, MaskingStrategy

from .patches import group_membership, owner_counts, owners, patch_label_bits
from .proportional import fix_drift
from .regions import GROUP_NAMES, NUM_FACIAL_REGIONS, NUM_GROUPS, resolve_region
from .sampling import pick_per_owner, random_index, random_ranks, round_half_even


class _CoverRegion(MaskingStrategy):
    has_region = True
    region_names = GROUP_NAMES

    def _region(self, region: int | str | Sequence[int] | None, generator, device) -> int:
        if region is not None:
            return resolve_region(region)
        return random_index(NUM_FACIAL_REGIONS, generator, device)


class CRFRRMasking(_CoverRegion):
    """CRFR-R: cover one random facial region (one per batch) fully, then random patches up to K.

    Per sample: M = FR plus K - |FR| patches drawn uniformly from the rest. If |FR| >= K, M is K
    random patches of FR and focus = M.
    """

    name = "crfr_r"

    def _sample(self, maps: torch.Tensor, k: int, generator, region) -> MaskingResult:
        index = self._region(region, generator, maps.device)
        bits = patch_label_bits(maps, self.patch_size)
        covered = group_membership(bits)[:, index]
        batch, num = covered.shape
        size = covered.sum(1)
        inside = torch.minimum(size, torch.full_like(size, k))
        quota = torch.stack([inside, k - inside], dim=1)        # owner 0: FR, owner 1: the rest
        mask = pick_per_owner((~covered).long(), quota,
                              random_ranks(batch, num, generator, maps.device))
        focus = torch.where((size >= k)[:, None], mask, covered)
        return MaskingResult(mask, focus, index)


class CRFRPMasking(_CoverRegion):
    """CRFR-P (FSFM): cover one facial region per batch fully, mask every other region proportionally.

    Per sample, with FR the covered region's patches and k = K - |FR| >= 1: r = k / (N - |FR|);
    each other group h, in list order, owns T_h = its patches not owned yet, and round(|T_h| * r)
    of them (half to even) are masked at random; then the rounding drift d = K - |M| is fixed by
    masking d random unmasked patches, or unmasking |d| random masked patches outside FR (FR is
    never unmasked). If k < 1: M = FR minus |k| random FR patches, and focus = M.
    """

    name = "crfr_p"

    def _sample(self, maps: torch.Tensor, k: int, generator, region) -> MaskingResult:
        index = self._region(region, generator, maps.device)
        members = group_membership(patch_label_bits(maps, self.patch_size))
        batch, _, num = members.shape
        covered = members[:, index]
        owner = owners(members, first=index)
        counts = owner_counts(owner, NUM_GROUPS)
        size = counts[:, index]                                   # |FR|
        rest = (k - size).clamp_min(0)                            # k, or 0 when |FR| >= K
        huge = size >= k
        quota = round_half_even(counts * rest[:, None], (num - size).clamp_min(1)[:, None])
        quota[:, index] = torch.minimum(size, torch.full_like(size, k))   # FR: all (or K of it)
        mask = pick_per_owner(owner, quota, random_ranks(batch, num, generator, maps.device))
        mask = fix_drift(mask, k, mask & ~covered, generator)
        focus = torch.where(huge[:, None], mask, covered)
        return MaskingResult(mask, focus, index)
