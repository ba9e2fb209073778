"""``ProgressHook``: iteration progress with an ETA for any mmengine training loop.

Pretraining (:mod:`fsfm_bench.pretrain.runner`) and fine-tuning (:mod:`fsfm_bench.finetune.train`)
both add it, so both show the same bar in a terminal, the same plain lines when piped, and nothing
under ``--quiet`` (see :mod:`fsfm_bench.progress`). Only rank 0 reports; a resumed run starts its
count at the iteration it resumed from.
"""
from __future__ import annotations

from mmengine.dist import get_rank
from mmengine.hooks import Hook

from ..progress import Progress
from ..registry import HOOKS


@HOOKS.register_module()
class ProgressHook(Hook):
    """Shows ``label: iter/max_iters (pct), rate, ETA, epoch e/E`` while the Runner trains."""

    priority = "VERY_LOW"

    def __init__(self, label: str = "training", mode: str | None = None, interval_s: float | None = None) -> None:
        self.label, self.mode, self.interval_s = label, mode, interval_s
        self._progress: Progress | None = None

    def before_train(self, runner) -> None:
        if get_rank() != 0:
            return
        self._progress = Progress(int(runner.max_iters), self.label, "iter", initial=int(runner.iter),
                                  mode=self.mode, interval_s=self.interval_s)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._progress is None:
            return
        max_epochs = getattr(runner.train_loop, "max_epochs", None)
        note = f"epoch {runner.epoch + 1}/{max_epochs}" if max_epochs else None
        self._progress.update(1, note=note)

    def after_train(self, runner) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress = None
