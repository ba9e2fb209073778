"""Random-number state in the training checkpoint, so a resumed run continues the same random stream.

mmengine re-seeds a resumed run with the *start* seed: from epoch k+1 on its augmentations,
random erasing, mixup and drop path would differ from an uninterrupted run with the same seed,
and so would every later checkpoint and the selected one. Three parts make a resumed run draw
exactly the numbers an uninterrupted one draws:

- :class:`RngStateHook` stores Python's, NumPy's and torch's (CPU and CUDA) generator states in
  every checkpoint mmengine writes and restores them on resume. It also makes each validation pass
  RNG-neutral (states captured before it, restored after it): a checkpoint is written before its
  validation, and a resumed run may or may not repeat that validation, so validation must not move
  the training stream (which also means the validation interval never changes what is trained).
- :func:`keep_torch_worker_seeds` replaces mmengine's worker seeding (a constant per worker id, so
  non-persistent workers would repeat one augmentation stream every epoch) with torch's own: each
  loader iterator seeds its workers from a draw of the main process's generator, which the
  checkpoint restores. The training loader's workers are therefore not persistent: an epoch's
  workers start from seeds the resumed run reproduces.
- :class:`~.loops.ExactResumeIterBasedTrainLoop` undoes what mmengine's replay of the data loader
  draws on resume of an iteration-based run.
"""
from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from mmengine.hooks import Hook

from ..registry import HOOKS

KEY = "fsfm_rng_state"


def capture() -> dict[str, Any]:
    """The process's generator states (plain objects and tensors: loadable with weights_only)."""
    state, py = np.random.get_state(), random.getstate()
    out: dict[str, Any] = {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": {"kind": state[0], "keys": torch.from_numpy(state[1].astype(np.int64)), "pos": int(state[2]),
                  "has_gauss": int(state[3]), "cached_gaussian": float(state[4])},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        out["cuda"] = torch.cuda.get_rng_state()     # this process's device only: no context on the others
    return out


def restore(state: dict[str, Any]) -> None:
    """Set the generator states :func:`capture` returned."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def keep_torch_worker_seeds(worker_id: int) -> None:
    """A loader ``worker_init_fn`` that keeps the seeds torch gave the worker.

    torch seeds each worker's ``random``, NumPy and torch generators from the iterator's base seed
    (drawn from the main process's generator) and the worker id; passing this function stops
    mmengine from overwriting them with ``seed + worker_id``.
    """
    del worker_id


@HOOKS.register_module()
class RngStateHook(Hook):
    """Saves the generator states with each checkpoint, restores them on resume, and keeps
    validation passes from moving them."""

    priority = "VERY_HIGH"

    def __init__(self) -> None:
        self._before_val: dict[str, Any] | None = None

    def before_val_epoch(self, runner) -> None:
        self._before_val = capture()

    def after_val_epoch(self, runner, metrics: dict | None = None) -> None:
        if self._before_val is not None:
            restore(self._before_val)
            self._before_val = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[KEY] = capture()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if KEY in checkpoint:
            restore(checkpoint[KEY])
