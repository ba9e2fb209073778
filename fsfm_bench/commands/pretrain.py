"""``fsfm-bench pretrain recipe=fsfm data=DATASET_OR_MANIFEST masking=crfr_p model=vit_base [k=v ...]``

Composes the recipe (configs/recipes/<recipe>.yaml) with ``key=value`` overrides, computes (or
reads from cache) the dataset mean/std, trains on mmengine's Runner (auto-resume from the work
dir; ``torchrun --nproc_per_node=N -m fsfm_bench pretrain ...`` for DDP) and exports the encoder
in the FSFM layout with its mean/std file and card under ``<work_dir>/export/``.

Shorthands: ``data=`` -> ``data.source``, ``masking=`` -> ``masking.name``, ``model=`` ->
``model.preset``, ``ssl=`` -> the algorithm (fsfm, mae), ``work_dir=`` -> ``work_dir``.
"""
from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

from ..errors import FsfmBenchError, UsageError

SHORTHANDS = {"data": "data.source", "masking": "masking.name", "model": "model.preset"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("options", nargs="*", help="key=value: recipe=, data=, masking=, model=, "
                                                    "work_dir=, and any dotted recipe key")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or progress lines")


def prepared_variants(name: str, cache: str | os.PathLike | None = None) -> list[Path]:
    """The complete prepared folders of dataset ``name`` in the cache, ``<cache>/prepared/<name>-<hash>``
    (what ``fsfm-bench run`` prepares; see ``fsfm_bench.protocols.data``), sorted by path."""
    folder = _prepared_cache(cache)
    if not folder.is_dir():
        return []
    pattern = re.compile(rf"{re.escape(name)}-[0-9a-f]{{12}}")
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name)
                  and (p / "manifest.jsonl").is_file() and (p / "summary.json").is_file())


def _prepared_cache(cache: str | os.PathLike | None) -> Path:
    from ..protocols.data import prepared_cache

    return prepared_cache({"data": {"cache_dir": str(cache) if cache else None}})


def _variant_line(folder: Path) -> str:
    """``data=FOLDER (N frames, F per video)`` from the folder's summary.json, for an error message."""
    import json

    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        rows = (summary.get("frames") or {}).get("rows")
        per_video = summary.get("frames_per_video")
        detail = f" ({rows} frames, frames per video {per_video})"
    except (OSError, ValueError, AttributeError):
        detail = ""
    return f"data={folder}{detail}"


def resolve_manifest(source: str, prepared_root: str | None = None,
                     cache: str | os.PathLike | None = None) -> Path:
    """A manifest file, a prepared folder holding manifest.jsonl, or a prepared dataset's name,
    resolved to one absolute manifest path (so ``data=DIR`` and ``data=DIR/manifest.jsonl`` are one
    config). A name is looked up in ``<prepared_root>/<name>/``, the user file's ``prepared:``
    entry, then the cache's ``prepared/<name>-<hash>/`` folders (the one there, or an error listing
    them when several are)."""
    if not source:
        raise UsageError("no pretraining data: pass data=PATH/manifest.jsonl or a prepared dataset folder")
    p = Path(source).expanduser()
    if p.is_file():
        return p.resolve()
    if p.is_dir() and (p / "manifest.jsonl").is_file():
        return (p / "manifest.jsonl").resolve()
    looked = [f"{p} (a manifest file)", f"{p}/manifest.jsonl"]
    is_name = not p.is_absolute() and "/" not in source and os.sep not in source and not source.endswith(".jsonl")
    if is_name:
        from ..protocols.data import prepared_override, user_file

        root = Path(prepared_root or "data/prepared").expanduser()
        candidate = root / source / "manifest.jsonl"
        if candidate.is_file():
            return candidate.resolve()
        looked.append(str(candidate))
        user = prepared_override(source, {})
        if user:
            candidate = Path(user).expanduser() / "manifest.jsonl"
            if candidate.is_file():
                return candidate.resolve()
            looked.append(f"{candidate} (prepared.{source} in {user_file()})")
        cache_folder = _prepared_cache(cache)
        variants = prepared_variants(source, cache)
        if len(variants) == 1:
            return (variants[0] / "manifest.jsonl").resolve()
        if len(variants) > 1:
            raise UsageError(
                f"pretraining data {source!r}: {len(variants)} prepared variants in {cache_folder}; pass one of: "
                + "; ".join(_variant_line(v) for v in variants))
        looked.append(f"{cache_folder}/{source}-<hash>/manifest.jsonl (what `fsfm-bench run` prepares)")
    example = (f"`fsfm-bench prepare dataset={source} out=PATH`" if is_name
               else f"`fsfm-bench prepare dataset=NAME out={source}`")
    raise FsfmBenchError(
        f"pretraining data {source!r} not found; looked for: {'; '.join(looked)}. "
        f"Prepare it first, e.g. {example}, then pass data=PATH")


