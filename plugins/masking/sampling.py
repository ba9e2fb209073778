"""Batched random picks: "choose n_b of these patches uniformly at random" for every row at once.

Each row gets a uniformly random permutation of its patch indices (``random_ranks``). Picking the
``n`` candidates with the smallest ranks is a uniform random n-subset, and sorting on
``owner * N + rank`` lays every owner's patches out in random order after one another, so one sort
serves all groups of all samples: no Python loop over samples, and no float ties.
"""
from __future__ import annotations

import torch


def random_ranks(batch: int, num: int, generator: torch.Generator | None,
                 device: torch.device) -> torch.Tensor:
    """Long [batch, num]: a uniformly random permutation of 0..num-1 per row.

    The draw happens on the generator's device (the global RNG of ``device`` when None) and is
    moved to ``device``, so a CPU generator gives the same masks on every device.
    """
    source = generator.device if generator is not None else device
    noise = torch.rand((batch, num), generator=generator, device=source)
    return noise.argsort(dim=1).to(device)


def random_index(high: int, generator: torch.Generator | None, device: torch.device) -> int:
    """One integer uniform in [0, high) from ``generator`` (the global RNG when None)."""
    source = generator.device if generator is not None else device
    return int(torch.randint(high, (1,), generator=generator, device=source).item())


def pick_per_owner(owner: torch.Tensor, quota: torch.Tensor, ranks: torch.Tensor) -> torch.Tensor:
    """Bool [B, N]: for every row b and owner o, ``quota[b, o]`` random patches among those of o.

    ``owner`` is long [B, N] in 0..O-1, ``quota`` long [B, O] (at most each owner's count).
    """
    batch, num = owner.shape
    order = (owner * num + ranks).argsort(dim=1)
    position = torch.empty_like(order)
    position.scatter_(1, order, torch.arange(num, device=owner.device).expand(batch, num))
    counts = torch.zeros_like(quota).scatter_add_(1, owner, torch.ones_like(owner))
    start = counts.cumsum(1) - counts
    return (position - start.gather(1, owner)) < quota.gather(1, owner)


def pick(candidates: torch.Tensor, count: torch.Tensor, ranks: torch.Tensor) -> torch.Tensor:
    """Bool [B, N]: ``count[b]`` candidates of row b chosen uniformly at random."""
    owner = (~candidates).long()                        # 0: candidate, 1: not
    quota = torch.stack([count, torch.zeros_like(count)], dim=1)
    return pick_per_owner(owner, quota, ranks)


def round_half_even(numerator: torch.Tensor, denominator: torch.Tensor) -> torch.Tensor:
    """round(numerator / denominator), ties to even, exactly in integers (both >= 0, den > 0).

    This is what torch.round does to the real quotient; computing it in integers keeps it exact
    and identical on every device (a float product may land on the wrong side of a .5).
    """
    quotient = torch.div(numerator, denominator, rounding_mode="floor")
    twice_rest = 2 * (numerator - quotient * denominator)
    up = (twice_rest > denominator) | ((twice_rest == denominator) & (quotient % 2 == 1))
    return quotient + up.long()
