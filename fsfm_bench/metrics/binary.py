"""Binary detection metrics, each implemented once (label 1 = fake/attack, score = P(fake)).

Why one module: the anchors disagree on almost every estimator (DeepfakeBench's EER is the ROC index
minimising |FNR-FPR|, SSDG's is a 10 001-point threshold grid, FSFM's is interpolated; TPR@FPR is
"closest" in SAFAS and "largest with FPR <= target" in FLIP). fsfm-bench fixes one definition per
metric here, documents it, and saves raw scores so any other convention can be recomputed.

Conventions shared by every function:

- ``labels`` are 0 (real/live) or 1 (fake/attack); ``scores`` are finite, higher = more fake.
- A sample is *predicted fake* when ``score >= threshold`` (sklearn's ``roc_curve`` convention).
- Every metric is computed once, in :mod:`.curve`, from cumulative counts over the sorted unique
  scores; the bootstrap calls the same functions with resample multiplicities as weights.
  sklearn is the reference the tests compare against.
- Empty input, length mismatch, NaN/inf scores, labels outside {0, 1} and (for metrics that need
  both) a single class raise :class:`~fsfm_bench.errors.FsfmBenchError` with one clear message.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import FsfmBenchError
from . import curve as C

__all__ = ["EER", "check_inputs", "roc", "auc", "ap", "eer", "eer_grid", "acc", "balanced_acc", "hter",
           "error_rates", "tpr_at_fpr"]


class EER(NamedTuple):
    """Equal error rate (fraction) and the score threshold at which FPR == FNR on the ROC."""

    rate: float
    threshold: float


def check_inputs(labels, scores, *, both_classes: bool = True, what: str = "metric"
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Return (labels int array, scores float array) or raise one clear FsfmBenchError."""
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=float) if np.asarray(scores).dtype != object else None
    if s is None:
        raise FsfmBenchError(f"{what}: scores must be numbers (P(fake)), got objects")
    if y.ndim != 1 or s.ndim != 1:
        raise FsfmBenchError(f"{what}: labels and scores must be 1-D arrays, got shapes {y.shape} and {s.shape}")
    if y.size != s.size:
        raise FsfmBenchError(f"{what}: {y.size} labels but {s.size} scores; pass one score per label")
    if y.size == 0:
        raise FsfmBenchError(f"{what}: empty input (no labels or scores); is the target set empty?")
    bad = ~np.isfinite(s)
    if bad.any():
        raise FsfmBenchError(f"{what}: {int(bad.sum())} of {s.size} scores are NaN or infinite "
                             f"(first at index {int(np.flatnonzero(bad)[0])}); fix the model output "
                             "or drop those samples explicitly")
    try:
        yi = y.astype(int)
    except (TypeError, ValueError) as exc:
        raise FsfmBenchError(f"{what}: labels must be 0 (real) or 1 (fake/attack)") from exc
    if not np.array_equal(yi, y) or not np.isin(yi, (0, 1)).all():
        raise FsfmBenchError(f"{what}: labels must be 0 (real) or 1 (fake/attack), got values "
                             f"{sorted(set(np.unique(y).tolist()))[:5]}")
    if both_classes:
        n_pos = int(yi.sum())
        if n_pos == 0 or n_pos == yi.size:
            only = "fake/attack (1)" if n_pos else "real/live (0)"
            raise FsfmBenchError(f"{what}: only one class present ({yi.size} samples, all {only}); "
                                 "this metric needs both real and fake samples")
    return yi, s


def _threshold(threshold: float) -> float:
    t = float(threshold)
    if not np.isfinite(t):
        raise FsfmBenchError(f"threshold must be a finite number, got {threshold!r}")
    return t


def _curve(labels, scores, what: str, both_classes: bool = True):
    """Checked inputs -> (ranking, tp, fp): the counts every metric below is computed from."""
    y, s = check_inputs(labels, scores, both_classes=both_classes, what=what)
    ranking = C.rank(s)
    tp, fp = C.cumulative_counts(ranking, y)
    return ranking, tp, fp


