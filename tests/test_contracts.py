"""The plugin contracts as code (fsfm_bench.contracts) and the public test helper (fsfm_bench.testing).

A plugin that lacks what the core calls is refused when it is registered or built, with one line
naming the plugin and what is missing; every built-in passes the deep checks; the helpers fail on
broken plugins (they are not tests that cannot fail); the example plugin's own tests run here too.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn

import fsfm_bench
from fsfm_bench import testing
from fsfm_bench.contracts import (
    BackboneProtocol,
    ContractError,
    check_adapter,
    check_backbone,
    check_dataset,
    check_masking,
)
from fsfm_bench.plugins import entries

ROOT = Path(__file__).resolve().parents[1]

NO_LAYER_ID = """
import torch
from torch import nn
from fsfm_bench.hookspecs import hookimpl
fsfm_bench_api = ">=1,<2"

class NoLayerIds(nn.Module):
    '''Everything a backbone needs except layer ids.'''
    embed_dim, num_prefix_tokens, num_layers = 8, 0, 1
    mean = std = (0.5, 0.5, 0.5)
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(3, 8)
    def forward_features(self, x):
        return self.proj(x.flatten(2).transpose(1, 2))
    def pool(self, tokens):
        return tokens.mean(1)

def no_layer_ids(checkpoint=None, **kw):
    '''A backbone without layer_id.'''
    return NoLayerIds()

@hookimpl
def register_backbones(register):
    register("nolayer_vit", no_layer_ids)
"""


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_a_backbone_without_layer_id_is_refused_when_built_naming_the_plugin(plugin_sandbox):
    plugin_sandbox.add("nolayer-dist", NO_LAYER_ID)
    plugin_sandbox.load()
    with pytest.raises(ContractError) as err:
        fsfm_bench.build_backbone("nolayer_vit")
    text = _one_line(err)
    assert text.startswith("backbone 'nolayer_vit' (plugin 'nolayer-dist') breaks the backbone contract: "
                           "no layer_id(name) method")
    assert "docs/plugins.md" in text and "missing" not in text       # nothing else is missing
    # the fine-tuning model builds its backbone through the same check: refused before any optimiser
    from fsfm_bench.finetune.model import build_backbone_from_cfg

    with pytest.raises(ContractError, match="'nolayer_vit' \\(plugin 'nolayer-dist'\\).*layer_id"):
        build_backbone_from_cfg({"type": "nolayer_vit", "checkpoint": None})


def test_a_backbone_class_without_layer_id_is_refused_at_registration(plugin_sandbox):
    source = NO_LAYER_ID.replace('register("nolayer_vit", no_layer_ids)', 'register("class_vit", NoLayerIds)')
    plugin_sandbox.add("class-dist", source)
    with pytest.warns(RuntimeWarning, match="class-dist"):
        infos = plugin_sandbox.load()
    info = next(i for i in infos if i.name == "class-dist")
    assert info.error.startswith("failed to register: ContractError: backbone 'class_vit' (plugin 'class-dist') "
                                 "breaks the backbone contract: its class has no layer_id(name) method")
    assert "class_vit" not in {e.name for e in entries("backbones")}


def test_a_dataset_adapter_without_index_is_refused_at_registration(plugin_sandbox):
    source = """
from fsfm_bench.hookspecs import hookimpl
fsfm_bench_api = ">=1,<2"

class Half:
    name = "half"
    card = {}
    def verify(self, root):
        return None

@hookimpl
def register_datasets(register):
    register("half", Half)
"""
    plugin_sandbox.add("half-data", source)
    with pytest.warns(RuntimeWarning, match="half-data"):
        infos = plugin_sandbox.load()
    error = next(i for i in infos if i.name == "half-data").error
    assert "dataset adapter 'half' (plugin 'half-data') breaks the dataset adapter contract: missing index()" in error


def test_a_task_that_is_not_its_task_spec_is_refused_at_registration(plugin_sandbox):
    source = """
from fsfm_bench.hookspecs import hookimpl
fsfm_bench_api = ">=1,<2"

@hookimpl
def register_tasks(register):
    from fsfm_bench.protocols import TaskSpec
    register("loose", {"adapter": "fsfm_head", "metrics": ["auc"]})
