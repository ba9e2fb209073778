"""No detection: the whole image is the face (``detector=whole_image``).

For datasets that ship face crops already (WildDeepfake's ``real_test``/``fake_test`` frames): the
official evaluation feeds every provided face frame as it is, without detecting or cropping again
(docs/protocol-fidelity.md, cdfd "WildDeepfake test frames"). Prepare keeps such an image whole
(:func:`fsfm_bench.data.faces.whole_image_crop`), resized only when ``size`` is set.
"""
from __future__ import annotations

import numpy as np

from fsfm_bench.data.faces import Detection


class WholeImage:
    """One detection covering the whole image, marked so that prepare does not re-crop it."""

    name = "whole_image"

    def __call__(self, rgb: np.ndarray) -> list[Detection]:
        h, w = rgb.shape[:2]
        return [Detection((0.0, 0.0, float(w), float(h)), 1.0, None, {"whole_image": True})]
