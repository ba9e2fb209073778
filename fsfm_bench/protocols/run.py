"""How a protocol run proceeds (``fsfm-bench run`` and ``fsfm-bench eval``).

1. resolve the protocol (variants, and the ``seeds=``/``selection=``/``threshold=`` shortcuts);
2. resolve and prepare every dataset BEFORE anything trains (a missing one is one clear error);
3. backbone: its configured checkpoint; for the demo with none, pretrain a tiny FSFM (cached);
4. per variant and seed: fine-tune on the Runner (resumable), keep one checkpoint per policy;
5. score every target row once with the checkpoint the protocol's policy selects (cached by
   checkpoint, manifest and preprocessing hashes; resumable);
6. metrics (fsfm_bench.results.compute_metrics), the result file with its per-sample scores, and the
   leaderboard rebuilt from every result file.

Run folder: ``<work_dir>/<id>@<version>/<backbone>/<config hash[:12]>/[<variant>/]seed<k>/``; the
same command twice reuses the folder, so a finished run is skipped and an interrupted one resumes.
"""
from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..errors import FsfmBenchError, UsageError, did_you_mean
from ..io import atomic_write_json, sha256_file, sha256_json
from ..paths import inside_source_tree, output_root, under
from .data import DataResolver, cache_dir, holdout_split, write_rows
from .spec import POLICIES, POLICY_LABELS, Protocol, Source, variants

Log = Callable[[str], None]


# --- 1. the protocol ----------------------------------------------------------------------------
def resolve_protocols(cfg: dict[str, Any]) -> list[Protocol]:
    """The protocol section with the run's shortcuts applied, once per variant to run."""
    data = copy.deepcopy(cfg["protocol"])
    if cfg.get("target") is not None:
        data["variant"] = cfg["target"]
    if cfg.get("selection") is not None:
        if cfg["selection"] not in POLICIES:
            raise UsageError(f"selection={cfg['selection']!r}: use one of {', '.join(POLICIES)}."
                             + did_you_mean(str(cfg["selection"]), POLICIES))
        data["selection"]["policy"] = cfg["selection"]
        if cfg["selection"] == "target_oracle" and cfg.get("threshold") is None and \
                data["selection"].get("oracle_threshold"):
            data["threshold"] = data["selection"]["oracle_threshold"]
    if cfg.get("threshold") is not None:
        data["threshold"] = cfg["threshold"]
    if cfg.get("seeds") is not None:
        seeds = cfg["seeds"]
        data["seeds"] = [int(s) for s in (seeds if isinstance(seeds, list) else [seeds])]
    if cfg.get("adapter") is not None:
        data["adapter"] = cfg["adapter"]
    if cfg.get("perturb") is not None:
        from .robustness import requested

        requested(cfg)               # a wrong perturb= is a usage error before any data or training
    return [Protocol.from_dict(v) for v in variants(data)]


# --- 3. the backbone ----------------------------------------------------------------------------
def pretrain_tiny(protocol: Protocol, resolver: DataResolver, cfg: dict[str, Any], log: Log,
                  row: dict[str, Any] | None = None) -> Path:
    """Pretrain the protocol's tiny FSFM on its dataset's real faces once; cached by content.
    ``row`` (if given) receives ``made_by``: what made the encoder, independent of the machine."""
    from ..pretrain.run import compose_pretrain, run_pretrain
    from ..config import config_hash, save_config

    spec = protocol.pretrain_if_no_checkpoint or {}
    prepared = resolver.get(spec["dataset"], {}, None)
    overrides = {"data.source": str(prepared.folder), **_dotted(spec.get("overrides") or {})}
    pcfg = compose_pretrain(spec["recipe"], overrides)
    key = sha256_json({"config": config_hash(pcfg), "manifest": prepared.manifest_sha256})[:16]
    work_dir = cache_dir(cfg) / "pretrain" / f"{spec['recipe']}-{key}"
    pcfg["work_dir"] = str(work_dir)
    pcfg["log_level"] = os.environ.get("FSFM_BENCH_LOG_LEVEL", "ERROR")   # as the fine-tuning Runner
    if row is not None:
        from .demo_backbones import pretraining_identity

        row["made_by"] = pretraining_identity(pcfg, prepared.manifest_sha256)
    from ..pretrain.export import finished_export

    export = work_dir / "export"
    cached = finished_export(export)          # complete only with its card (written last)
    if cached is not None:
        log(f"pretrained encoder (cached): {cached}")
        return cached
    log(f"no checkpoint given: pretraining a tiny FSFM ({spec['recipe']}) on the {spec['dataset']} real faces "
        f"-> {work_dir}")
    run_pretrain(pcfg, spec["recipe"], save=save_config, digest=config_hash)
    cached = finished_export(export)
    if cached is None:
        raise FsfmBenchError(f"pretraining finished but wrote no complete encoder export under {export}")
    return cached


