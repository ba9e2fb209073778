"""dlib's HOG frontal face detector: FSFM's and DeepfakeBench's choice (the ``dlib-bin`` wheel)."""
from __future__ import annotations

import numpy as np

from fsfm_bench.data.faces import Detection
from fsfm_bench.errors import FsfmBenchError


class DlibHOG:
    """dlib HOG frontal face detector (upsample 1 as in FSFM), scores are HOG-SVM margins."""

    name = "dlib_hog"

    def __init__(self, upsample: int = 1, threshold: float = 0.0) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise FsfmBenchError("detector dlib_hog needs dlib: pip install dlib-bin") from exc
        self._detector = dlib.get_frontal_face_detector()
        self.upsample = int(upsample)
        self.threshold = float(threshold)

    def __call__(self, rgb: np.ndarray) -> list[Detection]:
        rects, scores, _ = self._detector.run(np.ascontiguousarray(rgb), self.upsample, self.threshold)
        return [Detection((float(r.left()), float(r.top()), float(r.right()), float(r.bottom())), float(s))
                for r, s in zip(rects, scores, strict=True)]
