"""One training step with the spec's non-finite-loss rule (docs/method.md, "Non-finite losses").

A batch whose loss is not finite is skipped (no backward, gradients zeroed) and logged; the
decision is all-reduced so that every DDP rank skips together (a rank that skipped alone would
hang the others in the gradient all-reduce). After ``max_consecutive`` skipped batches the step
raises :class:`NonFiniteLossError`; the pretrain command then saves a resumable checkpoint.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.distributed as dist

from ..errors import FsfmBenchError


class NonFiniteLossError(FsfmBenchError):
    """Too many consecutive non-finite losses."""


def _all_finite(value: torch.Tensor) -> bool:
    flag = torch.isfinite(value.detach()).all().to(torch.float32).reshape(1)
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag.item() > 0)


def guarded_train_step(runner_model: Any, module: Any, data: Any, optim_wrapper) -> dict[str, torch.Tensor]:
    """``runner_model`` is the module or its DDP wrapper; ``module`` the FSFMPretrainer."""
    with optim_wrapper.optim_context(runner_model):
        data = module.data_preprocessor(data, True)
        losses = runner_model._run_forward(data, mode="loss")
        parsed, log_vars = module.parse_losses(losses)
    module.num_micro_batches += 1
    if _all_finite(parsed):
        optim_wrapper.update_params(parsed)
        module._nan_streak = 0
        return {k: v.detach() if torch.is_tensor(v) else v for k, v in log_vars.items()}
    module._nan_streak = getattr(module, "_nan_streak", 0) + 1
    module._nan_total = getattr(module, "_nan_total", 0) + 1
    optim_wrapper.zero_grad()
    from mmengine.logging import MMLogger

    MMLogger.get_current_instance().warning(
        f"non-finite loss ({ {k: float(torch.as_tensor(v).detach()) for k, v in log_vars.items()} }): batch skipped, gradients "
        f"zeroed ({module._nan_streak} in a row, {module._nan_total} in total)")
    limit = getattr(module, "max_nonfinite", 5)
    if module._nan_streak >= limit:
        raise NonFiniteLossError(
            f"{module._nan_streak} consecutive batches gave a non-finite loss; training stopped. "
            "A resumable checkpoint was saved: lower optim.blr, use amp=fp32 or check the data, "
            "then rerun the same command to resume")
    return {k: torch.tensor(math.nan) for k in log_vars}
