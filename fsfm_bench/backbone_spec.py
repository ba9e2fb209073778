"""One :class:`BackboneSpec` per backbone name: the facts about a backbone, in one place.

Like timm's ``default_cfgs``, a backbone plugin registers a spec that says how the backbone is
built (``factory``, imported lazily), which checkpoint key layout it reads, its default timm arch
and input size, and the normalisation its weights expect (with per-arch rules where one family
mixes them, e.g. supervised ViTs use 0.5/0.5 but supervised CNNs ImageNet's statistics). Config
files keep fine-tuning knobs only; a backbone with no config file runs from its spec.

The mean/std a run uses resolve as (docs/plugins.md, "Backbones"): an explicit ``mean=``/``std=``
(recorded as ``override``) > ``pretrain_ds_mean_std.txt`` beside the checkpoint (``checkpoint-file``)
> the card beside the checkpoint, then the catalogue card (``card``) > the spec, per arch (``spec``).
A plain factory registered by a third party is wrapped in a spec with no normalisation: the built
module's own ``mean``/``std`` then decide (``module``).

This module must stay importable without torch: ``fsfm-bench ls``/``plugins`` import it.
"""
from __future__ import annotations

import fnmatch
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import FsfmBenchError

MeanStd = tuple[tuple[float, float, float], tuple[float, float, float]]

IMAGENET: MeanStd = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
OPENAI_CLIP: MeanStd = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
HALF: MeanStd = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
#: the normalisations shown by name (``fsfm-bench weights list``) instead of as numbers
NAMED: Mapping[str, MeanStd] = {"imagenet": IMAGENET, "clip": OPENAI_CLIP, "0.5": HALF}

#: keys every composed backbone section has, so ``backbone.arch=``/``mean=``/``std=``/``checkpoint=``
#: can be set on the command line for any backbone (with or without a config file); null = the
#: spec (arch, mean/std) or no checkpoint decides. A null arch/mean/std is not passed to the factory.
CONFIG_PLACEHOLDERS: Mapping[str, Any] = {"arch": None, "checkpoint": None, "mean": None, "std": None}

#: where a run's mean/std came from (recorded in every result's backbone block)
SOURCES = ("override", "checkpoint-file", "card", "spec", "module", "recipe", "finetuned-checkpoint")


@dataclass(frozen=True)
class Normalization:
    """The mean/std a backbone was built with, and which source decided them (one of :data:`SOURCES`)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str

    def as_json(self) -> dict[str, Any]:
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std], "source": self.source}


def _mean_std(value: Any, what: str) -> MeanStd:
    try:
        mean, std = value
        m, s = tuple(float(v) for v in mean), tuple(float(v) for v in std)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be (mean, std) with 3 numbers each, got {value!r}") from None
    if len(m) != 3 or len(s) != 3 or min(s) <= 0:
        raise ValueError(f"{what} must be (mean, std) with 3 numbers each and std > 0, got {value!r}")
    return m, s  # type: ignore[return-value]


@dataclass(frozen=True)
class BackboneSpec:
    """Everything the core knows about one backbone name.

    ``factory``: ``f(checkpoint=None, spec=..., **kwargs) -> backbone`` or a ``"module:attr"`` string
    imported on first build (so listing plugins imports neither torch nor the plugin's model code).
    ``mean_std``: the normalisation without a checkpoint (random init) or when neither the checkpoint's
    file nor its card says one; ``arch_mean_std``: ``(pattern, (mean, std))`` rules matched against the
    arch with :func:`fnmatch.fnmatch`, first match wins. ``checkpoint_stats_required``: a checkpoint of
    this backbone must bring its own mean/std (file or card); the spec's then only serves random init.
    """

    name: str
    factory: Callable[..., Any] | str
    layout: str | None = None
    default_arch: str | None = None
    input_size: int | None = None
    mean_std: MeanStd | None = None
    arch_mean_std: tuple[tuple[str, MeanStd], ...] = ()
    checkpoint_stats_required: bool = False
    description: str = ""
    default_config: Mapping[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a backbone spec needs a non-empty name, got {self.name!r}")
        if not (callable(self.factory) or (isinstance(self.factory, str) and ":" in self.factory)):
            raise ValueError(f"factory must be callable or 'module:attr', got {self.factory!r}")
        if self.mean_std is not None:
            object.__setattr__(self, "mean_std", _mean_std(self.mean_std, "mean_std"))
        rules = tuple((str(p), _mean_std(ms, f"arch_mean_std[{p!r}]")) for p, ms in self.arch_mean_std)
        object.__setattr__(self, "arch_mean_std", rules)
        if self.input_size is not None and (isinstance(self.input_size, bool) or int(self.input_size) < 1):
            raise ValueError(f"input_size must be a positive int, got {self.input_size!r}")

    # --- facts ---------------------------------------------------------------------------------
    def normalization(self, arch: str | None = None) -> MeanStd | None:
        """The spec's mean/std for ``arch`` (default arch when None): first matching rule, else ``mean_std``."""
        arch = arch or self.default_arch or ""
        for pattern, mean_std in self.arch_mean_std:
            if fnmatch.fnmatch(arch, pattern):
                return mean_std
        return self.mean_std

    def cards(self) -> list[Any]:
        """The catalogue's checkpoint cards for this backbone (``registry/checkpoints``)."""
        from .checkpoints.cards import list_cards

        return list_cards(self.name)

    def default_card(self) -> Any | None:
        """The card ``checkpoint=default`` loads, or None when the backbone has no released weights."""
        return next((c for c in self.cards() if c.default), None)

    # --- building ------------------------------------------------------------------------------
    def load_factory(self) -> Callable[..., Any]:
        if callable(self.factory):
            return self.factory
        module, _, attr = self.factory.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise FsfmBenchError(f"backbone {self.name!r}: its factory {self.factory!r} cannot be imported: "
                                 f"{type(exc).__name__}: {exc}") from exc

    def __call__(self, checkpoint: Any = None, **kwargs: Any) -> Any:
        """Build the backbone (the spec is the registered factory, so ``entry.obj(...)`` still works)."""
        factory = self.load_factory()
        kwargs = {k: v for k, v in kwargs.items() if not (v is None and k in ("arch", "mean", "std"))}
        if _accepts(factory, "spec"):
            return factory(checkpoint=checkpoint, spec=self, **kwargs)
        return factory(checkpoint=checkpoint, **kwargs)


def _accepts(fn: Callable[..., Any], keyword: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return keyword in params


def as_spec(name: str, obj: Any, description: str | None = None) -> BackboneSpec:
    """A registered backbone as a spec: a spec as is, a plain factory/class wrapped (its built module's
    ``mean``/``std`` then decide the normalisation; its ``default_config`` is kept)."""
    if isinstance(obj, BackboneSpec):
        return obj
    default = getattr(obj, "default_config", None)
    return BackboneSpec(name=name, factory=obj, description=description or "",
                        default_config=default if isinstance(default, Mapping) or callable(default) else None)
