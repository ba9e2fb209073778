"""Seeded bootstrap confidence intervals for any metric of (labels, scores).

Why resample videos: frames of one video are strongly correlated, so a frame-level bootstrap
understates the uncertainty. When video ids are given, whole videos are drawn with replacement
(a cluster bootstrap) and the metric is computed on all frames of the drawn videos. Resampling is
stratified by class (reals and fakes are drawn separately, keeping their counts), so no resample
ever has one class only and class imbalance is preserved. The interval is the percentile interval.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..errors import FsfmBenchError
from .binary import check_inputs

__all__ = ["CI", "bootstrap_ci", "scalar"]


class CI(NamedTuple):
    """Point estimate on the full data plus a percentile interval."""

    estimate: float
    low: float
    high: float
    n_resamples: int
    confidence: float
    unit: str          # "video" or "sample": what was resampled


def scalar(value: Any) -> float:
    """A metric result as one float (``EER`` tuples give their rate)."""
    return float(getattr(value, "rate", value))


def bootstrap_ci(metric: Callable[..., Any], labels, scores, video_ids=None, *,
                 n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0,
                 **metric_kwargs: Any) -> CI:
    """Percentile bootstrap CI of ``metric(labels, scores, **metric_kwargs)``.

    Args:
        metric: a function of (labels, scores) returning a float or an ``EER``.
        video_ids: optional per-sample group ids; when given, whole videos are resampled.
        n_resamples: number of bootstrap resamples (1000 by default).
        confidence: two-sided coverage, e.g. 0.95 -> 2.5th and 97.5th percentiles.
        seed: seeds ``numpy.random.default_rng``; the same seed gives the same interval.
    """
    y, s = check_inputs(labels, scores, what="bootstrap_ci")
    if int(n_resamples) < 1:
        raise FsfmBenchError(f"bootstrap_ci: n_resamples must be >= 1, got {n_resamples}")
    if not 0.0 < float(confidence) < 1.0:
        raise FsfmBenchError(f"bootstrap_ci: confidence must be in (0, 1), got {confidence}")
    estimate = scalar(metric(y, s, **metric_kwargs))
    rng = np.random.default_rng(seed)
    if video_ids is not None:
        ids = np.asarray(video_ids).astype(str)
        if ids.shape != y.shape:
            raise FsfmBenchError(f"bootstrap_ci: {ids.size} video ids for {y.size} samples")
        uniq, inverse = np.unique(ids, return_inverse=True)
        members = np.argsort(inverse, kind="stable")
        starts = np.searchsorted(inverse[members], np.arange(len(uniq)))
        sizes = np.bincount(inverse, minlength=len(uniq))
        video_label = np.zeros(len(uniq), dtype=int)
        video_label[inverse] = y                     # mixed labels are caught by aggregate_videos
        strata = [np.flatnonzero(video_label == c) for c in (0, 1)]
        unit = "video"
    else:
        strata = [np.flatnonzero(y == c) for c in (0, 1)]
        unit = "sample"
    values = np.empty(int(n_resamples))
    for i in range(int(n_resamples)):
        picked = np.concatenate([rng.choice(st, size=st.size, replace=True) for st in strata])
        if unit == "video":
            counts = sizes[picked]
            offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            idx = members[np.repeat(starts[picked], counts) + offsets]
        else:
            idx = picked
        try:
            values[i] = scalar(metric(y[idx], s[idx], **metric_kwargs))
        except FsfmBenchError:
            values[i] = np.nan        # e.g. all drawn fake videos had no frames of one class
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise FsfmBenchError("bootstrap_ci: the metric failed on every resample")
    alpha = (1.0 - float(confidence)) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return CI(estimate, float(low), float(high), int(n_resamples), float(confidence), unit)