"""
    plugin_sandbox.add("loose-task", source)
    plugin_sandbox.add("misnamed-task", source.replace(
        'register("loose", {"adapter": "fsfm_head", "metrics": ["auc"]})',
        'register("alias", TaskSpec("real", adapter="fsfm_head", metrics=("auc",), positive_class="fake"))'))
    with pytest.warns(RuntimeWarning) as caught:
        infos = {i.name: i for i in plugin_sandbox.load()}
    assert {"loose-task", "misnamed-task"} <= {w.message.args[0].split("'")[1] for w in caught}
    assert infos["loose-task"].error == (
        "failed to register: ContractError: task 'loose' (plugin 'loose-task') breaks the task contract: registered "
        "a dict, not a fsfm_bench.protocols.TaskSpec. See docs/plugins.md, \"Tasks\", and fsfm_bench.contracts.")
    assert "task 'alias' (plugin 'misnamed-task') breaks the task contract: its TaskSpec is named 'real'; " \
           "register it under its own name" in infos["misnamed-task"].error
    assert not {"loose", "alias", "real"} & {e.name for e in entries("tasks")}


class _Tiny(nn.Module):
    embed_dim, num_prefix_tokens, num_layers = 4, 0, 1
    mean = std = (0.5, 0.5, 0.5)

    def __init__(self, layer: int = 0):
        super().__init__()
        self.stem, self.block = nn.Linear(3, 4), nn.Linear(4, 4)
        self._layer = layer

    def forward_features(self, x):
        return self.block(self.stem(x.flatten(2).transpose(1, 2)))

    def pool(self, tokens):
        return tokens.mean(1)

    def forward(self, x):
        return self.pool(self.forward_features(x))

    def layer_id(self, name):
        return 0 if name.startswith("stem") else self._layer


def test_check_backbone_bounds_layer_ids_and_attributes():
    assert isinstance(check_backbone(_Tiny(layer=1), "tiny"), BackboneProtocol)
    with pytest.raises(ContractError, match=r"^backbone 'tiny' breaks .*layer_id\('block.weight'\) = 5, "
                                            r"expected an int in 0..2"):
        check_backbone(_Tiny(layer=5), "tiny")
    bad = _Tiny(layer=1)
    bad.embed_dim = 0
    with pytest.raises(ContractError, match="embed_dim must be an int >= 1, got 0"):
        check_backbone(bad, "tiny")
    bad = _Tiny(layer=1)
    bad.mean = (0.5,)
    with pytest.raises(ContractError, match="mean must have 3 values"):
        check_backbone(bad, "tiny")


def test_the_deep_backbone_helper_fails_on_layer_ids_that_skip_a_block():
    model = testing.assert_backbone_contract(lambda checkpoint=None: _Tiny(layer=1), input_size=4)
    assert model.layer_id("block.weight") == 1
    with pytest.raises(AssertionError, match=r"layer ids \[0\] do not cover 0..1"):
        testing.assert_backbone_contract(lambda checkpoint=None: _Tiny(layer=0), input_size=4)


def test_check_masking_adapter_and_dataset_name_what_is_missing():
    with pytest.raises(ContractError, match=r"^masking strategy 'm' .*is not callable"):
        check_masking(object(), "m")
    with pytest.raises(ContractError, match=r"^masking strategy 'm' .*does not accept \(x, generator=\.\.\.\)"):
        check_masking(lambda maps: maps, "m")

    class NoProb(nn.Module):
        def forward(self, tokens):
            return tokens

        def loss(self, logits, target):
            return logits.sum()

    with pytest.raises(ContractError,
                       match=r"^task adapter 'a' breaks the task adapter contract: missing prob_positive\(\)"):
        check_adapter(NoProb(), "a")
    with pytest.raises(ContractError, match=r"missing name, index\(\), verify\(\)\. See"):
        check_dataset(object(), "d")


def test_the_deep_masking_helper_fails_on_a_varying_number_of_masked_patches():
    def uneven(mask_ratio=0.75, patch_size=16, **_):
        def fn(maps, generator=None):
            n = (maps.shape[1] // patch_size) * (maps.shape[2] // patch_size)
            mask = torch.zeros(maps.shape[0], n, dtype=torch.bool)
            for row in range(maps.shape[0]):
                mask[row, : int(n * mask_ratio) - row] = True       # K, K - 1, K - 2: not rectangular
            return mask, torch.zeros_like(mask)
        return fn

    with pytest.raises(AssertionError, match=r"masked per row \[147, 146, 145\], expected exactly K"):
        testing.assert_masking_contract(uneven)


def _tiny_kwargs(name: str) -> tuple[dict, int | None]:
    if name in ("xception", "efficientnet_b4"):        # full size: the smallest inputs that give a feature map
        return {}, 64 if name == "xception" else 32
    if name.startswith("example"):
        return {}, None
    return {"arch": testing.CLIP_VIT if name in ("farl", "clip") else testing.VIT, **testing.TINY}, None


@pytest.mark.parametrize("name", sorted(e.name for e in entries("backbones")))
def test_every_registered_backbone_passes_the_contract(name):
    kwargs, size = _tiny_kwargs(name)
    model = testing.assert_backbone_contract(name, input_size=size, **kwargs)
    assert isinstance(model, BackboneProtocol)


def test_every_registered_masking_strategy_adapter_and_dataset_passes_the_contract():
    masking = sorted(e.name for e in entries("masking"))
    assert {"random", "frp", "crfr_r", "crfr_p", "fasking_i"} <= set(masking)
    for name in masking:
        testing.assert_masking_contract(name)
    adapters = sorted(e.name for e in entries("adapters"))
    assert {"fsfm_head", "fas_head", "linear_probe"} <= set(adapters)
    for name in adapters:
        testing.assert_adapter_contract(name)
    datasets = sorted(e.name for e in entries("datasets"))
    assert {"ffpp", "celebdf_v2", "demo", "folder"} <= set(datasets)
    for name in datasets:
        testing.assert_dataset_contract(name)


def test_the_dataset_helper_indexes_a_real_root(tmp_path):
    for split in ("real", "fake"):
        (tmp_path / split).mkdir()
        (tmp_path / split / "a.png").write_bytes(b"\x89PNG")
    adapter = testing.assert_dataset_contract("folder", root=tmp_path)
    assert sorted(it.label for it in adapter.index(tmp_path)) == [0, 1]


def test_core_base_classes_keep_their_old_import_paths():
    from fsfm_bench.bases.adapter import TaskAdapter
    from fsfm_bench.bases.backbone import ViTBackbone
    from fsfm_bench.bases.dataset import DatasetAdapter
    from fsfm_bench.bases.masking import MaskingStrategy
    from fsfm_bench_plugins.adapters.heads import TaskAdapter as OldTaskAdapter
    from fsfm_bench_plugins.backbones.base import ViTBackbone as OldViT
    from fsfm_bench_plugins.datasets.base import DatasetAdapter as OldDatasetAdapter
    from fsfm_bench_plugins.masking.base import MaskingStrategy as OldMaskingStrategy
    from fsfm_bench_plugins.masking.crfr import CRFRPMasking

    assert (OldViT, OldDatasetAdapter, OldTaskAdapter, OldMaskingStrategy) == (
        ViTBackbone, DatasetAdapter, TaskAdapter, MaskingStrategy)
    assert issubclass(CRFRPMasking, MaskingStrategy)           # the built-ins subclass the core's base


def _example_tests():
    path = ROOT / "examples" / "plugin-template" / "tests" / "test_contract.py"
    spec = importlib.util.spec_from_file_location("example_plugin_contract_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: fn for name, fn in vars(module).items() if name.startswith("test_") and callable(fn)}


def test_the_example_plugin_passes_fsfm_bench_testing():
    """The template's own tests (what a plugin author copies) run in this suite too."""
    pytest.importorskip("fsfm_bench_example", reason="examples/plugin-template is not installed")
    tests = _example_tests()
    assert {"test_backbone_factory_honours_the_contract", "test_masking_honours_the_contract"} <= set(tests)
    for fn in tests.values():
        fn()
