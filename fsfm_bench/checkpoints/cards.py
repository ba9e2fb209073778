"""Checkpoint cards: what a released checkpoint is, where to get it, and how to normalise its input.

The catalogue lives in registry/checkpoints/*.yaml (installed as ``fsfm_bench_registry``), one card
per released file, validated by ``fsfm_bench/schemas/checkpoint_card.json``. A checkpoint that
fsfm-bench's own pretraining writes carries a card beside it (``card.yaml``/``card.json`` or
``<stem>.card.yaml``/``<stem>.card.json``) and, like FSFM's releases, a ``pretrain_ds_mean_std.txt``.
"""
from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import FsfmBenchError, UsageError, did_you_mean

REGISTRY_PACKAGE = "fsfm_bench_registry"
SCHEMA = "checkpoint_card"
MEAN_STD_FILE = "pretrain_ds_mean_std.txt"
BESIDE_NAMES = ("card.yaml", "card.yml", "card.json")
#: the architecture options a card may set and a backbone records to be rebuilt without its card
ARCHITECTURE_KEYS = ("embed_dim", "depth", "num_heads", "patch_size", "mlp_ratio")


@dataclass(frozen=True)
class Card:
    """One validated checkpoint card (the YAML mapping is kept whole in ``data``)."""

    data: dict[str, Any]
    origin: str

    def __getattr__(self, key: str) -> Any:  # card.sha256, card.backbone, ... (None when absent)
        if key.startswith("__") or "data" not in self.__dict__:
            raise AttributeError(key)
        return self.__dict__["data"].get(key)

    @property
    def mean_std(self) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
        if self.data.get("mean") and self.data.get("std"):
            return tuple(self.data["mean"]), tuple(self.data["std"])
        return None

    def build_kwargs(self) -> dict[str, Any]:
        """Architecture keyword arguments for the backbone factory (arch, img_size, overrides)."""
        kw: dict[str, Any] = {}
        if self.data.get("arch"):
            kw["arch"] = self.data["arch"]
        if self.data.get("input_size"):
            kw["img_size"] = int(self.data["input_size"])
        for key, value in (self.data.get("architecture") or {}).items():
            if key in ARCHITECTURE_KEYS and value is not None:
                kw[key] = value
        return kw


def _validate(data: Any, origin: str, partial: bool = False) -> dict[str, Any]:
    from ..schemas import load_schema, validate, validator

    if not isinstance(data, dict):
        raise FsfmBenchError(f"checkpoint card {origin} is not a mapping")
    if partial:
        import jsonschema

        schema = copy.deepcopy(load_schema(SCHEMA))
        schema.pop("required", None)
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
        if errors:
            loc = "/".join(map(str, errors[0].absolute_path)) or "(top level)"
            raise FsfmBenchError(f"checkpoint card {origin} is invalid at {loc}: {errors[0].message}")
        return data
    validator(SCHEMA)  # checks the schema itself once
    validate(data, SCHEMA, f"checkpoint card {origin}")
    return data


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, Card]:
    folder = resources.files(REGISTRY_PACKAGE).joinpath("checkpoints")
    cards: dict[str, Card] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith((".yaml", ".yml")):
            continue
        origin = f"registry/checkpoints/{entry.name}"
        data = _validate(yaml.safe_load(entry.read_text(encoding="utf-8")), origin)
        stem = entry.name.rsplit(".", 1)[0]
        if data["name"] != stem:
            raise FsfmBenchError(f"checkpoint card {origin} is named {data['name']!r}; the file must be "
                                 f"called {data['name']}.yaml")
        cards[data["name"]] = Card(data, origin)
    return cards


def list_cards(backbone: str | None = None) -> list[Card]:
    """All catalogue cards (optionally of one backbone plugin), sorted by name."""
    return [c for c in _catalogue().values() if backbone is None or c.backbone == backbone]


def is_card_name(text: str) -> bool:
    return text in _catalogue()


def get_card(name: str) -> Card:
    """The card called ``name``, or a did-you-mean UsageError."""
    cards = _catalogue()
    if name not in cards:
        raise UsageError(f"unknown checkpoint card {name!r}." + did_you_mean(name, cards)
                         + " See `fsfm-bench weights list`.")
    return cards[name]


def default_card(backbone: str) -> Card:
    """The card marked ``default: true`` for ``backbone`` (what ``checkpoint=default`` means)."""
    found = [c for c in list_cards(backbone) if c.default]
    if len(found) != 1:
        raise UsageError(f"backbone {backbone!r} has {'no' if not found else 'several'} default checkpoint "
                         "card; name one (see `fsfm-bench weights list`)")
    return found[0]


def find_card(path: str | os.PathLike, sha256: str | None = None) -> list[Card]:
    """Catalogue cards that describe ``path``: by sha256 when known, else by released file name."""
    cards = list(_catalogue().values())
    if sha256:
        by_hash = [c for c in cards if c.sha256 and c.sha256.lower() == sha256.lower()]
        if by_hash:
            return by_hash
    name = Path(path).name
    return [c for c in cards if c.file and Path(c.file).name == name]


def card_beside(path: str | os.PathLike) -> Card | None:
    """A card written next to a checkpoint (fsfm-bench pretraining output), validated leniently."""
    path = Path(path)
    names = [f"{path.stem}.card.yaml", f"{path.stem}.card.json", *BESIDE_NAMES]
    for name in names:
        candidate = path.parent / name
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8")
            data = json.loads(text) if candidate.suffix == ".json" else yaml.safe_load(text)
            return Card(_validate(data, str(candidate), partial=True), str(candidate))
    return None


def read_mean_std_file(path: str | os.PathLike) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Parse FSFM's ``pretrain_ds_mean_std.txt``: a JSON line ``{"mean": [r, g, b], "std": [r, g, b]}``."""
    path = Path(path)
    text = path.read_text(encoding="utf-8").strip()
    data = None
    for candidate in (text, text.splitlines()[0] if text else ""):
        try:
            data = json.loads(candidate)
            break
        except json.JSONDecodeError:
            continue
    ok = (isinstance(data, dict) and all(
        isinstance(data.get(k), list) and len(data[k]) == 3 and all(isinstance(v, (int, float)) for v in data[k])
        for k in ("mean", "std")) and all(v > 0 for v in data["std"]))
    if not ok:
        raise FsfmBenchError(f"{path} is not a mean/std file: expected one JSON line "
                             '{"mean": [r, g, b], "std": [r, g, b]} (std > 0)')
    return tuple(float(v) for v in data["mean"]), tuple(float(v) for v in data["std"])


def mean_std_beside(path: str | os.PathLike) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """Mean/std from ``pretrain_ds_mean_std.txt`` next to ``path``, or None if there is none."""
    candidate = Path(path).parent / MEAN_STD_FILE
    return read_mean_std_file(candidate) if candidate.is_file() else None
