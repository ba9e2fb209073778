"""The backbone contract for every registered name, the checkpoint catalogue, the configs and the
`fsfm-bench weights` command."""
from __future__ import annotations

import json
import re

import pytest
import torch
import yaml
from backbones_testutil import CLIP_VIT, TINY, VIT, reference, write_fsfm, write_mean_std

import fsfm_bench
from fsfm_bench.checkpoints import list_cards
from fsfm_bench.cli import main as cli
from fsfm_bench.testing import assert_backbone_contract
from fsfm_bench_plugins.backbones.specs import SPECS

#: every built-in spec is tested: a new backbone needs no edit here
CNN_NAMES = [s.name for s in SPECS if s.factory.endswith(":build_cnn_family")]
VIT_NAMES = [s.name for s in SPECS if s.name not in CNN_NAMES]
SPEC_OF = {s.name: s for s in SPECS}
#: the paper's base-model rows (registry/reported/*.yaml) -> the name that runs each
PAPER_ROWS = {"Xception": "xception", "EfficientNet-B4": "efficientnet_b4", "ViT-B Scratch": "vit_scratch",
              "ViT-B Sup(IN)": "supervised", "MAE ViT-B": "mae", "DINO ViT-B": "dino", "MCF ViT-B": "mcf",
              "CLIP ViT-B": "clip", "FSFM ViT-B": "fsfm"}


def _tiny(name):
    arch = CLIP_VIT if name in ("farl", "clip") else VIT
    return fsfm_bench.build_backbone(name, arch=arch, **TINY)


@pytest.mark.parametrize("name,global_pool", [(n, "avg") for n in VIT_NAMES] + [("fsfm", "token"), ("clip", "token")])
def test_vit_contract_and_layer_ids(name, global_pool):
    # the generic contract (shapes, pool == forward, layer ids, mean/std): the public helper plugins use too
    model = assert_backbone_contract(name, arch=CLIP_VIT if name in ("farl", "clip") else VIT,
                                     global_pool=global_pool, **TINY)
    assert model.vit.__class__.__name__ == "VisionTransformer"
    assert (model.embed_dim, model.patch_size, model.num_prefix_tokens, model.input_size, model.num_layers) == (64, 16, 1, 64, 2)
    assert len(model.mean) == 3 and len(model.std) == 3 and min(model.std) > 0
    x = torch.randn(2, 3, 64, 64)
    tokens = model.forward_features(x)
    assert tokens.shape == (2, 17, 64)
    assert torch.equal(model(x), model.pool(tokens)) and model(x).shape == (2, 64)
    if global_pool == "avg":
        assert isinstance(model.fc_norm, torch.nn.LayerNorm) and isinstance(model.vit.norm, torch.nn.Identity)
    else:
        assert torch.equal(model(x), tokens[:, 0])
    ids = {n: model.layer_id(n) for n, _ in model.named_parameters()}
    assert all(0 <= i <= model.num_layers + 1 for i in ids.values())
    assert set(ids.values()) == set(range(model.num_layers + 2)) if global_pool == "avg" else \
        set(ids.values()) >= set(range(model.num_layers + 1))
    for n, i in ids.items():
        block = re.search(r"\.blocks\.(\d+)\.", n)
        if block:
            assert i == int(block.group(1)) + 1
        elif re.search(r"vit\.(cls_token|pos_embed|patch_embed|norm_pre)", n):
            assert i == 0
        else:
            assert i == model.num_layers + 1, n
    # names seen from an enclosing model (adapter.backbone.vit...) and unknown head params
    assert model.layer_id("backbone.vit.blocks.1.mlp.fc1.weight") == 2
    assert model.layer_id("blocks.0.norm1.weight") == 1
    assert model.layer_id("head.weight") == model.num_layers + 1


@pytest.mark.parametrize("name", CNN_NAMES)
def test_cnn_contract(name):
    model = assert_backbone_contract(name, input_size=64)
    assert model.patch_size is None and model.num_prefix_tokens == 0
    assert model.input_size == SPEC_OF[name].input_size == {"xception": 299, "efficientnet_b4": 380}.get(name, model.input_size)
    with torch.no_grad():
        tokens = model.forward_features(torch.randn(1, 3, 64, 64))   # xception needs >= 64 px; stride 32: a 2x2 map
        pooled = model.pool(tokens)
    assert tokens.shape == (1, 4, model.embed_dim) and pooled.shape == (1, model.embed_dim)
    assert torch.allclose(pooled, tokens.mean(1))
    ids = [model.layer_id(n) for n, _ in model.named_parameters()]
    assert min(ids) == 0 and max(ids) == model.num_layers + 1 and len(set(ids)) == model.num_layers + 2
    stem = {"xception": "net.conv1.weight", "efficientnet_b4": "net.conv_stem.weight"}.get(name)
    assert model.layer_id(stem or next(n for n, _ in model.named_parameters())) == 0


def test_every_paper_row_is_runnable_by_name():
    from fsfm_bench.plugins import entries

    names = {e.name for e in entries("backbones")}
    assert set(PAPER_ROWS.values()) | {"farl"} <= names
    rows_with_cards = {c.paper_row.split(",")[0] for c in list_cards() if c.paper_row}
    for row in ("Xception", "EfficientNet-B4", "ViT-B", "MAE ViT-B", "DINO ViT-B", "MCF ViT-B", "CLIP ViT-B"):
        assert row in rows_with_cards, row
    assert any(c.paper_row and c.paper_row.startswith("FSFM ViT-B (Ours)") for c in list_cards())


