"""The anti-spoofing settings of cdfas@2 that follow the official MCIO code (issue 15 item 3).

- the classifier's weight is replaced by its L2-normalised value at every forward and the gradient
  is taken with respect to that normalised weight (``classifier_norm: data``);
- the HTER threshold comes from a 10,001-point grid of P(real), the last minimum of |FRR - FAR|;
- target_oracle keeps the later of two equally good evaluations (``oracle_ties: later``).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fsfm_bench import metrics as M
from fsfm_bench.finetune.selection import choose, target_metrics
from fsfm_bench.plugins import get


def _head(norm: str, seed: int = 0):
    torch.manual_seed(seed)
    head = get("adapters", "fas_head")(embed_dim=8, num_prefix_tokens=1, hidden=6, classifier_norm=norm)
    head.eval()                                            # no dropout: the gradients are comparable
    with torch.no_grad():
        head.classifier.weight.mul_(37.0)                  # a stored weight far from unit columns
    return head


def _loss(head, tokens, target):
    return F.cross_entropy(head(tokens), target)


def test_classifier_weight_is_replaced_by_its_normalised_value_and_gets_that_gradient():
    tokens = torch.randn(5, 4, 8, generator=torch.Generator().manual_seed(1))
    target = torch.tensor([0, 1, 1, 0, 1])
    head = _head("data")
    raw = head.classifier.weight.detach().clone()
    loss = _loss(head, tokens, target)
    loss.backward()
    unit = raw / raw.norm(dim=0, keepdim=True)
    assert torch.allclose(head.classifier.weight.detach(), unit, atol=1e-6)       # weight.data replaced
    assert torch.allclose(head.classifier.weight.norm(dim=0), torch.ones(6), atol=1e-6)
    # the gradient of the loss w.r.t. the normalised weight, written out: (softmax - onehot)^T feat / B
    with torch.no_grad():
        pooled = head.fc_norm(tokens[:, 1:].mean(1))
        feats = head.embedder(torch.cat([pooled[:, None], tokens[:, 1:]], 1))
        feats = feats / (feats.norm(dim=1, keepdim=True).sqrt() * 2 ** 0.5)
        f0 = feats[:, 0]
        p = (f0 @ unit.T + head.classifier.bias).softmax(-1)
        want = (p - F.one_hot(target, 2).float()).T @ f0 / len(target)
    assert torch.allclose(head.classifier.weight.grad, want, atol=1e-6)
    # an optimiser step moves the normalised weight; the next forward normalises the stepped one
    torch.optim.SGD([head.classifier.weight], lr=0.5).step()
    stepped = head.classifier.weight.detach().clone()
    head(tokens)
    assert torch.allclose(head.classifier.weight.detach(), stepped / stepped.norm(dim=0, keepdim=True), atol=1e-6)


def test_autograd_normalisation_is_another_rule_with_another_gradient():
    tokens = torch.randn(5, 4, 8, generator=torch.Generator().manual_seed(1))
    target = torch.tensor([0, 1, 1, 0, 1])
    official, v1 = _head("data"), _head("autograd")
    _loss(official, tokens, target).backward()
    raw = v1.classifier.weight.detach().clone()
    loss_v1 = _loss(v1, tokens, target)
    loss_v1.backward()
    assert torch.equal(v1.classifier.weight.detach(), raw)                       # stored weight untouched
    assert loss_v1.item() == pytest.approx(_loss(official, tokens, target).item(), abs=1e-6)   # same logits
    # through the normalisation, each column's gradient is tangent to its unit sphere (no radial part)
    # and scaled by 1 / the stored column norm; the official gradient has a radial part
    g1, w = v1.classifier.weight.grad, raw
    assert torch.allclose((g1 * w).sum(0), torch.zeros(6), atol=1e-7)
    g0, unit = official.classifier.weight.grad, official.classifier.weight.detach()
    assert (g0 * unit).sum(0).abs().max() > 1e-3
    assert not torch.allclose(g0, g1, atol=1e-4)


def test_grid_threshold_is_the_last_minimum_on_p_real():
    # 4 live videos (label 0), 4 attacks; P(real) = 1 - score. Live P(real): .9 .8 .7 .3; attack: .6 .4 .2 .1
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    p_real = np.array([0.9, 0.8, 0.7, 0.3, 0.6, 0.4, 0.2, 0.1])
    e = M.eer_grid(labels, 1.0 - p_real)
    # accepted as real when P(real) >= thr. On (0.6, 0.7]: FAR 0, FRR 1/4 (the .3 live) -> |FRR - FAR| = .25;
    # on (0.4, 0.6]: FAR 1/4 (the .6 attack), FRR 1/4 -> 0, the minimum; the LAST such grid point is 0.6
    assert e.rate == pytest.approx(0.25)
    assert 1.0 - e.threshold == pytest.approx(0.6)
    # at that threshold the shared hter counts the same errors (attack at P(real) .6 accepted, live .3 rejected)
    assert M.hter(labels, 1.0 - p_real, e.threshold) == pytest.approx(0.25)
    # the interpolated EER threshold differs: another video at the boundary
    assert M.eer(labels, 1.0 - p_real).threshold != pytest.approx(e.threshold)


def test_oracle_metrics_use_the_grid_and_ties_go_to_the_later_evaluation():
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    scores = 1.0 - np.array([0.9, 0.8, 0.7, 0.3, 0.6, 0.4, 0.2, 0.1])
    vids = np.array([f"v{i}" for i in range(8)])
    assert target_metrics(labels, scores, vids, "video", "target_eer_grid")["hter"] == pytest.approx(0.25)
    history = [{"epoch": 0, "iter": i, "metrics": {"target/hter": h}} for i, h in
               ((100, 0.05), (200, 0.03), (300, 0.04), (400, 0.03))]
    assert choose(history, "target_oracle", "hter")["iter"] == 200
    assert choose(history, "target_oracle", "hter", ties="later")["iter"] == 400
    # source_val keeps the earlier of equal losses whatever the oracle tie rule
    losses = [{"epoch": e, "iter": e, "metrics": {"source_val/loss": 0.2}} for e in (1, 2)]
    assert choose(losses, "source_val", ties="later")["iter"] == 1


def test_fas_saturation_scales_the_hsv_s_channel_as_the_official_loader():
    import cv2
    from PIL import Image

    from fsfm_bench.finetune.datasets import HSVSaturation

    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    np.random.seed(1)
    out = np.asarray(HSVSaturation(0.8, 1.2)(Image.fromarray(img)))
    np.random.seed(1)                                   # the same draws, written out
    assert np.random.randint(2) == 1
    factor = np.random.uniform(0.8, 1.2)
    hsv = cv2.cvtColor(img.astype(np.float32), cv2.COLOR_RGB2HSV)
    hsv[..., 1] *= factor
    want = np.clip(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB), 0, 255).astype(np.uint8)
    assert np.array_equal(out, want) and not np.array_equal(out, img)
    grey = np.full((4, 4, 3), 128, np.uint8)            # no saturation to scale: unchanged
    np.random.seed(1)
    assert np.array_equal(np.asarray(HSVSaturation(0.8, 1.2)(Image.fromarray(grey))), grey)
    np.random.seed(0)                                   # randint(2) == 0: left as it is
    assert np.array_equal(np.asarray(HSVSaturation(0.8, 1.2)(Image.fromarray(img))), img)
