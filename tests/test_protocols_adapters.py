"""Task adapters (head, loss, P(positive)) and the layer-wise lr-decay optimiser constructor."""
from __future__ import annotations

import math

import pytest
import torch
from run_testutil import TINY

from fsfm_bench.finetune.model import build_classifier
from fsfm_bench.finetune.optim import LayerDecayOptimWrapperConstructor, param_groups_layer_decay
from fsfm_bench.plugins import get


def _tokens(b=4, n=17, d=32, seed=0):
    return torch.randn(b, n, d, generator=torch.Generator().manual_seed(seed))


def test_fsfm_head_pools_patch_tokens_with_a_fresh_layernorm_and_tiny_init():
    torch.manual_seed(0)
    head = get("adapters", "fsfm_head")(embed_dim=32, num_prefix_tokens=1)
    assert 1e-5 < head.head.weight.std().item() < 3e-5 and head.head.bias.eq(0).all()   # std 2e-5, as FSFM
    tokens = _tokens()
    logits = head(tokens)
    assert logits.shape == (4, 2)
    with torch.no_grad():
        expected = head.head(torch.nn.functional.layer_norm(tokens[:, 1:].mean(1), (32,), eps=1e-6))
    torch.testing.assert_close(logits, expected)
    tokens2 = tokens.clone()
    tokens2[:, 0] += 100.0                               # the cls token is ignored
    torch.testing.assert_close(head(tokens2), logits)
    p = head.prob_positive(torch.tensor([[0.0, math.log(3.0)]]))
    assert p.item() == pytest.approx(0.75)


def test_losses_hard_smoothed_and_soft_targets():
    head = get("adapters", "fsfm_head")(embed_dim=8, smoothing=0.1)
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([0, 1])
    ce = torch.nn.functional.cross_entropy(logits, y)
    smooth = head.loss(logits, y)
    uniform = -torch.log_softmax(logits, -1).mean(-1).mean()
    assert smooth.item() == pytest.approx(0.9 * ce.item() + 0.1 * uniform.item(), rel=1e-5)
    soft = torch.tensor([[0.7, 0.3], [0.2, 0.8]])
    expected = -(soft * torch.log_softmax(logits, -1)).sum(-1).mean()
    assert head.loss(logits, soft).item() == pytest.approx(expected.item(), rel=1e-6)


def test_fas_head_uses_token_zero_and_normalised_classifier():
    torch.manual_seed(0)
    head = get("adapters", "fas_head")(embed_dim=32, num_prefix_tokens=1).eval()
    assert head.embedder[0].bias.eq(0.1).all()
    assert head.embedder[0].weight.std().item() == pytest.approx(0.005, rel=0.1)
    tokens = _tokens()
    logits = head(tokens)
    assert logits.shape == (4, 2)
    # token-axis normalisation: other tokens change the logits of token 0 (the official quirk)
    t2 = tokens.clone()
    t2[:, 5:] *= 3.0
    assert not torch.allclose(head(t2), logits)
    t4 = tokens.clone()
    t4[:, 0] += 50.0                                   # token 0 (cls) is replaced by the pooled feature
    torch.testing.assert_close(head(t4), logits)
    # the classifier weight is L2-normalised along dim 0 at every forward: scaling it changes nothing
    with torch.no_grad():
        head.classifier.weight.mul_(7.0)
    torch.testing.assert_close(head(tokens), logits)


def test_linear_probe_freezes_the_backbone_and_keeps_it_in_eval_mode():
    model = build_classifier({"backbone": {**TINY, "drop_path_rate": 0.5}, "adapter": {"type": "linear_probe"}})
    model.train()
    assert not model.backbone.training and model.adapter.training
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("adapter.") for n in trainable)
    x = torch.randint(0, 255, (2, 3, 32, 32), dtype=torch.uint8)
    out = model(x, {"label": torch.tensor([0, 1])}, mode="loss")
    out["loss"].backward()
    assert all(p.grad is None for p in model.backbone.parameters())


def test_layer_decay_groups_follow_the_backbone_layer_ids():
    model = build_classifier({"backbone": dict(TINY), "adapter": {"type": "fsfm_head"}})
    groups = param_groups_layer_decay(model, base_lr=1.0, weight_decay=0.05, layer_decay=0.5)
    by_layer = {}
    for g in groups:
        by_layer.setdefault(g["layer_id"], set()).add(round(g["lr"], 8))
    assert by_layer == {0: {0.125}, 1: {0.25}, 2: {0.5}, 3: {1.0}}       # depth 2: ld^(3 - id)
    names = {id(p): n for n, p in model.named_parameters()}
    for g in groups:
        for p in g["params"]:
            n = names[id(p)]
            no_decay = p.ndim == 1 or n.endswith(("pos_embed", "cls_token"))
            assert g["weight_decay"] == (0.0 if no_decay else 0.05), n
            if n.startswith("adapter."):
                assert g["layer_id"] == 3
    # the backbone's own (unused) pooling parameters are frozen and left out
    assert "backbone.vit.fc_norm.weight" not in {names[id(p)] for g in groups for p in g["params"]}
    ctor = LayerDecayOptimWrapperConstructor(
        dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=2.0, weight_decay=0.05)),
        paramwise_cfg=dict(layer_decay=0.5))
    wrapper = ctor(model)
    lrs = sorted({round(g["lr"], 6) for g in wrapper.optimizer.param_groups})
    assert lrs == [0.25, 0.5, 1.0, 2.0]
