"""11-label LaPa-style parsing maps drawn from 68 facial landmarks (iBUG order).

FSFM parses faces with FACER's ``farl/lapa/448`` network, whose weights no registry ships
(docs/method.md, "Face parsing maps"). We rasterise the same 11 labels from landmarks instead:

    0 background, 1 skin, 2 right brow, 3 left brow, 4 right eye, 5 left eye, 6 nose,
    7 upper lip, 8 inner mouth, 9 lower lip, 10 hair          ("right" = the subject's right)

- skin: the jaw line (points 0-16) closed by a forehead arc above the brows;
- brows: the brow polylines thickened to ~4% of the face width; eyes, lips, inner mouth: the
  landmark polygons; nose: the hull of the bridge and nostrils;
- hair: landmarks do not reach it. A geometric *prior* band around the top of the head (outside the
  skin, above the eyes) is labelled 10 so that region-based masking has a hair group; it is not a
  segmentation and says nothing about real hair (a bald head gets "hair" too).

:func:`template_landmarks` places a generic 68-point face in a detection box (optionally fitted to
five detected points): what the landmark-free ``geometric`` parser uses. It is a stand-in, not a
landmark model.
"""
from __future__ import annotations

import cv2
import numpy as np

LAPA_LABELS = ("background", "skin", "right_brow", "left_brow", "right_eye", "left_eye", "nose",
               "upper_lip", "inner_mouth", "lower_lip", "hair")
NUM_LABELS = len(LAPA_LABELS)


#: A generic 68-point face (iBUG order) in units of a dlib HOG detection box (x right, y down; the box
#: is [0,1]^2). Measured, not learnt: the mean of dlib's 68-point fits on the bundled public-domain
#: photos and 8 frames of the bundled video (12 faces), mirrored and averaged to be symmetric.
#: The mouth is slightly open (most of those faces smile).
_TEMPLATE_BOX = [
    [0.037, 0.343], [0.039, 0.463], [0.051, 0.583], [0.075, 0.702], [0.117, 0.815], [0.183, 0.916],
    [0.273, 0.999], [0.377, 1.058], [0.500, 1.075], [0.623, 1.058], [0.727, 0.999], [0.817, 0.916],
    [0.883, 0.815], [0.925, 0.702], [0.949, 0.583], [0.961, 0.463], [0.963, 0.343], [0.107, 0.225],
    [0.162, 0.161], [0.245, 0.134], [0.335, 0.138], [0.419, 0.168], [0.581, 0.168], [0.665, 0.138],
    [0.755, 0.134], [0.838, 0.161], [0.893, 0.225], [0.500, 0.274], [0.500, 0.352], [0.500, 0.426],
    [0.500, 0.504], [0.397, 0.568], [0.447, 0.583], [0.500, 0.597], [0.553, 0.583], [0.603, 0.568],
    [0.203, 0.313], [0.257, 0.287], [0.316, 0.284], [0.375, 0.314], [0.316, 0.322], [0.256, 0.325],
    [0.625, 0.314], [0.684, 0.284], [0.743, 0.287], [0.797, 0.313], [0.744, 0.325], [0.684, 0.322],
    [0.290, 0.723], [0.365, 0.688], [0.444, 0.676], [0.500, 0.688], [0.556, 0.676], [0.635, 0.688],
    [0.710, 0.723], [0.638, 0.797], [0.560, 0.831], [0.500, 0.838], [0.440, 0.831], [0.362, 0.797],
    [0.317, 0.726], [0.443, 0.719], [0.500, 0.725], [0.557, 0.719], [0.683, 0.726], [0.558, 0.770],
    [0.500, 0.777], [0.442, 0.770]
]


def _template_unit() -> np.ndarray:
    pts = np.asarray(_TEMPLATE_BOX, dtype=np.float64)
    assert pts.shape == (68, 2)
    return pts


TEMPLATE68 = _template_unit()


def template_landmarks(box: tuple[float, float, float, float], landmarks5: np.ndarray | None = None) -> np.ndarray:
    """The generic face placed in ``box`` (image coords); fitted by similarity to 5 points if given."""
    x0, y0, x1, y1 = (float(v) for v in box)
    pts = TEMPLATE68 * [x1 - x0, y1 - y0] + [x0, y0]
    if landmarks5 is not None:
        from .faces import five_from_68
        src = five_from_68(pts)
        matrix, _ = cv2.estimateAffinePartial2D(src, np.asarray(landmarks5, np.float64), method=cv2.LMEDS)
        if matrix is not None:
            pts = pts @ matrix[:, :2].T + matrix[:, 2]
    return pts


