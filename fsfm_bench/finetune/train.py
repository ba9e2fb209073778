"""One fine-tuning run (one protocol variant, one seed) on mmengine's Runner.

The Runner config is assembled here from the resolved fsfm-bench config: the model
(:class:`~.model.FaceClassifier`), the layer-decay optimiser constructor, warm-up + half-cosine
schedule (per iteration; :mod:`.schedule`), ``lr = blr * global batch / 256`` (a fixed global
batch made up by gradient accumulation when ``finetune.global_batch`` is set), AMP
on CUDA, DDP under ``torchrun`` (gloo on CPU), resume from the work dir's last checkpoint, and the
:class:`~.selection.SelectionHook` that keeps one checkpoint per tracked policy (with
:class:`~.rng.RngStateHook` and :class:`~.loops.ExactResumeIterBasedTrainLoop`, so a resumed run
continues the same random stream).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..registry import SCOPE
from ..training.checkpointing import has_checkpoint
from .rng import keep_torch_worker_seeds
from .schedule import batch_plan


def world_size() -> int:
    """Processes of this launch (torchrun's WORLD_SIZE; 1 for a plain run)."""
    return max(1, int(os.environ.get("WORLD_SIZE", "1")))


def launcher() -> str:
    """``pytorch`` under torchrun (WORLD_SIZE > 1), else ``none``."""
    return "pytorch" if int(os.environ.get("WORLD_SIZE", "1")) > 1 else "none"


def _init_cpu_dist(cfg: dict[str, Any]) -> None:
    """mmengine's pytorch launcher assumes CUDA; on CPU use gloo and a device-less DDP (docs/architecture.md, "mmengine without a GPU")."""
    import torch.distributed as dist

    if cfg["launcher"] == "pytorch" and not torch.cuda.is_available():
        if not dist.is_initialized():
            dist.init_process_group(backend="gloo")
        cfg["model_wrapper_cfg"] = dict(type="MMDistributedDataParallel", device_ids=None,
                                        broadcast_buffers=False)


def runner_config(cfg: dict[str, Any], *, model_cfg: dict[str, Any], train_file: str, val_file: str,
                  work_dir: str, seed: int, policies: list[str], oracle_metric: str,
                  oracle_granularity: str, meta: dict[str, Any],
                  selection: dict[str, Any] | None = None) -> dict[str, Any]:
    """The mmengine Runner config for one seed (a plain dict; see the module docstring).

    ``selection`` is the protocol's selection block: its ``oracle_threshold`` (the HTER threshold
    the oracle ranks by) and ``oracle_ties`` (``later``: a tie goes to the later evaluation, as
    the MCIO code's ``<=`` does) reach the validation metric and the selection hook.
    """
    ft = cfg["finetune"]
    selection = dict(selection or {})
    oracle_threshold = selection.get("oracle_threshold") or "target_eer"
    oracle_ties = selection.get("oracle_ties", "earlier")
    size = int(ft["img_size"])
    mean, std = model_cfg["mean"], model_cfg["std"]
    by_epoch = bool(ft.get("by_epoch", True))
    plan = batch_plan(ft, world_size())
    batch, accumulate = plan.per_process, plan.accumulate
    workers = int(ft.get("num_workers", 0))
    train_dataset = dict(type="FrameDataset", rows_file=train_file, size=size, train=True,
                         augment=ft.get("augment") or {}, mean=mean, std=std)
    if ft.get("balanced_sampler"):
        sampler = dict(type="BalancedSourceSampler", batch_size=batch, seed=seed)
    else:
        sampler = dict(type="DefaultSampler" if by_epoch else "InfiniteSampler", shuffle=True, seed=seed)
    # Workers seeded by torch from the (checkpointed) main generator, fresh every epoch: see .rng.
    loader_common = dict(num_workers=workers, persistent_workers=False,
                         worker_init_fn=dict(type=keep_torch_worker_seeds),
                         collate_fn=dict(type="default_collate"), pin_memory=torch.cuda.is_available())
    train_dataloader = dict(batch_size=batch, dataset=train_dataset, sampler=sampler,
                            drop_last=len_rows(train_file) > batch, **loader_common)
    ev = cfg["eval"]
    val_dataloader = dict(batch_size=int(ev["batch_size"]), sampler=dict(type="DefaultSampler", shuffle=False),
                          # the selection pass may transform differently from the test (official: resize + crop)
                          dataset=dict(type="FrameDataset", rows_file=val_file, size=size, train=False,
                                       resize=ev.get("val_resize") or ev.get("resize", "plain"),
                                       interpolation=ev.get("interpolation", "bicubic")),
                          **loader_common)
    cuda = torch.cuda.is_available()
    amp = bool(ft.get("amp")) and cuda
    # the legacy (@1) schedule lets mmengine's auto_scale_lr scale blr; the official one is computed here
    legacy_schedule = ft.get("lr_floor", "absolute") == "absolute" and ft.get("warmup_start") is None \
        and ft.get("global_batch") is None
    optimizer = dict(type=_scoped(ft.get("optimizer", "AdamW")),
                     lr=float(ft["blr"]) if legacy_schedule else plan.lr,
                     weight_decay=float(ft.get("weight_decay", 0.0)), betas=tuple(ft.get("betas", (0.9, 0.999))))
    optim_wrapper = dict(type="AmpOptimWrapper" if amp else "OptimWrapper", optimizer=optimizer,
                         constructor="LayerDecayOptimWrapperConstructor",
                         paramwise_cfg=dict(layer_decay=float(ft.get("layer_decay", 1.0))))
    if accumulate > 1:
        optim_wrapper["accumulative_counts"] = accumulate
    val_interval = int(ft.get("val_interval", 1 if by_epoch else 100))
    if by_epoch:
        epochs = int(ft["epochs"])
        train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=epochs, val_interval=val_interval)
        length, unit = epochs, dict(by_epoch=True, convert_to_iter_based=True)
    else:
        # iterations count loader batches: with accumulation an optimiser step takes `accumulate` of them
        iters, val_interval = int(ft["max_iters"]) * accumulate, val_interval * accumulate
        train_cfg = dict(type="ExactResumeIterBasedTrainLoop", max_iters=iters, val_interval=val_interval)
        length, unit = iters, dict(by_epoch=False)
    warmup = int(ft.get("warmup_epochs") or 0) * (1 if by_epoch else accumulate)
    schedulers = []
    if legacy_schedule:
        if warmup > 0:
            schedulers.append(dict(type="LinearLR", start_factor=1e-3, begin=0, end=warmup, **unit))
        if ft.get("min_lr") is not None:
            schedulers.append(dict(type="CosineAnnealingLR", begin=warmup, end=length, T_max=length - warmup,
                                   eta_min=float(ft["min_lr"]), **unit))
    elif ft.get("min_lr") is not None or warmup > 0:
        min_lr = float(ft["min_lr"]) if ft.get("min_lr") is not None else plan.lr
        schedulers.append(dict(type="WarmupCosineLR", warmup=warmup, total=length, min_lr=min_lr, peak_lr=plan.lr,
                               floor=ft.get("lr_floor", "per_group"),
                               warmup_start=float(ft.get("warmup_start") or 0.0), begin=0, end=length, **unit))
    hooks = dict(checkpoint=dict(type="AtomicCheckpointHook", interval=val_interval,
                                 by_epoch=by_epoch, max_keep_ckpts=1, save_last=True),
                 logger=dict(type="LoggerHook", interval=int(ft.get("log_interval", 50))))
    return dict(
        model=dict(type="FaceClassifier", **{k: v for k, v in model_cfg.items() if k != "type"}),
        work_dir=work_dir,
        train_dataloader=train_dataloader, val_dataloader=val_dataloader,
        val_evaluator=dict(type="SelectionMetric", rows_file=val_file, oracle_granularity=oracle_granularity,
                           oracle_threshold=oracle_threshold),
        train_cfg=train_cfg, val_cfg=dict(type="ValLoop"),
        optim_wrapper=optim_wrapper, param_scheduler=schedulers or None,
        auto_scale_lr=dict(enable=legacy_schedule and bool(ft.get("scale_lr", True)), base_batch_size=256),
        default_hooks=hooks,
        custom_hooks=[dict(type="RngStateHook"),
                      dict(type="SelectionHook", out_dir=str(Path(work_dir).parent / "checkpoints"),
                           policies=policies, oracle_metric=oracle_metric, oracle_ties=oracle_ties, meta=meta),
                      dict(type="ProgressHook", label=f"fine-tuning seed {seed}")],
        # diff_rank_seed: each rank its own augmentation/drop-path stream (seed + rank; rank 0 is the
        # single-process run); the samplers get the run's seed explicitly, so they stay in step.
        randomness=dict(seed=int(seed), diff_rank_seed=True, deterministic=False),
        default_scope=SCOPE, launcher=launcher(), resume=has_checkpoint(work_dir),
        env_cfg=dict(cudnn_benchmark=cuda, mp_cfg=dict(mp_start_method="fork"),
                     dist_cfg=dict(backend="nccl" if cuda else "gloo")),
        log_level=os.environ.get("FSFM_BENCH_LOG_LEVEL", "ERROR"),   # INFO: losses every log_interval
        visualizer=dict(type="mmengine.Visualizer", vis_backends=[dict(type="mmengine.LocalVisBackend")]),
        # mmengine smooths every key containing "loss" over 10 logs; a validation loss is one value
        # per pass (the one selection uses), so log it as is.
        log_processor=dict(custom_cfg=[dict(data_src="selection/source_val/loss", method_name="current")]),
    )


