"""Assembly of a pretraining run on mmengine's Runner from a resolved pretrain config.

Holds the pieces :mod:`fsfm_bench.pretrain.run` and the tests share: the AMP wrapper choice (with
mmengine's CPU quirks handled as docs/architecture.md, "mmengine without a GPU", says), the learning
rate ``blr x effective batch / 256`` and the Runner config. Distributed set-up and the crash-safe
Runner are shared with fine-tuning and live in :mod:`fsfm_bench.training`.
"""
from __future__ import annotations

import os
from typing import Any

import torch

from ..errors import FsfmBenchError
from ..training.checkpointing import has_checkpoint
from ..training.distributed import world


def amp_wrapper(amp: str, device: str) -> dict[str, Any]:
    """``auto``: bf16 on GPUs that have it, else fp16 with a loss scaler; fp32 on CPU.
    ``bf16`` on CPU uses :class:`CpuAmpOptimWrapper`."""
    amp = str(amp).lower()
    if amp in ("fp32", "none", "false", "off"):
        return dict(type="OptimWrapper")
    if device == "cuda":
        if amp == "auto":
            amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        if amp == "bf16":
            return dict(type="AmpOptimWrapper", dtype="bfloat16")
        if amp == "fp16":
            return dict(type="AmpOptimWrapper", dtype="float16", loss_scale="dynamic")
    else:
        if amp == "auto":
            return dict(type="OptimWrapper")
        if amp == "bf16":
            return dict(type="CpuAmpOptimWrapper", dtype="bfloat16")
        if amp == "fp16":
            raise FsfmBenchError("amp=fp16 needs a GPU; use amp=bf16 or amp=fp32 on the CPU")
    raise FsfmBenchError(f"unknown amp={amp!r}; use auto, bf16, fp16 or fp32")


def effective_lr(optim: dict, batch_size: int, world_size: int) -> tuple[float, int]:
    eff = int(batch_size) * int(optim.get("accum_iter", 1)) * int(world_size)
    lr = optim.get("lr")
    return (float(lr) if lr is not None else float(optim["blr"]) * eff / 256.0), eff


def runner_config(cfg: dict, model: torch.nn.Module, work_dir: str, mean, std,
                  launcher: str = "none") -> dict[str, Any]:
    """The keyword arguments of ``mmengine.runner.Runner`` for a pretraining run."""
    _, world_size = world()
    device = "cuda" if torch.cuda.is_available() and cfg.get("device", "auto") != "cpu" else "cpu"
    data, optim, sched = cfg["data"], cfg["optim"], cfg["schedule"]
    lr, eff = effective_lr(optim, data["batch_size"], world_size)
    epochs = sched["epochs"]
    horizon = sched.get("horizon_epochs") or epochs
    accum = int(optim.get("accum_iter", 1))
    wrapper = amp_wrapper(cfg.get("amp", "auto"), device)
    wrapper.update(optimizer=dict(type="AdamW", lr=lr, betas=tuple(optim["betas"]),
                                  eps=float(optim.get("eps", 1e-8)),
                                  weight_decay=float(optim["weight_decay"])),
                   accumulative_counts=accum, constructor="FsfmOptimWrapperConstructor")
    if optim.get("clip_grad"):
        wrapper["clip_grad"] = dict(max_norm=float(optim["clip_grad"]))
    ckpt = cfg.get("checkpoint", {})
    dataset = dict(type="ParsingManifestDataset", manifest=data["manifest"],
                   img_size=cfg["model"]["img_size"], mean=list(mean), std=list(std),
                   split=data.get("split"), real_only=bool(data.get("real_only", True)))
    kwargs = dict(
        model=model,
        work_dir=work_dir,
        train_dataloader=dict(dataset=dataset, batch_size=int(data["batch_size"]),
                              num_workers=int(data.get("num_workers", 0)),
                              persistent_workers=int(data.get("num_workers", 0)) > 0,
                              pin_memory=device == "cuda", drop_last=bool(data.get("drop_last", True)),
                              sampler=dict(type="DefaultSampler", shuffle=True, seed=cfg.get("seed", 0)),
                              collate_fn=dict(type="default_collate")),
        train_cfg=dict(by_epoch=True, max_epochs=int(epochs)),
        optim_wrapper=wrapper,
        custom_hooks=[
            dict(type="WarmupCosineLrHook", warmup_epochs=sched.get("warmup_epochs", 0),
                 horizon_epochs=horizon, min_lr=sched.get("min_lr", 0.0), accum_iter=accum),
            dict(type="EMATargetHook", momentum=cfg.get("ema", {}).get("momentum", 0.996),
                 horizon_epochs=horizon),
            dict(type="ProgressHook", label=f"pretraining {cfg.get('ssl', 'fsfm')}"),
        ],
        default_hooks=dict(
            checkpoint=dict(type="AtomicCheckpointHook", interval=int(ckpt.get("interval", 1)),
                            by_epoch=True, max_keep_ckpts=int(ckpt.get("max_keep", 2)),
                            save_last=True),
            logger=dict(type="LoggerHook", interval=int(cfg.get("log_interval", 10))),
        ),
        randomness=dict(seed=int(cfg.get("seed", 0)), diff_rank_seed=True),
        # INFO (losses, mmengine's environment dump) for `fsfm-bench pretrain`; a pretraining run
        # nested in `run` (the demo) sets ERROR unless FSFM_BENCH_LOG_LEVEL says otherwise.
        log_level=cfg.get("log_level") or "INFO",
        default_scope="fsfm_bench",
        launcher=launcher,
        resume=bool(cfg.get("resume", True)) and has_checkpoint(work_dir),
        env_cfg=dict(cudnn_benchmark=device == "cuda", dist_cfg=dict(backend="nccl" if device == "cuda" else "gloo")),
        cfg=dict(model_wrapper_cfg=dict(type="fsfm_bench.FsfmDistributedDataParallel",
                                        device_ids=None if device == "cpu" else [int(os.environ.get("LOCAL_RANK", 0))],
                                        broadcast_buffers=False, find_unused_parameters=False)),
    )
    kwargs["_meta"] = dict(lr=lr, effective_batch=eff, device=device)
    return kwargs


def build_runner(cfg: dict, model: torch.nn.Module, work_dir: str, mean, std, launcher: str = "none"):
    """A Runner (import the pretraining modules first so their registrations exist)."""
    from ..training import progress  # noqa: F401  (import for its registration)
    from ..training.checkpointing import SafeRunner
    from . import data, hooks, optim  # noqa: F401  (import for their registrations)

    del data, hooks, optim, progress

    kwargs = runner_config(cfg, model, work_dir, mean, std, launcher)
    kwargs.pop("_meta")
    return SafeRunner(**kwargs)
