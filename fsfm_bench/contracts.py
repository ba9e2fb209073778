"""The plugin contracts as code: what the core calls on a backbone, a masking strategy, a task
adapter and a dataset adapter (and that metrics and tasks are registered as their specs), and cheap
checks that refuse a plugin which lacks it.

The Protocols say the shape (docs/plugins.md, "What each kind must provide", says why); the
``check_*`` functions are what the core runs, once, when a plugin's object is registered or built,
so a missing piece is reported as ONE line naming the plugin and what is missing, instead of an
AttributeError deep inside the optimiser or the pretraining loop. They only look at attributes
(and, for a backbone, ask ``layer_id`` about each parameter name): no forward pass, no data.
:mod:`fsfm_bench.testing` runs the deep checks (shapes, K per row, probabilities) on real tensors.

This module must stay importable without torch: ``fsfm-bench ls``/``plugins`` import it.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .errors import FsfmBenchError

if TYPE_CHECKING:      # pragma: no cover - typing only
    import torch

DOCS = "docs/plugins.md"


class ContractError(FsfmBenchError):
    """A plugin's object does not provide what the core calls on it."""


@runtime_checkable
class BackboneProtocol(Protocol):
    """A built backbone, as fine-tuning (``finetune/model.py``, ``finetune/optim.py``) uses it.

    ``forward_features(x [B, 3, H, W])`` -> tokens ``[B, prefix + N, D]`` (a CNN: ``[B, H*W, C]``);
    ``layer_id(name)`` -> the layer of a parameter (named relative to the backbone or to any
    enclosing module) in ``0 .. num_layers + 1``, for layer-wise lr decay (0 = stem, ``k + 1`` =
    block ``k``, ``num_layers + 1`` = final norm/head); ``mean``/``std``: the normalisation the
    weights expect (3 values each). It is an ``nn.Module`` (``named_parameters``, ``eval``).
    """

    embed_dim: int
    num_prefix_tokens: int
    num_layers: int
    mean: Sequence[float]
    std: Sequence[float]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor: ...

    def pool(self, tokens: torch.Tensor) -> torch.Tensor: ...

    def layer_id(self, name: str) -> int: ...

    def named_parameters(self, *args: Any, **kwargs: Any) -> Any: ...


@runtime_checkable
class MaskingProtocol(Protocol):
    """``strategy(parsing_maps [B, H, W] int, generator=None) -> (mask [B, N] bool, focus [B, N] bool)``.

    Exactly ``K = int(N * mask_ratio)`` True per row of ``mask`` (the pretraining model gathers the
    kept patches into a rectangular ``ids_keep``), ``focus`` a subset of ``mask``; all randomness
    from ``generator``. Built as ``factory(mask_ratio=, patch_size=, **kwargs)``.
    """

    def __call__(self, parsing_maps: torch.Tensor,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]: ...


@runtime_checkable
class AdapterProtocol(Protocol):
    """A head on the backbone's tokens, built as ``factory(embed_dim=, num_prefix_tokens=, smoothing=, **opts)``.

    ``forward(tokens) -> logits [B, 2]``, ``loss(logits, target)`` (hard labels [B] or soft [B, 2]),
    ``prob_positive(logits) -> P(fake/attack) [B]``; optional ``freeze_backbone`` (linear probe).
    """

    def __call__(self, tokens: torch.Tensor) -> torch.Tensor: ...

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor: ...

    def prob_positive(self, logits: torch.Tensor) -> torch.Tensor: ...

    def parameters(self, *args: Any, **kwargs: Any) -> Any: ...


@runtime_checkable
class DatasetProtocol(Protocol):
    """A dataset adapter instance (``cls()``): ``index``, ``verify`` and its ``card``, named ``name``."""

    name: str

    def index(self, root: Any, **options: Any) -> list[Any]: ...

    def verify(self, root: Any, strict: bool = False, **options: Any) -> Any: ...


# --- checks ----------------------------------------------------------------------------------------
def _who(kind: str, name: str | None, plugin: str | None) -> str:
    who = f"{kind} {name!r}" if name else kind
    return f"{who} (plugin {plugin!r})" if plugin else who


def _fail(kind: str, name: str | None, plugin: str | None, problem: str, section: str) -> ContractError:
    return ContractError(f"{_who(kind, name, plugin)} breaks the {kind} contract: {problem}. "
                         f"See {DOCS}, \"{section}\", and fsfm_bench.contracts.")


