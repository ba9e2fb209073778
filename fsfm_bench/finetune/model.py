"""The fine-tuned model: a registered backbone + a registered task adapter, as an mmengine BaseModel.

Inputs arrive either as uint8 images (evaluation: normalised here, on the device, with the
backbone's own mean/std) or as float tensors the training transform already normalised (timm's
RandAugment and random erasing need the normalised image). Mixup/CutMix (timm.data.Mixup) is applied
on the batch in ``loss`` mode only.

A checkpoint written by :mod:`.selection` carries ``meta["model"]``, the kwargs of this class with
the pretrained checkpoint dropped, so :func:`load_finetuned` rebuilds it from the file alone
(``fsfm-bench eval``/``predict`` need nothing else).
"""
from __future__ import annotations

import copy
import importlib
from pathlib import Path
from typing import Any

import torch
from mmengine.model import BaseModel

from ..errors import FsfmBenchError
from ..inputs import POLICY_FILES, checkpoint_file
from ..registry import MODELS


def build_backbone_from_cfg(cfg: dict[str, Any]) -> torch.nn.Module:
    """``{type: name | "module:attr", checkpoint: ..., **kwargs}`` -> backbone module."""
    cfg = dict(cfg)
    name = cfg.pop("type")
    checkpoint = cfg.pop("checkpoint", None)
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise FsfmBenchError(f"backbone factory {name!r} cannot be imported: {exc}") from exc
        from ..contracts import check_backbone

        return check_backbone(factory(checkpoint=checkpoint, **cfg), name)
    from .. import build_backbone

    return build_backbone(name, checkpoint=checkpoint, **cfg)


def build_adapter(cfg: dict[str, Any], backbone: torch.nn.Module, smoothing: float) -> torch.nn.Module:
    from ..contracts import check_adapter
    from ..plugins import get_entry

    cfg = dict(cfg)
    name = cfg.pop("type")
    entry = get_entry("adapters", name)
    adapter = entry.obj(embed_dim=backbone.embed_dim, num_prefix_tokens=getattr(backbone, "num_prefix_tokens", 0),
                        smoothing=smoothing, **cfg)
    return check_adapter(adapter, name, entry.plugin.name)