def roc(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full ROC (no intermediate points dropped): fpr, tpr, thresholds; thresholds[0] is finite.

    Same points as sklearn's ``roc_curve(drop_intermediate=False)``, whose first threshold ``inf``
    (nothing predicted fake) is replaced by the next float above the largest score so that
    interpolated thresholds stay finite and usable for ``acc``/``hter``.
    """
    ranking, tp, fp = _curve(labels, scores, "roc")
    fpr, tpr = C.roc_from_counts(tp, fp)
    return fpr, tpr, C.point_thresholds(ranking, tp, fp)


def auc(labels, scores) -> float:
    """Area under the ROC curve (ties count one half, as in sklearn's ``roc_auc_score``)."""
    _, tp, fp = _curve(labels, scores, "auc")
    return float(C.auc_from_counts(tp, fp))


def ap(labels, scores) -> float:
    """Average precision with fake/attack as the positive class (sklearn's step-wise estimator)."""
    _, tp, fp = _curve(labels, scores, "ap")
    return float(C.ap_from_counts(tp, fp))


def eer(labels, scores) -> EER:
    """Equal error rate on the linearly interpolated ROC, and its threshold.

    The rate is the root of ``1 - x - TPR(x)`` (FSFM's ``brentq`` definition), solved exactly on
    the piecewise-linear ROC: ``g = 1 - FPR - TPR`` falls monotonically along the curve, so the root
    lies on the first segment where ``g`` reaches 0; the threshold is interpolated on that segment
    with the same weight. Returns ``EER(rate, threshold)``; the rate is a fraction in [0, 1].
    """
    ranking, tp, fp = _curve(labels, scores, "eer")
    rate, threshold = C.eer_from_counts(tp, fp, C.point_thresholds(ranking, tp, fp))
    return EER(float(rate), float(threshold))


def eer_grid(labels, scores, grid: int = 10_000) -> EER:
    """EER and its threshold chosen on a fixed grid of P(real) thresholds (the MCIO code's estimator).

    The SSDG / few_shot_fas / FSFM anti-spoofing code scores videos by P(real) and tries the
    thresholds ``i / grid`` for ``i = 0 .. grid`` and then 1.1; a video is accepted as real when
    ``P(real) >= thr``. It keeps the LAST threshold with the smallest ``|FRR - FAR|`` and reports
    ``(FAR + FRR) / 2`` there. Here scores are P(attack) and ``P(real) = 1 - score``; the threshold
    returned is in this module's convention (predicted attack when ``score >= threshold``): the
    smallest float above ``1 - thr``, so that ``hter(labels, scores, threshold)`` counts exactly
    the videos the grid rule rejects (up to the rounding of ``1 - score``).
    """
    y, s = check_inputs(labels, scores, what="eer_grid")
    live = np.sort(1.0 - s[y == 0])
    attack = np.sort(1.0 - s[y == 1])
    thresholds = np.append(np.arange(int(grid) + 1) / float(grid), 1.1)
    # accepted as real: P(real) >= thr  ->  counts from the sorted arrays
    far = (attack.size - np.searchsorted(attack, thresholds, side="left")) / attack.size
    frr = np.searchsorted(live, thresholds, side="left") / live.size
    dist = np.abs(frr - far)
    best = dist.size - 1 - int(np.argmin(dist[::-1]))          # the last minimum, as `<=` keeps it
    return EER(float((far[best] + frr[best]) / 2.0), float(np.nextafter(1.0 - thresholds[best], np.inf)))


def _at(labels, scores, threshold: float, what: str, both_classes: bool = True):
    ranking, tp, fp = _curve(labels, scores, what, both_classes)
    return C.counts_at_threshold(ranking, tp, fp, _threshold(threshold))


def acc(labels, scores, threshold: float = 0.5) -> float:
    """Accuracy when ``score >= threshold`` means fake (one class alone is allowed)."""
    return float(C.acc_from_counts(*_at(labels, scores, threshold, "acc", both_classes=False)))


def balanced_acc(labels, scores, threshold: float = 0.5) -> float:
    """Mean of the real-class and fake-class accuracies at ``threshold`` (sklearn's definition)."""
    return float(C.balanced_acc_from_counts(*_at(labels, scores, threshold, "balanced_acc")))


def error_rates(labels, scores, threshold: float) -> tuple[float, float]:
    """(FAR, FRR) at ``threshold``: attacks accepted as real, and reals rejected as attacks."""
    far, frr = C.error_rates_from_counts(*_at(labels, scores, threshold, "hter"))
    return float(far), float(frr)


def hter(labels, scores, threshold: float) -> float:
    """Half total error rate ``(FAR + FRR) / 2`` at a threshold the caller chose and records.

    The threshold's source (fixed 0.5, EER on the source validation set, or the oracle EER on the
    target itself as the MCIO code does) is part of the result, never implied.
    """
    far, frr = error_rates(labels, scores, threshold)
    return 0.5 * (far + frr)


def tpr_at_fpr(labels, scores, fpr: float = 0.01, positive: str = "fake") -> float:
    """Largest TPR over ROC points with FPR <= ``fpr`` (FLIP's estimator).

    ``positive="fake"`` (metric ``tpr_at_fpr``): TPR = attacks caught, FPR = reals rejected.
    ``positive="real"`` (metric ``tpr_at_fpr_live``, the MCIO papers' and FSFM's definition): the
    score is P(real) and TPR = reals accepted, FPR = attacks accepted. Same labels and scores in
    both cases; the live-positive curve is the same ROC walked from the other end.
    """
    target = _target_fpr(fpr)
    if positive not in ("fake", "real"):
        raise FsfmBenchError(f"tpr_at_fpr: positive must be 'fake' or 'real', got {positive!r}")
    _, tp, fp = _curve(labels, scores, "tpr_at_fpr")
    return float(C.tpr_at_fpr_from_counts(*C.oriented_counts(tp, fp, positive), target))


def _target_fpr(fpr: float) -> float:
    target = float(fpr)
    if not 0.0 <= target <= 1.0:
        raise FsfmBenchError(f"tpr_at_fpr: target FPR must be in [0, 1], got {fpr!r}")
    return target
