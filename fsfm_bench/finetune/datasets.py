"""Frame datasets for the Runner and the scorer, and the train/eval transforms.

Rows come from a run's split files (JSONL written by :mod:`fsfm_bench.protocols.data`): ``path``
(absolute), ``label`` (1 = fake/attack), ``video_id``, ``domain`` (``train``, ``source_val`` or a
target name). Training images go through timm's transforms (RandomResizedCrop, flip, RandAugment,
Normalize, RandomErasing); evaluation images are only resized and handed over as uint8 so that the
normalisation runs on the device, which keeps the loader cheap (benchmarks/evaluate.py).
"""
from __future__ import annotations

import json
import os
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import FsfmBenchError
from ..registry import RUNNER_DATASETS

cv2.setNumThreads(1)   # loader workers are the parallelism; OpenCV's own threads would oversubscribe

INTERPOLATION = {"bicubic": cv2.INTER_CUBIC, "bilinear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA,
                 "nearest": cv2.INTER_NEAREST}


def read_rows(path: str | os.PathLike) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_rgb(path: str) -> np.ndarray:
    """An image file as RGB uint8 [H, W, 3] (grayscale and RGBA converted, 16-bit scaled)."""
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise FsfmBenchError(f"cannot read image {path}; re-run `fsfm-bench prepare` for its dataset")
    if img.dtype == np.uint16:
        img = (img / 257).astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    else:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return img


#: resampling done by PIL itself (antialiased when shrinking, as torchvision's Resize on PIL images);
#: the official evaluation resizes PIL images with bicubic, which OpenCV's INTER_CUBIC does not match
#: when the crop is larger than the input (no antialiasing): ``pil_bicubic`` reproduces it.
PIL_INTERPOLATION = {"pil_bicubic": "BICUBIC", "pil_bilinear": "BILINEAR"}


def _pil_preprocess(img: np.ndarray, size: int, resize: str, interpolation: str) -> np.ndarray:
    """torchvision's Resize((S, S)) or Resize(S*256/224) + CenterCrop(S) on a PIL image, as arrays."""
    from PIL import Image

    method = getattr(Image.Resampling, PIL_INTERPOLATION[interpolation])
    pil = Image.fromarray(img)
    if resize == "plain":
        return np.asarray(pil.resize((size, size), method))
    if resize != "resize_crop":
        raise FsfmBenchError(f"eval.resize must be plain or resize_crop, got {resize!r}")
    short = int(size / (224 / 256)) if size <= 224 else size      # the official crop_pct rule
    w, h = pil.size
    if w <= h:
        new_w, new_h = short, int(short * h / w)
    else:
        new_w, new_h = int(short * w / h), short
    pil = pil.resize((new_w, new_h), method)
    top, left = int(round((new_h - size) / 2.0)), int(round((new_w - size) / 2.0))
    return np.asarray(pil.crop((left, top, left + size, top + size)))


def eval_preprocess(img: np.ndarray, size: int, resize: str = "plain", interpolation: str = "bicubic") -> np.ndarray:
    """plain: Resize((S, S)) (the authors' logged test); resize_crop: short side S*256/224 + center crop.

    ``interpolation`` ``pil_bicubic``/``pil_bilinear`` resample with PIL (antialiased, torchvision's
    rounding of the crop), the official code's path; the others with OpenCV (the @1 protocols).
    """
    if interpolation in PIL_INTERPOLATION:
        return _pil_preprocess(img, size, resize, interpolation)
    interp = INTERPOLATION[interpolation]
    if resize == "plain":
        return cv2.resize(img, (size, size), interpolation=interp)
    if resize == "resize_crop":
        short = int(round(size * 256 / 224))
        h, w = img.shape[:2]
        scale = short / min(h, w)
        img = cv2.resize(img, (max(size, round(w * scale)), max(size, round(h * scale))), interpolation=interp)
        h, w = img.shape[:2]
        top, left = (h - size) // 2, (w - size) // 2
        return img[top:top + size, left:left + size]
    raise FsfmBenchError(f"eval.resize must be plain or resize_crop, got {resize!r}")


