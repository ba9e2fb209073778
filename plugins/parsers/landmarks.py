"""Landmark-based parsers: 68 points (fitted or templated) rasterised into LaPa labels.

A parser object has ``name``, ``landmarks(image, detection) -> (68, 2)`` in image coordinates and
``parse(crop_rgb, landmarks_in_crop) -> int8 [H, W]``; prepare maps the landmarks into the crop
(so one rasteriser serves both parsers, and forgeries reuse the landmarks).
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np

from fsfm_bench.data.faces import Detection
from fsfm_bench.data.parsing import rasterize_lapa, template_landmarks
from fsfm_bench.errors import FsfmBenchError

PREDICTOR_FILE = "shape_predictor_68_face_landmarks.dat"
PREDICTOR_ENV = "FSFM_BENCH_DLIB68"
INSTALL = ("pip install face-recognition-models==0.3.0 (100 MB sdist with dlib's 68-point model; "
           "the model was trained on iBUG 300-W, non-commercial terms), or apt-get install "
           f"libdlib-data, or pass predictor=PATH / set {PREDICTOR_ENV}=PATH to {PREDICTOR_FILE}")


def find_predictor(path: str | None = None) -> Path | None:
    """Where dlib's 68-point model is: explicit path, $FSFM_BENCH_DLIB68, face_recognition_models, Debian."""
    candidates = [path, os.environ.get(PREDICTOR_ENV)]
    spec = importlib.util.find_spec("face_recognition_models")   # do not import it: it needs pkg_resources
    if spec is not None and spec.submodule_search_locations:
        candidates.append(os.path.join(list(spec.submodule_search_locations)[0], "models", PREDICTOR_FILE))
    candidates.append(f"/usr/share/dlib/{PREDICTOR_FILE}")
    for cand in candidates:
        if cand and Path(cand).is_file():
            return Path(cand)
    if path:
        raise FsfmBenchError(f"parser dlib68: predictor file {path} does not exist")
    return None


class _LandmarkParser:
    name = "?"

    def parse(self, crop_rgb: np.ndarray, landmarks: np.ndarray | None) -> np.ndarray:
        if landmarks is None:
            raise FsfmBenchError(f"parser {self.name} needs landmarks")
        return rasterize_lapa(landmarks, crop_rgb.shape[:2], hair=self.hair)

    def describe(self) -> dict:
        return {"parser": self.name}


class Dlib68Parser(_LandmarkParser):
    """LaPa labels from dlib's 68-point shape predictor (weights: face-recognition-models, optional)."""

    name = "dlib68"

    def __init__(self, predictor: str | None = None, hair: bool = True) -> None:
        try:
            import dlib
        except ImportError as exc:
            raise FsfmBenchError("parser dlib68 needs dlib: pip install dlib-bin") from exc
        found = find_predictor(predictor)
        if found is None:
            raise FsfmBenchError(f"parser dlib68 needs dlib's 68-point model, not found here: {INSTALL}; "
                                 "or use parser=geometric (no weights)")
        self.path = found
        self._predictor = dlib.shape_predictor(str(found))
        self._dlib = dlib
        self.hair = hair

    def landmarks(self, image: np.ndarray, detection: Detection) -> np.ndarray:
        x0, y0, x1, y1 = (int(round(v)) for v in detection.box)
        shape = self._predictor(np.ascontiguousarray(image), self._dlib.rectangle(x0, y0, x1, y1))
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)

    def describe(self) -> dict:
        return {"parser": self.name, "predictor": self.path.name}


class GeometricParser(_LandmarkParser):
    """Landmark-free stand-in: a generic 68-point template in the detection box (no weights needed)."""

    name = "geometric"

    def __init__(self, hair: bool = True) -> None:
        self.hair = hair

    def landmarks(self, image: np.ndarray, detection: Detection) -> np.ndarray:
        return template_landmarks(detection.box, detection.landmarks5)


def AutoParser(**options) -> _LandmarkParser:  # noqa: N802 - registered like a class
    """dlib68 when dlib's 68-point model is installed, else the geometric template (recorded)."""
    if find_predictor(options.get("predictor")) is not None:
        return Dlib68Parser(**options)
    options.pop("predictor", None)
    return GeometricParser(**options)
