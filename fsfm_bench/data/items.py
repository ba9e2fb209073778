"""What a dataset adapter yields: one media item (a video, an image, or a folder of frames).

A dataset adapter (registered in DATASETS) reads an official layout as its authors ship it and
returns these items; ``fsfm-bench prepare`` turns them into frame-level manifest rows
(:mod:`fsfm_bench.data.manifest`). Labels follow the platform convention: 1 = fake/attack.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

MediaKind = Literal["video", "image", "frames"]
Split = Literal["train", "val", "test"]


@dataclass(frozen=True)
class MediaItem:
    path: str                      # relative to the dataset root, POSIX separators
    kind: MediaKind                # "frames" = a folder of frame images (e.g. WildDeepfake)
    label: int                     # 1 = fake / attack, 0 = real / live
    video_id: str                  # groups frames for video-level scores; never a bare folder name
    split: Split
    source: str                    # dataset name, e.g. "ffpp", "celebdf_v2"
    manipulation: str = "real"     # e.g. "Deepfakes", "print", "T2I"; "real" for real/live
    meta: dict[str, Any] = field(default_factory=dict)   # e.g. compression, attack device

    def __post_init__(self) -> None:
        if self.label not in (0, 1):
            raise ValueError(f"label must be 0 (real) or 1 (fake/attack), got {self.label!r} for {self.path}")
        if self.split not in ("train", "val", "test"):
            raise ValueError(f"split must be train, val or test, got {self.split!r} for {self.path}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