#: keys that may change between an interrupted run and its resumption in the same work_dir
RESUMABLE_CHANGES = ("schedule.epochs", "log_interval", "checkpoint.interval", "checkpoint.max_keep",
                     "data.num_workers", "data.cache_dir", "device", "resume", "work_dir")


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def check_work_dir(work_dir: str | os.PathLike, cfg: dict[str, Any]) -> None:
    """Refuse to resume (or overwrite the config of) a run in ``work_dir`` that used another config.

    mmengine would load the old checkpoint non-strictly into a model of another shape and fail deep
    inside the optimizer, after ``config.yaml`` had already been replaced.
    """
    import yaml

    from ..config import dump_config

    old_file = Path(work_dir) / "config.yaml"
    has_checkpoint = (Path(work_dir) / "last_checkpoint").is_file() or any(Path(work_dir).glob("*.pth"))
    if not old_file.is_file() or not has_checkpoint or not cfg.get("resume", True):
        return
    try:
        old = _flat(yaml.safe_load(old_file.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError):
        return  # unreadable: mmengine's own resume decides
    new = _flat(yaml.safe_load(dump_config(cfg)) or {})
    differ = sorted(k for k in set(old) | set(new)
                    if old.get(k) != new.get(k) and k not in RESUMABLE_CHANGES)
    if differ:
        shown = ", ".join(f"{k} ({old.get(k)!r} -> {new.get(k)!r})" for k in differ[:4])
        raise FsfmBenchError(
            f"work_dir={work_dir} holds a run with a different config ({shown}{', ...' if len(differ) > 4 else ''}); "
            "resuming would mix them. Rerun with that run's settings, pass a new work_dir=PATH, or resume=false "
            "to start over there")


def split_options(options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    recipe = str(options.pop("recipe", "fsfm"))
    out: dict[str, Any] = {}
    for key, value in options.items():
        out[SHORTHANDS.get(key, key)] = value
    return recipe, out


def compose_pretrain(recipe: str, overrides: dict[str, Any]) -> dict[str, Any]:
    from ..config import compose

    return compose(recipe=recipe, overrides=overrides).to_dict()


def main(args: argparse.Namespace) -> int:
    from ..config import config_hash, parse_overrides, save_config

    if getattr(args, "quiet", False):
        from ..progress import set_mode

        set_mode("off")

    recipe, overrides = split_options(parse_overrides(args.options))
    cfg = compose_pretrain(recipe, overrides)
    return run_pretrain(cfg, recipe, save=save_config, digest=config_hash)


def run_pretrain(cfg: dict[str, Any], recipe: str | None, save=None, digest=None) -> int:
    import torch

    from .. import plugins
    from ..data.manifest import manifest_hash, read_manifest
    from ..pretrain.data import compute_mean_std
    from ..pretrain.export import export_encoder
    from ..pretrain.runner import build_runner
    from ..training.distributed import finish_distributed, init_distributed, world
    from ..pretrain.step import NonFiniteLossError
    from ..pretrain.convert import load_official_checkpoint

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
