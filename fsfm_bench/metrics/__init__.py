"""Every metric of fsfm-bench, implemented once (see :mod:`.binary` for the conventions).

    >>> from fsfm_bench import metrics
    >>> metrics.auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    >>> metrics.eer([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).rate
    0.5

Labels: 1 = fake/attack. Scores: P(fake). ``tpr_at_fpr`` counts attacks as positives;
``tpr_at_fpr_live`` is the same function with live as the positive class (the FAS papers' TPR@FPR). The built-in metrics plugin registers these functions in
the METRICS registry; :data:`SPECS` says how the result writer calls each one by name.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError, did_you_mean
from .binary import EER, acc, ap, auc, balanced_acc, check_inputs, eer, eer_grid, error_rates, hter, roc, tpr_at_fpr
from .bootstrap import CI, OWN_EER, OWN_EER_GRID, bootstrap_ci, scalar
from .video import VideoScores, aggregate_videos

__all__ = ["EER", "CI", "OWN_EER", "OWN_EER_GRID", "eer_grid", "VideoScores", "MetricSpec", "SPECS", "auc", "ap", "eer", "acc", "balanced_acc",
           "hter", "error_rates", "tpr_at_fpr", "roc", "aggregate_videos", "bootstrap_ci", "scalar",
           "check_inputs", "parse_metric_name"]


@dataclass(frozen=True)
class MetricSpec:
    """How results call a metric: whether it needs a threshold or a parameter, and its direction."""

    fn: object
    higher_is_better: bool
    needs_threshold: bool = False      # acc, balanced_acc, hter: threshold from the threshold policy
    param: str | None = None           # tpr_at_fpr: "fpr", written as tpr_at_fpr@0.01
    default: float | None = None
    fixed: tuple[tuple[str, str], ...] = ()   # keyword arguments this name always passes

    @property
    def kwargs(self) -> dict[str, str]:
        return dict(self.fixed)


SPECS: dict[str, MetricSpec] = {
    "auc": MetricSpec(auc, True),
    "ap": MetricSpec(ap, True),
    "eer": MetricSpec(eer, False),
    "acc": MetricSpec(acc, True, needs_threshold=True),
    "balanced_acc": MetricSpec(balanced_acc, True, needs_threshold=True),
    "hter": MetricSpec(hter, False, needs_threshold=True),
    "tpr_at_fpr": MetricSpec(tpr_at_fpr, True, param="fpr", default=0.01),
    # the same estimator with live as the positive class (score P(real)): FSFM's and the MCIO papers' TPR@FPR
    "tpr_at_fpr_live": MetricSpec(tpr_at_fpr, True, param="fpr", default=0.01, fixed=(("positive", "real"),)),
}


def parse_metric_name(name: str) -> tuple[str, MetricSpec, float | None]:
    """``"tpr_at_fpr@0.01"`` -> ("tpr_at_fpr", spec, 0.01); ``"auc"`` -> ("auc", spec, None)."""
    base, _, arg = str(name).partition("@")
    spec = SPECS.get(base)
    if spec is None:
        raise UsageError(f"unknown metric {name!r}." + did_you_mean(base, SPECS)
                         + " Parametrised metrics take @value, e.g. tpr_at_fpr@0.01.")
    if arg and spec.param is None:
        raise UsageError(f"metric {base!r} takes no parameter (got {name!r})")
    value = None
    if spec.param is not None:
        try:
            value = float(arg) if arg else spec.default
        except ValueError as exc:
            raise UsageError(f"metric {name!r}: {arg!r} is not a number") from exc
    return base, spec, value
