"""MTCNN from facenet-pytorch (its wheel ships the P/R/O-Net weights; the FAS codebases' choice).

facenet-pytorch 2.6 pins torch<2.3, numpy<2 and Pillow<10.3, none of which it really needs, so it
is an optional extra installed without its dependencies::

    pip install --no-deps facenet-pytorch==2.6.0      # needs torch, torchvision, requests, tqdm

It also gives five points (eyes, nose, mouth corners) for ``align=true``.
"""
from __future__ import annotations

import numpy as np

from fsfm_bench.data.faces import Detection
from fsfm_bench.errors import FsfmBenchError

INSTALL = "pip install --no-deps facenet-pytorch==2.6.0"


class MTCNNDetector:
    """MTCNN (facenet-pytorch, optional extra) with five landmarks; probability as score."""

    name = "mtcnn"

    def __init__(self, min_prob: float = 0.9, min_face_size: int = 20, device: str = "cpu") -> None:
        try:
            from facenet_pytorch import MTCNN
        except ImportError as exc:
            if exc.name and not exc.name.startswith("facenet_pytorch"):
                raise FsfmBenchError(f"detector mtcnn: facenet-pytorch is installed but importing it failed "
                                     f"({exc}); it needs torch, torchvision, requests and tqdm: "
                                     f"pip install {exc.name.split('.')[0]}") from exc
            raise FsfmBenchError(f"detector mtcnn needs facenet-pytorch, which is an optional extra "
                                 f"(it pins an old torch): {INSTALL}; or use detector=dlib_hog or "
                                 f"detector=haar") from exc
        self._mtcnn = MTCNN(keep_all=True, min_face_size=int(min_face_size), device=device)
        self.min_prob = float(min_prob)

    def __call__(self, rgb: np.ndarray) -> list[Detection]:
        boxes, probs, points = self._mtcnn.detect(np.ascontiguousarray(rgb), landmarks=True)
        if boxes is None:
            return []
        out = []
        for box, prob, pts in zip(boxes, probs, points, strict=True):
            if prob is None or prob < self.min_prob:
                continue
            out.append(Detection(tuple(float(v) for v in box), float(prob), np.asarray(pts, np.float64)))
        return out
