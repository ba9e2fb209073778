"""random, frp, crfr_r and fasking_i: registration, exactly K, and each strategy's own rule."""
from __future__ import annotations

from fractions import Fraction

import pytest
import torch
import torch.nn.functional as F

import fsfm_bench
from fsfm_bench.errors import UsageError
from fsfm_bench.plugins import get_entry
from fsfm_bench_plugins.masking.synthetic import block_maps, face_maps

N, K = 196, 147
GROUPS = [(2, 3), (4, 5), (6,), (7, 8, 9), None, (10,), (1,), (0,)]


def patches(maps: torch.Tensor, labels) -> torch.Tensor:
    """Bool [B, N]: patches with any pixel in ``labels`` (an independent max-pool)."""
    indicator = torch.zeros(maps.shape)
    for label in labels:
        indicator += (maps == label).float()
    return F.max_pool2d(indicator[:, None], 16).flatten(1) > 0


def owned_groups(maps: torch.Tensor) -> list[torch.Tensor]:
    """FRP's ownership: each patch to the first group (list order) that touches it."""
    covered = torch.zeros(maps.shape[0], N, dtype=torch.bool)
    out = []
    for labels in GROUPS:
        member = (patches(maps, (10, 0)) & patches(maps, (1,))) if labels is None else patches(maps, labels)
        out.append(member & ~covered)
        covered |= out[-1]
    assert covered.all()
    return out


@pytest.mark.parametrize("name", ["random", "frp", "crfr_r", "crfr_p", "fasking_i"])
def test_registered_and_exactly_k(name):
    entry = get_entry("masking", name)
    assert entry.plugin.distribution == "fsfm-bench" and entry.description
    strategy = fsfm_bench.build_masking(name, mask_ratio=0.75, patch_size=16)
    for maps in (face_maps(16, generator=torch.Generator().manual_seed(0)),
                 block_maps(16, generator=torch.Generator().manual_seed(0))):
        mask, focus = strategy(maps, generator=torch.Generator().manual_seed(1))
        assert mask.dtype == focus.dtype == torch.bool and mask.shape == focus.shape == (16, N)
        assert (mask.sum(1) == K).all()
        assert not (focus & ~mask).any()
        again = strategy(maps, generator=torch.Generator().manual_seed(1))
        assert torch.equal(mask, again[0]) and torch.equal(focus, again[1])


def test_unknown_strategy_and_bad_settings_are_usage_errors():
    with pytest.raises(UsageError, match="crfr_p"):
        fsfm_bench.build_masking("crfr_q")
    with pytest.raises(UsageError, match="mask_ratio"):
        fsfm_bench.build_masking("crfr_p", mask_ratio=1.0)
    with pytest.raises(UsageError, match="patch_size"):
        fsfm_bench.build_masking("random", patch_size=0)
    with pytest.raises(UsageError, match="covers no region"):
        fsfm_bench.build_masking("random")(face_maps(1), region="eyes")


def test_random_is_uniform_over_patches():
    strategy = fsfm_bench.build_masking("random")
    mask, focus = strategy(torch.zeros(2000, 224, 224, dtype=torch.int8),
                           generator=torch.Generator().manual_seed(0))
    assert not focus.any()
    rate = mask.float().mean(0)                       # every patch masked ~75 % of the time
    assert (rate - 0.75).abs().max() < 0.05 and abs(float(rate.mean()) - 0.75) < 1e-6


def test_frp_masks_every_group_at_the_same_ratio():
    maps = face_maps(64, generator=torch.Generator().manual_seed(2))
    mask, focus = fsfm_bench.build_masking("frp")(maps, generator=torch.Generator().manual_seed(0))
    assert not focus.any()
    groups = owned_groups(maps)
    for b in range(64):
        quota = [round(Fraction(int(t[b].sum()) * K, N)) for t in groups]
        got = [int((mask[b] & t[b]).sum()) for t in groups]
        drift = K - sum(quota)
        diffs = [g - q for g, q in zip(got, quota, strict=True)]
        assert sum(abs(d) for d in diffs) == abs(drift) and all(d * drift >= 0 for d in diffs)
    for t in groups:       # aggregated: a quarter visible in every large group (small ones: rounding)
        if t.sum() >= 20 * 64:
            fraction = float((t & ~mask).sum()) / float(t.sum())
            assert abs(fraction - 0.25) < 0.02


