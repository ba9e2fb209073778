"""What a task plugin registers: one :class:`TaskSpec` per task a protocol may name (``task:``).

A task says what a protocol of its kind trains and scores by default: the task adapter (head,
loss, P(positive)), the metrics and which class is the positive one (label 1). Protocols name a
task; fields they leave out come from it, and a field that contradicts it (a positive class) is an
error. Tasks are registered through ``register_tasks`` (the built-ins by the protocols plugin), so a
third party adds one without touching the protocol schema.

This module must stay importable without torch: ``fsfm-bench config`` resolves tasks.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from ..errors import FsfmBenchError, UsageError

__all__ = ["TaskSpec", "task_spec", "apply_task"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: the protocol fields a task fills when the protocol leaves them out
DEFAULTED = ("adapter", "metrics", "positive_class")


@dataclass(frozen=True)
class TaskSpec:
    """A task: its default task adapter and metrics, and the name of its positive class (label 1)."""

    name: str
    adapter: str                       # a registered task adapter (`fsfm-bench ls adapters`)
    metrics: tuple[str, ...]           # registered metric names, tpr_at_fpr@0.01 style
    positive_class: str                # what label 1 means: fake, attack, ...
    title: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            problems.append(f"name {self.name!r} must match {_NAME.pattern}")
        if not isinstance(self.adapter, str) or not self.adapter:
            problems.append(f"adapter must name a registered task adapter, got {self.adapter!r}")
        if isinstance(self.metrics, str) or not self.metrics or not all(isinstance(m, str) and m for m in self.metrics):
            problems.append(f"metrics must be a non-empty tuple of metric names, got {self.metrics!r}")
        if not isinstance(self.positive_class, str) or not _NAME.match(self.positive_class):
            problems.append(f"positive_class must be a lower-case word such as 'fake', got {self.positive_class!r}")
        if problems:
            raise FsfmBenchError(f"TaskSpec {self.name!r}: {'; '.join(problems)}")
        object.__setattr__(self, "metrics", tuple(self.metrics))
        # what `fsfm-bench ls tasks` shows
        object.__setattr__(self, "__doc__", self.description or self.title or self.name)

    def __call__(self, data: dict[str, Any], where: str = "protocol") -> dict[str, Any]:
        """The protocol data with this task's defaults filled in (registries hold callables)."""
        out = copy.deepcopy(dict(data))
        given = out.get("positive_class")
        if given is not None and given != self.positive_class:
            raise UsageError(f"{where}: positive_class {given!r} contradicts its task {self.name!r}, whose positive "
                             f"class is {self.positive_class!r}; drop positive_class or name a task whose positive "
                             f"class is {given!r} (`fsfm-bench ls tasks`)")
        out.setdefault("positive_class", self.positive_class)
        out.setdefault("adapter", self.adapter)
        out.setdefault("metrics", list(self.metrics))
        return out


def task_spec(name: str, where: str = "protocol") -> TaskSpec:
    """The spec registered as ``name``, or one UsageError (prefixed with ``where``) suggesting the nearest."""
    from .. import plugins

    try:
        spec = plugins.get("tasks", name)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None
    if not isinstance(spec, TaskSpec):       # refused at registration; kept for objects registered otherwise
        raise FsfmBenchError(f"{where}: task {name!r} is a {type(spec).__name__}, not a TaskSpec")
    return spec


def apply_task(data: dict[str, Any]) -> dict[str, Any]:
    """Check a protocol's ``task`` against the registry and fill the fields it leaves to the task."""
    where = f"protocol {data.get('id', '?')}@{data.get('version', '?')}"
    return task_spec(str(data.get("task")), where)(data, where)