def _missing(obj: Any, attrs: Sequence[str], methods: Sequence[str]) -> list[str]:
    out = [a for a in attrs if not hasattr(obj, a)]
    out += [f"{m}()" for m in methods if not callable(getattr(obj, m, None))]
    return out


def check_backbone(model: Any, name: str | None = None, plugin: str | None = None) -> Any:
    """Refuse a built backbone that fine-tuning could not use; return it unchanged.

    Checks the attributes and methods of :class:`BackboneProtocol` and that ``layer_id`` gives an int in
    ``0 .. num_layers + 1`` for every parameter (cheap: one call per parameter name).
    """
    def fail(problem: str) -> ContractError:
        return _fail("backbone", name, plugin, problem, "Backbones")

    missing = _missing(model, ("embed_dim", "num_layers"), ("forward_features", "named_parameters"))
    if not callable(getattr(model, "layer_id", None)):
        raise fail("no layer_id(name) method (layer-wise lr decay needs the layer of every parameter: "
                   "0 = stem, k + 1 = block k, num_layers + 1 = head)"
                   + (f"; also missing {', '.join(missing)}" if missing else ""))
    if missing:
        raise fail(f"missing {', '.join(missing)}")
    for attr in ("embed_dim", "num_layers"):
        value = getattr(model, attr)
        if isinstance(value, bool) or not isinstance(value, int) or value < (1 if attr == "embed_dim" else 0):
            raise fail(f"{attr} must be an int >= {1 if attr == 'embed_dim' else 0}, got {value!r}")
    for attr in ("mean", "std"):
        value = getattr(model, attr, None)
        if value is not None and len(tuple(value)) != 3:
            raise fail(f"{attr} must have 3 values (RGB), got {value!r}")
    top = model.num_layers + 1
    for pname, _ in model.named_parameters():
        try:
            layer = model.layer_id(pname)
        except Exception as exc:    # noqa: BLE001 - any failure here is the plugin's, reported as one line
            raise fail(f"layer_id({pname!r}) raised {type(exc).__name__}: {exc}") from exc
        if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer <= top:
            raise fail(f"layer_id({pname!r}) = {layer!r}, expected an int in 0..{top} (num_layers + 1)")
    return model


def check_masking(strategy: Any, name: str | None = None, plugin: str | None = None) -> Any:
    """Refuse a built masking strategy that cannot be called as ``strategy(maps, generator=...)``."""
    if not callable(strategy):
        raise _fail("masking strategy", name, plugin, f"the built object ({type(strategy).__name__}) is not "
                    "callable as strategy(parsing_maps, generator=None) -> (mask, focus)", "Masking")
    _check_signature(strategy, ("generator",), "masking strategy", name, plugin, "Masking", positional=1)
    return strategy


def check_adapter(adapter: Any, name: str | None = None, plugin: str | None = None) -> Any:
    """Refuse a built task adapter without ``forward``/``loss``/``prob_positive`` or parameters."""
    missing = _missing(adapter, (), ("loss", "prob_positive", "parameters"))
    if not callable(adapter):
        missing.insert(0, "forward(tokens)")
    if missing:
        raise _fail("task adapter", name, plugin, f"missing {', '.join(missing)}", "Task adapters")
    if not isinstance(getattr(adapter, "freeze_backbone", False), bool):
        raise _fail("task adapter", name, plugin, "freeze_backbone must be True or False", "Task adapters")
    return adapter


def check_dataset(adapter: Any, name: str | None = None, plugin: str | None = None) -> Any:
    """Refuse a dataset adapter (class or instance) without ``index``/``verify``/``card``/``name``."""
    def fail(problem: str) -> ContractError:
        return _fail("dataset adapter", name, plugin, problem, "Dataset adapters")

    if inspect.isclass(adapter):
        missing = [f"{m}()" for m in ("index", "verify") if not callable(getattr(adapter, m, None))]
        missing += [a for a in ("card", "name") if not hasattr(adapter, a)]
        if missing:
            raise fail(f"missing {', '.join(missing)} (subclass fsfm_bench.bases.dataset.DatasetAdapter)")
        own = getattr(adapter, "name", None)
        if not isinstance(own, str) or not own:
            raise fail(f"its class attribute name must be the registered name, got {own!r}")
        return adapter
    if not isinstance(adapter, DatasetProtocol):
        missing = _missing(adapter, ("name",), ("index", "verify"))
        raise fail(f"missing {', '.join(missing)}")
    return adapter


