"""Load any still image as 8-bit RGB, and make a small copy for face detection.

Real datasets hold grayscale, RGBA, palette and 16-bit PNG/TIFF files and the odd 10000-pixel scan;
detectors want HxWx3 uint8 RGB of a sensible size. Conversions (each recorded by the caller):
grayscale -> replicated to 3 channels; RGBA -> composited over black (alpha dropped);
16-bit -> scaled to 8 bits (value >> 8); float images in [0, 1] -> x 255.
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from ..errors import FsfmBenchError

#: raise the Pillow decompression-bomb limit for real scans but not without bound (~2 gigapixels)
_MAX_PIXELS = 2_000_000_000


class ImageReadError(FsfmBenchError):
    """An image file that cannot be decoded (the failures file records the message)."""


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read ``path`` as HxWx3 uint8 RGB whatever its mode and depth; ImageReadError if impossible."""
    p = Path(path)
    if not p.is_file():
        raise ImageReadError(f"{p}: file does not exist")
    if p.stat().st_size == 0:
        raise ImageReadError(f"{p}: zero-byte file")
    data = np.fromfile(str(p), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img is None:                      # formats OpenCV lacks (GIF, some TIFFs): try Pillow
        img = _load_pillow(p)
        return to_rgb8(img, bgr=False)
    return to_rgb8(img, bgr=True)


def _load_pillow(p: Path) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - Pillow comes with torchvision/matplotlib
        raise ImageReadError(f"{p}: OpenCV cannot decode it and Pillow is not installed") from exc
    Image.MAX_IMAGE_PIXELS = _MAX_PIXELS
    try:
        with Image.open(p) as im:
            im.load()
            if im.mode == "P":
                im = im.convert("RGBA")
            return np.asarray(im)
    except Exception as exc:
        raise ImageReadError(f"{p}: not a decodable image ({type(exc).__name__}: {exc})") from exc


def to_rgb8(img: np.ndarray, bgr: bool = True) -> np.ndarray:
    """Any HxW, HxWx1, HxWx3 or HxWx4 array of uint8/uint16/float -> contiguous HxWx3 uint8 RGB."""
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        scale = 255.0 if float(np.nanmax(img)) <= 1.0 else 1.0
        img = np.clip(np.nan_to_num(img) * scale, 0, 255).astype(np.uint8)
    elif img.dtype == bool:
        img = img.astype(np.uint8) * 255
    elif img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        img = img[:, :, None]
    channels = img.shape[2]
    if channels == 1:
        return np.ascontiguousarray(np.repeat(img, 3, axis=2))
    if channels == 2:                    # gray + alpha
        gray = (img[:, :, :1].astype(np.float32) * (img[:, :, 1:2] / 255.0)).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray, 3, axis=2))
    if channels == 4:
        alpha = img[:, :, 3:4].astype(np.float32) / 255.0
        img = (img[:, :, :3].astype(np.float32) * alpha + 0.5).astype(np.uint8)
    elif channels != 3:
        raise ImageReadError(f"unsupported image with {channels} channels")
    if bgr:
        img = img[:, :, ::-1]
    return np.ascontiguousarray(img)


def detection_view(img: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    """A copy no longer than ``max_side`` pixels (area interpolation) and its scale (view / original).

    Boxes found on the view are divided by the scale to get original-image coordinates; crops are
    then cut from the full-resolution image.
    """
    h, w = img.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return img, 1.0
    scale = max_side / float(max(h, w))
    small = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return small, scale
