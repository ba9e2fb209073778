"""Pretraining data: manifest rows with face-parsing maps -> (normalised image, parsing map).

No augmentation (docs/method.md, "Optimisation and recipes": the maps are never transformed, so any geometric
augmentation would mis-align them). Images are resized to ``img_size`` with bicubic filtering and
maps with nearest-neighbour when their size differs. The dataset mean/std is computed in one
streaming pass (float64 sums) and cached per manifest hash.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..errors import FsfmBenchError
from ..io import atomic_write_json
from ..registry import RUNNER_DATASETS

NUM_LABELS = 11  # LaPa: 0 background .. 10 hair


def load_rows(manifest: str | os.PathLike, split: str | None = None,
              real_only: bool = True) -> list[dict[str, Any]]:
    """The manifest rows used for pretraining: real faces only by default (FSFM pretrains on
    real faces; a prepared benchmark manifest also holds fakes), optionally one split."""
    from ..data.manifest import read_manifest

    rows = read_manifest(manifest)
    if split:
        rows = [r for r in rows if r.get("split") == split]
    if real_only:
        rows = [r for r in rows if r.get("label") == 0]
    if not rows:
        raise FsfmBenchError(f"manifest {manifest} has no usable rows (split={split!r}, "
                             f"real_only={real_only}); check data.split / data.real_only")
    return rows


def _load_image(path: Path, size: int) -> torch.Tensor:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            if im.size != (size, size):
                im = im.resize((size, size), Image.BICUBIC)
            arr = np.asarray(im, dtype=np.uint8).copy()
    except (OSError, ValueError) as exc:
        raise FsfmBenchError(f"cannot read image {path} named by the manifest ({exc.__class__.__name__}: "
                             f"{getattr(exc, 'strerror', None) or exc}); the prepared folder is incomplete or was "
                             "moved: rerun the same `fsfm-bench prepare` command to redo it") from exc
    return torch.from_numpy(arr).permute(2, 0, 1).float().div_(255.0)


def load_parsing(path: Path, size: int, strict_size: bool = False) -> torch.Tensor:
    """int8 LaPa map [H, W] (or [1, H, W]) -> [size, size] int8; clear errors for bad maps."""
    if not path.is_file():
        raise FsfmBenchError(f"parsing map {path} does not exist; rebuild the data with `fsfm-bench prepare`")
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise FsfmBenchError(f"parsing map {path} is truncated or not a .npy array ({type(exc).__name__}); delete "
                             "it and prepare the data again (a run repairs its cached data by itself; "
                             "`fsfm-bench prepare` on the folder you prepared)") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iu":
        raise FsfmBenchError(f"parsing map {path} holds {getattr(arr, 'dtype', type(arr).__name__)}, not "
                             "integer labels; delete it and prepare the data again")
    if arr.ndim == 3 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise FsfmBenchError(f"parsing map {path} has shape {arr.shape}; expected [H, W] or [1, H, W]")
    if arr.size and (arr.min() < 0 or arr.max() >= NUM_LABELS):
        bad = sorted(set(np.unique(arr).tolist()) - set(range(NUM_LABELS)))
        raise FsfmBenchError(f"parsing map {path} has labels {bad[:8]} outside LaPa 0..10; "
                             "it was not written by a LaPa face parser")
    t = torch.from_numpy(arr.astype(np.int8))
    if t.shape != (size, size):
        if strict_size:
            raise FsfmBenchError(f"parsing map {path} is {tuple(t.shape)}, expected {size}x{size}")
        t = torch.nn.functional.interpolate(t[None, None].float(), size=(size, size),
                                            mode="nearest")[0, 0].to(torch.int8)
    return t


class _RawImages(Dataset):
    def __init__(self, root: Path, rows: list[dict], size: int):
        self.root, self.rows, self.size = root, rows, size

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> torch.Tensor:
        return _load_image(self.root / self.rows[i]["path"], self.size)


def compute_mean_std(manifest: str | os.PathLike, img_size: int = 224, cache_dir: str | None = None,
                     num_workers: int = 0, split: str | None = None,
                     real_only: bool = True) -> tuple[list[float], list[float]]:
    """Per-channel mean/std of the pretraining images (after resize, in [0, 1]) in ONE pass.

    Cached as ``mean_std-<manifest hash>-<size>.json`` in ``cache_dir`` (default: beside the
    manifest, or the user cache when that folder is read-only).
    """
    from ..data.manifest import manifest_hash
    from ..paths import cache_root

    manifest = Path(manifest)
    rows = load_rows(manifest, split, real_only)
    key = f"mean_std-{manifest_hash(rows)[:16]}-{img_size}.json"
    candidates = [Path(cache_dir)] if cache_dir else []
    candidates += [manifest.parent / ".fsfm_cache",
                   cache_root() / "stats"]
    for folder in candidates:
        if (folder / key).is_file():
            data = json.loads((folder / key).read_text())
            return data["mean"], data["std"]
    total = torch.zeros(3, dtype=torch.float64)
    total_sq = torch.zeros(3, dtype=torch.float64)
    count = 0
    loader = DataLoader(_RawImages(manifest.parent, rows, img_size), batch_size=32,
                        num_workers=num_workers)
    for batch in loader:
        b = batch.to(torch.float64)
        total += b.sum(dim=(0, 2, 3))
        total_sq += (b * b).sum(dim=(0, 2, 3))
        count += b.shape[0] * b.shape[2] * b.shape[3]
    mean = total / count
    std = (total_sq / count - mean * mean).clamp_min(0).sqrt()
    result = dict(mean=[round(float(v), 6) for v in mean], std=[round(float(v), 6) for v in std],
                  n_images=len(rows), img_size=img_size)
    for folder in candidates:
        try:
            atomic_write_json(folder / key, result)
            break
        except OSError:
            continue
    return result["mean"], result["std"]


@RUNNER_DATASETS.register_module()
class ParsingManifestDataset(Dataset):
    """Rows of a frame-level manifest that carry a ``parsing`` map -> dict(inputs, parsing)."""

    def __init__(self, manifest: str, img_size: int = 224, mean=(0.5, 0.5, 0.5),
                 std=(0.5, 0.5, 0.5), split: str | None = None, real_only: bool = True,
                 strict_map_size: bool = False):
        self.manifest = Path(manifest)
        self.root = self.manifest.parent
        self.rows = load_rows(self.manifest, split, real_only)
        missing = [r["path"] for r in self.rows if not r.get("parsing")]
        if missing:
            raise FsfmBenchError(
                f"{len(missing)} of {len(self.rows)} manifest rows have no parsing map (first: "
                f"{missing[0]}); pretraining needs one per image: build the data with `fsfm-bench "
                "prepare` (it runs the face parser) or drop those rows")
        self.img_size, self.strict = img_size, strict_map_size
        self.mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        row = self.rows[i]
        img = (_load_image(self.root / row["path"], self.img_size) - self.mean) / self.std
        parsing = load_parsing(self.root / row["parsing"], self.img_size, self.strict)
        return dict(inputs=img, parsing=parsing)