def _scoped(name: str) -> str:
    """torch optimisers live in mmengine's registry: name the scope (no fallback warning)."""
    return name if "." in name else f"mmengine.{name}"


def len_rows(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def train(runner_cfg: dict[str, Any]) -> None:
    """Build the Runner from the config and train (resumes when the work dir has a checkpoint)."""
    import torch.distributed as dist
    from mmengine.config import Config

    from ..training import progress  # noqa: F401  (registers ProgressHook)
    from ..training.checkpointing import SafeRunner, prune_training_checkpoints
    from . import datasets, loops, model, optim, rng, schedule, selection  # noqa: F401  (registrations)

    _init_cpu_dist(runner_cfg)
    kwargs = dict(runner_cfg)
    # Runner(cfg=...) would pretty-print the whole config (yapf) into every checkpoint: seconds
    # per save. The resolved fsfm-bench config is saved beside the run instead; the Runner only
    # gets what it reads from cfg (the DDP wrapper settings).
    wrapper = kwargs.pop("model_wrapper_cfg", None)
    kwargs.pop("launcher_cfg", None)
    runner = SafeRunner(**kwargs, cfg=Config(dict(model_wrapper_cfg=wrapper) if wrapper else dict()))
    runner.train()
    if dist.is_initialized():
        dist.barrier()
    if int(os.environ.get("RANK", "0")) == 0:
        # the selected checkpoints are written (selection.json says finished): the resume state is not needed
        prune_training_checkpoints(kwargs["work_dir"])
