"""Face detections and the FF++/FSFM square crop (optionally 5-point aligned).

The crop follows FF++'s ``get_boundingbox`` as FSFM uses it (docs/method.md, "Pretraining data and face cropping"): side =
``int(max(w, h) * 1.3)`` of the detection, centred on the detection's centre, top-left clipped at
0, side then clipped to fit the image, so crops at a border are smaller or shifted, never padded.
The crop is then resized to the configured size, or kept at its native size with ``size=None``.
The two are not the same data: the official fine-tuning sets keep native-size crops and resize them
when loading (PIL bicubic, antialiased), so RandomResizedCrop samples from the full-resolution face;
a crop stored at 224 px is upsampled by it instead. The paper-faithful protocols (cdfd@2, diff@2,
diff_fsvfm@1) therefore prepare at native size; pretraining data (resized to 224 in the official
parsing step) may stay resized (docs/protocol-fidelity.md).

Alignment (off by default, as in FSFM): a similarity transform maps five points (eye centres, nose
tip, mouth corners) onto a canonical template scaled so the face fills the crop like the 1.3x box.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..errors import FsfmBenchError


#: five-point target (eye centres, nose tip, mouth corners) in unit-square coordinates of the crop:
#: where those points sit, on average, in an unaligned 1.3x crop of a dlib box (derived from the
#: generic 68-point face of :mod:`.parsing`), so aligned and unaligned crops frame the face alike.
def _template5() -> np.ndarray:
    from .parsing import TEMPLATE68
    return (five_from_68(TEMPLATE68) + 0.15) / 1.3





@dataclass
class Detection:
    """One face: box x0, y0, x1, y1 (pixels of the image it was found in), score, optional 5 points."""

    box: tuple[float, float, float, float]
    score: float
    landmarks5: np.ndarray | None = None          # (5, 2): subject's right eye, left eye, nose, mouth R, L
    meta: dict = field(default_factory=dict)

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)

    def scaled(self, factor: float) -> Detection:
        """The same detection in an image ``factor`` times larger (undo a detection downscale)."""
        box = tuple(float(v) * factor for v in self.box)
        lm = None if self.landmarks5 is None else self.landmarks5 * factor
        return Detection(box, self.score, lm, dict(self.meta))  # type: ignore[arg-type]


def largest(detections: list[Detection]) -> Detection | None:
    """The largest face (by box area; ties -> higher score).

    The official FSFM code takes ``faces[0]``, dlib's first detection, although its comment says
    "biggest"; keeping the largest is what the comment meant and what DeepfakeBench does.
    """
    if not detections:
        return None
    return max(detections, key=lambda d: (d.area, d.score))


def crop_box(box: tuple[float, float, float, float], image_shape: tuple[int, ...],
             scale: float = 1.3, minsize: int | None = None) -> tuple[int, int, int, int]:
    """FF++ ``get_boundingbox``: square ``int(max(w,h)*scale)`` around the centre, clipped to the image."""
    height, width = image_shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    size_bb = int(max(x2 - x1, y2 - y1) * scale)
    if minsize and size_bb < minsize:
        size_bb = minsize
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    x0 = max(int(cx - size_bb // 2), 0)
    y0 = max(int(cy - size_bb // 2), 0)
    size_bb = min(width - x0, size_bb)
    size_bb = min(height - y0, size_bb)
    if size_bb <= 0:
        raise FsfmBenchError(f"face box {box} lies outside the {width}x{height} image")
    return x0, y0, x0 + size_bb, y0 + size_bb


@dataclass
class Crop:
    """A face crop: pixels, the source-image box, and the 2x3 affine image -> crop coordinates."""

    image: np.ndarray
    box: tuple[int, int, int, int]
    matrix: np.ndarray
    aligned: bool

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Map (N, 2) image coordinates into crop coordinates."""
        pts = np.asarray(points, dtype=np.float64)
        return pts @ self.matrix[:, :2].T + self.matrix[:, 2]


#: the mean five-point face of the MTCNN chip extractor the MCIO preprocessing uses (unit square;
#: eyes, nose, mouth corners), which its ``padding`` shrinks towards the centre of the chip
MTCNN_CHIP_MEAN = np.array([[0.224152, 0.2119465], [0.75610125, 0.2119465], [0.490127, 0.628106],
                            [0.254149, 0.780233], [0.726104, 0.780233]])


