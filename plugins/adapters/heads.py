"""Task adapters: a head on a backbone's tokens, its loss, and P(positive = fake/attack).

The base class ``TaskAdapter`` lives in the core (``fsfm_bench/bases/adapter.py``) and is
re-exported here for the old import path.

Every adapter takes the backbone's ``forward_features`` tokens ``[B, prefix + N, D]`` (the backbone
contract), so one adapter works on every registered backbone. Label 1 is the positive class;
``prob_positive`` is the softmax probability of class 1.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from fsfm_bench.bases.adapter import TaskAdapter  # noqa: F401 - re-exported (old import path)


class FSFMHead(TaskAdapter):
    """FSFM's fine-tuning head: mean of patch tokens -> fresh LayerNorm -> Linear(D, 2), std 2e-5."""

    def __init__(self, embed_dim: int, num_prefix_tokens: int = 0, smoothing: float = 0.0,
                 init_std: float = 2e-5, norm_eps: float = 1e-6) -> None:
        super().__init__(embed_dim, num_prefix_tokens, smoothing)
        self.fc_norm = nn.LayerNorm(self.embed_dim, eps=norm_eps)
        self.head = nn.Linear(self.embed_dim, self.num_classes)
        nn.init.trunc_normal_(self.head.weight, std=init_std)
        nn.init.zeros_(self.head.bias)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.fc_norm(self.patch_mean(tokens)))


class LinearProbe(FSFMHead):
    """A linear probe: the same head on a FROZEN backbone (kept in eval mode, no gradients)."""

    freeze_backbone = True

    def __init__(self, embed_dim: int, num_prefix_tokens: int = 0, smoothing: float = 0.0,
                 init_std: float = 0.01, norm_eps: float = 1e-6) -> None:
        super().__init__(embed_dim, num_prefix_tokens, smoothing, init_std, norm_eps)


class FASHead(TaskAdapter):
    """The anti-spoofing head of FSFM's MCIO code (docs/method.md, "Cross-domain anti-spoofing").

    Token 0 is replaced by fc_norm(mean of patch tokens); every token goes through
    Linear(D, 512) (N(0, 0.005), bias 0.1) -> ReLU -> Dropout(0.5); features are divided by
    sqrt(L2 norm over the token axis) * sqrt(2) (the inherited SSDG normalisation, applied on the
    token axis as the official code does: ``token_axis_norm=True``; False normalises each token's
    feature vector instead); a classifier Linear(512, 2) (N(0, 0.01)) whose weight is L2-normalised
    along dim 0 at every forward gives the logits, and only token 0's are used.

    How the weight is normalised (``classifier_norm``):

    - ``data`` (the official rule, cdfas@2): at every forward the stored weight is REPLACED by its
      normalised value, outside autograd, and the logits use it; the gradient is therefore taken
      with respect to the normalised weight, and the optimiser steps from there (the next forward
      normalises the stepped weight again).
    - ``autograd`` (cdfas@1): the logits use ``F.normalize(weight)`` inside autograd, so the
      gradient flows through the normalisation (projected onto the tangent of the unit sphere and
      divided by the stored norm) and the stored weight is never normalised.
    """

    CLASSIFIER_NORMS = ("data", "autograd")

    def __init__(self, embed_dim: int, num_prefix_tokens: int = 0, smoothing: float = 0.0,
                 hidden: int = 512, dropout: float = 0.5, token_axis_norm: bool = True,
                 norm_eps: float = 1e-6, classifier_norm: str = "autograd") -> None:
        if classifier_norm not in self.CLASSIFIER_NORMS:
            from fsfm_bench.errors import UsageError

            raise UsageError(f"fas_head: classifier_norm must be data or autograd, got {classifier_norm!r}")
        super().__init__(embed_dim, num_prefix_tokens, smoothing)
        self.fc_norm = nn.LayerNorm(self.embed_dim, eps=norm_eps)
        self.embedder = nn.Sequential(nn.Linear(self.embed_dim, hidden), nn.ReLU(inplace=True),
                                      nn.Dropout(dropout))
        nn.init.normal_(self.embedder[0].weight, std=0.005)
        nn.init.constant_(self.embedder[0].bias, 0.1)
        self.classifier = nn.Linear(hidden, self.num_classes)
        nn.init.normal_(self.classifier.weight, std=0.01)
        nn.init.zeros_(self.classifier.bias)
        self.token_axis_norm = bool(token_axis_norm)
        self.classifier_norm = classifier_norm

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        pooled = self.fc_norm(self.patch_mean(tokens))
        if self.num_prefix_tokens > 0:
            tokens = torch.cat([pooled[:, None], tokens[:, 1:]], dim=1)
        else:
            tokens = torch.cat([pooled[:, None], tokens], dim=1)
        feat = self.embedder(tokens)                                     # [B, T, hidden]
        axis = 1 if self.token_axis_norm else 2
        norm = torch.linalg.vector_norm(feat, ord=2, dim=axis, keepdim=True).clamp_min(1e-12)
        feat = feat / (norm.sqrt() * 2 ** 0.5)
        if self.classifier_norm == "data":
            with torch.no_grad():
                self.classifier.weight.copy_(F.normalize(self.classifier.weight, p=2, dim=0, eps=0.0))
            weight = self.classifier.weight
        else:
            weight = F.normalize(self.classifier.weight, p=2, dim=0)
        logits = F.linear(feat, weight, self.classifier.bias)
        return logits[:, 0]
