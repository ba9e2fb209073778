"""What a metric plugin registers: one :class:`MetricSpec` per metric name, read by everything else.

Results (:mod:`fsfm_bench.results.compute`), the bootstrap's vectorised paths, protocol validation
and the leaderboards look a metric up here by name (:func:`metric_spec`), so a third-party plugin
that registers a spec through ``register_metrics`` is computed, validated and tabled like a built-in
one. The function itself is written once (the built-ins in :mod:`.binary`); the spec only says how
to call it and how to show it.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import FsfmBenchError, UsageError, did_you_mean

__all__ = ["MetricSpec", "metric_spec", "find_metric_spec", "metric_specs", "parse_metric_name",
           "check_metric_names"]


@dataclass(frozen=True)
class MetricSpec:
    """How results call a metric by name, and how tables show it.

    ``fn(labels, scores, **kwargs)`` returns a float (or an ``EER``-like tuple whose first field is
    the value). kwargs are ``fixed``, then ``threshold=`` when ``needs_threshold`` (from the
    protocol's threshold policy), ``video_ids=`` when ``needs_video_ids`` (one id per sample) and
    ``<param>=`` when ``param`` is set (the value after ``@`` in ``name@value``, else ``default``).
    ``fast`` optionally gives the bootstrap a vectorised twin computed from the same counts:
    ``("curve", f(tp, fp, **params))`` or ``("threshold", f(TP, FP, P, N))`` (see
    :mod:`.bootstrap`); without it the bootstrap calls ``fn`` once per resample.
    """

    name: str
    fn: Callable[..., Any]
    higher_is_better: bool
    title: str = ""
    needs_threshold: bool = False      # acc, balanced_acc, hter: threshold from the threshold policy
    needs_video_ids: bool = False      # the metric groups samples by video itself
    param: str | None = None           # tpr_at_fpr: "fpr", written as tpr_at_fpr@0.01
    default: float | None = None
    fixed: tuple[tuple[str, Any], ...] = ()   # keyword arguments this name always passes
    order: int = 100                   # position in leaderboard tables (smaller first)
    fast: tuple[str, Callable[..., Any]] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name or "@" in self.name:
            raise FsfmBenchError(f"MetricSpec name {self.name!r} must be non-empty and without '@'")
        if not callable(self.fn):
            raise FsfmBenchError(f"MetricSpec {self.name!r}: fn must be callable, got {self.fn!r}")
        if self.fast is not None and self.fast[0] not in ("curve", "threshold"):
            raise FsfmBenchError(f"MetricSpec {self.name!r}: fast kind must be 'curve' or 'threshold'")
        # what `fsfm-bench ls metrics` shows: the description, else the function's docstring
        object.__setattr__(self, "__doc__", self.description or inspect.getdoc(self.fn) or self.display)

    def __call__(self, labels, scores, **kwargs: Any) -> Any:
        """The metric itself: ``fn(labels, scores, **fixed, **kwargs)`` (registries hold callables)."""
        return self.fn(labels, scores, **{**self.kwargs, **kwargs})

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.fixed)

    @property
    def display(self) -> str:
        """The table title (the name when the plugin gave none)."""
        return self.title or self.name

    @property
    def arrow(self) -> str:
        return "↑" if self.higher_is_better else "↓"


def find_metric_spec(name: str) -> MetricSpec | None:
    """The spec registered as ``name`` (without ``@param``), or None when no plugin registers it."""
    from .. import plugins

    base = str(name).partition("@")[0]
    try:
        obj = plugins.get("metrics", base)
    except UsageError:
        return None
    if not isinstance(obj, MetricSpec) or obj.name != base:
        entry = plugins.get_entry("metrics", base)
        raise FsfmBenchError(f"plugin {entry.plugin.name!r} registered metric {base!r} as {type(obj).__name__}; "
                             "register a fsfm_bench.metrics.MetricSpec with the same name")
    return obj


def metric_spec(name: str) -> MetricSpec:
    """The spec of ``name`` or one UsageError naming the nearest registered metrics."""
    spec = find_metric_spec(name)
    if spec is None:
        base = str(name).partition("@")[0]
        raise UsageError(f"unknown metric {name!r}." + did_you_mean(base, list(metric_specs()))
                         + " Parametrised metrics take @value, e.g. tpr_at_fpr@0.01; see `fsfm-bench ls metrics`.")
    return spec


def metric_specs() -> dict[str, MetricSpec]:
    """Every registered metric spec by name (imports every plugin)."""
    from .. import plugins

    return {e.name: e.obj for e in plugins.entries("metrics") if isinstance(e.obj, MetricSpec)}


def parse_metric_name(name: str) -> tuple[str, MetricSpec, float | None]:
    """``"tpr_at_fpr@0.01"`` -> ("tpr_at_fpr", spec, 0.01); ``"auc"`` -> ("auc", spec, None)."""
    base, _, arg = str(name).partition("@")
    spec = metric_spec(base) if base else metric_spec(str(name))
    if arg and spec.param is None:
        raise UsageError(f"metric {base!r} takes no parameter (got {name!r})")
    value = None
    if spec.param is not None:
        try:
            value = float(arg) if arg else spec.default
        except ValueError as exc:
            raise UsageError(f"metric {name!r}: {arg!r} is not a number") from exc
    return base, spec, value


def check_metric_names(names, where: str) -> None:
    """Raise one UsageError, prefixed with ``where``, for the first name no plugin can compute."""
    for name in names:
        try:
            parse_metric_name(name)
        except UsageError as exc:
            raise UsageError(f"{where}: {exc}") from None
