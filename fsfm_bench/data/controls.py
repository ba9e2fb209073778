"""Negative controls for a prepared dataset: the same images with the learnable signal removed.

A benchmark that prints the same numbers for a working pipeline and for one that learns nothing
measures nothing. ``shuffled_labels_copy`` builds the classic control: the training and
validation labels permuted between sources, images untouched, so a detector trained on it can only
score at chance against the true labels. The demo's broken-pipeline test
(tests/test_demo_broken_pipeline.py) and benchmarks/demo.py both use it.
"""
from __future__ import annotations

import random
from pathlib import Path

from .manifest import read_manifest, write_manifest


def shuffled_labels_copy(prepared: Path, out: Path, seed: int = 0, splits: tuple[str, ...] = ("train", "val")) -> Path:
    """A prepared folder at ``out`` whose ``splits`` labels are permuted between video ids.

    Each source keeps one label (so video-level scores stay defined) and each split keeps its number
    of real and of fake sources; the other splits' labels, the images, parsing maps and masks are the same
    (linked, not copied). Returns ``out``.
    """
    rows = read_manifest(prepared / "manifest.jsonl")
    rng = random.Random(seed)
    for split in splits:
        label_of: dict[str, int] = {}
        for r in rows:
            if r["split"] == split:
                label_of.setdefault(r["video_id"], r["label"])
        vids = sorted(label_of)
        labels = [label_of[v] for v in vids]
        rng.shuffle(labels)
        new = dict(zip(vids, labels, strict=True))
        for r in rows:
            if r["split"] == split:
                r["label"] = new[r["video_id"]]
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("images", "parsing", "masks"):
        if (prepared / sub).exists() and not (out / sub).exists():
            (out / sub).symlink_to((prepared / sub).resolve())
    write_manifest(out / "manifest.jsonl", rows)
    return out