@MODELS.register_module()
class FaceClassifier(BaseModel):
    """Backbone tokens -> adapter logits; ``mode`` = loss | predict | tensor (mmengine convention).

    Args:
        backbone: backbone config (``type`` = registered name or ``module:attr``; ``checkpoint``;
            kwargs such as ``img_size``, ``drop_path_rate``).
        adapter: task adapter config (``type`` = registered adapter name, plus its options).
        mean, std: normalisation; None takes the backbone's own (the only per-backbone setting).
        mixup: kwargs of ``timm.data.Mixup`` (None: off); label_smoothing goes to Mixup or the loss.
    """

    def __init__(self, backbone: dict[str, Any], adapter: dict[str, Any], mean=None, std=None,
                 mixup: dict[str, Any] | None = None, label_smoothing: float = 0.0,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = build_backbone_from_cfg(backbone)
        self.adapter = build_adapter(adapter, self.backbone, 0.0 if mixup else label_smoothing)
        mean = tuple(mean if mean is not None else getattr(self.backbone, "mean", (0.485, 0.456, 0.406)))
        std = tuple(std if std is not None else getattr(self.backbone, "std", (0.229, 0.224, 0.225)))
        self.mean_std = (mean, std)
        self.register_buffer("_mean", torch.tensor(mean).view(1, 3, 1, 1) * 255.0, persistent=False)
        self.register_buffer("_std", torch.tensor(std).view(1, 3, 1, 1) * 255.0, persistent=False)
        self.mixup = None
        if mixup:
            from timm.data import Mixup

            self.mixup = Mixup(**mixup, label_smoothing=label_smoothing, num_classes=2)
        # The adapter pools the tokens itself: the backbone's own pooling parameters (timm's fc_norm
        # and head) are unused, so they are frozen (DDP would otherwise wait for their gradients).
        for name, param in self.backbone.named_parameters():
            parts = name.split(".")
            if parts[0] in ("fc_norm", "head") or (parts[0] == "vit" and parts[1] in ("fc_norm", "head")):
                param.requires_grad_(False)
        if getattr(self.adapter, "freeze_backbone", False):
            for param in self.backbone.parameters():
                param.requires_grad_(False)

    # -- mmengine API --------------------------------------------------------------------------
    def train(self, mode: bool = True):
        super().train(mode)
        if getattr(self.adapter, "freeze_backbone", False):
            self.backbone.eval()      # a linear probe never updates BN/dropout state of the backbone
        return self

    def normalise(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dtype == torch.uint8:
            return (inputs.float() - self._mean) / self._std
        return inputs.float()

    def logits(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.adapter(self.backbone.forward_features(self.normalise(inputs)))

    def scores(self, inputs: torch.Tensor) -> torch.Tensor:
        """P(fake/attack) per image: the whole scoring path after the loader."""
        return self.adapter.prob_positive(self.logits(inputs))

    def forward(self, inputs: torch.Tensor, data_samples: dict[str, torch.Tensor] | None = None,
                mode: str = "tensor"):
        if mode == "tensor":
            return self.logits(inputs)
        if mode == "loss":
            target = data_samples["label"].long()
            x = self.normalise(inputs)
            if self.mixup is not None:
                if x.shape[0] % 2:          # timm's batch mixup needs an even batch: drop one
                    x, target = x[:-1], target[:-1]
                x, target = self.mixup(x, target)
            logits = self.adapter(self.backbone.forward_features(x))
            return {"loss": self.adapter.loss(logits, target)}
        if mode == "predict":
            probs = self.scores(inputs).detach().cpu()
            labels = data_samples["label"].cpu()
            index = data_samples["index"].cpu()
            return [{"prob": float(p), "label": int(y), "index": int(i)}
                    for p, y, i in zip(probs, labels, index, strict=True)]
        raise FsfmBenchError(f"FaceClassifier: unknown mode {mode!r} (loss, predict or tensor)")


def build_classifier(model_cfg: dict[str, Any]) -> FaceClassifier:
    cfg = copy.deepcopy(dict(model_cfg))
    cfg.pop("type", None)
    return FaceClassifier(**cfg)


#: the files ``eval``/``predict`` take, as their messages name them


def _policy_files_of(path: Path) -> str:
    """The selected policy files beside a run's training-state checkpoint (``seed<k>/train/epoch_N.pth``)."""
    if path.parent.name == "train":
        return str(path.parent.parent / "checkpoints") + "/{source_val,last,target_oracle}.pth"
    return POLICY_FILES


def _training_state_error(path: Path) -> FsfmBenchError:
    return FsfmBenchError(f"{path} is a training-state checkpoint (mmengine's weights + optimizer + loop state, "
                          f"kept for resuming); pass one of the selected policy files {_policy_files_of(path)}")


def read_finetuned_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The ``{"state_dict", "meta"}`` dict of a fine-tuned checkpoint written by :mod:`.selection`.

    Opened safely (``weights_only``); anything else -- a folder, a file that is no PyTorch
    checkpoint, mmengine's training-state checkpoint of the same run, a foreign checkpoint -- is
    ONE :class:`FsfmBenchError` saying what the file is and which file to pass instead, the same
    for ``eval`` and ``predict``.
    """
    import pickle

    path = checkpoint_file(path)

    def not_ours(why: str) -> FsfmBenchError:
        return FsfmBenchError(f"{path} is not a checkpoint fsfm-bench can load ({why}); pass a fine-tuned "
                              f"checkpoint written by `fsfm-bench run`, {POLICY_FILES}")

    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True, mmap=True)   # mmap: reading meta is cheap
    except pickle.UnpicklingError as exc:      # weights_only refused a global: whose is it?
        try:
            unsafe = list(torch.serialization.get_unsafe_globals_in_checkpoint(str(path)))
        except Exception:  # noqa: BLE001 - only used to say what the file is
            unsafe = []
        if any(name.startswith("mmengine.") for name in unsafe):
            raise _training_state_error(path) from exc
        why = f"it holds objects a safe load refuses: {', '.join(unsafe[:3])}" if unsafe else "not a PyTorch checkpoint"
        raise not_ours(why) from exc
    except Exception as exc:  # noqa: BLE001 - torch raises KeyError/RuntimeError/EOFError... for non-checkpoints
        raise not_ours(f"not a PyTorch checkpoint file: {type(exc).__name__}") from exc
    if isinstance(ckpt, dict) and "message_hub" in ckpt and "state_dict" in ckpt:
        raise _training_state_error(path)
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "model" not in (ckpt.get("meta") or {}):
        raise not_ours("a PyTorch file, but no fine-tuned model described in meta.model")
    return ckpt


def load_finetuned(path: str, map_location: str | torch.device = "cpu") -> tuple[FaceClassifier, dict]:
    """Rebuild a fine-tuned model from a checkpoint written by the selection hook (safe load)."""
    ckpt = read_finetuned_checkpoint(path, map_location)
    model_cfg = copy.deepcopy(ckpt["meta"]["model"])
    model_cfg["backbone"]["checkpoint"] = None
    model = build_classifier(model_cfg)
    try:
        missing, unexpected = model.load_state_dict(ckpt["state_dict"], strict=False)
    except RuntimeError as exc:           # shapes differ: the file's weights are not of the model it names
        first = str(exc).split("\n\t")[1] if "\n\t" in str(exc) else str(exc)
        raise FsfmBenchError(f"{path}: weights do not match the model it describes ({first.strip()}); was it "
                             "edited, or written by another fsfm-bench version?") from exc
    if unexpected or [k for k in missing if not k.startswith(("_mean", "_std"))]:
        raise FsfmBenchError(f"{path}: weights do not match the model it describes "
                             f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    model.eval()
    return model, ckpt["meta"]
