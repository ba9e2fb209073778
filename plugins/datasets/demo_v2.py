"""The demo@2 dataset (``demo2``): the bundled faces cut finer, so a tiny detector has something to learn.

Same media as ``demo`` (:mod:`.demo`) plus two more public-domain portraits of one test identity
(``demo_data/SOURCES.md``). What changes is how much of it a run sees and how it is grouped:

- the video is cut into ``CLIPS`` consecutive clips of about 1.2 s; many frames of each are kept
  (``prepare_defaults['frames']`` per clip), so the training identity gives hundreds of crops, and
  every real crop gets two fakes;
- splits by identity for the test: train = the first clips + ``astronaut``; val (same forgery
  families, in-domain) = the last clips, after a gap of ``GAP`` clips that no split uses, +
  ``grace_hopper``; test = ``obama`` (3 photos) + ``biden``, identities no training row shows;
- forgery families disjoint: train/val are self-blended images (``sbi``: the face's own colour- and
  geometry-jittered copy blended in through a randomly eroded or dilated, feathered hull), test is
  another identity's face (``face_swap`` from the landmark warp, feathered in without Poisson colour
  matching, so there is a seam to find, as in graphics swaps). Left out, measured: ``region`` edits
  (eyes or mouth at 64 px are a few pixels: in-domain AUC about 0.6) and the print/replay
  recaptures (they share no cue with blending: at or below chance), see benchmarks/README.md;
- the unit a bootstrap resamples is the source: one clip, or one photo with all its augmented
  copies (prepare gives the copies their photo's ``video_id``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import yaml

from .base import Scan
from .demo import PHOTO_FILES as V1_PHOTO_FILES
from .demo import VIDEO, VIDEO_FRAMES, DemoDataset, default_root

CLIPS = 16
GAP = 1                                  # clips between the train and the val clips, used by no split
TRAIN_CLIPS = 11
PHOTOS = {"astronaut": "train", "grace_hopper": "val",
          "obama": "test", "obama2": "test", "obama3": "test", "biden": "test"}
PHOTO_FILES = {**V1_PHOTO_FILES, "obama2": "images/obama2.jpg", "obama3": "images/obama3.jpg"}
IDENTITY = {"obama2": "obama", "obama3": "obama"}


def clip_split(k: int) -> str | None:
    """train for the first clips, None for the gap, val for the rest."""
    if k < TRAIN_CLIPS:
        return "train"
    return None if k < TRAIN_CLIPS + GAP else "val"


class DemoV2Dataset(DemoDataset):
    """The demo@2 cut of the bundled faces (see the module docstring)."""

    name: ClassVar[str] = "demo2"
    prepare_defaults: ClassVar[dict[str, Any]] = {
        "frames": 24, "size": 64, "detector": "dlib_hog", "parser": "geometric", "detect_max_side": 320,
        "augment": 13, "seed": 0, "fakes_per_real": 2,
        "forgeries": {"train": ["sbi"], "val": ["sbi"], "test": ["face_swap"]},
        "forgery_options": {"face_swap": {"clone": "alpha"}},
    }

    @property
    def card(self) -> dict[str, Any]:
        from fsfm_bench.schemas import validate

        card = yaml.safe_load((default_root() / "card_v2.yaml").read_text(encoding="utf-8"))
        validate(card, "dataset_card", "demo2 card (demo_data/card_v2.yaml)")
        return card

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        for rel in [VIDEO, *PHOTO_FILES.values()]:
            if not (root / rel).is_file():
                scan.missing.append(rel)
        if len(scan.missing) == 1 + len(PHOTO_FILES):
            raise self.layout_error(root, "none of the demo files is there")
        if (root / VIDEO).is_file():
            bounds = [round(k * VIDEO_FRAMES / CLIPS) for k in range(CLIPS + 1)]
            for k in range(CLIPS):
                split = clip_split(k)
                if split is None:
                    continue
                scan.items.append(self.item(root, VIDEO, kind="video", label=0, split=split,
                                            video_id=f"WolfgangLanger_clip{k:02d}", manipulation="real",
                                            meta={"frame_range": [bounds[k], bounds[k + 1]], "identity": "wolfgang"}))
        for stem, split in PHOTOS.items():
            if (root / PHOTO_FILES[stem]).is_file():
                scan.items.append(self.item(root, PHOTO_FILES[stem], kind="image", label=0, split=split,
                                            video_id=stem, manipulation="real",
                                            meta={"identity": IDENTITY.get(stem, stem)}))
        return scan
