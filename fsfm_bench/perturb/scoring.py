"""One condition (family, level) applied while scoring: what the scorer calls, and its cache key.

Image families run on the batch the scorer already holds on its device (after the uint8 resize,
before the model normalises), so perturbing costs a few kernels per batch. A video family needs
each video's frames together and in order: its loader yields whole videos packed into batches of
about ``batch_size`` frames (every frame of a video is re-encoded, the frames still to score are
returned), so a resumed evaluation sees exactly the frames an uninterrupted one would.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from .base import Perturbation
from .rng import as_key_tensor, sample_keys


@dataclass
class ScorePerturbation:
    """``family`` at ``level`` for the rows ``sample_ids`` (scorer order), seeded by ``seed``."""

    family: Perturbation
    level: int
    sample_ids: list[str]
    seed: int
    video_ids: list[str] = field(default_factory=list)
    frame_order: list[Any] = field(default_factory=list)
    keys: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.keys = sample_keys(self.sample_ids, self.seed)

    @property
    def kind(self) -> str:
        return self.family.kind

    @property
    def key(self) -> dict[str, Any]:
        """What makes its scores differ from another condition's (part of the score-cache key)."""
        return {**self.family.identity(self.level), "seed": int(self.seed)}

    def batch(self, images: torch.Tensor, idx: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Perturb uint8 [B, 3, H, W] (rows ``idx`` of the scored list) on their device."""
        keys = as_key_tensor(self.keys[np.asarray(idx)], images.device)
        return self.family.apply(images, self.level, keys)

    def dataset(self, paths: list[str], todo: list[int], size: int, resize: str, interpolation: str,
                batch_size: int = 64) -> Dataset:
        return VideoGroups(self, paths, todo, size, resize, interpolation, batch_size)


class VideoGroups(Dataset):
    """Whole videos packed per item, already a batch: (uint8 [N, 3, S, S] perturbed, row indices [N])."""

    def __init__(self, sp: ScorePerturbation, paths: list[str], todo: list[int], size: int, resize: str,
                 interpolation: str, batch_size: int = 64) -> None:
        self.sp, self.paths = sp, paths
        self.size, self.resize, self.interpolation = int(size), resize, interpolation
        groups: dict[str, list[int]] = {}
        for i, vid in enumerate(sp.video_ids or [str(i) for i in range(len(paths))]):
            groups.setdefault(str(vid), []).append(i)
        wanted = set(todo)
        self.groups = []
        for members in groups.values():
            if wanted.intersection(members):
                order = sp.frame_order or [None] * len(paths)
                members.sort(key=lambda i: (order[i] is None, order[i] if order[i] is not None else 0, paths[i]))
                self.groups.append((members, [i for i in members if i in wanted]))
        self.packs: list[list[int]] = []            # group numbers per item: at most batch_size frames (or one video)
        for k, (_, todo_rows) in enumerate(self.groups):
            if self.packs and sum(len(self.groups[j][1]) for j in self.packs[-1]) + len(todo_rows) <= batch_size:
                self.packs[-1].append(k)
            else:
                self.packs.append([k])

    def __len__(self) -> int:
        return len(self.packs)

    def video(self, k: int) -> tuple[np.ndarray, list[int]]:
        """Group ``k`` perturbed: uint8 [n, S, S, 3] of its rows still to score, and those rows."""
        from ..finetune.datasets import eval_preprocess, read_rgb

        members, todo = self.groups[k]
        frames = np.stack([eval_preprocess(read_rgb(self.paths[i]), self.size, self.resize, self.interpolation)
                           for i in members])
        out = self.sp.family.apply_video(frames, self.sp.level)
        return out[[members.index(i) for i in todo]], todo

    def __getitem__(self, k: int):
        parts = [self.video(j) for j in self.packs[k]]
        images = np.concatenate([frames for frames, _ in parts])
        rows = [i for _, todo in parts for i in todo]
        return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))), torch.as_tensor(rows)
