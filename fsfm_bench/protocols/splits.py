"""The rows a protocol variant trains, validates and is tested on, with the provenance block each
result cites (``data``): split files for the Runner, and each target's rows for scoring."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import DataResolver, holdout_split, write_rows
from .spec import Protocol, Source


@dataclass
class Splits:
    train_file: Path
    val_file: Path
    train_rows: list[dict[str, Any]]
    val_rows: list[dict[str, Any]]
    targets: dict[str, list[dict[str, Any]]]
    data_block: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {"frames": len(rows), "videos": len({(r.get("source"), r["video_id"]) for r in rows}),
            "real": sum(1 for r in rows if int(r["label"]) == 0), "fake": sum(1 for r in rows if int(r["label"]) == 1)}


def _block(rows: list[dict[str, Any]], role: str, dataset: str) -> dict[str, Any]:
    from .data import provenance_hash

    return {"role": role, "dataset": dataset, "manifest_hash": provenance_hash(rows), "counts": _counts(rows)}


def target_rows(protocol: Protocol, resolver: DataResolver, block: dict[str, Any]
                ) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Each available target's rows (their provenance added to ``block``) and the skipped optional ones."""
    targets: dict[str, list[dict[str, Any]]] = {}
    skipped = []
    for tgt in protocol.targets:
        if not resolver.available(tgt.dataset):
            skipped.append(tgt.name)
            continue
        rows, _ = resolver.rows_for(tgt)
        targets[tgt.name] = rows
        block[f"test/{tgt.name}"] = _block(rows, "test", tgt.dataset)
    return targets, skipped


def validation_rows(protocol: Protocol, resolver: DataResolver, train_rows: list[dict[str, Any]],
                    block: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(training rows left, validation rows): the protocol's validation split, or a hold-out cut
    from ``train_rows`` (its provenance added to ``block`` as ``val/<dataset or holdout>``)."""
    if protocol.validation is None:             # every source video trains (the MCIO code)
        return train_rows, []
    if isinstance(protocol.validation, Source):
        val_rows, _ = resolver.rows_for(protocol.validation)
        name = protocol.validation.dataset
    else:
        train_rows, val_rows = holdout_split(train_rows, protocol.validation)
        name = "holdout"
    block[f"val/{name}"] = _block(val_rows, "val", name)
    return train_rows, val_rows


def build_splits(protocol: Protocol, resolver: DataResolver, folder: Path, with_targets_in_val: bool) -> Splits:
    """The train/validation split files of one variant, and each target's rows."""
    train_rows: list[dict[str, Any]] = []
    block: dict[str, Any] = {}
    for src in protocol.train:
        rows, _ = resolver.rows_for(src)
        train_rows += rows
        block[f"train/{src.dataset}"] = _block(rows, "train", src.dataset)
    train_rows, val_rows = validation_rows(protocol, resolver, train_rows, block)
    targets, skipped = target_rows(protocol, resolver, block)
    train = [{**r, "domain": "train"} for r in train_rows]
    val = [{**r, "domain": "source_val"} for r in val_rows]
    if with_targets_in_val:
        for name, rows in targets.items():
            val += [{**r, "domain": name} for r in rows]
    folder.mkdir(parents=True, exist_ok=True)
    write_rows(folder / "train.jsonl", train)
    write_rows(folder / "val.jsonl", val)
    return Splits(folder / "train.jsonl", folder / "val.jsonl", train_rows, val_rows, targets, block, skipped)

