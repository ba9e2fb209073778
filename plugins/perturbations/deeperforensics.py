"""DeeperForensics-1.0's six image distortions as batched kornia operations (docs/robustness.md).

Each works on a float batch [B, 3, H, W] in [0, 1] on the scoring device; the base class turns
uint8 in and out. Parameters per level are DeeperForensics-1.0's (Jiang et al., CVPR 2020, and
its public perturbation scripts); where the scripts' arithmetic is tied to their BGR/uint8 NumPy
path, docs/robustness.md says how the tensor version corresponds.
"""
from __future__ import annotations

import math

import kornia
import torch

from fsfm_bench.perturb import Perturbation
from fsfm_bench.perturb.rng import hash_bits, walk_normal

#: DeeperForensics' YCbCr scaling: luma spans 219 and chroma 224 of 255 codes, so unit noise in
#: its scaled space is 255/219 (luma) and 255/224 (chroma) in full-range YCbCr
LUMA_SPAN, CHROMA_SPAN = 219.0 / 255.0, 224.0 / 255.0


class ColorSaturation(Perturbation):
    """Colour saturation change (CS): chroma (Cb, Cr) pulled towards grey by a factor."""

    code, title, unit = "CS", "colour saturation change", "chroma factor (1 = unchanged, 0 = grey)"
    params, neutral = (0.4, 0.3, 0.2, 0.1, 0.0), 1.0

    def transform(self, images, param, keys):
        ycbcr = kornia.color.rgb_to_ycbcr(images)
        chroma = 0.5 + (ycbcr[:, 1:] - 0.5) * float(param)
        return kornia.color.ycbcr_to_rgb(torch.cat([ycbcr[:, :1], chroma], dim=1)).clamp_(0.0, 1.0)


class ColorContrast(Perturbation):
    """Colour contrast change (CC): every channel scaled by a factor (towards black)."""

    code, title, unit = "CC", "colour contrast change", "intensity factor (1 = unchanged)"
    params, neutral = (0.85, 0.725, 0.6, 0.475, 0.35), 1.0

    def transform(self, images, param, keys):
        return kornia.enhance.adjust_contrast(images, float(param))


class BlockWise(Perturbation):
    """Local block-wise distortion (BW): grey 8x8 blocks at random positions."""

    code, title, unit = "BW", "local block-wise distortion", "blocks of 8x8 px per 256 px of the short side"
    params, neutral = (16, 32, 48, 64, 80), 0
    revision = 1
    block, grey = 8, 128.0 / 255.0
    LEFT_OFFSET = 1 << 20           # counters of the left coordinates (the tops use 0 .. n - 1)

    def count(self, height: int, width: int, param: int) -> int:
        """DeeperForensics draws ``param * (short side // 256)`` blocks; a face crop under 256 px
        would get none, so the multiplier is at least 1 (``param`` blocks on a 224 px crop)."""
        return int(param) * max(1, min(height, width) // 256)

    def transform(self, images, param, keys):
        b, _, h, w = images.shape
        n = self.count(h, w, param)
        if n == 0 or min(h, w) <= self.block:
            return images
        # positions in [0, side - 1 - block], as the scripts' randint(0, side - 1 - width); block j has
        # the same place at every level, so a higher level adds blocks to the lower one's
        top = hash_bits(keys, n) % (h - self.block)
        left = hash_bits(keys, n, offset=self.LEFT_OFFSET) % (w - self.block)
        rows = torch.arange(h, device=images.device)
        cols = torch.arange(w, device=images.device)
        in_rows = ((rows[None, None] >= top[..., None]) & (rows[None, None] < top[..., None] + self.block)).float()
        in_cols = ((cols[None, None] >= left[..., None]) & (cols[None, None] < left[..., None] + self.block)).float()
        covered = torch.bmm(in_rows.transpose(1, 2), in_cols) > 0          # [B, H, W]: any block covers it
        return torch.where(covered[:, None], torch.full_like(images, self.grey), images)


class WhiteNoise(Perturbation):
    """White Gaussian noise in the colour components (GNC): added to Y, Cb and Cr."""

    code, title, unit = "GNC", "white Gaussian noise", "noise variance (DeeperForensics' scaled YCbCr)"
    params, neutral = (0.001, 0.002, 0.005, 0.01, 0.05), 0.0
    chunk = 64            # samples per noise draw: bounds the int64 index temporaries on small devices

    def transform(self, images, param, keys):
        if float(param) == 0.0:
            return images
        b, c, h, w = images.shape
        scale = torch.tensor([1.0 / LUMA_SPAN, 1.0 / CHROMA_SPAN, 1.0 / CHROMA_SPAN], device=images.device)
        ycbcr = kornia.color.rgb_to_ycbcr(images)
        out = []
        for start in range(0, b, self.chunk):
            noise = walk_normal(keys[start:start + self.chunk], c * h * w).view(-1, c, h, w)
            part = ycbcr[start:start + self.chunk] + math.sqrt(float(param)) * noise * scale[None, :, None, None]
            out.append(kornia.color.ycbcr_to_rgb(part))
        return torch.cat(out).clamp_(0.0, 1.0)


class GaussianBlur(Perturbation):
    """Gaussian blur (GB): a k x k kernel with sigma k / 6, borders reflected as OpenCV's default."""

    code, title, unit = "GB", "Gaussian blur", "kernel size k (sigma = k / 6)"
    params, neutral = (7, 9, 13, 17, 21), 1

    def transform(self, images, param, keys):
        k = int(param)
        if k <= 1:
            return images
        return kornia.filters.gaussian_blur2d(images, (k, k), (k / 6.0, k / 6.0), border_type="reflect")


class JpegCompression(Perturbation):
    """JPEG compression (JPEG) as DeeperForensics-1.0 defines it: down- and up-sampling by a factor.

    The scripts' "JPEG" level is the blockiness of heavy compression produced by resampling by an
    integer factor (bilinear both ways, as OpenCV's INTER_LINEAR), not a DCT codec; docs/robustness.md
    says why this follows the scripts rather than kornia's differentiable JPEG."""

    code, title, unit = "JPEG", "JPEG compression", "down-sampling factor"
    params, neutral = (2, 3, 4, 5, 6), 1

    def transform(self, images, param, keys):
        f = int(param)
        if f <= 1:
            return images
        h, w = images.shape[-2:]
        small = kornia.geometry.transform.resize(images, (max(1, h // f), max(1, w // f)), interpolation="bilinear",
                                                 align_corners=False, antialias=False)
        return kornia.geometry.transform.resize(small, (h, w), interpolation="bilinear", align_corners=False,
                                                antialias=False).clamp_(0.0, 1.0)
