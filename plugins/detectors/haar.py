"""OpenCV's Haar cascade (``haarcascade_frontalface_default.xml`` from ``cv2.data``; OpenCV < 5)."""
from __future__ import annotations

import cv2
import numpy as np

from fsfm_bench.data.faces import Detection
from fsfm_bench.errors import FsfmBenchError


class HaarCascade:
    """OpenCV Haar cascade frontal face detector (scale 1.1, 5 neighbours, 30 px minimum)."""

    name = "haar"

    def __init__(self, cascade: str = "haarcascade_frontalface_default.xml", scale_factor: float = 1.1,
                 min_neighbors: int = 5, min_size: int = 30) -> None:
        data = getattr(cv2, "data", None)
        if data is None or not hasattr(cv2, "CascadeClassifier"):
            raise FsfmBenchError("detector haar needs OpenCV 4.x with its cascades: "
                                 "pip install 'opencv-python-headless<5' (5.0 removed them)")
        self._cascade = cv2.CascadeClassifier(data.haarcascades + cascade)
        if self._cascade.empty():
            raise FsfmBenchError(f"could not load the Haar cascade {cascade} from {data.haarcascades}")
        self.scale_factor, self.min_neighbors, self.min_size = scale_factor, int(min_neighbors), int(min_size)

    def __call__(self, rgb: np.ndarray) -> list[Detection]:
        gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
        rects, _levels, weights = self._cascade.detectMultiScale3(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size), outputRejectLevels=True)
        return [Detection((float(x), float(y), float(x + w), float(y + h)), float(np.ravel(s)[0]) if np.size(s) else 0.0)
                for (x, y, w, h), s in zip(rects, weights, strict=True)]
