"""Shared build path of every backbone plugin: resolve the checkpoint, build the timm model, convert
and strictly load the weights, and settle the input normalisation.

Mean/std precedence (each result records the source): an explicit ``mean=``/``std=`` (``override``)
> ``pretrain_ds_mean_std.txt`` beside the checkpoint (``checkpoint-file``) > a card beside the
checkpoint, then the catalogue card (``card``) > the backbone's spec for that arch (``spec``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from fsfm_bench.backbone_spec import BackboneSpec, Normalization
from fsfm_bench.checkpoints import (
    Card,
    card_beside,
    get_card,
    load_checked,
    load_file,
    mean_std_beside,
    read_mean_std_file,
    resolve,
)
from fsfm_bench.checkpoints.cards import ARCHITECTURE_KEYS, MEAN_STD_FILE, default_card, is_card_name
from fsfm_bench.checkpoints.keys import LoadReport
from fsfm_bench.checkpoints.sources import is_remote, sibling
from fsfm_bench.errors import FsfmBenchError, UsageError

from .base import CNNBackbone, ViTBackbone
from .layouts import CONVERTERS

log = logging.getLogger(__name__)


@dataclass
class Resolved:
    """A checkpoint argument made concrete: local file, what it was called, and its card(s)."""

    path: Path
    source: str
    card: Card | None = None          # catalogue card, when named by card
    beside: Card | None = None        # card written next to the file (fsfm-bench pretraining)
    sha256: str | None = None         # of the file actually loaded (results cite it)

    @property
    def any_card(self) -> Card | None:
        return self.beside or self.card


def resolve_checkpoint(backbone: str, checkpoint: Any) -> Resolved | None:
    """``None``/"none" -> no weights; a card name or "default" -> its source; else a path/URI."""
    if checkpoint is None or checkpoint is False or str(checkpoint).strip().lower() in ("", "none", "null"):
        return None
    text = str(checkpoint)
    card = None
    if text == "default":
        card = default_card(backbone)
    elif not is_remote(text) and not Path(text).expanduser().exists() and is_card_name(text):
        card = get_card(text)
    if card is not None:
        if card.backbone != backbone:
            raise UsageError(f"checkpoint card {card.name!r} is for backbone {card.backbone!r}, not {backbone!r}; "
                             f"use backbone={card.backbone}")
        if not card.source:
            raise FsfmBenchError(f"checkpoint {card.name!r} has no direct download: {card.download or card.homepage}. "
                                 "Fetch it by hand, then pass checkpoint=<local path>.")
        if card.source.startswith("https://") and not card.sha256:
            raise FsfmBenchError(
                f"checkpoint {card.name!r} comes from {card.source}, but no sha256 is recorded for it, so "
                f"fsfm-bench will not download it unchecked; download it yourself (curl -L -o {card.file} "
                f"'{card.source}'), check it, and pass checkpoint=<local path>.")
        path = resolve(card.source, card.sha256, what=f"checkpoint {card.name}")
        return _with_hash(Resolved(path, card.name, card, card_beside(path)))
    path = resolve(text)
    return _with_hash(Resolved(path, text, None, card_beside(path)))


def _with_hash(resolved: Resolved) -> Resolved:
    """Hash the file once; it must match every card that records a sha256 for it."""
    from fsfm_bench.io import sha256_file

    resolved.sha256 = sha256_file(resolved.path)
    for card in (resolved.card, resolved.beside):
        if card is not None and card.sha256 and card.sha256.lower() != resolved.sha256:
            raise FsfmBenchError(f"checkpoint {resolved.path} has sha256 {resolved.sha256}, but its card "
                                 f"({card.origin}) records {card.sha256}: the file is corrupt, truncated or "
                                 "not the one the card describes; download/export it again")
    return resolved


def resolve_mean_std(resolved: Resolved | None, mean: Any, std: Any, spec: BackboneSpec,
                     arch: str | None) -> Normalization:
    """Settle mean/std by the documented precedence (see module docstring), saying which source won."""
    if (mean is None) != (std is None):
        raise UsageError("give both mean= and std= (3 numbers each), or neither")
    if mean is not None:
        m, s = tuple(float(v) for v in mean), tuple(float(v) for v in std)
        if len(m) != 3 or len(s) != 3 or min(s) <= 0:
            raise UsageError(f"mean/std must be 3 numbers each with std > 0, got mean={mean} std={std}")
        return Normalization(m, s, "override")
    if resolved is not None:
        found = mean_std_beside(resolved.path)
        if found is None and resolved.card is not None and resolved.card.mean_std_file:
            remote = sibling(resolved.card.source, resolved.card.mean_std_file)
            if remote and remote.startswith("hf://"):
                try:
                    found = read_mean_std_file(resolve(remote, what="mean/std file"))
                except FsfmBenchError as exc:
                    log.warning("%s", exc)
        if found is not None:
            return Normalization(*found, "checkpoint-file")
        for card in (resolved.beside, resolved.card):
            if card is not None and card.mean_std:
                return Normalization(*card.mean_std, "card")
    default = spec.normalization(arch)
    if default is None or (resolved is not None and spec.checkpoint_stats_required):
        raise FsfmBenchError(
            f"{spec.name} checkpoint {resolved.source if resolved else ''} needs the mean/std of its pretraining "
            f"data: put its {MEAN_STD_FILE} beside it (one JSON line {{\"mean\": [...], \"std\": [...]}}), "
            "or pass mean=[r,g,b] std=[r,g,b]")
    return Normalization(*default, "spec")


def _resample_pos_embed(sd: dict[str, Any], vit: Any, report: LoadReport) -> None:
    pos = sd.get("pos_embed")
    target = getattr(vit, "pos_embed", None)
    if pos is None or target is None or pos.ndim != 3 or pos.shape == target.shape or pos.shape[-1] != target.shape[-1]:
        return
    from timm.layers import resample_abs_pos_embed

    prefix = 0 if getattr(vit, "no_embed_class", False) else vit.num_prefix_tokens
    old = pos.shape[1] - prefix
    side = int(round(old ** 0.5))
    if side * side != old:
        return  # not a square grid: let the strict check report the shape mismatch
    sd["pos_embed"] = resample_abs_pos_embed(pos, new_size=list(vit.patch_embed.grid_size), old_size=[side, side],
                                             num_prefix_tokens=prefix, interpolation="bicubic", antialias=False)
    report.note(f"position embedding resampled (bicubic) from a {side}x{side} to a "
                f"{vit.patch_embed.grid_size[0]}x{vit.patch_embed.grid_size[1]} patch grid")


def load_weights(model: torch.nn.Module, resolved: Resolved, layout: str, trust: bool, what: str) -> LoadReport:
    """Open ``resolved`` safely, convert ``layout`` to timm names and load strictly into ``model``."""
    obj = load_file(resolved.path, trust=trust)
    converted = CONVERTERS[layout](obj, model, str(resolved.path))
    report = LoadReport(str(resolved.path))
    for note in converted.notes:
        report.note(note)
    drops = list(converted.drops)
    may_be_missing = [r"^head\.", r"^fc_norm\.", r"^classifier\.", r"^fc\."]
    if getattr(model, "global_pool", None) in ("avg", "avgmax", "max") and isinstance(model.norm, torch.nn.Identity):
        drops.append((r"^norm\.", "final norm, replaced by a fresh fc_norm (global_pool=avg, as FSFM fine-tunes)"))
    if hasattr(model, "patch_embed"):
        _resample_pos_embed(converted.state_dict, model, report)
    return load_checked(model, converted.state_dict, source=str(resolved.path), what=what,
                        may_be_missing=may_be_missing, drop=drops,
                        head_prefixes=("head.", "classifier.", "fc."), report=report)


def _arch_kwargs(resolved: Resolved | None, arch: str | None, default_arch: str, img_size: int | None,
                 overrides: dict[str, Any]) -> tuple[str, int | None, dict[str, Any]]:
    card = resolved.any_card if resolved else None
    kw = card.build_kwargs() if card else {}
    if resolved and resolved.beside and resolved.card:   # beside card wins, catalogue fills the rest
        kw = {**resolved.card.build_kwargs(), **kw}
    arch = arch or kw.pop("arch", None) or default_arch
    kw.pop("arch", None)
    card_img = kw.pop("img_size", None)
    img_size = img_size or card_img
    kw.update(overrides)
    return arch, img_size, kw


def _rebuild_kwargs(arch: str, kw: dict[str, Any]) -> dict[str, Any]:
    """The arch and architecture options the model was built with, whoever chose them (the config,
    a card, the spec's default): enough to build it again without the checkpoint and its card."""
    return {"arch": arch, **{k: v for k, v in kw.items() if k in ARCHITECTURE_KEYS}}


def _provenance(backbone: Any, resolved: Resolved | None, layout: str, report: LoadReport | None) -> None:
    backbone.load_report = report
    if resolved is None:
        backbone.checkpoint_info = {"checkpoint": None, "init": "random"}
        return
    card = resolved.card
    backbone.checkpoint_info = {
        "checkpoint": resolved.source, "path": str(resolved.path), "layout": layout,
        "sha256": resolved.sha256,   # results cite the exact file that was loaded
        "card": card.name if card else (resolved.beside.name if resolved.beside else None),
        "sha256_expected": card.sha256 if card else None,
        "licence": (resolved.any_card.licence if resolved.any_card else None),
    }


def _set_normalization(model: Any, norm: Normalization) -> None:
    model.normalization = norm        # results record mean, std and which source decided them


def build_vit(spec: BackboneSpec, *, checkpoint: Any, arch: str | None = None, img_size: int | None = None,
              global_pool: str = "avg", drop_path_rate: float = 0.0, mean: Any = None, std: Any = None,
              trust_checkpoint: bool = False, **overrides: Any) -> ViTBackbone:
    """Build a :class:`ViTBackbone` from timm ``arch`` (default: the spec's) and optionally a checkpoint
    in the spec's layout."""
    import timm

    backbone_name, layout = spec.name, spec.layout

    if global_pool not in ("avg", "token"):
        raise UsageError(f"global_pool must be 'avg' (mean of patch tokens + fresh fc_norm) or 'token', "
                         f"got {global_pool!r}")
    resolved = resolve_checkpoint(backbone_name, checkpoint)
    arch, img_size, kw = _arch_kwargs(resolved, arch, spec.default_arch, img_size, overrides)
    if img_size:
        kw["img_size"] = int(img_size)
    try:
        vit = timm.create_model(arch, pretrained=False, num_classes=0, global_pool=global_pool,
                                drop_path_rate=float(drop_path_rate), **kw)
    except RuntimeError as exc:
        if "Unknown model" in str(exc):
            from fsfm_bench.errors import did_you_mean

            raise UsageError(f"unknown timm arch {arch!r}." + did_you_mean(arch, timm.list_models("vit_*"))) from exc
        raise
    except TypeError as exc:
        raise UsageError(f"timm arch {arch!r} does not accept these options ({exc})") from exc
    if not hasattr(vit, "blocks") or not hasattr(vit, "patch_embed"):
        raise UsageError(f"arch {arch!r} is not a ViT; backbone {backbone_name!r} needs a timm VisionTransformer")
    report = None
    if resolved is not None:
        report = load_weights(vit, resolved, layout, trust_checkpoint, f"{backbone_name} ({arch})")
    norm = resolve_mean_std(resolved, mean, std, spec, arch)
    model = ViTBackbone(vit, norm.mean, norm.std)
    model.rebuild_kwargs = _rebuild_kwargs(arch, kw)
    _set_normalization(model, norm)
    _provenance(model, resolved, layout, report)
    return model


def build_cnn(spec: BackboneSpec, *, checkpoint: Any, arch: str | None = None,
              img_size: int | None = None, global_pool: str = "avg", drop_path_rate: float = 0.0,
              mean: Any = None, std: Any = None, trust_checkpoint: bool = False,
              **overrides: Any) -> CNNBackbone:
    """Build a :class:`CNNBackbone` (timm CNN, classifier removed) with optional timm-layout weights."""
    import timm

    backbone_name = spec.name
    resolved = resolve_checkpoint(backbone_name, checkpoint)
    arch, img_size, kw = _arch_kwargs(resolved, arch, spec.default_arch, img_size, overrides)
    if drop_path_rate:
        kw["drop_path_rate"] = float(drop_path_rate)
    try:
        net = timm.create_model(arch, pretrained=False, num_classes=0, global_pool="", **kw)
    except TypeError as exc:
        hint = " (it has no stochastic depth: set drop_path_rate=0)" if "drop_path_rate" in str(exc) else ""
        raise UsageError(f"timm arch {arch!r} does not accept these options{hint}: {exc}") from exc
    except RuntimeError as exc:
        if "Unknown model" in str(exc):
            raise UsageError(f"unknown timm arch {arch!r}") from exc
        raise
    report = None
    if resolved is not None:
        report = load_weights(net, resolved, "timm", trust_checkpoint, f"{backbone_name} ({arch})")
    input_size = int(img_size or net.pretrained_cfg.get("input_size", (3, 224, 224))[-1])
    norm = resolve_mean_std(resolved, mean, std, spec, arch)
    model = CNNBackbone(net, norm.mean, norm.std, input_size, global_pool)
    model.rebuild_kwargs = _rebuild_kwargs(arch, kw)
    _set_normalization(model, norm)
    _provenance(model, resolved, "timm", report)
    return model

