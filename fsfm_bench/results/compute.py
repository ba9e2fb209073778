"""From per-sample scores to the ``results`` block of a result: every metric, n, and its interval.

The protocol runner calls :func:`compute_metrics` once per run; ``fsfm-bench rescore`` calls it
again on the saved scores with other conventions. Threshold policies for acc / balanced_acc / hter:

- ``fixed_0.5``: score >= 0.5 means fake;
- ``source_val_eer``: the EER threshold of the source validation scores (rows with split == val),
  at the same granularity (the classical Idiap dev-set protocol);
- ``target_eer``: the EER threshold of the target itself, interpolated on the ROC;
- ``target_eer_grid``: the target's own threshold as the MCIO code picks it (a 10,001-point grid of
  P(real), the last of the thresholds closest to FAR == FRR; :func:`fsfm_bench.metrics.eer_grid`).

Inside the bootstrap, a threshold from other data (0.5, the source validation EER) is held fixed;
the ``target_eer`` threshold is tuned on the scored data itself, so every resample re-estimates
it (:data:`fsfm_bench.metrics.OWN_EER`) and the interval carries the tuning's own variance. Each
interval records which (``ci.threshold``: ``fixed`` | ``per_resample``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import metrics as M
from ..errors import FsfmBenchError, UsageError, did_you_mean
from .scores import as_scores_frame

THRESHOLD_SOURCES = ("fixed_0.5", "source_val_eer", "target_eer", "target_eer_grid")
GRANULARITIES = ("frame", "video", "image")


def units(frame: pd.DataFrame, granularity: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(labels, scores, cluster ids for the bootstrap) of one target at one granularity."""
    if granularity not in GRANULARITIES:
        raise UsageError(f"unknown granularity {granularity!r}." + did_you_mean(granularity, GRANULARITIES))
    if granularity == "video":
        agg = M.aggregate_videos(frame["video_id"].to_numpy(), frame["label"].to_numpy(),
                                 frame["score"].to_numpy())
        return agg.labels, agg.scores, agg.video_ids
    labels, scores = frame["label"].to_numpy(), frame["score"].to_numpy()
    if granularity == "frame":
        return labels, scores, frame["video_id"].to_numpy()
    return labels, scores, None          # image-level: independent images


def _threshold(policy: str, granularity: str, labels, scores, val: pd.DataFrame | None) -> float:
    if policy == "fixed_0.5":
        return 0.5
    if policy == "target_eer":
        return M.eer(labels, scores).threshold
    if policy == "target_eer_grid":          # the MCIO code's 10,001-point P(real) grid, last minimum
        return M.eer_grid(labels, scores).threshold
    if val is None or val.empty:
        raise FsfmBenchError("threshold_source=source_val_eer needs the source validation scores "
                             "(rows with split=val in the scores file); none were saved for this run. "
                             "Use threshold_source=fixed_0.5 or target_eer instead")
    vy, vs, _ = units(val, granularity if granularity != "image" else "image")
    return M.eer(vy, vs).threshold


def compute_metrics(scores, metrics: Sequence[str], *, granularities: Sequence[str] = ("frame", "video"),
                    threshold_source: str = "fixed_0.5", targets: Sequence[str] | None = None,
                    n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0,
                    ) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    """target -> granularity -> metric -> {value, n, n_fake, n_real, ci, higher_is_better, ...}.

    Args:
        scores: per-sample scores (see :mod:`.scores`); val rows feed ``source_val_eer``.
        metrics: names of registered metrics (:func:`fsfm_bench.metrics.metric_spec`), parametrised
            as ``tpr_at_fpr@0.01``.
        granularities: any of frame, video (mean P(fake) per video id), image.
        threshold_source: one of :data:`THRESHOLD_SOURCES` (recorded with each thresholded metric).
        targets: targets to compute (default: every target of the test rows, in file order).
        n_resamples: bootstrap resamples per metric (0 = no intervals).
    """
    if threshold_source not in THRESHOLD_SOURCES:
        raise UsageError(f"unknown threshold_source {threshold_source!r}."
                         + did_you_mean(str(threshold_source), THRESHOLD_SOURCES))
    parsed = [(name, *M.parse_metric_name(name)) for name in metrics]
    if not parsed:
        raise UsageError("no metrics requested")
    frame = as_scores_frame(scores)
    test = frame[frame["split"] != "val"]
    val = frame[frame["split"] == "val"]
    available = list(dict.fromkeys(test["target"]))
    wanted = list(targets) if targets is not None else available
    out: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for target in wanted:
        rows = test[test["target"] == target]
        if rows.empty:
            raise FsfmBenchError(f"no scores for target {target!r}." + did_you_mean(target, available))
        out[target] = {}
        for gran in granularities:
            labels, values, clusters = units(rows, gran)
            M.check_inputs(labels, values, what=f"{target}/{gran}")
            threshold = None
            if any(spec.needs_threshold for _, _, spec, _ in parsed):
                threshold = _threshold(threshold_source, gran, labels, values, val)
            block: dict[str, dict[str, Any]] = {}
            for name, _base, spec, param in parsed:
                kwargs: dict[str, Any] = spec.kwargs
                if spec.needs_threshold:
                    kwargs["threshold"] = threshold
                if spec.param is not None:
                    kwargs[spec.param] = param
                if spec.needs_video_ids and clusters is None:
                    raise FsfmBenchError(f"metric {name!r} needs video ids, which {gran}-level scores "
                                         "do not have; ask for it at frame or video granularity")
                ids = {"video_ids": clusters} if spec.needs_video_ids else {}
                raw = spec.fn(labels, values, **kwargs, **ids)
                entry: dict[str, Any] = {
                    "value": M.scalar(raw), "n": int(labels.size), "n_fake": int(labels.sum()),
                    "n_real": int(labels.size - labels.sum()), "ci": None,
                    "higher_is_better": spec.higher_is_better}
                if isinstance(raw, M.EER):
                    entry["threshold"] = raw.threshold
                if spec.needs_threshold:
                    entry["threshold"] = float(threshold)
                    entry["threshold_source"] = threshold_source
                if param is not None:
                    entry["param"] = float(param)
                if n_resamples:
                    per_resample = spec.needs_threshold and threshold_source in ("target_eer", "target_eer_grid")
                    own = M.OWN_EER_GRID if threshold_source == "target_eer_grid" else M.OWN_EER
                    ci_kwargs = {**kwargs, "threshold": own} if per_resample else kwargs
                    ci = M.bootstrap_ci(spec.fn, labels, values, clusters, n_resamples=n_resamples,
                                        confidence=confidence, seed=seed,
                                        pass_video_ids=spec.needs_video_ids, **ci_kwargs)
                    entry["ci"] = {"low": ci.low, "high": ci.high, "confidence": ci.confidence,
                                   "n_resamples": ci.n_resamples,
                                   "unit": "video" if gran == "video" else ci.unit}
                    if spec.needs_threshold:
                        entry["ci"]["threshold"] = "per_resample" if per_resample else "fixed"
                block[name] = entry
            out[target][gran] = block
    return out
