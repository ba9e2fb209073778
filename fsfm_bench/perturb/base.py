"""The contract of a registered perturbation: one family, five severity levels, level 0 = clean.

A family is a class registered through the ``register_perturbations`` hook (``fsfm-bench ls
perturbations``); ``cls()`` gives an object with:

- ``params``: the family's parameter at levels 1..5 (least to most severe) and ``neutral`` the
  parameter at which the operation is the identity (level 0);
- ``kind``: ``"image"`` for a batched tensor operation on the scoring device (:meth:`transform`,
  float images in [0, 1]), ``"video"`` for an operation on one video's frames in order
  (:meth:`apply_video`, e.g. a codec);
- ``revision``: bumped whenever the implementation changes what it outputs, so that cached
  scores of the old implementation are not reused (it is part of the score-cache key).

Randomness (block positions, noise) is drawn from :mod:`fsfm_bench.perturb.rng` with one key per
sample, derived from the sample id and the evaluation seed: a sample is perturbed identically in
any batch, on any run, on any device type.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch

#: severity levels of every family (DeeperForensics-1.0 defines five)
LEVELS = 5


class Perturbation:
    """Base class of a perturbation family (see the module docstring)."""

    code: ClassVar[str] = ""
    title: ClassVar[str] = ""
    unit: ClassVar[str] = ""            # what the parameter is, for docs and result files
    params: ClassVar[tuple] = ()
    neutral: ClassVar[Any] = None
    kind: ClassVar[str] = "image"
    revision: ClassVar[int] = 1

    def param(self, level: int) -> Any:
        """The parameter at ``level`` (0 = the neutral one)."""
        if not 0 <= int(level) <= len(self.params):
            raise ValueError(f"{self.code}: level {level} outside 0-{len(self.params)}")
        return self.neutral if int(level) == 0 else self.params[int(level) - 1]

    def identity(self, level: int) -> dict[str, Any]:
        """What the score-cache key and the result record about this condition."""
        return {"perturbation": self.code, "level": int(level), "param": self.param(level),
                "revision": int(self.revision)}

    # --- image families ---------------------------------------------------------------------
    def transform(self, images: torch.Tensor, param: Any, keys: torch.Tensor) -> torch.Tensor:
        """float [B, 3, H, W] in [0, 1] -> same shape; ``keys`` int64 [B, 2] per-sample random keys."""
        raise NotImplementedError

    def apply(self, images: torch.Tensor, level: int, keys: torch.Tensor) -> torch.Tensor:
        """uint8 [B, 3, H, W] -> uint8 [B, 3, H, W] (rounded to the nearest level, as a saved image)."""
        if self.kind != "image":
            raise TypeError(f"{self.code} is a {self.kind} perturbation; use apply_video")
        x = images.float().div_(255.0)
        out = self.transform(x, self.param(level), keys.to(images.device))
        return out.mul_(255.0).round_().clamp_(0, 255).to(torch.uint8)

    # --- video families -----------------------------------------------------------------------
    def apply_video(self, frames: np.ndarray, level: int) -> np.ndarray:
        """uint8 [T, H, W, 3] (one video, frames in order) -> uint8 [T, H, W, 3]."""
        raise NotImplementedError
