"""Random-number state in the training checkpoint, so a resumed run continues the same random stream.

mmengine re-seeds a resumed run with the *start* seed: from epoch k+1 on its augmentations,
random erasing, mixup and drop path would differ from an uninterrupted run with the same seed,
and so would every later checkpoint and the selected one. This hook stores Python's, NumPy's and
torch's (CPU and CUDA) generator states in every checkpoint mmengine writes and restores them on
resume. Exact for epoch-based loops with in-process data loading or non-persistent workers
(mmengine re-seeds those per epoch). Not exact: persistent workers (their own streams, which a
fresh process cannot restore) and iteration-based loops (mmengine replays the data loader up to
the resumed iteration after the restore, redrawing the augmentations).
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


@HOOKS.register_module()
class RngStateHook(Hook):
    """Saves the generator states with each checkpoint and restores them when the run resumes."""

    priority = "VERY_HIGH"

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[KEY] = capture()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if KEY in checkpoint:
            restore(checkpoint[KEY])
