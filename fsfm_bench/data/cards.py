"""Dataset cards: ``registry/datasets/<name>.yaml`` (installed as ``fsfm_bench_registry.datasets``).

A card says where a dataset comes from, its licence, the layout its authors ship and the expected
counts per split; it is validated by ``schemas/dataset_card.json`` every time it is loaded, so a
broken card fails loudly instead of silently weakening ``fsfm-bench data verify``.
"""
from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from ..errors import FsfmBenchError, UsageError, did_you_mean
from ..schemas import validate

CARD_PACKAGE = "fsfm_bench_registry"


def card_names() -> list[str]:
    """Names of every dataset card shipped in the registry."""
    folder = resources.files(CARD_PACKAGE).joinpath("datasets")
    if not folder.is_dir():
        return []
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@cache
def _load(name: str) -> dict[str, Any]:
    path = resources.files(CARD_PACKAGE).joinpath("datasets", f"{name}.yaml")
    if not path.is_file():
        raise UsageError(f"no dataset card registry/datasets/{name}.yaml." + did_you_mean(name, card_names()))
    try:
        card = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FsfmBenchError(f"dataset card registry/datasets/{name}.yaml is not valid YAML: {exc}") from exc
    validate(card, "dataset_card", f"dataset card registry/datasets/{name}.yaml")
    if card["name"] != name:
        raise FsfmBenchError(f"dataset card registry/datasets/{name}.yaml names itself {card['name']!r}; "
                             f"the file name and `name:` must agree")
    return card


def load_card(name: str) -> dict[str, Any]:
    """The validated card of dataset ``name`` (a fresh copy: callers may modify it)."""
    import copy

    return copy.deepcopy(_load(name))
