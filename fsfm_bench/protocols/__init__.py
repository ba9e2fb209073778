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

from .files import find_protocol_file
from .spec import POLICIES, POLICY_LABELS, Protocol, Source, load_protocol_file, variants
from .tasks import TaskSpec, apply_task

__all__ = ["POLICIES", "POLICY_LABELS", "Protocol", "ProtocolDefinition", "Source", "TaskSpec", "load_protocol_file",
           "variants"]


@dataclass(frozen=True)
class ProtocolDefinition:
    """What the PROTOCOLS registry holds: a protocol's validated data and where it came from."""

    data: dict[str, Any]
    path: str | None = None

    @classmethod
    def from_file(cls, path: str | Path) -> ProtocolDefinition:
        """Load and validate one protocol YAML; its recipes (fine-tuning, and the demo pretraining one
        of ``pretrain_if_no_checkpoint``) and reported file must resolve (checked here, so a plugin
        that names a file it does not ship is refused when it registers)."""
        definition = cls(load_protocol_file(path), str(path))
        definition.recipe_file()
        pretrain = definition.data.get("pretrain_if_no_checkpoint") or {}
        if pretrain.get("recipe"):
            definition.recipe_file(pretrain["recipe"])
        definition.reported_file()
        return definition

    @property
    def home(self) -> Path | None:
        """The protocol file's folder: its recipe and reported file are looked up there first."""
        return Path(self.path).parent if self.path else None

    def recipe_file(self, recipe: str | None = None) -> Path:
        """A recipe file (``recipe:``, or the one named, e.g. the demo's pretraining recipe): beside the
        protocol, else the core's."""
        return find_protocol_file("recipe", recipe or self.data["recipe"], self.home, f"protocol {self.ref}")[0]

    def reported_file(self) -> tuple[Path, str] | None:
        """(file, how tables name it) of the paper-reported numbers (``reported:``), or None."""
        value = self.data.get("reported")
        return None if not value else find_protocol_file("reported", value, self.home, f"protocol {self.ref}")

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
        """The ``protocol`` section of a resolved config (read by fsfm_bench.config.compose): the
        protocol's data, with what it leaves to its task (adapter, metrics, positive class) filled in."""
        return apply_task(copy.deepcopy(self.data))

    def __call__(self, variant: str | None = None) -> list[Protocol]:
        """Registries hold callables: calling a definition resolves it (see :meth:`resolve`)."""
        return self.resolve(variant)

    def resolve(self, variant: str | None = None) -> list[Protocol]:
        """One :class:`Protocol` per variant to run (the protocol itself when it has none)."""
        data = self.default_config()
        if variant is not None:
            data["variant"] = variant
        return [Protocol.from_dict(d) for d in variants(data)]
