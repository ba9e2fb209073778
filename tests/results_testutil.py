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


#: the targets of :func:`hand_made_rows` and the display table they make
HAND_MADE_TARGETS = ["CDFv2", "DFDC"]


def _hand_made_row(backbone, target, value, kind="reproduced", **kw) -> dict:
    base = {"protocol": "cdfd@1", "kind": kind, "backbone": backbone, "granularity": "frame", "metric": "auc",
            "target": target, "value": value, "std": None, "n_seeds": None, "ci_low": None, "ci_high": None,
            "selection_policy": "source_val", "threshold_source": "fixed_0.5", "label": None, "paper_name": None,
            "group_id": None, "checkpoint_sha256": None, "source_kind": None, "reported": None, "diff": None,
            "printed_avg": None}
    return {**base, **kw}


def hand_made_rows() -> pd.DataFrame:
    """A merged long frame by hand: fsfm over two seeds with its reported row, dinov2 chosen on the
    target (one seed, bootstrap interval), frame-level AUC on CDFv2 and DFDC; HAND_MADE_TABLE is its display table."""
    fsfm = {"group_id": "g1", "n_seeds": 2, "checkpoint_sha256": "a" * 64}
    paper = {"paper_name": "FSFM ViT-B", "source_kind": "paper", "threshold_source": None, "printed_avg": 82.0}
    return pd.DataFrame([
        _hand_made_row("fsfm", "CDFv2", 85.0, std=5.0, reported=90.0, diff=-5.0, **fsfm),
        _hand_made_row("fsfm", "DFDC", 70.0, std=1.25, reported=68.0, diff=2.0, **fsfm),
        _hand_made_row("dinov2", "CDFv2", 60.0, ci_low=50.0, ci_high=70.0, n_seeds=1, group_id="g2",
                       selection_policy="target_oracle"),
        _hand_made_row("fsfm", "CDFv2", 90.0, kind="reported", **paper),
        _hand_made_row("fsfm", "DFDC", 68.0, kind="reported", **paper),
    ])


HAND_MADE_TABLE = [
    ["dinov2", "reproduced", "target_oracle ⚠", "60.00 [50.00, 70.00]", "–", "–"],
    ["fsfm", "reproduced", "source_val", "85.00 ± 5.00 (n=2)", "70.00 ± 1.25 (n=2)", "77.50"],
    ["fsfm", "reported (paper: FSFM ViT-B)", "source_val", "90.00", "68.00", "82.00"],   # the printed average
    ["fsfm", "Δ reproduced − reported", "", "-5.00", "+2.00", "-1.50"],
]
