"""From parsing maps to patches: which labels each patch touches, group ownership (the input checks
are the core's, fsfm_bench/bases/masking.py).

A patch belongs to a label set when ANY of its pixels carries one of those labels (FSFM takes a
max-pool of the indicator, docs/method.md, "Region groups"). Instead of one max-pool per label we build, per pixel, the bit
``1 << label`` and OR-reduce it over each patch: one pass over the maps gives an 11-bit presence
mask per patch, from which every group's membership is a cheap bit test. All of it is batched
tensor code that runs on whatever device the maps live on.

The per-pixel work dominates a masking call (12.8 M pixels for 256 maps of 224x224), so it stays
in bytes: two uint8 bit planes (labels 0..7, and 8..10), never an int16/int64 copy of the maps, and
the OR over a patch's pixel rows runs on the bytes viewed as 64-bit words (OR is bytewise, so one
word OR does 8 pixels' work and gives exactly the bytewise result).
"""
from __future__ import annotations

import torch

from .regions import BOUNDARY, GROUPS, NUM_GROUPS, label_bits


def _or_fold(x: torch.Tensor, dim: int) -> torch.Tensor:
    """OR-reduce ``x`` along ``dim`` by repeated halving (works for any length, in place)."""
    length = x.shape[dim]
    while length > 1:
        half = length // 2
        low = x.narrow(dim, 0, half)
        torch.bitwise_or(low, x.narrow(dim, half, half), out=low)
        if length % 2:
            first = x.narrow(dim, 0, 1)
            torch.bitwise_or(first, x.narrow(dim, 2 * half, 1), out=first)
        x = low
        length = half
    return x.squeeze(dim)


_WORDS = (torch.int64, torch.int32, torch.int16)


def _as_words(x: torch.Tensor) -> torch.Tensor:
    """View a uint8 tensor (last axis contiguous) as the widest integer words tiling that axis."""
    for dtype in _WORDS:
        if x.shape[-1] % dtype.itemsize == 0:
            return x.view(dtype)
    return x


def patch_label_bits(maps: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Per patch (raster order), the bit set of the labels any of its pixels has: int16 [B, N].

    Bit l is label l. Labels were checked to be 0..10, so they fit a byte: the int8 maps are
    reinterpreted, not converted. Plane 0 holds ``1 << label`` (labels 8..10 shift out to 0),
    plane 1 holds ``1 << (label ^ 8)``: labels 8..10 give bits 0..2, labels 0..7 shift by 8..15
    and give 0. Every shift amount is below 16, so the result is defined and the same on every
    device (no reliance on negative or over-wide shift amounts).
    """
    batch, height, width = maps.shape
    rows, cols = height // patch_size, width // patch_size
    labels = maps.view(torch.uint8) if maps.dtype == torch.int8 else maps.to(torch.uint8)
    planes = torch.empty((2, batch, height, width), dtype=torch.uint8, device=maps.device)
    one = torch.ones(1, dtype=torch.uint8, device=maps.device).expand(labels.shape)  # no fill pass
    torch.bitwise_left_shift(one, labels, out=planes[0])
    torch.bitwise_xor(labels, 8, out=planes[1])
    torch.bitwise_left_shift(one, planes[1], out=planes[1])
    bits = _or_fold(_as_words(planes.view(2, batch, rows, patch_size, width)), 3)  # pixel rows
    bits = bits.view(torch.uint8).view(2, batch, rows, cols, patch_size)
    low, high = _or_fold(bits, 4).reshape(2, batch, rows * cols).to(torch.int16)   # pixel columns
    return low | (high << 8)


def has_any(bits: torch.Tensor, labels: int) -> torch.Tensor:
    """Bool mask of the patches whose bit set meets ``labels`` (a bit set)."""
    return torch.bitwise_and(bits, labels) != 0


def group_membership(bits: torch.Tensor) -> torch.Tensor:
    """Bool [B, 8, N]: does patch n touch group g (FSFM's groups, BOUNDARY included)."""
    skin, hair_or_background = label_bits((1,)), label_bits((10, 0))
    members = []
    for name, labels in GROUPS:
        if name == BOUNDARY:
            members.append(has_any(bits, skin) & has_any(bits, hair_or_background))
        else:
            members.append(has_any(bits, label_bits(labels)))
    return torch.stack(members, dim=1)


def owners(members: torch.Tensor, first: int | None = None) -> torch.Tensor:
    """Long [B, N]: the group that owns each patch.

    ``first`` (the covered region) owns all its patches; every other patch goes to the first group
    in list order that touches it. Every label is in some group, so every patch gets an owner.
    """
    batch, _, num = members.shape
    order = list(range(NUM_GROUPS))
    if first is not None:
        order.remove(first)
        order.insert(0, first)
    owner = torch.full((batch, num), NUM_GROUPS, dtype=torch.long, device=members.device)
    covered = torch.zeros((batch, num), dtype=torch.bool, device=members.device)
    for group in order:                               # 8 fixed groups, never the samples
        take = members[:, group] & ~covered
        owner.masked_fill_(take, group)
        covered |= take
    return owner


def owner_counts(owner: torch.Tensor, num_owners: int) -> torch.Tensor:
    """Long [B, num_owners]: how many patches each owner has in each row."""
    counts = torch.zeros((owner.shape[0], num_owners), dtype=torch.long, device=owner.device)
    return counts.scatter_add_(1, owner, torch.ones_like(owner))
