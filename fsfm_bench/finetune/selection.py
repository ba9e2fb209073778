"""Checkpoint selection: the validation metric and the hook that keeps one checkpoint per policy.

At every validation the Runner scores the validation rows: the source validation rows
(``domain == "source_val"``) always, the target rows too when ``target_oracle`` is tracked. The
metric reports ``source_val/loss`` (cross-entropy, unsmoothed), ``source_val/auc`` and, per target
and on average, ``target/<metric>``. The hook appends every evaluation to ``selection.json`` and
keeps ``<policy>.pth`` for each tracked policy:

- ``source_val``: lowest ``source_val/loss`` (ties: the earlier checkpoint);
- ``last``: the final weights;
- ``target_oracle``: best target metric (AUC highest; HTER/EER lowest), labelled as test-set peeking.
  The HTER is taken at the target's own EER threshold (``oracle_threshold``: ``target_eer``
  interpolated on the ROC, or ``target_eer_grid``, the MCIO code's grid); a tie goes to the earlier
  evaluation, or with ``oracle_ties: later`` to the later one (the MCIO code keeps ``<=``).

The history is replayed on resume, and :func:`choose` re-derives any policy's pick from it. A run
killed during a validation pass (or while its policy files were written) validates that step again
when it resumes, so it selects exactly what an uninterrupted run selects.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook

from ..io import atomic_torch_save, atomic_write_json
from ..registry import HOOKS, RUNNER_METRICS
from .datasets import read_rows


def _higher_is_better(policy_metric: str) -> bool:
    """The source validation loss falls; a target metric's direction is its registered MetricSpec's."""
    if policy_metric == "loss":
        return False
    from ..metrics import metric_spec

    return metric_spec(policy_metric).higher_is_better


def target_metrics(labels: np.ndarray, probs: np.ndarray, video_ids: np.ndarray, granularity: str,
                   threshold: str = "target_eer") -> dict[str, float]:
    """AUC, EER and HTER at the target's own EER threshold (the oracle threshold of MCIO code).

    ``threshold="target_eer_grid"`` takes that threshold as the MCIO code does (:func:`~fsfm_bench.metrics.eer_grid`).
    """
    from .. import metrics as M

    if granularity == "video":
        agg = M.aggregate_videos(video_ids, labels, probs)
        labels, probs = agg.labels, agg.scores
    if len(np.unique(labels)) < 2:
        return {}
    e = M.eer(labels, probs)
    own = M.eer_grid(labels, probs) if threshold == "target_eer_grid" else e
    return {"auc": M.auc(labels, probs), "eer": e.rate, "hter": M.hter(labels, probs, own.threshold)}


@RUNNER_METRICS.register_module()
class SelectionMetric(BaseMetric):
    """Validation metrics for checkpoint selection (see the module docstring)."""

    default_prefix = "selection"

    def __init__(self, rows_file: str, oracle_granularity: str = "frame", collect_device: str = "cpu",
                 prefix: str | None = None, oracle_threshold: str = "target_eer") -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.oracle_threshold = oracle_threshold
        rows = read_rows(rows_file)
        self.domains = np.asarray([r["domain"] for r in rows])
        self.video_ids = np.asarray([str(r["video_id"]) for r in rows])
        self.granularity = oracle_granularity

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        self.results.extend((d["index"], d["prob"], d["label"]) for d in data_samples)

    def compute_metrics(self, results: list) -> dict[str, float]:
        # DDP samplers may pad with repeats: keep one score per index
        by_index = {int(i): (float(p), int(y)) for i, p, y in results}
        idx = np.asarray(sorted(by_index))
        probs = np.asarray([by_index[i][0] for i in idx])
        labels = np.asarray([by_index[i][1] for i in idx])
        domains = self.domains[idx]
        out: dict[str, float] = {}
        src = domains == "source_val"
        if src.any():
            p = np.clip(np.where(labels[src] == 1, probs[src], 1.0 - probs[src]), 1e-7, 1.0)
            out["source_val/loss"] = float(-np.log(p).mean())
            if len(np.unique(labels[src])) == 2:
                from .. import metrics as M

                out["source_val/auc"] = M.auc(labels[src], probs[src])
        per_target: dict[str, dict[str, float]] = {}
        for name in sorted(set(domains.tolist()) - {"source_val"}):
            sel = domains == name
            per_target[name] = target_metrics(labels[sel], probs[sel], self.video_ids[idx][sel], self.granularity,
                                              self.oracle_threshold)
            for key, value in per_target[name].items():
                out[f"target/{name}/{key}"] = value
        for key in ("auc", "eer", "hter"):
            values = [m[key] for m in per_target.values() if key in m]
            if values:
                out[f"target/{key}"] = float(np.mean(values))
        return out


def _better(policy_metric: str, new: float, old: float | None, ties: str = "earlier") -> bool:
    if new is None or (isinstance(new, float) and math.isnan(new)):
        return False
    if old is None or (ties == "later" and new == old):
        return True
    return new > old if _higher_is_better(policy_metric) else new < old


def policy_key(policy: str, oracle_metric: str) -> tuple[str, str] | None:
    """The history key a policy optimises, and the metric name deciding its direction."""
    if policy == "source_val":
        return "source_val/loss", "loss"
    if policy == "target_oracle":
        return f"target/{oracle_metric}", oracle_metric
    return None


def choose(history: list[dict[str, Any]], policy: str, oracle_metric: str = "auc",
           ties: str = "earlier") -> dict[str, Any] | None:
    """The evaluation a policy selects from a history (``last``: the final one).

    ``ties`` applies to ``target_oracle`` only: ``later`` lets an equal value replace the pick.
    """
    if ties not in ("earlier", "later"):
        raise ValueError(f"oracle_ties must be earlier or later, got {ties!r}")
    if not history:
        return None
    if policy == "last":
        return history[-1]
    key, metric = policy_key(policy, oracle_metric)
    best = None
    for entry in history:
        value = entry["metrics"].get(key)
        if value is not None and _better(metric, value, None if best is None else best["metrics"][key],
                                         ties if policy == "target_oracle" else "earlier"):
            best = entry
    return best


#: where a training checkpoint keeps its copy of the selection history
HISTORY_KEY = "fsfm_selection_history"


def read_record(path: Path) -> dict[str, Any] | None:
    """``selection.json`` as written by :class:`SelectionHook`; None when it is missing or damaged
    (not JSON, or without a history list), so that the run recomputes it instead of failing or
    trusting it."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(record, dict) and isinstance(record.get("history"), list) and all(
        isinstance(h, dict) and isinstance(h.get("metrics"), dict) and "iter" in h and "epoch" in h
        for h in record["history"])
    return record if ok else None


