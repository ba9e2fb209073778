"""Protocols: the Protocol type (:mod:`.spec`) and how a protocol run proceeds (:mod:`.run`).

    >>> from fsfm_bench.plugins import get
    >>> get("protocols", "cdfd").ref
    'cdfd@1'

A protocol plugin registers a :class:`ProtocolDefinition` (the YAML data); ``fsfm-bench run``
composes it with a recipe and a backbone, resolves its datasets, fine-tunes, selects a checkpoint
by the declared policy, scores every target frame once (cached), computes the metrics and writes
a result file plus the rebuilt leaderboard.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .spec import POLICIES, POLICY_LABELS, Protocol, Source, load_protocol_file, variants

__all__ = ["POLICIES", "POLICY_LABELS", "Protocol", "ProtocolDefinition", "Source", "load_protocol_file",
           "variants"]


@dataclass(frozen=True)
class ProtocolDefinition:
    """What the PROTOCOLS registry holds: a protocol's validated data and where it came from."""

    data: dict[str, Any]
    path: str | None = None

    @classmethod
    def from_file(cls, path: str | Path) -> ProtocolDefinition:
        return cls(load_protocol_file(path), str(path))

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def version(self) -> int:
        return int(self.data["version"])

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def title(self) -> str:
        return self.data["title"]

    def default_config(self) -> dict[str, Any]:
        """The ``protocol`` section of a resolved config (read by fsfm_bench.config.compose)."""
        return copy.deepcopy(self.data)

    def __call__(self, variant: str | None = None) -> list[Protocol]:
        """Registries hold callables: calling a definition resolves it (see :meth:`resolve`)."""
        return self.resolve(variant)

    def resolve(self, variant: str | None = None) -> list[Protocol]:
        """One :class:`Protocol` per variant to run (the protocol itself when it has none)."""
        data = self.default_config()
        if variant is not None:
            data["variant"] = variant
        return [Protocol.from_dict(d) for d in variants(data)]
