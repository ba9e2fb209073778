"""Frame -> video aggregation: the mean of frame probabilities, grouped by the manifest's video id.

Never by folder name (DeepfakeBench groups by the parent folder, which merges colliding folder
names across datasets); a video whose frames carry different labels is an error, not a vote.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import FsfmBenchError
from .binary import check_inputs

__all__ = ["VideoScores", "aggregate_videos"]


class VideoScores(NamedTuple):
    """One row per video, sorted by video id: ids, labels, mean frame score, frames per video."""

    video_ids: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    n_frames: np.ndarray


def aggregate_videos(video_ids, labels, scores) -> VideoScores:
    """Mean of frame probabilities per video id (labels must agree within a video)."""
    y, s = check_inputs(labels, scores, both_classes=False, what="aggregate_videos")
    ids = np.asarray(video_ids)
    if ids.shape != y.shape:
        raise FsfmBenchError(f"aggregate_videos: {ids.size} video ids for {y.size} frames; "
                             "pass one video id per frame")
    if pd.isna(ids).any() or any(str(v) == "" for v in ids):
        raise FsfmBenchError("aggregate_videos: some video ids are empty; every frame needs the "
                             "manifest's video_id")
    frame = pd.DataFrame({"video_id": ids.astype(str), "label": y, "score": s})
    grouped = frame.groupby("video_id", sort=True)
    mixed = grouped["label"].nunique()
    if (mixed > 1).any():
        bad = mixed[mixed > 1].index[:3].tolist()
        raise FsfmBenchError(f"aggregate_videos: {int((mixed > 1).sum())} video ids have frames with "
                             f"both labels (e.g. {bad}); video ids must be unique per video")
    out = grouped.agg(label=("label", "first"), score=("score", "mean"), n=("score", "size"))
    return VideoScores(out.index.to_numpy(dtype=object), out["label"].to_numpy(dtype=int),
                       out["score"].to_numpy(dtype=float), out["n"].to_numpy(dtype=int))
