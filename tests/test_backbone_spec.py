"""One BackboneSpec per backbone name (fsfm_bench.backbone_spec): the facts live in the spec, configs
keep knobs, mean/std resolve as checkpoint file > card > spec (an explicit mean=/std= is recorded as
an override), each result records its source, and a plain third-party factory still works.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from backbones_testutil import TINY, VIT, reference, write_mean_std

import fsfm_bench
from fsfm_bench.backbone_spec import HALF, IMAGENET, SOURCES, BackboneSpec
from fsfm_bench.config import compose
from fsfm_bench.plugins import entries, get
from fsfm_bench.protocols.plan import _backbone_block, probe_backbone, used_normalization

ROOT = Path(__file__).resolve().parents[1]
FILE = ((0.54, 0.42, 0.36), (0.27, 0.24, 0.23))          # pretrain_ds_mean_std.txt beside the checkpoint
CARD = ((0.1, 0.2, 0.3), (0.4, 0.5, 0.6))                # the card beside it


def _approx(values) -> list:
    return [pytest.approx(list(v)) for v in values]


def test_every_builtin_backbone_is_one_spec_and_configs_hold_no_facts():
    specs = {e.name: e.obj for e in entries("backbones") if e.plugin.builtin}
    assert len(specs) == 10 and all(isinstance(s, BackboneSpec) and s.name == n for n, s in specs.items())
    assert specs["farl"].normalization() == specs["clip"].normalization() != IMAGENET
    for path in sorted((ROOT / "configs" / "backbones").glob("*.yaml")):
        knobs = yaml.safe_load(path.read_text())
        assert not {"arch", "mean", "std", "img_size"} & set(knobs), f"{path.name} duplicates a spec fact"
        assert knobs["type"] in specs


def test_supervised_efficientnet_composes_and_probes_to_imagenet_statistics():
    """`backbone=supervised backbone.arch=tf_efficientnet_b4` kept mean=std=0.5 from the config before."""
    cfg = compose(protocol="demo", backbone="supervised", overrides={"backbone.arch": "tf_efficientnet_b4"}).to_dict()
    probe = probe_backbone(cfg["backbone"])              # random init on CPU: the CNN, full size
    assert probe["mean"] == pytest.approx([0.485, 0.456, 0.406]) and probe["std"] == pytest.approx([0.229, 0.224, 0.225])
    assert probe["normalization_source"] == "spec"
    block = _backbone_block("supervised", cfg, probe)
    assert block["normalization"] == {"mean": probe["mean"], "std": probe["std"], "source": "spec"}
    # the same family's ViT (the spec's default arch) keeps the in21k->in1k 0.5/0.5
    vit = fsfm_bench.build_backbone("supervised", **TINY)
    assert (vit.mean, vit.std, vit.normalization.source) == (*HALF, "spec")
    assert get("backbones", "supervised").normalization("legacy_xception") == HALF


def _mae_checkpoint(folder: Path) -> Path:
    from fsfm_bench.io import atomic_torch_save

    ref = reference(seed=3)
    sd = {k: v for k, v in ref.state_dict().items() if not k.startswith(("head.", "fc_norm."))}
    atomic_torch_save({"model": sd}, folder / "encoder.pth")
    return folder / "encoder.pth"


def test_mean_std_precedence_file_over_card_over_spec_each_recorded(tmp_path):
    ckpt = _mae_checkpoint(tmp_path)
    cfg = compose(backbone="mae").to_dict()["backbone"]
    bb = {**cfg, **TINY, "arch": VIT, "checkpoint": str(ckpt)}

    def probed() -> tuple[list, list, str]:
        p = probe_backbone(bb)
        return p["mean"], p["std"], p["normalization_source"]

    assert probed() == (*_approx(IMAGENET), "spec")                      # neither file nor card: the spec
    card = {"name": "my_mae", "backbone": "mae", "layout": "mae", "arch": VIT, "licence": "Apache-2.0",
            "mean": list(CARD[0]), "std": list(CARD[1])}
    (tmp_path / "encoder.card.json").write_text(json.dumps(card))
    assert probed() == (*_approx(CARD), "card")                          # the card beats the spec
    write_mean_std(tmp_path, *FILE)
    assert probed() == (*_approx(FILE), "checkpoint-file")               # the file beats the card
    bb.update(mean=[0.3, 0.3, 0.3], std=[0.2, 0.2, 0.2])
    assert probed() == ([0.3] * 3, [0.2] * 3, "override")                # the user's explicit choice, recorded
    # the recipe's finetune.normalize=imagenet (CVPR DiFF) is recorded as such
    used = used_normalization({"normalize": "imagenet"}, probe_backbone(bb))
    assert used["source"] == "recipe" and used["mean"] == pytest.approx(list(IMAGENET[0]))


def test_a_released_fsfm_checkpoint_must_bring_its_own_statistics(tmp_path):
    from fsfm_bench.errors import FsfmBenchError

    ckpt = _mae_checkpoint(tmp_path)
    with pytest.raises(FsfmBenchError, match="pretrain_ds_mean_std.txt"):
        fsfm_bench.build_backbone("fsfm", checkpoint=str(ckpt), arch=VIT, **TINY)
    assert fsfm_bench.build_backbone("fsfm", **TINY).normalization.source == "spec"   # random init: the spec


BAD_SPEC = """
from fsfm_bench.backbone_spec import BackboneSpec
from fsfm_bench.hookspecs import hookimpl
fsfm_bench_api = ">=1,<2"