def check_backbone_spec(spec: Any, name: str | None = None, plugin: str | None = None) -> Any:
    """Refuse a :class:`~fsfm_bench.backbone_spec.BackboneSpec` registered under another name, with a
    factory that is neither callable nor ``"module:attr"``, a class factory without ``layer_id``, or
    facts of the wrong type; return it unchanged. Imports nothing (the factory stays lazy)."""
    def fail(problem: str) -> ContractError:
        return _fail("backbone", name, plugin, problem, "Backbones")

    if name is not None and spec.name != name:
        raise fail(f"its spec is named {spec.name!r} but was registered as {name!r} (register(spec.name, spec))")
    factory = spec.factory
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        if not module or not attr.isidentifier():
            raise fail(f"its spec's factory {factory!r} is not 'package.module:function'")
    elif not callable(factory):
        raise fail(f"its spec's factory is a {type(factory).__name__}, not a callable or 'module:function'")
    elif inspect.isclass(factory) and not callable(getattr(factory, "layer_id", None)):
        raise fail("its spec's factory class has no layer_id(name) method (layer-wise lr decay needs the layer "
                   "of every parameter)")
    for attr in ("layout", "default_arch", "description"):
        value = getattr(spec, attr)
        if value is not None and not isinstance(value, str):
            raise fail(f"its spec's {attr} must be a string, got {value!r}")
    if not isinstance(spec.checkpoint_stats_required, bool):
        raise fail(f"its spec's checkpoint_stats_required must be True or False, got {spec.checkpoint_stats_required!r}")
    return spec


def _check_signature(fn: Callable, keywords: Sequence[str], kind: str, name: str | None, plugin: str | None,
                     section: str, positional: int = 0) -> None:
    """The callable accepts ``positional`` positional arguments and each keyword (or **kwargs)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):     # builtins without a signature: let the call decide
        return
    try:
        sig.bind(*([None] * positional), **{k: None for k in keywords})
    except TypeError as exc:
        raise _fail(kind, name, plugin, f"its call signature {sig} does not accept "
                    f"({', '.join(['x'] * positional + [f'{k}=...' for k in keywords])}): {exc}", section) from None


def check_spec(kind: str, name: str, obj: Any, plugin: str | None = None) -> Any:
    """Refuse a metric or task registration that is not its spec (``MetricSpec``/``TaskSpec``) under
    the spec's own name: results, protocols and tables look these up by name and read their fields."""
    if kind == "metrics":
        from .metrics.spec import MetricSpec as spec_type
        label, section = "metric", "Metrics"
    else:
        from .protocols.tasks import TaskSpec as spec_type
        label, section = "task", "Tasks"
    if not isinstance(obj, spec_type):
        raise _fail(label, name, plugin, f"registered a {type(obj).__name__}, not a "
                    f"{spec_type.__module__.rsplit('.', 1)[0]}.{spec_type.__name__}", section)
    if obj.name != name:
        raise _fail(label, name, plugin, f"its {spec_type.__name__} is named {obj.name!r}; register it under "
                    "its own name", section)
    return obj


def check_registration(kind: str, name: str, obj: Any, plugin: str | None = None) -> None:
    """What can be checked when a plugin registers ``obj`` (no build, no torch): factories are
    callable; dataset adapters are classes with the :class:`DatasetProtocol` members; metrics and
    tasks are their specs."""
    if kind == "datasets":
        check_dataset(obj, name, plugin)
        return
    if kind in ("metrics", "tasks"):
        check_spec(kind, name, obj, plugin)
        return
    if kind == "backbones":
        from .backbone_spec import BackboneSpec

        if isinstance(obj, BackboneSpec):
            check_backbone_spec(obj, name, plugin)
            return
    if kind == "backbones" and inspect.isclass(obj) and not callable(getattr(obj, "layer_id", None)):
        raise _fail("backbone", name, plugin, "its class has no layer_id(name) method (layer-wise lr decay "
                    "needs the layer of every parameter)", "Backbones")
    if kind in ("backbones", "masking", "adapters") and not callable(obj):
        label = {"backbones": "backbone", "masking": "masking strategy", "adapters": "task adapter"}[kind]
        section = {"backbones": "Backbones", "masking": "Masking", "adapters": "Task adapters"}[kind]
        raise _fail(label, name, plugin, f"registered a {type(obj).__name__}, not a factory or class", section)
