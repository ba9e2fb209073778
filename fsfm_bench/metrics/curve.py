"""The one implementation of every ranking and threshold metric: weighted counts on a sorted ROC.

Why: a bootstrap resample is the original samples with integer multiplicities, so sorting the
scores once and computing each resample's cumulative (weighted) true/false positive counts over the
presorted unique-score groups gives exactly the ROC that sorting the resampled arrays would give
(integer counts are exact in float64), at a fraction of the cost and vectorised over resamples.
The plain metrics in :mod:`.binary` call the same functions with all weights one, so each metric
has a single definition.

Shapes: ``tp`` and ``fp`` are cumulative counts of shape ``(..., G + 1)``: column 0 is the point
"nothing predicted fake" (0, 0), column ``j`` counts every sample with ``score >= thresholds[j-1]``
(``thresholds`` = the G unique scores, descending). Every ``*_from_counts`` function works on the
last axis and returns one value per leading index (one per resample).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import sparse

__all__ = ["Ranking", "rank", "cumulative_counts", "point_thresholds", "unit_group_matrices",
           "counts_from_units", "units_at_threshold", "roc_from_counts", "auc_from_counts",
           "ap_from_counts", "eer_from_counts", "tpr_at_fpr_from_counts", "live_positive_counts",
           "oriented_counts", "counts_at_threshold",
           "acc_from_counts", "balanced_acc_from_counts", "error_rates_from_counts"]


class Ranking(NamedTuple):
    """Scores sorted once: the unique scores (descending) and each sample's group index in them."""

    thresholds: np.ndarray     # (G,) unique scores, descending
    group: np.ndarray          # (n,) index into thresholds of each sample's score


