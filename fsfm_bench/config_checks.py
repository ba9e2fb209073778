"""Value checks on a composed config: a setting that cannot work is a usage error before any work.

``finetune.epochs=0`` or ``-3``, ``batch_size=0``, ``blr=-1``, ``img_size=7`` or a seed numpy
cannot take used to fail late (after preparing data, building the model or pretraining), as
internal errors. :func:`check_values` runs when the config is composed (:func:`fsfm_bench.config.compose`)
and checks every such key the config has; keys it does not have are not required here.
"""
from __future__ import annotations

import math
from typing import Any

from .errors import UsageError

#: numpy's and torch's seeds are unsigned 32-bit
MAX_SEED = 2**32 - 1
#: smaller than the smallest patch any backbone uses (and than a face crop is meaningful)
MIN_IMG_SIZE = 16


def _get(cfg: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = cfg
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _whole(key: str, value: Any, minimum: int, maximum: int | None = None, example: Any = None) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum and \
        (maximum is None or value <= maximum)
    if not ok:
        bound = f" and <= {maximum}" if maximum is not None else ""
        raise UsageError(f"{key}={value!r}: expected a whole number >= {minimum}{bound}"
                         + (f", e.g. {key}={example}" if example is not None else ""))


def _positive(key: str, value: Any) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok:
        raise UsageError(f"{key}={value!r}: expected a positive number (a learning rate), e.g. {key}=1e-3")


#: (dotted key, minimum) of whole-number settings, checked when present and not null
WHOLE = (("finetune.epochs", 1), ("finetune.max_iters", 1), ("finetune.batch_size", 1),
         ("finetune.warmup_epochs", 0), ("finetune.num_workers", 0), ("finetune.val_interval", 1),
         ("eval.batch_size", 1), ("eval.bootstrap", 0), ("eval.num_workers", 0),
         ("schedule.epochs", 1), ("data.batch_size", 1), ("optim.accum_iter", 1))
POSITIVE = ("finetune.blr", "optim.blr", "optim.lr")
IMG_SIZES = ("finetune.img_size", "model.img_size")
SEEDS = ("seed", "seeds", "protocol.seeds")


def check_values(cfg: dict[str, Any]) -> None:
    """Raise one :class:`UsageError` for the first value that cannot work (see the module docstring)."""
    for key, minimum in WHOLE:
        present, value = _get(cfg, key)
        if present and value is not None:
            _whole(key, value, minimum, example=max(minimum, 1))
    for key in POSITIVE:
        present, value = _get(cfg, key)
        if present and value is not None:
            _positive(key, value)
    for key in IMG_SIZES:
        present, value = _get(cfg, key)
        if present and value is not None:
            _whole(key, value, MIN_IMG_SIZE, example=224)
    for key in SEEDS:
        present, value = _get(cfg, key)
        if not present or value is None:
            continue
        for seed in value if isinstance(value, list) else [value]:
            _whole(key, seed, 0, MAX_SEED, example=0)
