"""Step 1 of a run, the plan: everything decided before any fine-tuning, from the composed config.

:func:`make_plan` resolves the protocol variants, prepares their data, resolves and probes the
backbone (the demo's tiny pretraining included: cached), enforces the demo rule, and keys the run
folder on the training config and the initial weights; :func:`plan_variant` writes a variant's
split files and the model config its seeds train. Nothing here fine-tunes, so a plan is testable
alone. Side effects run on rank 0 first (:class:`Ranks`), the other ranks then reuse them.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..errors import FsfmBenchError, UsageError, did_you_mean
from ..io import sha256_file, sha256_json
from ..paths import cache_dir, inside_source_tree, output_root, under
from .data import DataResolver
from .settings import RunSettings
from .spec import POLICIES, Protocol, variants
from .splits import Splits, build_splits

Log = Callable[[str], None]
T = TypeVar("T")


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
    from ..config import config_hash, save_config
    from ..pretrain.run import compose_pretrain, run_pretrain

    spec = protocol.pretrain_if_no_checkpoint or {}
    prepared = resolver.get(spec["dataset"], {}, None)
    overrides = {"data.source": str(prepared.folder), **_dotted(spec.get("overrides") or {})}
    pcfg = compose_pretrain(spec["recipe"], overrides, protocol=protocol.ref)
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
            "normalization_source": _normalization_source(module, bb),
            "arch_kwargs": arch_kwargs, "architecture": architecture,
            "rebuild_kwargs": dict(getattr(module, "rebuild_kwargs", None) or {}),
            "params": int(sum(p.numel() for p in module.parameters())),
            "checkpoint": {"sha256": info.get("sha256"), "path": info.get("path") or (str(ckpt) if ckpt else None),
                           "card": info.get("card")},
            "arch": _named_arch(module, arch_kwargs)}


def _normalization_source(module, bb: dict[str, Any]) -> str:
    """Which source decided the built backbone's mean/std (``fsfm_bench.backbone_spec.SOURCES``): the
    spec-built backbones say it themselves; a plain factory's module decides, unless mean=/std= were given."""
    norm = getattr(module, "normalization", None)
    if norm is not None and getattr(norm, "source", None):
        return str(norm.source)
    return "override" if bb.get("mean") is not None else "module"


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
    used = used_normalization(ft, probe)
    return used["mean"], used["std"]


def used_normalization(ft: dict[str, Any], probe: dict[str, Any]) -> dict[str, Any]:
    """The mean/std the model runs with and their source (the result's ``backbone.normalization``)."""
    how = ft.get("normalize", "backbone")
    if how == "imagenet":
        from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

        return {"mean": list(IMAGENET_DEFAULT_MEAN), "std": list(IMAGENET_DEFAULT_STD), "source": "recipe"}
    if how != "backbone":
        raise UsageError(f"finetune.normalize must be backbone or imagenet, got {how!r}")
    return {"mean": probe["mean"], "std": probe["std"], "source": probe.get("normalization_source", "module")}



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
    if cfg.get("finetune") is not None:     # a fine-tuning run; evaluate-only rebuilds carry no checkpoint to ask
        block["normalization"] = used_normalization(cfg["finetune"], probe)
    return block



# --- the plan -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ranks:
    """This process's place in a torchrun job (rank 0 of 1 without one)."""
    rank: int = 0
    world_size: int = 1

    def barrier(self) -> None:
        if self.world_size > 1:
            import torch.distributed as dist

            dist.barrier()

    def rank0_first(self, fn: Callable[[], T]) -> T:
        """Side effects (preparing, writing) happen on rank 0; the other ranks then reuse them."""
        if self.rank == 0:
            out = fn()
            self.barrier()
        else:
            self.barrier()
            out = fn()
        return out


@dataclass(frozen=True)
class RunPlan:
    """What a run trains and where, decided before anything fine-tunes. ``cfg`` is the raw composed
    config, kept only where it is hashed or saved (``digest``, ``key``, the Runner config)."""
    cfg: dict[str, Any]
    settings: RunSettings
    protocols: tuple[Protocol, ...]
    policies: tuple[str, ...]
    bb: dict[str, Any]                     # the backbone section the model is built from
    probe: dict[str, Any]                  # probe_backbone(bb), its checkpoint block with made_by
    backbone_block: dict[str, Any]         # the result's backbone block
    digest: str                            # config_hash(cfg)
    key: str                               # training_key(cfg, policies, initial weights' sha256)
    root: Path                             # output root relative folders resolve under
    run_dir: Path
    results_dir: Path

    @property
    def backbone_name(self) -> str:
        return self.settings.backbone_type


@dataclass(frozen=True)
class VariantPlan:
    """One protocol variant of a plan: its folder, split files, and the model config its seeds train."""
    protocol: Protocol
    dir: Path
    splits: Splits
    model_cfg: dict[str, Any]
    meta: dict[str, Any]                   # what every fine-tuned checkpoint of the variant records


