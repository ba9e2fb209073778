"""Synthetic LaPa-style parsing maps for tests and benchmarks (no data set needed).

Face-like maps put the 11 labels where a parser would (hair above a skin ellipse, brows, eyes,
nose, lips), with per-sample jitter, so region sizes and overlaps look like real crops. Block maps
draw a random label per block: every label appears everywhere, which stresses ownership rules.
"""
from __future__ import annotations

import torch


def face_maps(batch: int, size: int = 224, generator: torch.Generator | None = None,
              device: str | torch.device = "cpu") -> torch.Tensor:
    """int8 [batch, size, size] face-like LaPa maps drawn from ``generator``."""
    def jitter(scale: float) -> torch.Tensor:
        return ((torch.rand(batch, 1, 1, generator=generator) - 0.5) * 2 * scale).to(device)

    axis = (torch.arange(size, device=device, dtype=torch.float32) + 0.5) / size
    y, x = axis[None, :, None], axis[None, None, :]
    cx, cy = 0.5 + jitter(0.06), 0.55 + jitter(0.06)
    rx, ry = 0.33 + jitter(0.06), 0.42 + jitter(0.06)

    def ellipse(ex, ey, ax, ay) -> torch.Tensor:
        return ((x - ex) / ax) ** 2 + ((y - ey) / ay) ** 2 <= 1.0

    maps = torch.zeros(batch, size, size, dtype=torch.int8, device=device)
    hair_scale = 1.3 + jitter(0.2)
    maps[ellipse(cx, cy - 0.25 * ry, rx * hair_scale, ry * hair_scale) & (y < cy + 0.3 * ry)] = 10
    maps[ellipse(cx, cy, rx, ry)] = 1
    eye_dx, eye_y = 0.40 * rx, cy - 0.18 * ry
    for side, (brow, eye) in ((-1, (2, 4)), (1, (3, 5))):
        maps[ellipse(cx + side * eye_dx, eye_y - 0.17 * ry, 0.22 * rx, 0.045 * ry)] = brow
        maps[ellipse(cx + side * eye_dx, eye_y, 0.15 * rx, 0.06 * ry)] = eye
    maps[ellipse(cx, cy + 0.12 * ry, 0.10 * rx, 0.20 * ry)] = 6
    mouth_y, open_ = cy + 0.50 * ry, 0.02 + jitter(0.02).clamp_min(-0.015)
    maps[ellipse(cx, mouth_y - 0.04 * ry, 0.30 * rx, 0.05 * ry)] = 7
    maps[ellipse(cx, mouth_y + 0.04 * ry, 0.28 * rx, 0.05 * ry)] = 9
    maps[ellipse(cx, mouth_y, 0.25 * rx, open_ * ry + 1e-4)] = 8
    return maps


def block_maps(batch: int, size: int = 224, block: int = 8, generator: torch.Generator | None = None,
               device: str | torch.device = "cpu") -> torch.Tensor:
    """int8 [batch, size, size] with one uniformly random label per ``block``x``block`` square."""
    cells = torch.randint(0, 11, (batch, size // block, size // block), generator=generator)
    maps = cells.repeat_interleave(block, 1).repeat_interleave(block, 2)
    return maps.to(device=device, dtype=torch.int8)