def similarity_fit(src: np.ndarray, dst: np.ndarray) -> tuple[float, float]:
    """(scale, angle in radians) of the least-squares similarity ``dst ~ s R src + t`` (Umeyama)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    a, b = src - src.mean(0), dst - dst.mean(0)
    cov = b.T @ a / len(src)
    u, d, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(cov) < 0:
        sign[1, 1] = -1.0
    rot = u @ sign @ vt
    var = (a ** 2).sum() / len(src)
    scale = float(np.trace(np.diag(d) @ sign) / var) if var > 0 else 1.0
    return scale, float(np.arctan2(rot[1, 0], rot[0, 0]))


def mtcnn_chip_matrix(points5: np.ndarray, size: int, padding: float = 0.37) -> np.ndarray:
    """The 2x3 warp of an MTCNN face chip (the FAS preprocessing's ``padding`` 0.37, 224 px).

    The scale and rotation are those of the similarity mapping the five points onto the padded mean
    face ``(padding + m) / (2 padding + 1) * size``; the warp then rotates and scales about the
    midpoint of the eyes and moves it to ``(0.5, 0.4) * size``.
    """
    pts = np.asarray(points5, np.float64)
    target = (padding + MTCNN_CHIP_MEAN) / (2.0 * padding + 1.0) * size
    scale, angle = similarity_fit(pts, target)
    cx, cy = (pts[0] + pts[1]) / 2.0
    matrix = cv2.getRotationMatrix2D((float(cx), float(cy)), -np.degrees(angle), scale)
    matrix[0, 2] += size * 0.5 - cx
    matrix[1, 2] += size * 0.4 - cy
    return matrix


def crop_face(image: np.ndarray, detection: Detection, size: int | None, scale: float = 1.3,
              align: bool | str = False, landmarks5: np.ndarray | None = None, chip_padding: float = 0.37) -> Crop:
    """Cut the face out of ``image`` (HxWx3) as a square of ``size`` pixels (None = native side).

    ``align=True`` needs five points (from the detector, e.g. MTCNN, or derived from 68 landmarks);
    a clear error says so when there are none. ``align="mtcnn_chip"``: the MCIO preprocessing's
    aligned chip (:func:`mtcnn_chip_matrix`, ``chip_padding``; ``size`` defaults to 224).
    """
    if detection.meta.get("whole_image"):
        return whole_image_crop(image, size)
    if align == "mtcnn_chip":
        pts = landmarks5 if landmarks5 is not None else detection.landmarks5
        if pts is None:
            raise FsfmBenchError("align=mtcnn_chip needs the five MTCNN points: use detector=mtcnn "
                                 "(pip install --no-deps facenet-pytorch==2.6.0)")
        out = int(size or 224)
        matrix = mtcnn_chip_matrix(pts, out, float(chip_padding))
        pixels = cv2.warpAffine(image, matrix, (out, out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        return Crop(pixels, crop_box(detection.box, image.shape, scale), matrix, True)
    box = crop_box(detection.box, image.shape, scale)
    x0, y0, x1, y1 = box
    side = x1 - x0
    out = int(size) if size else side
    if not align:
        s = out / side
        matrix = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]], dtype=np.float64)
        patch = image[y0:y1, x0:x1]
        interp = cv2.INTER_AREA if out < side else cv2.INTER_CUBIC
        pixels = cv2.resize(patch, (out, out), interpolation=interp) if out != side else patch.copy()
        return Crop(np.ascontiguousarray(pixels), box, matrix, False)
    pts = landmarks5 if landmarks5 is not None else detection.landmarks5
    if pts is None:
        raise FsfmBenchError("align=true needs five facial points, but this detector gives none and the "
                             "parser gave no landmarks; use detector=mtcnn or parser=dlib68, or align=false")
    matrix, _ = cv2.estimateAffinePartial2D(np.asarray(pts, np.float64), _template5() * out, method=cv2.LMEDS)
    if matrix is None:
        raise FsfmBenchError("could not fit the 5-point alignment (degenerate points)")
    pixels = cv2.warpAffine(image, matrix, (out, out), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT)
    return Crop(pixels, box, matrix, True)


def whole_image_crop(image: np.ndarray, size: int | None) -> Crop:
    """The image itself as the face (already-cropped face frames, e.g. WildDeepfake's): no detection,
    no re-cropping; resized to ``size`` x ``size`` only when a size is set (None keeps it as provided)."""
    h, w = image.shape[:2]
    if not size:
        return Crop(np.ascontiguousarray(image), (0, 0, w, h), np.array([[1.0, 0, 0], [0, 1.0, 0]]), False)
    out = int(size)
    interp = cv2.INTER_AREA if out < max(h, w) else cv2.INTER_CUBIC
    matrix = np.array([[out / w, 0, 0], [0, out / h, 0]], dtype=np.float64)
    return Crop(cv2.resize(image, (out, out), interpolation=interp), (0, 0, w, h), matrix, False)


def five_from_68(landmarks68: np.ndarray) -> np.ndarray:
    """Eye centres, nose tip and mouth corners from iBUG-68 points (the order of the alignment target)."""
    lm = np.asarray(landmarks68, dtype=np.float64)
    return np.stack([lm[36:42].mean(0), lm[42:48].mean(0), lm[30], lm[48], lm[54]])
