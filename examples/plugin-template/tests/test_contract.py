"""The plugin's own contract tests: copy this file into your plugin and name your registered objects.

fsfm_bench.testing builds each object small, runs the check fsfm-bench itself runs when it loads the
plugin (fsfm_bench.contracts) and then the deep one on real tensors, on CPU, in about a second.
Run with `python -m pytest tests/` after `pip install -e .` (fsfm-bench's own suite runs it too).
"""
from __future__ import annotations

from fsfm_bench.testing import assert_backbone_contract, assert_masking_contract, assert_protocol_contract
from fsfm_bench_example import example_center, example_vit


def test_backbone_factory_honours_the_contract():
    model = assert_backbone_contract(example_vit, img_size=32)
    assert model.embed_dim == 64 and model.num_layers == 2


def test_backbone_by_registered_name_honours_the_contract():
    # by name: proves the entry point registers it, and tests what `fsfm-bench run` will build
    assert_backbone_contract("example_vit", global_pool="token")


def test_masking_honours_the_contract():
    assert_masking_contract(example_center, mask_ratio=0.75, patch_size=8, size=32)
    assert_masking_contract("example_center", mask_ratio=0.5, patch_size=16)


def test_protocol_ships_its_recipe_reported_rows_and_task():
    # the protocol, its task, its recipe (protocols/recipes/) and its reported file (protocols/reported/)
    (protocol,) = assert_protocol_contract("example_demo")
    assert protocol.task == "forgery_screening" and protocol.recipe == "recipes/finetune_example"
    assert protocol.metrics == ("auc", "fpr_at_tpr95") and protocol.adapter == "fsfm_head"   # from the task
    assert protocol.reported == "reported/example_demo.yaml"
