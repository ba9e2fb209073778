"""What every masking strategy shares: its settings, the input checks and the call contract.

Contract (docs/plugins.md, "Masking"): ``strategy(parsing_maps [B, H, W] int, generator=None)`` returns
``(mask [B, N] bool, focus [B, N] bool)`` with exactly ``K = int(N * mask_ratio)`` True per row of
``mask`` (True = masked, raster patch order), and ``focus`` (the fully covered region, a subset of
``mask``; all False for strategies without one). ``generator=None`` draws from the global RNG.

It lives in the core (not under ``plugins/``) so that a third-party strategy subclasses the same
class as the built-ins; the LaPa label vocabulary and FSFM's region groups stay with the built-in
strategies (``plugins/masking/regions.py``): a strategy that covers regions names them in
``region_names``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from fsfm_bench.errors import FsfmBenchError, UsageError

#: parsing maps hold the 11 LaPa labels, 0 background .. 10 hair (docs/method.md, "Face parsing maps")
NUM_LABELS = 11
_INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


@dataclass(frozen=True)
class MaskingResult:
    """One batch's masks, plus the covered region (CRFR only) that was drawn or forced."""

    mask: torch.Tensor                  # bool [B, N], exactly K True per row
    focus: torch.Tensor                 # bool [B, N], subset of mask
    region_index: int | None = None     # index into the strategy's region_names
    region_name: str | None = None      # filled by MaskingStrategy.sample from region_names

    @property
    def region(self) -> str | None:
        """Name of the covered region (e.g. 'eyes'), or None."""
        return self.region_name


def check_parsing_maps(maps: object, patch_size: int,
                       input_size: tuple[int, int] | None = None) -> torch.Tensor:
    """Check that ``maps`` is an integer [B, H, W] tensor of LaPa labels tiled by ``patch_size``.

    Raises one FsfmBenchError per problem, saying what was wrong and what to do.
    """
    if not isinstance(maps, torch.Tensor):
        raise FsfmBenchError(f"parsing maps must be a torch.Tensor [B, H, W] of LaPa labels, got "
                             f"{type(maps).__name__}; convert with torch.as_tensor(maps).")
    if maps.ndim != 3:
        hint = (" (a channel axis of size 1: squeeze it with maps[:, 0])"
                if maps.ndim == 4 and maps.shape[1] == 1 else
                " (one map: add the batch axis with maps[None])" if maps.ndim == 2 else "")
        raise FsfmBenchError(f"parsing maps must have 3 dimensions [B, H, W], got shape "
                             f"{tuple(maps.shape)}{hint}.")
    if maps.dtype not in _INTEGER_DTYPES:
        raise FsfmBenchError(f"parsing maps must hold integer labels 0..{NUM_LABELS - 1} (int8 as "
                             f"stored, or any integer dtype), got dtype {maps.dtype}; a float or bool "
                             f"map is not a LaPa label map (take the argmax over the parser's logits).")
    height, width = int(maps.shape[1]), int(maps.shape[2])
    if input_size is not None and (height, width) != tuple(input_size):
        raise FsfmBenchError(f"parsing maps are {height}x{width} but the model input is "
                             f"{input_size[0]}x{input_size[1]}: maps must have the image's size "
                             f"(resize them with nearest-neighbour interpolation, or re-run the parser).")
    if height % patch_size or width % patch_size or height == 0 or width == 0:
        raise FsfmBenchError(f"parsing maps of {height}x{width} are not a whole number of "
                             f"{patch_size}x{patch_size} patches: use maps of the model's input size "
                             f"(e.g. 224x224 for patch 16).")
    if maps.numel():
        low, high = (int(v) for v in torch.aminmax(maps))
        if low < 0 or high >= NUM_LABELS:
            bad = low if low < 0 else high
            raise FsfmBenchError(f"parsing maps hold label {bad}, outside the 11 LaPa labels "
                                 f"0..{NUM_LABELS - 1} (0 background, 1 skin, ..., 10 hair): were they "
                                 f"made by a different parser (e.g. CelebAMask-HQ's 19 classes)?")
    return maps


