"""Helpers for the results tests: tiny per-sample scores and result dicts built the real way."""
from __future__ import annotations

import numpy as np
import pandas as pd

from fsfm_bench.results import build_result, compute_metrics

BACKBONE = {"name": "fsfm", "distribution": "fsfm-bench", "version": "0.1.0", "plugin": "backbones"}


def tiny_scores(seed: int = 0, targets=("CDFv2", "DFDC"), videos: int = 12, frames: int = 3,
                shift: float = 1.0, val: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for target in targets:
        for v in range(videos):
            label = v % 2
            base = rng.normal(shift * (2 * label - 1), 1.0)
            for f in range(frames):
                rows.append({"split": "test", "target": target, "path": f"{target}/v{v}/{f}.png",
                             "video_id": f"{target}/v{v}", "label": label,
                             "score": float(1 / (1 + np.exp(-(base + rng.normal(0, 0.5)))))})
    if val:
        for v in range(10):
            label = v % 2
            rows.append({"split": "val", "target": "ffpp", "path": f"val/v{v}.png", "video_id": f"val/v{v}",
                         "label": label, "score": float(1 / (1 + np.exp(-rng.normal(2 * label - 1, 1.0))))})
    return pd.DataFrame(rows)


def make_result(scores: pd.DataFrame | None = None, *, seed: int = 0, backbone=None, variant=None,
                protocol="cdfd@1", metrics=("auc", "eer"), granularities=("frame", "video"),
                results=None, n_resamples: int = 20, selection_policy="source_val",
                threshold_source="fixed_0.5", preprocessing=None) -> dict:
    if results is None:
        results = compute_metrics(scores, list(metrics), granularities=granularities,
                                  threshold_source=threshold_source, n_resamples=n_resamples, seed=seed)
    return build_result(
        protocol=protocol, backbone=dict(backbone or BACKBONE), variant=variant, results=results,
        config={"model": {"lr": 1e-4}, "seed": seed}, seeds={"seed": seed},
        data={"train/ffpp": {"manifest_hash": "1" * 64, "counts": {"frames": 100, "videos": 10}},
              "test/CDFv2": {"manifest_hash": "2" * 64, "counts": {"frames": 36, "videos": 12}}},
        selection_policy=selection_policy, threshold_source=threshold_source,
        checkpoint_sha256="a" * 64, checkpoint_path="ckpt.pth",
        preprocessing=preprocessing or {"detector": "dlib", "crop": "1.3x", "img_size": 224,
                                        "interpolation": "bicubic", "normalize": "vggface2",
                                        "frames_per_video": 32},
        bootstrap={"n_resamples": n_resamples, "confidence": 0.95, "seed": seed}, wall_time_s=12.5,
        started_at="2026-01-01T00:00:00Z")


def metric_entry(value: float, n: int = 100) -> dict:
    return {"value": value, "n": n, "n_fake": n // 2, "n_real": n - n // 2, "ci": None,
            "higher_is_better": True}
