"""CRFR-P (docs/method.md, "CRFR-P masking") against an independent per-sample re-statement and the parity fixture.

The reference helpers below use max-pooling and exact fractions, not the plugin's bit tricks and
integer rounding, so the two implementations check each other.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import fsfm_bench
from fsfm_bench.errors import UsageError
from fsfm_bench_plugins.masking.synthetic import block_maps, face_maps

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "data" / "fsfm-parity" / "fsfm_parity_tiny_b4_seed1.pt"
GROUPS = [(2, 3), (4, 5), (6,), (7, 8, 9), None, (10,), (1,), (0,)]      # None: boundary
N, K = 196, 147


def _patches(maps: torch.Tensor, labels, patch: int) -> torch.Tensor:
    indicator = torch.zeros(maps.shape)
    for label in labels:
        indicator += (maps == label).float()
    return F.max_pool2d(indicator[:, None], patch).flatten(1) > 0


def ref_members(maps: torch.Tensor, patch: int = 16) -> list[list[torch.Tensor]]:
    """Per map, per group, the patches that touch the group (any pixel: a max-pool), bool [N]."""
    out = []
    for labels in GROUPS:
        if labels is None:
            out.append(_patches(maps, (10, 0), patch) & _patches(maps, (1,), patch))
        else:
            out.append(_patches(maps, labels, patch))
    return [[group[b] for group in out] for b in range(maps.shape[0])]


def ref_owned(members: list[torch.Tensor], first: int) -> dict[int, torch.Tensor]:
    """Group -> the patches it owns when ``first`` is covered (then list order)."""
    owned = {first: members[first].clone()}
    covered = members[first].clone()
    for group in range(8):
        if group != first:
            owned[group] = members[group] & ~covered
            covered |= owned[group]
    assert bool(covered.all())
    return owned


def check_crfr_p_row(members, mask_row, focus_row, region, k=K):
    """Every property of docs/method.md, "CRFR-P masking", for one sample; returns the per-group masked counts."""
    num = members[0].numel()
    region_patches = members[region]
    size = int(region_patches.sum())
    assert int(mask_row.sum()) == k
    assert not bool((focus_row & ~mask_row).any()), "focus must lie within the mask"
    if size >= k:                                        # the region alone exceeds the budget
        assert torch.equal(focus_row, mask_row)
        assert not bool((mask_row & ~region_patches).any())
        return None
    assert torch.equal(focus_row, region_patches)        # the covered region, fully masked
    owned = ref_owned(members, region)
    rate = Fraction(k - size, num - size)
    quota = {g: round(int(t.sum()) * rate) for g, t in owned.items() if g != region}  # half to even
    drift = (k - size) - sum(quota.values())
    got = {g: int((mask_row & owned[g]).sum()) for g in quota}
    diffs = [got[g] - quota[g] for g in quota]
    assert sum(abs(d) for d in diffs) == abs(drift), (quota, got, drift)
    assert all(d * drift >= 0 for d in diffs), "the drift correction moves in one direction only"
    return got


@pytest.fixture(scope="module")
def crfr_p():
    return fsfm_bench.build_masking("crfr_p", mask_ratio=0.75, patch_size=16)


@pytest.fixture(scope="module")
def fixture_batch():
    if not FIXTURE.exists():
        pytest.skip(f"parity fixture {FIXTURE} is only available beside the development checkout "
                    f"(../shared)")
    return torch.load(FIXTURE, weights_only=True)


@pytest.mark.parametrize("maker", [face_maps, block_maps], ids=["face", "blocks"])
def test_properties_on_random_maps_for_every_region(crfr_p, maker):
    maps = maker(12, generator=torch.Generator().manual_seed(3))
    members = ref_members(maps)
    gen = torch.Generator().manual_seed(0)
    for region in range(6):
        result = crfr_p.sample(maps, generator=gen, region=region)
        assert result.mask.dtype == torch.bool and result.mask.shape == (12, N)
        assert result.region_index == region == crfr_p.last_region_index
        for b in range(12):
            check_crfr_p_row(members[b], result.mask[b], result.focus[b], region)


def test_one_region_per_batch_drawn_from_the_six_facial_regions(crfr_p):
    maps = face_maps(6, generator=torch.Generator().manual_seed(1))
    members = ref_members(maps)
    gen = torch.Generator().manual_seed(7)
    seen = set()
    for _ in range(48):
        result = crfr_p.sample(maps, generator=gen)
        seen.add(result.region)
        for b in range(6):               # every sample covers the SAME region
            check_crfr_p_row(members[b], result.mask[b], result.focus[b], result.region_index)
    assert seen == {"brows", "eyes", "nose", "mouth", "boundary", "hair"}


def test_other_groups_keep_about_a_quarter_visible(crfr_p):
    maps = face_maps(128, generator=torch.Generator().manual_seed(5))
    result = crfr_p.sample(maps, generator=torch.Generator().manual_seed(5), region="nose")
    visible, total = torch.zeros(8), torch.zeros(8)
    members = ref_members(maps)
    for b in range(128):
        owned = ref_owned(members[b], 2)
        for g, t in owned.items():
            visible[g] += float((t & ~result.mask[b]).sum())
            total[g] += float(t.sum())
    others = [g for g in range(8) if g != 2 and total[g] > 0]
    fraction = visible[others] / total[others]
    assert visible[2] == 0
    # the nose covers ~5 patches, so the others are masked at r = (147-5)/(196-5) ~ 0.743
    assert torch.all((fraction - 0.257).abs() < 0.03), fraction


def test_reproducible_from_the_generator(crfr_p):
    maps = face_maps(8, generator=torch.Generator().manual_seed(2))
    a = crfr_p.sample(maps, generator=torch.Generator().manual_seed(11))
    b = crfr_p.sample(maps, generator=torch.Generator().manual_seed(11))
    c = crfr_p.sample(maps, generator=torch.Generator().manual_seed(12))
    assert torch.equal(a.mask, b.mask) and torch.equal(a.focus, b.focus) and a.region == b.region
    assert not torch.equal(a.mask, c.mask)
    with torch.random.fork_rng():                       # generator=None: the global RNG
        torch.manual_seed(4)
        d = crfr_p(maps)
        torch.manual_seed(4)
        e = crfr_p(maps)
    assert torch.equal(d[0], e[0]) and torch.equal(d[1], e[1])


def test_region_alone_exceeds_k():
    # hair everywhere except a skin strip: hair touches 182 patches > K = 147
    maps = torch.full((3, 224, 224), 10, dtype=torch.int8)
    maps[:, 208:, :] = 1
    strategy = fsfm_bench.build_masking("crfr_p")
    mask, focus = strategy(maps, generator=torch.Generator().manual_seed(0), region="hair")
    assert (mask.sum(1) == K).all() and torch.equal(mask, focus)
    assert not mask[:, 182:].any()                      # only hair patches (rows 0..12) masked
    assert not torch.equal(mask[0], mask[1])            # which |FR| - K are unmasked is random


def test_other_sizes_ratios_and_empty_batch():
    strategy = fsfm_bench.build_masking("crfr_p", mask_ratio=0.6, patch_size=8)
    maps = face_maps(5, size=64, generator=torch.Generator().manual_seed(0))
    members = ref_members(maps, patch=8)
    gen = torch.Generator().manual_seed(0)
    for region in range(6):
        result = strategy.sample(maps, generator=gen, region=region)
        for b in range(5):
            check_crfr_p_row(members[b], result.mask[b], result.focus[b], region, k=int(64 * 0.6))
    mask, focus = strategy(torch.zeros((0, 64, 96), dtype=torch.int8))
    assert mask.shape == focus.shape == (0, 8 * 12)


def test_region_can_be_forced_by_index_name_or_labels(crfr_p):
    maps = face_maps(4, generator=torch.Generator().manual_seed(0))
    masks = [crfr_p(maps, generator=torch.Generator().manual_seed(1), region=r)[1]
             for r in (1, "eyes", [4, 5], (5, 4))]
    assert all(torch.equal(masks[0], m) for m in masks[1:])
    assert crfr_p.last_region == "eyes"
    for bad, words in ((6, "out of range"), ("skin", "unknown facial region"), ("eys", "Did you mean: eyes"),
                       ([1], "not one of the facial regions")):
        with pytest.raises(UsageError, match=words):
            crfr_p(maps, region=bad)


def test_cpu_generator_gives_the_same_masks_on_cuda(crfr_p):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device here")
    maps = face_maps(16, generator=torch.Generator().manual_seed(0))
    cpu = crfr_p(maps, generator=torch.Generator().manual_seed(3))
    gpu = crfr_p(maps.cuda(), generator=torch.Generator().manual_seed(3))
    assert gpu[0].is_cuda and torch.equal(cpu[0], gpu[0].cpu()) and torch.equal(cpu[1], gpu[1].cpu())


# --- the parity fixture: one batch through the official FSFM code --------------------------------

def test_forced_eyes_region_gives_the_fixture_focus_mask(crfr_p, fixture_batch):
    maps = fixture_batch["parsing_maps"]
    assert maps.dtype == torch.int8 and maps.shape == (4, 224, 224)
    assert list(fixture_batch["region"]) == [4, 5]
    mask, focus = crfr_p(maps, generator=torch.Generator().manual_seed(0),
                         region=list(fixture_batch["region"]))
    assert torch.equal(focus, fixture_batch["focus_mask"].bool())
    assert (mask.sum(1) == K).all() and not (focus & ~mask).any()


def test_per_group_counts_match_the_official_mask(crfr_p, fixture_batch):
    """Random picks differ, but how many patches each group gets masked is deterministic up to
    the drift correction: our mask and the official one agree on it row by row."""
    maps = fixture_batch["parsing_maps"]
    official = fixture_batch["img_mask"].bool()
    focus_official = fixture_batch["focus_mask"].bool()
    ours = crfr_p.sample(maps, generator=torch.Generator().manual_seed(0), region="eyes")
    for b, members in enumerate(ref_members(maps)):
        got_ours = check_crfr_p_row(members, ours.mask[b], ours.focus[b], 1)
        got_official = check_crfr_p_row(members, official[b], focus_official[b], 1)
        size = int(members[1].sum())
        rate = Fraction(K - size, N - size)
        owned = ref_owned(members, 1)
        drift = (K - size) - sum(round(int(t.sum()) * rate) for g, t in owned.items() if g != 1)
        l1 = sum(abs(got_ours[g] - got_official[g]) for g in got_ours)
        assert l1 <= 2 * abs(drift)
        if drift == 0:
            assert got_ours == got_official


def test_fixture_maps_keep_about_a_quarter_of_each_group_visible(crfr_p, fixture_batch):
    maps = fixture_batch["parsing_maps"]
    members = ref_members(maps)
    gen = torch.Generator().manual_seed(0)
    for region in range(6):
        result = crfr_p.sample(maps, generator=gen, region=region)
        visible, total = torch.zeros(8), torch.zeros(8)
        for b in range(4):
            check_crfr_p_row(members[b], result.mask[b], result.focus[b], region)
            for g, t in ref_owned(members[b], region).items():
                visible[g] += float((t & ~result.mask[b]).sum())
                total[g] += float(t.sum())
        if region < 4:
            # Small covered regions leave r ~ 0.74 for the others. Only large groups are compared
            # with 1/4: small ones are dominated by rounding (check_crfr_p_row checks them exactly).
            large = [g for g in range(8) if g != region and total[g] >= 40]
            assert len(large) >= 3           # boundary, skin, background (and hair on some faces)
            for g in large:
                assert abs(float(visible[g] / total[g]) - 0.25) < 0.04, (region, g)


def test_fixture_hair_exceeds_k_on_two_faces(crfr_p, fixture_batch):
    maps = fixture_batch["parsing_maps"]
    mask, focus = crfr_p(maps, generator=torch.Generator().manual_seed(0), region="hair")
    hair = torch.stack([members[5] for members in ref_members(maps)])
    assert hair.sum(1).tolist() == [53, 151, 154, 63]
    assert torch.equal(focus[1:3], mask[1:3]) and not (mask[1:3] & ~hair[1:3]).any()
    assert torch.equal(focus[[0, 3]], hair[[0, 3]])
    assert (mask.sum(1) == K).all()


def test_quota_rounding_is_exact_half_to_even():
    """round(|T| * k / (N - |FR|)) for every case at N=196, K=147, ties (224 of them) to even."""
    from fsfm_bench_plugins.masking.sampling import round_half_even

    fr = torch.arange(K).repeat_interleave(N + 1)
    t = torch.arange(N + 1).repeat(K)
    keep = t <= N - fr
    fr, t = fr[keep], t[keep]
    got = round_half_even(t * (K - fr), N - fr)
    want = torch.tensor([round(Fraction(int(a) * (K - int(b)), N - int(b))) for a, b in zip(t, fr, strict=True)])
    assert torch.equal(got, want)
    ties = (2 * t * (K - fr)) % (N - fr) == 0
    ties &= ((2 * t * (K - fr)) // (N - fr)) % 2 == 1
    assert int(ties.sum()) == 224
