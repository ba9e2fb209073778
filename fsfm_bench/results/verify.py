"""Checks a result must pass before a leaderboard publishes it: its numbers are its scores' numbers.

A result file is a claim; its per-sample scores file is the evidence. ``leaderboard build`` used to
publish the claim unchecked: an AUC its scores do not give, an AUC of 1.7 shown as "170.00", NaN
shown as a blank cell, a scores file edited after the result was written. :func:`problem` checks,
in order of cost:

1. every metric value (and interval bound) is a finite number in [0, 1];
2. the scores file exists and its sha256 is the one the result recorded;
3. the metrics recomputed from the scores, through the project's one implementation
   (:func:`fsfm_bench.results.compute_metrics`, same metrics, granularities, threshold source and
   targets; no bootstrap), equal the recorded values and counts.

A result that fails is left out of the tables and listed with the reason.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from ..errors import FsfmBenchError

#: recorded vs recomputed metric values: the scores file holds 17 significant digits
TOLERANCE = 1e-9


def _entries(result: dict[str, Any]):
    for target, grans in (result.get("results") or {}).items():
        for gran, block in (grans or {}).items():
            for metric, entry in (block or {}).items():
                yield target, gran, metric, entry


def _bad_number(value: Any) -> bool:
    return isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
        or not 0.0 <= value <= 1.0


def range_problem(result: dict[str, Any]) -> str | None:
    """Why a metric value or interval of ``result`` is not a finite rate in [0, 1]; None when all are."""
    for target, gran, metric, entry in _entries(result):
        where = f"{target}/{gran}/{metric}"
        if _bad_number(entry.get("value")):
            return f"{where} = {entry.get('value')!r} is not a number in [0, 1]"
        ci = entry.get("ci")
        if ci and (_bad_number(ci.get("low")) or _bad_number(ci.get("high")) or ci["low"] > ci["high"]):
            return f"{where} has an invalid interval [{ci.get('low')!r}, {ci.get('high')!r}]"
    return None


def scores_problem(result: dict[str, Any], path: str | os.PathLike) -> str | None:
    """Why ``result``'s scores file does not back its numbers (missing, changed, other values); None when it does."""
    from ..io import sha256_file
    from .compute import compute_metrics
    from .result import scores_path
    from .scores import read_scores

    scores_file = scores_path(result, path)
    if not scores_file.is_file():
        return f"its scores file {scores_file.name} is missing"
    recorded = result.get("scores_sha256")
    if recorded and sha256_file(scores_file) != recorded:
        return f"its scores file {scores_file.name} changed after the result was written (sha256 differs)"
    proto = result["protocol"]
    targets = list(result.get("results") or {})
    try:
        again = compute_metrics(read_scores(scores_file), list(proto["metrics"]),
                                granularities=list(proto["granularities"]),
                                threshold_source=result["threshold_source"], targets=targets, n_resamples=0)
    except FsfmBenchError as exc:
        return f"its scores file {scores_file.name} cannot reproduce it ({exc})"
    for target, gran, metric, entry in _entries(result):
        fresh = ((again.get(target) or {}).get(gran) or {}).get(metric)
        if fresh is None:
            return f"{target}/{gran}/{metric} is not computable from its scores file {scores_file.name}"
        if abs(fresh["value"] - entry["value"]) > TOLERANCE or fresh["n"] != entry.get("n", fresh["n"]):
            return (f"{target}/{gran}/{metric} = {entry['value']:.6g} (n={entry.get('n')}) but its scores "
                    f"file {scores_file.name} gives {fresh['value']:.6g} (n={fresh['n']})")
    return None


def problem(result: dict[str, Any], path: str | os.PathLike) -> str | None:
    """The first reason ``result`` (read from ``path``) must not be published; None when it may be."""
    reason = range_problem(result) or scores_problem(result, Path(path))
    return f"not published: {reason}" if reason else None
