"""Baseline for benchmarks/bootstrap.py: the bootstrap and metrics as committed in 6a7e2a4 (issue 6).

Kept verbatim (sklearn metrics, one materialised resample per iteration) so that the benchmark
measures the old path in the same run as the new one and checks that both give the same numbers.
Not part of the package; do not import it from fsfm_bench.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import metrics as skm

from fsfm_bench.errors import FsfmBenchError
from fsfm_bench.metrics import CI, EER, check_inputs, scalar


def _threshold(threshold: float) -> float:
    t = float(threshold)
    if not np.isfinite(t):
        raise FsfmBenchError(f"threshold must be a finite number, got {threshold!r}")
    return t


def roc(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full ROC (no intermediate points dropped): fpr, tpr, thresholds; thresholds[0] is finite.

    sklearn puts ``inf`` first (nothing predicted fake); we replace it by the next float above the
    largest score so that interpolated thresholds stay finite and usable for ``acc``/``hter``.
    """
    y, s = check_inputs(labels, scores, what="roc")
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    thr = thr.astype(float).copy()
    thr[0] = np.nextafter(float(s.max()), np.inf)
    return fpr, tpr, thr


def auc(labels, scores) -> float:
    """Area under the ROC curve (ties count one half, as in sklearn's ``roc_auc_score``)."""
    y, s = check_inputs(labels, scores, what="auc")
    return float(skm.roc_auc_score(y, s))


def ap(labels, scores) -> float:
    """Average precision with fake/attack as the positive class (sklearn's step-wise estimator)."""
    y, s = check_inputs(labels, scores, what="ap")
    return float(skm.average_precision_score(y, s))


def eer(labels, scores) -> EER:
    """Equal error rate on the linearly interpolated ROC, and its threshold.

    The rate is the root of ``1 - x - TPR(x)`` (FSFM's ``brentq`` definition), solved exactly on
    the piecewise-linear ROC: ``g = 1 - FPR - TPR`` falls monotonically along the curve, so the root
    lies on the first segment where ``g`` reaches 0; the threshold is interpolated on that segment
    with the same weight. Returns ``EER(rate, threshold)``; the rate is a fraction in [0, 1].
    """
    fpr, tpr, thr = roc(labels, scores)
    g = 1.0 - fpr - tpr
    k = int(np.argmax(g <= 0.0))            # g[-1] = -1 < 0, so a crossing always exists
    if g[k] == 0.0 or k == 0:
        return EER(float(fpr[k]), float(thr[k]))
    w = g[k - 1] / (g[k - 1] - g[k])        # in (0, 1]
    rate = fpr[k - 1] + w * (fpr[k] - fpr[k - 1])
    threshold = thr[k - 1] + w * (thr[k] - thr[k - 1])
    return EER(float(rate), float(threshold))


def acc(labels, scores, threshold: float = 0.5) -> float:
    """Accuracy when ``score >= threshold`` means fake (one class alone is allowed)."""
    y, s = check_inputs(labels, scores, both_classes=False, what="acc")
    return float(np.mean((s >= _threshold(threshold)).astype(int) == y))


def balanced_acc(labels, scores, threshold: float = 0.5) -> float:
    """Mean of the real-class and fake-class accuracies at ``threshold`` (sklearn's definition)."""
    y, s = check_inputs(labels, scores, what="balanced_acc")
    return float(skm.balanced_accuracy_score(y, (s >= _threshold(threshold)).astype(int)))


def error_rates(labels, scores, threshold: float) -> tuple[float, float]:
    """(FAR, FRR) at ``threshold``: attacks accepted as real, and reals rejected as attacks."""
    y, s = check_inputs(labels, scores, what="hter")
    t = _threshold(threshold)
    pred_fake = s >= t
    far = float(np.mean(~pred_fake[y == 1]))
    frr = float(np.mean(pred_fake[y == 0]))
    return far, frr


def hter(labels, scores, threshold: float) -> float:
    """Half total error rate ``(FAR + FRR) / 2`` at a threshold the caller chose and records.

    The threshold's source (fixed 0.5, EER on the source validation set, or the oracle EER on the
    target itself as the MCIO code does) is part of the result, never implied.
    """
    far, frr = error_rates(labels, scores, threshold)
    return 0.5 * (far + frr)


def tpr_at_fpr(labels, scores, fpr: float = 0.01) -> float:
    """Largest TPR over ROC points with FPR <= ``fpr`` (FLIP's estimator, fake = positive)."""
    target = float(fpr)
    if not 0.0 <= target <= 1.0:
        raise FsfmBenchError(f"tpr_at_fpr: target FPR must be in [0, 1], got {fpr!r}")
    f, t, _ = roc(labels, scores)
    return float(t[f <= target].max())      # f[0] == 0, so the set is never empty


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
