"""Per-sample scores: the raw material every metric is recomputed from.

One file per run, CSV (default) or JSONL, columns ``split, target, path, video_id, label, score``:
``split`` is ``test`` for target rows and ``val`` for the source-validation rows (needed for the
``source_val_eer`` threshold), ``target`` names the target set (or the source for val rows),
``label`` is 1 = fake/attack and ``score`` is P(fake). Written atomically.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import FsfmBenchError
from ..io import atomic_open

COLUMNS = ["split", "target", "path", "video_id", "label", "score"]
REQUIRED = ["target", "path", "video_id", "label", "score"]


def as_scores_frame(scores: pd.DataFrame | list[dict] | dict) -> pd.DataFrame:
    """Normalise a DataFrame / list of row dicts / dict of columns into the scores layout."""
    frame = scores.copy() if isinstance(scores, pd.DataFrame) else pd.DataFrame(scores)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise FsfmBenchError(f"per-sample scores lack column(s) {missing}; expected {COLUMNS}")
    if "split" not in frame.columns:
        frame["split"] = "test"
    if frame.empty:
        raise FsfmBenchError("per-sample scores are empty; nothing was scored")
    frame = frame[COLUMNS + [c for c in frame.columns if c not in COLUMNS]]
    for col in ("split", "target", "path", "video_id"):
        frame[col] = frame[col].astype(str)
    try:
        frame["label"] = frame["label"].astype(int)
        frame["score"] = frame["score"].astype(float)
    except (TypeError, ValueError) as exc:
        raise FsfmBenchError(f"per-sample scores: label must be 0/1 and score a number ({exc})") from exc
    if not frame["label"].isin((0, 1)).all():
        raise FsfmBenchError("per-sample scores: label must be 0 (real) or 1 (fake/attack)")
    if not np.isfinite(frame["score"].to_numpy()).all():
        raise FsfmBenchError("per-sample scores contain NaN or infinite scores")
    return frame.reset_index(drop=True)


def write_scores(path: str | os.PathLike, scores) -> Path:
    """Write scores atomically as CSV, or JSONL when ``path`` ends in .jsonl; return the path."""
    path = Path(path)
    frame = as_scores_frame(scores)
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        if path.suffix == ".jsonl":
            for row in frame.to_dict(orient="records"):
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            frame.to_csv(handle, index=False, float_format="%.17g")
    return path


def read_scores(path: str | os.PathLike) -> pd.DataFrame:
    """Read a scores file written by :func:`write_scores` (CSV or JSONL)."""
    path = Path(path)
    if not path.is_file():
        raise FsfmBenchError(f"per-sample scores file {path} does not exist; the result cannot be "
                             "rescored or plotted without it")
    try:
        if path.suffix == ".jsonl":
            with open(path, encoding="utf-8") as handle:     # json, not pandas: exact floats
                frame = pd.DataFrame([json.loads(line) for line in handle if line.strip()])
        else:
            frame = pd.read_csv(path, dtype={"split": str, "target": str, "path": str, "video_id": str},
                                keep_default_na=False)
    except (ValueError, pd.errors.ParserError, json.JSONDecodeError) as exc:
        raise FsfmBenchError(f"per-sample scores file {path} is not readable ({exc})") from exc
    return as_scores_frame(frame)