def _poly(canvas: np.ndarray, pts: np.ndarray, label: int) -> None:
    cv2.fillPoly(canvas, [np.round(pts * 4).astype(np.int32)], int(label), lineType=cv2.LINE_8, shift=2)


def face_outline(landmarks: np.ndarray) -> np.ndarray:
    """Jaw line closed by a forehead arc: the polygon of skin (and the hull used by forgeries)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    jaw = lm[0:17]
    brow_top = min(lm[17:27, 1].min(), lm[0, 1], lm[16, 1])
    face_h = lm[8, 1] - lm[27, 1]
    centre_x = (lm[0, 0] + lm[16, 0]) / 2
    half_w = (lm[16, 0] - lm[0, 0]) / 2
    top = brow_top - 0.45 * face_h                     # forehead height ~ 0.45 x nose-root-to-chin
    ang = np.linspace(0, np.pi, 13)[1:-1]
    # arc from the right temple (jaw[16]) over the forehead to the left temple (jaw[0])
    arc_x = centre_x + half_w * np.cos(ang)
    base_y = np.interp(arc_x, [lm[0, 0], lm[16, 0]], [lm[0, 1], lm[16, 1]])
    arc_y = base_y - (base_y - top) * np.sin(ang)
    return np.concatenate([jaw, np.stack([arc_x, arc_y], 1)])


def rasterize_lapa(landmarks: np.ndarray, shape: tuple[int, int], hair: bool = True) -> np.ndarray:
    """Draw the 11-label map (int8, ``shape`` = H, W) from 68 landmarks in that map's pixel coords."""
    h, w = shape[:2]
    lm = np.asarray(landmarks, dtype=np.float64)
    canvas = np.zeros((h, w), dtype=np.uint8)
    outline = face_outline(lm)
    face_w = max(1.0, float(np.linalg.norm(lm[16] - lm[0])))
    if hair:
        cx, cy = outline[:, 0].mean(), outline[:, 1].mean()
        grown = (outline - [cx, cy]) * [1.22, 1.18] + [cx, cy - 0.06 * face_w]
        hair_canvas = np.zeros_like(canvas)
        _poly(hair_canvas, grown, 10)
        eye_line = lm[36:48, 1].mean()
        hair_canvas[max(0, int(np.ceil(eye_line))):, :] = 0     # hair prior only above the eyes
        canvas = np.maximum(canvas, hair_canvas)
    _poly(canvas, outline, 1)
    thick = max(1, int(round(0.045 * face_w)))
    for idx, label in ((range(17, 22), 2), (range(22, 27), 3)):
        pts = np.round(lm[list(idx)] * 4).astype(np.int32)
        cv2.polylines(canvas, [pts], False, label, thickness=thick, lineType=cv2.LINE_8, shift=2)
    _poly(canvas, lm[36:42], 4)
    _poly(canvas, lm[42:48], 5)
    nose = lm[[27, 31, 32, 33, 34, 35]]
    bridge_w = 0.04 * face_w
    nose = np.concatenate([nose, lm[[28, 29]] + [[-bridge_w, 0], [bridge_w, 0]]])
    _poly(canvas, cv2.convexHull(nose.astype(np.float32))[:, 0, :].astype(np.float64), 6)
    _poly(canvas, np.concatenate([lm[48:55], lm[[64, 63, 62, 61, 60]]]), 7)
    _poly(canvas, np.concatenate([lm[54:60], lm[[48, 60, 67, 66, 65, 64]]]), 9)
    _poly(canvas, lm[60:68], 8)
    return canvas.astype(np.int8)


def region_mask(labels: np.ndarray, region: str) -> np.ndarray:
    """Boolean mask of a named region group of a LaPa map: eyes, brows, nose, mouth, skin, hair, face."""
    groups = {"eyes": (4, 5), "brows": (2, 3), "nose": (6,), "mouth": (7, 8, 9), "skin": (1,),
              "hair": (10,), "face": tuple(range(1, 10))}
    if region not in groups:
        raise KeyError(region)
    return np.isin(labels, groups[region])


def colorize(labels: np.ndarray) -> np.ndarray:
    """An RGB visualisation of a parsing map (for eyeballing; not used by training)."""
    palette = np.array([[0, 0, 0], [255, 204, 153], [102, 51, 0], [153, 76, 0], [0, 102, 255], [0, 204, 255],
                        [255, 102, 102], [204, 0, 102], [255, 255, 0], [153, 0, 153], [51, 153, 51]], np.uint8)
    return palette[np.clip(labels.astype(np.int64), 0, NUM_LABELS - 1)]