def rank(scores: np.ndarray) -> Ranking:
    """Group the samples by unique score, highest score first (sklearn ``roc_curve``'s order)."""
    s = np.asarray(scores, dtype=float)
    order = np.argsort(s, kind="stable")[::-1]
    ordered = s[order]
    new = np.empty(s.size, dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    group = np.empty(s.size, dtype=np.intp)
    group[order] = np.cumsum(new) - 1
    return Ranking(ordered[new], group)


def _cumulate(per_group: np.ndarray) -> np.ndarray:
    """(..., G) per-group counts -> (..., G + 1) cumulative counts with a leading 0."""
    out = np.zeros(per_group.shape[:-1] + (per_group.shape[-1] + 1,))
    np.cumsum(per_group, axis=-1, out=out[..., 1:])
    return out


def cumulative_counts(ranking: Ranking, labels: np.ndarray, weights: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(tp, fp) cumulative counts of one weighting of the samples (``None`` = all weights one)."""
    y = np.asarray(labels)
    w = np.ones(y.size) if weights is None else np.asarray(weights, dtype=float)
    g = ranking.thresholds.size
    pos = np.bincount(ranking.group, weights=w * (y == 1), minlength=g)
    neg = np.bincount(ranking.group, weights=w * (y == 0), minlength=g)
    return _cumulate(pos), _cumulate(neg)


def unit_group_matrices(ranking: Ranking, labels: np.ndarray, unit: np.ndarray, n_units: int
                        ) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """Sparse (G x U) counts of fake and of real samples of each resampling unit in each group.

    A unit is what the bootstrap draws: one sample (frame-level) or one video (all its frames).
    """
    y = np.asarray(labels)
    shape = (ranking.thresholds.size, int(n_units))
    pos = sparse.coo_matrix(((y == 1).astype(float), (ranking.group, unit)), shape=shape).tocsr()
    neg = sparse.coo_matrix(((y == 0).astype(float), (ranking.group, unit)), shape=shape).tocsr()
    pos.sum_duplicates()
    neg.sum_duplicates()
    return pos, neg


def counts_from_units(pos: sparse.csr_matrix, neg: sparse.csr_matrix, multiplicity: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(tp, fp) of shape (B, G + 1) for B resamples given as unit multiplicities (B, U)."""
    m = np.asarray(multiplicity, dtype=float)
    out = []
    for matrix in (pos, neg):
        counts = np.zeros((m.shape[0], matrix.shape[0] + 1))
        for row in range(m.shape[0]):           # one sparse mat-vec per resample, summed in place
            np.cumsum(matrix @ m[row], out=counts[row, 1:])
        out.append(counts)
    return out[0], out[1]


def units_at_threshold(ranking: Ranking, pos: sparse.csr_matrix, neg: sparse.csr_matrix,
                       threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per unit: fakes predicted fake, reals predicted fake, fakes, reals (``score >= threshold``).

    Multiplicities (B, U) @ each vector give :func:`counts_at_threshold`'s (TP, FP, P, N) of B
    resamples without building their ROC.
    """
    j = _groups_at(ranking, threshold)
    return tuple(np.asarray(m[:stop].sum(axis=0)).ravel()
                 for m, stop in ((pos, j), (neg, j), (pos, None), (neg, None)))


def point_thresholds(ranking: Ranking, tp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Threshold of every ROC point (..., G + 1), as ``binary.roc`` defines it on the drawn data.

    Point 0 gets the next float above the largest score present; a group with weight zero is not
    a point of the drawn data, so its (duplicate) point carries the previous present group's score.
    """
    thr = ranking.thresholds
    present = np.diff(tp + fp, axis=-1) > 0                                   # (..., G)
    idx = np.where(present, np.arange(1, thr.size + 1), 0)
    last = np.maximum.accumulate(idx, axis=-1)
    first = np.argmax(present, axis=-1)                                        # highest present score
    top = np.nextafter(thr[first], np.inf)
    full = np.concatenate([np.zeros(1), thr])
    out = np.where(last > 0, full[last], top[..., None])
    return np.concatenate([top[..., None], out], axis=-1)


def _totals(tp: np.ndarray, fp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return tp[..., -1], fp[..., -1]


def roc_from_counts(tp: np.ndarray, fp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fpr, tpr) of every point; needs both classes (positive totals)."""
    p, n = _totals(tp, fp)
    return fp / n[..., None], tp / p[..., None]


def auc_from_counts(tp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Trapezoidal ROC area, computed on the counts: a tie between a fake and a real counts 1/2."""
    p, n = _totals(tp, fp)
    pairs = np.sum(np.diff(fp, axis=-1) * (tp[..., 1:] + tp[..., :-1]), axis=-1)   # exact integers
    return pairs / (2.0 * p * n)


def ap_from_counts(tp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Average precision: sum over thresholds of (recall gain) x precision (sklearn's estimator)."""
    p, _ = _totals(tp, fp)
    gain = np.diff(tp, axis=-1)
    predicted = tp[..., 1:] + fp[..., 1:]
    precision = np.divide(tp[..., 1:], predicted, out=np.zeros_like(gain), where=predicted > 0)
    return np.sum(gain * precision, axis=-1) / p


def _first(tp: np.ndarray, fp: np.ndarray, test) -> np.ndarray:
    """Per row, the first point index where ``test(tp, fp, P, N)`` holds (K when none does).

    ``test`` must be monotone along the curve (false ... false, true ... true), which holds for
    every test below because counts only grow along it and float division and subtraction round
    monotonically; a binary search then finds exactly what ``argmax`` on the full row would.
    """
    k = tp.shape[-1]
    tp2, fp2 = tp.reshape(-1, k), fp.reshape(-1, k)
    p, n = tp2[:, -1], fp2[:, -1]
    rows = np.arange(tp2.shape[0])
    lo, hi = np.zeros(rows.size, dtype=np.intp), np.full(rows.size, k, dtype=np.intp)
    while True:
        open_ = lo < hi
        if not open_.any():
            return lo.reshape(tp.shape[:-1])
        mid = np.minimum((lo + hi) // 2, k - 1)
        ok = test(tp2[rows, mid], fp2[rows, mid], p, n)
        hi = np.where(open_ & ok, mid, hi)
        lo = np.where(open_ & ~ok, mid + 1, lo)


def eer_from_counts(tp: np.ndarray, fp: np.ndarray, thresholds: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """(rate, threshold) on the linearly interpolated ROC; see :func:`fsfm_bench.metrics.eer`.

    ``g = 1 - FPR - TPR`` falls along the curve; the root lies on the first segment where ``g``
    reaches 0 (found by binary search). ``thresholds`` (from :func:`point_thresholds`) is
    optional: without it only the rate is computed (the bootstrap needs no threshold).
    """
    def g_at(tpj, fpj, p, n):
        return 1.0 - fpj / n - tpj / p

    k = _first(tp, fp, lambda tpj, fpj, p, n: g_at(tpj, fpj, p, n) <= 0.0)[..., None]
    km1 = np.maximum(k - 1, 0)                           # g at the last point is -1: k <= G

    def at(a, i):
        return np.take_along_axis(a, i, axis=-1)[..., 0]

    p, n = _totals(tp, fp)
    gk, gp = g_at(at(tp, k), at(fp, k), p, n), g_at(at(tp, km1), at(fp, km1), p, n)
    exact = (gk == 0.0) | (k[..., 0] == 0)
    w = np.divide(gp, gp - gk, out=np.zeros_like(gk), where=~exact)
    fk, fp_ = at(fp, k) / n, at(fp, km1) / n
    rate = np.where(exact, fk, fp_ + w * (fk - fp_))
    if thresholds is None:
        return rate, None
    tk, tp_ = at(thresholds, k), at(thresholds, km1)
    return rate, np.where(exact, tk, tp_ + w * (tk - tp_))


def live_positive_counts(tp: np.ndarray, fp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cumulative counts of the same curve with real/live as the positive class (score P(real)).

    Walking the score groups in the other direction, the positives found after ``j`` groups are
    the reals of the last ``j`` groups: ``n - fp[G - j]``; the negatives, ``p - tp[G - j]``.
    """
    p, n = _totals(tp, fp)
    return n[..., None] - fp[..., ::-1], p[..., None] - tp[..., ::-1]


def oriented_counts(tp: np.ndarray, fp: np.ndarray, positive: str) -> tuple[np.ndarray, np.ndarray]:
    """``positive="fake"``: the counts as they are; ``"real"``: :func:`live_positive_counts`."""
    if positive == "fake":
        return tp, fp
    if positive == "real":
        return live_positive_counts(tp, fp)
    raise ValueError(f"positive must be 'fake' or 'real', got {positive!r}")


def tpr_at_fpr_from_counts(tp: np.ndarray, fp: np.ndarray, target: float) -> np.ndarray:
    """Largest TPR over ROC points with FPR <= target (point 0 has FPR 0, so one always qualifies).

    FPR and TPR both grow along the curve, so the largest TPR is at the last point within target.
    """
    t = float(target)
    last = _first(tp, fp, lambda tpj, fpj, p, n: fpj / n > t)[..., None] - 1
    p, _ = _totals(tp, fp)
    return np.take_along_axis(tp, last, axis=-1)[..., 0] / p


def _groups_at(ranking: Ranking, threshold: float) -> int:
    """Number of score groups predicted fake at ``threshold``."""
    return int(np.count_nonzero(ranking.thresholds >= float(threshold)))


def counts_at_threshold(ranking: Ranking, tp: np.ndarray, fp: np.ndarray, threshold: float
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(TP, FP, P, N) when ``score >= threshold`` means fake."""
    j = _groups_at(ranking, threshold)
    p, n = _totals(tp, fp)
    return tp[..., j], fp[..., j], p, n


def acc_from_counts(tp_t, fp_t, p, n) -> np.ndarray:
    """Fraction correct: fakes predicted fake plus reals predicted real, over all samples."""
    return (tp_t + (n - fp_t)) / (p + n)


def error_rates_from_counts(tp_t, fp_t, p, n) -> tuple[np.ndarray, np.ndarray]:
    """(FAR, FRR): fakes accepted as real over fakes, reals rejected as fake over reals."""
    return (p - tp_t) / p, fp_t / n


def balanced_acc_from_counts(tp_t, fp_t, p, n) -> np.ndarray:
    """Mean of the real-class and fake-class accuracies (sklearn's balanced accuracy)."""
    return ((n - fp_t) / n + tp_t / p) / 2.0
