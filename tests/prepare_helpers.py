"""Shared fixtures-as-functions for the tests/test_prepare_*.py files: media made from the bundled faces."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fsfm_bench_plugins.datasets.demo import default_root


def face(name: str = "grace_hopper", height: int = 200) -> np.ndarray:
    """A bundled photo (BGR) scaled to ``height`` pixels."""
    ext = ".png" if name == "astronaut" else ".jpg"
    img = cv2.imread(str(default_root() / "images" / f"{name}{ext}"))
    h, w = img.shape[:2]
    return cv2.resize(img, (round(w * height / h), height), interpolation=cv2.INTER_AREA)


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def face_video(path: Path, n: int = 20, name: str = "grace_hopper", size: tuple[int, int] = (320, 240)) -> Path:
    """A short video of a bundled face drifting across a grey background (a face in every frame)."""
    w, h = size
    src = face(name, 200)
    frames = []
    for i in range(n):
        canvas = np.full((h, w, 3), 90, np.uint8)
        x = 10 + (i * 3) % max(1, w - src.shape[1] - 10)
        cw = min(src.shape[1], w - x)
        canvas[20:20 + src.shape[0], x:x + cw] = src[:, :cw]
        frames.append(canvas)
    return write_video(path, frames)


def noise_video(path: Path, n: int = 10, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    return write_video(path, [rng.integers(0, 256, (120, 160, 3), dtype=np.uint8) for _ in range(n)])
