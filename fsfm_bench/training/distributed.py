"""torch.distributed set-up shared by pretraining and fine-tuning: under ``torchrun`` (RANK and
WORLD_SIZE > 1 in the environment) one process group per run, nccl on GPU and gloo on CPU; a plain
``python`` launch stays single-process."""
from __future__ import annotations

import os

import torch
import torch.distributed as dist


def world() -> tuple[int, int]:
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def init_distributed() -> str:
    """Initialise torch.distributed when launched by torchrun; returns the mmengine launcher name."""
    if "RANK" not in os.environ or int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return "none"
    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
            dist.init_process_group(backend="nccl")
        else:
            dist.init_process_group(backend="gloo")
    return "pytorch"


def finish_distributed() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
