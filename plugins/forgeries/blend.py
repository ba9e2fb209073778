"""Face-region forgeries: self-blended images, landmark face swap, eyes/mouth edits.

All three share one rule: the fake equals the original wherever the returned mask is 0, because the
last step is ``np.where(mask, manipulated, original)`` with the mask computed before it.
"""
from __future__ import annotations

import cv2
import numpy as np

from fsfm_bench.data.parsing import face_outline

EYES = (list(range(36, 42)), list(range(42, 48)))
MOUTH = (list(range(48, 60)),)


def hull_mask(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    """uint8 {0,1} convex hull of ``points`` (N,2) at sub-pixel precision."""
    mask = np.zeros(shape[:2], np.uint8)
    hull = cv2.convexHull(np.round(np.asarray(points) * 4).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=2)
    return mask


def _odd(n: float) -> int:
    n = max(1, int(round(n)))
    return n if n % 2 else n + 1


def color_jitter(img: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Random RGB shift, hue/saturation/value shift, brightness/contrast (SBI's source transforms)."""
    out = img.astype(np.float32)
    out += rng.uniform(-20, 20, size=3).astype(np.float32) * strength
    hsv = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-0.3, 0.3) * 10 * strength) % 180
    hsv[..., 1] *= 1 + rng.uniform(-0.3, 0.3) * strength
    hsv[..., 2] *= 1 + rng.uniform(-0.2, 0.2) * strength
    out = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    contrast = 1 + rng.uniform(-0.15, 0.15) * strength
    out = (out - out.mean()) * contrast + out.mean() + rng.uniform(-10, 10) * strength
    return np.clip(out, 0, 255).astype(np.uint8)


def geometry_jitter(img: np.ndarray, rng: np.random.Generator, scale: float = 0.05, shift: float = 0.03) -> np.ndarray:
    """A small random scale/translation of the whole image (SBI's source-target misalignment)."""
    h, w = img.shape[:2]
    s = 1 + rng.uniform(-scale, scale)
    tx, ty = rng.uniform(-shift, shift, size=2) * [w, h]
    matrix = np.array([[s, 0, (1 - s) * w / 2 + tx], [0, s, (1 - s) * h / 2 + ty]], np.float64)
    return cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def soft_blend_mask(base: np.ndarray, rng: np.random.Generator, face_size: float) -> np.ndarray:
    """Randomly eroded/dilated and Gaussian-feathered float mask in [0, 1], exactly 0 far outside."""
    k = max(1, int(round(face_size * rng.uniform(0.02, 0.08))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    mask = cv2.erode(base, kernel) if rng.random() < 0.5 else cv2.dilate(base, kernel)
    if mask.sum() == 0:
        mask = base
    blur = _odd(face_size * rng.uniform(0.05, 0.15))
    soft = cv2.GaussianBlur(mask.astype(np.float32), (blur, blur), 0)
    soft = soft / max(float(soft.max()), 1e-6)
    soft[soft < 1.0 / 255] = 0.0
    return soft


def _compose(original: np.ndarray, source: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blend ``source`` into ``original`` with ``weight``; pixels with weight 0 stay bit-identical."""
    blended = weight[..., None] * source.astype(np.float32) + (1 - weight[..., None]) * original.astype(np.float32)
    blended = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    mask = weight > 0
    fake = np.where(mask[..., None], blended, original)
    return fake, mask.astype(np.uint8) * 255


def _face_size(landmarks: np.ndarray) -> float:
    lm = np.asarray(landmarks)
    return float(max(np.ptp(lm[:, 0]), np.ptp(lm[:, 1]), 4.0))


class SelfBlended:
    """Self-blended image (SBI, CVPR 2022): a jittered copy of the face blended inside its hull."""

    name = "sbi"
    needs_donor = False

    def __init__(self, hull: str = "outline", blend_ratios: tuple[float, ...] = (0.25, 0.5, 0.75, 1, 1, 1)) -> None:
        self.hull = hull
        self.blend_ratios = tuple(blend_ratios)

    def __call__(self, image, landmarks, rng, donor=None, donor_landmarks=None):
        lm = np.asarray(landmarks, np.float64)
        source = geometry_jitter(color_jitter(image, rng), rng)
        points = face_outline(lm) if self.hull == "outline" else lm[:27]
        base = hull_mask(image.shape, points)
        weight = soft_blend_mask(base, rng, _face_size(lm)) * float(rng.choice(self.blend_ratios))
        return _compose(image, source, weight)


class RegionEdit:
    """Eyes-only or mouth-only manipulation: the region enlarged, colour-shifted and blended back."""

    name = "region"
    needs_donor = False

    def __init__(self, regions: tuple[str, ...] = ("eyes", "mouth")) -> None:
        for r in regions:
            if r not in ("eyes", "mouth"):
                raise ValueError(f"region must be eyes or mouth, got {r!r}")
        self.regions = tuple(regions)

    def __call__(self, image, landmarks, rng, donor=None, donor_landmarks=None):
        lm = np.asarray(landmarks, np.float64)
        region = str(rng.choice(self.regions))
        groups = EYES if region == "eyes" else MOUTH
        h, w = image.shape[:2]
        source = image.copy()
        base = np.zeros((h, w), np.uint8)
        face = _face_size(lm)
        for idx in groups:
            pts = lm[idx]
            centre = pts.mean(0)
            s = rng.uniform(1.12, 1.3)
            matrix = np.array([[s, 0, (1 - s) * centre[0]], [0, s, (1 - s) * centre[1]]], np.float64)
            warped = cv2.warpAffine(color_jitter(image, rng, 0.6), matrix, (w, h), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT)
            grown = (pts - centre) * (s + 0.25) + centre
            region_mask = hull_mask((h, w), grown)
            source = np.where(region_mask[..., None] > 0, warped, source)
            base |= region_mask
        weight = soft_blend_mask(base, rng, face * 0.4)
        fake, mask = _compose(image, source, weight)
        return fake, mask


class FaceSwap:
    """Landmark face swap between two identities: Delaunay triangle warp, then ``clone="normal"`` or
    ``"mixed"``: cv2.seamlessClone (Poisson blending, which hides the colour seam); ``"alpha"``: a
    feathered alpha blend of the donor's face as it is (the seam and the skin-tone change stay, as in
    graphics face swaps without colour matching)."""

    name = "face_swap"
    needs_donor = True

    def __init__(self, clone: str = "normal") -> None:
        flags = {"normal": cv2.NORMAL_CLONE, "mixed": cv2.MIXED_CLONE, "alpha": None}
        if clone not in flags:
            raise ValueError(f"clone must be one of {', '.join(flags)}, got {clone!r}")
        self.flag = flags[clone]

    def __call__(self, image, landmarks, rng, donor=None, donor_landmarks=None):
        if donor is None or donor_landmarks is None:
            raise ValueError("face_swap needs a donor image and its landmarks")
        from scipy.spatial import Delaunay

        dst_pts = np.asarray(landmarks, np.float64)[:68]
        src_pts = np.asarray(donor_landmarks, np.float64)[:68]
        h, w = image.shape[:2]
        warped = np.zeros_like(image)
        covered = np.zeros((h, w), np.uint8)
        pad_src = max(8, donor.shape[0] // 4)
        donor_big = cv2.copyMakeBorder(donor, pad_src, pad_src, pad_src, pad_src, cv2.BORDER_REFLECT)
        for tri in Delaunay(dst_pts).simplices:
            _warp_triangle(donor_big, warped, covered, src_pts[tri] + pad_src, dst_pts[tri])
        inner = hull_mask((h, w), dst_pts[:27]) & covered
        k = max(1, int(round(_face_size(dst_pts) * rng.uniform(0.02, 0.05))))
        inner = cv2.erode(inner, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        if inner.sum() == 0:
            inner = hull_mask((h, w), dst_pts[:27]) & covered
        warped = color_jitter(warped, rng, 0.2)
        if self.flag is None:                    # alpha: feathered paste, no Poisson colour matching
            source = np.where(covered[..., None] > 0, warped, image)
            return _compose(image, source, soft_blend_mask(inner, rng, _face_size(dst_pts)))
        # seamlessClone needs the mask away from the border: pad, clone, unpad; it may overwrite the
        # mask it is given (OpenCV 4.14), so it gets a copy.
        pad = max(4, h // 8)
        big_dst = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT)
        big_src = cv2.copyMakeBorder(warped, pad, pad, pad, pad, cv2.BORDER_REFLECT)
        big_mask = cv2.copyMakeBorder(inner * 255, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        x, y, bw, bh = cv2.boundingRect(big_mask)
        centre = (int(x + bw // 2), int(y + bh // 2))
        cloned = cv2.seamlessClone(big_src, big_dst, big_mask.copy(), centre, self.flag)[pad:pad + h, pad:pad + w]
        changed = inner > 0
        fake = np.where(changed[..., None], cloned, image)
        return fake, changed.astype(np.uint8) * 255


def _warp_triangle(src, dst, covered, tri_src, tri_dst) -> None:
    """Affine-warp one triangle of ``src`` into ``dst`` (in place) and mark it in ``covered``.

    ``src`` is padded by the caller so the source triangle's bounding box lies inside it.
    """
    h, w = dst.shape[:2]
    sx, sy, sw, sh = cv2.boundingRect(np.float32(tri_src))
    dx, dy, dw, dh = cv2.boundingRect(np.float32(tri_dst))
    sx0, sy0 = max(sx, 0), max(sy, 0)
    patch = src[sy0:sy + sh, sx0:sx + sw]
    x0, y0, x1, y1 = max(dx, 0), max(dy, 0), min(dx + dw, w), min(dy + dh, h)
    if patch.size == 0 or x1 <= x0 or y1 <= y0:
        return
    matrix = cv2.getAffineTransform(np.float32(tri_src - [sx0, sy0]), np.float32(tri_dst - [x0, y0]))
    out = cv2.warpAffine(patch, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT_101)
    tri_mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillConvexPoly(tri_mask, np.int32(np.round((tri_dst - [x0, y0]) * 4)), 1, shift=2)
    sel = tri_mask.astype(bool)
    dst[y0:y1, x0:x1][sel] = out[sel]
    covered[y0:y1, x0:x1][sel] = 1