def preprocessing_spec(size: int, resize: str, interpolation: str, mean, std) -> dict[str, Any]:
    """What the score cache key records about preprocessing (any change re-scores)."""
    norm = "mean=" + ",".join(f"{float(m):.4f}" for m in mean) + " std=" + ",".join(f"{float(s):.4f}" for s in std)
    return {"img_size": int(size), "crop": resize, "interpolation": interpolation, "normalize": norm,
            "reader": "cv2+pil" if interpolation in PIL_INTERPOLATION else "cv2"}


def build_train_transform(size: int, augment: dict[str, Any], mean, std):
    """timm's training transform (RandAugment, random erasing) or a plain resize+flip (FAS)."""
    from torchvision import transforms as T

    augment = dict(augment or {})
    pre = []
    if augment.get("saturation"):
        lo, hi = augment["saturation"]
        if augment.get("saturation_mode", "blend") == "hsv":
            pre.append(HSVSaturation(float(lo), float(hi), p=0.5))
        else:
            pre.append(T.RandomApply([T.ColorJitter(saturation=(float(lo), float(hi)))], p=0.5))
    if augment.get("rand_augment") or augment.get("scale") or augment.get("reprob"):
        from timm.data import create_transform

        tf = create_transform(size, is_training=True, scale=tuple(augment.get("scale") or (0.08, 1.0)),
                              hflip=float(augment.get("hflip", 0.5)), auto_augment=augment.get("rand_augment"),
                              interpolation=augment.get("interpolation", "bilinear"),
                              re_prob=float(augment.get("reprob", 0.0)), re_mode=augment.get("remode", "pixel"),
                              re_count=int(augment.get("recount", 1)), mean=tuple(mean), std=tuple(std))
        _posterize_zero_bits_safe(tf)
        return T.Compose(pre + [tf]) if pre else tf
    # the FAS recipe: PIL's resize to (S, S); "bicubic" is what the official loader's Image.resize does
    method = T.InterpolationMode.BICUBIC if augment.get("interpolation") == "bicubic" else T.InterpolationMode.BILINEAR
    return T.Compose(pre + [T.Resize((size, size), interpolation=method),
                            T.RandomHorizontalFlip(float(augment.get("hflip", 0.5))), T.ToTensor(), T.Normalize(mean, std)])


class HSVSaturation:
    """With probability ``p``, multiply the saturation channel (OpenCV's float HSV) by U(lo, hi).

    The MCIO anti-spoofing loader's colour augmentation (docs/protocol-fidelity.md, cdfas@2); unlike
    torchvision's ``ColorJitter(saturation=...)``, which blends with the grey image, it scales S in
    HSV space. Values are clipped to [0, 255] before the cast (the official cast of out-of-range floats
    is undefined). Draws from numpy's global generator, as the official loader does.
    """

    def __init__(self, lo: float, hi: float, p: float = 0.5) -> None:
        self.lo, self.hi, self.p = float(lo), float(hi), float(p)

    def __call__(self, img):
        from PIL import Image

        # p = 0.5 draws exactly as the official loader (``np.random.randint(2)``)
        apply = bool(np.random.randint(2)) if self.p == 0.5 else np.random.random() < self.p
        if not apply:
            return img
        hsv = cv2.cvtColor(np.asarray(img, dtype=np.float32), cv2.COLOR_RGB2HSV)
        hsv[..., 1] *= np.random.uniform(self.lo, self.hi)
        rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
        return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def _posterize(img, bits_to_keep, **_):
    """timm's posterize, with PIL < 10's result for 0 bits (a black image) instead of ValueError.

    RandAugment ``rand-m9-mstd0.5-inc1`` reaches magnitude 10 about 2 % of the time, where
    PosterizeIncreasing keeps 0 bits; current Pillow refuses that. Patched on this transform's own
    op objects only (nothing global).
    """
    from PIL import Image, ImageOps

    if bits_to_keep >= 8:
        return img
    if bits_to_keep <= 0:
        return Image.new(img.mode, img.size)
    return ImageOps.posterize(img, bits_to_keep)


def _posterize_zero_bits_safe(transform) -> None:
    from timm.data.auto_augment import RandAugment

    for t in getattr(transform, "transforms", []):
        if isinstance(t, RandAugment):
            for op in t.ops:
                if op.name.startswith("Posterize"):
                    op.aug_fn = _posterize


