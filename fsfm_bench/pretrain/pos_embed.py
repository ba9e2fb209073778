"""Fixed 2-D sine-cosine position embeddings (the encoder and pixel decoder of FSFM/MAE use them).

Half of the channels encode the column coordinate and half the row coordinate; each half is
``[sin(pos * w_k), cos(pos * w_k)]`` with ``w_k = 10000 ** (-k / (D/4))``. A zero row is prepended
for the cls token. Written from the formula (not copied), checked against the parity fixture.
"""
from __future__ import annotations

import torch


def sincos_1d(dim: int, pos: torch.Tensor) -> torch.Tensor:
    """[M] positions -> [M, dim] = cat(sin(pos*omega), cos(pos*omega)), computed in float64."""
    if dim % 2:
        raise ValueError(f"sin-cos embedding needs an even width, got {dim}")
    omega = torch.arange(dim // 2, dtype=torch.float64) / (dim / 2.0)
    omega = 1.0 / 10000 ** omega
    out = pos.to(torch.float64).reshape(-1)[:, None] * omega[None, :]
    return torch.cat([out.sin(), out.cos()], dim=1)


def sincos_2d(dim: int, grid_size: int, cls_token: bool = True) -> torch.Tensor:
    """[1, (1 +) grid_size**2, dim] float32 table in raster patch order (row-major)."""
    if dim % 4:
        raise ValueError(f"2-D sin-cos embedding needs a width divisible by 4, got {dim}")
    coords = torch.arange(grid_size, dtype=torch.float64)
    rows, cols = torch.meshgrid(coords, coords, indexing="ij")
    # first half of the channels from the column index, second half from the row index
    emb = torch.cat([sincos_1d(dim // 2, cols), sincos_1d(dim // 2, rows)], dim=1)
    if cls_token:
        emb = torch.cat([torch.zeros(1, dim, dtype=torch.float64), emb], dim=0)
    return emb.float().unsqueeze(0)