@HOOKS.register_module()
class SelectionHook(Hook):
    """Keeps ``<out_dir>/<policy>.pth`` for every tracked policy and ``selection.json`` (history)."""

    priority = "LOW"

    def __init__(self, out_dir: str, policies: Sequence[str], oracle_metric: str = "auc",
                 meta: dict[str, Any] | None = None, oracle_ties: str = "earlier") -> None:
        self.out_dir = Path(out_dir)
        self.policies = list(dict.fromkeys(policies))
        self.oracle_metric, self.oracle_ties = oracle_metric, oracle_ties
        self.meta = json.loads(json.dumps(meta or {}, default=str))   # plain types: weights_only loads
        self.history: list[dict[str, Any]] = []

    @property
    def history_file(self) -> Path:
        return self.out_dir / "selection.json"

    def before_run(self, runner) -> None:
        record = read_record(self.history_file)
        self._recorded = record is not None
        if record is not None:               # resumed run: keep what earlier evaluations found
            self.history = record["history"]

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """A copy of the history in every training checkpoint: a lost or damaged record is rebuilt
        from the checkpoint a run resumes from, never silently restarted from that epoch."""
        checkpoint[HISTORY_KEY] = json.loads(json.dumps(self.history))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(self, "_recorded", True) and isinstance(checkpoint.get(HISTORY_KEY), list):
            self.history = checkpoint[HISTORY_KEY]

    def before_train(self, runner) -> None:
        """Redo the validation of the step a resumed run starts from, so it selects what an uninterrupted run does.

        mmengine saves the epoch's checkpoint *before* validating it and resumes from that
        checkpoint at the next epoch: a run killed during the validation pass of epoch k, or while
        this hook wrote its policy files and record, would never validate epoch k again (its
        record missing, or a policy file holding weights no record names). The resumed weights
        are exactly those of epoch k, so the validation is run again here and replaces any record
        of it, rewriting the policy files it picks. It is redone even when the record is complete:
        the pass draws from the random stream (the loader's seed) that :class:`~.rng.RngStateHook`
        restored to the checkpoint's moment, and the next epochs must draw what they drew.
        """
        if getattr(runner, "_fsfm_validating_only", False) or not self._resumed_step_due(runner):
            return
        it = int(runner.iter)
        self.history = [h for h in self.history if h["iter"] != it]
        runner.val_loop.run()          # -> after_val_epoch: records it and saves the policy files

    @staticmethod
    def _resumed_step_due(runner) -> bool:
        """Whether the train loop was resumed at a step its schedule validates after."""
        from mmengine.runner import IterBasedTrainLoop

        loop = runner.train_loop
        if runner.val_loop is None:
            return False
        by_iter = isinstance(loop, IterBasedTrainLoop)      # it has max_epochs too (always 1)
        done, end = (loop.iter, loop.max_iters) if by_iter else (loop.epoch, loop.max_epochs)
        if done <= 0 or done < loop.val_begin:
            return False
        return done % loop.val_interval == 0 or done == end

    def _save(self, runner, policy: str, entry: dict[str, Any]) -> None:
        from mmengine.model import is_model_wrapper

        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        meta = {**self.meta, "policy": policy, "epoch": entry["epoch"], "iter": entry["iter"],
                "metrics": entry["metrics"]}
        atomic_torch_save({"state_dict": state, "meta": meta}, self.out_dir / f"{policy}.pth")

    def after_val_epoch(self, runner, metrics: dict[str, float] | None = None) -> None:
        from mmengine.dist import is_main_process

        if not runner.train_loop or getattr(runner, "_fsfm_validating_only", False):
            return
        entry = {"epoch": int(runner.epoch), "iter": int(runner.iter),
                 "metrics": {k.removeprefix("selection/"): float(v) for k, v in (metrics or {}).items()}}
        self.history = [h for h in self.history if h["iter"] != entry["iter"]] + [entry]
        if not is_main_process():
            return
        # the policy files first, the record last: the record commits them (see before_train)
        for policy in self.policies:
            if policy == "last":
                continue
            if choose(self.history, policy, self.oracle_metric, self.oracle_ties) is entry:
                self._save(runner, policy, entry)
        self._write(runner)

    def after_train(self, runner) -> None:
        from mmengine.dist import is_main_process

        if not is_main_process():
            return
        last = self.history[-1] if self.history and self.history[-1]["iter"] == runner.iter else \
            {"epoch": int(runner.epoch), "iter": int(runner.iter), "metrics": {}}
        if "last" in self.policies:
            self._save(runner, "last", last)
        self._write(runner, finished=True)

    def _write(self, runner, finished: bool = False) -> None:
        picks = {}
        for policy in self.policies:
            entry = choose(self.history, policy, self.oracle_metric, self.oracle_ties)
            if entry is not None:
                picks[policy] = {"epoch": entry["epoch"], "iter": entry["iter"]}
        atomic_write_json(self.history_file, {"policies": self.policies, "oracle_metric": self.oracle_metric,
                                              "picks": picks, "finished": finished, "history": self.history})