def tracked_policies(protocol: Protocol, settings: RunSettings) -> list[str]:
    """The selection policies training keeps a checkpoint for: the protocol's, then the recipe's
    ``finetune.track_policies``; ``source_val`` only when the protocol has a validation split."""
    policies = list(dict.fromkeys([protocol.policy, *settings.finetune.track_policies]))
    if protocol.validation is None:          # nothing to compute a source validation loss on
        policies = [p for p in policies if p != "source_val"]
    return policies


def check_single_process_demo(protocol: Protocol, settings: RunSettings, ranks: Ranks) -> None:
    """The demo rule: its tiny pretraining (no checkpoint given) runs in one process, never under torchrun."""
    if ranks.world_size > 1 and not settings.checkpoint and protocol.pretrain_if_no_checkpoint:
        raise FsfmBenchError("the demo's tiny pretraining runs in a single process: run "
                             "`fsfm-bench run protocol=demo backbone=fsfm` once without torchrun (it is cached), "
                             "or pass checkpoint=PATH")


def run_folder(root: Path, settings: RunSettings, protocol: Protocol, key: str) -> Path:
    """``<work_dir>/<id>@<version>/<backbone>/<training key[:12]>``."""
    return under(root, settings.work_dir, "runs") / f"{protocol.id}@{protocol.version}" / \
        settings.backbone_type.replace(":", "_").replace("/", "_") / key[:12]


def make_plan(cfg: dict[str, Any], protocols: list[Protocol], resolver: DataResolver, *,
              ranks: Ranks = Ranks(), log: Log = print, out: str | None = None,
              settings: RunSettings | None = None) -> RunPlan:
    """Prepare every dataset, resolve and probe the backbone, key the run folder (saving the config
    there on rank 0); ``protocols`` are :func:`resolve_protocols`'s, already checked by ``resolver``."""
    from ..config import config_hash, save_config

    settings = settings or RunSettings.from_config(cfg)
    for protocol in protocols:                       # every dataset is ready before anything trains
        ranks.rank0_first(lambda p=protocol: resolver.prepare(p))
    digest = config_hash(cfg)
    policies = tracked_policies(protocols[0], settings)
    check_single_process_demo(protocols[0], settings, ranks)
    row_fields: dict[str, Any] = {}          # demo@2: where the weights came from (variant, made_by)
    bb = ranks.rank0_first(lambda: backbone_config(cfg, protocols[0], resolver, log, row_fields))
    probe_made_by = row_fields.pop("made_by", None)
    probe = probe_backbone(bb)
    if probe_made_by:
        probe["checkpoint"]["made_by"] = probe_made_by
    # the run folder is keyed on the training config AND the weights it starts from: the config
    # alone (checkpoint: null for the demo) would let another initialisation reuse this training
    root = output_root(out)
    if ranks.rank == 0 and out in (None, "") and inside_source_tree():
        log(f"note: the working directory is the fsfm-bench checkout, whose leaderboards/ are committed: "
            f"runs and leaderboards go to {root} instead (out=PATH to choose)")
    key = training_key(cfg, policies, probe["checkpoint"].get("sha256"))
    run_dir = run_folder(root, settings, protocols[0], key)
    if ranks.rank == 0:
        save_config(cfg, run_dir if not (run_dir / "config.yaml").is_file() else run_dir / "evaluations" / digest[:12])
    backbone_block = {**_backbone_block(settings.backbone_type, cfg, probe), **row_fields}
    results_dir = under(root, settings.leaderboard.results_dir, "results")
    return RunPlan(cfg=cfg, settings=settings, protocols=tuple(protocols), policies=tuple(policies), bb=bb,
                   probe=probe, backbone_block=backbone_block, digest=digest, key=key, root=root,
                   run_dir=run_dir, results_dir=results_dir)


def plan_variant(plan: RunPlan, protocol: Protocol, resolver: DataResolver, *, ranks: Ranks = Ranks(),
                 log: Log = print) -> VariantPlan:
    """Write one variant's split files (rank 0 first), guard train/test overlap, build its model config."""
    from .overlap import guard_overlap

    vdir = plan.run_dir / protocol.variant if protocol.variant else plan.run_dir
    oracle = "target_oracle" in plan.policies
    splits = ranks.rank0_first(lambda: build_splits(protocol, resolver, vdir / "data", with_targets_in_val=oracle))
    protocol = guard_overlap(protocol, splits.train_rows, splits.val_rows, splits.targets, plan.cfg)
    for name in splits.skipped:
        log(f"note: optional target {name} skipped (no data configured)")
    mcfg = model_config(plan.cfg, protocol, plan.bb, plan.probe)
    rebuild = {**plan.probe.get("rebuild_kwargs", {}), **plan.probe["arch_kwargs"]}     # a card's arch too
    meta = {"model": {**copy.deepcopy(mcfg), "backbone": {**plan.bb, "checkpoint": None, **rebuild}},
            "img_size": plan.settings.finetune.img_size, "protocol": protocol.ref,
            "config_sha256": plan.digest, "pretrained": plan.probe["checkpoint"],   # eval cites the initial weights
            "normalization": used_normalization(plan.cfg["finetune"], plan.probe)}  # ... and the mean/std's source
    return VariantPlan(protocol=protocol, dir=vdir, splits=splits, model_cfg=mcfg, meta=meta)
