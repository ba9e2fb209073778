"""Per-patch label bits at every map width: the byte planes are OR-reduced as 8-, 4-, 2- or 1-byte
words depending on the width, so each word size is checked against an independent max-pool."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from fsfm_bench_plugins.masking.patches import patch_label_bits


def _max_pool_bits(maps: torch.Tensor, patch: int) -> torch.Tensor:
    """int16 [B, N]: bit l set where any pixel of the patch has label l (one max-pool per label)."""
    out = torch.zeros(maps.shape[0], (maps.shape[1] // patch) * (maps.shape[2] // patch),
                      dtype=torch.int16)
    for label in range(11):
        hit = F.max_pool2d((maps == label).float()[:, None], patch).flatten(1) > 0
        out |= hit.to(torch.int16) << label
    return out


# widths 48 (int64 words), 36 (int32), 30 (int16), 45 (single bytes); patch sizes incl. 1 and odd
@pytest.mark.parametrize("height,width,patch", [(32, 48, 16), (24, 36, 3), (20, 30, 5),
                                                (15, 45, 15), (6, 9, 1), (24, 36, 12)])
def test_label_bits_match_a_max_pool_at_every_word_size(height, width, patch):
    gen = torch.Generator().manual_seed(height * width + patch)
    # sparse rare labels on a background/skin/hair field, so patches differ in which bits they get
    maps = torch.randint(0, 11, (3, height, width), generator=gen)
    field = torch.tensor([0, 1, 10])[torch.randint(0, 3, (3, height, width), generator=gen)]
    rare = torch.rand(3, height, width, generator=gen) < 0.05
    maps = torch.where(rare, maps, field).to(torch.int8)
    want = _max_pool_bits(maps, patch)
    assert len(set(want.flatten().tolist())) > 3            # a non-trivial mix of bit sets
    got = patch_label_bits(maps, patch)
    assert got.dtype == torch.int16 and torch.equal(got, want)
    # a non-contiguous int64 view of the same maps gives the same bits
    strided = maps.transpose(1, 2).contiguous().transpose(1, 2).long()
    assert torch.equal(patch_label_bits(strided, patch), want)
