"""The Protocol type: a versioned, schema-validated description of what a run trains on and scores.

A protocol is data, not code (``plugins/protocols/*.yaml``): sources, a validation source, targets,
frames per video, metrics, the checkpoint-selection policy and the threshold source. The same run
machinery (:mod:`fsfm_bench.protocols.run`) executes any of them, so a third party adds a protocol
by shipping a YAML file through the ``register_protocols`` hook.

Selection policies:
``source_val``     the checkpoint with the lowest loss on the source validation data (default);
``last``           the final checkpoint;
``target_oracle``  the checkpoint with the best target metric: peeks at the test set, reproduces the
                   FAS literature's best-of-N, and is ALWAYS labelled as such in results and tables.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import FsfmBenchError, UsageError, did_you_mean
from ..schemas import validate

POLICIES = ("source_val", "last", "target_oracle")
#: where :meth:`Source.use_options` carries a use's prepare settings (never an adapter option)
PREPARE_KEY = "_prepare"
#: how each policy is printed beside a number, so an oracle-selected number is never mistaken
POLICY_LABELS = {"source_val": "source-val selection", "last": "last checkpoint",
                 "target_oracle": "TARGET-ORACLE selection (test-set peeking)"}


@dataclass(frozen=True)
class Source:
    """One slice of one dataset: which rows, and how many frames per video."""

    dataset: str
    split: str
    manipulations: tuple[str, ...] | None = None
    match: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    frames_per_video: int | dict[str, int] | None = None
    name: str = ""
    optional: bool = False
    prepare: dict[str, Any] = field(default_factory=dict)   # prepare settings of this use (e.g. detector)

    @classmethod
    def from_dict(cls, data: dict[str, Any], default_frames: Any = None) -> Source:
        manip = data.get("manipulations")
        return cls(dataset=data["dataset"], split=data["split"],
                   manipulations=tuple(manip) if manip is not None else None,
                   match=dict(data.get("match") or {}), options=dict(data.get("options") or {}),
                   frames_per_video=copy.deepcopy(data.get("frames_per_video", default_frames)),
                   name=data.get("name", data["dataset"]), optional=bool(data.get("optional", False)),
                   prepare=dict(data.get("prepare") or {}))

    def use_options(self) -> dict[str, Any]:
        """The adapter's index options plus, under ``PREPARE_KEY``, this use's prepare settings:
        what identifies one prepared folder (uses with different prepare settings do not share one)."""
        return {**self.options, PREPARE_KEY: dict(self.prepare)} if self.prepare else dict(self.options)


    def frames_for(self, label: int) -> int | None:
        """Frames kept per video for this label (None = every prepared frame)."""
        f = self.frames_per_video
        if isinstance(f, dict):
            return int(f["fake" if label == 1 else "real"])
        return None if f is None else int(f)

    def max_frames(self) -> int | None:
        f = self.frames_per_video
        if isinstance(f, dict):
            return max(int(v) for v in f.values())
        return None if f is None else int(f)


@dataclass(frozen=True)
class Protocol:
    """A resolved protocol (one variant); build it with :func:`Protocol.from_dict`."""

    id: str
    version: int
    title: str
    task: str
    positive_class: str
    recipe: str
    adapter: str
    train: tuple[Source, ...]
    validation: Source | float | None          # a split, a hold-out fraction, or None (no validation)
    targets: tuple[Source, ...]
    granularity: tuple[str, ...]
    aggregation: str
    metrics: tuple[str, ...]
    selection: dict[str, Any]
    threshold: str
    seeds: tuple[int, ...]
    reported: str | None = None
    variant: str | None = None
    pretrain_if_no_checkpoint: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    # -- identity -------------------------------------------------------------------------------
    @property
    def ref(self) -> str:
        """``id@version`` (plus ``/variant``): what results and leaderboards cite."""
        return f"{self.id}@{self.version}" + (f"/{self.variant}" if self.variant else "")

    @property
    def policy(self) -> str:
        return self.selection["policy"]

    @property
    def policy_label(self) -> str:
        return POLICY_LABELS[self.policy]

    def datasets(self) -> list[str]:
        names = [s.dataset for s in self.train] + [t.dataset for t in self.targets]
        if isinstance(self.validation, Source):
            names.append(self.validation.dataset)
        return list(dict.fromkeys(names))

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Protocol:
        """Validate against ``schemas/protocol.json``; a protocol with variants must name one."""
        data = _plain(data)
        validate(data, "protocol", f"protocol {data.get('id', '?')}@{data.get('version', '?')}")
        if data.get("variants") and not data.get("variant"):
            raise UsageError(f"protocol {data['id']}@{data['version']} has variants "
                             f"({', '.join(data['variants'])}); pick one with target=NAME or run "
                             "them all through fsfm_bench.protocols.variants()")
        # the task and metric names are checked against the registries (plugins add both), not schema enums
        from ..metrics import check_metric_names
        from .tasks import apply_task

        data = apply_task(data)

        check_metric_names(data["metrics"], f"protocol {data['id']}@{data['version']}")
        frames = data.get("frames_per_video")
        val = data["validation"]
        validation: Source | float | None = (None if val.get("none") else float(val["holdout"]) if "holdout" in val
                                             else Source.from_dict(val, frames))
        selection = dict(data["selection"])
        if validation is None and (selection["policy"] == "source_val" or data["threshold"] == "source_val_eer"):
            raise UsageError(f"protocol {data['id']}@{data['version']} has no source validation (every source video "
                             "trains, as the official code): select with selection=target_oracle or last, and take the "
                             "threshold from the target (or use an earlier version of the protocol)")
        selection.setdefault("oracle_metric", "auc")
        selection.setdefault("oracle_granularity", "video" if "video" in data["granularity"] else "frame")
        return cls(id=data["id"], version=int(data["version"]), title=data["title"], task=data["task"],
                   positive_class=data["positive_class"], recipe=data["recipe"], adapter=data["adapter"],
                   train=tuple(Source.from_dict(s, frames) for s in data["train"]),
                   validation=validation,
                   targets=tuple(Source.from_dict(t, frames) for t in data["targets"]),
                   granularity=tuple(data["granularity"]), aggregation=data["aggregation"],
                   metrics=tuple(data["metrics"]), selection=selection, threshold=str(data["threshold"]),
                   seeds=tuple(int(s) for s in data["seeds"]), reported=data.get("reported"),
                   variant=data.get("variant"),
                   pretrain_if_no_checkpoint=data.get("pretrain_if_no_checkpoint"), raw=data)


def _plain(data: Any) -> dict[str, Any]:
    if hasattr(data, "to_dict"):
        data = data.to_dict()
    return copy.deepcopy(dict(data))


def variants(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The protocol dict once per variant to run (each with ``variant`` set), or itself if none.

    ``variant: null`` runs every variant in order; ``variant: M`` (or ``M,C``) runs those.
    """
    data = _plain(data)
    table = data.get("variants") or {}
    if not table:
        if data.get("variant"):
            raise UsageError(f"protocol {data['id']} has no variants; drop target={data['variant']}")
        return [data]
    wanted = data.get("variant")
    names = list(table) if not wanted else ([wanted] if isinstance(wanted, str) else list(wanted))
    out = []
    for name in names:
        if name not in table:
            raise UsageError(f"protocol {data['id']} has no variant {name!r}." + did_you_mean(name, table))
        merged = {k: v for k, v in data.items() if k != "variants"}
        merged.update(copy.deepcopy(table[name]))
        merged["variant"] = name
        merged["variants"] = table
        out.append(merged)
    return out


def load_protocol_file(path: str | Path) -> dict[str, Any]:
    """Read one protocol YAML file; schema problems are reported with the file name."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FsfmBenchError(f"protocol file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise FsfmBenchError(f"protocol file {path} must hold a mapping")
    validate(data, "protocol", f"protocol file {path}")
    return data
