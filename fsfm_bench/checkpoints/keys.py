"""Strict loading of a converted state dict: every encoder key accounted for, or an error listing them.

Official loaders use ``load_state_dict(strict=False)`` and print what did not match; a typo in a key
converter then trains from random weights without anyone noticing. Here the caller declares what may
be absent (a fresh ``fc_norm``/head) and what is dropped on purpose (decoders, projectors), and
anything else is an error that names the keys.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import FsfmBenchError

log = logging.getLogger(__name__)


@dataclass
class LoadReport:
    """What happened when a state dict was loaded (kept on the backbone as ``load_report``)."""

    source: str
    loaded: int = 0
    dropped: dict[str, list[str]] = field(default_factory=dict)   # note -> keys
    fresh: list[str] = field(default_factory=list)                # model keys left at their init
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(text)
        log.info("%s: %s", self.source, text)

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "loaded": self.loaded, "fresh": self.fresh, "notes": self.notes,
                "dropped": {k: len(v) for k, v in self.dropped.items()}}


def _matches(key: str, patterns: Iterable[str]) -> bool:
    return any(re.match(p, key) for p in patterns)


def _listing(keys: list[str], limit: int = 8) -> str:
    keys = sorted(keys)
    more = f" ... (+{len(keys) - limit} more)" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def load_checked(model: Any, state_dict: dict[str, Any], *, source: str, what: str = "backbone",
                 may_be_missing: Iterable[str] = (), drop: Iterable[tuple[str, str]] = (),
                 head_prefixes: Iterable[str] = ("head.",), report: LoadReport | None = None) -> LoadReport:
    """Load ``state_dict`` into ``model`` strictly; return a :class:`LoadReport`.

    ``may_be_missing``: regexes of model keys that stay freshly initialised (e.g. ``^fc_norm\\.``).
    ``drop``: (regex, note) pairs of checkpoint keys removed on purpose (e.g. the MIM decoder).
    Keys under ``head_prefixes`` that the model lacks or has in another shape are dropped with a note.
    Anything else missing, unexpected or of another shape raises FsfmBenchError listing the keys.
    """
    report = report or LoadReport(source)
    target = model.state_dict()
    sd = dict(state_dict)
    for pattern, note in drop:
        hit = [k for k in sd if re.match(pattern, k)]
        if hit:
            report.dropped.setdefault(note, []).extend(hit)
            for k in hit:
                del sd[k]
            report.note(f"dropped {len(hit)} keys: {note}")
    head_prefixes = tuple(head_prefixes)
    heads = [k for k in sd if k.startswith(head_prefixes)
             and (k not in target or tuple(target[k].shape) != tuple(sd[k].shape))]
    if heads:
        shapes = ", ".join(f"{k} {list(sd[k].shape)}" for k in sorted(heads)[:4])
        report.dropped.setdefault("classification/projection head of another shape", []).extend(heads)
        report.note(f"dropped the checkpoint's head ({shapes}); the task adapter adds its own")
        for k in heads:
            del sd[k]
    unexpected = [k for k in sd if k not in target]
    missing = [k for k in target if k not in sd and not _matches(k, may_be_missing)]
    wrong = [k for k in sd if k in target and tuple(sd[k].shape) != tuple(target[k].shape)]
    if unexpected or missing or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys: {_listing(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys: {_listing(unexpected)}")
        if wrong:
            parts.append(f"{len(wrong)} keys of another shape: " + ", ".join(
                f"{k} checkpoint {list(sd[k].shape)} vs model {list(target[k].shape)}" for k in sorted(wrong)[:5]))
        raise FsfmBenchError(
            f"{source} does not fit {what}: " + "; ".join(parts) + ". Is it a checkpoint of another "
            "architecture or layout? Pick the backbone/arch that matches it (arch=..., or embed_dim/depth/"
            "num_heads for non-standard sizes), or check its card with `fsfm-bench weights verify`.")
    result = model.load_state_dict(sd, strict=False)
    assert not result.unexpected_keys, result.unexpected_keys   # guaranteed by the checks above
    report.fresh = sorted(result.missing_keys)
    report.loaded = len(sd)
    if report.fresh:
        report.note(f"left at initialisation: {_listing(report.fresh)}")
    return report
