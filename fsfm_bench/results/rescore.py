"""Recompute a result's metrics from its saved per-sample scores under other conventions
(granularity, threshold source, metrics, bootstrap), without scoring anything again. What
``fsfm-bench rescore`` runs; :func:`fsfm_bench.results.new_result_from` then writes the outcome as
a new result file that records what changed."""
from __future__ import annotations

from typing import Any


def _list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def rescore(result_path: str, changes: dict[str, Any]) -> tuple[dict, dict, dict]:
    """Return (original result, recomputed results block, what was computed how).

    ``changes`` holds the validated conventions to change (``granularity``, ``threshold_source``,
    ``metrics``, ``bootstrap``, ``confidence``, ``seed``, ``targets``); every other convention is
    the original result's. The third value holds the effective ``settings``, the ``changes`` (with
    the original file's sha256) and the recomputed ``robustness`` block (None when it has none)."""
    from ..io import sha256_file
    from .compute import compute_metrics
    from .result import read_result, scores_path
    from .robustness import recompute
    from .scores import read_scores

    original = read_result(result_path)
    scores = read_scores(scores_path(original, result_path))
    proto = original["protocol"]
    boot = original["bootstrap"]
    settings = {
        "granularities": [str(g) for g in _list(changes.get("granularity", proto["granularities"]))],
        "threshold_source": str(changes.get("threshold_source", original["threshold_source"])),
        "metrics": [str(m) for m in _list(changes.get("metrics", proto["metrics"]))],
        "n_resamples": int(changes.get("bootstrap", boot["n_resamples"])),
        "confidence": float(changes.get("confidence", boot["confidence"])),
        "seed": int(changes.get("seed", boot["seed"])),
        "targets": [str(t) for t in _list(changes["targets"])] if "targets" in changes else None,
    }
    block = compute_metrics(scores, settings["metrics"], granularities=settings["granularities"],
                            threshold_source=settings["threshold_source"], targets=settings["targets"],
                            n_resamples=settings["n_resamples"], confidence=settings["confidence"],
                            seed=settings["seed"])
    recorded = dict(changes)
    recorded["_file_sha256"] = sha256_file(result_path)
    robustness = recompute(original, result_path, scores, settings,      # perturb= results: every condition too
                           int(changes["bootstrap"]) if "bootstrap" in changes else None)
    return original, block, {"settings": settings, "changes": recorded, "robustness": robustness}
