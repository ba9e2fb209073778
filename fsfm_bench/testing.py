"""Contract tests a plugin author runs on their own plugin (pytest-style: plain ``assert``).

Each ``assert_*_contract`` takes a registered name or the plugin's own factory/class, builds it
small, runs the cheap check of :mod:`fsfm_bench.contracts` and then the deep one on real tensors
(shapes, one layer id per parameter, K masked patches per row, probabilities in [0, 1], ...), and
returns the built object for further asserts. The project's own tests run them on every built-in
(tests/test_contracts.py) and the example plugin's tests show the third-party use
(examples/plugin-template/tests/test_contract.py)::

    from fsfm_bench.testing import assert_backbone_contract
    def test_my_backbone():
        assert_backbone_contract(my_factory, img_size=64)

Everything runs on CPU, offline, in well under a second for tiny configs.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .contracts import check_adapter, check_backbone, check_dataset, check_masking

#: a ViT-B/16 layout shrunk to 64-d, 2 blocks, 64 px (a 4x4 patch grid): builds in milliseconds
TINY = dict(embed_dim=64, depth=2, num_heads=2, img_size=64)
#: the timm architectures the built-in ViT backbones use (CLIP-style ones: farl, clip)
VIT = "vit_base_patch16_224"
CLIP_VIT = "vit_base_patch16_clip_quickgelu_224"


def _resolve(kind: str, factory_or_name: str | Callable) -> tuple[Callable, str | None, str | None]:
    """(factory, name, plugin) for a registered name or a plain factory/class."""
    if isinstance(factory_or_name, str):
        from .plugins import get_entry

        entry = get_entry(kind, factory_or_name)
        return entry.obj, entry.name, entry.plugin.name
    return factory_or_name, getattr(factory_or_name, "__name__", None), None


def assert_backbone_contract(factory_or_name: str | Callable, *, input_size: int | None = None, batch: int = 2,
                             **kwargs: Any):
    """Build the backbone (``factory(checkpoint=None, **kwargs)``) and check it end to end.

    Tokens ``[B, T, embed_dim]`` with ``T > num_prefix_tokens``; ``pool(tokens)`` is ``[B, embed_dim]``
    and equals ``forward(x)``; ``layer_id`` covers ``0 .. num_layers`` over the parameters and stays
    in ``0 .. num_layers + 1``; mean/std are 3 values with std > 0. ``input_size`` defaults to the
    model's own ``input_size``.
    """
    import torch

    factory, name, plugin = _resolve("backbones", factory_or_name)
    model = check_backbone(factory(checkpoint=kwargs.pop("checkpoint", None), **kwargs), name, plugin).eval()
    side = int(input_size or model.input_size)
    prefix = int(getattr(model, "num_prefix_tokens", 0))
    x = torch.randn(batch, 3, side, side, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        tokens = model.forward_features(x)
        assert tokens.ndim == 3 and tokens.shape[0] == batch and tokens.shape[2] == model.embed_dim, \
            f"{name}: forward_features gave {tuple(tokens.shape)}, expected [{batch}, prefix + N, {model.embed_dim}]"
        assert tokens.shape[1] > prefix, f"{name}: {tokens.shape[1]} tokens but {prefix} prefix tokens"
        pooled = model.pool(tokens)
        assert tuple(pooled.shape) == (batch, model.embed_dim), f"{name}: pool gave {tuple(pooled.shape)}"
        assert torch.allclose(model(x), pooled, atol=1e-6), f"{name}: forward(x) != pool(forward_features(x))"
    ids = {n: model.layer_id(n) for n, _ in model.named_parameters()}
    assert ids, f"{name}: the backbone has no parameters"
    assert set(ids.values()) >= set(range(model.num_layers + 1)), \
        f"{name}: layer ids {sorted(set(ids.values()))} do not cover 0..{model.num_layers}"
    mean, std = tuple(model.mean), tuple(model.std)
    assert len(mean) == 3 and len(std) == 3 and min(std) > 0, f"{name}: mean/std {mean}/{std}"
    return model


def assert_masking_contract(factory_or_name: str | Callable, *, mask_ratio: float = 0.75, patch_size: int = 16,
                            size: int = 224, batch: int = 3, parsing_maps: Any = None, **kwargs: Any):
    """Build the strategy (``factory(mask_ratio=, patch_size=, **kwargs)``) and check its masks.

    On face-like and on random-block parsing maps (or ``parsing_maps`` when given): ``(mask, focus)``
    are bool ``[B, N]``, every row of ``mask`` has exactly ``K = int(N * mask_ratio)`` True, ``focus``
    is inside ``mask``, and the same generator seed gives the same masks.
    """
    import torch

    from fsfm_bench_plugins.masking.synthetic import block_maps, face_maps

    factory, name, plugin = _resolve("masking", factory_or_name)
    strategy = check_masking(factory(mask_ratio=mask_ratio, patch_size=patch_size, **kwargs), name, plugin)
    inputs = [parsing_maps] if parsing_maps is not None else [
        face_maps(batch, size, generator=torch.Generator().manual_seed(1)),
        block_maps(batch, size, generator=torch.Generator().manual_seed(2))]
    for maps in inputs:
        n = (maps.shape[1] // patch_size) * (maps.shape[2] // patch_size)
        k = int(n * mask_ratio)
        out = strategy(maps, generator=torch.Generator().manual_seed(3))
        assert isinstance(out, tuple) and len(out) == 2, f"{name}: must return (mask, focus), got {type(out).__name__}"
        mask, focus = out
        for label, t in (("mask", mask), ("focus", focus)):
            assert isinstance(t, torch.Tensor) and t.dtype == torch.bool and tuple(t.shape) == (maps.shape[0], n), \
                f"{name}: {label} must be bool [{maps.shape[0]}, {n}], got {getattr(t, 'dtype', type(t))} " \
                f"{tuple(getattr(t, 'shape', ()))}"
        assert mask.sum(1).tolist() == [k] * maps.shape[0], \
            f"{name}: masked per row {mask.sum(1).tolist()}, expected exactly K = int({n} * {mask_ratio}) = {k}"
        assert not (focus & ~mask).any(), f"{name}: focus must be a subset of mask"
        again, _ = strategy(maps, generator=torch.Generator().manual_seed(3))
        assert torch.equal(mask, again), f"{name}: the same generator seed gave different masks"
    return strategy


def assert_adapter_contract(factory_or_name: str | Callable, *, embed_dim: int = 64, num_prefix_tokens: int = 1,
                            num_patches: int = 16, batch: int = 4, **kwargs: Any):
    """Build the head (``factory(embed_dim=, num_prefix_tokens=, smoothing=0.0, **kwargs)``) and check it.

    ``forward(tokens)`` gives logits ``[B, 2]``; ``loss`` is a finite scalar for hard labels ``[B]``
    and soft targets ``[B, 2]`` (mixup) and back-propagates; ``prob_positive`` is ``[B]`` in [0, 1]
    and orders samples as the class-1 logit margin does.
    """
    import torch

    factory, name, plugin = _resolve("adapters", factory_or_name)
    kwargs.setdefault("smoothing", 0.0)
    adapter = check_adapter(factory(embed_dim=embed_dim, num_prefix_tokens=num_prefix_tokens, **kwargs),
                            name, plugin)
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randn(batch, num_prefix_tokens + num_patches, embed_dim, generator=gen)
    logits = adapter(tokens)
    assert tuple(logits.shape) == (batch, 2), f"{name}: logits {tuple(logits.shape)}, expected [{batch}, 2]"
    hard = torch.arange(batch) % 2
    soft = torch.stack([1 - hard.float(), hard.float()], dim=1) * 0.8 + 0.1
    for target in (hard, soft):
        loss = adapter.loss(logits, target)
        assert loss.ndim == 0 and torch.isfinite(loss), f"{name}: loss must be a finite scalar, got {loss}"
    adapter.loss(adapter(tokens), hard).backward()
    assert any(p.grad is not None for p in adapter.parameters() if p.requires_grad), f"{name}: no gradient"
    probs = adapter.prob_positive(logits.detach())
    assert tuple(probs.shape) == (batch,) and bool(((probs >= 0) & (probs <= 1)).all()), f"{name}: P {probs}"
    margin = (logits[:, 1] - logits[:, 0]).detach()
    assert torch.equal(torch.argsort(probs, stable=True), torch.argsort(margin, stable=True)), \
        f"{name}: prob_positive must rank samples as the class-1 logit does"
    return adapter


def assert_dataset_contract(cls_or_name: str | type, root: Any = None, **options: Any):
    """Check a dataset adapter class and its instance; with ``root``, index it and check the items.

    The class and ``cls()`` pass :func:`fsfm_bench.contracts.check_dataset`, ``name`` is the
    registered name (when checked by name) and ``card`` loads as a mapping with a ``layout``. With
    ``root``: ``index(root, **options)`` gives MediaItem objects labelled 0/1, in a stable order.
    """
    from .data.items import MediaItem

    cls, name, plugin = _resolve("datasets", cls_or_name)
    check_dataset(cls, name, plugin)
    adapter = check_dataset(cls(), name, plugin)
    if isinstance(cls_or_name, str):
        assert adapter.name == name, f"dataset {name!r}: its class says name={adapter.name!r}"
    card = adapter.card
    assert isinstance(card, dict) and "layout" in card, f"dataset {adapter.name!r}: card has no layout"
    if root is not None:
        items = adapter.index(root, **options)
        assert items and all(isinstance(it, MediaItem) and it.label in (0, 1) for it in items), \
            f"dataset {adapter.name!r}: index gave no items or items not MediaItem labelled 0/1"
        assert [it.path for it in items] == [it.path for it in adapter.index(root, **options)], \
            f"dataset {adapter.name!r}: index order is not stable"
    return adapter


def assert_protocol_contract(name_or_path: Any):
    """Check a protocol (a registered name, or the path of its YAML) and what it names.

    The YAML is valid, its task is registered and fills what it leaves out, its metrics are
    registered, its recipe resolves (beside it, else the core's) and loads, and its reported file
    (if any) resolves, is valid and lists this version (``protocol`` or ``paired_with``); returns the
    resolved :class:`fsfm_bench.protocols.Protocol` objects (one per variant).
    """
    from pathlib import Path

    from .config import _load_yaml
    from .protocols import ProtocolDefinition
    from .results.reported import read_reported

    if isinstance(name_or_path, (str, Path)) and Path(name_or_path).suffix in (".yaml", ".yml"):
        definition = ProtocolDefinition.from_file(name_or_path)
    else:
        from .plugins import get

        definition = get("protocols", str(name_or_path))
    assert isinstance(definition, ProtocolDefinition), f"{name_or_path}: not a ProtocolDefinition"
    resolved = definition.resolve()
    assert resolved and all(p.task == definition.data["task"] for p in resolved)
    recipe = _load_yaml(definition.recipe_file())
    assert isinstance(recipe.get("finetune"), dict), \
        f"{definition.ref}: recipe {definition.recipe_file()} has no finetune section"
    located = definition.reported_file()
    if located is not None:
        path, where = located
        doc = read_reported(path.read_text(encoding="utf-8"), where)
        refs = [doc["protocol"], *doc.get("paired_with", [])]
        assert definition.ref in refs or any(r.split("@")[0] == definition.id for r in refs), \
            f"{definition.ref}: {where} holds numbers for {refs}"
    return resolved