def test_crfr_r_covers_one_region_and_masks_the_rest_at_random():
    maps = face_maps(128, generator=torch.Generator().manual_seed(3))
    strategy = fsfm_bench.build_masking("crfr_r")
    result = strategy.sample(maps, generator=torch.Generator().manual_seed(0), region="mouth")
    mouth = patches(maps, (7, 8, 9))
    assert result.region == strategy.last_region == "mouth"
    assert torch.equal(result.focus, mouth) and not (mouth & ~result.mask).any()
    outside = result.mask & ~mouth
    assert torch.equal(outside.sum(1), K - mouth.sum(1))
    # unlike CRFR-P, background and skin are hit at the same rate: uniform outside the region
    skin_only = patches(maps, (1,)) & ~patches(maps, (0, 2, 3, 4, 5, 6, 7, 8, 9, 10))
    background_only = patches(maps, (0,)) & ~patches(maps, tuple(range(1, 11)))
    rate = (K - mouth.sum(1)).float().sum() / (~mouth).sum()
    for part in (skin_only, background_only):
        assert abs(float((result.mask & part).sum() / part.sum()) - float(rate)) < 0.02
    seen = {strategy.sample(maps[:2], generator=torch.Generator().manual_seed(s)).region for s in range(40)}
    assert seen == {"brows", "eyes", "nose", "mouth", "boundary", "hair"}


def test_crfr_r_region_larger_than_k():
    maps = torch.full((2, 224, 224), 10, dtype=torch.int8)
    maps[:, :, 208:] = 0
    mask, focus = fsfm_bench.build_masking("crfr_r")(maps, generator=torch.Generator().manual_seed(0),
                                                       region="hair")
    hair = patches(maps, (10,))
    assert (mask.sum(1) == K).all() and torch.equal(mask, focus) and not (mask & ~hair).any()


def test_fasking_i_keeps_background_then_skin_visible():
    maps = face_maps(64, generator=torch.Generator().manual_seed(4))
    mask, focus = fsfm_bench.build_masking("fasking_i")(maps, generator=torch.Generator().manual_seed(0))
    assert not focus.any()
    visible = ~mask
    background = patches(maps, (0,))
    background_skin = background | patches(maps, (1,))
    enough = background.sum(1) >= N - K
    assert enough.any() and (~enough).any()
    # where the background alone reaches N - K patches, only background patches stay visible ...
    assert not (visible[enough] & ~background[enough]).any()
    # ... otherwise background and skin are the candidates (skin touches far more than 49 patches)
    assert not (visible[~enough] & ~background_skin[~enough]).any()
    # facial parts that touch neither are always masked
    parts = patches(maps, (2, 3, 4, 5, 6, 7, 8, 9, 10)) & ~background_skin
    assert parts.any() and not (visible & parts).any()


def test_fasking_i_orders_facial_parts_at_random_per_sample():
    # Quadrants of 49 patches: right eye, nose, mouth, hair; background and skin touch one patch
    # each (inside the eye quadrant). After background and skin (2 patches) the first facial part
    # in the sample's random queue brings the candidates to >= 49, so the 49 visible patches are
    # that part (plus maybe the 2 background/skin patches): one part per sample, each ~1/4 of samples.
    maps = torch.zeros(400, 224, 224, dtype=torch.int8)
    maps[:, :112, :112] = 4
    maps[:, :112, 112:] = 6
    maps[:, 112:, :112] = 7
    maps[:, 112:, 112:] = 10
    maps[:, :16, :16] = 0
    maps[:, :16, 16:32] = 1
    mask, _ = fsfm_bench.build_masking("fasking_i")(maps, generator=torch.Generator().manual_seed(0))
    grid = (~mask).view(400, 14, 14)
    quadrant_visible = torch.stack([grid[:, :7, :7].sum((1, 2)), grid[:, :7, 7:].sum((1, 2)),
                                    grid[:, 7:, :7].sum((1, 2)), grid[:, 7:, 7:].sum((1, 2))], 1)
    eye_first = quadrant_visible[:, 0] == 49
    other_first = (quadrant_visible[:, 1:] >= 47).sum(1) == 1
    assert (eye_first ^ other_first).all()
    first = torch.where(eye_first, 0, quadrant_visible[:, 1:].argmax(1) + 1)
    share = torch.bincount(first, minlength=4).float() / 400
    assert (share - 0.25).abs().max() < 0.08, share