def test_pos_embed_is_interpolated_for_another_input_size(tmp_path):
    from timm.layers import resample_abs_pos_embed

    ref = reference(seed=3)
    write_fsfm(ref, tmp_path / "checkpoint-400.pth")
    write_mean_std(tmp_path)
    model = fsfm_bench.build_backbone("fsfm", checkpoint=str(tmp_path / "checkpoint-400.pth"), arch=VIT,
                                      **{**TINY, "img_size": 96})
    want = resample_abs_pos_embed(ref.pos_embed.detach(), new_size=[6, 6], old_size=[4, 4], num_prefix_tokens=1,
                                  interpolation="bicubic", antialias=False)
    assert model.vit.pos_embed.shape == (1, 37, 64)
    assert (model.vit.pos_embed.detach() - want).abs().max().item() < 1e-6
    assert torch.equal(model.vit.pos_embed[:, 0], ref.pos_embed[:, 0])            # cls slot kept as is
    assert model.forward_features(torch.randn(1, 3, 96, 96)).shape == (1, 37, 64)
    assert model.input_size == 96 and any("resampled" in n for n in model.load_report.notes)


def test_catalogue_cards_are_valid_and_consistent():
    from fsfm_bench.plugins import entries
    from fsfm_bench_plugins.backbones.layouts import CONVERTERS

    cards = list_cards()
    assert len(cards) >= 15
    registered = {e.name for e in entries("backbones")}
    defaults: dict[str, int] = {}
    for c in cards:
        assert c.backbone in registered and c.layout in CONVERTERS
        assert c.source or c.download, c.name
        if c.default:
            defaults[c.backbone] = defaults.get(c.backbone, 0) + 1
        if c.sha256 is None:
            assert c.sha256_note, f"{c.name}: say why the sha256 is unknown"
    assert all(n == 1 for n in defaults.values())
    assert set(defaults) >= set(PAPER_ROWS.values()) - {"vit_scratch"}


@pytest.mark.parametrize("name", VIT_NAMES + CNN_NAMES)
def test_backbone_configs_compose_and_build(name):
    from fsfm_bench.config import compose

    cfg = compose(backbone=name).to_dict()["backbone"]    # a config file is optional: the spec has the facts
    assert cfg["type"] == name and cfg["checkpoint"] is None and cfg["mean"] is None and cfg["arch"] is None
    kwargs = {k: v for k, v in cfg.items() if k != "type"}
    if name in CNN_NAMES:       # full-size CNNs are built in test_cnn_contract; here: options accepted
        import inspect

        from fsfm_bench.plugins import get
        from fsfm_bench_plugins.backbones.loading import build_cnn

        accepted = set(inspect.signature(get("backbones", name)).parameters) | set(inspect.signature(build_cnn).parameters)
        assert set(kwargs) <= accepted and cfg.get("drop_path_rate", 0.0) == 0.0
        return
    kwargs.update(TINY)
    model = fsfm_bench.build_backbone(name, **kwargs)
    assert model.embed_dim == 64 and model.global_pool == cfg.get("global_pool", "avg")
    assert (model.mean, model.std) == SPEC_OF[name].normalization() and model.normalization.source == "spec"


def test_weights_list(capsys):
    assert cli(["weights", "list"]) == 0
    out = capsys.readouterr().out
    for c in list_cards():
        assert c.name in out
    # the normalisation each card declares is shown, named when it is a common one
    line = {ln.split()[0]: ln for ln in out.splitlines() if ln.strip()}
    assert " imagenet " in line["mae_vit_b16_in1k"] and " clip " in line["farl_vit_b16_ep16"]
    assert "0.548,0.423,0.365 / 0.279,0.244,0.235" in line["fsvfm_vit_b16_vf2_600e"]
    assert cli(["weights", "list", "--json", "backbone=fsfm"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["backbone"] for d in data} == {"fsfm"} and len(data) == 5
    assert cli(["weights", "list", "backbone=fsfm", "bogus=1"]) == 2


def test_weights_verify(tmp_path, capsys):
    from fsfm_bench.io import sha256_file

    ref = reference(seed=4)
    path = write_fsfm(ref, tmp_path / "encoder.pth")
    write_mean_std(tmp_path)
    card = {"name": "tiny", "backbone": "fsfm", "layout": "fsfm", "arch": VIT, "input_size": 64,
            "architecture": {"embed_dim": 64, "depth": 2, "num_heads": 2}, "sha256": sha256_file(path)}
    (tmp_path / "card.yaml").write_text(yaml.safe_dump(card))
    assert cli(["weights", "verify", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and {c["check"] for c in report["checks"]} == {"card", "sha256", "safe load", "mean/std", "keys", "forward"}
    assert all(c["ok"] for c in report["checks"])
    # same card, a different file: sha256 mismatch
    write_fsfm(reference(seed=5), path)
    assert cli(["weights", "verify", str(path)]) == 1
    assert "DIFFERS" in capsys.readouterr().out
    # a card of another architecture: keys fail
    (tmp_path / "card.yaml").write_text(yaml.safe_dump({**card, "sha256": None, "architecture": {"embed_dim": 64, "depth": 3, "num_heads": 2}}))
    assert cli(["weights", "verify", str(path)]) == 1
    assert "missing keys" in capsys.readouterr().out
    # no card at all and no backbone: says what to pass
    (tmp_path / "card.yaml").unlink()
    assert cli(["weights", "verify", str(path)]) == 1
    assert "pass card=NAME" in capsys.readouterr().out
    assert cli(["weights", "verify", str(path), "backbone=fsfm"]) == 1      # ViT-B arch vs tiny file
    assert cli(["weights", "verify", str(tmp_path / "missing.pth")]) == 1
    assert cli(["weights", "verify", str(path), "nope=1"]) == 2
