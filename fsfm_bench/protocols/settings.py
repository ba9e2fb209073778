"""The parts of a composed run config the run pipeline reads, validated once into frozen dataclasses.

``fsfm-bench run`` used to reach into nested dicts with string keys (``cfg["leaderboard"].get("rebuild",
True)``) at every step, each with its own default. :meth:`RunSettings.from_config` checks the values
once (:func:`fsfm_bench.config_checks.check_values`) and reads them once, with the defaults in one
place. The raw dict stays where it is hashed or saved (the config hash, ``config.yaml``, the run key
and the mmengine Runner config), so run folders and result files do not change.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from ..config_checks import check_values


@dataclass(frozen=True)
class FinetuneSettings:
    """``finetune.*`` as the run pipeline reads it (the Runner config reads the raw section)."""
    img_size: int
    track_policies: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvalSettings:
    """``eval.*`` as the evaluation of a seed reads it. Scoring (the score cache key included) and the
    result's recorded preprocessing both read these, so they cannot disagree on a default."""
    batch_size: int = 64
    bootstrap: int = 1000
    robustness_bootstrap: int = 0
    resize: str = "plain"
    interpolation: str = "bicubic"
    device: str | None = "auto"
    num_workers: int = 0
    chunk_batches: int = 20             # batches per atomically committed chunk of the score cache
    progress: bool = True
    cache_dir: str | None = None        # the score cache (default: <cache>/scores)


@dataclass(frozen=True)
class LeaderboardSettings:
    """``leaderboard.*``: where result files go, where the tables go, whether to rebuild them."""
    results_dir: str | None = None
    dir: str | None = None
    rebuild: bool = True
    figures: bool = True


@dataclass(frozen=True)
class RunSettings:
    """Everything :func:`fsfm_bench.protocols.run.run` reads from the config besides the protocol."""
    backbone_type: str
    checkpoint: str | None
    work_dir: str | None
    finetune: FinetuneSettings
    eval: EvalSettings
    leaderboard: LeaderboardSettings

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> RunSettings:
        """Validate ``cfg`` (one :class:`~fsfm_bench.errors.UsageError` for a value that cannot work)
        and read the settings."""
        check_values(cfg)
        bb = cfg.get("backbone") or {}
        return cls(backbone_type=str(bb.get("type")),
                   checkpoint=cfg.get("checkpoint") or bb.get("checkpoint") or None,
                   work_dir=cfg.get("work_dir"),
                   finetune=finetune_settings(cfg),
                   eval=eval_settings(cfg),
                   leaderboard=leaderboard_settings(cfg))


def finetune_settings(cfg: dict[str, Any]) -> FinetuneSettings:
    ft = cfg["finetune"]
    return FinetuneSettings(img_size=int(ft["img_size"]), track_policies=tuple(ft.get("track_policies") or ()))


def eval_settings(cfg: dict[str, Any]) -> EvalSettings:
    """``eval.*`` read field by field of :class:`EvalSettings`: an unset (or null) key takes the field's
    default, a given one is coerced to the default's type (int or flag). Derived from the dataclass, so a
    new field is read from the config without a second list to keep in step."""
    ev = cfg.get("eval") or {}
    return EvalSettings(**{f.name: _like(f.default, ev[f.name]) for f in fields(EvalSettings)
                           if ev.get(f.name) is not None})


def _like(default: Any, value: Any) -> Any:
    if isinstance(default, bool):          # before int: a bool is an int
        return bool(value)
    if isinstance(default, int):
        return int(value)
    return value


def leaderboard_settings(cfg: dict[str, Any]) -> LeaderboardSettings:
    lb = cfg.get("leaderboard") or {}
    return LeaderboardSettings(results_dir=lb.get("results_dir"), dir=lb.get("dir"),
                               rebuild=bool(lb.get("rebuild", True)), figures=bool(lb.get("figures", True)))
