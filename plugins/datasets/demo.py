"""The bundled demo dataset: 4 public-domain photos and one Pexels face video (all real).

``fsfm-bench prepare dataset=demo out=PATH`` turns them, deterministically and in seconds, into real
face crops with parsing maps (several frames of four clips of the video, the photos and augmented
copies of them) plus synthetic forgeries of several families, with splits by identity and
*different* forgery families in train and test (train/val: sbi + region; test: face_swap,
print_attack, replay_attack), so the demo protocol measures generalisation to unseen forgeries.
The parser is the landmark-free ``geometric`` stand-in, so no model weights are needed.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import yaml

from fsfm_bench.data.items import MediaItem

from .base import DatasetAdapter, Scan

VIDEO = "videos/WolfgangLanger_Pexels.mp4"
VIDEO_FRAMES = 472
CLIPS = 4
PHOTOS = {"astronaut": "train", "grace_hopper": "val", "obama": "test", "biden": "test"}
PHOTO_FILES = {"astronaut": "images/astronaut.png", "grace_hopper": "images/grace_hopper.jpg",
               "obama": "images/obama.jpg", "biden": "images/biden.jpg"}
CLIP_SPLITS = ("train", "train", "train", "val")


def default_root() -> Path:
    """The installed copy of the demo media."""
    return Path(str(resources.files("fsfm_bench_plugins.datasets").joinpath("demo_data")))


class DemoDataset(DatasetAdapter):
    """Bundled real faces (4 photos + 1 video) from which prepare synthesises forgeries."""

    name: ClassVar[str] = "demo"
    defaults: ClassVar[dict[str, Any]] = {}
    #: what `fsfm-bench prepare dataset=demo` uses unless overridden on the command line
    prepare_defaults: ClassVar[dict[str, Any]] = {
        "frames": 6, "size": 64, "detector": "dlib_hog", "parser": "geometric", "detect_max_side": 640,
        "augment": 5, "seed": 0, "fakes_per_real": 1,
        "forgeries": {"train": ["sbi", "region"], "val": ["sbi", "region"],
                      "test": ["face_swap", "print_attack", "replay_attack"]},
    }

    default_root = staticmethod(default_root)

    @property
    def card(self) -> dict[str, Any]:
        from fsfm_bench.schemas import validate

        card = yaml.safe_load((default_root() / "card.yaml").read_text(encoding="utf-8"))
        validate(card, "dataset_card", "demo card (demo_data/card.yaml)")
        return card

    def index(self, root=None, **options: Any) -> list[MediaItem]:
        return super().index(root if root not in (None, "") else default_root(), **options)

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        for rel in [VIDEO, *PHOTO_FILES.values()]:
            if not (root / rel).is_file():
                scan.missing.append(rel)
        if not (root / VIDEO).is_file() and len(scan.missing) == 5:
            raise self.layout_error(root, "none of the demo files is there")
        step = VIDEO_FRAMES // CLIPS
        if (root / VIDEO).is_file():
            for k, split in enumerate(CLIP_SPLITS):
                scan.items.append(self.item(root, VIDEO, kind="video", label=0, split=split,
                                            video_id=f"WolfgangLanger_clip{k}", manipulation="real",
                                            meta={"frame_range": [k * step, (k + 1) * step], "identity": "wolfgang"}))
        for stem, split in PHOTOS.items():
            if (root / PHOTO_FILES[stem]).is_file():
                scan.items.append(self.item(root, PHOTO_FILES[stem], kind="image", label=0, split=split,
                                            video_id=stem, manipulation="real", meta={"identity": stem}))
        return scan