@RUNNER_DATASETS.register_module()
class FrameDataset(Dataset):
    """Rows of a split file -> ``{"inputs": image, "data_samples": {"label", "index"}}``.

    ``train=True`` applies the training transform (normalised float); otherwise the image is
    resized and returned as uint8 (the model normalises it).
    """

    def __init__(self, rows_file: str, size: int, train: bool = False, augment: dict | None = None,
                 mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), resize: str = "plain",
                 interpolation: str = "bicubic") -> None:
        self.rows = read_rows(rows_file)
        if not self.rows:
            raise FsfmBenchError(f"{rows_file} holds no samples; check the protocol's filters and the prepared data")
        self.size, self.train, self.resize, self.interpolation = int(size), bool(train), resize, interpolation
        self.transform = build_train_transform(self.size, augment or {}, mean, std) if train else None
        self.metainfo = {"labels": [int(r["label"]) for r in self.rows]}

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        row = self.rows[index]
        img = read_rgb(row["path"])
        if self.train:
            from PIL import Image

            tensor = self.transform(Image.fromarray(img))
        else:
            tensor = torch.from_numpy(np.ascontiguousarray(
                eval_preprocess(img, self.size, self.resize, self.interpolation).transpose(2, 0, 1)))
        return {"inputs": tensor, "data_samples": {"label": int(row["label"]), "index": index}}


class ScoreDataset(Dataset):
    """Evaluation images by index for the scorer: (uint8 [3, S, S], index)."""

    def __init__(self, paths: list[str], indices: list[int], size: int, resize: str, interpolation: str) -> None:
        self.paths, self.indices = paths, indices
        self.size, self.resize, self.interpolation = int(size), resize, interpolation

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int):
        idx = self.indices[i]
        img = eval_preprocess(read_rgb(self.paths[idx]), self.size, self.resize, self.interpolation)
        return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))), idx


class ScoreBatchDataset(Dataset):
    """The same images as :class:`ScoreDataset`, one whole batch per item: a loader worker decodes
    a batch straight into one uint8 [B, 3, S, S] tensor, instead of returning B small tensors that
    the collate function then stacks (one copy and B allocations fewer per batch)."""

    def __init__(self, paths: list[str], indices: list[int], size: int, resize: str, interpolation: str,
                 batch_size: int) -> None:
        self.paths, self.size, self.resize, self.interpolation = paths, int(size), resize, interpolation
        self.batches = [indices[i:i + batch_size] for i in range(0, len(indices), batch_size)]

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, b: int):
        idx = self.batches[b]
        out = torch.empty((len(idx), 3, self.size, self.size), dtype=torch.uint8)
        view = out.numpy()
        for j, i in enumerate(idx):
            view[j] = eval_preprocess(read_rgb(self.paths[i]), self.size, self.resize,
                                      self.interpolation).transpose(2, 0, 1)
        return out, torch.as_tensor(idx)


from torch.utils.data import Sampler  # noqa: E402

from ..registry import DATA_SAMPLERS  # noqa: E402


@DATA_SAMPLERS.register_module()
class BalancedSourceSampler(Sampler):
    """Endless stream in which every batch holds equally many images of each (source, label) group.

    FSFM's anti-spoofing recipe draws 12 live + 12 attack images from each of the four sources per
    iteration; with ``batch_size`` B and G groups this draws B // G per group (sampling with
    replacement inside a group when it is small). For iteration-based loops (``max_iters``).
    """

    def __init__(self, dataset: FrameDataset, batch_size: int, seed: int | None = None) -> None:
        from mmengine.dist import get_dist_info

        rank, _ = get_dist_info()
        self.seed = (0 if seed is None else int(seed)) + rank
        groups: dict[tuple[str, int], list[int]] = {}
        for i, row in enumerate(dataset.rows):
            groups.setdefault((str(row.get("source", "")), int(row["label"])), []).append(i)
        self.groups = [np.asarray(v) for _, v in sorted(groups.items())]
        self.per_group = max(1, int(batch_size) // len(self.groups))

    def __iter__(self):
        rng = np.random.default_rng(self.seed)
        while True:
            batch = np.concatenate([rng.choice(g, self.per_group, replace=len(g) < self.per_group)
                                    for g in self.groups])
            rng.shuffle(batch)
            yield from batch.tolist()

    def __len__(self) -> int:  # an endless sampler reports one pass over the groups
        return self.per_group * len(self.groups)
