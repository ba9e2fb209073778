"""Miniature official layouts with real media, for the protocol-run tests.

The layout files come from the dataset tests' builders (tests/dataset_layouts.py, byte for byte as
the datasets ship them); this module turns their zero-byte placeholders into tiny real media (a
bundled face on a grey canvas: 3-frame videos, or stills) so that ``prepare`` finds a face in every
frame, and gives the run config that points at the copies.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from prepare_helpers import face, write_video
from run_testutil import TINY

VIDEO = (".mp4", ".avi", ".mov")
IMAGE = (".png", ".jpg", ".jpeg")
FACES = ("grace_hopper",)          # the bundled face dlib's HOG finds at this small size


def _frame(name: str, shift: int, tint: int) -> np.ndarray:
    src = face(name, 88)
    canvas = np.full((104, 112, 3), 90, np.uint8)
    w = min(src.shape[1], 112 - 8 - shift)
    canvas[8:96, 4 + shift:4 + shift + w] = src[:, :w]
    if tint:
        canvas[..., 2] = np.clip(canvas[..., 2].astype(int) + tint, 0, 255)
    return canvas


def materialize(root: Path, fake_markers: tuple[str, ...] = ("fake", "manipulated", "attack", "spoof",
                                                             "synthesis", "method_", "T2I", "I2I", "FS/", "FE/")) -> int:
    """Replace every zero-byte media file under ``root`` by a tiny real one; returns how many."""
    n = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.stat().st_size > 0:
            continue
        rel = path.relative_to(root).as_posix()
        fake = any(m in rel for m in fake_markers)
        name = FACES[n % len(FACES)]
        tint = 40 if fake else 0
        if path.suffix.lower() in VIDEO:
            path.unlink()
            tmp = path.with_suffix(".mp4") if path.suffix.lower() != ".mp4" else path
            write_video(tmp, [_frame(name, 2 * i, tint) for i in range(3)])
            if tmp != path:
                tmp.rename(path)
            n += 1
        elif path.suffix.lower() in IMAGE:
            cv2.imwrite(str(path), _frame(name, 0, tint))
            n += 1
    return n


def layout_config(tmp: Path, protocol: str, roots: dict[str, Path], **extra: Any) -> dict[str, Any]:
    """The protocol as registered, tiny backbone, one epoch, quick preparation; roots from config keys."""
    from fsfm_bench.config import compose

    overrides = {f"data.roots.{k}": str(v) for k, v in roots.items()}
    cfg = compose(protocol=protocol, overrides=overrides).to_dict()
    cfg["backbone"] = copy.deepcopy(TINY)
    cfg["data"]["cache_dir"] = str(tmp / "cache")
    cfg["data"]["prepare"] = {"size": 32, "parser": "geometric", "detector": "dlib_hog", "detect_max_side": 200,
                              "progress": False}
    cfg["work_dir"] = str(tmp / "runs")
    cfg["finetune"].update(img_size=32, batch_size=8, num_workers=0, log_interval=100, amp=False)
    if cfg["finetune"].get("by_epoch", True):
        cfg["finetune"].update(epochs=1, warmup_epochs=0)
    cfg["eval"].update(bootstrap=10, batch_size=32, num_workers=0)
    cfg["leaderboard"].update(results_dir=str(tmp / "results"), dir=str(tmp / "leaderboards"), rebuild=False)
    cfg.update(extra)
    return cfg


CDFD_METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures")


def build_cdfd_layouts(tmp: Path, wdf_frames: int = 2) -> dict[str, Path]:
    """Miniature FF++ c23, Celeb-DF v2, DFDC, DFDCp and WildDeepfake (official layouts, tiny real media)."""
    from dataset_layouts import build_celebdf, build_dfdc_preview, build_dfdc_test, build_ffpp, build_wdf

    roots = {k: tmp / k for k in ("ffpp", "celebdf_v2", "dfdc", "dfdc_preview", "wilddeepfake")}
    build_ffpp(roots["ffpp"], {"train": [("000", "001")], "val": [("002", "003")], "test": [("004", "005")]},
               methods=CDFD_METHODS)
    build_celebdf(roots["celebdf_v2"], n_celeb=2, n_youtube=1, n_fake=2,
                  test={"YouTube-real": 1, "Celeb-real": 1, "Celeb-synthesis": 1})
    build_dfdc_test(roots["dfdc"], 1, 1, folders=1)
    build_dfdc_preview(roots["dfdc_preview"], [("original_videos", "real", "test"), ("method_A", "fake", "test"),
                                               ("original_videos", "real", "train")])
    build_wdf(roots["wilddeepfake"], {"real_test": {0: 1}, "fake_test": {0: 1}, "real_train": {0: 1},
                                      "fake_train": {0: 1}}, frames=wdf_frames)
    for root in roots.values():
        materialize(root)
    return roots