def _dotted(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1} (what config overrides take)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.update(_dotted(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


RANDOM_INIT = "random-init"      # variant of a row whose backbone has released weights it did not load


def backbone_config(cfg: dict[str, Any], protocol: Protocol, resolver: DataResolver, log: Log,
                    row: dict[str, Any] | None = None) -> dict[str, Any]:
    """The backbone section for the model: checkpoint resolved, the recipe's drop path and size.
    ``row`` (if given) receives what the result row must say about the weights (demo@2)."""
    from .demo_backbones import compares_weights, resolve_demo_backbone

    bb = copy.deepcopy(cfg["backbone"])
    ckpt = cfg.get("checkpoint") or bb.get("checkpoint")
    fields: dict[str, Any] = {}
    pretrain = ckpt in (None, "") and protocol.pretrain_if_no_checkpoint and bb.get("type") == "fsfm"
    if protocol.pretrain_if_no_checkpoint and compares_weights(protocol):
        bb, fields, pretrain = resolve_demo_backbone(bb, ckpt, protocol, log)
    if pretrain:
        ckpt = str(pretrain_tiny(protocol, resolver, cfg, log, fields))
        bb.pop("arch", None)            # the card beside the exported encoder says its architecture
    if row is not None:
        row.update(fields)
    bb["checkpoint"] = ckpt
    if ckpt in (None, "") and not fields:
        from ..checkpoints.cards import list_cards

        released = ":" not in str(bb.get("type")) and list_cards(str(bb.get("type")))
        how = "pass checkpoint=default for its released weights, or checkpoint=PATH" if released else \
            "it has no released weights; pass checkpoint=PATH for your own"
        log(f"note: backbone {bb.get('type')} has no checkpoint: fine-tuning from random initialisation ({how})")
    ft = cfg["finetune"]
    bb["drop_path_rate"] = float(ft.get("drop_path", 0.0))
    bb["img_size"] = int(ft["img_size"])
    return bb


def probe_backbone(bb: dict[str, Any]) -> dict[str, Any]:
    """Build the backbone once to learn its mean/std and where its weights came from."""
    from ..finetune.model import build_backbone_from_cfg

    module = build_backbone_from_cfg(bb)
    info = dict(getattr(module, "checkpoint_info", {}) or {})
    ckpt = bb.get("checkpoint")
    if not info.get("sha256") and ckpt and Path(str(ckpt)).is_file():
        info = {"path": str(ckpt), "sha256": sha256_file(ckpt), "card": info.get("card")}
    arch_kwargs: dict[str, Any] = {}
    vit = getattr(module, "vit", None)
    if vit is not None and hasattr(vit, "blocks"):     # what a rebuild without the checkpoint needs
        arch_kwargs = {"embed_dim": int(module.embed_dim), "depth": len(vit.blocks),
                       "num_heads": int(vit.blocks[0].attn.num_heads),
                       "patch_size": int(vit.patch_embed.patch_size[0])}
    # what was really built (a checkpoint card can override the configured arch): results cite this
    architecture = {**arch_kwargs, "patch_size": getattr(module, "patch_size", None),
                    "img_size": getattr(module, "input_size", None)}
    architecture = {k: (int(v) if isinstance(v, (int, float)) else None) for k, v in architecture.items()}
    return {"mean": [float(v) for v in module.mean], "std": [float(v) for v in module.std],
            "arch_kwargs": arch_kwargs, "architecture": architecture,
            "params": int(sum(p.numel() for p in module.parameters())),
            "checkpoint": {"sha256": info.get("sha256"), "path": info.get("path") or (str(ckpt) if ckpt else None),
                           "card": info.get("card")},
            "arch": _named_arch(module, arch_kwargs)}


def _named_arch(module, arch_kwargs: dict[str, Any]) -> str | None:
    """The timm architecture name a result may cite: None when the built model's width, depth or
    heads differ from that name's (the demo's tiny encoder is built from a ViT-B name with other
    sizes; ``architecture`` then carries the real ones)."""
    import timm
    import torch

    name = getattr(getattr(module, "vit", None), "default_cfg", {}).get("architecture")
    if not name or not arch_kwargs:
        return name
    try:
        with torch.device("meta"):             # shapes only: no memory, ~0.2 s even for ViT-L
            ref = timm.create_model(name, pretrained=False)
    except Exception:  # noqa: BLE001 - a name timm cannot build here is cited as the model says it
        return name
    named = {"embed_dim": int(ref.embed_dim), "depth": len(ref.blocks), "num_heads": int(ref.blocks[0].attn.num_heads),
             "patch_size": int(ref.patch_embed.patch_size[0])}
    return name if named == arch_kwargs else None


def model_config(cfg: dict[str, Any], protocol: Protocol, bb: dict[str, Any], probe: dict[str, Any]) -> dict[str, Any]:
    ft = cfg["finetune"]
    adapter = {"type": protocol.adapter, **(cfg.get("adapter_options") or {})}
    mean, std = normalization(ft, probe)
    return {"type": "FaceClassifier", "backbone": bb, "adapter": adapter, "mean": mean,
            "std": std, "mixup": copy.deepcopy(ft.get("mixup")) or None,
            "label_smoothing": float(ft.get("label_smoothing", 0.0))}


def normalization(ft: dict[str, Any], probe: dict[str, Any]) -> tuple[list[float], list[float]]:
    """``finetune.normalize``: the backbone's own mean/std, or ImageNet's (the CVPR DiFF recipe)."""
    how = ft.get("normalize", "backbone")
    if how == "imagenet":
        from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

        return list(IMAGENET_DEFAULT_MEAN), list(IMAGENET_DEFAULT_STD)
    if how != "backbone":
        raise UsageError(f"finetune.normalize must be backbone or imagenet, got {how!r}")
    return probe["mean"], probe["std"]


# --- 4. splits ----------------------------------------------------------------------------------
@dataclass
class Splits:
    train_file: Path
    val_file: Path
    train_rows: list[dict[str, Any]]
    val_rows: list[dict[str, Any]]
    targets: dict[str, list[dict[str, Any]]]
    data_block: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {"frames": len(rows), "videos": len({(r.get("source"), r["video_id"]) for r in rows}),
            "real": sum(1 for r in rows if int(r["label"]) == 0), "fake": sum(1 for r in rows if int(r["label"]) == 1)}


def _block(rows: list[dict[str, Any]], role: str, dataset: str) -> dict[str, Any]:
    from .data import provenance_hash

    return {"role": role, "dataset": dataset, "manifest_hash": provenance_hash(rows), "counts": _counts(rows)}


def target_rows(protocol: Protocol, resolver: DataResolver, block: dict[str, Any]
                ) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Each available target's rows (their provenance added to ``block``) and the skipped optional ones."""
    targets: dict[str, list[dict[str, Any]]] = {}
    skipped = []
    for tgt in protocol.targets:
        if not resolver.available(tgt.dataset):
            skipped.append(tgt.name)
            continue
        rows, _ = resolver.rows_for(tgt)
        targets[tgt.name] = rows
        block[f"test/{tgt.name}"] = _block(rows, "test", tgt.dataset)
    return targets, skipped


def validation_rows(protocol: Protocol, resolver: DataResolver, train_rows: list[dict[str, Any]],
                    block: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(training rows left, validation rows): the protocol's validation split, or a hold-out cut
    from ``train_rows`` (its provenance added to ``block`` as ``val/<dataset or holdout>``)."""
    if protocol.validation is None:             # every source video trains (the MCIO code)
        return train_rows, []
    if isinstance(protocol.validation, Source):
        val_rows, _ = resolver.rows_for(protocol.validation)
        name = protocol.validation.dataset
    else:
        train_rows, val_rows = holdout_split(train_rows, protocol.validation)
        name = "holdout"
    block[f"val/{name}"] = _block(val_rows, "val", name)
    return train_rows, val_rows


def build_splits(protocol: Protocol, resolver: DataResolver, folder: Path, with_targets_in_val: bool) -> Splits:
    """The train/validation split files of one variant, and each target's rows."""
    train_rows: list[dict[str, Any]] = []
    block: dict[str, Any] = {}
    for src in protocol.train:
        rows, _ = resolver.rows_for(src)
        train_rows += rows
        block[f"train/{src.dataset}"] = _block(rows, "train", src.dataset)
    train_rows, val_rows = validation_rows(protocol, resolver, train_rows, block)
    targets, skipped = target_rows(protocol, resolver, block)
    train = [{**r, "domain": "train"} for r in train_rows]
    val = [{**r, "domain": "source_val"} for r in val_rows]
    if with_targets_in_val:
        for name, rows in targets.items():
            val += [{**r, "domain": name} for r in rows]
    folder.mkdir(parents=True, exist_ok=True)
    write_rows(folder / "train.jsonl", train)
    write_rows(folder / "val.jsonl", val)
    return Splits(folder / "train.jsonl", folder / "val.jsonl", train_rows, val_rows, targets, block, skipped)


# --- 5-6. scoring, metrics, result ----------------------------------------------------------------
def _device(cfg: dict[str, Any]) -> str:
    import torch

    want = (cfg.get("eval") or {}).get("device", "auto")
    return ("cuda" if torch.cuda.is_available() else "cpu") if want in (None, "auto") else str(want)


def score_rows(model, meta: dict[str, Any], checkpoint_sha256: str, rows: list[dict[str, Any]],
               cfg: dict[str, Any], perturb=None) -> tuple[Any, int]:
    """(scores array, rows forwarded now) for rows; cached by checkpoint/manifest/preprocessing
    (and the robustness condition ``perturb``, when given)."""
    from ..data.manifest import manifest_hash
    from ..finetune.datasets import preprocessing_spec
    from ..finetune.scoring import cache_key, score_paths

    ev = cfg["eval"]
    size = int(meta.get("img_size") or cfg["finetune"]["img_size"])
    mean, std = model.mean_std
    prep = preprocessing_spec(size, ev.get("resize", "plain"), ev.get("interpolation", "bicubic"), mean, std)
    ident = [{"path": r["path"], "label": int(r["label"]), "video_id": str(r["video_id"])} for r in rows]
    key = cache_key(checkpoint_sha256, manifest_hash(ident), prep)
    root = Path(ev.get("cache_dir") or cache_dir(cfg) / "scores")
    report = score_paths(model, [r["path"] for r in rows], key=key, cache_root=root, size=size,
                         resize=prep["crop"], interpolation=prep["interpolation"],
                         batch_size=int(ev["batch_size"]), num_workers=int(ev.get("num_workers", 0)),
                         device=_device(cfg), chunk_batches=int(ev.get("chunk_batches", 20)),
                         amp=bool(cfg["finetune"].get("amp")), progress=bool(ev.get("progress", True)),
                         perturb=perturb)
    return report.scores, report.scored


def _scores_frame(split: str, target: str, rows: list[dict[str, Any]], scores) -> pd.DataFrame:
    from .data import published_path

    return pd.DataFrame({"split": split, "target": target, "path": [published_path(r) for r in rows],
                         "video_id": [f"{r.get('source', '')}/{r['video_id']}" for r in rows],
                         "label": [int(r["label"]) for r in rows], "score": scores})


@dataclass
class SeedOutcome:
    result_path: Path | None
    results: dict[str, Any]
    forwarded: int
    checkpoint: Path
    total: int = 0          # images the evaluation needed (forwarded now or read from the score cache)


def evaluate_checkpoint(protocol: Protocol, splits: Splits, checkpoint: Path, cfg: dict[str, Any], *,
                        seed: int, backbone_block: dict[str, Any], pretrained: dict[str, Any],
                        config_digest: str, results_dir: Path | None, started: float, log: Log,
                        extra_data: dict[str, Any] | None = None,
                        train_wall_time_s: float | None = None,
                        checkpoint_sha256: str | None = None) -> SeedOutcome:
    """Score the targets (and the source validation rows, which any threshold policy may use later) with one
    fine-tuned checkpoint, compute the metrics and write the result with its scores."""
    from ..finetune.model import load_finetuned
    from ..results import build_result, compute_metrics, write_result

    if not splits.targets:
        raise FsfmBenchError(f"protocol {protocol.ref}: no target has data; nothing to evaluate")
    model, meta = load_finetuned(str(checkpoint))
    # once (the caller may have it): the score cache key and the result cite it
    checkpoint_sha256 = checkpoint_sha256 or sha256_file(checkpoint)
    # every target frame is scored once, even when targets share images (DiFF's real test images)
    unique: dict[str, dict[str, Any]] = {}
    for rows in splits.targets.values():
        for r in rows:
            unique.setdefault(r["path"], r)
    scored, forwarded = score_rows(model, meta, checkpoint_sha256, list(unique.values()), cfg)
    total = len(unique)
    by_path = dict(zip(unique, scored))
    frames = [_scores_frame("test", name, rows, [by_path[r["path"]] for r in rows])
              for name, rows in splits.targets.items()]
    # the source validation rows are scored whenever the run has them (not only for a
    # source_val_eer protocol), so `rescore threshold_source=source_val_eer` works on every result
    if splits.val_rows:
        scores, n = score_rows(model, meta, checkpoint_sha256, splits.val_rows, cfg)
        forwarded += n
        total += len(splits.val_rows)
        frames.append(_scores_frame("val", "source_val", splits.val_rows, scores))
    table = pd.concat(frames, ignore_index=True)
    ev = cfg["eval"]
    boot = {"n_resamples": int(ev.get("bootstrap", 1000)), "confidence": 0.95, "seed": int(seed)}
    results = compute_metrics(table, list(protocol.metrics), granularities=list(protocol.granularity),
                              threshold_source=protocol.threshold, targets=list(splits.targets),
                              n_resamples=boot["n_resamples"], confidence=0.95, seed=int(seed))
    from .robustness import evaluate_robustness

    robust = evaluate_robustness(model, meta, checkpoint_sha256, splits, list(unique.values()),
                                 table[table["split"] == "val"], cfg, protocol=protocol, seed=int(seed),
                                 n_resamples=int(ev.get("robustness_bootstrap") or 0), log=log)
    if robust:
        forwarded += robust[2]
        total += len(unique) * len(robust[0]["conditions"])
    path = None
    if results_dir is not None:
        from ..finetune.datasets import preprocessing_spec

        size = int(meta.get("img_size") or cfg["finetune"]["img_size"])
        prep = preprocessing_spec(size, ev.get("resize", "plain"), ev.get("interpolation", "bicubic"), *model.mean_std)
        proto_block = {"id": protocol.id, "version": protocol.version, "task": protocol.task,
                       "sources": [s.dataset for s in protocol.train], "targets": list(splits.targets),
                       "granularities": list(protocol.granularity), "metrics": list(protocol.metrics)}
        result = build_result(
            protocol=proto_block, backbone=backbone_block, results=results, config=cfg,
            config_hash=config_digest, data={**splits.data_block, **(extra_data or {})},
            selection_policy=protocol.policy, threshold_source=protocol.threshold, seeds={"seed": int(seed)},
            checkpoint_sha256=pretrained.get("sha256"), checkpoint_path=pretrained.get("path"),
            checkpoint_card=pretrained.get("card"), preprocessing=prep, bootstrap=boot,
            wall_time_s=time.time() - started, train_wall_time_s=train_wall_time_s,
            started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            finetuned={"path": str(checkpoint), "sha256": checkpoint_sha256}, label=f"{protocol.id}@{protocol.version} {POLICY_LABELS[protocol.policy]}",
            metrics=list(protocol.metrics), robustness=robust[0] if robust else None)
        if pretrained.get("made_by"):            # demo-pretrained weights: rows key on what made them
            result["checkpoint"]["made_by"] = pretrained["made_by"]
        path = write_result(result, results_dir, scores=table, robustness_scores=robust[1] if robust else None)
    return SeedOutcome(path, results, forwarded, checkpoint, total)


def _scored_note(forwarded: int, total: int) -> str:
    """How much of the evaluation ran now: all, part (resumed or partly cached), or none (cached)."""
    if forwarded >= total:
        return f"{forwarded} images scored now"
    if forwarded == 0:
        return f"all {total} image scores from the score cache"
    return f"{forwarded} of {total} images scored now, the rest from the score cache"


def _fmt_results(results: dict[str, Any]) -> list[str]:
    lines = []
    for target, grans in results.items():
        for gran, block in grans.items():
            cells = []
            for name, entry in block.items():
                value = entry["value"]
                cells.append(f"{name} {value * 100:.2f}" if name != "eer" and name != "hter" else f"{name} {value * 100:.2f}")
            lines.append(f"  {target:<10} {gran:<6} " + "  ".join(cells))
    return lines


# --- the whole run ------------------------------------------------------------------------------
def run(cfg: dict[str, Any], *, log: Log = print, progress: bool = True,
        out: str | None = None) -> list[SeedOutcome]:
    """Execute ``fsfm-bench run`` for a resolved config (see the module docstring); relative output
    folders go under ``out`` (see :func:`fsfm_bench.paths.output_root`)."""
    from ..config import config_hash, save_config
    from ..finetune import train as ft_train
    from ..finetune.selection import choose

    from ..training.distributed import finish_distributed, init_distributed, world

    cfg = copy.deepcopy(cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg))
    started = time.time()
    protocols = resolve_protocols(cfg)
    resolver = DataResolver(cfg, progress=progress)
    notes = resolver.check(protocols)                # before anything: a missing dataset stops here
    init_distributed()                               # torchrun: one process per device
    rank, world_size = world()
    if rank != 0:
        log = _silent
    for note in notes:
        log(f"note: {note}")

    def rank0_first(fn):
        """Side effects (preparing, writing) happen on rank 0; the other ranks then reuse them."""
        if rank == 0:
            out = fn()
            _barrier(world_size)
        else:
            _barrier(world_size)
            out = fn()
        return out

    for protocol in protocols:                       # every dataset is ready before anything trains
        rank0_first(lambda p=protocol: resolver.prepare(p))
    digest = config_hash(cfg)
    bb_name = cfg["backbone"]["type"]
    policies = list(dict.fromkeys([protocols[0].policy, *cfg["finetune"].get("track_policies", [])]))
    if protocols[0].validation is None:          # nothing to compute a source validation loss on
        policies = [p for p in policies if p != "source_val"]
    if world_size > 1 and not (cfg.get("checkpoint") or cfg["backbone"].get("checkpoint")) and \
            protocols[0].pretrain_if_no_checkpoint:
        raise FsfmBenchError("the demo's tiny pretraining runs in a single process: run "
                             "`fsfm-bench run protocol=demo backbone=fsfm` once without torchrun (it is cached), "
                             "or pass checkpoint=PATH")
    row_fields: dict[str, Any] = {}          # demo@2: where the weights came from (variant, made_by)
    bb = rank0_first(lambda: backbone_config(cfg, protocols[0], resolver, log, row_fields))
    probe_made_by = row_fields.pop("made_by", None)
    probe = probe_backbone(bb)
    if probe_made_by:
        probe["checkpoint"]["made_by"] = probe_made_by
    # the run folder is keyed on the training config AND the weights it starts from: the config
    # alone (checkpoint: null for the demo) would let another initialisation reuse this training
    root = output_root(out)
    if rank == 0 and out in (None, "") and inside_source_tree():
        log(f"note: the working directory is the fsfm-bench checkout, whose leaderboards/ are committed: "
            f"runs and leaderboards go to {root} instead (out=PATH to choose)")
    run_dir = under(root, cfg.get("work_dir"), "runs") / f"{protocols[0].id}@{protocols[0].version}" / \
        bb_name.replace(":", "_").replace("/", "_") / \
        training_key(cfg, policies, probe["checkpoint"].get("sha256"))[:12]
    if rank == 0:
        save_config(cfg, run_dir if not (run_dir / "config.yaml").is_file() else run_dir / "evaluations" / digest[:12])
    backbone_block = {**_backbone_block(bb_name, cfg, probe), **row_fields}
    results_dir = under(root, cfg["leaderboard"].get("results_dir"), "results")
    outcomes: list[SeedOutcome] = []
    try:
        for protocol in protocols:
            vdir = run_dir / protocol.variant if protocol.variant else run_dir
            oracle = "target_oracle" in policies
            splits = rank0_first(lambda p=protocol: build_splits(p, resolver, vdir / "data", with_targets_in_val=oracle))
            from .overlap import guard_overlap

            protocol = guard_overlap(protocol, splits.train_rows, splits.val_rows, splits.targets, cfg)
            for name in splits.skipped:
                log(f"note: optional target {name} skipped (no data configured)")
            mcfg = model_config(cfg, protocol, bb, probe)
            meta = {"model": {**copy.deepcopy(mcfg), "backbone": {**bb, "checkpoint": None, **probe["arch_kwargs"]}},
                    "img_size": int(cfg["finetune"]["img_size"]), "protocol": protocol.ref,
                    "config_sha256": digest, "pretrained": probe["checkpoint"]}   # eval cites the initial weights
            for seed in protocol.seeds:
                seed_started = time.time()
                sdir = vdir / f"seed{seed}"
                ckpt_dir = sdir / "checkpoints"
                if not _finished(ckpt_dir, policies):
                    log(f"fine-tuning {bb_name} on {protocol.ref} seed {seed} -> {sdir}")
                    rcfg = ft_train.runner_config(
                        cfg, model_cfg=mcfg, train_file=str(splits.train_file), val_file=str(splits.val_file),
                        work_dir=str(sdir / "train"), seed=seed, policies=policies,
                        oracle_metric=protocol.selection["oracle_metric"],
                        oracle_granularity=protocol.selection["oracle_granularity"], meta=meta,
                        selection=protocol.selection)
                    ft_train.train(rcfg)
                    atomic_write_json(sdir / TRAIN_TIME_FILE, {"train_wall_time_s": time.time() - seed_started})
                else:
                    log(f"fine-tuning {protocol.ref} seed {seed}: already finished ({ckpt_dir})")
                    if rank == 0:            # a kill may have stopped the deletion of its resume state
                        from ..training.checkpointing import prune_training_checkpoints

                        prune_training_checkpoints(sdir / "train")
                if rank != 0:                        # evaluation, results and tables: rank 0
                    _barrier(world_size)
                    continue
                history = _history(ckpt_dir)
                pick = choose(history, protocol.policy, protocol.selection["oracle_metric"],
                              protocol.selection.get("oracle_ties", "earlier"))
                checkpoint = ckpt_dir / f"{protocol.policy}.pth"
                log(f"selected checkpoint ({POLICY_LABELS[protocol.policy]}): {checkpoint.name}"
                    + (f" at epoch {pick['epoch']} / iter {pick['iter']}" if pick else ""))
                outcome = evaluate_checkpoint(protocol, splits, checkpoint, cfg, seed=seed,
                                              backbone_block=backbone_block, pretrained=probe["checkpoint"],
                                              config_digest=digest, results_dir=results_dir,
                                              started=seed_started, log=log,
                                              train_wall_time_s=_train_wall_time(sdir))
                log(f"result: {outcome.result_path}  ({_scored_note(outcome.forwarded, outcome.total)})")
                for line in _fmt_results(outcome.results):
                    log(line)
                outcomes.append(outcome)
                _barrier(world_size)
        if rank == 0 and cfg["leaderboard"].get("rebuild", True):
            rebuild_leaderboard(cfg, log, root)
    finally:
        if world_size > 1:
            finish_distributed()
    log(f"done in {time.time() - started:.1f} s; run folder {run_dir}")
    return outcomes


#: how long the fine-tuning of a seed took, kept beside it so a rerun that reuses it still reports it
TRAIN_TIME_FILE = "train_time.json"


def _train_wall_time(seed_dir: Path) -> float | None:
    path = seed_dir / TRAIN_TIME_FILE
    if not path.is_file():
        return None
    import json

    return float(json.loads(path.read_text(encoding="utf-8"))["train_wall_time_s"])


#: keys that change only how a trained model is evaluated or reported, not what is trained
EVALUATION_ONLY = ("selection", "threshold", "eval", "leaderboard", "perturb")


def training_key(cfg: dict[str, Any], policies: list[str], init_sha256: str | None = None) -> str:
    """What identifies the training of a run: the config without evaluation-only keys, the tracked
    policies and the sha256 of the initial weights. ``selection=last`` after a source_val run reuses
    its training; so does ``selection=target_oracle`` when the recipe tracks it (the FAS recipe does)."""
    data = {k: v for k, v in cfg.items() if k not in EVALUATION_ONLY}
    proto = copy.deepcopy(data.get("protocol", {}))
    proto.pop("threshold", None)
    proto.get("selection", {}).pop("policy", None)
    proto.get("selection", {}).pop("oracle_threshold", None)
    data["protocol"] = proto
    return sha256_json({"config": data, "policies": sorted(policies), "init": init_sha256})


def _silent(_: str) -> None:
    pass


def _barrier(world_size: int) -> None:
    if world_size > 1:
        import torch.distributed as dist

        dist.barrier()


def _backbone_block(name: str, cfg: dict[str, Any], probe: dict[str, Any]) -> dict[str, Any]:
    from ..plugins import get_entry

    if ":" in name:
        block = {"name": name, "plugin": name.split(":")[0], "distribution": "local", "version": "0"}
    else:
        entry = get_entry("backbones", name)
        block = {"name": name, "plugin": entry.plugin.name, "distribution": entry.plugin.distribution,
                 "version": entry.plugin.version}
    block["variant"] = cfg["backbone"].get("variant")
    if ":" not in name and not (probe["checkpoint"].get("sha256") or probe["checkpoint"].get("path")):
        from ..checkpoints.cards import list_cards

        if list_cards(name):      # a backbone with released weights, run without them: say so in the row
            block["variant"] = "+".join(filter(None, [block["variant"], RANDOM_INIT]))
    if probe.get("arch"):
        block["arch"] = probe["arch"]
    block["architecture"] = probe.get("architecture")
    block["params"] = probe.get("params")
    return block


def _finished(ckpt_dir: Path, policies: list[str]) -> bool:
    """Whether a seed's selection is complete; a missing or damaged record is not (the fine-tuning
    then resumes and rebuilds it from its checkpoint, or retrains: never a silent re-selection)."""
    from ..finetune.selection import read_record

    record = read_record(ckpt_dir / "selection.json")
    if record is None or not record.get("finished"):
        return False
    return all((ckpt_dir / f"{p}.pth").is_file() for p in policies)


def _history(ckpt_dir: Path) -> list[dict[str, Any]]:
    from ..finetune.selection import read_record

    record = read_record(ckpt_dir / "selection.json")
    return record["history"] if record else []


def rebuild_leaderboard(cfg: dict[str, Any], log: Log, root: Path = Path()) -> None:
    from ..results.leaderboard import build

    lb = cfg["leaderboard"]
    report = build(str(under(root, lb.get("results_dir"), "results")), str(under(root, lb.get("dir"), "leaderboards")),
                   figures=bool(lb.get("figures", True)))
    for ref, path in report.protocols.items():
        log(f"leaderboard {ref}: {path}/leaderboard.md")