@hookimpl
def register_backbones(register):
    register("wrong_vit", BackboneSpec("right_vit", "fsfm_bench_plugins.backbones.factories:build_vit_family"))
"""

NEW_SPEC = """
from fsfm_bench.backbone_spec import BackboneSpec
from fsfm_bench.hookspecs import hookimpl
fsfm_bench_api = ">=1,<2"

@hookimpl
def register_backbones(register):
    register("new_vit", BackboneSpec("new_vit", "fsfm_bench_plugins.backbones.factories:build_vit_family",
                                     layout="timm", default_arch="vit_base_patch16_224", input_size=224,
                                     mean_std=((0.25, 0.25, 0.25), (0.125, 0.125, 0.125)),
                                     description="A ViT described by its spec alone."))
"""


def test_a_spec_registered_under_another_name_is_refused_in_one_line(plugin_sandbox):
    plugin_sandbox.add("badspec-dist", BAD_SPEC)
    with pytest.warns(RuntimeWarning, match="badspec-dist"):
        infos = plugin_sandbox.load()
    error = next(i for i in infos if i.name == "badspec-dist").error
    assert "\n" not in error
    assert error.startswith("failed to register: ContractError: backbone 'wrong_vit' (plugin 'badspec-dist') "
                            "breaks the backbone contract: its spec is named 'right_vit' but was registered as 'wrong_vit'")
    assert not {"wrong_vit", "right_vit"} & {e.name for e in entries("backbones")}


def test_a_backbone_with_only_a_spec_composes_builds_and_records_its_normalisation(plugin_sandbox):
    """No config file: the section is {type} plus null placeholders, and the spec decides."""
    plugin_sandbox.add("newspec-dist", NEW_SPEC)
    plugin_sandbox.load()
    cfg = compose(protocol="demo", backbone="new_vit", overrides={"backbone.arch": VIT}).to_dict()
    assert cfg["backbone"] == {"type": "new_vit", "arch": VIT, "checkpoint": None, "mean": None, "std": None}
    probe = probe_backbone({**cfg["backbone"], **TINY})
    assert (probe["mean"], probe["std"], probe["normalization_source"]) == ([0.25] * 3, [0.125] * 3, "spec")
    assert next(e for e in entries("backbones") if e.name == "new_vit").description == "A ViT described by its spec alone."


def test_a_plain_factory_third_party_backbone_still_works_its_module_decides():
    """The example plugin registers a plain function: it is wrapped in a spec; its module's mean/std run."""
    spec = get("backbones", "example_vit")
    assert isinstance(spec, BackboneSpec) and spec.normalization() is None and spec.factory.__name__ == "example_vit"
    cfg = compose(protocol="demo", backbone="example_vit").to_dict()
    probe = probe_backbone(cfg["backbone"])
    assert (probe["mean"], probe["std"], probe["normalization_source"]) == ([0.5] * 3, [0.5] * 3, "module")
    model = fsfm_bench.build_backbone("example_vit")
    with torch.no_grad():
        assert model.forward_features(torch.zeros(1, 3, 32, 32)).shape[-1] == 64


def test_the_result_schema_records_the_normalisation_and_still_reads_older_results():
    from fsfm_bench.results.result import validate_result
    from fsfm_bench.schemas import load_schema

    field = load_schema("result")["properties"]["backbone"]["properties"]["normalization"]
    assert field["properties"]["source"]["enum"] == list(SOURCES)
    old = json.loads(next((ROOT / "leaderboards" / "results").glob("result_demo-v2_*.json")).read_text())
    assert "normalization" not in old["backbone"]
    validate_result(old)                                     # written before the field: still valid
    new = {**old, "backbone": {**old["backbone"], "normalization": {"mean": [0.5] * 3, "std": [0.5] * 3,
                                                                     "source": "card"}}}
    validate_result(new)
    from fsfm_bench.errors import FsfmBenchError

    with pytest.raises(FsfmBenchError):
        validate_result({**old, "backbone": {**old["backbone"], "normalization": {"mean": [0.5] * 3, "std": [0.5] * 3,
                                                                                 "source": "config"}}})
