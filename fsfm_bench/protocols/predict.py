"""``fsfm-bench predict``: one P(fake) per image or video file, faces found as ``prepare`` finds them."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from ..errors import FsfmBenchError

VIDEO_EXTS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def face_crops(path: str, frames: int, detector, size: int, detect_max_side: int | None) -> tuple[list[np.ndarray], str]:
    """Face crops (RGB uint8) of an image, or of ``frames`` uniformly sampled video frames."""
    from ..data.faces import crop_face, largest
    from ..data.images import detection_view, load_image
    from ..data.video import read_sampled_frames

    if Path(path).suffix.lower() in VIDEO_EXTS:
        images = read_sampled_frames(path, frames).frames
    else:
        images = [load_image(path)]
    crops = []
    for rgb in images:
        view, factor = detection_view(rgb, detect_max_side)
        det = largest(detector(view))
        if det is None:
            continue
        crops.append(crop_face(rgb, det.scaled(1.0 / factor), size, 1.3).image)
    return crops, f"no face detected in {len(images)} frame(s)" if not crops else ""


def _reason(path: str, exc: Exception) -> str:
    """Why a file was not scored, without the path the output line already shows."""
    text = str(exc)
    for shown in dict.fromkeys((path, str(Path(path)), str(Path(path).expanduser()))):
        text = text.removeprefix(f"{shown}: ")
        for quoted in (f" '{shown}'", f' "{shown}"'):     # decoders quote it again (PIL: "image file '/x'")
            text = text.replace(quoted, "")
    return text if isinstance(exc, FsfmBenchError) else f"cannot be read ({type(exc).__name__}: {text})"


def predict_files(checkpoint: str, files: list[str], frames: int = 8, detector: str = "dlib_hog",
                  device: str | None = None, detect_max_side: int | None = 1920
                  ) -> Iterator[tuple[str, float | None, str]]:
    """Yield (file, score or None, reason) for every file, in order; a file that cannot be read
    or holds no face gets a reason (without its path) and the next file is scored."""
    from ..finetune.datasets import eval_preprocess
    from ..finetune.model import load_finetuned
    from ..plugins import get
    from .evaluate import check_device, resolve_device

    check_device(device)
    model, meta = load_finetuned(checkpoint)
    device = resolve_device(device)
    model.to(device)
    size = int(meta.get("img_size") or 224)
    det = get("detectors", detector)()
    for path in files:
        if Path(path).is_dir():
            yield path, None, "is a directory; pass image or video files"
            continue
        try:
            crops, reason = face_crops(path, int(frames), det, size, detect_max_side)
        except (FsfmBenchError, OSError, RuntimeError, ValueError) as exc:    # this file only: the next is scored
            yield path, None, _reason(path, exc)
            continue
        if not crops:
            yield path, None, reason
            continue
        batch = torch.from_numpy(np.stack([eval_preprocess(c, size) for c in crops]).transpose(0, 3, 1, 2).copy())
        with torch.inference_mode():
            probs = model.scores(batch.to(device)).float().cpu().numpy()
        yield path, float(probs.mean()), ""
