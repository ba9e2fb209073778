"""Seeded bootstrap confidence intervals for any metric of (labels, scores).

Why resample videos: frames of one video are strongly correlated, so a frame-level bootstrap
understates the uncertainty. When video ids are given, whole videos are drawn with replacement
(a cluster bootstrap) and the metric is computed on all frames of the drawn videos. Resampling is
stratified by class (reals and fakes are drawn separately, keeping their counts), so no resample
ever has one class only and class imbalance is preserved. The interval is the percentile interval.

Speed: for the built-in metrics (auc, ap, eer, tpr_at_fpr, acc, balanced_acc, hter) a resample is
not materialised; its unit multiplicities weight counts on the ROC sorted once (:mod:`.curve`, the
same code the plain metrics run), vectorised over batches of resamples. The draws are the same RNG
calls as the per-resample loop, so both give the same values up to float round-off. Any other
metric (or video ids whose frames disagree on the label) runs the loop.

Thresholds: a thresholded metric (acc, balanced_acc, hter) gets either a number, held fixed in
every resample (right when it comes from other data: 0.5, or the source validation set's EER), or
``threshold=OWN_EER``: the EER threshold of the data itself, re-estimated in every resample. A
threshold tuned on the very data being scored is a statistic of that data; holding it at the full
data's value would leave its own sampling error out and give too narrow an interval.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..errors import FsfmBenchError
from . import curve as C
from .binary import check_inputs

__all__ = ["CI", "OWN_EER", "OWN_EER_GRID", "bootstrap_ci", "scalar"]

OWN_EER = "own_eer"    # threshold=OWN_EER: the data's own EER threshold, re-estimated per resample
OWN_EER_GRID = "own_eer_grid"   # the same with the MCIO code's grid estimator (binary.eer_grid)


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
                 pass_video_ids: bool = False, **metric_kwargs: Any) -> CI:
    """Percentile bootstrap CI of ``metric(labels, scores, **metric_kwargs)``.

    Args:
        metric: a function of (labels, scores) returning a float or an ``EER``.
        video_ids: optional per-sample group ids; when given, whole videos are resampled.
        n_resamples: number of bootstrap resamples (1000 by default).
        confidence: two-sided coverage, e.g. 0.95 -> 2.5th and 97.5th percentiles.
        seed: seeds ``numpy.random.default_rng``; the same seed gives the same interval.
        pass_video_ids: call ``metric(..., video_ids=...)`` with the (drawn) samples' video ids, for
            a metric whose MetricSpec says ``needs_video_ids`` (always the per-resample loop).
        metric_kwargs: passed to ``metric``; ``threshold=OWN_EER`` re-estimates the threshold as
            the EER threshold of the full data (estimate) and of every resample (interval).
    """
    y, s = check_inputs(labels, scores, what="bootstrap_ci")
    if int(n_resamples) < 1:
        raise FsfmBenchError(f"bootstrap_ci: n_resamples must be >= 1, got {n_resamples}")
    if not 0.0 < float(confidence) < 1.0:
        raise FsfmBenchError(f"bootstrap_ci: confidence must be in (0, 1), got {confidence}")
    own_eer = metric_kwargs.get("threshold") in (OWN_EER, OWN_EER_GRID)
    if own_eer:
        metric = _at_own_eer(metric, grid=metric_kwargs["threshold"] == OWN_EER_GRID)
        metric_kwargs = {k: v for k, v in metric_kwargs.items() if k != "threshold"}
    sample_ids = None
    if pass_video_ids:
        if video_ids is None:
            raise FsfmBenchError("bootstrap_ci: pass_video_ids=True needs video_ids")
        sample_ids = np.asarray(video_ids)
    estimate = scalar(metric(y, s, **metric_kwargs, **({} if sample_ids is None else {"video_ids": sample_ids})))
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
    fast = None if sample_ids is not None else _fast_metric(metric, metric_kwargs)
    consistent = unit == "sample" or np.array_equal(video_label[inverse], y)
    if fast is not None and consistent:
        unit_of = inverse if unit == "video" else np.arange(y.size)
        values = _fast_values(fast, y, s, unit_of, strata, rng, int(n_resamples))
    else:
        values = np.empty(int(n_resamples))
        for i in range(int(n_resamples)):
            picked = _draw(rng, strata)
            if unit == "video":
                counts = sizes[picked]
                offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
                idx = members[np.repeat(starts[picked], counts) + offsets]
            else:
                idx = picked
            try:
                extra = {} if sample_ids is None else {"video_ids": sample_ids[idx]}
                values[i] = scalar(metric(y[idx], s[idx], **metric_kwargs, **extra))
            except FsfmBenchError:
                values[i] = np.nan        # e.g. all drawn fake videos had no frames of one class
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise FsfmBenchError("bootstrap_ci: the metric failed on every resample")
    alpha = (1.0 - float(confidence)) / 2.0
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return CI(estimate, float(low), float(high), int(n_resamples), float(confidence), unit)


class _AtOwnEer:
    """``metric(labels, scores, threshold=<their EER threshold>)``: a threshold tuned on the data."""

    def __init__(self, metric: Callable[..., Any], grid: bool = False) -> None:
        self.metric, self.grid = metric, bool(grid)

    def __call__(self, labels, scores, **kwargs: Any) -> Any:
        from .binary import eer, eer_grid

        own = (eer_grid if self.grid else eer)(labels, scores)
        return self.metric(labels, scores, threshold=own.threshold, **kwargs)


def _at_own_eer(metric: Callable[..., Any], grid: bool = False) -> _AtOwnEer:
    try:
        accepts = "threshold" in inspect.signature(metric).parameters
    except (TypeError, ValueError):
        accepts = True
    if not accepts:
        raise FsfmBenchError(f"bootstrap_ci: threshold={OWN_EER!r} given, but "
                             f"{getattr(metric, '__name__', metric)!r} takes no threshold")
    return _AtOwnEer(metric, grid)


def _draw(rng: np.random.Generator, strata: list[np.ndarray]) -> np.ndarray:
    """One stratified resample of unit indices (the RNG calls both paths make, in this order)."""
    return np.concatenate([rng.choice(st, size=st.size, replace=True) for st in strata])


# Metrics with a vectorised weighted path: the ``fast`` field of their registered MetricSpec
# (see :mod:`.spec`). "curve" metrics take the resamples' cumulative counts (tp, fp: (B, G + 1));
# "threshold" metrics take (TP, FP, P, N) at their threshold, (B,) each.
def _fast_table() -> dict[Callable[..., Any], tuple[str, Callable[..., np.ndarray]]]:
    from .spec import metric_specs

    table: dict[Callable[..., Any], tuple[str, Callable[..., np.ndarray]]] = {}
    for spec in metric_specs().values():
        if spec.fast is not None and not spec.needs_video_ids:
            table.setdefault(spec.fn, spec.fast)
    return table


class _Fast(NamedTuple):
    kind: str                                    # "curve", "threshold" or "own_eer" (threshold kind)
    fn: Callable[..., np.ndarray]
    threshold: float | None


def _fast_metric(metric: Callable[..., Any], kwargs: dict[str, Any]) -> _Fast | None:
    """The metric's weighted implementation with its arguments bound, or None (use the loop)."""
    own_eer = isinstance(metric, _AtOwnEer)
    entry = _fast_table().get(metric.metric if own_eer else metric)
    if entry is None or (own_eer and (entry[0] != "threshold" or kwargs or metric.grid)):
        return None
    kind, fn = entry
    if own_eer:
        return _Fast("own_eer", fn, None)
    try:
        bound = inspect.signature(metric).bind(None, None, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    extra = {k: v if isinstance(v, str) else float(v) for k, v in list(bound.arguments.items())[2:]}
    if kind == "threshold":
        return _Fast(kind, fn, extra["threshold"])
    return _Fast(kind, lambda tp, fp: fn(tp, fp, **extra), None)


def _fast_values(fast: _Fast, y: np.ndarray, s: np.ndarray, unit_of: np.ndarray,
                 strata: list[np.ndarray], rng: np.random.Generator, n_resamples: int,
                 max_cells: int = 300_000) -> np.ndarray:
    """Metric values of every resample from weighted counts on the ROC sorted once.

    Each resample is drawn exactly as the loop draws it, turned into unit multiplicities, and
    batched so that a batch's (resamples x score groups) arrays hold about ``max_cells`` numbers.
    """
    ranking = C.rank(s)
    n_units = int(unit_of.max()) + 1
    pos, neg = C.unit_group_matrices(ranking, y, unit_of, n_units)
    if fast.kind == "threshold":
        per_unit = np.stack(C.units_at_threshold(ranking, pos, neg, fast.threshold), axis=1)
        cells = 4
    else:
        cells = ranking.thresholds.size + 1
    batch = max(1, min(n_resamples, max_cells // cells))
    ascending = ranking.thresholds[::-1]
    values = np.empty(n_resamples)
    for lo in range(0, n_resamples, batch):
        hi = min(n_resamples, lo + batch)
        mult = np.empty((hi - lo, n_units))
        for row in range(hi - lo):
            mult[row] = np.bincount(_draw(rng, strata), minlength=n_units)
        if fast.kind == "threshold":
            values[lo:hi] = fast.fn(*(mult @ per_unit).T)        # integer sums: exact
        elif fast.kind == "own_eer":
            tp, fp = C.counts_from_units(pos, neg, mult)
            _, threshold = C.eer_from_counts(tp, fp, C.point_thresholds(ranking, tp, fp))
            # groups predicted fake (score >= threshold), as counts_at_threshold counts them
            j = ascending.size - np.searchsorted(ascending, threshold, side="left")
            rows = np.arange(hi - lo)
            values[lo:hi] = fast.fn(tp[rows, j], fp[rows, j], tp[:, -1], fp[:, -1])
        else:
            values[lo:hi] = fast.fn(*C.counts_from_units(pos, neg, mult))
    return values