def _size_pair(input_size: int | Sequence[int] | None) -> tuple[int, int] | None:
    if input_size is None:
        return None
    if isinstance(input_size, int) and not isinstance(input_size, bool):
        return (input_size, input_size)
    pair = tuple(int(v) for v in input_size)
    if len(pair) != 2:
        raise UsageError(f"input_size must be an int or (height, width), got {input_size!r}")
    return pair  # type: ignore[return-value]


class MaskingStrategy:
    """Base class: validates settings once, maps per call; subclasses implement ``_sample``."""

    name = "base"
    has_region = False                  # does the strategy cover one facial region per batch
    region_names: tuple[str, ...] = ()  # names of the regions a region_index points into

    def __init__(self, mask_ratio: float = 0.75, patch_size: int = 16,
                 input_size: int | Sequence[int] | None = None) -> None:
        if isinstance(mask_ratio, bool) or not isinstance(mask_ratio, (int, float)) \
                or not 0.0 < float(mask_ratio) < 1.0:
            raise UsageError(f"mask_ratio must be a number in (0, 1), got {mask_ratio!r} "
                             f"(FSFM and MAE use 0.75).")
        if isinstance(patch_size, bool) or not isinstance(patch_size, int) or patch_size < 1:
            raise UsageError(f"patch_size must be a positive int, got {patch_size!r} (ViT-B/16: 16).")
        self.mask_ratio = float(mask_ratio)
        self.patch_size = patch_size
        self.input_size = _size_pair(input_size)
        self.last_region_index: int | None = None

    @property
    def last_region(self) -> str | None:
        """Name of the region the last call covered (CRFR strategies), else None."""
        return None if self.last_region_index is None else self.region_names[self.last_region_index]

    def num_masked(self, num_patches: int) -> int:
        """K = int(N * mask_ratio): 147 of 196 at the paper's settings."""
        return int(num_patches * self.mask_ratio)

    def __call__(self, parsing_maps: torch.Tensor, generator: torch.Generator | None = None,
                 region: int | str | Sequence[int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(mask, focus) for a batch of parsing maps; ``region`` forces the covered region (CRFR)."""
        result = self.sample(parsing_maps, generator=generator, region=region)
        return result.mask, result.focus

    def sample(self, parsing_maps: torch.Tensor, generator: torch.Generator | None = None,
               region: int | str | Sequence[int] | None = None) -> MaskingResult:
        """Like ``__call__`` but also returns the covered region."""
        if region is not None and not self.has_region:
            raise UsageError(f"masking strategy {self.name!r} covers no region; `region` is only "
                             f"for crfr_p and crfr_r.")
        maps = check_parsing_maps(parsing_maps, self.patch_size, self.input_size)
        batch = maps.shape[0]
        num = (maps.shape[1] // self.patch_size) * (maps.shape[2] // self.patch_size)
        k = self.num_masked(num)
        result = self._sample(maps, k, generator, region)
        if result.region_index is not None and result.region_name is None:
            result = dataclasses.replace(result, region_name=self.region_names[result.region_index])
        self.last_region_index = result.region_index
        assert result.mask.shape == (batch, num) and result.focus.shape == (batch, num)
        return result

    def _sample(self, maps: torch.Tensor, k: int, generator: torch.Generator | None,
                region: int | str | Sequence[int] | None) -> MaskingResult:
        raise NotImplementedError

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(mask_ratio={self.mask_ratio}, patch_size={self.patch_size}, "
                f"input_size={self.input_size})")


def empty_focus(mask: torch.Tensor) -> torch.Tensor:
    """The focus of a strategy that covers no region: nothing."""
    return torch.zeros_like(mask)
