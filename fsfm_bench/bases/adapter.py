"""The task-adapter base class (:class:`fsfm_bench.contracts.AdapterProtocol`), in the core so that a
third-party head subclasses the same class the built-ins do (``plugins/adapters/heads.py``).

Every adapter takes the backbone's ``forward_features`` tokens ``[B, prefix + N, D]`` (the backbone
contract), so one adapter works on every registered backbone. Label 1 is the positive class;
``prob_positive`` is the softmax probability of class 1.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TaskAdapter(nn.Module):
    """Base: ``forward(tokens) -> logits [B, 2]``; ``loss``; ``prob_positive``.

    ``freeze_backbone`` tells the model wrapper to keep the backbone frozen and in eval mode.
    ``smoothing`` is used for hard labels; soft targets (mixup/cutmix) use soft cross-entropy.
    """

    num_classes = 2
    freeze_backbone = False

    def __init__(self, embed_dim: int, num_prefix_tokens: int = 0, smoothing: float = 0.0) -> None:
        super().__init__()
        self.embed_dim = int(embed_dim)
        self.num_prefix_tokens = int(num_prefix_tokens)
        self.smoothing = float(smoothing)

    def patch_mean(self, tokens: torch.Tensor) -> torch.Tensor:
        """Mean of the patch tokens (prefix tokens such as cls excluded), as FSFM fine-tunes."""
        return tokens[:, self.num_prefix_tokens:].mean(dim=1)

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Soft targets [B, 2] -> timm SoftTargetCrossEntropy; hard labels [B] -> (smoothed) CE."""
        from timm.loss import LabelSmoothingCrossEntropy, SoftTargetCrossEntropy

        logits = logits.float()
        if target.ndim == 2:
            return SoftTargetCrossEntropy()(logits, target)
        if self.smoothing > 0:
            return LabelSmoothingCrossEntropy(self.smoothing)(logits, target.long())
        return F.cross_entropy(logits, target.long())

    @staticmethod
    def prob_positive(logits: torch.Tensor) -> torch.Tensor:
        return logits.float().softmax(dim=-1)[:, 1]
