"""One pretraining run, start to finish: compose the recipe, resolve the data, train on mmengine's
Runner and export the encoder. ``fsfm-bench pretrain`` and the demo protocol's tiny pretraining
(:mod:`fsfm_bench.protocols.run`) both call :func:`run_pretrain`."""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..errors import FsfmBenchError
from .source import resolve_manifest
from .work_dir import check_work_dir


def compose_pretrain(recipe: str, overrides: dict[str, Any], protocol: str | None = None) -> dict[str, Any]:
    """The pretraining config: recipe ``<recipe>.yaml`` with dotted ``overrides``; beside ``protocol``'s
    file first when given (a protocol plugin may ship its demo's pretraining recipe), else the core's
    ``configs/recipes/``."""
    from ..config import compose

    return compose(recipe=recipe, overrides=overrides, recipe_owner=protocol).to_dict()


def run_pretrain(cfg: dict[str, Any], recipe: str | None, save: Callable[[dict, str], Any] | None = None,
                 digest: Callable[[dict], str] | None = None) -> int:
    """Pretrain on ``cfg`` (a composed recipe, see :func:`compose_pretrain`) and export the encoder.

    Resolves ``data.source`` to one manifest, computes (or reads from cache) the dataset mean/std,
    trains on mmengine's Runner (auto-resume from the work dir; DDP under ``torchrun``) and writes
    the encoder in the FSFM layout with its mean/std file and card under ``<work_dir>/export/``.
    ``save(cfg, work_dir)`` records the config (rank 0, before training); ``digest(cfg)`` names the
    default work dir (default: :func:`fsfm_bench.config.config_hash`). Returns 0.
    """
    import torch

    from .. import plugins
    from ..data.manifest import manifest_hash, read_manifest
    from ..training.distributed import finish_distributed, init_distributed, world
    from .convert import load_official_checkpoint
    from .data import compute_mean_std
    from .export import export_encoder
    from .runner import build_runner
    from .step import NonFiniteLossError

    data = cfg["data"]
    manifest = resolve_manifest(str(data.get("source") or ""), data.get("prepared_root"))
    data["source"] = str(manifest)          # one data, one config hash: DIR, DIR/manifest.jsonl, NAME
    factory = plugins.get("ssl", cfg.get("ssl", "fsfm"))        # unknown names fail before any work
    if isinstance(cfg.get("masking"), dict) and cfg["masking"].get("name"):
        plugins.get("masking", str(cfg["masking"]["name"]))
    data["manifest"] = str(manifest)
    launcher = init_distributed()
    rank, world_size = world()
    try:
        import torch.distributed as dist

        if data.get("mean") and data.get("std"):
            mean, std = data["mean"], data["std"]
        else:
            if rank == 0:
                mean, std = compute_mean_std(manifest, cfg["model"]["img_size"], data.get("cache_dir"),
                                             int(data.get("num_workers", 0)), data.get("split"),
                                             bool(data.get("real_only", True)))
            if world_size > 1:
                dist.barrier()
            if rank != 0:
                mean, std = compute_mean_std(manifest, cfg["model"]["img_size"], data.get("cache_dir"),
                                             0, data.get("split"), bool(data.get("real_only", True)))
        if digest is None:
            from ..config import config_hash as digest
        cfg_hash = digest(cfg)
        work_dir = cfg.get("work_dir") or os.path.join("runs", "pretrain", f"{recipe or 'custom'}-{cfg_hash[:8]}")
        check_work_dir(work_dir, cfg)
        # build the model before writing anything: a bad name or size fails without touching work_dir
        model = factory(model=cfg["model"], loss=cfg.get("loss"), masking=cfg.get("masking"),
                        seed=int(cfg.get("seed", 0)), max_nonfinite=int(cfg.get("max_nonfinite", 5)),
                        id_branch=bool(cfg.get("id_branch", True)))
        official = cfg.get("init_from_official") or {}
        if official.get("online"):
            load_official_checkpoint(model, official["online"], official.get("target"))
        if rank == 0 and save is not None:
            save(cfg, work_dir)
        runner = build_runner(cfg, model, work_dir, mean, std, launcher)
        try:
            runner.train()
        except NonFiniteLossError:
            from ..training.checkpointing import save_atomically, write_pointer

            path = os.path.join(work_dir, "nonfinite_stop.pth")
            save_atomically(runner, path)
            if rank == 0:
                write_pointer(work_dir, path)
            raise
        except torch.OutOfMemoryError as exc:
            bs = int(data["batch_size"])
            accum = int(cfg["optim"].get("accum_iter", 1))
            raise FsfmBenchError(
                f"out of memory at data.batch_size={bs} per device; try data.batch_size={max(bs // 2, 1)} "
                f"optim.accum_iter={accum * 2} (same effective batch), or amp=bf16") from exc
        if rank == 0:
            net = runner.model.module if hasattr(runner.model, "module") else runner.model
            ckpt = export_encoder(net, os.path.join(work_dir, "export"), mean, std,
                                  ssl=str(cfg.get("ssl", "fsfm")), recipe=recipe, config_sha256=cfg_hash,
                                  manifest_sha256=manifest_hash(read_manifest(manifest)),
                                  epochs=int(runner.epoch))
            print(f"encoder checkpoint: {ckpt}")
    finally:
        finish_distributed()
    return 0
